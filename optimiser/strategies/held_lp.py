"""The LP as HiGHS holds it, for the strategies to build on: its single-entry rows as column
bounds, rows that may wait, changes pushed in place, and a value and a dual for every row.

Rows with a single entry (the universal floor on one service, its first year's growth) are
held by HiGHS as bounds on that column (`held.Singletons`), as presolve would do for a cold
solve; HiGHS skips presolve when it re-solves from a basis, and a model a fifth smaller
re-solves markedly faster (DLN, a warm re-solve after a budget change: 0.32-0.40 s with the
rows, 0.19-0.24 s without; benchmarks/README.md). Rows that `may_wait` (row generation)
start outside HiGHS and are added with `add_rows`; while any wait, each service's growth rows
summed over its years bound its reach (`held.Chains`). `solution` gives back a value and a
dual for every LP row, as the LP with every row kept would: a bound's reduced cost goes back
to the rows that set it, and a row never added has a shadow price of zero, which is exact,
unless it is part of a growth chain whose bound binds (`held.Chains` gives it its share).
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from ..held import BASIC, Chains, Singletons
from ..highs import Runs, basis_of, new_highs, status_arrays, to_highs_lp
from ..lp import LinearProgram
from .base import Solution, SolveOptions


class HeldLP:
    """`lp` passed to a new HiGHS model (`highs`), without the rows in `may_wait` (a mask
    over the LP's rows; none by default) until they are added.

    `rows` are the LP rows HiGHS holds, in its order; `waiting` the LP rows not (yet) given
    to it; `held` the LP's arrays with the column bounds HiGHS holds.
    """

    def __init__(self, lp: LinearProgram, options: SolveOptions,
                 may_wait: np.ndarray | None = None):
        self.lp = lp
        self.arrays = lp.arrays()
        self.entries = lp.entries()
        self.key = lp.structure_key()
        self.singletons = Singletons.of(lp.num_row, self.entries)
        waiting = self.singletons.keep & (False if may_wait is None else may_wait)
        self.may_wait = np.zeros(0, np.int64) if may_wait is None else np.nonzero(may_wait)[0]
        # the chains' bounds help only while the growth rows wait (with every row held they
        # are redundant, and DLN solves 5-10% slower with them)
        self.chains = Chains.of(lp, self.entries, self.arrays) if waiting.any() \
            else Chains.none()
        self.held = self._bounds(self.arrays)
        self._set_rows(np.nonzero(self.singletons.keep & ~waiting)[0], np.nonzero(waiting)[0])
        self._may_wait_matrix: sp.csr_matrix | None = None
        self.highs = new_highs(options)
        self.highs.passModel(to_highs_lp(lp, self.held, self.rows))

    def _bounds(self, arrays: dict) -> dict:
        """`arrays` with the column bounds HiGHS holds (singleton rows', then the chains')."""
        return self.chains.held(self.singletons.held(arrays, self.entries[2]))

    def _set_rows(self, rows: np.ndarray, waiting: np.ndarray) -> None:
        self.rows, self.waiting = rows, waiting
        self.row_of = np.full(self.lp.num_row, -1)  # LP row -> HiGHS row (-1: not held)
        self.row_of[rows] = np.arange(len(rows))

    # ---- changes in place ----------------------------------------------------------------
    def change(self, arrays: dict[str, np.ndarray]) -> set[str]:
        """Push new costs and bounds (LP-length arrays, as `lp.arrays()` gives them) to HiGHS,
        only where they differ from what it holds; says what changed: "costs", "bounds"."""
        held, old, h = self._bounds(arrays), self.held, self.highs
        changed = set()
        cols = np.nonzero(held["col_cost"] != old["col_cost"])[0]
        if len(cols):
            h.changeColsCost(len(cols), cols.astype(np.int32), held["col_cost"][cols])
            changed.add("costs")
        cols = np.nonzero((held["col_lower"] != old["col_lower"])
                          | (held["col_upper"] != old["col_upper"]))[0]
        if len(cols):
            h.changeColsBounds(len(cols), cols.astype(np.int32), held["col_lower"][cols],
                               held["col_upper"][cols])
            changed.add("bounds")
        rows = np.nonzero((held["row_lower"] != old["row_lower"])
                          | (held["row_upper"] != old["row_upper"]))[0]
        if len(rows):
            changed.add("bounds")
        rows = rows[self.row_of[rows] >= 0]  # singletons' are in the column bounds
        if len(rows):
            h.changeRowsBounds(len(rows), self.row_of[rows].astype(np.int32),
                               held["row_lower"][rows], held["row_upper"][rows])
        self.held, self.arrays = held, arrays
        return changed

    def update(self, lp: LinearProgram) -> set[str] | None:
        """Take a re-formulated LP in place: what changed ("costs", "bounds",
        "coefficients"), or None when its structure differs (other blocks or sparsity, or a
        coefficient became or left zero) and HiGHS must be given the model afresh."""
        if lp.structure_key() != self.key:
            return None
        entries = lp.entries()
        singletons = Singletons.of(lp.num_row, entries)
        if not singletons.same_as(self.singletons):
            return None
        before = self.entries[2]
        self.lp, self.entries, self.singletons = lp, entries, singletons
        self._may_wait_matrix = None
        changed = self.change(lp.arrays())
        rows, cols, vals = entries
        moved = np.nonzero(vals != before)[0]
        if len(moved):
            changed.add("coefficients")
        moved = moved[self.row_of[rows[moved]] >= 0]
        # duplicates cannot occur: each (row, column) is added once by the formulation
        for j in moved:
            self.highs.changeCoeff(int(self.row_of[rows[j]]), int(cols[j]), float(vals[j]))
        return changed

    # ---- a basis of the whole LP (every row kept), and back -----------------------------
    def lp_basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """HiGHS's basis as the LP with every row kept would hold it (column and row status
        numbers, LP-length; `held.Singletons.basis_to_lp`); None when HiGHS has none or some
        rows wait or are chained (row generation)."""
        basis = self.highs.getBasis()
        if not basis.valid or len(self.waiting) or len(self.chains.rows):
            return None
        col, held_rows = status_arrays(basis)
        row = np.full(self.lp.num_row, BASIC, dtype=np.int8)
        row[self.rows] = held_rows
        return self.singletons.basis_to_lp(self.arrays, self.entries[2], col, row)

    def set_lp_basis(self, col_status: np.ndarray, row_status: np.ndarray) -> bool:
        """Give HiGHS a basis as `lp_basis` gives it; False (and no change) when HiGHS does
        not take it or some rows wait."""
        if len(self.waiting) or len(self.chains.rows):
            return False
        col = self.singletons.basis_from_lp(col_status, row_status, self.entries[2])
        return self.highs.setBasis(basis_of(col, np.asarray(row_status)[self.rows])) \
            == highspy.HighsStatus.kOk

    # ---- rows that wait ------------------------------------------------------------------
    def _matrix_of_may_wait(self) -> sp.csr_matrix:
        """The rows that may wait (all of them, held or not), one CSR row each, built once
        per set of coefficients: `may_wait[j]` is the LP row of its row j."""
        if self._may_wait_matrix is None:
            rows, cols, vals = self.entries
            pick = np.zeros(self.lp.num_row, dtype=bool)
            pick[self.may_wait] = True
            pick = pick[rows]
            self._may_wait_matrix = sp.csr_matrix(
                (vals[pick], (np.searchsorted(self.may_wait, rows[pick]), cols[pick])),
                shape=(len(self.may_wait), self.lp.num_col))
            self._may_wait_matrix.sort_indices()
        return self._may_wait_matrix

    def waiting_activity(self, col_value: np.ndarray) -> np.ndarray:
        """The value of each waiting row at `col_value`."""
        activity = self._matrix_of_may_wait() @ col_value
        return activity[np.searchsorted(self.may_wait, self.waiting)]

    def add_rows(self, add: np.ndarray) -> None:
        """Give HiGHS the waiting LP rows `add` (after the rows it holds)."""
        part = self._matrix_of_may_wait()[np.searchsorted(self.may_wait, add)]
        self.highs.addRows(len(add), self.arrays["row_lower"][add],
                           self.arrays["row_upper"][add], part.nnz,
                           part.indptr[:-1].astype(np.int32), part.indices.astype(np.int32),
                           part.data)
        self._set_rows(np.concatenate([self.rows, add]), np.setdiff1d(self.waiting, add))

    # ---- the answer ----------------------------------------------------------------------
    def solution(self, runs: Runs, warm: bool) -> Solution:
        """HiGHS's last answer as a `Solution` over every LP column and row."""
        if runs.status != "optimal":
            empty = np.zeros(0)
            return Solution(runs.status, runs.solver_status, None, empty, empty, empty, empty,
                            runs.iterations, 0.0, runs.seconds, warm, runs.count)
        h = self.highs
        sol = h.getSolution()
        col_value = np.asarray(sol.col_value)
        n = self.lp.num_row
        row_value, row_dual = np.zeros(n), np.zeros(n)  # rows never added: dual 0
        row_value[self.rows] = sol.row_value
        row_dual[self.rows] = sol.row_dual
        if len(self.waiting):
            row_value[self.waiting] = self.waiting_activity(col_value)
        col_dual = np.asarray(sol.col_dual)
        if len(self.chains.rows):  # bounds held before the chains', then the chains'
            row_dual, col_dual = self.chains.expand(
                self.singletons.held(self.arrays, self.entries[2]), col_value, col_dual,
                row_dual)
        row_value, row_dual, col_dual = self.singletons.expand(
            self.arrays, self.entries[2], col_value, col_dual, row_value, row_dual)
        return Solution(runs.status, runs.solver_status,
                        float(h.getInfo().objective_function_value), col_value, row_value,
                        row_dual, col_dual, runs.iterations, 0.0, runs.seconds, warm,
                        runs.count)
