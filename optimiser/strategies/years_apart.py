"""The years solved apart, in two chains side by side: the first optimum of row generation.

Without its cross-year rows (mobilisation, continuity) the LP falls apart into one LP per
year. Each is solved by its own HiGHS model, in two chains on two threads (HiGHS frees the
GIL): forward from the first year and back from the last, each year from the optimal basis
of its neighbour in the chain, which takes a fraction of a cold solve (England: the five
years in 7.9 s, against 12 s with each year solved cold, two at a time). Put together, the
years' values and bases start the whole model (`strategies.rowgen`).

Not a strategy on its own: it gives no duals, and the cross-year rows it ignores may be
broken.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..highs import BASIC, basis_of, highs_model, new_highs, status_arrays
from .base import SolveOptions
from .held_lp import HeldLP


@dataclass(frozen=True)
class YearsApart:
    """Each year's optimum put together: column values, and the status of every column and
    of every row HiGHS holds (in `HeldLP.rows` order), with the iterations they took."""

    col_value: np.ndarray
    col_status: np.ndarray
    row_status: np.ndarray
    iterations: int


def solve_years_apart(held: HeldLP, years: Sequence, options: SolveOptions) -> YearsApart | None:
    """The rows `held` holds, solved year by year (`years` as in the columns' labels). None
    when the years are still tied (a row across years: invest-to-save) or a year is not
    solved to optimality (the whole LP then says why)."""
    lp = held.lp
    year_of = {year: t for t, year in enumerate(years)}
    col_year = np.empty(lp.num_col, dtype=np.int64)
    for block in lp.columns.values():
        if "year" not in block.labels:
            return None
        col_year[block.start:block.stop] = pd.Series(
            np.asarray(block.labels["year"])).map(year_of).to_numpy()
    rows, cols, vals = held.entries
    kept = held.row_of[rows] >= 0
    matrix = sp.csr_matrix((vals[kept], (held.row_of[rows[kept]], cols[kept])),
                           shape=(len(held.rows), lp.num_col))
    entry_row = np.repeat(np.arange(len(held.rows)), np.diff(matrix.indptr))
    entry_year = col_year[matrix.indices]
    row_year = np.full(len(held.rows), -1)  # rows with no entries: in no year
    np.maximum.at(row_year, entry_row, entry_year)
    lowest = np.full(len(held.rows), len(year_of))
    np.minimum.at(lowest, entry_row, entry_year)
    if np.any((row_year >= 0) & (lowest != row_year)):
        return None
    bounds = held.held

    def one_year(t: int, start: tuple | None):
        c, r = np.nonzero(col_year == t)[0], np.nonzero(row_year == t)[0]
        h = new_highs(options)
        h.passModel(highs_model(
            matrix[r][:, c].tocsc(), bounds["col_cost"][c], bounds["col_lower"][c],
            bounds["col_upper"][c], bounds["row_lower"][held.rows[r]],
            bounds["row_upper"][held.rows[r]]))
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

    T = len(year_of)
    threads = options.threads or os.cpu_count() or 1
    chains = [list(range(T))] if threads < 2 or T < 2 else \
        [list(range(T // 2)), list(range(T - 1, T // 2 - 1, -1))]
    with ThreadPoolExecutor(len(chains)) as pool:
        solved = list(pool.map(chain, chains))
    if any(part is None for part in solved):
        return None
    parts = [part for done in solved for part in done]
    col_value = np.zeros(lp.num_col)
    col_status = np.zeros(lp.num_col, dtype=np.int64)
    row_status = np.full(len(held.rows), BASIC)  # rows with no entries: slack basic
    for c, r, x, c_status, r_status, _ in parts:
        col_value[c], col_status[c], row_status[r] = x, c_status, r_status
    return YearsApart(col_value, col_status, row_status, sum(part[-1] for part in parts))
