"""An experiment for the England 5-year LP: add the cross-year rows only when violated.

    python benchmarks/lazy_rows.py [MODEL]      default benchmarks/england_5y.toml; ~5 min

Solved whole, England 5-year does not finish in 600 s (benchmarks/README.md). Here HiGHS first
solves the LP without the mobilisation and continuity rows, then, round by round, adds the
rows the current optimum violates and re-solves from the previous basis (dual simplex), until
none is violated. The result is the optimum of the whole LP: every row holds, and the rows
never added have zero shadow prices. Not yet in `optimiser.solve` (the warm `update` would have
to track which rows HiGHS holds); this script measures whether it is worth doing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import highspy
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimiser import load_model  # noqa: E402
from optimiser.formulation import formulate  # noqa: E402
from optimiser.solve import SolveOptions, new_highs  # noqa: E402

LAZY = ("mobilisation", "continuity")


def highs_model(lp, arrays, matrix, keep: np.ndarray) -> highspy.HighsLp:
    part = matrix[keep].tocsc()
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_col, int(keep.sum())
    model.col_cost_, model.col_lower_ = arrays["col_cost"], arrays["col_lower"]
    model.col_upper_ = arrays["col_upper"]
    model.row_lower_, model.row_upper_ = arrays["row_lower"][keep], arrays["row_upper"][keep]
    model.sense_ = highspy.ObjSense.kMaximize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = part.indptr.astype(np.int32)
    model.a_matrix_.index_ = part.indices.astype(np.int32)
    model.a_matrix_.value_ = part.data
    return model


def main(model: str) -> int:
    began = time.perf_counter()
    lp = formulate(load_model(REPO / model))
    arrays, matrix = lp.arrays(), lp.matrix().tocsr()
    lazy = np.zeros(lp.num_row, dtype=bool)
    for name in LAZY:
        if name in lp.rows:
            lazy[lp.rows[name].start:lp.rows[name].stop] = True
    h = new_highs(SolveOptions(time_limit=1800.0))
    h.passModel(highs_model(lp, arrays, matrix, ~lazy))
    print(f"built in {time.perf_counter() - began:.1f} s: {lp.num_col:,} columns, "
          f"{int((~lazy).sum()):,} rows held, {int(lazy.sum()):,} cross-year rows waiting")
    pending = np.nonzero(lazy)[0]
    solve_s, rounds = 0.0, 0
    while True:
        start = time.perf_counter()
        h.run()
        solve_s += time.perf_counter() - start
        status = h.modelStatusToString(h.getModelStatus())
        print(f"round {rounds}: {status}, objective {h.getInfo().objective_function_value:,.0f},"
              f" {time.perf_counter() - start:.1f} s", flush=True)
        if status != "Optimal":
            return 1
        x = np.asarray(h.getSolution().col_value)
        activity = matrix[pending] @ x
        slack = 1e-7 * (1.0 + np.abs(activity))
        violated = ((activity < arrays["row_lower"][pending] - slack)
                    | (activity > arrays["row_upper"][pending] + slack))
        if not violated.any():
            break
        add, pending = pending[violated], pending[~violated]
        rows = matrix[add].tocsr()
        h.addRows(len(add), arrays["row_lower"][add], arrays["row_upper"][add], rows.nnz,
                  rows.indptr[:-1].astype(np.int32), rows.indices.astype(np.int32), rows.data)
        rounds += 1
    added = int(lazy.sum()) - len(pending)
    print(f"optimal after {rounds} rounds: {added:,} of {int(lazy.sum()):,} cross-year rows "
          f"added; HiGHS {solve_s:.1f} s, total {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/england_5y.toml"))
