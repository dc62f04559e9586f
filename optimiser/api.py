"""The public entry points that the app and the command line share."""

from __future__ import annotations

from .explain import explain_infeasible
from .inputs import ModelInputs
from .ordered import OrderedSolver
from .results import Allocation
from .solve import SolveOptions, Solver


def allocate(inputs: ModelInputs, options: SolveOptions | None = None,
             solver: Solver | OrderedSolver | None = None) -> tuple[OrderedSolver, Allocation]:
    """Solve (warm when given a solver) and return the allocation, explained when infeasible.

    The rules bend in the model's stated order when they cannot all be met (`[rules]`,
    optimiser/ordered.py): the allocation then names its shortfalls. With `rules.bend =
    false` (or a plain `Solver`) every rule is hard, and a model that cannot meet them all
    is explained (optimiser/explain.py) instead.
    """
    if solver is None:
        solver = OrderedSolver(inputs, options)
    else:
        solver.update(inputs)
    solution = solver.solve()
    explanation = None
    if solution.status == "infeasible":
        explanation = explain_infeasible(solver.inputs, solver.lp, solver.options)
    stages = [vars(s) for s in getattr(solver, "stages", [])]
    return solver, Allocation(solver.inputs, solver.lp, solution, explanation=explanation,
                              extra_manifest={"stages": stages} if stages else {})
