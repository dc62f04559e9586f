"""Batch runs end to end: files a finance team opens, reproducible, atomic, parallel, on Dask.

Every run here uses a one-year copy of the DLN model (models/dln_base.toml with its 2026/27
figures) so that a solve takes a second or two.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from optimiser import batch, io
from optimiser.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SUMMARY_SHEETS = ["Summary", "Strategy targets", "Enhanced support", "Top 15 vs rest",
                  "PCN range", "Charts", "By year and PCN", "By priority", "By ICB", "By place",
                  "By IMD quintile", "Higher need vs universal", "Shadow prices",
                  "Binding rules", "Inputs", "Workforce available", "PCN inputs",
                  "Interventions"]
SCENARIOS = '''
[scenarios.more_budget]
description = "A fifth more money in 2026/27."
budget.gbp_per_head = [16.84]

[scenarios.efficiency_only]
description = "No enhanced uplift and no need gradient."
equity.enhanced_uplift = 0.0
equity.need_gradient = 0.0
constraints.enhanced_support_uplift = false
constraints.need_gradient = false
'''


def one_year_model(folder: Path, scenarios: str = SCENARIOS, data: Path = DATA,
                   gbp_per_head: float = 14.03, name: str = "dln_one_year.toml") -> Path:
    """models/dln_base.toml cut to 2026/27 (its own scenarios dropped), reading `data`."""
    text = (ROOT / "models" / "dln_base.toml").read_text()
    text = text[: text.index("\n[scenarios.")] if "\n[scenarios." in text else text
    for pattern, line in ((r"^years = \[.*?\]$", 'years = ["2026/27"]'),
                          (r"^gbp_per_head = \[.*?\]$", f"gbp_per_head = [{gbp_per_head}]"),
                          (r"^data = \".*?\"$", f"data = {json.dumps(str(data))}")):
        text, found = re.subn(pattern, line, text, count=1, flags=re.M | re.S)
        assert found, f"models/dln_base.toml no longer has a line matching {pattern}"
    path = folder / name
    path.write_text(text + scenarios)
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    """The command line as a user runs it (no terminal attached, as in CI)."""
    return subprocess.run([sys.executable, "-m", "optimiser", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, stdin=subprocess.DEVNULL)


def csv_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return one_year_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def first_run(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "first"
    result = cli("run", str(model), "--scenario", "base", "--scenario", "more_budget",
                 "--out", str(out), "--workers", "2")
    return result, out


# ---- end to end ---------------------------------------------------------------------------

def test_end_to_end_writes_every_file_with_a_line_per_scenario(first_run):
    result, out = first_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for scenario in ("base", "more_budget"):
        for name in ("allocation.csv", "summary.xlsx", "run.json"):
            assert (out / scenario / name).is_file(), f"{scenario}/{name} missing"
        line = next(x for x in result.stdout.splitlines() if f"] {scenario}: " in x)
        assert "optimal, weighted outcome £" in line and line.rstrip().endswith(
            str(out / scenario)), line
    assert (out / "comparison.csv").is_file() and (out / "comparison.xlsx").is_file()
    assert "2 runs in" in result.stdout and "2 optimal" in result.stdout
    assert temp_files(out) == []


def test_run_json_is_a_manifest(first_run):
    _, out = first_run
    manifest = json.loads((out / "base" / "run.json").read_text())
    assert manifest["status"] == "optimal" and manifest["checks_passed"] is True
    assert len(manifest["input_digest"]) == 16
    assert {"optimiser", "highspy", "python", "pandas", "numpy"} <= set(manifest["versions"])
    assert manifest["objective_gbp"] > 0
    timings = json.loads((out / "base" / "timings.json").read_text())
    assert timings["wall_seconds"] > 0
    assert timings["solve_seconds"] >= 0 and timings["build_seconds"] >= 0
    assert not {"wall_seconds", "solve_seconds", "build_seconds"} & set(manifest)
    record = json.loads((out / "batch.json").read_text())
    assert record["status"] == "complete" and record["runs_written"] == 2
    assert [r["status"] for r in record["runs"]] == ["optimal", "optimal"]
    import hashlib
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / "base" / name).read_bytes()).hexdigest() == digest


def test_workbook_sheets_and_totals_equal_the_csv(first_run):
    _, out = first_run
    detail = pd.read_csv(out / "base" / "allocation.csv")
    book = load_workbook(out / "base" / "summary.xlsx")
    assert book.sheetnames == SUMMARY_SHEETS

    sheet = book["By year and PCN"]
    header = [c.value for c in sheet[1]]
    spend = header.index("Spend (£)")
    values = [row[spend] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(values) == 55  # every DLN PCN, one year
    assert sum(values) == pytest.approx(detail["spend_gbp"].sum(), rel=1e-9)
    assert sheet.freeze_panes == "D2"
    assert sheet.cell(2, spend + 1).number_format == "£#,##0"
    wte = header.index("WTE, all staff groups")
    assert sheet.cell(2, wte + 1).number_format == "#,##0.0"
    qaly = header.index("QALYs gained")
    assert sum(r[qaly] for r in sheet.iter_rows(min_row=2, values_only=True)) == pytest.approx(
        detail["qaly"].sum(), rel=1e-9)

    for name, column in (("By priority", "Spend (£)"), ("By ICB", "Spend (£)"),
                         ("By place", "Spend (£)"), ("By IMD quintile", "Spend (£)")):
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        total = sum(r[header.index(column)] for r in sheet.iter_rows(min_row=2, values_only=True))
        assert total == pytest.approx(detail["spend_gbp"].sum(), rel=1e-9), name
        assert sheet.freeze_panes is not None, name

    front = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert front["Spend allocated"] == pytest.approx(detail["spend_gbp"].sum(), rel=1e-9)
    assert front["QALYs gained"] == pytest.approx(detail["qaly"].sum(), rel=1e-9)
    text = " ".join(str(v) for r in book["Summary"].iter_rows(values_only=True) for v in r if v)
    assert "How should the model" in text and "across 55 PCNs in 3 ICBs" in text
    assert "proportionate-universalism rules?" in text
    assert "Optimal" in text and "independent check" in text
    assert "scaled from seed 003 line 326" in text  # the [budget] note, carried
    assert "National Cost Collection" in text and "OGL v3" in text
    assert len(book["Charts"]._charts) == 3
    inputs = {r[0]: r[1] for r in book["Inputs"].iter_rows(min_row=4, values_only=True)}
    assert inputs["universal_floor"] == 0.2 and inputs["scenario"] == "base"
    assert book["Interventions"].max_row > 30


def test_the_higher_need_sheet_is_per_icb_and_labels_the_pooled_view(first_run):
    _, out = first_run
    book = load_workbook(out / "base" / "summary.xlsx", read_only=True)
    rows = [r for r in book["Higher need vs universal"].iter_rows(values_only=True)]
    header = list(rows[2])
    assert header[:3] == ["Year", "ICB code", "ICB"]
    icb, lowest, rule = (header.index(n) for n in ("ICB code", "Lowest higher-need PCN ÷ other",
                                                   "The rule: at least"))
    body = [r for r in rows[3:] if r[icb] in ("QJ2", "QJM", "QT1")]
    assert len(body) == 3 * 7  # every ICB and priority of the one-year model
    assert all(r[lowest] >= r[rule] - 1e-9 for r in body)  # the rule, as it is measured
    text = " ".join(str(v) for r in rows for v in r if v is not None)
    assert "All ICBs pooled: NOT what the rule measures" in text


def test_comparison_holds_every_scenario_and_the_difference_from_base(first_run):
    _, out = first_run
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert list(table["scenario"]) == ["base", "more_budget"]
    for column in ("objective_gbp", "qaly", "nel_avoided", "ed_avoided", "bed_days_avoided",
                   "spend_per_head_q1_gbp", "spend_per_head_q5_gbp",
                   "higher_need_per_eligible_gbp", "universal_per_eligible_gbp",
                   "spend_per_head_concentration_index", "binding_constraints",
                   "objective_gbp_vs_base", "reference_scenario"):
        assert column in table.columns, column
    base, more = table.iloc[0], table.iloc[1]
    assert base["objective_gbp_vs_base"] == 0
    assert more["objective_gbp_vs_base"] == pytest.approx(
        more["objective_gbp"] - base["objective_gbp"], rel=1e-6)
    assert more["objective_gbp"] > base["objective_gbp"]  # more money, more outcome
    assert more["spend_gbp"] == pytest.approx(base["spend_gbp"] * 16.84 / 14.03, rel=1e-6)
    assert "budget_limit 1" in base["binding_constraints"]
    detail = pd.read_csv(out / "base" / "allocation.csv")
    assert base["spend_gbp"] == pytest.approx(detail["spend_gbp"].sum(), rel=1e-9)

    book = load_workbook(out / "comparison.xlsx")
    assert book.sheetnames == ["Summary", "Key figures", "All figures", "Charts"]
    sheet = book["All figures"]
    header = [c.value for c in sheet[1]]
    objective = header.index("Weighted outcome, discounted (£) - the objective")
    values = [r[objective] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == pytest.approx(list(table["objective_gbp"]), rel=1e-9)
    assert len(book["Charts"]._charts) == 2


def sha256_of_every_file(out: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_rerun_gives_byte_identical_files_timings_apart(first_run, model, tmp_path):
    _, first = first_run
    second = tmp_path / "second"
    code = main(["run", str(model), "--scenario", "base", "--scenario", "more_budget",
                 "--out", str(second), "--workers", "1"])
    assert code == 0
    assert len(csv_files(first)) == 3
    a, b = sha256_of_every_file(first), sha256_of_every_file(second)
    assert a.keys() == b.keys()
    timings = {name for name in a if name.endswith("timings.json")}
    assert timings == {"base/timings.json", "more_budget/timings.json"}
    # sha256sum of two runs: every file the same, summary.xlsx and run.json included
    assert {k: v for k, v in a.items() if k not in timings} == \
        {k: v for k, v in b.items() if k not in timings}
    assert {"base/summary.xlsx", "base/run.json", "comparison.xlsx", "batch.json"} <= a.keys()


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_files_as_the_local_run(first_run, model, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, first = first_run
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster:
        code = main(["run", str(model), "--scenario", "base", "--scenario", "more_budget",
                     "--out", str(out), "--executor", "dask",
                     "--scheduler", cluster.scheduler_address])
    assert code == 0
    assert csv_files(out) == csv_files(first)


# ---- failures ------------------------------------------------------------------------------

TINY_BUDGET = SCENARIOS + '''
[scenarios.tiny_budget]
description = "A budget far too small for the universal core offer."
budget.gbp_per_head = [1.0]
'''


def test_a_budget_too_small_gives_a_plan_that_names_its_shortfalls(tmp_path):
    path = one_year_model(tmp_path, TINY_BUDGET)
    out = tmp_path / "out"
    result = cli("run", str(path), "--scenario", "tiny_budget", "--icb", "QJ2", "--out",
                 str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tiny_budget / QJ2: optimal" in result.stdout
    assert "rules short: the universal core offer £" in result.stdout
    folder = out / "tiny_budget" / "QJ2"
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["rules"] == "ordered" and manifest["rules_met"] is False
    assert manifest["checks_passed"] is True  # every rule holds with its shortfall added back
    assert manifest["shortfall_gbp"] > 1e6
    assert manifest["shortfalls"][0].startswith("The universal core offer reaches")
    assert [s["rank"] for s in manifest["stages"]] == [2, 3, 4]
    book = load_workbook(folder / "summary.xlsx")
    text = " ".join(str(v) for r in book["Summary"].iter_rows(values_only=True) for v in r if v)
    assert "The rules cannot all be met" in text and manifest["shortfalls"][0] in text
    assert "Shortfalls" in book.sheetnames
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert table.loc[0, "shortfall_gbp"] == pytest.approx(manifest["shortfall_gbp"])
    assert str(table.loc[0, "rules_met"]) == "False"


def test_an_infeasible_scenario_exits_2_and_the_others_are_written(tmp_path):
    # every rule hard (--hard-rules): no plan, explained
    path = one_year_model(tmp_path, TINY_BUDGET)
    out = tmp_path / "out"
    result = cli("run", str(path), "--scenario", "tiny_budget", "--scenario", "base",
                 "--icb", "QJ2", "--out", str(out), "--hard-rules")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "base" / "QJ2" / "allocation.csv").is_file()
    assert (out / "base" / "QJ2" / "summary.xlsx").is_file()
    failed = out / "tiny_budget" / "QJ2"
    manifest = json.loads((failed / "run.json").read_text())
    assert manifest["status"] == "infeasible"
    assert "relaxes the budget" in manifest["explanation"]["summary"]
    assert "relaxes the budget" in manifest["explanation_text"]
    assert not (failed / "allocation.csv").exists()
    assert "tiny_budget / QJ2: infeasible" in result.stdout
    assert "relaxes the budget" in result.stdout and "more than the 2026/27 budget" in result.stdout
    book = load_workbook(failed / "summary.xlsx")  # the explanation stands alone in Excel too
    text = " ".join(str(v) for r in book["Summary"].iter_rows(values_only=True) for v in r if v)
    assert "Infeasible" in text and "relaxes the budget" in text
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert list(table["status"]) == ["infeasible", "optimal"]
    assert "relaxes the budget" in table.loc[0, "explanation"]
    assert table.loc[0, "reference_scenario"] == "base"


def test_an_exception_in_one_job_does_not_stop_the_others(model, tmp_path, monkeypatch,
                                                          capsys):
    import optimiser.api

    real = optimiser.api.allocate

    def allocate(inputs, *args, **kwargs):
        if inputs.policy.scenario == "more_budget":
            raise RuntimeError("solver crashed")
        return real(inputs, *args, **kwargs)

    monkeypatch.setattr(optimiser.api, "allocate", allocate)
    out = tmp_path / "out"
    code = main(["run", str(model), "--scenario", "more_budget", "--scenario", "base",
                 "--icb", "QT1", "--out", str(out), "--workers", "1"])
    assert code == 2
    manifest = json.loads((out / "more_budget" / "QT1" / "run.json").read_text())
    assert manifest["status"] == "error"
    assert manifest["error"] == "RuntimeError: solver crashed"
    assert (out / "base" / "QT1" / "allocation.csv").is_file()
    printed = capsys.readouterr().out
    assert "more_budget / QT1: error" in printed and "solver crashed" in printed
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert list(table["status"]) == ["error", "optimal"]


def test_bad_input_exits_1_and_writes_nothing(model, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(model), "--scenario", "more_budgt", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "there is no scenario called 'more_budgt'" in err and "more_budget" in err
    assert main(["run", str(model), "--icb", "QJ9", "--out", str(out)]) == 1
    assert "the ICB code 'QJ9' is not in the PCN table" in capsys.readouterr().err
    assert main(["run", str(model), "--icb", "all", "--icb", "QJ2", "--out", str(out)]) == 1
    assert main(["run", str(model), "--executor", "dask", "--out", str(out)]) == 1
    assert "needs the scheduler's address" in capsys.readouterr().err
    assert main(["run", str(model), "--workers", "0", "--out", str(out)]) == 1
    assert main(["run", str(model), "--workers", "two", "--out", str(out)]) == 1  # not 2
    assert not out.exists()


def test_an_existing_output_folder_is_not_overwritten_without_force(model, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "board_paper.xlsx").write_bytes(b"keep me")
    assert main(["run", str(model), "--icb", "QJM", "--out", str(out)]) == 1
    assert "already has files in it" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["board_paper.xlsx"]
    assert main(["run", str(model), "--icb", "QJM", "--out", str(out), "--force"]) == 0
    assert (out / "base" / "QJM" / "allocation.csv").is_file()
    assert (out / "board_paper.xlsx").read_bytes() == b"keep me"


def test_a_write_that_fails_midway_leaves_the_previous_files_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", str(one_year_model(tmp_path)), "--icb", "QJM", "--out", str(out)]) == 0
    folder = out / "base" / "QJM"
    before = {name: (folder / name).read_bytes() for name in batch.FILES}

    # a second run of a changed model, whose disk fails as each file is being written
    changed = one_year_model(tmp_path, gbp_per_head=15.0, name="changed.toml")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", disk_full)
    code = main(["run", str(changed), "--icb", "QJM", "--out", str(out), "--force"])
    monkeypatch.undo()
    assert code == 2  # reported as not complete, not as bad input
    for name, data in before.items():
        assert (folder / name).read_bytes() == data, f"{name} was damaged"
    # the earlier run's comparison went before the new run began (it would describe folders
    # this run may have changed); the new one could not be written, and nothing says complete
    assert not (out / "comparison.csv").exists() and not (out / "comparison.xlsx").exists()
    assert temp_files(out) == []


def test_a_killed_write_never_replaces_the_good_file(tmp_path):
    target = tmp_path / "allocation.csv"
    target.write_bytes(b"the good file\n")
    script = f"""
import os, time
from pathlib import Path
from optimiser import io
os.fsync = lambda fd: time.sleep(60)  # the kill arrives while the data is being flushed
io.write_atomic(Path({str(target)!r}), b"half a new file" * 100000)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.time() + 60
        while not list(tmp_path.glob(".allocation.csv.*.tmp")) and time.time() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.glob(".allocation.csv.*.tmp")), "the writer never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert target.read_bytes() == b"the good file\n"


# ---- formula injection ---------------------------------------------------------------------

def test_formula_injection_stays_literal_in_excel_and_csv(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("pcns", "higher_need", "interventions", "priorities", "staff_groups",
                 "unit_costs"):
        (data / f"{name}.csv").write_bytes((DATA / f"{name}.csv").read_bytes())
    pcns = pd.read_csv(data / "pcns.csv", dtype=str, keep_default_na=False)
    first = pcns.index[pcns["icb_code"] == "QJM"][0]
    evil_pcn = '=HYPERLINK("http://example.com/x","Click me")'
    pcns.loc[first, "pcn_name"] = evil_pcn
    pcns.to_csv(data / "pcns.csv", index=False, lineterminator="\n")
    evil_scenario = "+cmd|' /C calc'!A0"
    scenarios = f'''
[scenarios."{evil_scenario}"]
description = "=1+2"
budget.gbp_per_head = [15.0]
'''
    path = one_year_model(tmp_path, scenarios, data=data)
    out = tmp_path / "out"
    assert main(["run", str(path), "--scenario", evil_scenario, "--icb", "QJM",
                 "--out", str(out)]) == 0
    folder = out / batch.safe_name(evil_scenario) / "QJM"
    assert folder.is_dir() and folder.parent.parent == out

    with open(out / "comparison.csv", newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert row["scenario"] == "'" + evil_scenario
    assert row["description"] == "'=1+2"

    workbooks = [folder / "summary.xlsx", out / "comparison.xlsx"]
    seen = set()
    for path in workbooks:
        book = load_workbook(path)
        for sheet in book.worksheets:
            for cells in sheet.iter_rows():
                for cell in cells:
                    assert cell.data_type != "f", f"{path.name} {sheet.title}!{cell.coordinate}"
                    if isinstance(cell.value, str) and cell.value.lstrip("'").startswith(
                            ("=HYPERLINK", "+cmd", "=1+2")):
                        assert cell.value.startswith("'"), cell.value
                        assert cell.data_type == "s"
                        seen.add(cell.value)
    assert "'" + evil_pcn in seen and "'" + evil_scenario in seen and "'=1+2" in seen


# ---- England, ICB by ICB ---------------------------------------------------------------------

@pytest.mark.slow
def test_icb_all_runs_every_icb_in_england(model, tmp_path):
    out = tmp_path / "england"
    started = time.perf_counter()
    result = cli("run", str(model), "--icb", "all", "--workers", "2", "--out", str(out))
    seconds = time.perf_counter() - started
    assert result.returncode in (0, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    icbs = sorted(pd.read_csv(DATA / "pcns.csv", usecols=["icb_code"])["icb_code"].unique())
    assert len(icbs) == 42
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert list(table["icbs"]) == icbs
    for icb, status in zip(table["icbs"], table["status"], strict=True):
        folder = out / "base" / icb
        manifest = json.loads((folder / "run.json").read_text())
        assert manifest["status"] == status and manifest["icbs"] == [icb]
        assert (folder / "summary.xlsx").is_file()
        assert (folder / "allocation.csv").is_file() == (status == "optimal"), icb
        if status != "optimal":
            assert manifest["explanation_text"], icb
    assert (table["status"] == "optimal").any()
    assert result.stdout.count("] base / ") == 42
    print(f"--icb all over 42 ICBs (one year, 2 workers): {seconds:.0f} s")


def test_a_text_column_with_no_values_still_gets_a_width():
    """A label column blank in every row (the shortfalls of two rules side by side, each
    without the other's labels) once stopped the workbook: int(NaN) under pandas 3."""
    from optimiser.xlsx import _width

    blank = pd.Series([None, None], dtype="str")
    assert _width(blank, "Pot", "text") == 10.0
    assert _width(pd.Series(["a" * 30]), "Pot", "text") == 32.0


def test_a_job_run_where_it_was_planned_reuses_the_checked_inputs(model, monkeypatch, tmp_path):
    """`plan` loads and checks each job's inputs; the same process runs the job from them
    (not loaded twice), and loads them again once the model file changes."""
    (job,) = batch.plan(model, ["base"])
    planned = batch.inputs_for(job.model, job.scenario, job.icbs, job.source)
    loads = []
    real = batch.load_model
    monkeypatch.setattr(batch, "load_model", lambda *a, **k: loads.append(a) or real(*a, **k))
    assert batch.inputs_for(job.model, job.scenario, job.icbs, job.source) is planned
    result = batch.run_job(job)
    assert result.status == "optimal" and loads == []
    text = model.read_text()
    try:
        model.write_text(text.replace("gbp_per_head = [14.03]", "gbp_per_head = [14.5]"))
        os.utime(model, ns=(time.time_ns(), time.time_ns() + 10**9))
        again = batch.inputs_for(job.model, job.scenario, job.icbs, job.source)
        assert len(loads) == 1 and again.policy.gbp_per_head == (14.5,)
    finally:
        model.write_text(text)


def test_jobs_of_a_batch_solve_on_one_thread_each(model, monkeypatch):
    """Several jobs share the cores (workers side by side), so each solve keeps to one thread
    (the years solved apart in one chain); a single job may use the cores. The same in every
    runner, so serial and parallel runs give the same answers."""
    from optimiser.strategies import years_apart

    (single,) = batch.plan(model, ["base"])
    several = batch.plan(model, ["base", "more_budget"])
    assert single.threads == 0 and [j.threads for j in several] == [1, 1]
    seen = []
    real = years_apart.solve_years_apart
    monkeypatch.setattr(years_apart, "solve_years_apart",
                        lambda held, years, options: seen.append(options.threads)
                        or real(held, years, options))
    from optimiser.strategies import rowgen
    monkeypatch.setattr(rowgen, "solve_years_apart", years_apart.solve_years_apart)
    monkeypatch.setattr(sys.modules["optimiser.solve"], "LAZY_FROM_COLUMNS", 1)
    five_years = ROOT / "models" / "dln_base.toml"  # (a one-year model has no rows to wait)
    job = batch.plan(five_years, ["base", "enhanced_anywhere"])[0]
    assert batch.run_job(job).status == "optimal"
    assert seen == [1]
