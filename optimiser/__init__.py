"""NHS proportionate-universalism allocation optimiser.

Data flows one way: files -> `load_model` (validated `ModelInputs`) -> `formulate` (the LP)
-> `Solver` (HiGHS) -> `Allocation` (tables) -> app, command line or reports.
"""

from .api import allocate, solve_options
from .checks import verify
from .errors import InputError, Problem
from .explain import explain_infeasible
from .formulation import formulate
from .inputs import ModelInputs, list_scenarios, load_model
from .policy import Policy
from .results import Allocation
from .solve import Solution, SolveOptions, Solver, solve

__all__ = [
    "Allocation", "InputError", "ModelInputs", "Policy", "Problem", "Solution", "SolveOptions",
    "Solver", "allocate", "explain_infeasible", "formulate", "list_scenarios", "load_model",
    "solve", "solve_options", "verify",
]
__version__ = "0.1.0"
