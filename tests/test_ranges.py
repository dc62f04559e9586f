"""How far the floor and the dial can go with every rule met, and settings refused before any
solve because they contradict themselves (optimiser/ranges.py; the app's captions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimiser import load_model
from optimiser.policy import Lock, RingFence
from optimiser.ranges import DIAL_STEP, FLOOR_STEP, conflicts, highest, highest_levels
from optimiser.solve import Solver

from .test_app import TIMEOUT, open_section, run, shown, texts
from .test_app_interaction import fresh

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"


@pytest.fixture(scope="module")
def base():
    return load_model(MODEL)


def meets(inputs, **level) -> bool:
    return Solver(inputs.with_policy(rules_bend=False, **level)).solve().status == "optimal"


def test_highest_finds_the_edge_on_the_grid():
    assert highest(lambda x: x <= 0.37, 1.0, 0.01) == pytest.approx(0.37)
    assert highest(lambda x: True, 1.0, 0.05) == pytest.approx(1.0)
    assert highest(lambda x: False, 1.0, 0.05) is None


def test_the_highest_floor_and_dial_are_the_edge_of_every_rule_met(base):
    levels = highest_levels(base)
    assert levels.floor is not None and levels.dial is not None
    assert meets(base, universal_floor=levels.floor)  # checked by cold solves of its own
    assert not meets(base, universal_floor=levels.floor + FLOOR_STEP)
    assert meets(base, need_gradient=levels.dial)
    if levels.dial < 1.0:
        assert not meets(base, need_gradient=levels.dial + DIAL_STEP)
    richer = base.with_policy(budget_gbp=tuple(1.5 * b for b in base.budget_gbp),
                              gbp_per_head=None)
    assert highest_levels(richer).floor >= levels.floor  # more money never lowers it


def test_contradictory_settings_are_refused_in_words(base):
    fence = RingFence(priority="cyp_obesity", min_share=0.6, max_share=0.4)
    words = [str(p) for p in conflicts(base, {"ring_fences": (fence,)})]
    assert words == ["Budget and ring-fences: The ring fence on CYP obesity asks for at least "
                     "60.0% of each year's budget but at most 40.0%: no plan can do both. Make "
                     "its minimum no more than its maximum"]
    lock = Lock(base.pcns.index[0], "frailty", 60e6)
    words = " ".join(str(p) for p in conflicts(base, {"locks": (lock,)}))
    assert "The locks hold £60.0m in 2026/27, more than that year's budget of £45.3m" in words
    assert conflicts(base, {}) == []


def test_the_app_refuses_a_fence_upside_down_before_solving(tmp_path, monkeypatch):
    at = fresh(tmp_path, monkeypatch)
    at = open_section(at, "budget")
    solves = at.session_state["solves"]
    at.number_input(key="fence_min_cyp_obesity").set_value(60.0)
    at = run(at.number_input(key="fence_max_cyp_obesity").set_value(40.0))
    assert "at least 60.0% of each year's budget but at most 40.0%" in shown(at, "error")
    assert at.session_state["solves"] == solves  # not solved
    assert "Not the plan for the current settings" in shown(at, "warning")


def test_the_equity_sliders_say_how_far_every_rule_can_be_met(tmp_path, monkeypatch):
    at = fresh(tmp_path, monkeypatch)
    entry = at.session_state["jobs"].get("reach")
    if entry is not None:
        assert entry.job.wait(TIMEOUT)
    at = run(at)
    assert ("Every rule can be met with the universal floor up to 20% and the dial up to "
            "0.95") in texts(at, "caption")
