"""The public entry points that the app and the command line share."""

from __future__ import annotations

import dataclasses

from .explain import explain_infeasible, explain_stop
from .inputs import ModelInputs
from .ordered import OrderedSolver
from .results import Allocation
from .solve import SolveOptions, Solver


def solve_options(inputs: ModelInputs, time_limit: float | None = None,
                  base: SolveOptions | None = None) -> SolveOptions:
    """The options a solve of these inputs uses. The time limit, in seconds: `time_limit`
    when given (the command line's --time-limit, or the app's interactive limit), else the
    model file's `[solver] time_limit`, else `SolveOptions`' default."""
    base = base or SolveOptions()
    limit = time_limit if time_limit is not None else inputs.policy.time_limit
    return base if limit is None else dataclasses.replace(base, time_limit=float(limit))


def allocate(inputs: ModelInputs, options: SolveOptions | None = None,
             solver: Solver | OrderedSolver | None = None) -> tuple[OrderedSolver, Allocation]:
    """Solve (warm when given a solver) and return the allocation; when there is no optimum,
    its explanation (why it is infeasible, or that the time limit ran out).

    The rules bend in the model's stated order when they cannot all be met (`[rules]`,
    optimiser/ordered.py): the allocation then names its shortfalls. With `rules.bend =
    false` (or a plain `Solver`) every rule is hard, and a model that cannot meet them all
    is explained (optimiser/explain.py) instead.
    """
    if solver is None:
        solver = OrderedSolver(inputs, options or solve_options(inputs))
    else:
        solver.update(inputs)
    solution = solver.solve()
    explanation = None
    if solution.status == "infeasible":
        explanation = explain_infeasible(solver.inputs, solver.lp, solver.options)
    elif not solution.optimal:
        explanation = explain_stop(solution, solver.options)
    stages = [vars(s) for s in getattr(solver, "stages", [])]
    return solver, Allocation(solver.inputs, solver.lp, solution, explanation=explanation,
                              extra_manifest={"stages": stages} if stages else {},
                              compared_with=lp_plan(solver.inputs, solver.options))


def without_commissioning(inputs: ModelInputs) -> ModelInputs:
    """The same inputs with [commissioning] off: the LP the commissionable plan is priced
    against."""
    return inputs.with_policy(commissioning=dataclasses.replace(
        inputs.policy.commissioning, on=False))


def lp_plan(inputs: ModelInputs, options: SolveOptions) -> Allocation | None:
    """With [commissioning] on, the LP's allocation of the same inputs (None when it is off):
    the bound the price of commissionability is measured from."""
    if not inputs.policy.commissioning.on:
        return None
    plain = without_commissioning(inputs)
    solver = OrderedSolver(plain, options)
    solution = solver.solve()
    return Allocation(plain, solver.lp, solution)
