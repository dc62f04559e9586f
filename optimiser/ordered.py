r"""Rules that bend in a stated order: the lexicographic stages, behind the Solver's face.

A model's [rules] give each rule that may fall short a rank, and keep the others hard
(optimiser/policy.py). `OrderedSolver` has the face of `solve.Solver` (`update`, `solve`,
`inputs`, `lp`, `options`, `rebuilds`, `highs`, `waiting_rows`, `write`) and answers so:

1. Every rule met (the fast path). The LP with every rule hard, in its own `Solver`, exactly
   as the tool solves without ranks: when it is optimal that is the answer, the same numbers
   to the last digit (the same LP, solved the same way).
2. Otherwise the rules bend in their order: the LP with the ranked rules' shortfalls
   (`formulation.rule_shortfalls`), in a second `Solver` built the first time it is needed
   and updated in place after, is solved in stages (pre-emptive goal programming, exactly:
   no penalty weight):

       stage k (each rank, first to last):  min Z_k   with Z_1 .. Z_{k-1} held at their least
         then, spread:                      min L_k   with Z_k held too
       last stage:                          max the weighted outcome, every Z_k and L_k held

   Z_k is rank k's shortfall in £; L_k the largest shortfall of one of its rows as a share
   of what that row asks (rows with a fixed requirement: the floor of each service in each
   PCN, a target, a lock, a ring fence's minimum). Without the spread step, the last stage
   would put the least £ shortfall where £1 buys least outcome: on DLN with the floor at 30%,
   317 core services fell to 1.5% of their cohort while the others kept 30%, which a board
   cannot read as a universal offer; spread, every service keeps the same share of its
   floor, the least the money allows. Holding Z_k means bounding its column above by its least
   value, plus `FIX_RELATIVE` of it and `FIX_ABSOLUTE_GBP` (the solver's own tolerances are
   finer; the margin keeps the next stage from failing on the last digit). A stage whose
   least is already reached (Z_k at zero in the stage before's optimum: zero is the least a
   shortfall can be) is held there without a solve. Each stage changes the objective and one
   bound in place (`Solver.change`) and re-solves from the last basis, by primal simplex (the
   last optimum stays feasible): at most ranks + 1 warm re-solves.

   The stages start from the optimum of one weighted LP, the objective less sum_k M_k Z_k
   (`_weights`: the last rank's £ weighs `WEIGHT_MARGIN` times the most weighted outcome £1
   buys, each rank `RANK_RATIO` times the next). For an LP some finite weights make that
   optimum the lexicographic one, but which is not known in advance; so the weights decide
   only the speed, never the answer: where they were large enough, each stage confirms the
   optimum it starts from in no iterations; where not, the stage moves on to the exact one.
   The weighted LP starts from the second model's last weighted basis or, the first time,
   from the hard LP's basis extended to the shortfalls (`_extended`: shortfalls at zero,
   each rank's total basic). With the weights above that basis stays dual feasible, so dual
   simplex re-solves it after the move like any warm change (DLN, the floor from 21% to 30%:
   0.5-0.8 s for the move, benchmarks/ordered_results.md; stages that each started from the
   stage before's basis took 3-30 s, measured while building this: each stage's objective is
   far from the last's, and the last stage had to undo the others' arbitrary vertex).

Step 1 runs on every solve, even just after one that fell short: HiGHS finds a move that is
still short infeasible from its last basis in a few iterations (DLN: about 0.07 s), and a move
back within the rules is then answered by the hard LP alone, so a plan that meets every rule
is always the hard-only plan.

Shadow prices of the last stage are the weighted outcome's sensitivities *with every rank's
shortfall held at its least*: one more £1 of budget (or a WTE) buys what it adds to the
outcome while each shortfall stays where the ranks above allow (it does not cut a shortfall:
that would change an earlier stage). The reduced cost of Z_k (`Allocation.shortfall_prices`)
is what £1 more of rank k's shortfall would add to the weighted outcome: the price of holding
that rank where it is. A large model's second Solver holds its cross-year rows back like any other
(row generation): each stage re-solves with the rows held so far and adds those it breaks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .formulation import Layout, formulate, objective
from .held import BASIC, LOWER, UPPER
from .inputs import ModelInputs
from .lp import LinearProgram
from .solve import Solution, SolveOptions, Solver

FIX_RELATIVE = 1e-9  # a rank's shortfall is held at its least x (1 + this) ...
FIX_ABSOLUTE_GBP = 1e-6  # ... + this many £ (a shortfall this small counts as none)
SPREAD_ABSOLUTE = 1e-6  # a rank's largest share short is held at its least + this (and x 1e-9)
WEIGHT_MARGIN = 10.0  # the weighted start (module docstring): the last rank's £ of shortfall
RANK_RATIO = 10.0  # weighs 10 x the most outcome £1 buys, and each rank 10 x the next


def _extended(basis: tuple[np.ndarray, np.ndarray], hard: LinearProgram,
              soft: LinearProgram) -> tuple[np.ndarray, np.ndarray]:
    """A basis of the hard LP as a basis of the LP with shortfalls (which has the same
    columns and rows first, then the shortfalls and ranks' columns and the locks' and ranks'
    rows): shortfalls at zero, each rank's total basic in its defining row, new lock rows
    basic, and a locked column that sat at its lock at the bound it keeps (its upper)."""
    col, row = basis
    new_cols = soft.num_col - hard.num_col
    z = np.full(new_cols, LOWER, dtype=np.int8)  # shortfalls (and spreads) at zero
    totals = soft.columns["rule_shortfall_gbp"]
    z[totals.start - hard.num_col:totals.stop - hard.num_col] = BASIC
    rows = np.full(soft.num_row - hard.num_row, BASIC, dtype=np.int8)
    define = soft.rows["define_rule_shortfall"]
    rows[define.start - hard.num_row:define.stop - hard.num_row] = LOWER
    col = np.concatenate([col, z])
    was, now = hard.arrays(), soft.arrays()
    freed = (col[:hard.num_col] == LOWER) & (was["col_lower"] == was["col_upper"]) \
        & (now["col_lower"][:hard.num_col] < was["col_lower"])
    col[:hard.num_col][freed] = UPPER
    return col, np.concatenate([row, rows])


@dataclass(frozen=True)
class Stage:
    """One rank's stage: its least shortfall in £ and what finding it cost."""

    rank: int
    rules: str  # the rules at this rank, comma-separated ids
    shortfall_gbp: float
    solved: bool  # False: already at zero after the stage before, held without a solve
    iterations: int = 0
    seconds: float = 0.0
    # the largest shortfall of a row at this rank as a share of what the row asks, once the
    # rank's shortfall is spread (None: nothing to spread)
    spread: float | None = None


def _held_at(least: float) -> float:
    least = _positive(least)
    return least + FIX_RELATIVE * least + FIX_ABSOLUTE_GBP


def _positive(value: float) -> float:
    """A shortfall as reported: never below zero (nor -0.0)."""
    return max(float(value), 0.0) + 0.0


class OrderedSolver:
    """The Solver face with rules that bend in their stated order (module docstring)."""

    def __init__(self, inputs: ModelInputs, options: SolveOptions | None = None):
        self.inputs = inputs
        self.hard = Solver(inputs, options or SolveOptions())
        self.soft: Solver | None = None  # built the first time a rule falls short
        self.stages: list[Stage] = []  # of the last solve that bent the rules
        self._soft_builds = 0
        self._weighted_basis: tuple | None = None  # of the second model's last weighted start
        self._last = self.hard  # the Solver whose LP the last solution is of
        # asked by HiGHS every iteration while set: True stops the run (a cancel in the app)
        self.interrupt: Callable[[], bool] | None = None

    # ---- the Solver face -----------------------------------------------------------------
    @property
    def options(self) -> SolveOptions:
        return self.hard.options

    @options.setter
    def options(self, options: SolveOptions) -> None:
        """New options (the app's time limit) for both models, from their next solve."""
        self.hard.options = options
        if self.soft is not None:
            self.soft.options = options

    @property
    def lp(self) -> LinearProgram:
        """The LP of the last solution (with the shortfalls when the rules bent)."""
        return self._last.lp

    @property
    def highs(self):
        """The HiGHS model of the hard LP (a starting basis is set on it)."""
        return self.hard.highs

    @property
    def rebuilds(self) -> int:
        """Times a model was built after the first (the second model's first build counts)."""
        return self.hard.rebuilds + self._soft_builds

    @property
    def waiting_rows(self) -> int:
        return self._last.waiting_rows

    @property
    def bent(self) -> bool:
        """Did the last solution bend the rules (some rule short)?"""
        return self._last is self.soft

    def update(self, inputs: ModelInputs) -> str:
        """New inputs: the hard model is updated now ('warm' or 'rebuilt'), the second model
        when it is next needed."""
        self.inputs = inputs
        return self.hard.update(inputs)

    def write(self, path: str) -> None:
        """Export the hard LP (every rule hard) with readable names."""
        self.hard.write(path)

    # ---- solving -------------------------------------------------------------------------
    def solve(self) -> Solution:
        self.stages = []
        with self._watched(self.hard):
            solution = self.hard.solve()
        if solution.status != "infeasible" or not self.inputs.policy.rules_bend:
            return self._answer(self.hard, solution)
        soft = self._soft()
        if "rule_shortfall_gbp" not in soft.lp.columns:  # nothing may bend: no plan
            return self._answer(self.hard, solution)
        seed = self.hard.lp_basis() if self._weighted_basis is None else None
        with self._watched(soft):
            stages = self._stages(soft, seed)
        return self._answer(soft, stages, [solution])

    @contextmanager
    def _watched(self, solver: Solver) -> Iterator[None]:
        """While the block runs, HiGHS asks `interrupt` every iteration (when it is set)."""
        if self.interrupt is None:
            yield
            return
        ask = self.interrupt

        def callback(event) -> None:
            event.interrupt(ask())

        highs = solver.highs
        callbacks = (highs.cbSimplexInterrupt, highs.cbIpmInterrupt)
        for each in callbacks:
            each.subscribe(callback)
        strategy = getattr(solver, "strategy", None)
        mip = hasattr(strategy, "interrupt")  # a mixed-integer plan: its branch and cut too
        if mip:
            strategy.interrupt = ask
        try:
            yield
        finally:
            for each in callbacks:
                each.unsubscribe(callback)
            if mip:
                strategy.interrupt = None

    def _answer(self, solver: Solver, solution: Solution,
                tried: tuple[Solution, ...] | list[Solution] = ()) -> Solution:
        """`solution` (of `solver`), with the runs before it counted in."""
        self._last = solver
        return self._summed(solution, list(tried), build=True)

    def _soft(self) -> Solver:
        """The second model, for these inputs: built now, or updated in place."""
        if self.soft is None:
            self.soft = Solver(self.inputs, self.options,
                               lp=formulate(self.inputs, shortfalls=True))
            self._soft_builds += 1
        elif self.soft.inputs is not self.inputs:
            if self.soft.update(self.inputs) == "rebuilt":
                self._soft_builds += 1
                self._weighted_basis = None  # of another structure
        return self.soft

    def _stages(self, soft: Solver, seed: tuple | None) -> Solution:
        """The lexicographic stages on the second model (module docstring), started from the
        weighted optimum; `seed`: a basis of the hard LP to start the weighted solve from
        when the second model has none of its own."""
        lp = soft.lp
        arrays = lp.arrays()
        totals = lp.columns["rule_shortfall_gbp"]
        z_cols = totals.positions()
        weighted = arrays["col_cost"].copy()
        weights = self._weights(len(z_cols))
        weighted[z_cols] = -weights
        spread = lp.columns.get("rule_shortfall_spread")
        if spread is not None:  # each rank's spread between its own £ and the next rank's
            at = np.searchsorted(totals.index["rank"].to_numpy(), spread.index["rank"])
            weighted[spread.positions()] = -(weights[at] / np.sqrt(RANK_RATIO)
                                             * spread.index["asks_gbp"].to_numpy())
        soft.change({**arrays, "col_cost": weighted}, simplex="dual")
        if self._weighted_basis is not None:
            soft.start_from(*self._weighted_basis)
        elif seed is not None:
            soft.start_from(*_extended(seed, self.hard.lp, lp))
        solution = soft.solve()
        runs = [solution]
        if not solution.optimal:
            return self._summed(solution, [])
        self._weighted_basis = soft.lp_basis()
        values = solution.col_value
        upper = arrays["col_upper"].copy()
        labels = totals.index
        spread_of = {} if spread is None else dict(zip(
            spread.index["rank"].astype(int),
            zip(spread.positions(), spread.index["asks_gbp"].astype(float), strict=True),
            strict=True))
        for col, rank, rules in zip(z_cols, labels["rank"], labels["rules"], strict=True):
            if values[col] <= FIX_ABSOLUTE_GBP:  # zero is the least a shortfall can be
                upper[col] = _held_at(values[col])
                self.stages.append(Stage(int(rank), str(rules), _positive(values[col]), False))
                continue
            cost = np.zeros(lp.num_col)
            cost[col] = -1.0  # the LP maximises: the least shortfall of this rank
            soft.change({**arrays, "col_cost": cost, "col_upper": upper})
            began = time.perf_counter()
            solution = soft.solve()
            runs.append(solution)
            if not solution.optimal:
                return self._summed(solution, runs[:-1])
            values = solution.col_value
            least = float(values[col])
            upper[col] = _held_at(least)
            share = None
            if int(rank) in spread_of:  # the least £ short, spread as evenly as it can be
                m, asks = spread_of[int(rank)]
                cost = np.zeros(lp.num_col)
                # in £ (the share x the £ its rows ask): with a cost of 1 a share's reduced
                # costs fall below HiGHS's dual tolerance and a warm re-solve stops short
                # (DLN, the floor at 30%: 0.30 warm against 0.26 found cold)
                cost[m] = -max(asks, 1.0)
                soft.change({**arrays, "col_cost": cost, "col_upper": upper})
                solution = soft.solve()
                runs.append(solution)
                if not solution.optimal:
                    return self._summed(solution, runs[:-1])
                values = solution.col_value  # later ranks may have moved: read them here
                share = _positive(values[m])
                upper[m] = share + FIX_RELATIVE * share + SPREAD_ABSOLUTE
            self.stages.append(Stage(int(rank), str(rules), _positive(least), True,
                                     solution.iterations, time.perf_counter() - began, share))
        soft.change({**arrays, "col_upper": upper})
        return self._summed(soft.solve(), runs)

    def _weights(self, ranks: int) -> np.ndarray:
        """£ weights of the ranks' shortfalls in the weighted start: the last rank's £ weighs
        `WEIGHT_MARGIN` times the most weighted outcome £1 can buy, each rank `RANK_RATIO`
        times the next."""
        lay = Layout(self.inputs)
        _t, m, _k = lay.tmk()
        cost = lay.cost[m]
        per_gbp = objective(lay)[cost > 0] / cost[cost > 0]
        last = WEIGHT_MARGIN * max(float(per_gbp.max(initial=0.0)), 1.0)
        return last * RANK_RATIO ** np.arange(ranks - 1, -1, -1, dtype=float)

    @staticmethod
    def _summed(solution: Solution, runs: list[Solution], build: bool = False) -> Solution:
        """`solution` with the iterations, times and rounds of `runs` (before it) added."""
        if not runs:
            return solution
        return dataclasses.replace(
            solution, iterations=solution.iterations + sum(r.iterations for r in runs),
            solve_seconds=solution.solve_seconds + sum(r.solve_seconds for r in runs),
            build_seconds=solution.build_seconds
            + (sum(r.build_seconds for r in runs) if build else 0.0),
            rounds=solution.rounds + sum(r.rounds for r in runs),
            warm=solution.warm and all(r.warm for r in runs))
