"""The inverse questions: the least budget or WTE that meets an aim, checked by hand on toys
and on DLN by solving the forward model at the answer and just below it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimiser import load_model, verify
from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.solve import Solver
from optimiser.target import least_resource, parse_aim
from tests.toy import intervention_row, pcn_row, toy_inputs

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"
TWO_PCNS = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]


def toy(**changes):
    """Two PCNs of 1,000, one core service at £10 a person and 2 WTE of nurses per 1,000."""
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5, wte=2.0)]
    return toy_inputs(TWO_PCNS, ivs, **{"budget_gbp": (1_000.0, 3_000.0),
                                        "years": ("2026/27", "2027/28"), **changes})


def test_the_least_budget_for_a_floor_is_what_the_floor_costs():
    # A floor of 50%: 2 x 500 people x £10 = £10,000 a year. One scale on (£1,000, £3,000):
    # 10 x, so £10,000 and £30,000; per year: £10,000 each. Each point of floor: 2,000 x £10
    # x 0.01 = £200 a year per year freed (per year); with one scale, the first year sets it:
    # £200 x (1,000 + 3,000) / 1,000 / 2 = £400 a year on average.
    inputs = toy()
    aims = (parse_aim("universal_floor>=50%", inputs),)
    scaled = least_resource(inputs, "budget", aims)
    assert scaled.status == "optimal"
    assert scaled.amounts["answer"].tolist() == pytest.approx([10_000.0, 30_000.0])
    assert scaled.marginal["universal_floor>=0.5"] == pytest.approx(40_000.0, rel=1e-6)
    assert "Each percentage point on the universal floor costs £400 a year" in scaled.words[1]
    free = least_resource(inputs, "budget", aims, per_year=True)
    assert free.amounts["answer"].tolist() == pytest.approx([10_000.0, 10_000.0])
    assert free.marginal["universal_floor>=0.5"] == pytest.approx(20_000.0, rel=1e-6)
    assert free.allocation.status == "optimal"
    assert free.allocation.rules_met


def test_the_least_wte_for_a_floor_is_what_the_floor_needs():
    # 1,000 people at 2 WTE per 1,000: 2 WTE a year; 1 WTE available in ICB X -> 2 x.
    inputs = toy(budget_gbp=(1e6, 1e6), limited_groups=("nurse",),
                 available_wte={"nurse": {"X": 1.0}})
    target = least_resource(inputs, "wte:nurse", (parse_aim("universal_floor>=0.5", inputs),))
    assert target.amounts["answer"].tolist() == pytest.approx([2.0, 2.0])
    assert target.marginal["universal_floor>=0.5"] == pytest.approx(4.0, rel=1e-6)
    assert target.allocation.status == "optimal"
    with pytest.raises(InputError, match="'gp' is not limited"):
        least_resource(inputs, "wte:gp", (parse_aim("universal_floor>=0.5", inputs),))


def test_an_aim_that_no_budget_can_meet_says_why():
    # the staff, not the money: 1 WTE reaches 500 people, the floor needs 1,000
    inputs = toy(limited_groups=("nurse",), available_wte={"nurse": {"X": 1.0}})
    target = least_resource(inputs, "budget", (parse_aim("universal_floor>=0.5", inputs),))
    assert target.status == "infeasible" and target.allocation is None
    assert "No budget meets these aims" in target.words[0]
    assert "workforce" in " ".join(target.words)


def test_aims_are_read_or_refused_in_words():
    inputs = toy()
    assert parse_aim("nel_avoided@2026/27>=500", inputs).year == "2026/27"
    assert parse_aim("q1_q5_spend_ratio >= 1.5", inputs).level == 1.5
    for text, says in (("floor>=0.3", "not a rule or outcome"), ("need_gradient<=0.3",
                       "not an aim"), ("universal_floor@2026/27>=0.3", "a year goes with")):
        with pytest.raises(InputError, match=says):
            parse_aim(text, inputs)


@pytest.fixture(scope="module")
def ratio_target():
    inputs = load_model(MODEL)
    return inputs, least_resource(inputs, "budget", (parse_aim("q1_q5_spend_ratio>=1.5",
                                                               inputs),))


def test_dln_at_the_least_budget_the_ratio_is_met_and_just_below_it_is_not(ratio_target):
    inputs, target = ratio_target
    assert target.status == "optimal"
    answer = target.amounts["answer"].to_numpy()
    assert answer[0] > inputs.budget_gbp[0]  # today's budget does not reach 1.5
    at = target.allocation
    assert at.status == "optimal" and at.rules_met
    assert at.equity_metrics["spend_per_head_q1_q5_ratio"] >= 1.5 - 1e-6
    assert verify(at.detail, at.inputs, at.objective).ok  # the ratio rule among the checks
    less = at.inputs.with_policy(budget_gbp=tuple(0.999 * answer))
    assert Solver(less).solve().status == "infeasible"  # every rule hard: no plan
    from optimiser import allocate

    _, bent = allocate(less.with_policy(rules_bend=True))  # the rules bend: the ratio gives
    assert set(bent.shortfalls["rule"]) == {"q1_q5_spend_ratio"}


def test_dln_the_marginal_cost_of_the_ratio_is_the_finite_difference(ratio_target):
    inputs, target = ratio_target
    step = 0.002
    further = least_resource(inputs, "budget", (parse_aim(f"q1_q5_spend_ratio>={1.5 + step}",
                                                          inputs),))
    slope = (further.least_per_year - target.least_per_year) / step
    assert target.marginal["q1_q5_spend_ratio>=1.5"] == pytest.approx(slope, rel=1e-3)
    assert "Each 0.1 on the Q1:Q5 ratio costs £" in target.words[1]


def test_the_target_verb_writes_the_allocation_at_the_answer(tmp_path, capsys):
    out = tmp_path / "target"
    code = main(["target", str(MODEL), "--minimise", "budget", "--meet",
                 "q1_q5_spend_ratio>=1.5", "--per-year", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "The least budget that meets a Q1:Q5 ratio of spend per head of 1.5" in printed
    for name in ("allocation.csv", "summary.xlsx", "run.json"):
        assert (out / name).stat().st_size > 0
    record = json.loads((out / "run.json").read_text())
    assert record["target"]["per_year"] and record["checks_passed"]
    assert record["target"]["words"][0] in printed
    assert main(["target", str(MODEL), "--minimise", "money", "--meet",
                 "universal_floor>=0.3"]) == 1
    assert main(["target", str(MODEL), "--minimise", "budget", "--meet",
                 "universal_floor>=0.3"]) == 2  # the workforce, not the money, limits it
    assert "No budget meets these aims" in capsys.readouterr().out
