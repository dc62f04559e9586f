"""The files written from arrays are the same bytes as the pandas route they replace."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from optimiser import io


def hostile_frame(rows: int = 60, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(scale=1e6, size=rows)
    floats[::7] = np.nan
    floats[1] = -0.0
    floats[2] = math.inf
    floats[3] = 1e-12
    floats[4] = 123456789012.5
    words = ["plain", "with, comma", 'with "quotes"', "=SUM(A1)", "-3.5", "+44 20", "@x",
             "line\nbreak", "", "£1,000", "tab\tstart", "ünïcode"]
    text = [words[i % len(words)] for i in range(rows)]
    return pd.DataFrame({
        "code": pd.array(text, dtype="str"),
        "object text": pd.Series(text, dtype=object),
        "value": floats,
        "count": np.arange(rows, dtype=np.int64) - 5,
        "flag": np.arange(rows) % 3 == 0,
        "whole": np.round(floats / 1e3),
    })


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_csv_from_arrays_matches_pandas(seed):
    frame = hostile_frame(seed=seed)
    assert io._csv_from_arrays(frame) is not None  # the fast path is the one tested
    assert io.csv_bytes(frame) == io.csv_through_pandas(frame)


def test_csv_with_missing_text_matches_pandas():
    frame = hostile_frame()
    frame["object text"] = frame["object text"].where(frame["count"] % 4 != 0, np.nan)
    frame["code"] = frame["code"].where(frame["count"] % 5 != 0)
    assert io.csv_bytes(frame) == io.csv_through_pandas(frame)


def test_other_tables_go_through_pandas():
    mixed = pd.DataFrame({"a": [1, "x"], "b": [1.0, 2.0]}, dtype=object)
    assert io._csv_from_arrays(mixed) is None
    assert io.csv_bytes(mixed) == io.csv_through_pandas(mixed)
    one = pd.DataFrame({"a": ["", "x"]})
    assert io._csv_from_arrays(one) is None


def test_the_allocation_csv_of_dln_is_unchanged():
    from pathlib import Path

    from optimiser import load_model
    from optimiser.api import allocate

    inputs = load_model(Path(__file__).resolve().parents[1] / "models" / "dln_base.toml")
    _, allocation = allocate(inputs)
    for table in (allocation.detail, allocation.by_pcn, allocation.by_priority):
        assert io.csv_bytes(table) == io.csv_through_pandas(table)


def test_workbook_tables_from_arrays_match_writing_cell_by_cell(monkeypatch):
    """`Workbook.table` writes each column's numbers and text directly; the bytes are those of
    writing every value through `Workbook.cell` (the way before)."""
    from optimiser.xlsx import Workbook

    frame = hostile_frame()
    frame["object mixed"] = pd.Series([1, "x", None, 2.5, True] * 12, dtype=object)
    frame["code"] = frame["code"].where(frame["count"] % 5 != 0)

    def book() -> bytes:
        wb = Workbook("test", digest="abc")
        wb.table(wb.sheet("Table"), 0, frame)
        return wb.close()

    fast = book()
    def cell_by_cell(self, sheet, series, fmt):
        values = series.tolist()
        return lambda r, c, i: self.cell(sheet, r, c, values[i], fmt)

    monkeypatch.setattr(Workbook, "_column_writer", cell_by_cell)
    assert fast == book()


def test_headline_figures_are_worked_out_once_per_allocation(monkeypatch):
    """A batch job and summary.xlsx's front sheet both ask for the headline figures and the
    PCNs below the median; each is worked out once, and a caller's changes stay its own."""
    from pathlib import Path

    from optimiser import load_model, report, strategy
    from optimiser.api import allocate

    inputs = load_model(Path(__file__).resolve().parents[1] / "models" / "dln_base.toml")
    _, allocation = allocate(inputs)
    calls = {"figures": 0, "below": 0}
    real_figures, real_below = report._figures, strategy._below_median

    def count(name, real):
        def counted(*args):
            calls[name] += 1
            return real(*args)
        return counted

    monkeypatch.setattr(report, "_figures", count("figures", real_figures))
    monkeypatch.setattr(strategy, "_below_median", count("below", real_below))
    first = report.figures(allocation)
    first["spend_gbp"] = -1.0
    report.summary_workbook(allocation)
    second = report.figures(allocation)
    assert calls == {"figures": 1, "below": 1}
    assert second["spend_gbp"] == allocation.totals["spend_gbp"]
    assert second == real_figures(allocation)
