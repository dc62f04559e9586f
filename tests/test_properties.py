"""Invariants that hold for every model, checked on small random ones (hypothesis).

Each example is a toy model (tests/toy.py) of 2-4 PCNs in one or two ICBs, 2-4 interventions
over up to three priorities, 1-2 response tranches and 1-2 years, with random costs, effects,
need, budget, workforce, floors, uplifts, gradient and dynamics. Draws the rules make
infeasible are skipped with `assume` (feasibility is part of what some properties check).

- more budget never lowers the optimum;
- a stronger need gradient, or a higher universal floor, never raises it (nor makes an
  infeasible model feasible);
- every cost x c is the same model as the budget / c: the same people reached are optimal,
  and the objectives differ by exactly the tie-break term;
- the budget row's shadow price is the objective's rate of change in the budget;
- the independent verifier passes on every optimal solve;
- a warm re-solve after a policy change gives the cold solve's optimum;
- holding the cross-year rows back until they are broken gives the whole LP's optimum, cold
  and warm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from optimiser import Allocation, Solver, solve, verify
from optimiser.formulation import TIE_BREAK_PER_GBP
from optimiser.solve import SolveOptions
from tests.toy import intervention_row, pcn_row, toy_inputs

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
HEAVY = settings(PROPERTY, max_examples=15)  # several solves and tables per example
REL_TOL = 1e-6
YEARS = ("2026/27", "2027/28")


# ---- random toy models ----------------------------------------------------------------------


@dataclass(frozen=True)
class ToyModel:
    """The tables and policy of a random toy model; `inputs()` builds and validates it."""

    pcns: list[dict]
    interventions: list[dict]
    higher_need: dict[str, tuple[str, ...]]
    policy: dict = field(default_factory=dict)

    def inputs(self, cost_scale: float = 1.0, **changes):
        interventions = [
            {**row, **{c: row[c] * cost_scale for c in ("cost_gbp", "cost_gbp_low",
                                                       "cost_gbp_high")}}
            for row in self.interventions
        ]
        return toy_inputs(self.pcns, interventions, self.higher_need, **{**self.policy, **changes})


def shares(draw, low: float, high: float) -> float:
    """A share rounded to 3 places: no 1e-300s, and shrinks to readable numbers."""
    return round(draw(st.floats(low, high, allow_nan=False)), 3)


@st.composite
def toy_models(draw) -> ToyModel:
    n_pcn = draw(st.integers(2, 4))
    n_iv = draw(st.integers(2, 4))
    n_years = draw(st.integers(1, 2))
    n_tranches = draw(st.integers(1, 2))

    pcns = []
    for j in range(n_pcn):
        pcns.append(pcn_row(
            f"P{j}", draw(st.sampled_from(["X", "Y"])), draw(st.integers(500, 5000)),
            draw(st.integers(1, 5)),
            need_overall_eng=shares(draw, 0.6, 1.6), need_ga_eng=shares(draw, 0.6, 1.6)))

    priorities = ["frailty", "end_of_life", "multimorbidity"]
    interventions, seen = [], set()
    for j in range(n_iv):
        r = draw(st.sampled_from(priorities))
        tier = "core" if r not in seen else draw(st.sampled_from(["core", "enhanced"]))
        seen.add(r)
        nel = shares(draw, 0.0, 0.05)
        interventions.append(intervention_row(
            f"i{j}", r, tier, cost=shares(draw, 5.0, 60.0), qaly=shares(draw, 0.001, 0.08),
            share=shares(draw, 0.1, 1.0), wte=shares(draw, 0.0, 3.0),
            nel_avoided=nel, nel_avoided_low=nel, nel_avoided_high=nel))

    # budgets as a share of the most the model could spend in a year
    eligible = np.array([[p["population"] * iv["cohort_share"] for iv in interventions]
                         for p in pcns])
    cost = np.array([iv["cost_gbp"] for iv in interventions])
    most = float((eligible * cost).sum())
    budget = tuple(round(most * shares(draw, 0.05, 1.2), 2) for _ in range(n_years))

    icbs = sorted({p["icb_code"] for p in pcns})
    workforce = {}
    if draw(st.booleans()):
        wte = np.array([iv["wte_per_1000_nurse"] for iv in interventions]) / 1000
        for c in icbs:
            in_c = np.array([p["icb_code"] == c for p in pcns])
            need = float((eligible[in_c] * wte).sum())
            workforce[c] = round(need * shares(draw, 0.1, 1.5), 4)

    flags = {}
    for p in pcns:
        chosen = tuple(r for r in sorted(seen) if draw(st.booleans()))
        if chosen:
            flags[p["pcn_code"]] = chosen

    growth = shares(draw, 0.3, 1.0)
    if n_tranches == 1:
        tranche, marginal = (1.0,), (1.0,)
    else:
        first = shares(draw, 0.3, 0.7)
        tranche, marginal = (first, round(1 - first, 3)), (1.0, shares(draw, 0.3, 1.0))
    policy = dict(
        years=YEARS[:n_years], budget_gbp=budget,
        discount_rate=shares(draw, 0.0, 0.05),
        available_wte={"nurse": workforce} if workforce else {},
        universal_floor=draw(st.sampled_from([0.0, shares(draw, 0.0, min(0.3, growth))])),
        enhanced_uplift=draw(st.sampled_from([0.0, shares(draw, 0.0, 0.5)])),
        need_gradient=draw(st.sampled_from([0.0, shares(draw, 0.0, 0.9)])),
        quintile_weight=tuple(shares(draw, 0.5, 1.5) for _ in range(5)),
        tranche_shares=tranche, marginal_effect=marginal,
        mobilisation_max_growth=growth, continuity_max_fall=shares(draw, 0.1, 1.0),
        invest_to_save_share=draw(st.sampled_from([0.0, 0.0, shares(draw, 0.0, 0.5)])),
    )
    return ToyModel(pcns, interventions, flags, policy)


def optimum(inputs) -> float | None:
    """The optimal objective, or None when the rules cannot all be met."""
    _, solution = solve(inputs)
    assert solution.status in ("optimal", "infeasible"), solution.solver_status
    return solution.objective if solution.optimal else None


def close(a: float, b: float, rel: float = REL_TOL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


def at_most(a: float, b: float) -> bool:
    """a <= b up to the solver's tolerance."""
    return a <= b + REL_TOL * max(1.0, abs(b))


# ---- monotonicity ---------------------------------------------------------------------------


@PROPERTY
@given(toy_models(), st.lists(st.floats(1.0, 2.0), min_size=2, max_size=2))
def test_more_budget_never_lowers_the_optimum(model, factors):
    inputs = model.inputs()
    base = optimum(inputs)
    assume(base is not None)
    more = tuple(b * f for b, f in zip(inputs.policy.budget_gbp, factors, strict=False))
    richer = optimum(inputs.with_policy(budget_gbp=more))
    assert richer is not None, "more budget made a feasible model infeasible"
    assert at_most(base, richer)


@PROPERTY
@given(toy_models(), st.floats(0.0, 0.9), st.floats(0.0, 0.1))
def test_a_stronger_need_gradient_never_raises_the_optimum(model, weaker, step):
    inputs = model.inputs()
    low = optimum(inputs.with_policy(need_gradient=weaker))
    high = optimum(inputs.with_policy(need_gradient=min(weaker + step, 1.0)))
    if low is None:
        assert high is None, "a stronger gradient made an infeasible model feasible"
    elif high is not None:
        assert at_most(high, low)


@PROPERTY
@given(toy_models(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_a_higher_universal_floor_never_raises_the_optimum(model, a, b):
    inputs = model.inputs()
    growth = inputs.policy.mobilisation_max_growth  # the floor may not exceed it
    lower, higher = sorted((round(a * growth, 4), round(b * growth, 4)))
    low = optimum(inputs.with_policy(universal_floor=lower))
    high = optimum(inputs.with_policy(universal_floor=higher))
    if low is None:
        assert high is None, "a higher floor made an infeasible model feasible"
    elif high is not None:
        assert at_most(high, low)


# ---- scale ----------------------------------------------------------------------------------


@HEAVY
@given(toy_models(), st.sampled_from([0.25, 0.5, 2.0, 3.7, 10.0]))
def test_scaling_every_cost_is_scaling_the_budget_the_other_way(model, c):
    r"""Costs x c with budget B is the model with budget B / c: every £ row is homogeneous.

    Objectives: V(x) - eps c C(x) and V(x) - eps C(x), with V the weighted value and C the
    spend at the original costs, so V = objective + eps x (spend in that model's own £).
    Invest-to-save returns £ of avoided activity, which does not scale, so it is off here.
    """
    model = ToyModel(model.pcns, model.interventions, model.higher_need,
                     {**model.policy, "invest_to_save_share": 0.0})
    costly = model.inputs(cost_scale=c)
    budget = tuple(b / c for b in costly.policy.budget_gbp)
    cheap = model.inputs(budget_gbp=budget)

    solver_a, a = solve(costly)
    solver_b, b = solve(cheap)
    assert a.status == b.status
    assume(a.optimal)
    alloc_a = Allocation(costly, solver_a.lp, a)
    alloc_b = Allocation(cheap, solver_b.lp, b)
    value_a = a.objective + TIE_BREAK_PER_GBP * alloc_a.detail["spend_gbp"].sum()
    value_b = b.objective + TIE_BREAK_PER_GBP * alloc_b.detail["spend_gbp"].sum()
    assert close(value_a, value_b), (value_a, value_b)
    assert close(alloc_a.detail["spend_gbp"].sum(), c * alloc_b.detail["spend_gbp"].sum(),
                 rel=1e-5)

    # the same people reached: model A's people are feasible and optimal in model B
    # (compared this way because tied optima may reach different people at the same value)
    people = alloc_a.detail[["year", "pcn_code", "intervention_id", "people_reached"]].copy()
    people["spend_gbp"] = people["people_reached"] * people["intervention_id"].map(
        cheap.interventions["cost_gbp"])
    report = verify(people, cheap, b.objective)
    assert report.ok, str(report)


# ---- shadow prices ---------------------------------------------------------------------------


def basis(solver: Solver) -> tuple:
    b = solver.highs.getBasis()
    return tuple(map(int, b.col_status)), tuple(map(int, b.row_status))


@HEAVY
@given(toy_models(), st.integers(0, 1))
def test_the_budget_shadow_price_is_the_rate_of_change_of_the_optimum(model, year):
    r"""A one-sided difference: (z(B + h) - z(B)) / h with h = 1e-4 B_t.

    The optimum z is concave in the budget, so the right-hand difference never exceeds the
    dual (a subgradient); where the optimal basis does not change between B and B + h, the
    two are equal.
    """
    inputs = model.inputs()
    year = min(year, len(inputs.years) - 1)
    solver = Solver(inputs)
    solution = solver.solve()
    assume(solution.optimal)
    before = basis(solver)
    rows = Allocation(inputs, solver.lp, solution).constraints
    price = float(rows.loc[(rows["constraint"] == "budget_limit")
                           & (rows["what"] == inputs.years[year]), "shadow_price"].iloc[0])

    budget = list(inputs.policy.budget_gbp)
    h = 1e-4 * budget[year]
    assume(h > 0)
    budget[year] += h
    richer = inputs.with_policy(budget_gbp=tuple(budget))
    difference = (optimum(richer) - solution.objective) / h
    noise = 1e-9 * abs(solution.objective) / h
    note(f"price {price}, difference {difference}")
    assert difference <= price + REL_TOL * max(1.0, abs(price)) + noise

    solver.update(richer)
    assert solver.solve().optimal
    same_basis = basis(solver) == before
    event(f"budget {'binding' if price > 1e-9 else 'slack'}, basis "
          f"{'unchanged' if same_basis else 'changed'}")
    if same_basis:
        assert abs(difference - price) <= REL_TOL * max(1.0, abs(price)) + noise


# ---- the verifier and warm re-solves ----------------------------------------------------------


@PROPERTY
@given(toy_models())
def test_the_independent_verifier_passes_on_every_optimal_solve(model):
    inputs = model.inputs()
    solver, solution = solve(inputs)
    assume(solution.optimal)
    report = verify(Allocation(inputs, solver.lp, solution).detail, inputs, solution.objective)
    assert report.ok, str(report)


@st.composite
def policy_changes(draw, inputs) -> dict:
    """One or two changes a user makes in the app between solves."""
    p = inputs.policy
    options = {
        "budget_gbp": tuple(b * shares(draw, 0.5, 1.5) for b in p.budget_gbp),
        "need_gradient": shares(draw, 0.0, 0.9),
        "universal_floor": round(shares(draw, 0.0, 0.3) * p.mobilisation_max_growth, 4),
        "enhanced_uplift": shares(draw, 0.0, 0.5),
        "qaly_gbp": shares(draw, 500.0, 3000.0),
        "quintile_weight": tuple(shares(draw, 0.5, 1.5) for _ in range(5)),
        "continuity_max_fall": shares(draw, 0.1, 1.0),
        "mobilisation_max_growth": shares(draw, 0.3, 1.0),
        "discount_rate": shares(draw, 0.0, 0.05),
    }
    keys = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=2, unique=True))
    return {k: options[k] for k in keys}


def assert_warm_matches_cold(solver: Solver, inputs, data) -> None:
    """Change the policy as a user would, re-solve warm, and compare with a cold solve."""
    changed = inputs.with_policy(**data.draw(policy_changes(inputs), label="changes"))
    how = solver.update(changed)
    warm = solver.solve()
    _, cold = solve(changed)
    note(f"update: {how}; warm {warm.objective}, cold {cold.objective}")
    assert_same_optimum(warm, cold)


def assert_same_optimum(a, b) -> None:
    assert a.status == b.status
    if b.optimal:
        assert close(a.objective, b.objective)


@PROPERTY
@given(toy_models(), st.data())
def test_a_warm_resolve_matches_a_cold_solve(model, data):
    inputs = model.inputs()
    solver = Solver(inputs)
    solver.solve()
    assert_warm_matches_cold(solver, inputs, data)


@PROPERTY
@given(toy_models(), st.data())
def test_holding_back_the_cross_year_rows_gives_the_whole_lps_optimum(model, data):
    inputs = model.inputs()
    lazy = Solver(inputs, SolveOptions(cross_year_rows="lazy"))
    first = lazy.solve()
    _, whole = solve(inputs)
    event(f"{first.rounds} rounds")
    assert_same_optimum(first, whole)
    if whole.optimal:
        report = verify(Allocation(inputs, lazy.lp, first).detail, inputs, first.objective)
        assert report.ok, str(report)
    assert_warm_matches_cold(lazy, inputs, data)
