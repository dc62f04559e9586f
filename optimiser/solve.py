"""The only code that talks to a solver: HiGHS through highspy.

`Solver` builds the LP once and keeps the `Highs` object. `update(new_inputs)` re-runs the
pure formulation, compares it with what HiGHS holds, and pushes only what changed (costs,
bounds, coefficients), so HiGHS re-solves from the previous basis without a rebuild. A change
of structure (a rule switched on or off, other ICBs, other years) rebuilds instead.

Solver outcomes are data: `Solution.status` is one of optimal, infeasible, unbounded,
time_limit or error, never an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from .formulation import formulate
from .inputs import ModelInputs
from .lp import LinearProgram

DUAL, PRIMAL = 1, 4  # HiGHS simplex_strategy values
STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Unbounded": "unbounded",
    "Primal infeasible or unbounded": "infeasible",
    "Time limit reached": "time_limit",
    "Iteration limit reached": "time_limit",
}


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 600.0
    method: str = "choose"  # "simplex", "ipm" or "choose"
    presolve: str = "choose"
    threads: int = 0  # 0: HiGHS decides
    verbose: bool = False


@dataclass(frozen=True)
class Solution:
    status: str
    solver_status: str
    objective: float | None
    col_value: np.ndarray = field(repr=False)
    row_value: np.ndarray = field(repr=False)
    row_dual: np.ndarray = field(repr=False)
    col_dual: np.ndarray = field(repr=False)
    iterations: int = 0
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    warm: bool = False

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def to_highs_lp(lp: LinearProgram) -> highspy.HighsLp:
    arrays = lp.arrays()
    matrix = lp.matrix()
    model = highspy.HighsLp()
    model.num_col_ = lp.num_col
    model.num_row_ = lp.num_row
    model.col_cost_ = arrays["col_cost"]
    model.col_lower_ = arrays["col_lower"]
    model.col_upper_ = arrays["col_upper"]
    model.row_lower_ = arrays["row_lower"]
    model.row_upper_ = arrays["row_upper"]
    model.offset_ = lp.objective_offset
    model.sense_ = highspy.ObjSense.kMaximize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    model.a_matrix_.index_ = matrix.indices.astype(np.int32)
    model.a_matrix_.value_ = matrix.data
    return model


def new_highs(options: SolveOptions) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("solver", options.method)
    h.setOptionValue("presolve", options.presolve)
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", 0)
    return h


class Solver:
    """A built model held by HiGHS, re-solved warm after policy changes."""

    def __init__(self, inputs: ModelInputs, options: SolveOptions | None = None):
        self.options = options or SolveOptions()
        self._build(inputs)

    def _build(self, inputs: ModelInputs) -> None:
        start = time.perf_counter()
        self.inputs = inputs
        self.lp = formulate(inputs)
        self._arrays = self.lp.arrays()
        self._entries = self.lp.entries()
        self._key = self.lp.structure_key()
        self.highs = new_highs(self.options)
        self.highs.passModel(to_highs_lp(self.lp))
        self.build_seconds = time.perf_counter() - start
        self._solved_once = False
        self._strategy = DUAL
        self.rebuilds = getattr(self, "rebuilds", -1) + 1

    # ---- changes -----------------------------------------------------------------------
    def update(self, inputs: ModelInputs) -> str:
        """Apply new inputs in place when the structure allows; returns 'warm' or 'rebuilt'."""
        start = time.perf_counter()
        lp = formulate(inputs)
        if lp.structure_key() != self._key:
            self._build(inputs)
            return "rebuilt"
        new = lp.arrays()
        old = self._arrays
        h = self.highs
        changed = np.nonzero(new["col_cost"] != old["col_cost"])[0]
        only_costs = True
        if len(changed):
            h.changeColsCost(len(changed), changed.astype(np.int32), new["col_cost"][changed])
        changed = np.nonzero((new["col_lower"] != old["col_lower"])
                             | (new["col_upper"] != old["col_upper"]))[0]
        only_costs &= not len(changed)
        if len(changed):
            h.changeColsBounds(len(changed), changed.astype(np.int32),
                               new["col_lower"][changed], new["col_upper"][changed])
        changed = np.nonzero((new["row_lower"] != old["row_lower"])
                             | (new["row_upper"] != old["row_upper"]))[0]
        only_costs &= not len(changed)
        if len(changed):
            h.changeRowsBounds(len(changed), changed.astype(np.int32),
                               new["row_lower"][changed], new["row_upper"][changed])
        rows, cols, vals = lp.entries()
        changed = np.nonzero(vals != self._entries[2])[0]
        only_costs &= not len(changed)
        if len(changed):
            # duplicates cannot occur: each (row, column) is added once by the formulation
            for j in changed:
                h.changeCoeff(int(rows[j]), int(cols[j]), float(vals[j]))
        self.inputs, self.lp = inputs, lp
        self._arrays, self._entries = new, (rows, cols, vals)
        # After a change of weights only, the old basis stays primal feasible: primal simplex
        # re-optimises in a few hundred iterations where dual simplex takes thousands. After a
        # change of budget, workforce or rules, the basis stays dual feasible: dual simplex.
        self._strategy = PRIMAL if only_costs else DUAL
        self.build_seconds = time.perf_counter() - start
        return "warm"

    # ---- solving -----------------------------------------------------------------------
    def solve(self) -> Solution:
        warm = self._solved_once
        h = self.highs
        if self.options.method != "ipm":
            h.setOptionValue("simplex_strategy", self._strategy if warm else DUAL)
        start = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - start
        self._solved_once = True
        status_text = h.modelStatusToString(h.getModelStatus())
        status = STATUS.get(status_text, "error")
        info = h.getInfo()
        iterations = int(max(info.simplex_iteration_count, 0) + max(info.ipm_iteration_count, 0))
        if status == "optimal":
            sol = h.getSolution()
            return Solution(
                status, status_text, float(info.objective_function_value),
                np.asarray(sol.col_value), np.asarray(sol.row_value),
                np.asarray(sol.row_dual), np.asarray(sol.col_dual),
                iterations, self.build_seconds, seconds, warm,
            )
        empty = np.zeros(0)
        return Solution(status, status_text, None, empty, empty, empty, empty, iterations,
                        self.build_seconds, seconds, warm)

    def write(self, path: str) -> None:
        """Export the LP (.mps or .lp by the file's extension) with readable names."""
        h = new_highs(SolveOptions())
        model = to_highs_lp(self.lp)
        model.col_names_ = self.lp.column_names()
        model.row_names_ = self.lp.row_names()
        h.passModel(model)
        h.writeModel(str(path))


def solve(inputs: ModelInputs, options: SolveOptions | None = None) -> tuple[Solver, Solution]:
    """Build and solve once (cold)."""
    solver = Solver(inputs, options)
    return solver, solver.solve()
