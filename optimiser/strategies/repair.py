"""The repair heuristic: the LP relaxation's plan rounded to one a contract manager can let.

The relaxation (every run[t,j] and post count free to be fractional) spreads money as the LP
does. Repair decides which contracts run, then lets the LP move the money: every integer
column is fixed (run at 0 or 1, posts at a whole number) and the LP with them fixed is solved
from the relaxation's basis. That plan meets every rule the LP holds (the budget, the floors,
the minimum sizes of the contracts kept, a contract not kept reaching no one), so it is a
commissionable plan, and HiGHS is given it as its first incumbent (`Highs.setSolution`).

Which contracts run, tried in turn until the fixed LP is feasible:

1. rounded: a contract runs in a year where the relaxation reaches at least half its minimum
   size (or its run is at least one half); every year after a year it runs, it runs (a service
   funded one year must keep most of its funding the next: the continuity rule);
2. as used: every contract the relaxation reaches anyone with runs (minimum sizes then move
   money to the small ones, or the budget says no);
3. widest: each service as its widest contracts (one per ICB, with merge), in every year they
   can reach their minimum: the fewest minimums to meet, and every PCN covered for its floor;
4. open: every contract that can reach its minimum size in the year runs.

A contract is run only in years it can reach its minimum size, and only if it could reach it
in its first year from nothing (the most a new service grows in a year, mobilisation): the
relaxation may run one a fraction of the way where a whole contract cannot start.

Posts are rounded up from the relaxation's. A rounding that leaves no feasible plan returns
None: the mixed-integer solve then starts without an incumbent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..commissioning import LEVELS
from ..highs import DUAL, Runs
from ..lp import LinearProgram
from .held_lp import HeldLP

TINY = 1e-7  # people: less is no one


@dataclass
class Repaired:
    """A commissionable plan: its column values, objective and the way it was rounded."""

    col_value: np.ndarray
    objective: float
    how: str
    iterations: int
    seconds: float


def candidates(lp: LinearProgram, value: np.ndarray, row_value: np.ndarray):
    """The run settings to try, in order (module docstring): (name, 0/1 per run column)."""
    run = lp.columns.get("contract_runs")
    if run is None:
        yield "no contracts to decide", np.zeros(0)
        return
    labels = run.index
    T = int(labels["year"].nunique())
    n = run.size // T
    cols = run.positions()
    relaxed = value[cols].reshape(T, n)
    size_rows, upper_rows = lp.rows["contract_minimum_size"], lp.rows["contract_runs_upper"]
    matrix = lp.matrix().tocsr()
    minimum = -matrix[size_rows.start:size_rows.stop][:, cols].diagonal()  # N_j, t-major
    most = -np.asarray(matrix[upper_rows.start:upper_rows.stop][:, cols].sum(axis=0)).ravel()
    reached = (row_value[size_rows.start:size_rows.stop] + minimum * value[cols]).reshape(T, n)
    minimum, most = minimum.reshape(T, n), most.reshape(T, n)
    # a contract can run in a year when it could reach its minimum there, and start at all
    # when it could reach it in a first year from nothing (the first year's cap, mobilisation)
    can = (most >= minimum - 1e-9) & (most[0] >= minimum[0] - 1e-9)[None, :]

    def keep_running(on: np.ndarray) -> np.ndarray:
        return (np.maximum.accumulate(on, axis=0) & can).astype(float).reshape(-1)

    yield "rounded", keep_running(((reached >= 0.5 * minimum - TINY) & (reached > TINY))
                                  | (relaxed >= 0.5))
    yield "as used", keep_running(reached > TINY)
    # each service as its widest contracts (one per ICB with merge): the fewest minimums
    level = labels["level"].to_numpy()[:n]
    iv = labels["intervention"].to_numpy()[:n]
    rank = pd.Series(level).map({v: k for k, v in enumerate(LEVELS)}).to_numpy()
    widest = rank == pd.Series(rank).groupby(iv).transform("max").to_numpy()
    yield "widest", (can & widest[None, :]).astype(float).reshape(-1)
    yield "open", can.astype(float).reshape(-1)


def repair(held: HeldLP, lp: LinearProgram, relaxed_value: np.ndarray,
           relaxed_row_value: np.ndarray, options, deadline: float) -> Repaired | None:
    """A commissionable plan from the relaxation's (module docstring), solved in `held`'s
    HiGHS model with the integer columns fixed; `held` is given back as it was."""
    integer = lp.integrality()
    cols = np.nonzero(integer)[0]
    run = lp.columns.get("contract_runs")
    run_cols = run.positions() if run is not None else np.zeros(0, np.int64)
    others = np.setdiff1d(cols, run_cols)  # posts: rounded up
    h = held.highs
    lower, upper = held.held["col_lower"][cols].copy(), held.held["col_upper"][cols].copy()
    basis = h.getBasis()
    runs = Runs()
    found = None
    try:
        for how, setting in candidates(lp, relaxed_value, relaxed_row_value):
            fixed = np.empty(len(cols))
            at = np.searchsorted(cols, run_cols)
            fixed[at] = setting
            at = np.searchsorted(cols, others)
            fixed[at] = np.minimum(np.ceil(relaxed_value[others] - 1e-6),
                                   held.held["col_upper"][others])
            h.changeColsBounds(len(cols), cols.astype(np.int32), fixed, fixed)
            if runs.run(h, options, DUAL, deadline) == "optimal":
                sol = h.getSolution()
                found = Repaired(np.asarray(sol.col_value).copy(),
                                 float(h.getInfo().objective_function_value), how,
                                 runs.iterations, runs.seconds)
                break
            if runs.status == "time_limit":
                break
    finally:
        h.changeColsBounds(len(cols), cols.astype(np.int32), lower, upper)
        if basis.valid:
            h.setBasis(basis)
    return found
