"""HiGHS plumbing shared by the solve strategies: a model from arrays, a basis as arrays,
HiGHS's status in the tool's words, its options, one timed run, and the switch to Devex.

Nothing here chooses how to solve; `optimiser.solve` and `optimiser/strategies/` do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
import scipy.sparse as sp

from .lp import LinearProgram

if TYPE_CHECKING:
    from .strategies.base import SolveOptions

DUAL, PRIMAL = 1, 4  # HiGHS simplex_strategy values
DEVEX = 1  # HiGHS simplex_dual_edge_weight_strategy for re-solves (price_with_devex)
STATUS = {  # HiGHS's model status -> Solution.status; anything else is "error"
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Unbounded": "unbounded",
    "Primal infeasible or unbounded": "infeasible",
    "Time limit reached": "time_limit",
    "Iteration limit reached": "time_limit",
}
BASIS_STATUS = [highspy.HighsBasisStatus(v) for v in range(5)]  # lower basic upper zero nonbasic
BASIC = int(highspy.HighsBasisStatus.kBasic)


def new_highs(options: SolveOptions) -> highspy.Highs:
    """An empty HiGHS model with the options every solve uses (seeded, so reruns agree)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("solver", options.method)
    h.setOptionValue("presolve", options.presolve)
    h.setOptionValue("random_seed", 0)
    return h


def to_highs_lp(lp: LinearProgram, held: dict | None = None,
                rows: np.ndarray | None = None) -> highspy.HighsLp:
    """The LP as HiGHS holds it: with `held`, those arrays' costs and bounds (column bounds
    tightened by rows held as bounds, `held.Singletons` and `held.Chains`); with `rows`,
    only those LP rows, in that order."""
    arrays = lp.arrays() if held is None else held
    matrix = lp.matrix()
    if rows is None:
        rows = np.arange(lp.num_row)
    else:
        matrix = matrix.tocsr()[rows].tocsc()
    return highs_model(matrix, arrays["col_cost"], arrays["col_lower"], arrays["col_upper"],
                       arrays["row_lower"][rows], arrays["row_upper"][rows],
                       lp.objective_offset)


def highs_model(matrix: sp.csc_matrix, cost: np.ndarray, col_lower: np.ndarray,
                col_upper: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray,
                offset: float = 0.0) -> highspy.HighsLp:
    """A maximisation LP for HiGHS from a column-wise matrix and its bounds."""
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = matrix.shape[1], matrix.shape[0]
    model.col_cost_, model.col_lower_, model.col_upper_ = cost, col_lower, col_upper
    model.row_lower_, model.row_upper_ = row_lower, row_upper
    model.offset_ = offset
    model.sense_ = highspy.ObjSense.kMaximize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    model.a_matrix_.index_ = matrix.indices.astype(np.int32)
    model.a_matrix_.value_ = matrix.data
    return model


def basis_of(col_status: np.ndarray, row_status: np.ndarray) -> highspy.HighsBasis:
    """A HiGHS basis from arrays of status numbers (a million in about 0.1 s)."""
    basis = highspy.HighsBasis()
    basis.col_status = [BASIS_STATUS[v] for v in np.asarray(col_status).tolist()]
    basis.row_status = [BASIS_STATUS[v] for v in np.asarray(row_status).tolist()]
    basis.valid = True
    return basis


def status_arrays(basis: highspy.HighsBasis) -> tuple[np.ndarray, np.ndarray]:
    """The column and row status numbers of a HiGHS basis."""
    return (np.array([v.value for v in basis.col_status], dtype=np.int8),
            np.array([v.value for v in basis.row_status], dtype=np.int8))


@dataclass
class Runs:
    """HiGHS's runs within one solve: the last run's status, iterations and seconds summed.

    `count` is how many optima were checked (`Solution.rounds`); a strategy that solves part
    of the model elsewhere (the years apart) adds its own iterations, seconds and count.
    """

    status: str = "error"
    solver_status: str = "not run"
    iterations: int = 0
    seconds: float = 0.0  # HiGHS alone
    count: int = 0

    def run(self, h: highspy.Highs, options: SolveOptions, simplex: int,
            deadline: float) -> str:
        """Run HiGHS once (simplex strategy `simplex`) until `deadline` (a
        `time.perf_counter()` value) at the latest; returns the status in the tool's words.

        HiGHS counts its time limit over every run of one Highs object, so a long-lived
        model (the app, the frontier) would run out of time after enough warm re-solves: the
        limit is set afresh on HiGHS's own clock for each run.
        """
        if options.method != "ipm":
            h.setOptionValue("simplex_strategy", simplex)
        left = deadline - time.perf_counter()
        h.setOptionValue("time_limit", h.getRunTime() + max(left, 1e-3))
        began = time.perf_counter()
        h.run()
        self.seconds += time.perf_counter() - began
        self.count += 1
        info = h.getInfo()
        self.iterations += int(max(info.simplex_iteration_count, 0)
                               + max(info.ipm_iteration_count, 0))
        self.solver_status = h.modelStatusToString(h.getModelStatus())
        self.status = STATUS.get(self.solver_status, "error")
        return self.status


def price_with_devex(h: highspy.Highs) -> bool:
    """Re-solves from a near-optimal basis price with Devex, not dual steepest edge; False
    (and nothing changed) when HiGHS has no basis to give back (after an infeasible run).

    A cold solve is long, and dual steepest edge pricing pays for itself there. A warm
    re-solve after a change, or a round of row generation after the first run of the whole
    model (England: the third round of five), takes a few hundred to a few thousand
    iterations: keeping the steepest-edge weights costs one more FTRAN in each (a quarter to
    a third of each iteration, in primal simplex as well as dual) and computing them afresh
    whenever the basis is set or rows are added (0.07 s on DLN; 1.2 s in England's last
    round). HiGHS reads its pricing options only when it sets up its solver, so the solver is
    cleared and the basis given back. Measured back to back (benchmarks/README.md): four warm
    re-solves in turn (budget, weight, budget, weight) on DLN 1.29 s -> 0.98 s and on England
    1-year 4.4 s -> 3.6 s; England five-year, Devex from the third round, 62.1 / 58.4 s ->
    57.9 / 53.3 s.
    """
    basis = h.getBasis()
    if not basis.valid:  # this run starts cold, as it was
        return False
    h.setOptionValue("simplex_dual_edge_weight_strategy", DEVEX)
    h.clearSolver()
    h.setBasis(basis)
    return True
