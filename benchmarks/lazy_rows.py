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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimiser import load_model  # noqa: E402
from optimiser.formulation import formulate  # noqa: E402
from optimiser.solve import SolveOptions, new_highs, to_highs_lp  # noqa: E402

LAZY = ("mobilisation", "continuity")


def main(model: str) -> int:
    began = time.perf_counter()
    lp = formulate(load_model(REPO / model))
    arrays, matrix = lp.arrays(), lp.matrix().tocsr()
    lazy = np.zeros(lp.num_row, dtype=bool)
    for name in LAZY:
        if name in lp.rows:
            lazy[lp.rows[name].start:lp.rows[name].stop] = True
    h = new_highs(SolveOptions(time_limit=1800.0))
    h.passModel(to_highs_lp(lp))
    waiting = np.nonzero(lazy)[0]
    h.deleteRows(len(waiting), waiting.astype(np.int32))
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
