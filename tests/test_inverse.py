"""The inverse questions in the app ("What would it take?") and the answer as settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimiser import allocate, load_model
from optimiser.target import Aim, answer_changes, least_resource

from .test_app import TIMEOUT, run, shown, texts
from .test_app_interaction import fresh

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"


@pytest.fixture(scope="module")
def base():
    return load_model(MODEL)


def test_the_answer_as_settings_meets_the_aim_with_every_rule(base):
    target = least_resource(base, "budget", (Aim("universal_floor", 0.24),))
    assert target.status == "optimal"
    changes = answer_changes(base, target)
    assert changes["universal_floor"] == 0.24 and changes["gbp_per_head"] is None
    assert np.allclose(changes["budget_gbp"], target.amounts["answer"])
    _, plan = allocate(base.with_policy(**changes))
    assert plan.status == "optimal" and plan.rules_met  # met, not bent
    less = base.with_policy(**{**changes, "budget_gbp": tuple(
        0.995 * b for b in changes["budget_gbp"])})
    assert not allocate(less)[1].rules_met  # and it is the least


def test_a_workforce_answer_sets_that_group_only(base):
    target = least_resource(base, "wte:care_coordinator", (Aim("need_gradient", 0.6),))
    assert target.status == "optimal"
    changes = answer_changes(base, target)
    assert list(changes["available_wte"]) == ["care_coordinator"]
    assert "budget_gbp" not in changes


def test_what_would_it_take_answers_and_the_answer_applies_and_undoes(tmp_path, monkeypatch):
    at = fresh(tmp_path, monkeypatch)
    at.session_state["view"] = "What would it take?"
    at = run(at)
    assert at.radio(key="inverse_resource").value == "budget"
    at.selectbox(key="inverse_aim").set_value("universal_floor")
    at = run(at)
    assert at.number_input(key="inverse_level").value == 30.0
    at.number_input(key="inverse_level").set_value(24.0)
    at = run(at.button(key="inverse_go").click())
    entry = at.session_state["jobs"].get("inverse") if "jobs" in at.session_state else None
    if entry is not None:
        assert entry.job.wait(TIMEOUT)
        at = run(at)
    said = shown(at, "success")
    assert "The least budget that meets a universal floor of 24% with every other rule" in said
    assert "Each percentage point on the universal floor costs £" in said  # marginal cost
    at = run(at.button(key="inverse_apply").click())
    changes = at.session_state["changes"]
    assert changes["universal_floor"] == 0.24 and "budget_gbp" in changes
    assert "The rules cannot all be met" not in texts(at, "warning")  # every rule met
    assert at.slider(key="universal_floor").value == 24
    at = run(at.button(key="undo").click())
    assert at.session_state["changes"] == {}
