"""The app's "never puzzling" work, at DLN scale, as ratios to one warm re-solve.

    python benchmarks/interaction.py            3 rounds; writes benchmarks/interaction_results.md
    python benchmarks/interaction.py --quick    1 round, printed only

Each round starts one solver the way the app does (`allocate` on the DLN base model, cold),
times a plain warm re-solve (the value of a QALY £20,000 -> £25,000: what every slider move
costs), and then, each as the app runs it:

    what changed    optimiser.movement: the plan against the base plan, in words
    address         the settings packed into the page address and read back, checked
                    (optimiser/ui/address.py without Streamlit: encode, decode, with_policy)
    reach           optimiser.ranges.highest_levels: how far the floor and the dial go with
                    every rule met (background job, about 14 warm feasibility solves)
    relax           the smallest change that meets every rule when they bend (the 2026/27
                    budget cut to £5m): the elastic LP of the hard model, then the plan
    least budget    optimiser.target.least_resource for a 24% floor (one LP + the plan)

An undo or redo to settings solved earlier costs no solve at all (the plan is kept by its
settings in the session); it is not timed here. Reported: the median over rounds and the
median of each round's ratio to its own warm re-solve, with the 1-minute load average
(`os.getloadavg()`) before and after.
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
from optimiser.movement import movement  # noqa: E402
from optimiser.ranges import highest_levels  # noqa: E402
from optimiser.target import Aim, least_resource  # noqa: E402
from optimiser.ui import address  # noqa: E402
from optimiser.ui.jobs import Job  # noqa: E402
from optimiser.ui.tasks import hard_explanation  # noqa: E402

STEPS = ("warm re-solve", "what changed", "address", "reach", "relax", "least budget")


def timed(work) -> tuple[float, object]:
    began = time.perf_counter()
    out = work()
    return time.perf_counter() - began, out


def one_round(base) -> dict[str, float]:
    solver, plan = allocate(base)
    out = {}
    moved = base.with_policy(qaly_gbp=25_000.0)
    out["warm re-solve"], (solver, after) = timed(lambda: allocate(moved, solver=solver))
    out["what changed"], _ = timed(lambda: movement(plan, after, "the base model").lines)
    changes = {"qaly_gbp": 25_000.0, "need_gradient": 0.7}

    def packed():
        token = address.encode(list(base.policy.icbs), changes, [])
        icbs, read = address.decode(token)
        return base.with_policy(**read)

    out["address"], _ = timed(packed)
    out["reach"], _ = timed(lambda: highest_levels(base))
    short = base.with_policy(budget_gbp=(5e6, *base.budget_gbp[1:]), gbp_per_head=None)
    job = Job("relax", "benchmark", 1.0, lambda job: None)

    def relax():
        explanation = hard_explanation(job, short, 60.0)
        return allocate(short.with_policy(**explanation.changes))

    out["relax"], _ = timed(relax)
    out["least budget"], _ = timed(
        lambda: least_resource(base, "budget", (Aim("universal_floor", 0.24),)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    base = load_model(REPO / "models" / "dln_base.toml")
    load_before = os.getloadavg()[0]
    rounds = [one_round(base) for _ in range(1 if args.quick else 3)]
    load_after = os.getloadavg()[0]
    lines = [
        "# Never puzzling: the app's undo, address, ranges, relax and inverse work "
        "(benchmarks/interaction.py)", "",
        f"Measured {date.today().isoformat()}, {len(rounds)} round(s), DLN (55 PCNs, 5 years); "
        f"1-minute load average {load_before:.2f} before and {load_after:.2f} after "
        "(`os.getloadavg()`; 2 cores shared with other work).", "",
        "| step | median s | x warm re-solve (median of rounds) | fastest / slowest s |",
        "|---|---:|---:|---|",
    ]
    for step in STEPS:
        times = [r[step] for r in rounds]
        ratios = [r[step] / r["warm re-solve"] for r in rounds]
        lines.append(f"| {step} | {statistics.median(times):.3f} | "
                     f"{statistics.median(ratios):.2f} | {min(times):.3f} / {max(times):.3f} |")
    lines += ["", "An undo or redo to settings solved earlier in the session reuses their plan: "
              "no solve."]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        (REPO / "benchmarks" / "interaction_results.md").write_text(text)


if __name__ == "__main__":
    main()
