"""Where a plan meets every rule, and settings that contradict themselves, before any solve.

`conflicts(base, changes) -> list[Problem]`: settings that no plan can meet whatever the
solver does, found from the settings alone and said in a finance lead's words: a ring fence
whose minimum is above its maximum, ring-fence minimums adding up to more than the whole
budget, and locks adding up to more than a year's budget. The app refuses them before
solving (a lock above the budget would otherwise only show as a shortfall, or no plan).

`highest_levels(inputs) -> Levels`: the highest universal floor and the highest need-gradient
dial at which a plan meets every rule (each with the other settings as they are, every rule
hard), to the app's slider steps (1 point of the floor, 0.05 of the dial). Each is a bisection
over warm re-solves of one Solver: feasibility alone, so at most about eight solves each
(log2 of the steps in the range). The floor's highest level is an exact LP question too
(target.py minimises the budget for a floor), but the bisection answers both dials the same
way and stops at the slider's own resolution, which is all the slider can show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InputError, Problem
from .formats import money, percent
from .inputs import ModelInputs
from .schemas import priority_short
from .solve import SolveOptions, Solver

FLOOR_STEP = 0.01  # the app's slider steps
DIAL_STEP = 0.05


def conflicts(base: ModelInputs, changes: dict) -> list[Problem]:
    """Settings that contradict themselves (module docstring), in words, with what to fix."""
    problems = []
    fences = changes.get("ring_fences", base.policy.ring_fences)
    for fence in fences:
        lo, hi = fence.min_share, fence.max_share
        pot = priority_short(fence.priority) if fence.priority else "all priorities"
        what = f"The ring fence on {pot}"
        if lo is not None and hi is not None and lo > hi + 1e-12:
            problems.append(Problem(
                "Budget and ring-fences", f"{what} asks for at least {percent(lo, 1)} of each "
                f"year's budget but at most {percent(hi, 1)}: no plan can do both",
                "Make its minimum no more than its maximum"))
    least = sum(f.min_share or 0.0 for f in fences if not f.tier and not f.icb)
    if least > 1 + 1e-9:
        problems.append(Problem(
            "Budget and ring-fences", f"The ring-fence minimums add up to {percent(least)} of "
            "each year's budget: more than all of it", "Lower one or more minimums"))
    budget = changes.get("budget_gbp")
    budget = base.budget_gbp if budget is None else np.asarray(budget, dtype=float)
    locks = changes.get("locks", base.policy.locks)
    for year, available in zip(base.years, budget, strict=False):
        held = sum(k.spend_gbp for k in locks if not k.years or year in k.years)
        if held > available + 0.5:
            problems.append(Problem(
                "Lock a commitment", f"The locks hold {money(held)} in {year}, more than that "
                f"year's budget of {money(available)}", "Release a lock, lower its spend, or "
                "raise the budget"))
            break  # one year says it; the others follow from the same locks
    return problems


@dataclass(frozen=True)
class Levels:
    """The highest floor and dial at which every rule can be met (None: not even at zero)."""

    floor: float | None
    dial: float | None
    solves: int


def highest(feasible: Callable[[float], bool], top: float, step: float) -> float | None:
    """The highest level in [0, top], on the grid of `step`, at which `feasible` holds, given
    that it holds for every level below one that holds (a stricter rule never makes a plan
    possible); None when it fails even at 0."""
    n = int(round(top / step))
    if feasible(n * step):
        return n * step
    if not feasible(0.0):
        return None
    lo, hi = 0, n  # feasible at lo, not at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(mid * step):
            lo = mid
        else:
            hi = mid
    return lo * step


def highest_levels(inputs: ModelInputs, options: SolveOptions | None = None,
                   check: Callable[[], None] | None = None) -> Levels:
    """The highest universal floor and need-gradient dial meeting every rule (module
    docstring). `check` is called between solves (a cancel raises there)."""
    hard = inputs.with_policy(rules_bend=False)
    solver = Solver(hard, options or SolveOptions())
    count = [0]

    def meets(**level) -> bool:
        if check is not None:
            check()
        try:
            changed = hard.with_policy(**level)
        except InputError:  # refused by the settings' own checks (a floor above mobilisation)
            return False
        solver.update(changed)
        count[0] += 1
        return solver.solve().status == "optimal"

    floor = dial = None
    if hard.policy.on("universal_core_offer"):
        floor = highest(lambda f: meets(universal_floor=f), 1.0, FLOOR_STEP)
    else:
        floor = 1.0
    if hard.policy.on("need_gradient"):
        dial = highest(lambda d: meets(need_gradient=d), 1.0, DIAL_STEP)
    else:
        dial = 1.0
    return Levels(floor, dial, count[0])
