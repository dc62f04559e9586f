"""The strategy's own terms (issue 16): targets as a change from baseline, aims reported only,
enhanced support only where flagged, the library's ceiling, health and cash apart, the Top-15
against the rest, and higher-need PCNs left below the median.

Toy models are worked out by hand (tests/toy.py: one year, one tranche, a QALY at £1,000, need
indices 1, unit costs £100); the DLN checks run the shipped base model.
"""

from __future__ import annotations

import dataclasses
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser import allocate, load_model, verify
from optimiser.errors import InputError
from optimiser.policy import ActivityTarget, ManagedShareAim
from optimiser.solve import Solver
from tests.toy import intervention_row, pcn_row, toy_inputs

DLN = Path(__file__).parents[1] / "models" / "dln_base.toml"
YEARS = ("2026/27", "2027/28", "2028/29")


def nel(value: float) -> dict:
    return {"nel_avoided": value, "nel_avoided_low": value, "nel_avoided_high": value}


def two_places(baseline_a: float = 1000.0, baseline_b: float = 3000.0) -> list[dict]:
    """Two PCNs of ICB X in two places, with modelled admissions baselines."""
    return [pcn_row("A", "X", 1000, 1, baseline_nel=baseline_a),
            pcn_row("B", "X", 1000, 5, place_code="XQ", place_name="X second place",
                    baseline_nel=baseline_b)]


def solved(inputs):
    _, allocation = allocate(inputs)
    assert allocation.status == "optimal", allocation.explanation
    report = verify(allocation.detail, inputs, allocation.objective)
    assert report.ok, str(report)
    return allocation


def reached(allocation, pcn: str, iid: str) -> float:
    d = allocation.detail
    return float(d.loc[(d["pcn_code"] == pcn) & (d["intervention_id"] == iid),
                       "people_reached"].sum())


# ---- targets as a change from baseline --------------------------------------------------------

def test_a_change_from_baseline_in_a_place_needs_that_share_of_its_baseline():
    # Place XQ (PCN B) has 3,000 admissions a year; -10% needs 300 avoided there. b avoids 0.5
    # a person and is worth nothing, so the plan reaches exactly 600 people in B, none in A.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.5))]
    target = ActivityTarget("nel_avoided", "2026/27", place="XQ", change_from_baseline=-0.1)
    inputs = toy_inputs(two_places(), ivs, budget_gbp=(10_000.0,),
                        activity_gbp={"nel_avoided": 0.0}, activity_targets=(target,))
    assert inputs.target_minimum(target) == pytest.approx(300.0)
    allocation = solved(inputs)
    assert reached(allocation, "B", "b") == pytest.approx(600.0)
    assert reached(allocation, "A", "b") == pytest.approx(0.0)
    row = allocation.constraints.query("constraint == 'activity_target'").iloc[0]
    assert (row["lower"], row["scope"]) == (pytest.approx(300.0), "XQ")
    progress = allocation.progress.iloc[0]
    assert progress["kind"] == "rule" and progress["share_of_way"] == pytest.approx(1.0)
    assert progress["baseline"] == pytest.approx(3000.0)
    assert progress["change_achieved"] == pytest.approx(-0.1)


def test_a_target_by_place_is_stated_in_words_in_the_workbook():
    from openpyxl import load_workbook

    from optimiser.report import summary_workbook

    ivs = [intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.5))]
    target = ActivityTarget("nel_avoided", "2026/27", place="XQ", change_from_baseline=-0.1,
                            source="board paper")
    allocation = solved(toy_inputs(two_places(), ivs, budget_gbp=(10_000.0,),
                                   activity_targets=(target,)))
    book = load_workbook(BytesIO(summary_workbook(allocation)))
    rows = [[c.value for c in row[:3]] for row in book["Summary"].iter_rows()]
    assert ["Activity target", "emergency admissions \u221210% in 2026/27: at least 300 a year "
            "in X second place", "board paper"] in rows
    progress = [r for r in rows if str(r[0]).startswith("emergency admissions \u221210%")][0]
    assert progress[0] == "emergency admissions \u221210% by 2026/27, target (a rule)\nboard paper"


def test_an_unreachable_change_from_baseline_is_explained_and_relaxed_to_a_minimum():
    # -50% of XQ's 3,000 admissions needs 1,500; everyone in B avoids 0.5 x 1,000 = 500 at most
    ivs = [intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.5))]
    target = ActivityTarget("nel_avoided", "2026/27", place="XQ", change_from_baseline=-0.5)
    inputs = toy_inputs(two_places(), ivs, budget_gbp=(1e6,), activity_targets=(target,))
    # the target bends (its rank in [rules]): the plan falls 1,000 short there, and says so
    _, bent = allocate(inputs)
    assert bent.status == "optimal"
    assert verify(bent.detail, inputs, bent.objective, shortfalls=bent.shortfalls).ok
    short = bent.shortfalls.iloc[0]
    assert (short["rule"], short["scope"]) == ("activity_targets", "XQ")
    assert short["shortfall"] == pytest.approx(1000, rel=1e-6)
    assert bent.progress.iloc[0]["share_of_way"] == pytest.approx(1 / 3)
    # held hard, it has no plan: the explanation relaxes it to the minimum that can be met
    inputs = inputs.with_policy(rules_bend=False)
    _, allocation = allocate(inputs)
    assert allocation.status == "infeasible"
    explanation = allocation.explanation
    assert "activity_target" in explanation.relaxed_rules
    relaxed = explanation.changes["activity_targets"][0]
    assert relaxed.change_from_baseline is None
    assert relaxed.minimum == pytest.approx(500, abs=2)
    assert solved(inputs.with_policy(activity_targets=(relaxed,))).status == "optimal"


def test_the_verifier_reads_the_baseline_itself_and_catches_a_shortfall():
    ivs = [intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.5))]
    # 400 needed; £8,000 reaches 800 people, who avoid exactly 400
    target = ActivityTarget("nel_avoided", "2026/27", change_from_baseline=-0.1)
    inputs = toy_inputs(two_places(), ivs, budget_gbp=(8_000.0,), activity_targets=(target,))
    allocation = solved(inputs)
    short = allocation.detail.copy()
    short["people_reached"] *= 0.9
    short["spend_gbp"] *= 0.9
    report = verify(short, inputs)
    failed = [c.rule for c in report.failures()]
    assert failed == ["activity target (emergency admissions \u221210% in 2026/27, all)"]
    assert report.failures()[0].worst == pytest.approx(40.0, rel=1e-3)


def test_an_aim_is_reported_but_never_changes_the_plan():
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.5))]
    aim = ActivityTarget("nel_avoided", "2026/27", change_from_baseline=-0.35, source="seed L1")
    plain = solved(toy_inputs(two_places(), ivs, budget_gbp=(10_000.0,)))
    aimed = solved(toy_inputs(two_places(), ivs, budget_gbp=(10_000.0,), aims=(aim,)))
    assert aimed.objective == pytest.approx(plain.objective, rel=1e-12)
    row = aimed.progress.iloc[0]
    # b is worth £50 a person (0.5 x £100) against a's £500: the whole budget goes to a
    assert row["kind"] == "aim" and row["achieved"] == pytest.approx(0.0)
    assert row["needed"] == pytest.approx(0.35 * 4000)
    assert row["source"] == "seed L1"
    # the library: everyone eligible for b (1,000 a PCN) avoids at most 1,000 of the 1,400
    assert row["ceiling"] == pytest.approx(1000.0) and not row["reachable"]
    assert "avoids at most 1,000 emergency admissions" in row["library"]
    assert "no budget reaches this ambition" in row["library"]
    assert "0 of the 1,400 emergency admissions the \u221235% ambition needs" in row["in_words"]


def test_the_library_ceiling_follows_the_growth_rule_and_the_tranches():
    # E = 1,000 a PCN. By the second year a service can reach 2 x 35% = 70% = 700 people; with
    # tranches 40% / 35% / 25% at effects 1 / 0.75 / 0.5 they count 400 + 0.75 x 300 = 625.
    # b avoids 0.2 admissions a person: 125 a PCN, 250 in all.
    from optimiser.ambitions import library_ceiling

    ivs = [intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.2))]
    inputs = toy_inputs(two_places(), ivs, years=YEARS, budget_gbp=(1e6,) * 3,
                        mobilisation_max_growth=0.35, tranche_shares=(0.4, 0.35, 0.25),
                        marginal_effect=(1.0, 0.75, 0.5))
    everyone = pd.Series(True, index=inputs.pcns.index)
    assert library_ceiling(inputs, "nel_avoided", YEARS[1], everyone)["b"] == \
        pytest.approx(250.0)
    only_b = pd.Series([False, True], index=inputs.pcns.index)
    assert library_ceiling(inputs, "nel_avoided", YEARS[1], only_b)["b"] == pytest.approx(125.0)
    # by the third year 105% of the cohort is allowed: everyone, 400 + 262.5 + 125 = 787.5
    assert library_ceiling(inputs, "nel_avoided", YEARS[2], everyone)["b"] == \
        pytest.approx(2 * 0.2 * 787.5)


@pytest.mark.parametrize("item, message", [
    ({"outcome": "nel_avoided", "minimum": 5, "change_from_baseline": -0.1}, "not both"),
    ({"outcome": "nel_avoided"}, "not both or neither"),
    ({"outcome": "nel_avoided", "change_from_baseline": 0.2}, "a fall from 0 to -1"),
    ({"outcome": "qaly", "change_from_baseline": -0.1}, "QALYs have no baseline"),
    ({"outcome": "nel_avoided", "change_from_baseline": -0.1, "icb": "X", "place": "XQ"},
     "an 'icb' or a 'place', not both"),
])
def test_a_badly_stated_target_is_named(item, message):
    from optimiser.errors import Problems
    from optimiser.policy import _activity_target

    problems = Problems()
    assert _activity_target(item, "aim 1", ["2026/27"], "model file", problems) is None
    assert message in str(problems.items[0])


@pytest.mark.parametrize("old, new, message", [
    ('managed = "case"', 'managed = "cases"', "'managed' must be one of case, condition"),
    ('outcome = "ed_avoided"', 'outcome = "ed_avoided"\nplace = "NOWHERE"',
     "aim 8: the place 'NOWHERE' is not one of the model's places"),
    ('outcome = "ed_avoided"', 'outcome = "ed_avoided"\nicb = "QXX"',
     "aim 8: the ICB 'QXX' is not one of the model's ICBs"),
])
def test_a_managed_aim_and_unknown_scopes_are_checked(tmp_path, old, new, message):
    model = DLN.read_text().replace(old, new)
    path = tmp_path / "dln.toml"
    path.write_text(model.replace('data = "../data"', f'data = "{DLN.parent.parent / "data"}"'))
    with pytest.raises(InputError) as caught:
        load_model(path)
    assert message in caught.value.report()


def test_a_change_from_baseline_needs_the_baseline_column():
    ivs = [intervention_row("b", "frailty", "core", 10, 0.0, **nel(0.5))]
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]
    target = ActivityTarget("nel_avoided", "2026/27", change_from_baseline=-0.1)
    with pytest.raises(InputError) as caught:
        toy_inputs(pcns, ivs, activity_targets=(target,))
    assert "needs the PCNs' baseline 'baseline_nel'" in caught.value.report()


# ---- enhanced support only where flagged --------------------------------------------------------

def enhanced_toy(**policy):
    # a: core, 0.1 QALY for £10 (£10 per £); e: enhanced frailty, 0.4 QALY for £10 (£40 per £).
    # A is flagged for frailty, B is not. Budget £15,000.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.1),
           intervention_row("e", "frailty", "enhanced", 10, 0.4)]
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]
    return toy_inputs(pcns, ivs, higher_need={"A": ("frailty",)}, budget_gbp=(15_000.0,),
                      constraints={"enhanced_where_flagged": True, **policy})


def test_enhanced_support_goes_only_where_flagged_and_its_reduced_cost_prices_the_rest():
    # With the rule: e fills A (1,000 people, £10,000); the other £5,000 buys a, worth £10 per
    # £: the budget's shadow price. Offering e in B would return 0.4 x £1,000 = £400 a person
    # for £10 that buys £100 elsewhere: a reduced cost of £300 a person.
    from optimiser import strategy

    inputs = enhanced_toy()
    allocation = solved(inputs)
    assert reached(allocation, "A", "e") == pytest.approx(1000)
    assert reached(allocation, "B", "e") == pytest.approx(0)
    assert reached(allocation, "A", "a") + reached(allocation, "B", "a") == pytest.approx(500)
    offer = strategy.enhanced_offer_value(allocation).set_index("intervention_id").loc["e"]
    assert offer["best_value_per_person_gbp"] == pytest.approx(300.0, rel=1e-6)
    assert offer["best_value_per_gbp"] == pytest.approx(30.0, rel=1e-6)
    assert offer["pcns_worth_offering"] == 1
    split = strategy.enhanced_support(allocation).iloc[0]
    assert split["unflagged_share"] == 0.0 and split["flagged_spend_gbp"] == pytest.approx(1e4)


def test_switching_the_rule_is_a_warm_change_and_the_pyomo_model_agrees():
    from optimiser.pyomo_model import solve_pyomo

    inputs = enhanced_toy()
    solver = Solver(inputs)
    on = solver.solve()
    off_inputs = inputs.with_policy(constraints={**inputs.policy.constraints,
                                                 "enhanced_where_flagged": False})
    assert solver.update(off_inputs) == "warm"
    off = solver.solve()
    # without the rule e reaches 1,500 people: £15,000 x £40 per £
    assert off.objective == pytest.approx(15_000 * 40 - 15_000e-6, rel=1e-9)
    assert on.objective == pytest.approx(10_000 * 40 + 5_000 * 10 - 15_000e-6, rel=1e-9)
    assert solve_pyomo(inputs) == pytest.approx(on.objective, rel=1e-7)


def test_the_verifier_catches_enhanced_reach_outside_the_flagged_pcns():
    inputs = enhanced_toy()
    off = solved(enhanced_toy(enhanced_where_flagged=False))
    report = verify(off.detail, inputs)
    assert [c.rule for c in report.failures()] == [
        "enhanced_where_flagged: no enhanced-tier reach outside the PCNs flagged for its "
        "priority"]


def test_a_model_file_that_does_not_name_the_rule_leaves_it_off(tmp_path):
    text = DLN.read_text().replace("enhanced_where_flagged = true\n", "")
    path = tmp_path / "model.toml"
    path.write_text(text.replace('data = "../data"', f'data = "{DLN.parent.parent / "data"}"'))
    from optimiser.inputs import read_model_policy

    assert read_model_policy(path).on("enhanced_where_flagged") is False
    assert read_model_policy(DLN).on("enhanced_where_flagged") is True
    assert read_model_policy(DLN, "enhanced_anywhere").on("enhanced_where_flagged") is False


# ---- health and cash apart ----------------------------------------------------------------------

def test_the_weighted_outcome_splits_into_health_and_cash():
    # a: 0.1 QALY (£100) and 0.5 admissions avoided (unit cost £100 x share 0.5 = £25) a person;
    # budget £5,000 reaches 500 people. Quintile weight 2 on A's quintile 1, 1 on B's.
    # A is filled first (£250 a person against £125): 500 people in A.
    from optimiser import strategy

    ivs = [intervention_row("a", "frailty", "core", 10, 0.1, **nel(0.5))]
    inputs = toy_inputs([pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)], ivs,
                        budget_gbp=(5_000.0,), cash_releasing_share=0.5,
                        quintile_weight=(2.0, 1.0, 1.0, 1.0, 1.0))
    allocation = solved(inputs)
    parts = strategy.health_and_cash(allocation)
    assert parts["health_value_gbp"] == pytest.approx(500 * 100 * 2)
    assert parts["cash_value_gbp"] == pytest.approx(500 * 25 * 2)
    assert parts["cash_released_gbp"] == pytest.approx(500 * 25)  # before equity weights
    assert parts["cash_released_per_gbp"] == pytest.approx(12_500 / 5_000)
    assert parts["health_value_gbp"] + parts["cash_value_gbp"] == pytest.approx(
        parts["weighted_value_gbp"], rel=1e-12)


# ---- the Top-15 against the rest ----------------------------------------------------------------

def test_top_vs_rest_compares_the_flagged_pcns_with_the_others_within_each_icb():
    # ICB X: A flagged for frailty, B not; ICB Y: C not flagged (so no comparison in Y).
    # a is for people aged 65+ (A 1,000, B 500, C 1,000) and reaches all of them at £10.
    from optimiser import strategy

    ivs = [intervention_row("a", "frailty", "core", 10, 0.1, cohort_population="pop_65_plus",
                            **nel(0.01))]
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 2000, 5, pop_65_plus=500, pop_75_plus=500,
                    pop_85_plus=500),
            pcn_row("C", "Y", 1000, 3)]
    inputs = toy_inputs(pcns, ivs, higher_need={"A": ("frailty",)}, budget_gbp=(1e6,))
    allocation = solved(inputs)
    table = strategy.top_vs_rest(allocation)
    x = table[(table["icb_code"] == "X") & (table["priority_id"] == "frailty")].iloc[0]
    assert (x["top_pcns"], x["rest_pcns"]) == (1, 1)
    assert x["top_spend_per_head_gbp"] == pytest.approx(10.0)
    assert x["rest_spend_per_head_gbp"] == pytest.approx(2.5)  # £5,000 over 2,000 people
    assert x["top_spend_per_eligible_gbp"] == pytest.approx(10.0)
    assert x["rest_spend_per_eligible_gbp"] == pytest.approx(10.0)
    assert x["top_nel_avoided_per_1000"] == pytest.approx(10.0)
    assert x["rest_nel_avoided_per_1000"] == pytest.approx(2.5)
    assert x["rest_nel_avoided_per_1000_eligible"] == pytest.approx(10.0)
    pooled = table[table["icb_code"] == "all"]
    assert list(pooled["icb_name"]) == ["all ICBs (pooled)"]
    assert pooled.iloc[0]["rest_pcns"] == 2
    assert set(table["icb_code"]) == {"X", "all"}  # Y has no higher-need PCN


# ---- the DLN base model: the figures ----------------------------------------------

@pytest.fixture(scope="module")
def dln():
    inputs = load_model(DLN)
    solver, allocation = allocate(inputs)
    assert allocation.status == "optimal"
    return inputs, solver, allocation


def test_dln_enhanced_spend_is_all_in_flagged_pcns_and_anywhere_is_not(dln):
    from optimiser import strategy

    inputs, solver, allocation = dln
    flagged = strategy.enhanced_support(allocation).set_index("icb_code")
    assert (flagged["unflagged_share"] == 0).all()
    _, anywhere = allocate(load_model(DLN, "enhanced_anywhere"))
    split = strategy.enhanced_support(anywhere).set_index("icb_code").loc["all"]
    assert split["unflagged_share"] > 0.3  # most enhanced money left the flagged PCNs


def test_dln_progress_names_each_seed_line_and_the_library_limit(dln):
    _, _, allocation = dln
    progress = allocation.progress
    sources = list(progress["source"].str.split(":").str[0])
    assert sources == ["seed 001 L639", "seed 001 L640", "seed 001 L639-640", "seed 001 L639",
                       "seed 001 L640", "seed 000 L223", "seed 000 L218", "seed 000 L227"]
    admissions = progress.iloc[0]
    assert admissions["ambition"] == "emergency admissions \u221235%"
    assert admissions["baseline"] == pytest.approx(365_776, abs=1)
    assert admissions["needed"] == pytest.approx(0.35 * admissions["baseline"])
    assert 0 < admissions["achieved"] < admissions["ceiling"] < admissions["needed"]
    assert "no budget reaches this ambition" in admissions["library"]


def test_dln_higher_need_pcns_below_the_median_come_with_a_reason(dln):
    from optimiser import strategy

    _, _, allocation = dln
    below = strategy.below_median(allocation)
    assert "RADFORD AND MARY POTTER PCN" in set(below["pcn_name"])
    assert (below["higher_need_count"] >= 2).all()
    assert (below["spend_per_head_gbp"] < below["icb_median_gbp"]).all()
    radford = below.set_index("pcn_name").loc["RADFORD AND MARY POTTER PCN", "reason"]
    assert "shadow price" in radford and "acute need index" in radford


def test_dln_workbook_opens_on_progress_against_each_seed_target(dln):
    from openpyxl import load_workbook

    from optimiser.report import summary_workbook

    _, _, allocation = dln
    book = load_workbook(BytesIO(summary_workbook(allocation)))
    front = book["Summary"]
    cells = {(c.row, c.column): c.value for row in front.iter_rows() for c in row if c.value}
    heading = next(r for (r, c), v in cells.items() if v == "Progress against the strategy's "
                   "ambitions")
    first = cells[(heading + 3, 1)]
    assert first.startswith("emergency admissions \u221235% by 2030/31, aim\nseed 001 L639")
    assert cells[(heading + 3, 2)] == pytest.approx(allocation.progress.iloc[0]["share_of_way"])
    assert "Modelled baseline 365,776 emergency admissions" in cells[(heading + 3, 3)]
    texts = " ".join(str(v) for v in cells.values())
    assert "RADFORD AND MARY POTTER PCN (QT1)" in texts
    assert "Cash released by avoided activity" in texts
    quintiles = book["By IMD quintile"]
    header = [c.value for c in quintiles[1]]
    population = [r[header.index("Registered population")] for r in
                  quintiles.iter_rows(min_row=2, values_only=True)]
    assert population and all(float(p).is_integer() for p in population)


def test_a_managed_share_counts_people_reached_as_a_range():
    # c1 and c2 are case management (the same 1,000 people a PCN could be in both); b is not.
    # Budget £3,000 at £10 a person: 300 people. c1 (0.5 QALY) and c2 (0.4) are worth more than
    # b: c1 fills 300 in one PCN ... the split is the solver's, so the figures are checked
    # against the detail table: low = the largest row per PCN, high = the sum.
    ivs = [intervention_row("c1", "frailty", "core", 10, 0.5, management="case",
                            management_basis="a care plan each"),
           intervention_row("c2", "end_of_life", "core", 10, 0.4, management="case",
                            management_basis="a coordinator each"),
           intervention_row("b", "frailty", "core", 10, 0.1, management="",
                            management_basis="")]
    aim = ManagedShareAim("case", 0.05, "2026/27", "seed 001 L639")
    inputs = toy_inputs(two_places(), ivs, budget_gbp=(15_000.0,), aims=(aim,))
    allocation = solved(inputs)
    # £15,000: c1 fills both PCNs (2,000 people, £20,000 > budget): 1,500 people of c1
    assert reached(allocation, "A", "c1") + reached(allocation, "B", "c1") == pytest.approx(1500)
    row = allocation.progress.iloc[0]
    assert row["achieved"] == pytest.approx(1500) and row["achieved_low"] == pytest.approx(1500)
    assert row["needed"] == pytest.approx(0.05 * 2000)
    assert row["share_of_way"] == pytest.approx(15.0)
    assert row["ceiling"] == pytest.approx(4000)  # c1 and c2, everyone, both PCNs
    assert "case management: c1; c2" in row["library"]


def test_a_managed_share_with_two_services_in_one_pcn_gives_low_and_high():
    ivs = [intervention_row("c1", "frailty", "core", 10, 0.5, management="case",
                            management_basis="x"),
           intervention_row("c2", "end_of_life", "core", 10, 0.4, management="case",
                            management_basis="y")]
    pcns = [pcn_row("A", "X", 1000, 1, baseline_nel=1.0)]
    aim = ManagedShareAim("case", 0.5, "2026/27")
    allocation = solved(toy_inputs(pcns, ivs, budget_gbp=(15_000.0,), aims=(aim,)))
    # c1 1,000 people (£10,000), then c2 500 (£5,000): low 1,000, high 1,500, of 500 needed
    row = allocation.progress.iloc[0]
    assert (row["achieved_low"], row["achieved"]) == (pytest.approx(1000), pytest.approx(1500))
    assert "between 1,000 and 1,500 people case-managed" in row["in_words"]


def test_case_or_condition_management_needs_its_basis():
    ivs = [intervention_row("c1", "frailty", "core", 10, 0.5, management="case",
                            management_basis="")]
    with pytest.raises(InputError) as caught:
        toy_inputs(two_places(), ivs)
    assert "case or condition management has no basis for 'c1'" in caught.value.report()


def test_dln_managed_shares_are_measured_from_the_classified_rows(dln):
    inputs, _, allocation = dln
    case = set(inputs.interventions.index[inputs.interventions["management"] == "case"])
    assert case == {"proactive_frailty_bundle", "eol_register_acp", "eol_shared_care_record"}
    rows = allocation.progress.set_index("measure")
    detail = allocation.detail
    final = detail[(detail["year"] == "2030/31") & detail["intervention_id"].isin(case)]
    assert rows.at["case_managed", "achieved"] == pytest.approx(final["people_reached"].sum())
    assert 0 < rows.at["case_managed", "achieved_low"] <= rows.at["case_managed", "achieved"]
    assert not rows.at["condition_managed", "reachable"]  # 20% is beyond the library


def test_aims_round_trip_through_dataclasses():
    aim = ManagedShareAim("case", 0.05, "2030/31", "seed 001 L639")
    assert aim.label() == "population case-managed 5%"
    target = dataclasses.replace(ActivityTarget("op_avoided", "2030/31",
                                                change_from_baseline=-0.25), place="P")
    assert (target.scope, target.label()) == ("P", "outpatient attendances \u221225%")
    assert np.isclose(-0.25, target.change_from_baseline)
