"""The whole LP, held by HiGHS from the start; a change applied in place and re-solved warm.

The strategy of every model below `solve.LAZY_FROM_COLUMNS` (DLN, most single ICBs of a
batch run) and of every one-year model (England one year), whose growth rows are single
entries held as bounds, so that nothing would wait. `update` takes the re-formulated LP and
pushes only what changed (costs, bounds, coefficients: `HeldLP.update`), so HiGHS re-solves
from the previous basis without a rebuild; a change of structure (a rule switched on or off,
other ICBs, other years) declines, and `Solver` builds afresh.

Pricing: the first solve is HiGHS's own (dual simplex, dual steepest edge); every re-solve
after it prices with Devex (`highs.price_with_devex`: DLN, four warm re-solves in turn 1.29 s
-> 0.98 s). After a change of weights only, the old basis stays primal feasible: primal
simplex re-optimises in a few hundred iterations where dual simplex takes thousands (DLN:
0.2 s against 0.38 s). In large models dual simplex wins even then (16 ICBs with one budget:
7.9 s against 33.9 s). After a change of budget, workforce or rules, the basis stays dual
feasible: dual simplex.
"""

from __future__ import annotations

from ..highs import DUAL, PRIMAL, Runs, price_with_devex
from ..inputs import ModelInputs
from ..lp import LinearProgram
from .base import Solution, SolveOptions
from .held_lp import HeldLP

PRIMAL_UP_TO_COLUMNS = 250_000  # primal simplex after a change of weights only (above)


class WholeLP:
    """Every row of the LP in HiGHS (single-entry rows as column bounds); warm re-solves."""

    waiting_rows = 0

    def __init__(self, inputs: ModelInputs, lp: LinearProgram, options: SolveOptions):
        self.options = options
        self.held = HeldLP(lp, options)
        self.lp, self.highs = lp, self.held.highs
        self._simplex = DUAL  # for the next warm re-solve
        self._solved_once = False
        self._devex = False

    def update(self, inputs: ModelInputs, lp: LinearProgram) -> bool:
        changed = self.held.update(lp)
        if changed is None:
            return False
        self.lp = lp
        self._simplex = PRIMAL if changed <= {"costs"} and lp.num_col < PRIMAL_UP_TO_COLUMNS \
            else DUAL
        return True

    def change(self, arrays: dict, simplex: str = "primal") -> None:
        """New costs and column bounds in place (`Solver.change`), re-solved by `simplex`."""
        self.held.change(arrays)
        self._simplex = PRIMAL if simplex == "primal" and self.lp.num_col < PRIMAL_UP_TO_COLUMNS \
            else DUAL

    def start_from(self, col_status, row_status) -> bool:
        """The next solve from this basis of the whole LP (`HeldLP.set_lp_basis`)."""
        if not self.held.set_lp_basis(col_status, row_status):
            return False
        self._solved_once = True  # a re-solve from a basis (Devex pricing, no presolve)
        return True

    def solve(self, deadline: float) -> Solution:
        warm = self._solved_once
        if warm and not self._devex:
            self._devex = price_with_devex(self.highs)
        runs = Runs()
        runs.run(self.highs, self.options, self._simplex if warm else DUAL, deadline)
        self._solved_once = True
        return self.held.solution(runs, warm)
