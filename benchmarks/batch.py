"""Batch runs over England, ICB by ICB: serial against 2 local workers against Dask (2 workers).

    python benchmarks/batch.py            all 42 ICBs, models/dln_base.toml's base policy
                                          (5 years); writes benchmarks/batch_results.md
    python benchmarks/batch.py --icbs 6   the first 6 ICBs only (a smoke test), printed

Each mode runs the same jobs through optimiser.batch, exactly as
`python -m optimiser run MODEL --icb all --out DIR` does, and writes every file into a temporary
folder: serial (one process), `--workers 2` (a local process pool), and `--executor dask` on a
`distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`. Checking the
inputs (`batch.plan`, the same for every mode) and starting the Dask cluster are timed
separately and left out of the ratios. The three runs must write byte-identical CSV files.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimiser import batch  # noqa: E402

TARGET = 1.7  # speed-up on 2 workers the issue asks for


def csv_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}


def timed_run(jobs, out: Path, runner) -> tuple[float, batch.BatchReport]:
    start = time.perf_counter()
    report = batch.run(jobs, out, runner, echo=lambda *_: None)
    return time.perf_counter() - start, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "models" / "dln_base.toml"))
    parser.add_argument("--icbs", type=int, default=0, help="only the first N ICBs (0: all)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "batch_results.md"))
    parser.add_argument("--no-dask", action="store_true", help="serial and 2 workers only")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    jobs = batch.plan(args.model, ["base"], icbs=["all"])
    if args.icbs:
        jobs = jobs[: args.icbs]
    plan_seconds = time.perf_counter() - start
    print(f"{len(jobs)} jobs checked in {plan_seconds:.1f} s", flush=True)

    rows, outputs, reports, loads = [], {}, {}, {}
    cluster_seconds = float("nan")
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        for name, make in (("serial (1 process)", lambda: batch.LocalRunner(1)),
                           ("2 local workers", lambda: batch.LocalRunner(2))):
            out = Path(tmp) / name.split()[0]
            loads[name] = os.getloadavg()[0]
            seconds, report = timed_run(jobs, out, make())
            rows.append((name, seconds))
            outputs[name], reports[name] = csv_files(out), report
            print(f"{name}: {seconds:.1f} s (load {loads[name]:.1f})", flush=True)
        if not args.no_dask:
            from distributed import LocalCluster

            started = time.perf_counter()
            with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                              processes=True, dashboard_address=None,
                              silence_logs=logging.CRITICAL) as cluster:
                cluster_seconds = time.perf_counter() - started
                name = "Dask LocalCluster, 2 workers"
                out = Path(tmp) / "dask"
                loads[name] = os.getloadavg()[0]
                seconds, report = timed_run(jobs, out,
                                            batch.DaskRunner(cluster.scheduler_address))
                rows.append((name, seconds))
                outputs[name], reports[name] = csv_files(out), report
                print(f"{name}: {seconds:.1f} s (cluster start {cluster_seconds:.1f} s)",
                      flush=True)

    serial = rows[0][1]
    first = next(iter(outputs.values()))
    identical = all(files == first for files in outputs.values())
    statuses = reports[rows[0][0]].results
    counts: dict[str, int] = {}
    for r in statuses:
        counts[r.status] = counts.get(r.status, 0) + 1
    work = sum(r.seconds for r in statuses)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3

    model = Path(args.model).resolve()
    shown = model.relative_to(REPO) if model.is_relative_to(REPO) else model
    lines = [
        "# Batch runs: serial vs local workers vs Dask",
        "",
        f"Measured {date.today().isoformat()} by `python benchmarks/batch.py"
        f"{f' --icbs {args.icbs}' if args.icbs else ''}` on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min).",
        "",
        f"Jobs: {len(jobs)} (one per ICB in England, the base policy of "
        f"`{shown}`, {len(statuses[0].manifest.get('years', [])) if statuses else '?'} years); "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f". Each job loads, solves, verifies and renders its CSV and workbook; the serial "
        f"run's jobs took {work:.0f} s of work between them. Checking every input first "
        f"(`batch.plan`, the same for each mode) took {plan_seconds:.1f} s"
        + ("" if args.no_dask else f" and the Dask cluster {cluster_seconds:.1f} s to start")
        + "; neither is in the times below.",
        "",
        "| mode | wall seconds | speed-up vs serial | seconds inside the jobs, summed "
        "| load (1 min) at its start |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds in rows:
        inside = sum(r.seconds for r in reports[name].results)
        lines.append(f"| {name} | {seconds:.1f} | {serial / seconds:.2f}x | {inside:.0f} "
                     f"| {loads[name]:.1f} |")
    ratios = [serial / seconds for _, seconds in rows[1:]]
    lines += [
        "",
        f"Target: at least {TARGET}x on 2 workers. "
        + ("Met by both." if min(ratios) >= TARGET else
           f"Best {max(ratios):.2f}x: " + ("met by one of the two." if max(ratios) >= TARGET
                                           else "not met on this machine at this load.")),
        f"The CSV files of the {len(rows)} runs are "
        f"{'byte-identical' if identical else 'DIFFERENT'}.",
        "",
        "The last column is the time the jobs themselves took, added up: when it grows with "
        "the workers, they were competing for CPU (other processes on the machine, or fewer "
        "free cores than workers), and the speed-up falls below what the cores allow.",
        "",
    ]
    serial_inside = sum(r.seconds for r in reports[rows[0][0]].results)
    if any(sum(r.seconds for r in reports[n].results) > 1.25 * serial_inside
           for n, _ in rows[1:]):
        lines += [
            "The jobs slowed down when run two at a time, so the cores were not free. An "
            "estimate for an idle 2-core machine keeps each parallel run's own overhead (its "
            "wall time less its job time shared over 2 workers: start-up, transfers, the last "
            "job running alone) and gives the jobs the time they took when run one at a time:",
            "",
            "| mode | estimated wall seconds, idle machine | estimated speed-up |",
            "|---|---:|---:|",
        ]
        for name, seconds in rows[1:]:
            inside = sum(r.seconds for r in reports[name].results)
            overhead = max(0.0, seconds - inside / 2)
            estimate = serial_inside / 2 + overhead
            lines.append(f"| {name} | {estimate:.1f} | {serial / estimate:.2f}x |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if not args.icbs:
        Path(args.out).write_text(text)
        print(f"Wrote {args.out}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
