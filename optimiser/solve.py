"""The only code that talks to a solver (HiGHS through highspy): the face of the strategies.

`Solver(inputs, options)` formulates the LP once and hands it to a strategy, which keeps the
HiGHS model. `update(new_inputs)` re-runs the pure formulation (only the objective, when
only weights changed) and offers it to the strategy, which applies it in place when it can
('warm': the next solve starts from the last basis) or declines ('rebuilt': a new strategy,
solved cold). `solve()` gives a `Solution` with a value and a dual for every column and row
of the LP; `write(path)` exports the LP with its names.

The strategies, each a module in `optimiser/strategies/`, chosen here by the model's size:

- `whole.WholeLP`: every row in HiGHS from the start; changes in place, warm re-solves (the
  default below `LAZY_FROM_COLUMNS`; `SolveOptions(cross_year_rows="all")`).
- `mip.MixedIntegerPlan`: a model with whole-number columns (`[commissioning]`: contracts
  that run or not, posts hired whole): the LP relaxation, a repaired plan as the first
  incumbent, HiGHS's branch and cut to the gap asked, the prices of the plan's own LP.
- `rowgen.RowGeneration`: the cross-year rows wait until the optimum breaks them, starting
  from the years solved apart (`years_apart`); changed in place and re-solved warm up to the
  sizes where that was measured faster, rebuilt above them. England's five-year
  LP solves this way in under a minute; as one whole LP it had not finished in ten.

A strategy is a class with the `strategies.base.Strategy` interface: built from the inputs,
their LP and the options; `update(inputs, lp) -> bool` (applied in place, or declined);
`solve(deadline) -> Solution`; and its `lp`, `highs` and `waiting_rows`. Both build on
`strategies.held_lp.HeldLP` (the LP as HiGHS holds it: single-entry rows as column bounds,
changes of costs and bounds pushed in place, every row's value and dual given back). A new
strategy (lexicographic stages for ordered soft rules, a mixed-integer plan) is a new module
with that interface and one more case in `strategy_for`; `Strategy`'s docstring says how
those two would use it.

Solver outcomes are data: `Solution.status` is one of optimal, infeasible, unbounded,
time_limit or error, never an exception. A warm re-solve that HiGHS ends with anything else
(it said "error" where a cold solve of the same model said "infeasible": DLN, equity dial
1.0 and enhanced uplift 200%) is not shown: the model is built again and solved cold within
the same time limit, and the Solution says so (`retried_cold`).
"""

from __future__ import annotations

import dataclasses
import time

import highspy
import numpy as np

from .formulation import formulate, reformulate
from .highs import DEVEX, basis_of, highs_model, new_highs, status_arrays, to_highs_lp
from .inputs import ModelInputs
from .lp import LinearProgram
from .strategies.base import DEFINITIVE, Solution, SolveOptions, Strategy
from .strategies.mip import MixedIntegerPlan
from .strategies.rowgen import RowGeneration, cross_year_rows
from .strategies.whole import WholeLP

__all__ = [  # the last six were defined here before the strategies were split out
    "Solution", "SolveOptions", "Solver", "solve", "strategy_for",
    "DEVEX", "basis_of", "highs_model", "new_highs", "status_arrays", "to_highs_lp",
]

# "auto": row generation from this many columns of the plan (`plan_columns`: without the
# shortfalls of rules that bend), the whole LP below. Five-year models, cold
# build and solve, whole LP against row generation, the same objective (benchmarks/rowgen.py,
# rowgen_results.md: up to three runs, load 2.9-4.8 on a shared 2-core machine): DLN (44,385
# columns) 0.29-0.48 s against 0.32-0.62 s (either faster by turns); the first ICB (36,265)
# 0.46-0.85 against 0.30-0.39 s; 2 ICBs (59,645) 1.87-1.92 against 0.98-1.62 s; 3 ICBs
# (71,755) 1.33-2.82 against 0.86-1.60 s; 5 ICBs (113,685) 5.4-8.0 against 1.5-8.7 s (the
# last under a load spike); 10 ICBs (253,930) 11.4 against 4.0 s; 20 ICBs (494,975) 94 against
# 13.5 s; England (1,045,560) row generation 62 s, the whole LP over 600 s. Row generation
# wins from about 50,000 columns; below, the cold solves take well under a second either way,
# and the whole LP keeps primal warm re-solves after a change of weights (the app's DLN).
LAZY_FROM_COLUMNS = 50_000


def plan_columns(lp: LinearProgram) -> int:
    """The LP's columns less those of rules that bend (a model keeps its strategy when its
    rules bend: DLN's LP has 44,385 columns, 51,234 with its shortfalls)."""
    return lp.num_col - sum(block.stop - block.start for name, block in lp.columns.items()
                            if name.startswith(("shortfall_", "rule_shortfall")))


def strategy_for(lp: LinearProgram, options: SolveOptions) -> type[Strategy]:
    """The mixed-integer plan when the model has whole-number columns ([commissioning]);
    row generation for a model with cross-year rows when asked ("lazy") or, by default
    ("auto"), from `LAZY_FROM_COLUMNS`; the whole LP otherwise."""
    if lp.is_mip:
        return MixedIntegerPlan
    mode = options.cross_year_rows
    lazy = mode == "lazy" or (mode == "auto" and plan_columns(lp) >= LAZY_FROM_COLUMNS)
    if not lazy or not cross_year_rows(lp).any():
        return WholeLP
    if mode == "auto":  # a one-year model's growth rows are single entries, held as bounds:
        rows = lp.entries()[0]  # nothing would wait, and the whole LP re-solves warm
        if not (cross_year_rows(lp) & (np.bincount(rows, minlength=lp.num_row) > 1)).any():
            return WholeLP
    return RowGeneration


class Solver:
    """A built model held by HiGHS through a strategy, re-solved warm after policy changes."""

    def __init__(self, inputs: ModelInputs, options: SolveOptions | None = None,
                 lp: LinearProgram | None = None):
        """`lp`: the LP to hold, when not `formulate(inputs)` (the ordered stages hold the LP
        with its rules' shortfalls; `update` keeps that kind, `reformulate`)."""
        self.options = options or SolveOptions()
        self.rebuilds = -1  # times built again after the first
        self._build(inputs, lp)

    def _build(self, inputs: ModelInputs, lp: LinearProgram | None = None) -> None:
        start = time.perf_counter()
        self.inputs = inputs
        lp = formulate(inputs) if lp is None else lp
        self.strategy: Strategy = strategy_for(lp, self.options)(inputs, lp, self.options)
        self.build_seconds = time.perf_counter() - start
        self.rebuilds += 1

    @property
    def lp(self) -> LinearProgram:
        return self.strategy.lp

    @property
    def highs(self) -> highspy.Highs:
        """The HiGHS model the strategy re-solves."""
        return self.strategy.highs

    @property
    def waiting_rows(self) -> int:
        """How many cross-year rows HiGHS does not hold (none broken at the last optimum)."""
        return self.strategy.waiting_rows

    def update(self, inputs: ModelInputs) -> str:
        """Apply new inputs in place when the strategy can; returns 'warm' or 'rebuilt'."""
        start = time.perf_counter()
        lp = reformulate(self.lp, self.inputs, inputs)
        if not self.strategy.update(inputs, lp):
            self._build(inputs, lp)
            return "rebuilt"
        self.inputs = inputs
        self.build_seconds = time.perf_counter() - start
        return "warm"

    # ---- for strategies over this one (optimiser/ordered.py: the stages of rules that bend)
    def change(self, arrays: dict[str, np.ndarray], simplex: str = "primal") -> None:
        """Push new column costs and bounds (LP-length `col_cost`, `col_lower`, `col_upper`,
        as `lp.arrays()` gives them) to HiGHS in place; the next `solve()` starts from the
        current basis by `simplex`: "primal" when the last optimum stays feasible (a new
        objective, a column held at its optimum), "dual" when it stays dual feasible (new
        bounds, the same objective). `self.lp` is not changed: a later `update` pushes the
        LP's own costs and bounds back."""
        new = {**self.strategy.held.arrays,
               **{k: arrays[k] for k in ("col_cost", "col_lower", "col_upper")}}
        self.strategy.change(new, simplex)

    def lp_basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """HiGHS's basis as the LP with every row kept would hold it (`HeldLP.lp_basis`);
        None when HiGHS has none or rows wait (row generation)."""
        return self.strategy.held.lp_basis()

    def start_from(self, col_status: np.ndarray, row_status: np.ndarray) -> bool:
        """Start the next solve from a basis of the LP as `lp_basis` gives it (a warm
        re-solve, retried cold if it ends without an answer); False, and no change, when
        HiGHS does not take it or rows wait."""
        return self.strategy.start_from(col_status, row_status)

    def solve(self) -> Solution:
        """Solve within `options.time_limit`; a warm re-solve that ends without a definitive
        status is retried cold (module docstring)."""
        deadline = time.perf_counter() + self.options.time_limit
        solution = self.strategy.solve(deadline)
        solution = dataclasses.replace(solution, build_seconds=self.build_seconds)
        if not solution.warm or solution.status in DEFINITIVE:
            return solution
        tried = solution
        self._build(self.inputs, self.lp)  # HiGHS's state after the failed run is not reused
        solution = self.strategy.solve(deadline)
        return dataclasses.replace(
            solution, iterations=tried.iterations + solution.iterations,
            build_seconds=tried.build_seconds + self.build_seconds,
            solve_seconds=tried.solve_seconds + solution.solve_seconds, retried_cold=True)

    def write(self, path: str) -> None:
        """Export the LP (.mps or .lp by the file's extension) with readable names."""
        h = new_highs(SolveOptions())
        model = to_highs_lp(self.lp)
        model.col_names_ = self.lp.column_names()
        model.row_names_ = self.lp.row_names()
        if self.lp.is_mip:  # the contracts' runs and posts stay whole numbers in the file
            model.integrality_ = [highspy.HighsVarType.kInteger if v
                                  else highspy.HighsVarType.kContinuous
                                  for v in self.lp.integrality()]
        h.passModel(model)
        h.writeModel(str(path))


def solve(inputs: ModelInputs, options: SolveOptions | None = None) -> tuple[Solver, Solution]:
    """Build and solve once (cold)."""
    solver = Solver(inputs, options)
    return solver, solver.solve()
