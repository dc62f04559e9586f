"""The Solver face: a warm re-solve that HiGHS ends without an answer is retried cold."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimiser import Allocation, Solver, load_model
from optimiser.highs import Runs
from tests.toy import intervention_row, pcn_row, toy_inputs

IVS = [intervention_row("a", "frailty", "core", 10, 0.5),
       intervention_row("b", "frailty", "enhanced", 5, 0.1)]
PCNS = [pcn_row("A", "X", 1000, 1), pcn_row("B", "X", 1000, 5)]


def highs_says(monkeypatch, status_of_run: dict[int, tuple[str, str]]) -> list[str]:
    """A test double of HiGHS's status: run n (from 1) ends with the (our word, HiGHS's
    words) given for it, whatever HiGHS found; returns the statuses HiGHS really gave."""
    real, seen = Runs.run, []

    def run(self, h, options, simplex, deadline):
        seen.append(real(self, h, options, simplex, deadline))
        if len(seen) in status_of_run:
            self.status, self.solver_status = status_of_run[len(seen)]
        return self.status

    monkeypatch.setattr(Runs, "run", run)
    return seen


def test_a_warm_resolve_ending_in_error_is_rebuilt_and_solved_cold(monkeypatch):
    inputs = toy_inputs(PCNS, IVS, budget_gbp=(25_000.0,))
    changed = inputs.with_policy(budget_gbp=(12_000.0,), need_gradient=0.8)
    cold = Solver(changed).solve()
    seen = highs_says(monkeypatch, {2: ("error", "Unknown")})  # run 2: the warm re-solve
    solver = Solver(inputs)
    first = solver.solve()
    assert first.optimal and not first.retried_cold
    assert solver.update(changed) == "warm"
    again = solver.solve()
    assert seen == ["optimal", "optimal", "optimal"]  # cold, warm (said error), cold again
    assert again.optimal and again.retried_cold and not again.warm
    assert again.objective == pytest.approx(cold.objective, rel=1e-9)
    assert again.iterations >= cold.iterations and solver.rebuilds == 1
    # the rebuilt model re-solves warm after the next change
    assert solver.update(inputs) == "warm"
    after = solver.solve()
    assert after.warm and not after.retried_cold
    assert after.objective == pytest.approx(first.objective, rel=1e-9)


def test_only_a_warm_solve_without_a_definitive_status_is_retried(monkeypatch):
    inputs = toy_inputs(PCNS, IVS, budget_gbp=(25_000.0,))
    changed = inputs.with_policy(budget_gbp=(12_000.0,))
    highs_says(monkeypatch, {1: ("error", "Unknown"), 3: ("time_limit", "Time limit reached"),
                             4: ("error", "Unknown"), 5: ("error", "Unknown")})
    solver = Solver(inputs)
    cold = solver.solve()  # run 1: a cold solve is not retried (it would fail the same way)
    assert cold.status == "error" and not cold.retried_cold and solver.rebuilds == 0
    solver.update(changed)
    assert solver.solve().optimal  # run 2
    solver.update(inputs)
    hit = solver.solve()  # run 3: a time limit is an answer the user is told
    assert hit.status == "time_limit" and not hit.retried_cold and solver.rebuilds == 0
    solver.update(changed)
    failed = solver.solve()  # runs 4 and 5: warm, then cold, both without an answer
    assert failed.status == "error" and failed.solver_status == "Unknown"
    assert failed.retried_cold and solver.rebuilds == 1


def test_dln_equity_dial_and_uplift_warm_gives_the_cold_answer():
    """DLN base, then the equity dial at 0.9 and the enhanced uplift at 200% at once: HiGHS
    (highspy 1.15) ends the warm re-solve "Unknown" where a cold solve says infeasible. The
    user is shown the cold answer, and run.json says it was retried. (Which setting trips
    HiGHS depends on the data: with the CC3 rows, the dial at 1.0 is found infeasible warm
    directly, and 0.9 is the one of 0.9-1.0 x 100-400% that still ends "Unknown"; with enhanced
    support only where flagged, the base is found infeasible warm too, so the LP of before that
    rule, the enhanced_anywhere scenario, is the one that trips HiGHS.)"""
    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml",
                        "enhanced_anywhere")
    solver = Solver(inputs)
    first = solver.solve()
    assert first.optimal and Allocation(inputs, solver.lp, first).manifest["retried_cold"] is False
    changed = inputs.with_policy(need_gradient=0.9, enhanced_uplift=2.0)
    assert solver.update(changed) == "warm"
    again = solver.solve()
    assert again.status == Solver(changed).solve().status == "infeasible"
    assert again.retried_cold and not again.warm
    manifest = Allocation(changed, solver.lp, again).manifest
    assert manifest["retried_cold"] is True and manifest["warm_start"] is False


def test_costs_and_bounds_change_in_place_for_a_warm_stage():
    """What a lexicographic strategy does between stages (strategies.base.Strategy): new
    costs and one more bound, pushed to the HiGHS model held, and a warm re-solve.

    The hand LP of test_lp: max 3x - y, x + y <= 10, 2x <= 6, -y <= -1 (x = 3, y = 1). Then
    max y with x >= 2: y = 8 and x = 2; the sum row is worth 1 and x's own bound -1.
    """
    import numpy as np

    from optimiser.highs import DUAL
    from optimiser.solve import SolveOptions
    from optimiser.strategies.held_lp import HeldLP
    from tests.test_lp import hand_lp

    options = SolveOptions()
    held = HeldLP(hand_lp(), options)
    runs = Runs()
    runs.run(held.highs, options, DUAL, float("inf"))
    first = held.solution(runs, warm=False)
    assert first.objective == pytest.approx(8.0) and first.col_value == pytest.approx([3, 1])
    stage = {**held.arrays, "col_cost": np.array([0.0, 1.0]),
             "col_lower": np.array([2.0, 0.0])}
    assert held.change(stage) == {"costs", "bounds"}
    runs = Runs()
    runs.run(held.highs, options, DUAL, float("inf"))
    second = held.solution(runs, warm=True)
    assert second.objective == pytest.approx(8.0) and second.col_value == pytest.approx([2, 8])
    assert second.row_value == pytest.approx([10.0, 4.0, -8.0])
    assert second.row_dual == pytest.approx([1.0, 0.0, 0.0])
    assert second.col_dual == pytest.approx([-1.0, 0.0])
    assert 0 < second.iterations <= 2  # from the first stage's basis


@pytest.mark.parametrize("change", ["budget", "weight", "both"])
def test_row_generation_re_solves_warm_to_the_cold_optimum(change):
    """DLN with its cross-year rows waiting: after a change the rows already added stay, the
    waiting ones are checked again, and the re-solve from the last basis reaches the optimum a
    cold solve of the changed model (every row held) reaches, every rule checked."""
    from optimiser.checks import verify
    from optimiser.solve import SolveOptions

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    solver = Solver(inputs, SolveOptions(cross_year_rows="lazy"))
    first = solver.solve()
    assert first.optimal and first.rounds > 1  # the cross-year rows were added in rounds
    held_before = solver.highs.getNumRow()
    p = inputs.policy
    changed = inputs
    if change in ("budget", "both"):
        changed = changed.with_policy(gbp_per_head=tuple(b * 1.05 for b in p.gbp_per_head))
    if change in ("weight", "both"):
        changed = changed.with_policy(qaly_gbp=p.qaly_gbp * 1.25)
    assert solver.update(changed) == "warm"
    assert solver.highs.getNumRow() == held_before  # the rows added so far are kept
    warm = solver.solve()
    cold = Solver(changed, SolveOptions(cross_year_rows="all")).solve()
    assert warm.optimal and warm.warm and cold.optimal
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    allocation = Allocation(changed, solver.lp, warm)
    assert verify(allocation.detail, changed, warm.objective, allocation.shortfalls).ok


def test_a_large_row_generation_model_is_rebuilt_after_a_change(monkeypatch):
    from optimiser.solve import SolveOptions
    from optimiser.strategies import rowgen

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    solver = Solver(inputs, SolveOptions(cross_year_rows="lazy"))
    solver.solve()
    monkeypatch.setattr(rowgen, "WARM_UP_TO_COLUMNS", 1000)
    monkeypatch.setattr(rowgen, "WARM_COSTS_UP_TO_COLUMNS", 1000)
    p = inputs.policy
    assert solver.update(inputs.with_policy(qaly_gbp=p.qaly_gbp * 1.1)) == "rebuilt"


def test_auto_picks_row_generation_by_size_and_only_when_rows_would_wait(monkeypatch):
    """From `LAZY_FROM_COLUMNS` a five-year model's cross-year rows wait; a one-year model
    (its growth rows are single entries, held as bounds) keeps the whole LP and its warm
    re-solves whatever its size."""
    import sys

    from optimiser.strategies.rowgen import RowGeneration
    from optimiser.strategies.whole import WholeLP

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    assert type(Solver(inputs).strategy) is WholeLP  # 44,385 columns: below the threshold
    # ... and when its rules bend (51,234 columns with the shortfalls' own): the same plan
    from optimiser.ordered import OrderedSolver

    bent = OrderedSolver(inputs.with_policy(need_gradient=1.0))
    assert bent.solve().optimal and bent.soft is not None
    assert bent.soft.lp.num_col > 50_000 and type(bent.soft.strategy) is WholeLP
    monkeypatch.setattr(sys.modules["optimiser.solve"], "LAZY_FROM_COLUMNS", 1_000)
    assert type(Solver(inputs).strategy) is RowGeneration
    one_year = inputs.with_policy(years=inputs.years[:1],
                                  gbp_per_head=inputs.policy.gbp_per_head[:1])
    assert type(Solver(one_year).strategy) is WholeLP
