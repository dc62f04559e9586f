"""A commissionable plan: the mixed-integer program solved by HiGHS, proved within a gap.

The strategy of an LP with whole-number columns (`LinearProgram.is_mip`: the contracts'
run[t,j] and the posts of `[commissioning]`, optimiser/commissioning.py). One solve:

1. The LP relaxation (runs and posts fractional), held by `HeldLP` like the whole LP and
   re-solved warm after a change: its optimum bounds every commissionable plan from above.
2. Repair (`repair.repair`): the relaxation's plan rounded to contracts that can be let, the
   money moved by the LP with those fixed. A feasible plan in about the time of two LP
   solves, given to HiGHS as its first incumbent (`Highs.setSolution`).
3. The MIP, by HiGHS's branch and cut, until its proven gap (best bound - plan) / plan is at
   most `[commissioning] mip_rel_gap` (0.1% by default) or the time limit. When the time runs
   out the best plan found is the answer (never "no plan" when repair found one), with the gap
   it is proven within; the Solution says so (`mip["gap_met"]`).
4. The LP with every whole-number column fixed at the plan's values, solved from the
   relaxation's basis: the plan's rows' values and shadow prices. A MIP has no shadow prices
   of its own; these say what one more £ or WTE is worth *with these contracts let as they
   are*, and the relaxation's objective says what letting contracts costs at most.

`Solution.mip` carries the facts the reports need: the relaxation's and the repaired plan's
objectives, the bound, the gap asked and reached, the seconds to the first plan and in all.
The status is "optimal" when HiGHS proves the gap asked, and also when the time limit ran out
with a plan in hand (`mip["gap_met"]` False, the gap reached stated in `solver_status` and in
every report): the plan is shown, never "no plan" when one was found.
"""

from __future__ import annotations

import dataclasses
import time

import highspy
import numpy as np

from ..highs import DUAL, Runs, new_highs, to_highs_lp
from ..inputs import ModelInputs
from ..lp import LinearProgram
from .base import Solution, SolveOptions
from .held_lp import HeldLP
from .repair import repair

FEASIBLE = 2  # HiGHS's primal_solution_status of a feasible point


class MixedIntegerPlan:
    """The MIP of `lp` (module docstring), with its relaxation held for warm re-solves."""

    waiting_rows = 0

    def __init__(self, inputs: ModelInputs, lp: LinearProgram, options: SolveOptions):
        self.options = options
        self.gap = float(inputs.policy.commissioning.mip_rel_gap)
        self.held = HeldLP(lp, options)
        self.lp, self.highs = lp, self.held.highs
        self._solved_once = False
        self._last_plan: np.ndarray | None = None  # the last solve's plan: a start for the next
        # asked by HiGHS's branch and cut while set: True stops it (a cancel in the app; set by
        # ordered.OrderedSolver._watched, which watches the relaxation's simplex itself)
        self.interrupt = None

    def update(self, inputs: ModelInputs, lp: LinearProgram) -> bool:
        if self.held.update(lp) is None:
            return False
        self.lp = lp
        self.gap = float(inputs.policy.commissioning.mip_rel_gap)
        return True

    def change(self, arrays: dict, simplex: str = "primal") -> None:
        """New costs and column bounds (the ordered stages): the next solve starts afresh."""
        self.held.change(arrays)

    def start_from(self, col_status, row_status) -> bool:
        return False  # a MIP starts from a plan (repair), not a basis

    def solve(self, deadline: float) -> Solution:
        began = time.perf_counter()
        warm = self._solved_once
        relax_runs = Runs()
        relax_runs.run(self.highs, self.options, DUAL, deadline)
        self._solved_once = True
        relaxed = self.held.solution(relax_runs, warm)
        if not relaxed.optimal:
            return relaxed
        fixed = repair(self.held, self.lp, relaxed.col_value, relaxed.row_value, self.options,
                       deadline)
        first_plan = time.perf_counter() - began if fixed is not None else None
        start = fixed.col_value if fixed is not None else self._last_plan
        mip, runs = self._branch_and_cut(start, deadline)
        info = mip.getInfo()
        if info.primal_solution_status == FEASIBLE:
            values = np.asarray(mip.getSolution().col_value)
            bound = float(info.mip_dual_bound)
            found_by = "branch and cut"
        elif fixed is not None:
            values, bound, found_by = fixed.col_value, relaxed.objective, "repair"
        else:
            status = runs.status if runs.status != "optimal" else "error"
            return dataclasses.replace(relaxed, status=status,
                                       solver_status=runs.solver_status, objective=None,
                                       col_value=np.zeros(0), row_value=np.zeros(0),
                                       row_dual=np.zeros(0), col_dual=np.zeros(0))
        plan, plan_runs = self._fixed_at(values, deadline)
        if not plan.optimal:  # HiGHS's plan fails the LP's tolerances when fixed: say so
            return dataclasses.replace(plan, solver_status="the plan found did not solve "
                                       "again with its contracts fixed: " + plan.solver_status)
        self._last_plan = plan.col_value
        objective = float(plan.objective)
        gap = max(bound - objective, 0.0) / max(abs(objective), 1.0)
        facts = {
            "relaxation_objective_gbp": float(relaxed.objective),
            "repaired_objective_gbp": None if fixed is None else fixed.objective,
            "repair": None if fixed is None else fixed.how,
            "bound_gbp": bound,
            "gap": gap,
            "gap_asked": self.gap,
            "gap_met": runs.status == "optimal" or gap <= self.gap + 1e-12,
            "found_by": found_by,
            "mip_status": runs.solver_status,
            "nodes": int(max(info.mip_node_count, 0)),
            "first_plan_seconds": first_plan,
            "seconds": time.perf_counter() - began,
            "integer_columns": int(self.lp.integrality().sum()),
        }
        budget = self.lp.rows.get("budget_limit")
        if budget is not None:  # the relaxation's prices of £1 more budget, year by year
            facts["relaxation_budget_price_gbp"] = [
                float(v) for v in relaxed.row_dual[budget.start:budget.stop]]
        status = "optimal" if facts["gap_met"] or runs.status == "time_limit" else runs.status
        words = (f"{runs.solver_status}: plan proven within {gap:.3%} of the best possible "
                 f"(asked {self.gap:.3%})")
        return dataclasses.replace(
            plan, status=status, solver_status=words, objective=objective,
            iterations=relaxed.iterations + runs.iterations + plan_runs.iterations
            + (fixed.iterations if fixed else 0),
            solve_seconds=time.perf_counter() - began, warm=warm,
            rounds=relax_runs.count + runs.count + plan_runs.count, mip=facts)

    def _branch_and_cut(self, start: np.ndarray | None,
                        deadline: float) -> tuple[highspy.Highs, Runs]:
        """HiGHS's MIP solver on the held model with its whole-number columns marked,
        started from the repaired plan or, when repair found none, the last solve's plan (an
        ordered stage's plan meets the next stage's rules: HiGHS checks, and ignores a start
        that does not)."""
        mip = new_highs(self.options)
        mip.passModel(to_highs_lp(self.lp, self.held.held, self.held.rows))
        integer = np.nonzero(self.lp.integrality())[0]
        mip.changeColsIntegrality(len(integer), integer.astype(np.int32),
                                  np.full(len(integer), highspy.HighsVarType.kInteger))
        mip.setOptionValue("mip_rel_gap", self.gap)
        mip.setOptionValue("presolve", "on")
        if start is not None:
            n = self.lp.num_col
            mip.setSolution(n, np.arange(n, dtype=np.int32), start)
        ask = self.interrupt
        if ask is not None:
            mip.cbMipInterrupt.subscribe(lambda event: event.interrupt(ask()))
        runs = Runs()
        runs.run(mip, self.options, DUAL, deadline)
        return mip, runs

    def _fixed_at(self, values: np.ndarray, deadline: float) -> tuple[Solution, Runs]:
        """The held LP with the whole-number columns fixed at `values` (rounded), solved from
        the relaxation's basis; the held model is given back as it was."""
        h, held = self.highs, self.held
        cols = np.nonzero(self.lp.integrality())[0].astype(np.int32)
        lower, upper = held.held["col_lower"][cols].copy(), held.held["col_upper"][cols].copy()
        at = np.clip(np.round(values[cols]), lower, upper)
        basis = h.getBasis()
        runs = Runs()
        try:
            h.changeColsBounds(len(cols), cols, at, at)
            # a little time even past the deadline: the plan exists, only its prices are asked
            runs.run(h, self.options, DUAL, max(deadline, time.perf_counter() + 30.0))
            solution = held.solution(runs, True)
        finally:
            h.changeColsBounds(len(cols), cols, lower, upper)
            if basis.valid:
                h.setBasis(basis)
        return solution, runs
