"""The whole command-line job against raw HiGHS's whole process on the same LP (DLN five-year).

    python benchmarks/process.py              median of 5 pairs; appends to results.md
    python benchmarks/process.py --pairs 3 --no-write

As a user meets it: `python -m optimiser run models/dln_base.toml --out DIR` as a whole
process (interpreter start to exit, every file written), against a process that imports
highspy, reads the same LP exported by `python -m optimiser export` as MPS, and runs HiGHS.
The two are run alternately, back to back, each pair with the 1-minute load average beside
it; the ratio of the medians is the figure (target <= 1.3).

Then the stages of the job, each timed in one fresh process in the order `run` takes them
(`optimiser.batch.plan` then `run_job`'s steps, then the files written): import, read
inputs (the tables read and checked, and the model loaded for the job), formulate (the LP
handed to HiGHS), solve, the Allocation's tables, checks (`verify`), and each file's
bytes. What is left of the whole process's time is interpreter start-up and exit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = "models/dln_base.toml"
RAW = """
import sys, time
t0 = time.perf_counter()
import highspy
t1 = time.perf_counter()
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.readModel(sys.argv[1])
t2 = time.perf_counter()
h.run()
t3 = time.perf_counter()
print({"import": t1 - t0, "read MPS": t2 - t1, "solve": t3 - t2,
       "objective": h.getInfo().objective_function_value})
"""


def stages(model: str, out: str) -> dict:
    """The job's stages in this (fresh) process, timed one after the other."""
    times: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        times[name] = times.get(name, 0.0) + now - clock[0]
        clock[0] = now

    from optimiser import batch, cli, io, report, strategy_sheets  # noqa: F401 (as `run`)
    from optimiser.api import solve_options
    from optimiser.checks import verify
    from optimiser.inputs import load_model
    from optimiser.ordered import OrderedSolver
    from optimiser.results import Allocation
    lap("import")
    jobs = batch.plan(model)
    job = jobs[0]
    inputs = load_model(job.model, job.scenario, tables=batch.tables_for(job.source))
    lap("read inputs")
    solver = OrderedSolver(inputs, solve_options(inputs))
    lap("formulate")
    solution = solver.solve()
    lap("solve")
    allocation = Allocation(solver.inputs, solver.lp, solution)
    for name in ("detail", "by_pcn", "by_priority", "by_quintile", "constraints", "binding",
                 "equity_metrics", "totals"):
        getattr(allocation, name)
    lap("allocation tables")
    checks = verify(allocation.detail, inputs, allocation.objective, allocation.shortfalls)
    lap("checks")
    files = {"allocation.csv": io.csv_bytes(allocation.detail)}
    lap("allocation.csv")
    figures = report.figures(allocation)
    lap("headline figures")
    files["summary.xlsx"] = report.summary_workbook(
        allocation, notes=batch.model_notes(job.model, job.scenario), checks=checks)
    lap("summary.xlsx")
    result = batch.JobResult(job, allocation.status, allocation.objective, figures=figures,
                             files=files, manifest=dict(allocation.manifest))
    result.manifest["strategy"] = strategy_sheets.record(allocation)
    batch.write_job(Path(out), result)
    lap("run.json and writing")
    table = batch.comparison_table([result])
    io.write_atomic(Path(out) / "comparison.csv", io.csv_bytes(table))
    io.write_atomic(Path(out) / "comparison.xlsx", report.comparison_workbook(
        table, "dln_base", "base"))
    lap("comparison.csv and .xlsx")
    return times


def timed(command: list[str], cwd: Path = REPO) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--compare", type=Path, help="another checkout (e.g. main), its "
                        "`run` timed in each pair too (python -m optimiser from that folder)")
    parser.add_argument("--stages", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(*args.stages)))
        return

    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        mps = Path(tmp) / "dln.mps"
        subprocess.run([python, "-m", "optimiser", "export", MODEL, "--out", str(mps)],
                       cwd=REPO, check=True, capture_output=True)
        ours_s, raw_s, loads, raw_parts, other_s = [], [], [], [], []
        for i in range(args.pairs):
            loads.append(os.getloadavg()[0])
            out = Path(tmp) / f"run{i}"
            ours_s.append(timed([python, "-m", "optimiser", "run", MODEL, "--out",
                                 str(out)])[0])
            if args.compare:
                other_s.append(timed([python, "-m", "optimiser", "run",
                                      str(REPO / MODEL), "--out", str(out) + "-other"],
                                     cwd=args.compare)[0])
            seconds, text = timed([python, "-c", RAW, str(mps)])
            raw_s.append(seconds)
            raw_parts.append(eval(text.strip().splitlines()[-1]))  # our own dict literal
            print(f"pair {i + 1}: run {ours_s[-1]:.2f} s, raw HiGHS {raw_s[-1]:.2f} s, "
                  f"load {loads[-1]:.2f}", file=sys.stderr)
        stage_load = os.getloadavg()[0]
        parts = json.loads(subprocess.run(
            [python, str(Path(__file__).resolve()), "--stages", MODEL, str(Path(tmp) / "st")],
            cwd=REPO, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    ours, raw = statistics.median(ours_s), statistics.median(raw_s)
    raw_part = {k: statistics.median(p[k] for p in raw_parts)
                for k in ("import", "read MPS", "solve")}
    compared = [] if not other_s else [
        "",
        f"The same pairs with `run` from {args.compare} timed between (same interpreter): "
        + ", ".join(f"{a:.2f}" for a in other_s) + f" s; median {statistics.median(other_s):.2f}"
        f" s, **{statistics.median(other_s) / raw:.2f}** x raw HiGHS."]
    lines = [
        f"### Whole process, DLN five-year (`{MODEL}`), {date.today().isoformat()}",
        "",
        "| pair | `optimiser run` s | raw HiGHS process s | ratio | load (1 min) |",
        "|---|---:|---:|---:|---:|",
        *[f"| {i + 1} | {a:.2f} | {b:.2f} | {a / b:.2f} | {c:.2f} |"
          for i, (a, b, c) in enumerate(zip(ours_s, raw_s, loads, strict=True))],
        f"| median | {ours:.2f} | {raw:.2f} | **{ours / raw:.2f}** | "
        f"{statistics.median(loads):.2f} |",
        *compared,
        "",
        f"Raw HiGHS process (medians): import highspy {raw_part['import']:.2f} s, read the "
        f"MPS {raw_part['read MPS']:.2f} s, solve {raw_part['solve']:.2f} s.",
        "",
        f"Stages of `run`, one fresh process, load {stage_load:.2f}:",
        "",
        "| stage | s |",
        "|---|---:|",
        *[f"| {name} | {value:.3f} |" for name, value in parts.items()],
        f"| sum of stages | {sum(parts.values()):.3f} |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        path = REPO / "benchmarks" / "process_results.md"
        old = path.read_text() if path.exists() else (
            "# The whole job against raw HiGHS's whole process\n\nWritten by "
            "`python benchmarks/process.py` (newest last); see its docstring.\n\n")
        path.write_text(old + text + "\n")


if __name__ == "__main__":
    main()
