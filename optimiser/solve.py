"""The only code that talks to a solver: HiGHS through highspy.

`Solver` builds the LP once and keeps the `Highs` object. `update(new_inputs)` re-runs the
pure formulation (only the objective, when only weights changed), compares it with what HiGHS
holds, and pushes only what changed (costs, bounds, coefficients), so HiGHS re-solves from the
previous basis without a rebuild, pricing with Devex rather than steepest edge, which pays
only over long solves. A change of structure (a rule switched on or off, other ICBs, other
years) rebuilds instead, and so does any change to a model whose cross-year rows are held
back (below).

Rows with a single entry (the universal floor on one service, its first year's growth) are
held by HiGHS as bounds on that column, and each service's growth rows summed over its years
bound its reach (`held`), as presolve would do for a cold solve; HiGHS skips presolve when it
re-solves from a basis, and a model a fifth smaller re-solves markedly faster. The `Solution`
still has a value and a dual for every row of the LP: a bound's reduced cost goes back to the
rows that set it.

Large models hold their cross-year rows (mobilisation, continuity) back until they are needed
(row generation, `SolveOptions.cross_year_rows`): HiGHS solves without them, the rows the
optimum breaks or nearly reaches are added, and HiGHS re-solves from its basis, until every
row holds. The answer is the optimum of the whole LP (a relaxation's optimum that satisfies
every row). A row never added has a shadow price of zero, which is exact, unless it is part
of a service's growth chain whose bound binds (`held.Chains` gives it its share). With
every year tied to the next through one national budget, England's five-year LP is solved
this way in under a minute; as one whole LP it had not finished in ten (benchmarks/README.md).

Solver outcomes are data: `Solution.status` is one of optimal, infeasible, unbounded,
time_limit or error, never an exception.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .formulation import formulate, reformulate
from .held import Chains, Singletons
from .inputs import ModelInputs
from .lp import LinearProgram

DUAL, PRIMAL = 1, 4  # HiGHS simplex_strategy values
DEVEX = 1  # HiGHS simplex_dual_edge_weight_strategy for warm re-solves (Solver.solve)
STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Unbounded": "unbounded",
    "Primal infeasible or unbounded": "infeasible",
    "Time limit reached": "time_limit",
    "Iteration limit reached": "time_limit",
}


LAZY_FAMILIES = ("mobilisation", "continuity")  # the cross-year rows that may wait
LAZY_FROM_COLUMNS = 250_000  # "auto": below this the whole LP solves as fast (benchmarks)
PRIMAL_UP_TO_COLUMNS = 250_000  # primal simplex after a change of weights only (below)
NEAR_BINDING = 0.1  # also add waiting rows this close to a limit (fewer rounds)
HOLD_THE_REST = 0.002  # fewer rows to add than this share of those held: add every waiting row
FEASIBILITY = 1e-7  # a waiting row is broken beyond this x (1 + |its value|)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 600.0
    method: str = "choose"  # "simplex", "ipm" or "choose"
    presolve: str = "choose"
    # HiGHS models run side by side (the years solved apart); 0: one per core. Not passed to
    # HiGHS: its thread count is fixed for the process once set, and another count then
    # fails every later solve ("global scheduler has already been initialized")
    threads: int = 0
    verbose: bool = False
    cross_year_rows: str = "auto"  # "all" from the start, "lazy" when needed, or "auto"


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
    solve_seconds: float = 0.0  # HiGHS's own time (all its runs)
    warm: bool = False
    rounds: int = 1  # optima checked against waiting rows (more than one: rows were added)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


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


BASIS_STATUS = [highspy.HighsBasisStatus(v) for v in range(5)]  # lower basic upper zero nonbasic


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


def new_highs(options: SolveOptions) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("solver", options.method)
    h.setOptionValue("presolve", options.presolve)
    h.setOptionValue("random_seed", 0)
    return h


class Solver:
    """A built model held by HiGHS, re-solved warm after policy changes."""

    def __init__(self, inputs: ModelInputs, options: SolveOptions | None = None,
                 lp: LinearProgram | None = None):
        """`lp`: the LP to hold, when not `formulate(inputs)` (the ordered stages hold the LP
        with its rules' shortfalls; `update` keeps that kind, `reformulate`)."""
        self.options = options or SolveOptions()
        self._build(inputs, lp)

    def _build(self, inputs: ModelInputs, lp: LinearProgram | None = None) -> None:
        start = time.perf_counter()
        self.inputs = inputs
        self.lp = formulate(inputs) if lp is None else lp
        self._arrays = self.lp.arrays()
        self._entries = self.lp.entries()
        self._key = self.lp.structure_key()
        self.singletons = Singletons.of(self.lp.num_row, self._entries)
        waiting = self._may_wait() & self.singletons.keep
        # the chains' bounds help only while the growth rows wait (with every row held they
        # are redundant, and DLN solves 5-10% slower with them)
        self.chains = Chains.of(self.lp, self._entries, self._arrays) if waiting.any() \
            else Chains.none()
        self._held = self._bounds(self._arrays, self._entries[2], self.singletons)
        self._set_rows(np.nonzero(self.singletons.keep & ~waiting)[0], np.nonzero(waiting)[0])
        self.highs = new_highs(self.options)
        self.highs.passModel(to_highs_lp(self.lp, self._held, self._rows))
        self.build_seconds = time.perf_counter() - start
        self._cross_matrix = None
        self._solved_once = False
        self._strategy = DUAL
        self._devex = False
        self.rebuilds = getattr(self, "rebuilds", -1) + 1

    def _bounds(self, arrays: dict, vals: np.ndarray, singletons: Singletons) -> dict:
        """The LP's arrays with the column bounds HiGHS holds (singleton rows, then chains)."""
        return self.chains.held(singletons.held(arrays, vals))

    def _may_wait(self) -> np.ndarray:
        """The LP rows HiGHS starts without (cross-year rows of a large model); sets
        `_cross_year`, the LP rows of those families."""
        mask = np.zeros(self.lp.num_row, dtype=bool)
        mode = self.options.cross_year_rows
        if not (mode == "all" or (mode == "auto" and self.lp.num_col < LAZY_FROM_COLUMNS)):
            for block in (self.lp.rows[name] for name in LAZY_FAMILIES if name in self.lp.rows):
                mask[block.start:block.stop] = True
        self._cross_year = np.nonzero(mask)[0]
        return mask

    def _set_rows(self, rows: np.ndarray, waiting: np.ndarray) -> None:
        """`rows`: the LP rows HiGHS holds, in its order; `waiting`: rows not yet added."""
        self._rows, self._waiting = rows, waiting
        self._row_of = np.full(self.lp.num_row, -1)  # LP row -> HiGHS row (-1: not held)
        self._row_of[rows] = np.arange(len(rows))

    @property
    def waiting_rows(self) -> int:
        """How many cross-year rows HiGHS does not hold (none broken at the last optimum)."""
        return len(self._waiting)

    # ---- changes -----------------------------------------------------------------------
    def update(self, inputs: ModelInputs) -> str:
        """Apply new inputs in place when the structure allows; returns 'warm' or 'rebuilt'.

        A model whose cross-year rows are added in rounds is rebuilt and solved cold instead:
        from the old basis, a national budget change ripples through every year and service,
        and the re-solve takes longer than starting again (England five-year, a 5% budget
        cut: 108 s warm, 57 s cold; 16 ICBs: 13.0 s and 10.6 s).
        """
        start = time.perf_counter()
        lp = reformulate(self.lp, self.inputs, inputs)
        if lp.structure_key() != self._key or len(self._cross_year):
            self._build(inputs, lp)
            return "rebuilt"
        new_entries = lp.entries()
        singletons = Singletons.of(lp.num_row, new_entries)
        if not singletons.same_as(self.singletons):  # a coefficient became (or left) zero
            self._build(inputs, lp)
            return "rebuilt"
        new = lp.arrays()
        held = self._bounds(new, new_entries[2], singletons)
        old = self._held
        h = self.highs
        changed = np.nonzero(held["col_cost"] != old["col_cost"])[0]
        only_costs = True
        if len(changed):
            h.changeColsCost(len(changed), changed.astype(np.int32), held["col_cost"][changed])
        changed = np.nonzero((held["col_lower"] != old["col_lower"])
                             | (held["col_upper"] != old["col_upper"]))[0]
        only_costs &= not len(changed)
        if len(changed):
            h.changeColsBounds(len(changed), changed.astype(np.int32),
                               held["col_lower"][changed], held["col_upper"][changed])
        changed = np.nonzero((held["row_lower"] != old["row_lower"])
                             | (held["row_upper"] != old["row_upper"]))[0]
        only_costs &= not len(changed)
        changed = changed[self._row_of[changed] >= 0]  # singletons' are in the column bounds
        if len(changed):
            h.changeRowsBounds(len(changed), self._row_of[changed].astype(np.int32),
                               held["row_lower"][changed], held["row_upper"][changed])
        rows, cols, vals = new_entries
        changed = np.nonzero(vals != self._entries[2])[0]
        only_costs &= not len(changed)
        changed = changed[self._row_of[rows[changed]] >= 0]
        if len(changed):
            # duplicates cannot occur: each (row, column) is added once by the formulation
            for j in changed:
                h.changeCoeff(int(self._row_of[rows[j]]), int(cols[j]), float(vals[j]))
        self._held = held
        self.inputs, self.lp = inputs, lp
        self._arrays, self._entries = new, new_entries
        self._cross_matrix = None
        # After a change of weights only, the old basis stays primal feasible: primal simplex
        # re-optimises in a few hundred iterations where dual simplex takes thousands (DLN:
        # 0.2 s against 0.38 s). In large models dual simplex wins even then (16 ICBs with one
        # budget: 7.9 s against 33.9 s). After a change of budget, workforce or rules, the
        # basis stays dual feasible: dual simplex.
        self._strategy = PRIMAL if only_costs and lp.num_col < PRIMAL_UP_TO_COLUMNS else DUAL
        self.build_seconds = time.perf_counter() - start
        return "warm"

    # ---- hooks for solve strategies that re-solve one model with other costs or bounds ----
    # (optimiser/ordered.py: the stages of rules that bend)
    def change(self, arrays: dict[str, np.ndarray], simplex: str = "primal") -> None:
        """Push new column costs and bounds (LP-length arrays `col_cost`, `col_lower`,
        `col_upper`, as `lp.arrays()` gives them) to HiGHS in place, where they differ from
        what it holds; the next `solve()` starts from the current basis by `simplex`:
        "primal" when the last optimum stays feasible (a new objective, a column held at its
        optimum), "dual" when it stays dual feasible (new bounds, the same objective).
        `self.lp` is not changed: a later `update` pushes the LP's own costs and bounds back."""
        new = {**self._arrays, **{k: arrays[k] for k in ("col_cost", "col_lower", "col_upper")}}
        held, old = self._bounds(new, self._entries[2], self.singletons), self._held
        h = self.highs
        changed = np.nonzero(held["col_cost"] != old["col_cost"])[0]
        if len(changed):
            h.changeColsCost(len(changed), changed.astype(np.int32), held["col_cost"][changed])
        changed = np.nonzero((held["col_lower"] != old["col_lower"])
                             | (held["col_upper"] != old["col_upper"]))[0]
        if len(changed):
            h.changeColsBounds(len(changed), changed.astype(np.int32),
                               held["col_lower"][changed], held["col_upper"][changed])
        self._arrays, self._held = new, held
        self._strategy = PRIMAL if simplex == "primal" and self.lp.num_col < PRIMAL_UP_TO_COLUMNS \
            else DUAL

    def lp_basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """HiGHS's basis as the LP with every row kept would hold it (column and row status
        numbers, LP-length; `held.Singletons.basis_to_lp`); None when HiGHS has none or some
        rows are held back or chained (row generation)."""
        basis = self.highs.getBasis()
        if not basis.valid or len(self._waiting) or len(self.chains.rows):
            return None
        col, held_rows = status_arrays(basis)
        row = np.full(self.lp.num_row, int(highspy.HighsBasisStatus.kBasic), dtype=np.int8)
        row[self._rows] = held_rows
        return self.singletons.basis_to_lp(self._arrays, self._entries[2], col, row)

    def set_lp_basis(self, col_status: np.ndarray, row_status: np.ndarray) -> bool:
        """Start the next solve from a basis given as `lp_basis` gives it; False (and no
        change) when HiGHS does not take it or some rows are held back."""
        if len(self._waiting) or len(self.chains.rows):
            return False
        col = self.singletons.basis_from_lp(col_status, row_status, self._entries[2])
        if self.highs.setBasis(basis_of(col, np.asarray(row_status)[self._rows])) \
                != highspy.HighsStatus.kOk:
            return False
        self._solved_once = True  # a re-solve from a basis (Devex pricing, no presolve)
        return True

    # ---- solving -----------------------------------------------------------------------
    def solve(self) -> Solution:
        warm = self._solved_once
        h = self.highs
        start = time.perf_counter()
        iterations, rounds, seconds = 0, 0, 0.0
        strategy = self._strategy if warm else DUAL
        if warm and not self._devex:
            self._price_with_devex()
        if not warm and len(self._waiting) and self.options.method != "ipm":
            began = time.perf_counter()
            apart = self._solve_years_apart()
            seconds += time.perf_counter() - began
            if apart is not None:
                col_value, col_status, row_status, iterations = apart
                rounds += 1  # the first optimum without the cross-year rows, year by year
                add = self._rows_to_add(col_value)
                if len(add):
                    self._add_rows(add)
                h.setBasis(basis_of(col_status, np.concatenate(
                    [row_status, np.full(len(add), int(highspy.HighsBasisStatus.kBasic))])))
        while True:
            if self.options.method != "ipm":
                h.setOptionValue("simplex_strategy", strategy)
            # HiGHS counts its time limit over every run of this Highs object, so a
            # long-lived Solver (the app, the frontier) would run out of time after enough
            # warm re-solves: the limit is set afresh on HiGHS's own clock for each run
            left = self.options.time_limit - (time.perf_counter() - start)
            h.setOptionValue("time_limit", h.getRunTime() + max(left, 1e-3))
            began = time.perf_counter()
            h.run()
            seconds += time.perf_counter() - began  # HiGHS alone
            rounds += 1
            info = h.getInfo()
            iterations += int(max(info.simplex_iteration_count, 0)
                              + max(info.ipm_iteration_count, 0))
            status_text = h.modelStatusToString(h.getModelStatus())
            status = STATUS.get(status_text, "error")
            if status != "optimal" or not len(self._waiting):
                break
            add = self._rows_to_add(np.asarray(h.getSolution().col_value))
            if not len(add):
                break
            self._add_rows(add)
            strategy = DUAL  # the basis stays dual feasible when rows are added
            if not self._devex:  # the later rounds are re-solves from a near-optimal basis
                self._price_with_devex()
        self._solved_once = True
        if status == "optimal":
            sol = h.getSolution()
            col_value = np.asarray(sol.col_value)
            n = self.lp.num_row
            row_value, row_dual = np.zeros(n), np.zeros(n)  # rows never added: dual 0
            row_value[self._rows] = sol.row_value
            row_dual[self._rows] = sol.row_dual
            if len(self._waiting):
                row_value[self._waiting] = self._waiting_activity(col_value)
            col_dual = np.asarray(sol.col_dual)
            if len(self.chains.rows):  # bounds held before the chains', then the chains'
                row_dual, col_dual = self.chains.expand(
                    self.singletons.held(self._arrays, self._entries[2]), col_value, col_dual,
                    row_dual)
            row_value, row_dual, col_dual = self.singletons.expand(
                self._arrays, self._entries[2], col_value, col_dual, row_value, row_dual)
            return Solution(
                status, status_text, float(info.objective_function_value),
                col_value, row_value, row_dual, col_dual,
                iterations, self.build_seconds, seconds, warm, rounds,
            )
        empty = np.zeros(0)
        return Solution(status, status_text, None, empty, empty, empty, empty, iterations,
                        self.build_seconds, seconds, warm, rounds)

    def _price_with_devex(self) -> None:
        """Re-solves from a near-optimal basis price with Devex, not dual steepest edge.

        A cold solve is long, and dual steepest edge pricing pays for itself there. A warm
        re-solve after a change, or a round of row generation after the first run of the
        whole model (England: the third round of five), takes a few hundred to a few thousand
        iterations: keeping the steepest-edge weights costs one more FTRAN in each (a quarter
        to a third of each iteration, in primal simplex as well as dual) and computing them
        afresh whenever the basis is set or rows are added (0.07 s on DLN; 1.2 s in England's
        last round). HiGHS reads its pricing options only when it sets up its solver, so the
        solver is cleared and the basis given back. Measured back to back
        (benchmarks/README.md): four warm re-solves in turn (budget, weight, budget, weight)
        on DLN 1.29 s -> 0.98 s and on England 1-year 4.4 s -> 3.6 s; England five-year,
        Devex from the third round, 62.1 / 58.4 s -> 57.9 / 53.3 s.
        """
        h = self.highs
        basis = h.getBasis()
        if not basis.valid:  # none after an infeasible run: this run starts cold, as it was
            return
        h.setOptionValue("simplex_dual_edge_weight_strategy", DEVEX)
        h.clearSolver()
        h.setBasis(basis)
        self._devex = True

    def _solve_years_apart(self) -> tuple | None:
        """Without its cross-year rows the LP falls apart into one LP per year: solve those
        in chains side by side (each year from its neighbour's basis) and return (column
        values, column and row basis, iterations) for the rows HiGHS holds, to start the
        whole LP from. None when the years are still tied (invest-to-save) or a year is not
        solved to optimality (the whole LP then says why).
        """
        years = {year: t for t, year in enumerate(self.inputs.years)}
        col_year = np.empty(self.lp.num_col, dtype=np.int64)
        for block in self.lp.columns.values():
            if "year" not in block.labels:
                return None
            col_year[block.start:block.stop] = pd.Series(
                np.asarray(block.labels["year"])).map(years).to_numpy()
        rows, cols, vals = self._entries
        held = self._row_of[rows] >= 0
        matrix = sp.csr_matrix((vals[held], (self._row_of[rows[held]], cols[held])),
                               shape=(len(self._rows), self.lp.num_col))
        entry_row = np.repeat(np.arange(len(self._rows)), np.diff(matrix.indptr))
        entry_year = col_year[matrix.indices]
        row_year = np.full(len(self._rows), -1)  # rows with no entries: in no year
        np.maximum.at(row_year, entry_row, entry_year)
        lowest = np.full(len(self._rows), len(years))
        np.minimum.at(lowest, entry_row, entry_year)
        if np.any((row_year >= 0) & (lowest != row_year)):
            return None
        bounds = self._held

        def one_year(t: int, start: tuple | None):
            c, r = np.nonzero(col_year == t)[0], np.nonzero(row_year == t)[0]
            h = new_highs(self.options)
            h.passModel(highs_model(
                matrix[r][:, c].tocsc(), bounds["col_cost"][c], bounds["col_lower"][c],
                bounds["col_upper"][c], bounds["row_lower"][self._rows[r]],
                bounds["row_upper"][self._rows[r]]))
            if start is not None and (len(start[0]), len(start[1])) == (len(c), len(r)):
                h.setBasis(basis_of(*start))  # the year before (or after): the same shape
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            return (c, r, np.asarray(h.getSolution().col_value), *status_arrays(h.getBasis()),
                    int(h.getInfo().simplex_iteration_count))

        def chain(order: list[int]) -> list | None:
            """The years in `order`, each from the optimal basis of the one before."""
            out, start = [], None
            for t in order:
                part = one_year(t, start)
                if part is None:
                    return None
                out.append(part)
                start = part[3:5]
            return out

        # Two chains side by side, forward from the first year and back from the last: a year
        # re-solved from its neighbour's basis takes a fraction of a cold solve (England: the
        # five years in 7.9 s, against 12 s with each year solved cold, two at a time)
        T = len(years)
        threads = self.options.threads or os.cpu_count() or 1
        chains = [list(range(T))] if threads < 2 or T < 2 else \
            [list(range(T // 2)), list(range(T - 1, T // 2 - 1, -1))]
        with ThreadPoolExecutor(len(chains)) as pool:
            solved = list(pool.map(chain, chains))  # HiGHS frees the GIL
        if any(part is None for part in solved):
            return None
        parts = [part for done in solved for part in done]
        col_value = np.zeros(self.lp.num_col)
        col_status = np.zeros(self.lp.num_col, dtype=np.int64)
        basic = int(highspy.HighsBasisStatus.kBasic)
        row_status = np.full(len(self._rows), basic)  # rows with no entries: slack basic
        for c, r, x, c_status, r_status, _ in parts:
            col_value[c], col_status[c], row_status[r] = x, c_status, r_status
        return col_value, col_status, row_status, sum(part[-1] for part in parts)

    def _cross_year_matrix(self) -> sp.csr_matrix:
        """The rows that may wait (all of them, held or not), one CSR row each, built once
        per set of coefficients: `_cross_year[j]` is the LP row of its row j."""
        if self._cross_matrix is None:
            rows, cols, vals = self._entries
            pick = np.zeros(self.lp.num_row, dtype=bool)
            pick[self._cross_year] = True
            pick = pick[rows]
            self._cross_matrix = sp.csr_matrix(
                (vals[pick], (np.searchsorted(self._cross_year, rows[pick]), cols[pick])),
                shape=(len(self._cross_year), self.lp.num_col))
            self._cross_matrix.sort_indices()
        return self._cross_matrix

    def _waiting_activity(self, col_value: np.ndarray) -> np.ndarray:
        activity = self._cross_year_matrix() @ col_value
        return activity[np.searchsorted(self._cross_year, self._waiting)]

    def _rows_to_add(self, col_value: np.ndarray) -> np.ndarray:
        """Waiting rows the solution breaks and, if any is broken, those it nearly reaches;
        every waiting row once those are few.

        The first rounds settle most of the cross-year plan; after them each round adds a
        few hundred rows and costs over a second of HiGHS set-up at England scale, however
        few. Holding every remaining row then costs one re-solve from a near-optimal basis
        (England five-year: 55 s against 69 s, benchmarks/README.md).
        """
        activity = self._waiting_activity(col_value)
        lower = self._arrays["row_lower"][self._waiting]
        upper = self._arrays["row_upper"][self._waiting]
        slack = FEASIBILITY * (1.0 + np.abs(activity))
        if not ((activity < lower - slack) | (activity > upper + slack)).any():
            return self._waiting[:0]
        with np.errstate(invalid="ignore"):
            margin = NEAR_BINDING * (1.0 + np.abs(activity) + np.where(
                np.isfinite(upper), np.abs(upper), np.where(np.isfinite(lower), np.abs(lower), 0)))
        add = (activity > upper - margin) | (activity < lower + margin)
        if add.sum() < HOLD_THE_REST * len(self._rows):
            return self._waiting
        return self._waiting[add]

    def _add_rows(self, add: np.ndarray) -> None:
        part = self._cross_year_matrix()[np.searchsorted(self._cross_year, add)]
        self.highs.addRows(len(add), self._arrays["row_lower"][add],
                           self._arrays["row_upper"][add], part.nnz,
                           part.indptr[:-1].astype(np.int32), part.indices.astype(np.int32),
                           part.data)
        self._set_rows(np.concatenate([self._rows, add]), np.setdiff1d(self._waiting, add))

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
