"""Plans a contract manager can let ([commissioning], issue 17): hand-solved toy cases, the
properties the mixed-integer plan must keep, the verifier on a broken plan, the model file's
checks in words, and a second solver (CBC through PuLP) on the exported MIP.

Toy numbers: qaly_gbp = £1,000, so an intervention with `qaly` q is worth £1,000 q per person
reached; `cohort_share` x population is the eligible cohort (uptake 1, no prevalence).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pulp
import pytest

from optimiser import Solver, load_model
from optimiser.api import allocate, without_commissioning
from optimiser.checks import commissioning_checks, reach_grid, verify
from optimiser.errors import InputError, Problems
from optimiser.inputs import build_inputs
from optimiser.policy import Commissioning
from tests.test_second_solver import read_mps_into_pulp
from tests.toy import intervention_row, pcn_row, toy_policy, toy_tables

NURSE_GBP = 40_000.0  # £ a nurse WTE a year in the toys


def toy_inputs(pcns, interventions, **policy):
    """tests.toy's inputs, the staff table with an annual cost (posts are paid for)."""
    tables = toy_tables(pcns, interventions)
    tables["staff_groups"] = tables["staff_groups"].assign(annual_cost_gbp=NURSE_GBP)
    return build_inputs(toy_policy(**policy), Path("."), Problems(), tables=tables)

REPO = Path(__file__).resolve().parents[1]
DLN_MODEL = REPO / "models" / "dln_base.toml"
TIE = 1e-6  # the objective's tie-break per £ spent (formulation.TIE_BREAK_PER_GBP)


def service(iid: str, cost: float, qaly: float, share: float = 1.0, level: str = "pcn",
            min_size: float | None = None, unit: str = "people", setup: float | None = None,
            tier: str = "core", priority: str = "frailty") -> dict:
    """An intervention row with its commissioning facts (toy sources)."""
    return intervention_row(
        iid, priority, tier, cost, qaly, share=share, delivery_level=level,
        delivery_level_basis="toy", min_size=min_size, min_size_unit=unit if min_size else None,
        min_size_basis="toy" if min_size else None, setup_cost_gbp=setup,
        setup_cost_basis="toy" if setup else None, commissioning_confidence="toy")


def on(**changes) -> Commissioning:
    return Commissioning(on=True, **changes)


def two_pcns(**extra):
    """PCNs A and B of one ICB X and one place XP, 50 people each."""
    return [pcn_row("A", "X", 50, 1, **extra), pcn_row("B", "X", 50, 3, **extra)]


def solved(inputs):
    _, allocation = allocate(inputs)
    return allocation


def running(allocation) -> pd.DataFrame:
    table = allocation.contracts
    return table[table["runs"]]


# ---- hand-solved toy cases -------------------------------------------------------------------


def test_a_minimum_one_pcn_cannot_reach_merges_the_pcns_into_one_contract():
    """One service, £10 a person, worth £10 a person, a minimum contract of 60 people; each PCN
    has 50 eligible. Neither PCN alone can reach 60, so its own contract cannot run; one contract
    for their place (or their ICB: the same two PCNs) reaches all 100, as the LP does."""
    ivs = [service("s", 10, 0.01, min_size=60)]
    inputs = toy_inputs(two_pcns(), ivs, budget_gbp=(2000.0,),
                        commissioning=on(merge=True))
    plan = solved(inputs)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(100 * 10 - TIE * 1000, abs=1e-6)
    contracts = running(plan)
    assert len(contracts) == 1
    only = contracts.iloc[0]
    assert only["level"] in ("place", "icb") and only["people_reached"] == pytest.approx(100)
    assert plan.commissioning["services_merged"][0]["from"] == "pcn"
    # without merging, no PCN may run it: nothing is funded
    apart = solved(inputs.with_policy(commissioning=on(merge=False)))
    assert apart.objective == pytest.approx(0.0, abs=1e-6)
    assert not apart.contracts["runs"].any()
    # the LP funds it in both PCNs; letting it as one contract costs nothing here
    assert plan.commissioning["price_of_commissionability_gbp"] == pytest.approx(0.0, abs=1e-6)


def test_a_set_up_cost_makes_one_of_two_services_not_worth_starting():
    """Budget £1,000. s1: £10 a person, worth £20 (2 per £), 200 eligible. s2: £10 a person,
    worth £30 (3 per £), 20 eligible, set-up £400. The LP buys all of s2 (£200, worth £600) and
    80 of s1 (£800, £1,600): £2,200. Starting s2 costs £400 more, leaving £400 for s1: £1,400.
    Not starting it: s1 takes the whole £1,000: £2,000. The plan drops s2; the price of
    commissionability is £200."""
    ivs = [service("s1", 10, 0.02), service("s2", 10, 0.03, share=0.1, setup=400)]
    inputs = toy_inputs([pcn_row("A", "X", 200, 1)], ivs, budget_gbp=(1000.0,),
                        commissioning=on())
    plan = solved(inputs)
    assert plan.objective == pytest.approx(2000 - TIE * 1000, abs=1e-6)
    reached = plan.detail.set_index("intervention_id")["people_reached"]
    assert reached["s1"] == pytest.approx(100) and "s2" not in reached
    assert plan.commissioning["services_dropped"] == ["s2"]
    assert plan.commissioning["price_of_commissionability_gbp"] == pytest.approx(200, abs=1e-3)
    assert plan.commissioning["setup_charged_gbp"] == 0.0
    lp = solved(without_commissioning(inputs))
    assert lp.objective == pytest.approx(2200 - TIE * 1000, abs=1e-6)
    # a set-up cost of £100 is worth paying: s2 £200 + £100, s1 £700: £600 + £1,400 = £2,000,
    # the same as dropping it; at £50 starting wins (£2,100), and the £50 is charged
    cheaper = dict(ivs[1], setup_cost_gbp=50.0)
    plan = solved(toy_inputs([pcn_row("A", "X", 200, 1)], [ivs[0], cheaper],
                             budget_gbp=(1000.0,), commissioning=on()))
    assert plan.objective == pytest.approx(2100 - TIE * 950, abs=1e-4)
    assert plan.commissioning["setup_charged_gbp"] == pytest.approx(50.0)


def test_the_floor_impossible_per_pcn_is_met_by_the_place_contract():
    """A core service with a floor of 20% (10 people in each PCN) and a minimum contract of 60
    people: a PCN of 50 cannot run its own, so per PCN the floor cannot be met (with every rule
    hard there is no plan); one contract for the place reaches 60 or more and meets the floor
    in both PCNs. Budget £600 buys exactly 60 people."""
    ivs = [service("s", 10, 0.01, min_size=60)]
    args = dict(budget_gbp=(600.0,), universal_floor=0.2, rules_bend=False)
    apart = solved(toy_inputs(two_pcns(), ivs, commissioning=on(merge=False), **args))
    assert apart.status == "infeasible"
    plan = solved(toy_inputs(two_pcns(), ivs, commissioning=on(merge=True), **args))
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(600 - TIE * 600, abs=1e-6)
    reached = plan.detail.set_index("pcn_code")["people_reached"]
    assert reached.min() >= 10 - 1e-6 and reached.sum() == pytest.approx(60)
    assert running(plan)["level"].isin(["place", "icb"]).all()
    # with the rules bending, the per-PCN plan falls short of the floor by 10 people a PCN
    bent = solved(toy_inputs(two_pcns(), ivs, commissioning=on(merge=False),
                             budget_gbp=(600.0,), universal_floor=0.2))
    assert bent.shortfalls["shortfall"].sum() == pytest.approx(20.0)


# ---- properties --------------------------------------------------------------------------------


TOY_PCNS = [pcn_row("A", "X", 1000, 1, need_overall_eng=1.4), pcn_row("B", "X", 2000, 3),
            pcn_row("C", "Y", 1500, 5, need_overall_eng=0.8, place_code="YQ"),
            pcn_row("D", "Y", 300, 2, need_overall_eng=1.2)]
TOY_IVS = [service("f_core", 10, 0.01, share=0.5), service("f_team", 25, 0.03, share=0.2,
                                                             level="place", min_size=150,
                                                             setup=1500),
           service("e_core", 30, 0.04, share=0.1, priority="end_of_life", min_size=0.5,
                   unit="wte"),
           service("m_pcn", 15, 0.015, tier="enhanced")]
YEARS = ("2026/27", "2027/28", "2028/29")


def toy_model(floor: float = 0.05, **commissioning):
    """Four PCNs in two ICBs (three places), four services (a place team with a minimum size
    and a set-up cost, one with a minimum in WTE), three years. The floor of 5% cannot be met
    by every contract in time: the rules bend unless the floor is lower."""
    ivs = [dict(r, wte_per_1000_nurse=2.0) for r in TOY_IVS]
    return toy_inputs(TOY_PCNS, ivs, years=YEARS, budget_gbp=(9000.0, 14000.0, 16000.0),
                      universal_floor=floor, mobilisation_max_growth=0.5,
                      continuity_max_fall=0.2, discount_rate=0.035,
                      commissioning=on(**commissioning))


@pytest.mark.parametrize("settings", [
    dict(), dict(min_contract_gbp=2000.0), dict(min_contract_gbp=2000.0, merge=False),
    dict(wte_increment={"nurse": 0.5}), dict(min_contract_gbp=4000.0, mip_rel_gap=0.0)])
def test_the_plan_never_beats_the_lp_and_passes_every_check(settings):
    inputs = toy_model(**settings)
    plan = solved(inputs)
    lp = solved(without_commissioning(inputs))
    assert plan.status == "optimal" and lp.status == "optimal"
    assert plan.objective <= lp.objective + 1e-6 * abs(lp.objective)
    assert plan.solution.mip["gap"] <= inputs.policy.commissioning.mip_rel_gap + 1e-9
    checks = verify(plan.detail, plan.inputs, plan.objective, plan.shortfalls, plan.contracts)
    assert checks.ok, str(checks)
    small = running(plan)
    assert (small["people_reached"] >= small["minimum_people"] - 1e-6).all()


def test_with_every_commissioning_setting_off_the_plan_is_the_lps():
    """No minimum size, no set-up cost, no minimum contract, no posts: nothing to let, the same
    LP, the same answer to the last digit."""
    plain = [dict(r, min_size=None, min_size_unit=None, min_size_basis=None,
                  setup_cost_gbp=None, setup_cost_basis=None) for r in TOY_IVS]
    inputs = toy_inputs(TOY_PCNS, plain, years=YEARS, budget_gbp=(9000.0, 14000.0, 16000.0),
                        universal_floor=0.05, commissioning=on())
    plan, lp = solved(inputs), solved(without_commissioning(inputs))
    assert not plan.lp.is_mip
    assert plan.objective == lp.objective
    pd.testing.assert_frame_equal(plan.detail, lp.detail)


def test_integer_posts_hire_whole_increments_and_pay_for_idle_wte():
    """A place service needing 2 nurse WTE per 1,000 people, nurses hired in posts of 0.5 WTE
    at £40,000 a WTE: 100 people need 0.2 WTE, so a 0.5 WTE post is hired and its 0.3 WTE idle
    is paid (£12,000)."""
    ivs = [dict(service("s", 10, 0.01, level="place"), wte_per_1000_nurse=2.0)]
    inputs = toy_inputs(two_pcns(), ivs, budget_gbp=(13_000.0,),
                        commissioning=on(wte_increment={"nurse": 0.5}))
    solver = Solver(inputs)
    solution = solver.solve()
    lp = solver.lp
    posts = lp.columns["posts_nurse"]
    idle = lp.columns["idle_wte_nurse"]
    assert solution.col_value[posts.start] == pytest.approx(1.0)
    assert solution.col_value[idle.start] == pytest.approx(0.3)
    # £13,000 less the idle £12,000 leaves £1,000: all 100 people at £10
    reach = lp.columns["reach"]
    assert solution.col_value[reach.start:reach.stop].sum() == pytest.approx(100)


# ---- the verifier on a broken plan -------------------------------------------------------------


def test_the_verifier_finds_each_commissioning_rule_broken():
    plan = solved(toy_model(min_contract_gbp=2000.0))
    table = plan.contracts
    g = reach_grid(plan.detail, plan.inputs)
    assert all(c.ok for c in commissioning_checks(table, g, plan.inputs))

    def failing(broken: pd.DataFrame) -> set[str]:
        return {c.rule for c in commissioning_checks(broken, g, plan.inputs) if not c.ok}

    small = table.copy()
    j = small.index[small["runs"]][0]
    small.loc[j, "people_reached"] = 0.5 * small.loc[j, "minimum_people"]
    assert "commissioning: every running contract at least its minimum size" in failing(small)
    stopped = table.copy()
    stopped.loc[j, "runs"] = False
    assert "commissioning: no one reached by a contract that does not run" in failing(stopped)
    free = table.copy()
    free["setup_charged_gbp"] = 0.0
    assert "commissioning: set-up costs charged in the years contracts start" in failing(free)


def test_the_verifier_counts_set_up_costs_against_the_budget():
    """A plan whose spend fits the budget but not with the set-up costs it owes fails."""
    plan = solved(toy_model())
    budget_row = plan.constraints[plan.constraints["constraint"] == "budget_limit"]
    assert (budget_row["activity"] <= budget_row["upper"] + 1e-6).all()
    table = plan.contracts
    assert table.loc[table["runs"], "intervention_id"].eq("f_team").any(), \
        "the toy's team service (set-up £1,500) should run"
    spend = plan.detail.groupby("year")["spend_gbp"].sum().reindex(list(YEARS))
    inputs = plan.inputs.with_policy(budget_gbp=tuple(float(s) + 1.0 for s in spend))

    def budget_check(contracts):
        checks = verify(plan.detail, inputs, None, plan.shortfalls, contracts).checks
        return next(c for c in checks if c.rule.startswith("budget_limit"))

    assert budget_check(None).ok  # the spend alone fits
    assert not budget_check(table).ok  # with the set-up costs it owes, it does not


# ---- the model file ----------------------------------------------------------------------------


def test_bad_commissioning_settings_are_listed_in_words(tmp_path):
    text = DLN_MODEL.read_text().replace(
        "min_contract_gbp = 10000", "min_contract_gbp = -5\nwte_increment = { nurses = 0.1, "
        "care_coordinator = 0 }").replace('setup_not_charged = ["mh_support_teams"]',
                                          'setup_not_charged = ["mhst"]').replace(
        "merge = true", 'merge = "yes"').replace('data = "../data"',
                                                 f'data = "{REPO / "data"}"')
    path = tmp_path / "model.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_model(path)
    words = caught.value.report()
    assert "'commissioning.min_contract_gbp' is below 0" in words
    assert "'commissioning.wte_increment.care_coordinator' must be more than 0" in words
    assert "the staff group 'nurses' is not in the staff groups table" in words
    assert "the intervention 'mhst' is not in the interventions table" in words
    assert "'commissioning.merge' must be true or false" in words


def test_commissioning_needs_the_delivery_level_column():
    ivs = [intervention_row("s", "frailty", "core", 10, 0.01)]
    with pytest.raises(InputError) as caught:
        toy_inputs(two_pcns(), ivs, commissioning=on())
    assert "has no delivery_level column" in caught.value.report()


# ---- the DLN scenario and a second solver ------------------------------------------------------


@pytest.mark.slow
def test_the_dln_commissionable_scenario_lets_no_contract_below_its_minimum():
    plan = solved(load_model(DLN_MODEL, "commissionable"))
    assert plan.status == "optimal"
    table = running(plan)
    assert (table["people_reached"] >= table["minimum_people"] - 1e-6).all()
    assert (table["spend_gbp"] >= 10_000 - 1e-3).all()
    checks = verify(plan.detail, plan.inputs, plan.objective, plan.shortfalls, plan.contracts)
    assert checks.ok, str(checks)
    assert plan.solution.mip["gap_met"]
    assert plan.commissioning["words"]


def cbc_mip(solver: Solver, tmp_path: Path, gap: float = 0.0) -> float:
    """CBC's optimum of the exported MIP (to the relative gap `gap`)."""
    path = tmp_path / "model.mps"
    solver.write(path)
    # PuLP's reader knows LO and UP but not HiGHS's integer bounds LI and UI (the same bounds;
    # the MARKER lines already make the columns whole)
    lines = [(" LO " + line[4:] if line.startswith(" LI ") else " UP " + line[4:]
              if line.startswith(" UI ") else line) for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")
    problem = read_mps_into_pulp(path, tmp_path)
    whole = [v for v in problem.variables() if v.cat == pulp.LpInteger]
    assert len(whole) == int(solver.lp.integrality().sum())  # the file keeps them whole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cbc = pulp.PULP_CBC_CMD(msg=False, gapRel=gap)
    assert pulp.LpStatus[problem.solve(cbc)] == "Optimal"
    return float(pulp.value(problem.objective))


@pytest.mark.parametrize("settings", [dict(min_contract_gbp=2000.0),
                                      dict(min_contract_gbp=4000.0, merge=False),
                                      dict(wte_increment={"nurse": 0.5})])
def test_cbc_agrees_with_highs_on_the_mip_within_the_gap(settings, tmp_path):
    inputs = toy_model(floor=0.0, **settings, mip_rel_gap=0.0)
    solver = Solver(inputs)
    highs = solver.solve()
    assert highs.optimal
    cbc = cbc_mip(solver, tmp_path)
    assert cbc == pytest.approx(highs.objective, rel=1e-6, abs=1e-4)


@pytest.mark.slow
def test_cbc_agrees_with_highs_on_the_dln_mip_within_the_gap(tmp_path):
    """DLN five years with commissioning on, every rule hard and no universal floor (with the
    floor, the hard MIP has no plan: no eating-disorder team can start at its minimum in a
    first year): CBC's optimum of the exported MIP and HiGHS's agree within HiGHS's gap."""
    inputs = load_model(DLN_MODEL, "commissionable").with_policy(universal_floor=0.0)
    solver = Solver(inputs)
    highs = solver.solve()
    assert highs.optimal and highs.mip["gap_met"]
    gap = inputs.policy.commissioning.mip_rel_gap
    cbc = cbc_mip(solver, tmp_path, gap)  # both within the gap of the same optimum
    assert abs(cbc - highs.objective) <= gap * abs(highs.objective) + 1e-6
