"""Speed and memory of the allocation model, measured against raw HiGHS.

    python benchmarks/run.py            DLN 5-year, England 1- and 5-year, then HiGHS options
                                        on DLN and England 5-year; writes benchmarks/results.md
    python benchmarks/run.py --quick    DLN only, printed (a smoke test)
    python benchmarks/run.py --no-options   the cases only; results.md keeps the HiGHS options
                                        tables of the last full run

Each case runs in a fresh Python process, so that its peak memory (resource.getrusage
ru_maxrss, which counts HiGHS's C++ allocations as well as Python's) is its own. In that
process:

    load     load_model(...): read, validate and derive the tables (reported, not in total)
    build    Solver(inputs): formulate the LP and pass it to HiGHS
    raw      h.run() alone on that model: what HiGHS itself needs (all its runs, when a large
             model's cross-year rows are added in rounds: `runs`, with the rows HiGHS ended
             up holding)
    total    build + solve (solve = h.run() plus reading the solution back)
    warm     Solver.update(new inputs) + solve() after a 5% budget change, then after a 25%
             change in the value of a QALY (the second update starts from the first)

Small cases are repeated and the median reported. Timings are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "benchmarks"

CASES = {  # name: (model file, repeats, time limit for the whole case in seconds)
    "DLN 5-year": ("models/dln_base.toml", 5, 600),
    "England 1-year": ("benchmarks/england_1y.toml", 3, 900),
    "England 5-year": ("benchmarks/england_5y.toml", 1, 1800),
}
OPTIONS = {  # HiGHS options tried on DLN and England 5-year (name: option values)
    "default (solver=choose)": {},
    "solver=simplex": {"solver": "simplex"},
    "solver=ipm": {"solver": "ipm"},
    "solver=pdlp": {"solver": "pdlp"},
    "presolve=off": {"presolve": "off"},
    "parallel=on": {"parallel": "on"},
}
TARGETS = {"ratio": 1.2, "dln_cold_s": 2.0, "dln_warm_s": 0.3, "england_s": 60.0,
           "england_gb": 4.0}


# ---- one case, in its own process -----------------------------------------------------------


def measure(model: str, repeats: int, highs_options: dict, warm: bool) -> dict:
    """Build, solve and (optionally) re-solve warm `repeats` times; medians and peak memory."""
    import resource

    from optimiser import Solver, load_model
    from optimiser.solve import SolveOptions

    highs_options = dict(highs_options)
    limit = highs_options.pop("time_limit", None)
    solve_options = SolveOptions() if limit is None else SolveOptions(time_limit=limit)
    start = time.perf_counter()
    inputs = load_model(REPO / model)
    load_s = time.perf_counter() - start

    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        solver = Solver(inputs, solve_options)
        build_s = time.perf_counter() - start
        for name, value in highs_options.items():
            solver.highs.setOptionValue(name, value)
        start = time.perf_counter()
        solution = solver.solve()
        solve_s = time.perf_counter() - start
        run = {
            "status": solution.status,
            "objective": solution.objective,
            "iterations": solution.iterations,
            "build_s": build_s,
            "raw_s": solution.solve_seconds,
            "total_s": build_s + solve_s,
            "rounds": solution.rounds,  # more than 1: cross-year rows were added in rounds
            "rows_held": solver.highs.getNumRow(),
        }
        lp = solver.lp
        if warm and solution.optimal:
            run.update(warm_resolves(solver, inputs))
        runs.append(run)
        del solver

    median = {key: statistics.median(r[key] for r in runs)
              for key, value in runs[0].items() if isinstance(value, float | int)
              and not isinstance(value, bool) and all(r.get(key) is not None for r in runs)}
    return {
        **runs[0], **median,
        "load_s": load_s,
        "pcns": len(inputs.pcns), "years": len(inputs.years),
        "columns": lp.num_col, "rows": lp.num_row, "nonzeros": int(len(lp.entries()[0])),
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "repeats": repeats,
    }


def warm_resolves(solver, inputs) -> dict:
    """Time update + solve after a budget change, then after a change in a weight."""
    policy = inputs.policy
    if policy.budget_gbp is not None:
        budget = inputs.with_policy(budget_gbp=tuple(b * 1.05 for b in policy.budget_gbp))
    else:
        budget = inputs.with_policy(gbp_per_head=tuple(b * 1.05 for b in policy.gbp_per_head))
    weight = budget.with_policy(qaly_gbp=policy.qaly_gbp * 1.25)
    out = {}
    for label, changed in (("budget", budget), ("weight", weight)):
        start = time.perf_counter()
        how = solver.update(changed)
        updated = time.perf_counter()
        solution = solver.solve()
        out[f"warm_{label}_s"] = time.perf_counter() - start
        out[f"warm_{label}_update_s"] = updated - start
        out[f"warm_{label}_raw_s"] = solution.solve_seconds
        out[f"warm_{label}_iterations"] = solution.iterations
        out[f"warm_{label}_how"] = how
        out[f"warm_{label}_status"] = solution.status
    return out


# ---- the driver --------------------------------------------------------------------------------


def run_case(model: str, repeats: int, timeout: float, options: dict | None = None,
             warm: bool = True) -> dict:
    """`measure` in a fresh process; {'error': ...} if it fails or runs out of time."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", model,
               "--repeats", str(repeats), "--highs-options", json.dumps(options or {})]
    if not warm:
        command.append("--cold-only")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=REPO, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"failed ({tail})"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


def seconds(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def cases_table(results: dict[str, dict]) -> list[str]:
    lines = [
        "| case | PCNs x years | columns | rows | status | runs (rows held) | load s | build s "
        "| raw HiGHS s | total s | total / raw | peak GB "
        "| warm, budget: s = update + run (iterations) "
        "| warm, weight: s = update + run (iterations) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | {r['error']} |" + " |" * 12)
            continue
        warm = []
        for label in ("budget", "weight"):
            if f"warm_{label}_s" in r:
                how = "" if r[f"warm_{label}_how"] == "warm" else ", rebuilt"
                warm.append(f"{seconds(r[f'warm_{label}_s'])} = "
                            f"{seconds(r[f'warm_{label}_update_s'])} + "
                            f"{seconds(r[f'warm_{label}_raw_s'])} "
                            f"({r[f'warm_{label}_iterations']:.0f}{how})")
            else:
                warm.append("–")
        lines.append(
            f"| {name} | {r['pcns']} x {r['years']} | {r['columns']:,} | {r['rows']:,} "
            f"| {r['status']} | {r.get('rounds', 1)} ({r.get('rows_held', 0):,}) "
            f"| {seconds(r['load_s'])} | {seconds(r['build_s'])} "
            f"| {seconds(r['raw_s'])} | {seconds(r['total_s'])} | {r['total_s'] / r['raw_s']:.2f} "
            f"| {r['peak_gb']:.2f} | {warm[0]} | {warm[1]} |")
    return lines


def targets_table(results: dict[str, dict]) -> list[str]:
    def verdict(ok: bool | None, status: str = "optimal") -> str:
        if ok is None:
            return "not measured"
        if status != "optimal":
            return f"**missed** (HiGHS stopped: {status})"
        return "met" if ok else "**missed**"

    rows = []
    for name, r in results.items():
        ok = None if "error" in r else r["total_s"] / r["raw_s"] <= TARGETS["ratio"]
        value = "–" if "error" in r else f"{r['total_s'] / r['raw_s']:.2f}"
        rows.append((f"total ≤ {TARGETS['ratio']} x raw HiGHS, {name}", value, verdict(ok)))
    dln = results.get("DLN 5-year", {"error": ""})
    ok = None if "error" in dln else dln["total_s"] <= TARGETS["dln_cold_s"]
    rows.append((f"DLN 5-year cold (build + solve) ≤ {TARGETS['dln_cold_s']} s",
                 "–" if ok is None else seconds(dln["total_s"]), verdict(ok)))
    if "error" not in dln and "warm_budget_s" in dln:
        slowest = max(dln["warm_budget_s"], dln["warm_weight_s"])
        rows.append((f"DLN 5-year warm re-solve ≤ {TARGETS['dln_warm_s']} s", seconds(slowest),
                     verdict(slowest <= TARGETS["dln_warm_s"])))
    eng = results.get("England 5-year")
    if eng is not None:
        ok = None if "error" in eng else eng["total_s"] <= TARGETS["england_s"]
        rows.append((f"England 5-year total ≤ {TARGETS['england_s']:.0f} s",
                     eng.get("error") or seconds(eng["total_s"]),
                     verdict(ok, eng.get("status", ""))))
        ok = None if "error" in eng else eng["peak_gb"] <= TARGETS["england_gb"]
        rows.append((f"England 5-year peak memory ≤ {TARGETS['england_gb']:.0f} GB",
                     "–" if "error" in eng else f"{eng['peak_gb']:.2f} GB", verdict(ok)))
    return ["| target | measured | |", "|---|---|---|",
            *[f"| {a} | {b} | {c} |" for a, b, c in rows]]


def options_table(results: dict[str, dict]) -> list[str]:
    default = results.get("default (solver=choose)", {})
    lines = ["| HiGHS options | status | raw HiGHS s | total s | iterations | objective vs "
             "default | peak GB |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | | | | | |")
            continue
        gap = "–"
        if r.get("objective") is not None and default.get("objective"):
            gap = f"{(r['objective'] - default['objective']) / abs(default['objective']):+.1e}"
        lines.append(f"| {name} | {r['status']} | {seconds(r['raw_s'])} | "
                     f"{seconds(r['total_s'])} | {r['iterations']:,} | {gap} | "
                     f"{r['peak_gb']:.2f} |")
    return lines


def machine() -> str:
    from importlib.metadata import version

    return (f"{date.today().isoformat()}; {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores; Python {platform.python_version()}; "
            f"highspy {version('highspy')}; load average at start "
            f"{os.getloadavg()[0]:.1f}")


def kept_options(path: Path) -> list[str]:
    """The HiGHS options tables of an earlier full run in `path`, kept by a --no-options run."""
    old = path.read_text() if path.exists() else ""
    if END_TO_END in old:
        old = old[:old.find(END_TO_END)]
    start = old.find("HiGHS options on ")
    if start < 0:
        return []
    said = old.find("The HiGHS options below")  # a paragraph saying when they were run
    if 0 <= said < start:
        return ["", *old[said:].rstrip("\n").splitlines()]
    return ["", "The HiGHS options below are kept from an earlier full run; this run used "
            "`--no-options`.", "", *old[start:].rstrip("\n").splitlines()]


END_TO_END = "## End to end"  # a section of results.md written by hand from the other scripts


def kept_end_to_end(path: Path) -> list[str]:
    """The end-to-end section of `path` (from process.py, rowgen.py, batch.py), kept."""
    old = path.read_text() if path.exists() else ""
    start = old.find(END_TO_END)
    return [] if start < 0 else ["", *old[start:].rstrip("\n").splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="DLN only, printed")
    parser.add_argument("--no-options", action="store_true",
                        help="skip the HiGHS options tried on England 5-year")
    parser.add_argument("--output", type=Path, default=None,
                        help="markdown file (default benchmarks/results.md; none with --quick)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--highs-options", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--cold-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:  # the child process
        result = measure(args.measure, args.repeats, json.loads(args.highs_options),
                         warm=not args.cold_only)
        print(json.dumps(result))
        return

    cases = {k: v for k, v in CASES.items() if not args.quick or k.startswith("DLN")}
    header = machine()
    results = {}
    for name, (model, repeats, timeout) in cases.items():
        print(f"measuring {name} ({repeats} repeat(s)) ...", file=sys.stderr, flush=True)
        results[name] = run_case(model, repeats, timeout)
    lines = [f"Measured {header}.", "", *cases_table(results), "", *targets_table(results)]

    if not args.quick and not args.no_options:
        for case, repeats, limit in (("DLN 5-year", 3, 120), ("England 5-year", 1, 300)):
            model, _, timeout = CASES[case]
            tried = {}
            for name, options in OPTIONS.items():
                print(f"{case} with {name} ...", file=sys.stderr, flush=True)
                tried[name] = run_case(model, repeats, timeout,
                                       {**options, "time_limit": float(limit)}, warm=False)
            lines += ["", f"HiGHS options on {case} (cold build and solve, median of "
                      f"{repeats}; HiGHS time limit {limit} s):", "", *options_table(tried)]

    output = args.output or (None if args.quick else HERE / "results.md")
    if args.no_options and output is not None:
        lines += kept_options(output)
    if output is not None:
        lines += kept_end_to_end(output)
    text = "\n".join(lines) + "\n"
    print(text)
    if output is not None:
        output.write_text("# Benchmark results\n\nWritten by `python benchmarks/run.py`; "
                          "see README.md for what each column means.\n\n" + text)
        print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
