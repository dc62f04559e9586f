"""What the app keeps between reruns: the data, the base model, and one warm Solver per session.

Streamlit reruns the page script on every widget change, so everything slow is kept:

* the shipped tables and the base model per ICB selection are cached for all sessions
  (`st.cache_resource`; `ModelInputs` is frozen, so sharing it is safe);
* each browser session holds its own `Solver` in `st.session_state` (a Solver is not
  thread-safe, and each session's reruns run one at a time), built once and then re-solved
  warm: a changed control -> `base.with_policy(**changes)` -> `allocate(inputs, solver=...)`;
* the session's policy changes (`st.session_state["changes"]`, a dict of Policy fields) are
  the one source of truth; the widgets show them, and a loaded scenario or a relaxation
  replaces them.

A rerun that changes nothing (a tab switched, the year in view changed) re-uses the last
allocation instead of solving again.

One session can have two script runs alive at once: with `runner.fastReruns` (Streamlit's
default) a new widget change starts a new run while the old one is still finishing, and the
old one stops only at its next Streamlit call. Every use of the session's Solver therefore
holds the session's lock (`solver_lock`), so HiGHS is never entered by two threads.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from ..api import allocate
from ..errors import InputError, Problems
from ..inputs import ModelInputs, load_model, read_tables
from ..results import Allocation
from ..solve import Solver
from .store import ScenarioStore, StoreError, store_url

MODEL_FILE = "models/dln_base.toml"
AREA_FIELDS = ("budget_gbp", "gbp_per_head", "available_wte", "locks")  # tied to the ICBs


@dataclass(frozen=True)
class App:
    """Where the app lives and what it was started on."""

    app_dir: Path
    model_file: Path
    default_icbs: tuple[str, ...]
    tables: dict = field(repr=False)  # the tables in use (shipped or uploaded)
    data_key: str  # "shipped" or the uploaded workbook's fingerprint
    data_label: str  # shown to the user

    @property
    def icb_table(self) -> pd.DataFrame:
        """Every ICB in the data (England for the shipped tables), with its PCN count."""
        return icb_table(self.data_key, self.tables)


@dataclass
class Result:
    """The outcome of the current settings: an allocation, or the problems that stop one."""

    inputs: ModelInputs | None
    allocation: Allocation | None
    previous: Allocation | None = None  # the last optimal allocation before this one
    error: InputError | None = None
    how: str = ""  # cold, warm, rebuilt or reused
    seconds: float = 0.0
    solve_number: int = 0

    @property
    def optimal(self) -> bool:
        return self.allocation is not None and self.allocation.status == "optimal"


# ---- shared caches -------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def shipped_tables(data_dir: str) -> dict[str, pd.DataFrame]:
    problems = Problems()
    tables = read_tables(Path(data_dir), problems)
    problems.raise_if_any()
    return tables


@st.cache_resource(show_spinner=False, max_entries=64)
def base_inputs(model_file: str, icbs: tuple[str, ...], data_key: str,
                _tables: dict) -> ModelInputs:
    """The model file's base policy over these ICBs and tables (data_key names the tables)."""
    return load_model(model_file, icbs=list(icbs), tables=_tables)


@st.cache_resource(show_spinner=False, max_entries=16)
def icb_table(data_key: str, _tables: dict) -> pd.DataFrame:
    pcns = _tables["pcns"]
    out = pcns.groupby(["icb_code", "icb_name"]).size().rename("pcns").reset_index()
    return out.set_index("icb_code").sort_values("icb_name")


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> ScenarioStore:
    return ScenarioStore(url)


@st.cache_resource(show_spinner=False)
def default_icbs(model_file: str, _tables: dict) -> tuple[str, ...]:
    return tuple(load_model(model_file, tables=_tables).policy.icbs)


# ---- the session ---------------------------------------------------------------------------


def start(app_dir: Path) -> App:
    """Set up the session on its first run; return the app's context for this run."""
    app_dir = Path(app_dir)
    model_file = app_dir / MODEL_FILE
    shipped = shipped_tables(str(app_dir / "data"))
    ss = st.session_state
    data = ss.get("data")
    tables = data["tables"] if data else shipped
    defaults = default_icbs(str(model_file), shipped)
    ss.setdefault("changes", {})
    ss.setdefault("solves", 0)
    ss.setdefault("default_icbs", list(defaults))
    ss.setdefault("solver_lock", threading.Lock())
    if "icbs" not in ss:
        ss["icbs"] = list(defaults)
        ss["sync"] = True
    return App(app_dir, model_file, defaults, tables,
               data["key"] if data else "shipped",
               f"your workbook {data['name']}" if data else "the shipped NHS open data")


def selected_icbs() -> tuple[str, ...]:
    return tuple(sorted(st.session_state["icbs"]))


def base_model(app: App) -> ModelInputs:
    return base_inputs(str(app.model_file), selected_icbs(), app.data_key, app.tables)


def current_inputs(base: ModelInputs) -> ModelInputs:
    """The base model with the session's changes (raises InputError if they are invalid)."""
    changes = st.session_state["changes"]
    return base.with_policy(**changes) if changes else base


def scenario_store(app: App) -> ScenarioStore | None:
    """The scenario store, or None with the reason in session state."""
    try:
        secrets = st.secrets.to_dict() if st.secrets.load_if_toml_exists() else None
    except Exception:  # noqa: BLE001 - unreadable secrets fall back to the default store
        secrets = None
    try:
        return open_store(store_url(app.app_dir, secrets))
    except StoreError as err:
        st.session_state["store_error"] = str(err)
        return None


# ---- solving -------------------------------------------------------------------------------


@contextmanager
def solver_lock():
    """Hold the session's Solver: an earlier run of this session may still be solving."""
    lock = st.session_state.setdefault("solver_lock", threading.Lock())
    if not lock.acquire(timeout=600):
        raise RuntimeError("The previous solve of this session did not finish.")
    try:
        yield
    finally:
        lock.release()


def current_result(base: ModelInputs) -> Result:
    """Solve the current settings warm, or re-use the last result when nothing changed."""
    ss = st.session_state
    try:
        inputs = current_inputs(base)
    except InputError as err:
        last = ss.get("result")
        previous = last.allocation if last and last.optimal else None
        return Result(None, None, previous=previous, error=err,
                      solve_number=ss["solves"])
    with solver_lock():
        return _solve(inputs)


def _solve(inputs: ModelInputs) -> Result:
    ss = st.session_state
    last: Result | None = ss.get("result")
    if last is not None and last.inputs is not None and last.inputs.digest == inputs.digest:
        return last
    solver: Solver | None = ss.get("solver")
    rebuilds = solver.rebuilds if solver is not None else None
    started = time.perf_counter()
    try:
        with st.spinner("Solving…" if solver is not None else "Building the model…"):
            solver, allocation = allocate(inputs, solver=solver)
    except InputError as err:  # a relaxation or lock that fails validation inside the engine
        return Result(None, None, error=err, solve_number=ss["solves"])
    seconds = time.perf_counter() - started
    how = "cold" if rebuilds is None else ("rebuilt" if solver.rebuilds > rebuilds else "warm")
    ss["solver"] = solver
    ss["solves"] += 1
    previous = last.allocation if last and last.optimal else (last.previous if last else None)
    result = Result(inputs, allocation, previous=previous, how=how, seconds=seconds,
                    solve_number=ss["solves"])
    ss["result"] = result
    return result


def relax(base: ModelInputs, explanation) -> tuple[bool, list[str]]:
    """Apply the smallest relaxation the engine found; if that is not yet enough (it relaxes
    several rules at once by estimates), explain and relax again, up to four rounds.

    Returns whether the settings now have a plan, and the rules relaxed. The feasible result
    is kept, so the page shows it without solving again.
    """
    with solver_lock():
        return _relax(base, explanation)


def _relax(base: ModelInputs, explanation) -> tuple[bool, list[str]]:
    ss = st.session_state
    last: Result | None = ss.get("result")
    changes = {**ss["changes"], **explanation.changes}
    rules = list(explanation.relaxed_rules)
    solver = ss.get("solver")
    feasible = False
    for _ in range(4):
        inputs = base.with_policy(**changes)
        started = time.perf_counter()
        solver, allocation = allocate(inputs, solver=solver)
        ss["solver"] = solver
        if allocation.status == "optimal":
            ss["solves"] += 1
            previous = last.allocation if last and last.optimal else (
                last.previous if last else None)
            ss["result"] = Result(inputs, allocation, previous=previous, how="warm",
                                  seconds=time.perf_counter() - started,
                                  solve_number=ss["solves"])
            feasible = True
            break
        more = allocation.explanation
        if more is None or not more.changes:
            break
        changes = {**changes, **more.changes}
        rules += [r for r in more.relaxed_rules if r not in rules]
    set_changes(changes)
    return feasible, rules


def request_sync() -> None:
    """Ask the next run to show the session's changes in the widgets."""
    st.session_state["sync"] = True


def set_changes(changes: dict) -> None:
    st.session_state["changes"] = dict(changes)
    request_sync()


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next run (success, info, warning, error)."""
    st.session_state.setdefault("flash", []).append((kind, text))


def take_flashes() -> list[tuple[str, str]]:
    return st.session_state.pop("flash", [])


# ---- sweeps and comparisons ------------------------------------------------------------------


def frontier_points(inputs: ModelInputs, points: int) -> pd.DataFrame:
    """Weighted outcome and Q1:Q5 ratio at `points` settings of the equity dial.

    optimiser.frontier sweeps the dial from 0 to 1 with the session's Solver, each point
    warm-started from the one before.
    """
    from ..frontier import frontier

    ss = st.session_state
    with solver_lock():
        table = frontier(inputs, points, solver=ss.get("solver"))
    out = pd.DataFrame({
        "need_gradient": table["need_gradient"],
        "status": table["status"],
        "objective_gbp": table.get("weighted_outcome_gbp", np.nan),
        "q1_q5_ratio": table.get("spend_per_head_q1_q5_ratio", np.nan),
        "health_given_up_gbp": table.get("health_given_up_gbp", np.nan),
    })
    return out


def compare_allocation(app: App, icbs: tuple[str, ...], changes: dict) -> Allocation:
    """Solve saved settings with the session's comparison Solver (kept apart from the main one)."""
    ss = st.session_state
    base = base_inputs(str(app.model_file), tuple(sorted(icbs)), app.data_key, app.tables)
    inputs = base.with_policy(**changes) if changes else base
    with solver_lock():
        solver, allocation = allocate(inputs, solver=ss.get("compare_solver"))
    ss["compare_solver"] = solver
    return allocation
