"""What every solve strategy is given and gives back: `SolveOptions`, `Solution`, and the
`Strategy` interface that `optimiser.solve.Solver` holds each of them by.

Kept apart from `optimiser.solve` so that the strategies and the face can both import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import highspy
import numpy as np

from ..inputs import ModelInputs
from ..lp import LinearProgram

DEFINITIVE = ("optimal", "infeasible", "unbounded", "time_limit")  # statuses a user is shown


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 600.0  # seconds for one Solver.solve(), every run of HiGHS in it
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
    """One solve's outcome, with a value and a dual for every column and row of the LP."""

    status: str  # optimal, infeasible, unbounded, time_limit or error
    solver_status: str  # HiGHS's own words
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
    retried_cold: bool = False  # a warm re-solve ended without an answer: rebuilt and cold
    # a mixed-integer plan's facts (strategies/mip.py): relaxation, bound, gap asked and met
    mip: dict | None = field(default=None, repr=False)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


class Strategy(Protocol):
    """One way to solve the model: a class in its own module under `optimiser/strategies/`.

    `Solver` builds one with `Strategy(inputs, lp, options)`, which passes the LP (as
    `formulation.formulate` built it) to HiGHS, and then only calls:

    - `update(inputs, lp) -> bool`: take a changed model of the same structure in place, so
      the next `solve` starts from the last basis (True), or decline (False: `Solver` builds
      the strategy afresh and its next solve is cold). `lp` is `formulation.reformulate`'s.
    - `solve(deadline) -> Solution`: solve until `time.perf_counter()` reaches `deadline` at
      the latest, and report a value and a dual for every column and row of `lp` (rows the
      strategy held as bounds or never added included), the status in the tool's words
      (`highs.STATUS`), and whether it started from an earlier basis (`warm`). Solver fills
      in `build_seconds` and `retried_cold`.

    For strategies over a strategy (`optimiser/ordered.py` runs the stages of rules that
    bend on a `Solver`), two more: `change(arrays, simplex)` pushes new costs and column
    bounds in place and says how the next solve re-optimises; `start_from(col_status,
    row_status) -> bool` starts the next solve from a basis of the whole LP (False while
    rows wait).

    `lp`, `highs` (the HiGHS model it re-solves, read by tests, benchmarks and the
    uncertainty analysis, which sets a starting basis on it) and `waiting_rows` (rows not
    yet given to HiGHS) are read through `Solver`.

    `strategies.held_lp.HeldLP` is the LP as HiGHS holds it, for a strategy to build on: it
    changes costs and column and row bounds in place (`change`), takes a re-formulated LP
    (`update`), adds rows, and gives back values and duals for every LP row (`solution`).
    A lexicographic strategy for ordered soft rules would hold one and, in `solve`, run a
    stage per rule: `change` the costs to that rule's shortfall and fix the stages before
    at their optimum (one more column bound each), re-solve warm, and report the last
    stage's `solution`. A mixed-integer strategy would pass the LP with its binary columns
    marked (`Highs.changeColsIntegrality`), solve the MIP with its gap and the deadline,
    and take the duals from the LP with those binaries fixed.
    """

    lp: LinearProgram
    highs: highspy.Highs
    waiting_rows: int

    def update(self, inputs: ModelInputs, lp: LinearProgram) -> bool: ...

    def solve(self, deadline: float) -> Solution: ...
