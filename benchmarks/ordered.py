"""Rules that bend: what a move in the app costs when it crosses into shortfall, at DLN scale.

    python benchmarks/ordered.py            5 rounds; writes benchmarks/ordered_results.md
    python benchmarks/ordered.py --quick    1 round, printed only

Each round starts one solver the way the app does (`allocate` on the DLN base model, cold) and
then times, back to back, the moves a board might make with the universal floor slider:

    plain warm      20% -> 21%: every rule still met (the fast path: the hard LP, warm)
    crossing        21% -> 30%: the floor can no longer be met; the second model is built the
                    first time and the ordered stages run (optimiser/ordered.py)
    within          30% -> 31%: still short; the stages again, warm on the second model
    back            31% -> 20%: every rule met again (the stages find no shortfall, then the
                    hard LP answers)

Each time is `allocate(inputs, solver=...)` (update + solve + the Allocation) plus the
shortfall words the app shows. Reported: the median over rounds, the median of each round's
ratio to its own plain warm re-solve, the fastest and slowest, with the load average
(`uptime`) beside the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from optimiser import allocate, load_model  # noqa: E402

MOVES = (("plain warm", 0.21), ("crossing", 0.30), ("within", 0.31), ("back", 0.20))
TARGET_S = 1.0  # the app's target: the changed result on screen within 1 s (browser_results)


def one_round(base) -> dict[str, float]:
    solver, _ = allocate(base)
    out = {}
    for name, floor in MOVES:
        inputs = base.with_policy(universal_floor=floor)
        began = time.perf_counter()
        solver, allocation = allocate(inputs, solver=solver)
        words = allocation.shortfall_words
        out[name] = time.perf_counter() - began
        out[f"{name} short"] = bool(words)
        out[f"{name} stages"] = sum(s.solved for s in solver.stages)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    base = load_model(REPO / "models" / "dln_base.toml")
    load_before = os.getloadavg()
    rounds = [one_round(base) for _ in range(1 if args.quick else 5)]
    load_after = os.getloadavg()
    lines = ["| move | median s | x plain warm (median of rounds) | fastest / slowest s "
             "| rules short | stages solved |", "|---|---:|---:|---|---|---:|"]
    for name, _floor in MOVES:
        times = [r[name] for r in rounds]
        ratio = statistics.median(r[name] / r["plain warm"] for r in rounds)
        lines.append(f"| {name} | {statistics.median(times):.3f} | {ratio:.1f} | "
                     f"{min(times):.3f} / {max(times):.3f} | "
                     f"{'yes' if rounds[0][f'{name} short'] else 'no'} | "
                     f"{rounds[0][f'{name} stages']} |")
    worst = max(max(r[name] for name, _ in MOVES) for r in rounds)
    text = "\n".join([
        f"Measured {date.today().isoformat()}, {len(rounds)} round(s), load average "
        f"{load_before[0]:.2f} before and {load_after[0]:.2f} after (1-minute, `uptime`).",
        "",
        *lines,
        "",
        f"Slowest single move: {worst:.3f} s (the app's target: {TARGET_S:.0f} s on screen).",
    ])
    print(text)
    if not args.quick:
        (REPO / "benchmarks" / "ordered_results.md").write_text(
            "# Rules that bend: a move in the app into shortfall (benchmarks/ordered.py)\n\n"
            + text + "\n")


if __name__ == "__main__":
    main()
