"""What the app's long actions do, run in a job's worker thread (jobs.py): the plan for the
current settings, a relaxation, an infeasibility explanation asked for, the frontier, the
uncertainty analysis, a comparison and an inverse question. Each is the engine's public API,
in steps, so that the job can report each step, stop between them and interrupt HiGHS within
one. No Streamlit.

The session's warm Solver lives in an `Engine` and is used by one thread at a time (its
lock): two page runs of one session can be alive at once, and the job of the earlier may
still be solving. A Solver whose HiGHS run was interrupted (a cancel) or stopped at its time
limit is not put back: the next solve builds a new one (jobs.py says why). So a cancel lets
a short HiGHS run finish (`LET_FINISH_SECONDS`): a burst of slider presses (what dragging a
slider far sends) cancels each solve for the next, and interrupting warm runs of a fraction of
a second made every next solve a cold one (ten presses on DLN's floor took 46.6 s to reach the
screen, benchmarks/browser_interaction_results.md); finished, the cancelled run keeps the
Solver warm and the next press's solve starts from its basis.

`solve` is `api.allocate` taken apart: the update and solve (interruptible) hold the lock;
the explanation of an infeasible model (the elastic LP, which cannot be interrupted) does not,
and is left for the user to ask for when it would take longer than EXPLAIN_UNASKED_SECONDS
(all of England: about 7 minutes and 5 GB, jobs.py).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..explain import explain_infeasible
from ..formulation import formulate
from ..inputs import ModelInputs
from ..ordered import OrderedSolver
from ..results import Allocation
from ..solve import SolveOptions
from . import jobs
from .jobs import Job

EXPLAIN_UNASKED_SECONDS = 60.0
HEALTHY = ("optimal", "infeasible")  # statuses after which a Solver is kept warm
RELAX_ROUNDS = 4
LET_FINISH_SECONDS = 1.0  # a cancelled HiGHS run younger than this is left to finish


@dataclass
class Engine:
    """The session's warm Solver and the lock that lets one thread at a time use it."""

    solver: OrderedSolver | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Outcome:
    """A solved plan, or an infeasible one (explained, or with its explanation left to ask)."""

    inputs: ModelInputs
    allocation: Allocation
    how: str  # cold, warm or rebuilt
    seconds: float
    explain_later: bool = False


def options(limit: float) -> SolveOptions:
    return SolveOptions(time_limit=float(limit))


def _interrupt(job: Job, started: float):
    """What each HiGHS run asks every iteration: stop now? At once when the server is stopping;
    after a cancel, only once the solve has run `LET_FINISH_SECONDS` (a short run finishes and
    keeps the Solver warm for the next; a long one stops within that time)."""
    def ask() -> bool:
        if jobs.STOPPING.is_set():
            return True
        return job.interrupted() and time.perf_counter() - started > LET_FINISH_SECONDS
    return ask


def solve(job: Job, engine: Engine, inputs: ModelInputs, limit: float,
          explain: bool = True) -> Outcome:
    """The plan for `inputs`, warm from the session's Solver when it has one."""
    with engine.lock:
        started = time.perf_counter()  # the solve, not the wait for an older one to let go
        job.check()
        solver, engine.solver = engine.solver, None
        if solver is None:
            solver = OrderedSolver(inputs, options(limit))
            how = "cold"
        else:
            solver.options = dataclasses.replace(solver.options, time_limit=float(limit))
            rebuilds = solver.rebuilds
            solver.update(inputs)
            how = "rebuilt" if solver.rebuilds > rebuilds else "warm"
        # A cancel (a newer move of the same slider, say) keeps the Solver warm for the next
        # solve unless it stopped a HiGHS run: only an interrupted Solver is dropped
        solution = None
        try:
            job.check()
            solver.interrupt = _interrupt(job, time.perf_counter())  # each HiGHS model it runs
            try:
                solution = solver.solve()
            finally:
                solver.interrupt = None
            job.check()
        finally:
            if solution is None or solution.status in HEALTHY:
                engine.solver = solver
        model_inputs, lp = solver.inputs, solver.lp
    allocation = Allocation(model_inputs, lp, solution)
    later = False
    if solution.status == "infeasible" and explain:
        cols = jobs.columns(model_inputs)
        if jobs.explain_seconds(cols) > EXPLAIN_UNASKED_SECONDS:
            later = True
        else:
            allocation = explained(job, allocation, limit)
    return Outcome(model_inputs, allocation, how, time.perf_counter() - started, later)


def explained(job: Job, allocation: Allocation, limit: float) -> Allocation:
    """The infeasible allocation with its explanation: the smallest relaxation that works."""
    estimate = jobs.explain_seconds(jobs.columns(allocation.inputs))
    job.now("No plan meets every rule: finding the smallest change that gives one", estimate)
    explanation = explain_infeasible(allocation.inputs, allocation.lp,
                                     options(max(limit, 2.5 * estimate)))
    job.check()
    return dataclasses.replace(allocation, explanation=explanation)


@dataclass(frozen=True)
class Relaxed:
    """Where a relaxation ended: the changes, the rules relaxed, and the last solve."""

    changes: dict
    rules: list[str]
    outcome: Outcome

    @property
    def feasible(self) -> bool:
        """A plan that meets every rule (none bent)."""
        allocation = self.outcome.allocation
        return allocation.status == "optimal" and bool(getattr(allocation, "rules_met", True))


def hard_explanation(job: Job, inputs: ModelInputs, limit: float):
    """The smallest change that meets every rule of `inputs` hard (for a plan whose rules bent:
    a shortfall the budget or a hard workforce limit causes is relaxed like "no plan")."""
    hard = inputs.with_policy(rules_bend=False)
    estimate = jobs.explain_seconds(jobs.columns(hard))
    job.now("Finding the smallest change that meets every rule", estimate)
    explanation = explain_infeasible(hard, formulate(hard), options(max(limit, 2.5 * estimate)),
                                     check=False)
    job.check()
    return explanation


def relax(job: Job, engine: Engine, base: ModelInputs, changes: dict, explanation,
          limit: float) -> Relaxed:
    """Apply the smallest relaxation the engine found (`explanation`; None: a plan that met its
    rules only by bending them, explained here with every rule hard); if that is not yet
    enough (it relaxes several rules at once by estimates), explain and relax again, up to
    RELAX_ROUNDS rounds."""
    if explanation is None:
        explanation = hard_explanation(job, base.with_policy(**changes), limit)
    changes = {**changes, **explanation.changes}
    rules = list(explanation.relaxed_rules)
    for _ in range(RELAX_ROUNDS):
        outcome = solve(job, engine, base.with_policy(**changes), limit)
        relaxed = Relaxed(changes, rules, outcome)
        if relaxed.feasible:
            break
        more = (hard_explanation(job, outcome.inputs, limit)
                if outcome.allocation.status == "optimal" else outcome.allocation.explanation)
        if more is None or not more.changes:
            break
        changes = {**changes, **more.changes}
        rules += [r for r in more.relaxed_rules if r not in rules]
    return Relaxed(changes, rules, outcome)


def least(job: Job, inputs: ModelInputs, resource: str, aims: tuple, per_year: bool,
          limit: float):
    """The inverse question (optimiser/target.py): the least budget or WTE meeting `aims`, its
    marginal cost in words and the plan at the answer. One LP and one forward solve, neither
    interruptible: a cancel takes effect when they end (the answer is then dropped)."""
    from ..target import least_resource

    job.now("Finding the least amount that meets the aim (one LP)",
            3 * jobs.solve_seconds(jobs.columns(inputs)))
    target = least_resource(inputs, resource, aims, per_year=per_year, options=options(limit))
    job.check()
    return target


def frontier_table(job: Job, inputs: ModelInputs, points: int, limit: float) -> pd.DataFrame:
    """Weighted outcome and Q1:Q5 ratio at `points` settings of the equity dial
    (optimiser.frontier, each point warm-started from the one before, on its own Solver)."""
    from ..frontier import frontier, point_inputs

    solver = OrderedSolver(point_inputs(inputs, 0.0, None), options(limit))
    job.check()
    solver.interrupt = job.interrupted
    table = frontier(inputs, points, solver=solver, progress=job.progress)
    return pd.DataFrame({
        "need_gradient": table["need_gradient"],
        "status": table["status"],
        "objective_gbp": table.get("weighted_outcome_gbp", np.nan),
        "q1_q5_ratio": table.get("spend_per_head_q1_q5_ratio", np.nan),
        "health_given_up_gbp": table.get("health_given_up_gbp", np.nan),
        "rules_met": table.get("rules_met", True),  # open circles on the chart where they bent
    })


def uncertainty(job: Job, inputs: ModelInputs, draws: int, kinds: bool, limit: float):
    """The probabilistic sensitivity analysis, in this process, one solve at a time (each
    draw's own Solver: a cancel takes effect after the draw being solved)."""
    from ..uncertainty import run_uncertainty

    return run_uncertainty(inputs, int(draws), seed=0, workers=1, tornado_top=0,
                           tornado_kinds=bool(kinds), candidates=5, options=options(limit),
                           progress=job.progress)


def compare(job: Job, engine: Engine, first: ModelInputs | None,
            second: ModelInputs | None, limit: float) -> tuple[Allocation | None, ...]:
    """Solve the saved settings being compared (None: the current plan, already solved)."""
    out = []
    for inputs in (first, second):
        if inputs is None:
            out.append(None)
            continue
        out.append(solve(job, engine, inputs, limit, explain=False).allocation)
    return tuple(out)
