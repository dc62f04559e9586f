"""Hand-solvable models: two PCNs, two interventions; every answer is worked out in advance.

Unless a test says otherwise: one year, one tranche, no discounting, a QALY worth £1,000,
every outcome other than QALYs zero, need indices 1, the constraints that don't bind are
left on (they are slack by construction), so each test also checks they stay out of the way.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimiser import allocate, verify
from optimiser.policy import ActivityTarget, Lock, RingFence
from optimiser.solve import SolveOptions
from tests.toy import intervention_row, pcn_row, toy_inputs

TIE = 1e-6  # the tie-break term per £ spent


def reached(allocation, pcn, iid, year=None):
    d = allocation.detail
    pick = (d["pcn_code"] == pcn) & (d["intervention_id"] == iid)
    if year is not None:
        pick &= d["year"] == year
    return float(d.loc[pick, "people_reached"].sum())


def solved(inputs, options=None):
    _, allocation = allocate(inputs, options)
    assert allocation.status == "optimal", allocation.explanation
    report = verify(allocation.detail, inputs, allocation.objective)
    assert report.ok, str(report)
    return allocation


TWO_PCNS = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]


def test_budget_only_matches_the_greedy_ratio_solution():
    # value per £: a = 0.5 QALY x £1000 / £10 = 50; b = 0.1 x 1000 / £5 = 20.
    # Budget £25,000: a fills both PCNs (2 x 1000 x £10 = £20,000), then b gets £5,000
    # (1000 people).
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "frailty", "enhanced", 5, 0.1)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(25_000.0,))
    allocation = solved(inputs)
    assert reached(allocation, "A", "a") == pytest.approx(1000)
    assert reached(allocation, "B", "a") == pytest.approx(1000)
    assert reached(allocation, "A", "b") + reached(allocation, "B", "b") == pytest.approx(1000)
    expected = 2000 * 0.5 * 1000 + 1000 * 0.1 * 1000 - TIE * 25_000
    assert allocation.objective == pytest.approx(expected, rel=1e-9)
    budget = allocation.constraints.query("constraint == 'budget_limit'")
    # b's ratio at the margin
    assert budget["shadow_price"].iloc[0] == pytest.approx(20.0, rel=1e-6)


def greedy(values_per_person, costs, caps, budget):
    """The textbook greedy for a budget-only continuous knapsack."""
    order = np.argsort(-np.asarray(values_per_person) / np.asarray(costs))
    total, left = 0.0, budget
    for j in order:
        take = min(caps[j], left / costs[j])
        total += take * values_per_person[j]
        left -= take * costs[j]
    return total, budget - left


@pytest.mark.parametrize("budget", [0.0, 3_000.0, 18_000.0, 40_000.0, 1e6])
def test_budget_only_agrees_with_greedy_at_every_budget(budget):
    pcns = [pcn_row("A", "X", 800, 2), pcn_row("B", "X", 1200, 4)]
    ivs = [intervention_row("a", "frailty", "core", 12, 0.3),
           intervention_row("b", "end_of_life", "core", 7, 0.2, share=0.5),
           intervention_row("c", "frailty", "enhanced", 30, 0.4)]
    inputs = toy_inputs(pcns, ivs, budget_gbp=(budget,))
    allocation = solved(inputs)
    values = [q * 1000 for q in (0.3, 0.2, 0.4) for _ in (0, 1)]
    costs = [c for c in (12, 7, 30) for _ in (0, 1)]
    caps = [800, 1200, 400, 600, 800, 1200]
    best, spent = greedy(values, costs, caps, budget)
    assert allocation.objective == pytest.approx(best - TIE * spent, rel=1e-9, abs=1e-6)


def test_workforce_limit_caps_reach_at_the_staff_available():
    # a needs 2 WTE per 1,000 reached; 1 WTE available in ICB X -> 500 people in all.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5, wte=2.0)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(1e6,), limited_groups=("nurse",),
                        available_wte={"nurse": {"X": 1.0}})
    allocation = solved(inputs)
    assert reached(allocation, "A", "a") + reached(allocation, "B", "a") == pytest.approx(500)
    row = allocation.constraints.query("constraint == 'workforce_limit'").iloc[0]
    # one more WTE buys 500 more people x 0.5 QALY x £1000, less the tie-break on £5,000
    assert row["shadow_price"] == pytest.approx(500 * 500 - TIE * 5000, rel=1e-9)
    assert "nurses" in row["in_words"].lower()


def test_universal_floor_forces_the_core_offer_everywhere():
    # core a is worth nothing; the floor makes every PCN reach 30% of its cohort anyway.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.0),
           intervention_row("b", "frailty", "enhanced", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(10_000.0,), universal_floor=0.3)
    allocation = solved(inputs)
    for pcn in ("A", "B"):
        assert reached(allocation, pcn, "a") == pytest.approx(300)
    # £6,000 on the floor leaves £4,000 for b: 400 people
    assert reached(allocation, "A", "b") + reached(allocation, "B", "b") == pytest.approx(400)


def test_enhanced_uplift_spends_more_per_eligible_person_in_higher_need_pcns():
    # B is higher-need for frailty; equal cohorts; B must spend >= 1.5 x A's per eligible.
    # Without the rule A and B are interchangeable; with it, budget £10,000 splits 4,000 / 6,000.
    pcns = [pcn_row("A", "X", 1000, 3), pcn_row("B", "X", 1000, 3)]
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5, qaly_high=0.5)]
    inputs = toy_inputs(pcns, ivs, higher_need={"B": ("frailty",)}, budget_gbp=(10_000.0,),
                        enhanced_uplift=0.5)
    allocation = solved(inputs)
    spend_a, spend_b = reached(allocation, "A", "a") * 10, reached(allocation, "B", "a") * 10
    assert spend_b >= 1.5 * spend_a - 1e-6
    # and when A is worth more per person, the rule binds exactly: B = 1.5 x A
    pcns = [pcn_row("A", "X", 1000, 3, need_overall_eng=2.0), pcn_row("B", "X", 1000, 3)]
    inputs = toy_inputs(pcns, ivs, higher_need={"B": ("frailty",)}, budget_gbp=(10_000.0,),
                        enhanced_uplift=0.5, risk_columns={"qaly": "need_overall_eng"})
    allocation = solved(inputs)
    assert reached(allocation, "A", "a") == pytest.approx(400)
    assert reached(allocation, "B", "a") == pytest.approx(600)


def test_need_gradient_at_one_gives_every_pcn_its_fair_share():
    # fair shares by population x need: A 1000 x 3 = 3000, B 1000 x 1 = 1000 -> 75% / 25%.
    # B's intervention is worth more, but lambda = 1 holds B to at least... and A to at least 75%.
    pcns = [pcn_row("A", "X", 1000, 1, need_overall_eng=3.0), pcn_row("B", "X", 1000, 5)]
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(pcns, ivs, budget_gbp=(8_000.0,), need_gradient=1.0)
    allocation = solved(inputs)
    assert reached(allocation, "A", "a") * 10 == pytest.approx(6_000)
    assert reached(allocation, "B", "a") * 10 == pytest.approx(2_000)


def test_tranches_give_diminishing_returns_in_order():
    # a: first half of the cohort at full effect, second half at 0.2; b: flat 0.3.
    # Values per £: a1 50, b 30, a2 10 -> fill a1 (£5,000 per PCN), then b, then a2.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "frailty", "enhanced", 10, 0.3)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(15_000.0,), tranche_shares=(0.5, 0.5),
                        marginal_effect=(1.0, 0.2))
    allocation = solved(inputs)
    assert reached(allocation, "A", "a") + reached(allocation, "B", "a") == pytest.approx(1000)
    assert reached(allocation, "A", "b") + reached(allocation, "B", "b") == pytest.approx(500)
    expected = 1000 * 500 + 500 * 0.5 * 300 * 2 / 2 - TIE * 15_000
    assert allocation.objective == pytest.approx(1000 * 500 + 500 * 300 - TIE * 15_000)
    assert expected  # the line above spells out 1000 x £500 (a1) + 500 x £300 (b)


YEARS = ("2026/27", "2027/28", "2028/29")


def test_mobilisation_limits_growth_a_year():
    # growth at most 20% of the cohort a year: 200, 400, 600 people in each PCN.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, years=YEARS, budget_gbp=(1e6,) * 3,
                        mobilisation_max_growth=0.2)
    allocation = solved(inputs)
    for year, people in zip(YEARS, (200, 400, 600), strict=True):
        assert reached(allocation, "A", "a", year) == pytest.approx(people)


@pytest.mark.parametrize("rows", ["all", "lazy"])
def test_growth_summed_over_the_years_bounds_reach_with_hand_shadow_prices(rows):
    # Growth at most 200 people a year from nothing, so reach is at most 200, 400 and 600.
    # With the growth rows held back, HiGHS holds these sums as bounds on each service's
    # reach (held.Chains) and no growth row ever needs adding. Each person is worth £500
    # (less the tie-break on £10). One more person of growth in year one lifts every year's
    # reach: 3 x £500; in year two, 2 x £500; in year three, £500 (per PCN).
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, years=YEARS, budget_gbp=(1e6,) * 3,
                        mobilisation_max_growth=0.2)
    solver, allocation = allocate(inputs, SolveOptions(cross_year_rows=rows))
    assert allocation.status == "optimal"
    for year, people in zip(YEARS, (200, 400, 600), strict=True):
        assert reached(allocation, "A", "a", year) == pytest.approx(people)
    if rows == "lazy":
        assert allocation.solution.rounds == 2  # the years apart, then the whole LP
        assert solver.waiting_rows == len(solver.lp.rows["mobilisation"].positions()) - 2 \
            + len(solver.lp.rows["continuity"].positions())  # first years' are bounds
    growth = allocation.constraints.query("constraint == 'mobilisation'")
    per_person = 500 - TIE * 10
    for year, worth in zip(YEARS, (3, 2, 1), strict=True):
        prices = growth.loc[growth["year"] == year, "shadow_price"]
        assert prices.to_numpy() == pytest.approx([worth * per_person] * 2, rel=1e-9)
    assert verify(allocation.detail, inputs, allocation.objective).ok


def test_growth_rows_are_added_when_last_years_reach_falls_short():
    # Year one's budget (£2,000) reaches 200 people, below the 400 growth allows. Solved
    # apart, years two and three reach 800 and 1,200 (their bounds); the growth rows then
    # added hold them to 200 + 2 x 200 = 600 and 600 + 2 x 200 = 1,000.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, years=YEARS, budget_gbp=(2_000.0, 1e6, 1e6),
                        mobilisation_max_growth=0.2)
    solver, allocation = allocate(inputs, SolveOptions(cross_year_rows="lazy"))
    assert allocation.status == "optimal" and allocation.solution.rounds > 1
    held = solver.highs.getNumRow()
    assert solver.waiting_rows < len(solver.lp.rows["mobilisation"].positions()) - 2 \
        + len(solver.lp.rows["continuity"].positions())  # some rows were added
    assert held > 0
    for year, people in zip(YEARS, (200, 600, 1000), strict=True):
        total = reached(allocation, "A", "a", year) + reached(allocation, "B", "a", year)
        assert total == pytest.approx(people)
    assert verify(allocation.detail, inputs, allocation.objective).ok


def test_continuity_keeps_a_service_when_the_budget_falls():
    # Year 1 budget funds 1000 people of the valuable a; year 2 budget is zero... with
    # continuity (max fall 25%) year 2 must keep 750, so it is infeasible; we check the message.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, years=YEARS[:2], budget_gbp=(10_000.0, 10_000.0),
                        continuity_max_fall=0.25)
    allocation = solved(inputs)
    assert reached(allocation, "A", "a", YEARS[1]) + reached(allocation, "B", "a", YEARS[1]) \
        >= 0.75 * 1000 - 1e-6


def test_invest_to_save_returns_a_share_of_avoided_activity_to_next_year():
    # a avoids 0.1 admission per person (unit cost £100, cash-releasing share 1 -> £10 per
    # person, exactly its cost). Half returns: year-2 budget = £1,000 + 0.5 x £1,000 = £1,500.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5, nel_avoided=0.1,
                            nel_avoided_low=0.1, nel_avoided_high=0.1)]
    inputs = toy_inputs(TWO_PCNS, ivs, years=YEARS[:2], budget_gbp=(1_000.0, 1_000.0),
                        invest_to_save_share=0.5)
    allocation = solved(inputs)
    spend = allocation.detail.groupby("year")["spend_gbp"].sum()
    assert spend[YEARS[0]] == pytest.approx(1_000)
    assert spend[YEARS[1]] == pytest.approx(1_500)


def test_invest_to_save_returns_cash_as_the_model_file_values_it():
    # a avoids 0.1 admission and 0.4 bed days per person (unit cost £100 each). The model file
    # releases half of an admission's cost as cash (cash-releasing share 0.5) and values bed
    # days at £0 (the admission's cost already pays for the stay). Year 1: £1,000 reaches 100
    # people: 10 admissions x £100 x 0.5 = £500 of cash, the 40 bed days none; half of it
    # returns, so year 2 has £1,000 + 0.5 x £500 = £1,250. (At full unit cost with bed days
    # it would be £1,000 + 0.5 x (£1,000 + £4,000) = £3,500.) The priority weight of 2 does
    # not change the cash: it weighs outcomes, not money.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5, nel_avoided=0.1,
                            nel_avoided_low=0.1, nel_avoided_high=0.1, bed_days_avoided=0.4,
                            bed_days_avoided_low=0.4, bed_days_avoided_high=0.4)]
    inputs = toy_inputs(TWO_PCNS, ivs, years=YEARS[:2], budget_gbp=(1_000.0, 1_000.0),
                        invest_to_save_share=0.5, cash_releasing_share=0.5,
                        activity_gbp={"bed_days_avoided": 0.0}, priority_weight={"frailty": 2.0})
    allocation = solved(inputs)  # the independent check recomputes the cash the same way
    spend = allocation.detail.groupby("year")["spend_gbp"].sum()
    assert spend[YEARS[0]] == pytest.approx(1_000)
    assert spend[YEARS[1]] == pytest.approx(1_250)
    cash = allocation.solution.col_value[allocation.lp.columns["avoided_cash"].start]
    assert cash == pytest.approx(500)


def test_higher_need_is_compared_within_each_icb_and_pooled_only_as_a_label():
    # Two ICBs, each with one higher-need PCN for frailty (A in X, C in Y) and one other, and
    # cohorts of 1,000 or 3,000 (cost £2 a person). Locks hold X's other PCN at £1 a person
    # and Y's at £0.20, and each higher-need PCN at exactly 1.25 x its own ICB's: the rule
    # (uplift 25%) holds in both. Pooled across ICBs the higher-need PCNs get (1,250 + 750) /
    # 4,000 = £0.50 a person and the others (3,000 + 200) / 4,000 = £0.80: a ratio of 0.625,
    # though no ICB falls short.
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 3000, 5),
            pcn_row("C", "Y", 3000, 1), pcn_row("D", "Y", 1000, 5)]
    ivs = [intervention_row("a", "frailty", "core", 2, 0.1)]
    locks = tuple(Lock(p, "frailty", v) for p, v in
                  (("A", 1250.0), ("B", 3000.0), ("C", 750.0), ("D", 200.0)))
    inputs = toy_inputs(pcns, ivs, higher_need={"A": ("frailty",), "C": ("frailty",)},
                        budget_gbp=(10_000.0,), enhanced_uplift=0.25, locks=locks)
    allocation = solved(inputs)
    table = allocation.higher_need_comparison.set_index("icb_code")
    assert list(table.index) == ["X", "Y"]
    assert table.loc["X", "higher_need_per_eligible_gbp"] == pytest.approx(1.25)
    assert table.loc["X", "other_per_eligible_gbp"] == pytest.approx(1.0)
    assert table.loc["Y", "higher_need_per_eligible_gbp"] == pytest.approx(0.25)
    assert table.loc["Y", "other_per_eligible_gbp"] == pytest.approx(0.2)
    assert table["ratio"].to_numpy() == pytest.approx([1.25, 1.25])
    assert table["lowest_pcn_ratio"].to_numpy() == pytest.approx([1.25, 1.25])
    assert (table["rule_ratio"] == 1.25).all()
    pooled = allocation.higher_need_pooled.set_index("priority_id").loc["frailty"]
    assert pooled["higher_need_per_eligible_gbp"] == pytest.approx(0.5)
    assert pooled["other_per_eligible_gbp"] == pytest.approx(0.8)
    assert pooled["ratio"] == pytest.approx(0.625)


def test_activity_target_moves_money_to_admission_avoidance():
    # a: QALYs only; b: avoids 0.5 admissions per person, no QALYs, outcome weight zero.
    # Target 100 admissions -> b reaches 200 people (£2,000); a gets the remaining £8,000.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "frailty", "enhanced", 10, 0.0, nel_avoided=0.5,
                            nel_avoided_low=0.5, nel_avoided_high=0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(10_000.0,), activity_gbp={
        "nel_avoided": 0.0}, activity_targets=(ActivityTarget("nel_avoided", "2026/27", 100.0),))
    allocation = solved(inputs)
    assert reached(allocation, "A", "b") + reached(allocation, "B", "b") == pytest.approx(200)
    assert allocation.totals["nel_avoided"] == pytest.approx(100)


def test_a_lock_holds_spend_and_the_rest_is_reoptimised():
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "end_of_life", "core", 10, 0.1)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(10_000.0,),
                        locks=(Lock("B", "end_of_life", 3_000.0),))
    allocation = solved(inputs)
    assert reached(allocation, "B", "b") * 10 == pytest.approx(3_000)
    assert reached(allocation, "A", "a") + reached(allocation, "B", "a") == pytest.approx(700)


def test_ring_fence_minimum_share_for_a_priority():
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "cyp_obesity", "core", 10, 0.1)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(10_000.0,),
                        ring_fences=(RingFence(priority="cyp_obesity", min_share=0.4),))
    allocation = solved(inputs)
    assert (reached(allocation, "A", "b") + reached(allocation, "B", "b")) * 10 == \
        pytest.approx(4_000)


def test_equity_weights_tip_the_choice_towards_the_most_deprived():
    # identical PCNs but for quintile; the budget covers one. Weight Q1 above Q5 -> A first.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(10_000.0,),
                        quintile_weight=(1.5, 1.0, 1.0, 1.0, 1.0))
    allocation = solved(inputs)
    assert reached(allocation, "A", "a") == pytest.approx(1000)
    assert reached(allocation, "B", "a") == pytest.approx(0)


def test_infeasible_floor_is_explained_with_the_shortfall_in_pounds():
    # the floor needs 2 x 500 x £10 = £10,000 a year; the budget is £4,000: £6,000 short.
    # With every rule hard (rules.bend = false) there is no plan, and the tool says why.
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(4_000.0,), universal_floor=0.5,
                        rules_bend=False)
    _, allocation = allocate(inputs)
    assert allocation.status == "infeasible"
    text = str(allocation.explanation)
    assert "£6,000 more than the 2026/27 budget" in text
    assert "universal core offer alone needs £10k" in text
    relaxed = allocation.explanation.relaxed_inputs
    assert relaxed is not None
    _, fixed = allocate(relaxed)
    assert fixed.status == "optimal"
    assert fixed.inputs.budget_gbp[0] == pytest.approx(10_000, rel=1e-4)


def test_warm_update_gives_the_cold_answer():
    from optimiser import Solver

    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "frailty", "enhanced", 5, 0.1)]
    inputs = toy_inputs(TWO_PCNS, ivs, budget_gbp=(25_000.0,))
    solver = Solver(inputs)
    solver.solve()
    changed = inputs.with_policy(budget_gbp=(12_000.0,), qaly_gbp=2_000.0, need_gradient=0.8)
    assert solver.update(changed) == "warm"
    warm = solver.solve()
    _, cold = allocate(changed)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.warm


def test_a_priority_added_as_data_is_planned():
    """Priorities are data: a priority the shipped seven lack (seed 002's preventable
    mortality) enters through the priorities table and is solved like the others.

    Budget £300: the new priority's intervention (value 3/£) beats frailty's (1/£), so its
    cohort of 100 people at £2 is bought first (£200) and frailty gets the rest (£100).
    """
    from tests.toy import PRIORITIES
    added = (*PRIORITIES, "preventable_mortality")
    inputs = toy_inputs(
        [pcn_row("A", "X", 100, 1)],
        [intervention_row("f", "frailty", "core", cost=1.0, qaly=0.001),
         intervention_row("pm", "preventable_mortality", "core", cost=2.0, qaly=0.006)],
        priorities=added, budget_gbp=(300.0,),
        priority_weight={"preventable_mortality": 1.0})
    assert inputs.priority_ids[-1] == "preventable_mortality"
    _, allocation = allocate(inputs)
    spend = allocation.by_priority.set_index("priority_id")["spend_gbp"]
    assert spend["preventable_mortality"] == pytest.approx(200.0)
    assert spend["frailty"] == pytest.approx(100.0)
    assert verify(allocation.detail, inputs, allocation.objective).ok
