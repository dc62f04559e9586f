"""Faults a batch survives: a killed parent, Ctrl-C and SIGTERM, a killed rerun, time limits.

The runs here are real command lines in a child process (as a user or a scheduler starts
them), on the five-year DLN model, whose seven scenarios take tens of seconds each: long
enough that a run stopped after its first scenario cannot have finished the others.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimiser import SolveOptions, explain_infeasible, formulate, list_scenarios, load_model
from optimiser.cli import main
from optimiser.processes import alive

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"
SCENARIOS = len(list_scenarios(ROOT / "models" / "dln_base.toml"))  # base and named ones
FIRST = f"[{1:>{len(str(SCENARIOS))}}/{SCENARIOS}]"  # the first finished run's line, padded


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "optimiser", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env={**os.environ,
                                                           "PYTHONUNBUFFERED": "1"})


def wait_for_line(proc: subprocess.Popen, prefix: str, seconds: float = 600) -> str:
    """Read the child's stdout until a line starts with `prefix`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no line starting {prefix!r}: {proc.stderr.read()[-2000:]}")


def descendants(pid: int) -> list[int]:
    """Every process started (directly or not) by `pid`, from /proc."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        children = [c for c, parent in parent_of.items() if parent == p]
        found += children
        todo += children
    return found


def finish(proc: subprocess.Popen, seconds: float = 120) -> int:
    try:
        return proc.wait(timeout=seconds)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---- a parent killed outright --------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_killing_the_parent_of_a_parallel_run_ends_its_workers(tmp_path):
    proc = start("run", str(MODEL), "--all-scenarios", "--workers", "2",
                 "--out", str(tmp_path / "out"))
    workers: list[int] = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline and len(workers) < 3:  # the fork server and two workers
            time.sleep(0.2)
            workers = descendants(proc.pid)
        time.sleep(1.0)  # the workers are inside their first solves
        workers = descendants(proc.pid)
        assert len(workers) >= 3, workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.time() + 30  # they end within a second; 30 leaves room on a busy host
        while time.time() < deadline and any(alive(w) for w in workers):
            time.sleep(0.2)
        assert not [w for w in workers if alive(w)], "workers outlived their parent"
    finally:
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass
        if proc.poll() is None:
            proc.kill()


# ---- Ctrl-C and SIGTERM -------------------------------------------------------------------------

def stopped_batch(out: Path, first_line: str) -> dict:
    record = json.loads((out / "batch.json").read_text())
    assert record["status"] == "stopped"
    assert 1 <= record["runs_written"] < SCENARIOS, record
    assert [r["status"] for r in record["runs"]].count("pending") == \
        SCENARIOS - record["runs_written"]
    # nothing half-written looks complete: no comparison, no temporary file, and each
    # folder written is whole (its run.json lists the files and their digests)
    assert not (out / "comparison.csv").exists() and not (out / "comparison.xlsx").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    written = [r for r in record["runs"] if r["status"] != "pending"]
    assert first_line.split("] ")[1].split(":")[0] in [r["run"] for r in written]
    for run in written:
        manifest = json.loads((out / run["folder"] / "run.json").read_text())
        for name in manifest["files"]:
            assert (out / run["folder"] / name).is_file()
    return record


def test_sigterm_stops_a_parallel_batch_at_once_and_marks_it_stopped(tmp_path):
    out = tmp_path / "out"
    proc = start("run", str(MODEL), "--all-scenarios", "--workers", "2", "--out", str(out))
    try:
        first = wait_for_line(proc, FIRST)
        workers = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert finish(proc) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
    said = proc.stdout.read()
    assert "Stopped by SIGTERM." in said and "marks the batch stopped" in said
    assert "Traceback" not in proc.stderr.read()
    record = stopped_batch(out, first)
    assert record["stopped_by"] == "SIGTERM"
    deadline = time.time() + 30
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if alive(w)]


def test_ctrl_c_stops_a_run_inside_a_solve_without_waiting_for_it(tmp_path):
    """In this process (--workers 1) the second scenario's solve is running when Ctrl-C comes:
    the run stops there, so only the first scenario is written."""
    out = tmp_path / "out"
    proc = start("run", str(MODEL), "--all-scenarios", "--workers", "1", "--out", str(out))
    try:
        first = wait_for_line(proc, FIRST)
        proc.send_signal(signal.SIGINT)
        assert finish(proc) == 128 + signal.SIGINT
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Stopped by Ctrl-C." in proc.stdout.read()
    record = stopped_batch(out, first)
    assert record["runs_written"] == 1 and record["stopped_by"] == "Ctrl-C (SIGINT)"


def test_a_killed_rerun_with_force_leaves_no_earlier_comparison_beside_new_folders(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(MODEL), "--scenario", "flat_budget", "--icb", "QJM",
                 "--out", str(out)]) == 0
    assert (out / "comparison.csv").is_file()
    proc = start("run", str(MODEL), "--all-scenarios", "--workers", "1", "--force",
                 "--out", str(out))
    try:
        wait_for_line(proc, FIRST)
        proc.kill()  # no chance to clean up
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (out / "comparison.csv").exists() and not (out / "comparison.xlsx").exists()
    record = json.loads((out / "batch.json").read_text())
    assert record["status"] == "running"  # killed outright: it never says complete
    assert (out / "flat_budget" / "QJM" / "run.json").is_file()  # other files are left alone


# ---- time limits ----------------------------------------------------------------------------

def one_year(tmp_path: Path, extra: str = "") -> Path:
    text = MODEL.read_text()
    text = text.replace('years = ["2026/27", "2027/28", "2028/29", "2029/30", "2030/31"]',
                        'years = ["2026/27"]')
    text = text.replace("gbp_per_head = [14.03, 21.04, 25.33, 25.33, 25.33]",
                        "gbp_per_head = [14.03]")
    text = text[: text.index("\n[scenarios.")].replace('data = "../data"',
                                                       f'data = "{ROOT / "data"}"')
    path = tmp_path / "one_year.toml"
    path.write_text(text + "\n" + extra)
    return path


def test_a_solve_stopped_by_the_time_limit_says_so(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(one_year(tmp_path)), "--time-limit", "0.001",
                 "--out", str(out)]) == 2
    printed = capsys.readouterr().out
    manifest = json.loads((out / "base" / "run.json").read_text())
    assert manifest["status"] == "time_limit"
    words = "The solver's time limit of 0.001 seconds ran out before it found the best allocation"
    assert words in manifest["explanation_text"] and words in printed
    assert "--time-limit SECONDS" in manifest["explanation_text"]


def test_the_model_file_sets_the_time_limit_and_the_command_line_overrides_it(tmp_path):
    path = one_year(tmp_path, "[solver]\ntime_limit = 0.001\n")
    assert main(["run", str(path), "--out", str(tmp_path / "a")]) == 2
    manifest = json.loads((tmp_path / "a" / "base" / "run.json").read_text())
    assert manifest["status"] == "time_limit"
    assert main(["run", str(path), "--time-limit", "600", "--out", str(tmp_path / "b")]) == 0


def test_an_explanation_stopped_by_the_time_limit_says_so_not_check_the_data(tmp_path):
    inputs = load_model(one_year(tmp_path)).with_policy(gbp_per_head=(1.0,))
    explanation = explain_infeasible(inputs, formulate(inputs), SolveOptions(time_limit=0.001))
    assert explanation.status == "time_limit"
    assert "time limit of 0.001 seconds ran out while it looked for the smallest change" \
        in explanation.summary
    assert "check the data" not in str(explanation)
    assert explanation.relaxed_inputs is None and not explanation.changes
