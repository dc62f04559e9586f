"""LP rows HiGHS holds as column bounds, and how their values and duals come back.

Two kinds, both what presolve would find, done here because HiGHS skips presolve when it
re-solves from a basis (warm re-solves, and row generation's later rounds):

- `Singletons`: a row with one entry (the universal floor on one service, its first year's
  growth) is a bound on that column.
- `Chains`: the mobilisation rows y[t] - y[t-1] <= g E of one service, summed from its first
  year, give y[t] <= (t + 1) g E. The sum is implied by the rows, so the optimum is unchanged;
  held as a column bound it keeps each year's LP (solved apart before the cross-year rows are
  added) from planning growth no service could reach, and England's five-year solve needs
  fewer rounds (benchmarks/README.md).

Each gives back a value and a dual for every LP row, as the LP with the rows kept would: a
bound that binds passes its column's reduced cost to the rows it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lp import LinearProgram

TIGHTER = 1e-9  # a chain's bound is held only when below the column's own by more
LOWER, BASIC, UPPER = 0, 1, 2  # HiGHS's basis status numbers (HighsBasisStatus)


@dataclass(frozen=True, eq=False)
class Singletons:
    """The LP's rows with exactly one (non-zero) entry, held by HiGHS as column bounds.

    `keep` marks the rows passed to HiGHS as rows; `rows`, `cols` and `entry` give each
    singleton row, its column and the position of its coefficient in `lp.entries()`.
    """

    keep: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    entry: np.ndarray

    @classmethod
    def of(cls, num_row: int, entries: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Singletons:
        rows, cols, vals = entries
        count = np.bincount(rows, minlength=num_row)
        entry = np.nonzero((count[rows] == 1) & (vals != 0))[0]
        keep = np.ones(num_row, dtype=bool)
        keep[rows[entry]] = False
        return cls(keep, rows[entry], cols[entry], entry)

    def same_as(self, other: Singletons) -> bool:
        return np.array_equal(self.keep, other.keep) and np.array_equal(self.entry, other.entry)

    def implied(self, arrays: dict, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each singleton row l <= a x_j <= u as bounds on x_j: (lower, upper)."""
        a = vals[self.entry]
        lower, upper = arrays["row_lower"][self.rows], arrays["row_upper"][self.rows]
        with np.errstate(invalid="ignore"):
            return (np.where(a > 0, lower, upper) / a, np.where(a > 0, upper, lower) / a)

    def held(self, arrays: dict, vals: np.ndarray) -> dict[str, np.ndarray]:
        """The LP's arrays with the column bounds tightened by the singleton rows (the row
        bounds of every LP row are passed on; HiGHS holds those of the rows it has)."""
        low, up = self.implied(arrays, vals)
        col_lower, col_upper = arrays["col_lower"].copy(), arrays["col_upper"].copy()
        np.maximum.at(col_lower, self.cols, low)
        np.minimum.at(col_upper, self.cols, up)
        return {"col_cost": arrays["col_cost"], "col_lower": col_lower, "col_upper": col_upper,
                "row_lower": arrays["row_lower"], "row_upper": arrays["row_upper"]}

    def expand(self, arrays: dict, vals: np.ndarray, col_value: np.ndarray,
               col_dual: np.ndarray, row_value: np.ndarray, row_dual: np.ndarray,
               tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row values and duals for every LP row, and the columns' own reduced costs.

        `row_value` and `row_dual` are LP-length, filled for the rows HiGHS held; the
        singleton rows' entries are filled here.

        HiGHS reports a reduced cost d_j for a column at a bound. When that bound was set by
        a singleton row a x_j (strictly tighter than the column's own bound), the row is
        what binds: its dual is d_j / a and the column's reduced cost is zero, exactly as
        the LP with the row kept would report (c_j - A_j'y - d_j = 0 either way).
        """
        full_value, full_dual = np.array(row_value, dtype=float), np.array(row_dual, dtype=float)
        a = vals[self.entry]
        full_value[self.rows] = a * col_value[self.cols]
        col_dual = np.array(col_dual, dtype=float)
        held = self.held(arrays, vals)
        low, up = self.implied(arrays, vals)
        x = col_value[self.cols]
        # In a maximisation HiGHS gives a column held at its lower bound a negative reduced
        # cost and one at its upper bound a positive one: only a reduced cost of the bound's
        # sign can belong to a row that set that bound (x may sit at both at once)
        for bound, implied, own, sign in ((held["col_lower"], low, arrays["col_lower"], -1),
                                          (held["col_upper"], up, arrays["col_upper"], 1)):
            active = bound[self.cols]
            sets = (implied == active) & (implied != own[self.cols]) \
                & (np.abs(x - active) <= tolerance * (1.0 + np.abs(active))) \
                & (sign * col_dual[self.cols] > 0)
            which = np.nonzero(sets)[0]
            _, first = np.unique(self.cols[which], return_index=True)  # one row per column
            which = which[first]
            full_dual[self.rows[which]] = col_dual[self.cols[which]] / a[which]
            col_dual[self.cols[which]] = 0.0
        return full_value, full_dual, col_dual

    # ---- a basis with the singleton rows as rows, and back ---------------------------------
    def basis_to_lp(self, arrays: dict, vals: np.ndarray, col_status: np.ndarray,
                    row_status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Basis statuses (HiGHS's numbers) as the LP with these rows kept would have them.

        `row_status` is LP-length, filled for the rows HiGHS holds. A column nonbasic at a
        bound that a singleton row set is basic in the LP, and that row nonbasic at the
        matching side; every other singleton row is basic.
        """
        col, row = np.array(col_status, dtype=np.int8), np.array(row_status, dtype=np.int8)
        row[self.rows] = BASIC
        held = self.held(arrays, vals)
        low, up = self.implied(arrays, vals)
        a = vals[self.entry]
        for side, bound, implied, own in ((LOWER, held["col_lower"], low, arrays["col_lower"]),
                                          (UPPER, held["col_upper"], up, arrays["col_upper"])):
            sets = (col[self.cols] == side) & (implied == bound[self.cols]) \
                & (implied != own[self.cols])
            which = np.nonzero(sets)[0]
            _, first = np.unique(self.cols[which], return_index=True)  # one row per column
            which = which[first]
            col[self.cols[which]] = BASIC
            row[self.rows[which]] = np.where((a[which] > 0) == (side == LOWER), LOWER, UPPER)
        return col, row

    def basis_from_lp(self, col_status: np.ndarray, row_status: np.ndarray,
                      vals: np.ndarray) -> np.ndarray:
        """The reverse of `basis_to_lp`: column statuses with the singleton rows held as
        bounds (a singleton row nonbasic in the LP puts its basic column at that bound)."""
        col = np.array(col_status, dtype=np.int8)
        a = vals[self.entry]
        status = np.asarray(row_status)[self.rows]
        which = np.nonzero(((status == LOWER) | (status == UPPER)) & (col[self.cols] == BASIC))[0]
        _, first = np.unique(self.cols[which], return_index=True)
        which = which[first]
        col[self.cols[which]] = np.where((a[which] > 0) == (status[which] == LOWER), LOWER, UPPER)
        return col


@dataclass(frozen=True, eq=False)
class Chains:
    r"""Growth rows summed along each service's years, held as upper bounds on its reach.

    Row i of the family reads  y[now_i] - y[before_i] <= u_i  (no `before` in the first
    year). With B_j the upper bound HiGHS holds on column j, each row implies

        y[now_i] <= U_i = u_i + B[before_i]              (U_i = u_i in the first year)

    taken year by year, so U_i = u_first + ... + u_i while the chain is what binds. Where U_i
    is below the column's other bounds it is held as the column's upper bound.

    `rows` are the family's LP rows; `now` the +1 column of each; `prev` the position (in
    `rows`) of the row whose `now` is this row's `before`, -1 in the first year; `depth` the
    years from the first.
    """

    rows: np.ndarray
    now: np.ndarray
    prev: np.ndarray
    depth: np.ndarray

    @classmethod
    def none(cls) -> Chains:
        return cls(*(np.zeros(0, dtype=np.int64) for _ in range(4)))

    @classmethod
    def of(cls, lp: LinearProgram, entries: tuple[np.ndarray, np.ndarray, np.ndarray],
           arrays: dict, family: str = "mobilisation") -> Chains:
        """The chains of `family`'s rows (`entries` and `arrays` are the LP's); none if any
        row is not of the growth form."""
        none = cls.none()
        block = lp.rows.get(family)
        if block is None or not block.size:
            return none
        rows, cols, vals = entries
        pick = (rows >= block.start) & (rows < block.stop)
        local, cols, vals = rows[pick] - block.start, cols[pick], vals[pick]
        n = block.size
        now, before = np.full(n, -1), np.full(n, -1)
        now[local[vals == 1.0]] = cols[vals == 1.0]
        before[local[vals == -1.0]] = cols[vals == -1.0]
        count = np.bincount(local, minlength=n)
        lower = arrays["row_lower"][block.start:block.stop]
        if np.any(now < 0) or np.any(count != 1 + (before >= 0)) or np.any(np.isfinite(lower)):
            return none
        row_of_col = np.full(lp.num_col, -1)
        row_of_col[now] = np.arange(n)
        prev = np.where(before >= 0, row_of_col[np.maximum(before, 0)], -1)
        if np.any((before >= 0) & (prev < 0)):
            return none
        depth = np.zeros(n, dtype=np.int64)
        for _ in range(n):
            deeper = np.where(prev >= 0, depth[prev] + 1, 0)
            if np.array_equal(deeper, depth):
                break
            depth = deeper
        return cls(block.positions(), now, prev, depth)

    def implied(self, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
        """(U_i for each row, whether U_i is below the column's other bounds), given the
        LP's row bounds and the column bounds held so far."""
        u = arrays["row_upper"][self.rows]
        own = arrays["col_upper"][self.now]
        bound = own.copy()  # B of each row's column, as the chains tighten it
        total = np.zeros(len(self.rows))
        chained = np.zeros(len(self.rows), dtype=bool)
        for level in range(int(self.depth.max()) + 1 if len(self.rows) else 0):
            at = np.nonzero(self.depth == level)[0]
            before = self.prev[at]
            total[at] = u[at] + np.where(before >= 0, bound[np.maximum(before, 0)], 0.0)
            chained[at] = total[at] < own[at] - TIGHTER * (1.0 + np.abs(own[at]))
            bound[at] = np.where(chained[at], total[at], own[at])
        return total, chained

    def held(self, arrays: dict) -> dict:
        """`arrays` (as held so far) with each chain's bound on its column's upper bound."""
        total, chained = self.implied(arrays)
        col_upper = arrays["col_upper"].copy()
        col_upper[self.now[chained]] = total[chained]
        return {**arrays, "col_upper": col_upper}

    def expand(self, arrays: dict, col_value: np.ndarray, col_dual: np.ndarray,
               row_dual: np.ndarray, tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
        """Row duals and column reduced costs with the chains' bounds given back to rows.

        `arrays` are the bounds held before the chains. A reduced cost d > 0 at a chain's
        bound U_i (below the column's other bounds) is the dual of the sum of rows i,
        prev(i), ...: each of those rows gains d, back to the first row of the chain or to a
        column whose own bound set B there (that column's reduced cost gains d). The columns
        in between appear in two adjacent rows with +1 and -1, so their reduced costs do not
        change, and every row in the chain is tight when U_i binds.
        """
        row_dual, col_dual = np.array(row_dual, dtype=float), np.array(col_dual, dtype=float)
        if not len(self.rows):
            return row_dual, col_dual
        total, chained = self.implied(arrays)
        x, d = col_value[self.now], col_dual[self.now]
        binds = chained & (d > 0) & (np.abs(x - total) <= tolerance * (1.0 + np.abs(total)))
        flow = np.where(binds, d, 0.0)
        col_dual[self.now[binds]] = 0.0
        while np.any(flow):
            row_dual[self.rows] += flow
            at = np.nonzero((flow != 0) & (self.prev >= 0))[0]
            back, passed = self.prev[at], flow[at]
            flow = np.zeros(len(self.rows))
            on = chained[back]
            np.add.at(flow, back[on], passed[on])
            np.add.at(col_dual, self.now[back[~on]], passed[~on])
        return row_dual, col_dual
