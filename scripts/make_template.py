"""Write data/template.xlsx: the shipped tables as one workbook, a sheet per table.

Users copy it, change the figures for their ICB, and point a model file's `model.data` at it
(or upload it in the app). Run after scripts/build_data.py: `make data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimiser.inputs import TABLE_SCHEMAS  # noqa: E402
from optimiser.io import write_workbook  # noqa: E402


def main() -> None:
    data = ROOT / "data"
    tables = {
        s.name: pd.read_csv(data / f"{s.name}.csv", dtype=str, keep_default_na=False)
        for s in TABLE_SCHEMAS
    }
    write_workbook(tables, data / "template.xlsx")
    print(f"Wrote {data / 'template.xlsx'}")


if __name__ == "__main__":
    main()
