"""Row generation: the cross-year rows (mobilisation, continuity) wait until they are needed.

The strategy of large models (`solve.LAZY_FROM_COLUMNS`, or `SolveOptions(cross_year_rows=
"lazy")`). HiGHS starts without the cross-year rows; while they wait, each service's growth
rows summed over its years bound its reach (`held.Chains`). The first optimum comes from the
years solved apart (`strategies.years_apart`); the rows it breaks or nearly reaches are
added, and HiGHS re-solves from that basis (dual simplex: the basis stays dual feasible when
rows are added; Devex pricing from the third round, `highs.price_with_devex`), round after
round until every row holds. The answer is the optimum of the whole LP (a relaxation's
optimum that satisfies every row). A row never added has a shadow price of zero, which is
exact, unless it is part of a service's growth chain whose bound binds (`held.Chains` gives
it its share). With every year tied to the next through one national budget, England's
five-year LP is solved this way in under a minute; as one whole LP it had not finished in
ten (benchmarks/README.md).

A change is applied in place up to a size (`WARM_UP_TO_COLUMNS`; a change of costs only,
`WARM_COSTS_UP_TO_COLUMNS`): the rows already added stay, HiGHS re-solves from the last
basis and the waiting rows are checked again round after round, so the answer is the
optimum of the whole changed LP (tests/test_solve.py checks it against a cold solve). Above
those sizes the model is built again and solved cold: from the old basis a national budget
change ripples through every year and service, and the re-solve took longer than starting
again (England five-year, a 5% budget cut: 108 s warm, 57 s cold; 16 ICBs: 13.0 s and
10.6 s).
"""

from __future__ import annotations

import time

import numpy as np

from ..held import Chains
from ..highs import BASIC, DUAL, PRIMAL, Runs, basis_of, price_with_devex
from ..inputs import ModelInputs
from ..lp import LinearProgram
from .base import Solution, SolveOptions
from .held_lp import HeldLP
from .whole import PRIMAL_UP_TO_COLUMNS
from .years_apart import solve_years_apart

LAZY_FAMILIES = ("mobilisation", "continuity")  # the cross-year rows that may wait
NEAR_BINDING = 0.1  # also add waiting rows this close to a limit (fewer rounds)
HOLD_THE_REST = 0.002  # fewer rows to add than this share of those held: add every waiting row
FEASIBILITY = 1e-7  # a waiting row is broken beyond this x (1 + |its value|)
# Re-solved warm after a change (`update`) up to these sizes, built again and solved cold
# above (benchmarks/rowgen.py --warm, rowgen_results.md: five-year models of the first N ICBs
# of benchmarks/england_5y.toml, a 5% budget change and then a 25% change in the value of a
# QALY, warm against cold, load 6.5-8.5 on the shared 2-core machine). After the budget
# change warm won every time: DLN (44,385 columns) 0.28 s against 0.75 s, 3 ICBs 0.74-1.04
# against 1.55-1.88 s, 5 ICBs 1.62-1.66 against 2.66-3.04 s, 10 ICBs (253,930) 4.95-7.08
# against 5.87-8.66 s; larger, it lost (16 ICBs 13.0 against 10.6 s, England 108 against
# 57 s, benchmarks/README.md). After a change of costs only, warm won on DLN (0.41 against
# 0.96 s) but not reliably above it (--no-caps: 3 ICBs 0.94 / 1.45 s, 5 ICBs 3.43 / 1.64 s,
# 10 ICBs 5.48 / 6.87 s).
WARM_UP_TO_COLUMNS = 300_000
WARM_COSTS_UP_TO_COLUMNS = 50_000


def cross_year_rows(lp: LinearProgram) -> np.ndarray:
    """A mask of the LP rows that may wait (the families in `LAZY_FAMILIES`)."""
    mask = np.zeros(lp.num_row, dtype=bool)
    for block in (lp.rows[name] for name in LAZY_FAMILIES if name in lp.rows):
        mask[block.start:block.stop] = True
    return mask


class RowGeneration:
    """The LP without its cross-year rows at first; rows added in rounds as they break."""

    def __init__(self, inputs: ModelInputs, lp: LinearProgram, options: SolveOptions):
        self.options = options
        self.years = inputs.years
        self.held = HeldLP(lp, options, may_wait=cross_year_rows(lp))
        self.lp, self.highs = lp, self.held.highs
        self._solved_once = False
        self._devex = False
        self._simplex = DUAL  # for the next solve's first run

    @property
    def waiting_rows(self) -> int:
        """How many cross-year rows HiGHS does not hold (none broken at the last optimum)."""
        return len(self.held.waiting)

    def update(self, inputs: ModelInputs, lp: LinearProgram) -> bool:
        """The re-formulated LP in place, up to `WARM_UP_TO_COLUMNS` (the rows already added
        kept, the waiting ones checked again by the next solve's rounds, from the last
        basis); declined above it, or when the structure or the growth chains differ (built
        again, cold)."""
        held = self.held
        if lp.structure_key() != held.key:
            return False
        arrays = lp.arrays()
        costs_only = np.array_equal(lp.entries()[2], held.entries[2]) and all(
            np.array_equal(arrays[k], held.arrays[k])
            for k in ("col_lower", "col_upper", "row_lower", "row_upper"))
        if lp.num_col > (WARM_COSTS_UP_TO_COLUMNS if costs_only else WARM_UP_TO_COLUMNS):
            return False
        if len(held.chains.rows):
            chains = Chains.of(lp, lp.entries(), lp.arrays())
            if any(not np.array_equal(getattr(chains, f), getattr(held.chains, f))
                   for f in ("rows", "now", "prev", "depth")):
                return False
        changed = held.update(lp)
        if changed is None:
            return False
        self.lp = lp
        # the old basis stays primal feasible after a change of costs only (strategies.whole)
        self._simplex = PRIMAL if changed <= {"costs"} and lp.num_col < PRIMAL_UP_TO_COLUMNS \
            else DUAL
        return True

    def change(self, arrays: dict, simplex: str = "dual") -> None:
        """New costs and column bounds in place (`Solver.change`); the rounds re-solve by
        dual simplex, whatever changed (rows may be added)."""
        self.held.change(arrays)

    def start_from(self, col_status, row_status) -> bool:
        """A basis of the whole LP cannot be given while rows wait (`HeldLP.set_lp_basis`)."""
        return False

    def solve(self, deadline: float) -> Solution:
        warm = self._solved_once
        held, h = self.held, self.highs
        runs = Runs()
        if warm and not self._devex:
            self._devex = price_with_devex(h)
        if not warm and len(held.waiting) and self.options.method != "ipm":
            began = time.perf_counter()
            apart = solve_years_apart(held, self.years, self.options)
            runs.seconds += time.perf_counter() - began
            if apart is not None:
                runs.iterations += apart.iterations
                runs.count += 1  # the first optimum without the cross-year rows
                add = self._rows_to_add(apart.col_value)
                if len(add):
                    held.add_rows(add)
                h.setBasis(basis_of(apart.col_status, np.concatenate(
                    [apart.row_status, np.full(len(add), BASIC)])))
        simplex, self._simplex = self._simplex, DUAL
        while runs.run(h, self.options, simplex, deadline) == "optimal" and len(held.waiting):
            simplex = DUAL  # rows added: the basis stays dual feasible
            add = self._rows_to_add(np.asarray(h.getSolution().col_value))
            if not len(add):
                break
            held.add_rows(add)
            if not self._devex:  # the later rounds are re-solves from a near-optimal basis
                self._devex = price_with_devex(h)
        self._solved_once = True
        return held.solution(runs, warm)

    def _rows_to_add(self, col_value: np.ndarray) -> np.ndarray:
        """Waiting rows the solution breaks and, if any is broken, those it nearly reaches;
        every waiting row once those are few.

        The first rounds settle most of the cross-year plan; after them each round adds a
        few hundred rows and costs over a second of HiGHS set-up at England scale, however
        few. Holding every remaining row then costs one re-solve from a near-optimal basis
        (England five-year: 55 s against 69 s, benchmarks/README.md).
        """
        held = self.held
        activity = held.waiting_activity(col_value)
        lower = held.arrays["row_lower"][held.waiting]
        upper = held.arrays["row_upper"][held.waiting]
        slack = FEASIBILITY * (1.0 + np.abs(activity))
        if not ((activity < lower - slack) | (activity > upper + slack)).any():
            return held.waiting[:0]
        with np.errstate(invalid="ignore"):
            margin = NEAR_BINDING * (1.0 + np.abs(activity) + np.where(
                np.isfinite(upper), np.abs(upper), np.where(np.isfinite(lower), np.abs(lower), 0)))
        add = (activity > upper - margin) | (activity < lower + margin)
        if add.sum() < HOLD_THE_REST * len(held.rows):
            return held.waiting
        return held.waiting[add]
