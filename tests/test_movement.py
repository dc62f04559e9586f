"""What changed and why (optimiser/movement.py), without Streamlit, on the DLN model."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimiser import allocate, load_model
from optimiser.movement import movement

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"


@pytest.fixture(scope="module")
def base():
    inputs = load_model(MODEL)
    return allocate(inputs)[1]


def plan(base, **changes):
    return allocate(base.inputs.with_policy(**changes))[1]


def test_a_plan_against_itself_moves_nothing(base):
    m = movement(base, base, "the previous plan")
    assert m.same and m.comparable and not m.warning
    assert m.lines == ["No setting changed.", "No money moved (by more than £500 a year)."]


def test_the_dial_moves_money_largest_first_and_the_outcomes_compare(base):
    after = plan(base, need_gradient=0.9)
    m = movement(base, after, "the base model", top=1000)
    assert m.settings == ["Need-gradient dial 0.50 → 0.90"]
    changes = m.by_pcn["change_gbp"].abs().to_numpy()
    assert (changes[:-1] >= changes[1:]).all() and len(changes) > 3
    # each PCN's move checked against the plans' own tables (a typical year)
    a = base.by_pcn_year.groupby("pcn_code")["spend_gbp"].sum() / len(base.inputs.years)
    b = after.by_pcn_year.groupby("pcn_code")["spend_gbp"].sum() / len(base.inputs.years)
    first = m.by_pcn.iloc[0]
    assert first["change_gbp"] == pytest.approx(b[first.pcn_code] - a[first.pcn_code], abs=1)
    assert first["pcn_name"] == base.inputs.pcns.at[first.pcn_code, "pcn_name"]
    # money by priority adds up to the same total change as money by PCN
    assert m.by_priority["change_gbp"].sum() == pytest.approx(
        (b - a)[(b - a).abs() >= 500].sum(), abs=500 * 55)
    assert m.comparable
    words = "\n".join(m.lines)
    assert "Largest moves of money by PCN (a year on average): " in words
    assert "counted with the same weights" in words
    assert "need_gradient" not in words and "pcn_code" not in words


def test_outcomes_under_other_weights_are_not_compared(base):
    after = plan(base, qaly_gbp=30_000.0)
    m = movement(base, after, "the base model")
    assert not m.comparable
    assert "cannot be compared" in m.warning and "the value of a QALY" in m.warning
    words = "\n".join(m.lines)
    assert m.warning in words and "Weighted outcome" not in words


def test_a_budget_cut_names_the_rule_that_moved_the_money(base):
    after = plan(base, budget_gbp=(5e6, *base.inputs.budget_gbp[1:]), gbp_per_head=None)
    m = movement(base, after, "the base model", year="2026/27")
    assert m.settings[0].startswith("2026/27 budget £")
    assert any(line.startswith("Shortfall on the universal core offer: £0 → £")
               for line in m.why), m.why
    assert all(m.by_pcn["change_gbp"] < 0)  # less money everywhere that moved most
    assert "Largest moves of money by PCN (in 2026/27)" in "\n".join(m.lines)
