"""The public entry points that the app and the command line share."""

from __future__ import annotations

from .explain import explain_infeasible
from .inputs import ModelInputs
from .results import Allocation
from .solve import SolveOptions, Solver


def allocate(inputs: ModelInputs, options: SolveOptions | None = None,
             solver: Solver | None = None) -> tuple[Solver, Allocation]:
    """Solve (warm when given a solver) and return the allocation, explained when infeasible."""
    if solver is None:
        solver = Solver(inputs, options)
    else:
        solver.update(inputs)
    solution = solver.solve()
    explanation = None
    if solution.status == "infeasible":
        explanation = explain_infeasible(solver.inputs, solver.lp, solver.options)
    return solver, Allocation(solver.inputs, solver.lp, solution, explanation=explanation)
