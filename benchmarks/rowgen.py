"""The whole LP against row generation, five years, at 1, 3, 10, 20 and 42 ICBs.

    python benchmarks/rowgen.py                     DLN, then 1, 3, 10, 20, 42 ICBs; writes
                                                    benchmarks/rowgen_results.md
    python benchmarks/rowgen.py --icbs 1 3 --no-write

Each model is `benchmarks/england_5y.toml` (the DLN base settings on England's PCNs) cut to
the first N ICBs by code, plus DLN itself (`models/dln_base.toml`, 3 ICBs). Each is built and
solved cold in a fresh process twice: every row held from the start (`cross_year_rows="all"`,
`strategies.whole`) and the cross-year rows waiting (`"lazy"`, `strategies.rowgen`), the two
back to back in alternating order, with the 1-minute load average beside each. Both must
reach the same objective. `solve.strategy_for` picks the strategy from these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGLAND = REPO / "benchmarks" / "england_5y.toml"
LIMIT = {"all": 300.0, "lazy": 300.0}  # HiGHS's time limit, seconds
WHOLE_UP_TO = 20  # the whole LP of more ICBs is not tried (England: > 600 s, README)


def measure(model: str, icbs: int, mode: str) -> dict:
    """Load, build and solve one model cold with `mode`; times, size, objective."""
    from optimiser import Solver, load_model
    from optimiser.batch import tables_for
    from optimiser.inputs import model_data_source, read_model_policy
    from optimiser.solve import SolveOptions

    codes = None
    if icbs:
        source = model_data_source(model, read_model_policy(model))
        codes = sorted(tables_for(str(source))["pcns"]["icb_code"].unique())[:icbs]
    inputs = load_model(model, icbs=codes)
    start = time.perf_counter()
    solver = Solver(inputs, SolveOptions(cross_year_rows=mode, time_limit=LIMIT[mode]))
    build = time.perf_counter() - start
    solution = solver.solve()
    total = time.perf_counter() - start
    return {"columns": solver.lp.num_col, "rows": solver.lp.num_row, "pcns": len(inputs.pcns),
            "status": solution.status, "objective": solution.objective, "build_s": build,
            "total_s": total, "rounds": solution.rounds, "strategy": type(solver.strategy).__name__
            if hasattr(solver, "strategy") else ""}


def warm_against_cold(model: str, icbs: int) -> dict:
    """Row generation: solved cold, then a 5% budget change and then also a 25% change in the
    value of a QALY, each re-solved warm (`Solver.update`) and, for comparison, built and
    solved cold; seconds, how the update went, and the objectives' gap."""
    from optimiser import Solver, load_model
    from optimiser.batch import tables_for
    from optimiser.inputs import model_data_source, read_model_policy
    from optimiser.solve import SolveOptions

    codes = None
    if icbs:
        source = model_data_source(model, read_model_policy(model))
        codes = sorted(tables_for(str(source))["pcns"]["icb_code"].unique())[:icbs]
    inputs = load_model(model, icbs=codes)
    p = inputs.policy
    budget = inputs.with_policy(gbp_per_head=tuple(b * 1.05 for b in p.gbp_per_head))
    weight = budget.with_policy(qaly_gbp=p.qaly_gbp * 1.25)
    if os.environ.get("ROWGEN_NO_CAPS"):  # --no-caps: warm at every size, to measure it
        from optimiser.strategies import rowgen
        rowgen.WARM_UP_TO_COLUMNS = rowgen.WARM_COSTS_UP_TO_COLUMNS = 10**12
    lazy = SolveOptions(cross_year_rows="lazy")
    solver = Solver(inputs, lazy)
    solver.solve()
    out = {"columns": solver.lp.num_col}
    for name, changed in (("budget", budget), ("weight", weight)):
        start = time.perf_counter()
        how = solver.update(changed)
        warm = solver.solve()
        out[f"{name}_warm_s"], out[f"{name}_how"] = time.perf_counter() - start, how
        start = time.perf_counter()
        cold = Solver(changed, lazy).solve()
        out[f"{name}_cold_s"] = time.perf_counter() - start
        out[f"{name}_gap"] = abs(warm.objective - cold.objective) / abs(cold.objective)
    return out


def run(model: str, icbs: int, mode: str) -> dict:
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", model,
                           str(icbs), mode], capture_output=True, text=True, cwd=REPO,
                          timeout=900)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1], "load": load}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": load}


def warm_table(args) -> None:
    cases = ([] if args.no_dln else [("DLN (3 ICBs)", str(REPO / "models/dln_base.toml"), 0)])
    cases += [(f"{n} ICB{'s' if n > 1 else ''}", str(ENGLAND), n) for n in args.icbs]
    lines = [f"### {date.today().isoformat()}: row generation after a change, warm against "
             f"cold{' (--no-caps: warm at every size)' if args.no_caps else ''}", "",
             "| model | columns | budget +5%: warm s / cold s (load) "
             "| then QALY value +25%: warm s / cold s | objective gap, warm vs cold |",
             "|---|---:|---|---|---|"]
    for name, model, n in cases:
        print(f"{name}, warm against cold ...", file=sys.stderr, flush=True)
        r = run(model, n, "warm")
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | | | |")
            continue

        def cell(k, r=r):
            how = "" if r[f"{k}_how"] == "warm" else " (rebuilt)"
            return f"{r[f'{k}_warm_s']:.2f}{how} / {r[f'{k}_cold_s']:.2f}"

        lines.append(f"| {name} | {r['columns']:,} | {cell('budget')} ({r['load']:.1f}) "
                     f"| {cell('weight')} | {max(r['budget_gap'], r['weight_gap']):.0e} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        path = REPO / "benchmarks" / "rowgen_results.md"
        path.write_text(path.read_text() + "\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--icbs", type=int, nargs="*", default=[1, 3, 10, 20, 42])
    parser.add_argument("--no-dln", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--warm", action="store_true", help="row generation after a change: "
                        "warm against cold (DLN and the --icbs sizes)")
    parser.add_argument("--no-caps", action="store_true", help="with --warm: re-solve warm "
                        "at every size (rowgen.WARM_*_UP_TO_COLUMNS lifted)")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_caps:
        os.environ["ROWGEN_NO_CAPS"] = "1"
    if args.measure:
        model, icbs, mode = args.measure
        if mode == "warm":
            print(json.dumps(warm_against_cold(model, int(icbs))))
        else:
            print(json.dumps(measure(model, int(icbs), mode)))
        return
    if args.warm:
        warm_table(args)
        return

    cases = ([] if args.no_dln else [("DLN (3 ICBs)", str(REPO / "models/dln_base.toml"), 0)])
    cases += [(f"{n} ICB{'s' if n > 1 else ''}", str(ENGLAND), n) for n in args.icbs]
    lines = [f"### {date.today().isoformat()}: cold build and solve, five years", "",
             "| model | PCNs | columns | whole LP s (load) | row generation s (load, rounds) "
             "| lazy / whole | same objective |", "|---|---:|---:|---|---|---:|---|"]
    for k, (name, model, n) in enumerate(cases):
        modes = ["all", "lazy"] if k % 2 == 0 else ["lazy", "all"]
        if n > WHOLE_UP_TO:
            modes = ["lazy"]
        got = {}
        for mode in modes:
            print(f"{name}, {mode} ...", file=sys.stderr, flush=True)
            got[mode] = run(model, n, mode)
            print(f"  {got[mode]}", file=sys.stderr, flush=True)
        whole, lazy = got.get("all"), got["lazy"]
        size = lazy if "error" not in lazy else (whole or {})

        def cell(r, rounds=False):
            if r is None:
                return "not tried (> 600 s, README)"
            if "error" in r:
                return f"{r['error']} (load {r['load']:.1f})"
            extra = f", {r['rounds']} rounds" if rounds else ""
            status = "" if r["status"] == "optimal" else f" **{r['status']}**"
            return f"{r['total_s']:.2f}{status} ({r['load']:.1f}{extra})"

        ratio = same = "–"
        if whole and "error" not in whole and "error" not in lazy and \
                whole["status"] == lazy["status"] == "optimal":
            ratio = f"{lazy['total_s'] / whole['total_s']:.2f}"
            gap = abs(lazy["objective"] - whole["objective"]) / abs(whole["objective"])
            same = "yes" if gap < 1e-7 else f"no ({gap:.1e})"
        lines.append(f"| {name} | {size.get('pcns', '–')} | {size.get('columns', 0):,} "
                     f"| {cell(whole)} | {cell(lazy, True)} | {ratio} | {same} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        path = REPO / "benchmarks" / "rowgen_results.md"
        old = path.read_text() if path.exists() else (
            "# The whole LP against row generation\n\nWritten by `python benchmarks/rowgen.py` "
            "(newest last); see its docstring.\n\n")
        path.write_text(old + text + "\n")


if __name__ == "__main__":
    main()
