"""A labelled linear program: blocks of variables and rows over pandas indexes.

The formulation adds whole blocks at once (vectorised), each with a name and an index that
labels its elements. Names for the exported LP/MPS file and the dual table are made from
the labels only when asked for, so building stays fast at England scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

INF = np.inf


Labels = pd.DataFrame | dict  # a block's labels: a frame, or its columns as equal-length arrays


@dataclass
class Block:
    """A contiguous run of variables or rows, labelled by `index` (one row per element).

    The labels may be given as a dict of column arrays; the frame is then built on first use,
    so that re-formulating for a warm re-solve (which only needs the arrays) stays fast.
    """

    name: str
    start: int
    labels: Labels
    meaning: str = ""
    size: int = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.labels, pd.DataFrame):
            self.size = len(self.labels)
        else:
            lengths = {len(v) for v in self.labels.values()}
            if len(lengths) > 1:
                raise ValueError(f"labels of {self.name} have different lengths {lengths}")
            self.size = lengths.pop() if lengths else 0

    @cached_property
    def index(self) -> pd.DataFrame:
        frame = self.labels if isinstance(self.labels, pd.DataFrame) \
            else pd.DataFrame(self.labels)
        return frame.reset_index(drop=True)

    @property
    def stop(self) -> int:
        return self.start + self.size

    def positions(self) -> np.ndarray:
        return np.arange(self.start, self.stop)

    def names(self) -> list[str]:
        if self.index.shape[1] == 0:
            return [self.name] * self.size
        parts = [self.index[c].astype(str).str.replace(r"[\s/:,]+", "_", regex=True)
                 for c in self.index.columns]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + "," + part
        return (self.name + "(" + joined + ")").tolist()


def product(**levels) -> dict[str, np.ndarray]:
    """Label columns for every combination of the levels, the last varying fastest."""
    arrays = [np.asarray(v) for v in levels.values()]
    sizes = [len(a) for a in arrays]
    total = int(np.prod(sizes)) if sizes else 0
    out, outer = {}, 1
    for name, values, n in zip(levels, arrays, sizes, strict=True):
        inner = total // (outer * n) if n else 0
        out[name] = np.tile(np.repeat(values, inner), outer)
        outer *= n
    return out


@dataclass
class LinearProgram:
    """max c'x  subject to  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper."""

    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    col_lower: list[np.ndarray] = field(default_factory=list)
    col_upper: list[np.ndarray] = field(default_factory=list)
    col_cost: list[np.ndarray] = field(default_factory=list)
    col_integer: list[np.ndarray] = field(default_factory=list)  # whole numbers only (a MIP)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)
    _entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    num_col: int = 0
    num_row: int = 0
    objective_offset: float = 0.0

    def add_vars(self, name: str, index: Labels, lower=0.0, upper=INF, cost=0.0,
                 meaning: str = "", integer: bool = False) -> Block:
        block = Block(name, self.num_col, index, meaning)
        n = block.size
        self.columns[name] = block
        self.col_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.col_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.col_cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self.col_integer.append(np.full(n, bool(integer)))
        self.num_col += n
        return block

    def add_rows(self, name: str, index: Labels, row: np.ndarray, col: np.ndarray,
                 value: np.ndarray, lower=-INF, upper=INF, meaning: str = "") -> Block:
        """Rows `name`, with entries (row within the block, global column, coefficient)."""
        block = Block(name, self.num_row, index, meaning)
        n = block.size
        self.rows[name] = block
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        row = np.asarray(row, dtype=np.int64) + self.num_row
        self._entries.append((row, np.asarray(col, dtype=np.int64),
                              np.asarray(value, dtype=float)))
        self.num_row += n
        return block

    def add_entries(self, rows: Block, row: np.ndarray, col: np.ndarray,
                    value: np.ndarray) -> None:
        """More entries in rows already added (row within the block `rows`, global column,
        coefficient): a column added after its rows, such as a rule's shortfall."""
        self._entries.append((np.asarray(row, dtype=np.int64) + rows.start,
                              np.asarray(col, dtype=np.int64), np.asarray(value, dtype=float)))

    # ---- assembled arrays ----------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        def cat(parts):
            return np.concatenate(parts) if parts else np.zeros(0)

        return {
            "col_lower": cat(self.col_lower),
            "col_upper": cat(self.col_upper),
            "col_cost": cat(self.col_cost),
            "row_lower": cat(self.row_lower),
            "row_upper": cat(self.row_upper),
        }

    def integrality(self) -> np.ndarray:
        """Which columns take whole numbers only (none in an LP; the MIP's runs and posts)."""
        return np.concatenate(self.col_integer) if self.col_integer else np.zeros(0, bool)

    @property
    def is_mip(self) -> bool:
        return any(part.any() for part in self.col_integer)

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All matrix entries (row, column, value) in build order, zeros kept."""
        if not self._entries:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        rows, cols, vals = zip(*self._entries, strict=True)
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def matrix(self) -> sp.csc_matrix:
        r, c, v = self.entries()
        return sp.csc_matrix((v, (r, c)), shape=(self.num_row, self.num_col))

    def structure_key(self) -> tuple:
        """What must match for an in-place update: block names, sizes and the sparsity."""
        r, c, _ = self.entries()
        return (
            tuple((b.name, b.size) for b in self.columns.values()),
            tuple((b.name, b.size) for b in self.rows.values()),
            hash(r.tobytes()) ^ hash(c.tobytes()),
        )

    def column_names(self) -> list[str]:
        return [n for b in self.columns.values() for n in b.names()]

    def row_names(self) -> list[str]:
        return [n for b in self.rows.values() for n in b.names()]

    def row_block_of(self, position: int) -> Block:
        for block in self.rows.values():
            if block.start <= position < block.stop:
                return block
        raise IndexError(position)
