"""Rules that bend in a stated order: hand-solved toys where the order changes the answer,
the lexicographic optimum against stages solved here on a formulation of the test's own, the
hard-only answer kept wherever every rule can be met, and the verifier's view of shortfalls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, milp

from optimiser import allocate, formulate, load_model, verify
from optimiser.errors import InputError
from optimiser.inputs import list_scenarios
from optimiser.ordered import OrderedSolver
from optimiser.policy import DEFAULT_RANKS, Lock
from optimiser.solve import Solver
from tests.toy import intervention_row, pcn_row, toy_inputs

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"
TIE = 1e-6  # the tie-break per £ spent


def floor_and_uplift(floor_first: bool, **changes):
    """Two PCNs of 1,000 people, one core frailty service at £10 a person worth £500; A is
    higher-need for frailty. The floor (50%) needs £5,000 in each PCN; the uplift (100%)
    needs A's spend per eligible person at twice B's. The budget, £12,000, cannot do both."""
    ranks = {**DEFAULT_RANKS, "universal_core_offer": 1 if floor_first else 2,
             "enhanced_support_uplift": 2 if floor_first else 1}
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    return toy_inputs(pcns, ivs, higher_need={"A": ("frailty",)}, budget_gbp=(12_000.0,),
                      universal_floor=0.5, enhanced_uplift=1.0, **{"rule_ranks": ranks,
                                                                   **changes})


def spend(allocation, pcn):
    d = allocation.detail
    return float(d.loc[d["pcn_code"] == pcn, "spend_gbp"].sum())


def test_floor_first_is_met_and_the_uplift_falls_short_by_what_the_budget_leaves():
    # Floors: £5,000 each, £2,000 left. The uplift asks s_A >= 2 s_B with s_B >= £5,000: the
    # least shortfall is 2 x 5,000 - 7,000 = £3,000, with A at £7,000 and B at £5,000.
    _, allocation = allocate(floor_and_uplift(floor_first=True))
    assert allocation.status == "optimal" and not allocation.rules_met
    assert spend(allocation, "A") == pytest.approx(7_000)
    assert spend(allocation, "B") == pytest.approx(5_000)
    short = allocation.shortfalls
    assert short["rule"].tolist() == ["enhanced_support_uplift"]
    assert short["shortfall"].iloc[0] == pytest.approx(3_000)
    assert short["shortfall_gbp"].iloc[0] == pytest.approx(3_000)
    assert allocation.objective == pytest.approx(1_200 * 500 - TIE * 12_000)
    assert "£3,000 short in 2026/27" in allocation.shortfall_words[0]
    assert verify(allocation.detail, allocation.inputs, allocation.objective, short).ok


def test_uplift_first_is_met_and_the_floor_falls_short_in_the_other_pcn():
    # The uplift held: s_A >= 2 s_B within £12,000 leaves B at most £4,000, A £8,000: B's
    # floor is 100 people (£1,000) short, A's is met.
    _, allocation = allocate(floor_and_uplift(floor_first=False))
    assert allocation.status == "optimal" and not allocation.rules_met
    assert spend(allocation, "A") == pytest.approx(8_000)
    assert spend(allocation, "B") == pytest.approx(4_000)
    short = allocation.shortfalls
    assert short["rule"].tolist() == ["universal_core_offer"]
    assert short["pcn_code"].tolist() == ["B"]
    assert short["shortfall"].iloc[0] == pytest.approx(100)  # people
    assert short["unit"].iloc[0] == "people"
    assert short["shortfall_gbp"].iloc[0] == pytest.approx(1_000)
    line = allocation.shortfall_words[0]
    assert "reaches 40.0% of the eligible cohort instead of 50%" in line
    assert "100 people, £1,000 short in 2026/27" in line
    assert verify(allocation.detail, allocation.inputs, allocation.objective, short).ok


@pytest.mark.parametrize("spread, reached", [(True, {"a": 30.0, "b": 30.0}),
                                              (False, {"a": 50.0, "b": 10.0})])
def test_a_floor_the_money_cannot_pay_for_is_spread_evenly_unless_asked_not_to(spread,
                                                                               reached):
    """One PCN of 100 people, two core services at £1 a person, a 50% floor (£100) and £60.
    The least shortfall is 40 people (£40) either way. Spread (the default), no service falls
    further short than it must, as a share of its floor: 20 people each, both at 30% of their
    cohort. Not spread, the last stage puts the £40 where £1 buys least: b (worth half of a)
    gets 10 people, a its whole floor of 50."""
    ivs = [intervention_row("a", "frailty", "core", 1.0, 0.002),
           intervention_row("b", "end_of_life", "core", 1.0, 0.001)]
    inputs = toy_inputs([pcn_row("A", "X", 100, 1)], ivs, budget_gbp=(60.0,),
                        universal_floor=0.5, rules_spread=spread)
    solver, allocation = allocate(inputs)
    assert allocation.status == "optimal" and solver.bent
    got = allocation.detail.set_index("intervention_id")["people_reached"]
    # the largest share is held at its least + 1e-6 (ordered.SPREAD_ABSOLUTE): 5e-5 people
    assert got.reindex(["a", "b"]).fillna(0.0).to_dict() == pytest.approx(reached, abs=1e-3)
    assert allocation.shortfalls["shortfall"].sum() == pytest.approx(40.0)
    assert [s.spread for s in solver.stages][:1] == ([pytest.approx(0.4)] if spread else [None])
    words = allocation.shortfall_words[0]
    assert ("reaches 30.0% of the eligible cohort instead of 50% for 2 service(s)" in words
            if spread else "reaches 10.0% of the eligible cohort instead of 50% for 1 service(s)"
            in words), words
    assert verify(allocation.detail, inputs, allocation.objective, allocation.shortfalls).ok


def test_with_every_rule_hard_there_is_no_plan_and_the_tool_says_why():
    _, allocation = allocate(floor_and_uplift(floor_first=True, rules_bend=False))
    assert allocation.status == "infeasible" and allocation.explanation is not None
    # a rule held hard never bends: the uplift hard, the floor ranked, the floor falls short
    ranks = {**DEFAULT_RANKS, "universal_core_offer": 1, "enhanced_support_uplift": "hard"}
    _, allocation = allocate(floor_and_uplift(floor_first=True, rule_ranks=ranks))
    assert allocation.shortfalls["rule"].unique().tolist() == ["universal_core_offer"]


def test_the_price_of_holding_a_rank_is_what_one_more_pound_short_would_buy():
    # The frontier's toy at dial 0.75 (tests/test_frontier.py): A £55, B £45, the gradient
    # £1.25 short in A. £1 more of that shortfall moves £1 from A (£1,000 of outcome per £)
    # to B (£2,000 per £): the price of holding the gradient is £1,000 per £.
    from optimiser.frontier import point_inputs
    from tests.test_frontier import two_pcn_toy

    _, allocation = allocate(point_inputs(two_pcn_toy(floor=0.45), 0.75, None))
    prices = allocation.shortfall_prices
    assert prices["rules"].tolist() == ["need_gradient"]
    assert prices["shortfall_gbp"].iloc[0] == pytest.approx(1.25, abs=1e-5)
    assert prices["price_per_gbp"].iloc[0] == pytest.approx(1_000, rel=1e-6)


def test_a_lock_that_cannot_be_afforded_falls_short_first_and_is_named():
    # A lock of £3,000 on end of life in B, with £2,000 of budget: £1,000 short.
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5),
           intervention_row("b", "end_of_life", "core", 10, 0.1)]
    inputs = toy_inputs(pcns, ivs, budget_gbp=(2_000.0,),
                        locks=(Lock("B", "end_of_life", 3_000.0),))
    _, allocation = allocate(inputs)
    short = allocation.shortfalls
    assert short["rule"].tolist() == ["locks"]
    assert short["shortfall"].iloc[0] == pytest.approx(1_000)
    assert spend(allocation, "B") == pytest.approx(2_000)
    assert "is £1,000 short in 2026/27" in allocation.shortfall_words[0]
    assert verify(allocation.detail, inputs, allocation.objective, short).ok


# ---- every rule met: the hard-only answer, exactly --------------------------------------------


@pytest.mark.parametrize("scenario", [s for s in list_scenarios(MODEL)])
def test_a_scenario_that_meets_every_rule_gets_the_hard_only_answer_exactly(scenario):
    inputs = load_model(MODEL, scenario)
    hard = Solver(inputs.with_policy(rules_bend=False))
    hard_solution = hard.solve()
    ordered = OrderedSolver(inputs)
    solution = ordered.solve()
    if not hard_solution.optimal:  # a shipped scenario that bends: a plan all the same
        assert solution.optimal and ordered.bent
        return
    assert not ordered.bent
    assert solution.objective == pytest.approx(hard_solution.objective, rel=1e-9, abs=1e-9)
    gap = np.abs(solution.col_value - hard_solution.col_value)
    assert gap.max() <= 1e-9 * max(1.0, np.abs(hard_solution.col_value).max())


def test_back_within_the_rules_after_a_shortfall_the_answer_is_the_hard_one_again():
    inputs = load_model(MODEL)
    solver = OrderedSolver(inputs)
    solver.solve()
    solver.update(inputs.with_policy(universal_floor=0.3))
    assert solver.solve().optimal and solver.bent
    solver.update(inputs)
    again = solver.solve()
    assert not solver.bent and not solver.stages  # the hard LP answered
    assert again.objective == pytest.approx(Solver(inputs).solve().objective, rel=1e-9)


# ---- the lexicographic optimum, checked against stages solved here ----------------------------


def own_stages(inputs, ranks: list[tuple[str, ...]]) -> tuple[list[float], float]:
    """Each rank's least shortfall in £, then the best objective with every rank held: the
    test's own formulation (a slack column per row of each ranked family added to the hard
    LP's matrix here, £ per person from the eligible cohort's cost), solved afresh per stage
    by scipy's HiGHS. With `[rules] spread` (the default), after each rank's least £ the
    largest shortfall as a share of what its row asks (rows asking a fixed amount: the floor's
    f E) is made least and held too, a column L per rank and rows slack_j / b_j - L <= 0."""
    lp = formulate(inputs)
    arrays = lp.arrays()
    matrix = lp.matrix().tocsc()
    n = lp.num_col
    per_gbp = {}
    cost_of = dict(zip(inputs.interventions.index, inputs.interventions["cost_gbp"],
                       strict=True))
    for family in [f for rank in ranks for f in rank]:
        block = lp.rows[family]
        if family == "universal_core_offer":
            gbp = block.index["intervention"].map(cost_of).to_numpy(dtype=float)
        else:
            gbp = np.ones(block.size)
        per_gbp[family] = (block, gbp)
    slack_rows = np.concatenate([b.positions() for b, _ in per_gbp.values()])
    k = len(slack_rows)
    width = n + k + len(ranks)  # the columns, the slacks, an L per rank
    full = sp.hstack([matrix, sp.csc_matrix((np.ones(k), (slack_rows, np.arange(k))),
                                            shape=(lp.num_row, k)),
                      sp.csc_matrix((lp.num_row, len(ranks)))]).tocsr()
    lower = np.zeros(width)
    lower[:n] = arrays["col_lower"]
    upper = np.full(width, np.inf)
    upper[:n] = arrays["col_upper"]
    rows = [LinearConstraint(full, arrays["row_lower"], arrays["row_upper"])]
    weights, spreads = [], []
    start = 0
    for r, rank in enumerate(ranks):
        w = np.zeros(width)
        share_rows, asks = [], 0.0
        for family in rank:
            block, gbp = per_gbp[family]
            at = start + np.arange(block.size)
            w[n + at] = gbp
            asked = arrays["row_lower"][block.positions()]
            fixed = np.nonzero(np.isfinite(asked) & (np.abs(asked) > 1e-6))[0]
            for j in fixed:
                row = np.zeros(width)
                row[n + at[j]], row[n + k + r] = 1.0 / abs(asked[j]), -1.0
                share_rows.append(row)
            asks += float((gbp[fixed] * np.abs(asked[fixed])).sum())
            start += block.size
        weights.append(w)
        spreads.append((share_rows, asks))
    least = []
    for r, w in enumerate(weights):
        result = milp(w, constraints=rows, bounds=(lower, upper))
        assert result.status == 0
        least.append(float(result.fun))
        rows.append(LinearConstraint(sp.csr_matrix(w), -np.inf,
                                     result.fun + 1e-9 * abs(result.fun) + 1e-6))
        share_rows, asks = spreads[r]
        if result.fun > 1e-6 and share_rows:  # this rank falls short: spread it
            rows.append(LinearConstraint(sp.csr_matrix(np.array(share_rows)), -np.inf, 0.0))
            spread = np.zeros(width)
            spread[n + k + r] = asks  # in £, so HiGHS's dual tolerance does not stop it short
            result = milp(spread, constraints=rows, bounds=(lower, upper))
            assert result.status == 0
            upper[n + k + r] = result.x[n + k + r] * (1 + 1e-9) + 1e-6
    cost = -np.concatenate([arrays["col_cost"], np.zeros(k + len(ranks))])
    result = milp(cost, constraints=rows, bounds=(lower, upper))
    assert result.status == 0
    return least, -float(result.fun)


@pytest.mark.parametrize("changes", [{"universal_floor": 0.3},
                                     {"universal_floor": 0.32, "need_gradient": 0.9}])
def test_the_stages_match_the_tests_own_lexicographic_solve_on_dln(changes):
    inputs = load_model(MODEL).with_policy(**changes)
    solver = OrderedSolver(inputs)
    solution = solver.solve()
    assert solution.optimal and solver.bent
    ranks = [("universal_core_offer",), ("enhanced_support_uplift",), ("need_gradient",)]
    least, best = own_stages(inputs, ranks)
    assert [s.rank for s in solver.stages] == [2, 3, 4]
    for stage, value in zip(solver.stages, least, strict=True):
        assert stage.shortfall_gbp == pytest.approx(value, rel=1e-6, abs=1e-3)
    assert least[0] > 1e6  # the floor is millions short in 2026/27
    assert solution.objective == pytest.approx(best, rel=1e-7)
    _, allocation = allocate(inputs, solver=solver)
    assert allocation.shortfalls["shortfall_gbp"].sum() == pytest.approx(sum(least), rel=1e-6)
    assert verify(allocation.detail, inputs, allocation.objective, allocation.shortfalls).ok


# ---- the verifier knows shortfalls ------------------------------------------------------------


@pytest.fixture(scope="module")
def bent_dln():
    inputs = load_model(MODEL).with_policy(universal_floor=0.32, need_gradient=0.9)
    _, allocation = allocate(inputs)
    return inputs, allocation


def test_the_verifier_adds_each_shortfall_back_and_finds_every_rule_held(bent_dln):
    inputs, allocation = bent_dln
    assert set(allocation.shortfalls["rule"]) == {"universal_core_offer",
                                                  "enhanced_support_uplift", "need_gradient"}
    report = verify(allocation.detail, inputs, allocation.objective, allocation.shortfalls)
    assert report.ok, str(report)
    without = verify(allocation.detail, inputs, allocation.objective)
    assert {c.rule.split(":")[0] for c in without.failures()} == {
        "universal_core_offer", "enhanced_support_uplift", "need_gradient"}


def test_the_verifier_rejects_a_shortfall_beyond_the_gap_or_on_a_hard_rule(bent_dln):
    inputs, allocation = bent_dln
    inflated = allocation.shortfalls.copy()
    inflated.loc[0, "shortfall"] *= 1.01
    report = verify(allocation.detail, inputs, allocation.objective, inflated)
    assert [c.rule for c in report.failures()] == [
        "shortfalls: each is the rule's own gap on the plan (none where it is met)"]
    hard = inputs.with_policy(rule_ranks={**DEFAULT_RANKS, "need_gradient": "hard"})
    report = verify(allocation.detail, hard, allocation.objective, allocation.shortfalls)
    assert "shortfalls: none on a rule held hard" in [c.rule for c in report.failures()]


# ---- the model file --------------------------------------------------------------------------


def test_the_model_file_states_the_order_and_a_bad_rank_is_named(tmp_path):
    policy = load_model(MODEL).policy
    assert policy.rules_bend
    assert policy.rule_ranks["budget_limit"] == "hard"
    assert policy.rule_ranks["universal_core_offer"] < policy.rule_ranks["need_gradient"]
    text = MODEL.read_text().replace('need_gradient = 4\n', 'need_gradient = "soon"\n')
    text = text.replace('data = "../data"', f'data = "{MODEL.parent.parent / "data"}"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(InputError) as err:
        load_model(bad)
    assert "'rules.need_gradient' must be \"hard\" or a rank" in str(err.value)


# ---- the uncertainty analysis: draws that cannot afford the floor bend, named ------------------


def test_draws_that_cannot_afford_the_floor_bend_and_name_their_shortfall():
    """The toy PSA with £30 of budget: the floor (20% of each PCN's cohort of 100 x share)
    costs 40 x share x cost a person; where that is above £30 the draw falls short by the
    difference, in £, on the universal core offer (and with every rule hard it has no plan)."""
    from optimiser.uncertainty import run_uncertainty
    from tests.test_uncertainty import QUIET, toy_psa

    inputs = toy_psa().with_policy(budget_gbp=(30.0,))
    result = run_uncertainty(inputs, draws=12, seed=3, **QUIET)
    draws, samples = result.draws, result.samples
    need = 40 * samples["core.cohort_share"] * samples["core.cost_gbp"]
    expected = np.maximum(need - 30, 0.0).to_numpy()
    assert (draws["status"] == "optimal").all()
    # each rank is held at its least + £1e-6 (ordered.FIX_ABSOLUTE_GBP), which the last
    # stage may use
    assert draws["shortfall_gbp"].to_numpy() == pytest.approx(expected, abs=1e-5)
    assert 0 < (expected > 1e-6).sum() < len(draws)  # some draws bend, some do not
    assert draws["rules_met"].tolist() == list(expected <= 1e-6)
    short = draws[~draws["rules_met"].astype(bool)]
    assert short["rules_short"].str.startswith("the universal core offer £").all()
    assert result.objective_summary["draws_with_shortfall"] == (expected > 1e-6).sum()
    hard = run_uncertainty(inputs.with_policy(rules_bend=False), draws=12, seed=3, **QUIET)
    assert hard.draws["status"].tolist() == ["infeasible" if e > 1e-6 else "optimal"
                                             for e in expected]


def test_a_rank_or_ratio_set_in_code_is_checked_like_a_model_file():
    inputs = load_model(MODEL)
    with pytest.raises(InputError, match="'rules.need_gradient' must be \"hard\" or a whole"):
        inputs.with_policy(rule_ranks={**DEFAULT_RANKS, "need_gradient": 0})
    with pytest.raises(InputError, match="q1_q5_spend_ratio' compares IMD quintiles 1 and 5"):
        toy_inputs([pcn_row("A", "X", 1000, 2)], [intervention_row("a", "frailty", "core", 10,
                                                                   0.5)],
                   q1_q5_spend_ratio=1.2)


@pytest.mark.parametrize("rows", ["all", "lazy"])
def test_the_stages_hold_with_the_cross_year_rows_held_back(rows):
    """Row generation (the strategy of large models) under the ordered stages: the same least
    shortfalls and optimum as with every row. Three years, growth at most 30% of the cohort a
    year, a floor of 50% and £6,000 a year: year one can reach 300 people a PCN (growth), not
    500 (floor): 2 x 200 people short, £4,000; year two's 500 a PCN costs £10,000 of £6,000:
    £4,000 short; year three the same."""
    from optimiser.solve import SolveOptions

    years = ("2026/27", "2027/28", "2028/29")
    pcns = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]
    ivs = [intervention_row("a", "frailty", "core", 10, 0.5)]
    inputs = toy_inputs(pcns, ivs, years=years, budget_gbp=(6_000.0,) * 3,
                        universal_floor=0.5, mobilisation_max_growth=0.3)
    solver, allocation = allocate(inputs, SolveOptions(cross_year_rows=rows))
    assert solver.bent and allocation.status == "optimal"
    by_year = allocation.shortfall_by_rule.set_index("year")["shortfall_gbp"]
    assert by_year.to_numpy() == pytest.approx([4_000.0] * 3, abs=1e-4)
    assert allocation.objective == pytest.approx(3 * 600 * 500 - TIE * 18_000, rel=1e-9)
    if rows == "lazy":
        assert solver.soft.waiting_rows > 0 or allocation.solution.rounds > 1
