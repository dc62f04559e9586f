"""The cache of typed tables (optimiser/io.py): used only when it matches the files' digest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from optimiser import io
from optimiser.errors import InputError, Problems
from optimiser.inputs import TABLE_SCHEMAS, load_model, read_tables

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(io.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(REPO / "data", folder, ignore=shutil.ignore_patterns("*.md", "*.xlsx"))
    return folder


def read(source: Path) -> dict[str, pd.DataFrame]:
    problems = Problems()
    tables = read_tables(source, problems)
    assert not problems
    return tables


def no_reading(monkeypatch) -> None:
    """Any table read from its file now fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a table was read from its file, not from the cache")
    monkeypatch.setattr(io, "coerce_table", refuse)


def assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b) == [s.name for s in TABLE_SCHEMAS]
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_second_read_comes_from_the_cache_and_is_the_same(cache, data, monkeypatch):
    first = read(data)
    assert len(list(cache.glob("tables-*.pickle"))) == 1
    no_reading(monkeypatch)
    assert_same(read(data), first)


def test_a_changed_file_is_read_afresh(cache, data, monkeypatch):
    read(data)
    pcns = (data / "pcns.csv").read_text()
    header, first_row = pcns.splitlines()[:2]
    column = header.split(",").index("population")
    cells = first_row.split(",")
    cells[column] = str(int(float(cells[column])) + 1)
    (data / "pcns.csv").write_text(pcns.replace(first_row, ",".join(cells), 1))
    fresh = read(data)
    assert fresh["pcns"]["population"].iloc[0] == float(cells[column])
    assert len(list(cache.glob("tables-*.pickle"))) == 2  # the old key's file stays unused


@pytest.mark.parametrize("damage", ["truncate", "flip", "other key", "not a pickle"])
def test_a_damaged_or_stale_cache_file_is_never_trusted(cache, data, monkeypatch, damage):
    expected = read(data)
    (path,) = cache.glob("tables-*.pickle")
    raw = path.read_bytes()
    head = len(io.CACHE_MAGIC)
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw = raw[:-100] + bytes([raw[-100] ^ 0xFF]) + raw[-99:]
    elif damage == "other key":
        raw = raw[:head] + b"0" * 64 + raw[head + 64:]
    else:  # a file whose digest matches but whose payload is not a pickle of the tables
        import hashlib
        payload = b"not a pickle"
        raw = (raw[:head + 65] + hashlib.sha256(payload).hexdigest().encode() + b"\n"
               + payload)
    path.write_bytes(raw)
    assert_same(read(data), expected)
    no_reading(monkeypatch)  # ... and the file was replaced by a sound one
    assert_same(read(data), expected)


def test_a_cached_pickle_of_something_else_is_not_used(cache, data):
    expected = read(data)
    key = io.tables_key(data, [s.name for s in TABLE_SCHEMAS],
                        [io.__file__, __import__("optimiser.schemas").schemas.__file__])
    io.write_cached(key, {"pcns": "not a table"})
    assert_same(read(data), expected)


def test_tables_with_problems_are_never_cached(cache, data):
    text = (data / "pcns.csv").read_text().splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("population")] = "lots"
    (data / "pcns.csv").write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n")
    problems = Problems()
    read_tables(data, problems)
    assert problems
    assert not list(cache.glob("tables-*.pickle")) if cache.exists() else True
    problems = Problems()
    read_tables(data, problems)  # reported again, from the file
    assert any("not a number" in str(p) for p in problems.items)


def test_cache_off_writes_nothing(tmp_path, data, monkeypatch):
    monkeypatch.setenv(io.CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    read(data)
    assert not (tmp_path / "xdg").exists()


def test_a_model_loads_the_same_from_the_cache(cache, monkeypatch):
    first = load_model(REPO / "models" / "dln_base.toml")
    no_reading(monkeypatch)
    second = load_model(REPO / "models" / "dln_base.toml")
    assert second.digest == first.digest
    pd.testing.assert_frame_equal(second.pcns, first.pcns)
    pd.testing.assert_frame_equal(second.workforce_wte, first.workforce_wte)


def test_a_missing_file_is_still_reported(cache, data):
    (data / "staff_groups.csv").unlink()
    with pytest.raises(InputError, match="staff_groups.csv"):
        load_model_from(data)


def load_model_from(data: Path):
    model = data.parent / "model.toml"
    model.write_text((REPO / "models" / "dln_base.toml").read_text().replace(
        'data = "../data"', f'data = "{data.name}"'))
    return load_model(model)
