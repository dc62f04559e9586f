"""What the app keeps between reruns: the data, the base model, and one warm Solver per session.

Streamlit reruns the page script on every widget change, so everything slow is kept:

* the shipped tables and the base model per ICB selection are cached for all sessions
  (`st.cache_resource`; `ModelInputs` is frozen, so sharing it is safe);
* each browser session holds its own `Solver` (in `tasks.Engine`), built once and then
  re-solved warm: a changed control -> `base.with_policy(**changes)` -> `tasks.solve`;
* the session's policy changes (`st.session_state["changes"]`, a dict of Policy fields) are
  the one source of truth; the widgets show them, and a loaded scenario or a relaxation
  replaces them.

A rerun that changes nothing (a tab switched, the year in view changed) re-uses the last
allocation instead of solving again.

Every solve runs as a job (jobs.py, background.py): one expected to take at most about 3 s is
waited for in the page run, as before; a longer one (many ICBs, an explanation, the frontier,
the uncertainty analysis) runs while the page shows the last plan, a progress bar and a
Cancel button. Interactive solves stop at a time limit (`time_limit()`, 20 s unless
OPTIMISER_TIME_LIMIT says otherwise; longer for actions estimated to need longer), and the
page says so and keeps the last plan.

One session can have two script runs alive at once: with `runner.fastReruns` (Streamlit's
default) a new widget change starts a new run while the old one is still finishing. The
session's Solver is used by one thread at a time (`tasks.Engine.lock`), so HiGHS is never
entered by two threads.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from ..changes import settings_changed
from ..errors import InputError, Problem, Problems
from ..explain import FAMILY_WORDS
from ..inputs import ModelInputs, load_model, read_tables
from ..ranges import conflicts
from ..results import Allocation
from . import background, jobs, tasks
from .jobs import Job
from .safe import md
from .store import ScenarioStore, StoreError, store_url

MODEL_FILE = "models/dln_base.toml"
AREA_FIELDS = ("budget_gbp", "gbp_per_head", "available_wte", "locks")  # tied to the ICBs
TIME_LIMIT_VARIABLE = "OPTIMISER_TIME_LIMIT"
TIME_LIMIT_SECONDS = 20.0  # an interactive solve; an action estimated longer gets 2.5 x that
RELAXING = "relax"  # the key of a solve job that is relaxing the rules
PLANS_KEPT = 8  # plans kept per session by their settings, so undo and redo need no solve
PLANS_KEPT_UP_TO_COLUMNS = 300_000  # larger models keep none (memory)


@dataclass(frozen=True)
class App:
    """Where the app lives and what it was started on."""

    app_dir: Path
    model_file: Path
    default_icbs: tuple[str, ...]
    tables: dict = field(repr=False)  # the tables in use (shipped or uploaded)
    data_key: str  # "shipped" or the uploaded workbook's fingerprint
    data_label: str  # shown to the user (as markdown: a file name is escaped)

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
    pending: Job | None = None  # solving in the background: `previous` is shown meanwhile
    explain_later: bool = False  # infeasible; the explanation is long and waits to be asked
    time_limit: float = 0.0  # the limit the solve ran under, seconds

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
    ss.setdefault("engine", tasks.Engine())
    ss.setdefault("compare_engine", tasks.Engine())
    if "icbs" not in ss:
        ss["icbs"] = list(defaults)
        ss["sync"] = True
    background.collect()  # what jobs made since the last run (a plan, a frontier...)
    return App(app_dir, model_file, defaults, tables,
               data["key"] if data else "shipped",
               f"your workbook {md(data['name'])}" if data else "the shipped NHS open data")


def selected_icbs() -> tuple[str, ...]:
    return tuple(sorted(st.session_state["icbs"]))


def base_model(app: App) -> ModelInputs:
    return base_inputs(str(app.model_file), selected_icbs(), app.data_key, app.tables)


def current_inputs(base: ModelInputs) -> ModelInputs:
    """The base model with the session's changes (raises InputError if they are invalid, or
    contradict themselves: refused before any solve, optimiser/ranges.py)."""
    changes = st.session_state["changes"]
    if not changes:
        return base
    problems = conflicts(base, changes)
    if problems:
        raise InputError(problems)
    return base.with_policy(**changes)


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


def time_limit(estimate: float = 0.0) -> float:
    """Seconds a solve may take: 20 s (or OPTIMISER_TIME_LIMIT) for an interactive solve, and
    2.5 x the estimate for an action estimated to take longer."""
    try:
        limit = float(os.environ.get(TIME_LIMIT_VARIABLE) or TIME_LIMIT_SECONDS)
    except ValueError:
        limit = TIME_LIMIT_SECONDS
    return max(limit, 2.5 * estimate) if estimate > background.INLINE_SECONDS else limit


def _last_plan(last: Result | None) -> Allocation | None:
    """The last optimal allocation: what stays on screen while settings have no plan."""
    if last is None:
        return None
    return last.allocation if last.optimal else last.previous


def current_result(base: ModelInputs) -> Result:
    """The plan for the current settings: the last result when nothing changed, else a solve
    (waited for when short; in the background, with the last plan shown, when long)."""
    ss = st.session_state
    last: Result | None = ss.get("result")
    try:
        inputs = current_inputs(base)
    except InputError as err:
        return Result(None, None, previous=_last_plan(last), error=err,
                      solve_number=ss["solves"])
    background.collect("solve")  # one that ended since this run began
    job = background.running("solve")
    if job is not None and job.key == RELAXING:
        return Result(inputs, None, previous=_last_plan(last), pending=job,
                      solve_number=ss["solves"])
    known = _known(inputs)
    if known is not None:
        return known
    if job is None or job.key != inputs.digest:
        job = start_solve(inputs)
        known = _known(inputs)  # solved (or failed) while the page waited
        if known is not None:
            return known
    return Result(inputs, None, previous=_last_plan(ss.get("result")), pending=job,
                  solve_number=ss["solves"])


def _known(inputs: ModelInputs) -> Result | None:
    """The outcome already had for these settings: the last result, or a failure (never
    solved again until the settings change)."""
    ss = st.session_state
    last: Result | None = ss.get("result")
    if last is not None and last.inputs is not None and last.inputs.digest == inputs.digest:
        return last
    kept: Result | None = ss.get("plans", {}).get(inputs.digest)
    if kept is not None:  # solved earlier in this session (undo, redo, a setting put back)
        ss["solves"] += 1
        result = dataclasses.replace(kept, previous=_last_plan(last), how="reused",
                                     seconds=0.0, solve_number=ss["solves"])
        ss["result"] = result
        ss["plan_settings"] = (list(ss["icbs"]), dict(ss["changes"]))
        return result
    failed = ss.get("solve_failed")
    if failed is not None and failed[0] == inputs.digest:
        return Result(None, None, previous=_last_plan(last), error=failed[1],
                      solve_number=ss["solves"])
    return None


def _estimate(inputs: ModelInputs) -> tuple[float, str]:
    """Seconds the plan for `inputs` should take, and what it is, in words."""
    solver = st.session_state["engine"].solver
    warm = solver is not None and solver.inputs.policy.icbs == inputs.policy.icbs \
        and solver.inputs.policy.constraints == inputs.policy.constraints
    seconds = jobs.solve_seconds(jobs.columns(inputs), warm=warm)
    icbs, pcns = len(inputs.policy.icbs), len(inputs.pcns)
    what = f"Solving {icbs} ICBs ({pcns:,} PCNs)" if icbs > 1 else f"Solving ({pcns} PCNs)"
    return seconds, what


def start_solve(inputs: ModelInputs) -> Job:
    """Start solving the current settings (cancelling a long solve of older settings)."""
    ss = st.session_state
    seconds, what = _estimate(inputs)
    limit = time_limit(seconds)
    engine = ss["engine"]
    icbs, changes = list(ss["icbs"]), dict(ss["changes"])

    def done(job: Job) -> None:
        install(job.result, limit)
        ss["plan_settings"] = (icbs, changes)

    def failed(job: Job) -> None:
        error = job.error if isinstance(job.error, InputError) else InputError(
            [Problem("The solve", background.failure_words(job))])
        ss["solve_failed"] = (inputs.digest, error)

    return background.start("solve", what, seconds,
                            lambda job: tasks.solve(job, engine, inputs, limit),
                            on_done=done, on_cancel=_back_to_the_plan, key=inputs.digest,
                            on_error=failed)


def install(outcome: tasks.Outcome, limit: float) -> Result:
    """Keep a finished solve as the session's result."""
    ss = st.session_state
    last: Result | None = ss.get("result")
    ss["solves"] += 1
    result = Result(outcome.inputs, outcome.allocation, previous=_last_plan(last),
                    how=outcome.how, seconds=outcome.seconds, solve_number=ss["solves"],
                    explain_later=outcome.explain_later, time_limit=limit)
    ss["result"] = result
    keep_plan(result)
    return result


def keep_plan(result: Result) -> None:
    """Keep a finished plan by its settings' digest (the last PLANS_KEPT), for undo and redo."""
    plans: dict = st.session_state.setdefault("plans", {})
    if result.allocation is None or result.allocation.status not in ("optimal", "infeasible") \
            or jobs.columns(result.inputs) > PLANS_KEPT_UP_TO_COLUMNS:
        return
    plans.pop(result.inputs.digest, None)
    plans[result.inputs.digest] = dataclasses.replace(result, previous=None)
    while len(plans) > PLANS_KEPT:
        plans.pop(next(iter(plans)))


def _back_to_the_plan(job: Job) -> None:
    """on_cancel of a solve: the settings go back to those of the plan on screen."""
    ss = st.session_state
    settings = ss.get("plan_settings")
    if settings is None:
        flash("info", "Cancelled. There is no plan yet: change the settings to solve again.")
        return
    ss["icbs"] = list(settings[0])
    set_changes(settings[1])
    flash("info", "Cancelled: the settings are back to those of the plan on screen.")


def no_plan_words(result: Result) -> str:
    """Why a finished solve has no plan, in words (a time limit, an interrupted run)."""
    status = result.allocation.status if result.allocation is not None else "not run"
    if status == "time_limit":
        return (f"The solve took longer than its limit ({result.time_limit:.0f} s), so it was "
                "stopped: these settings have no plan yet. The last plan is kept. Choose "
                "fewer ICBs, or change a setting back.")
    if status == "infeasible":
        return "No plan meets every rule with these settings."
    return (f"The solver stopped without a plan ({status}). The last plan is kept; change a "
            "setting to solve again.")


def explain_later(result: Result) -> None:
    """Offer the explanation of an infeasible model too large to explain unasked."""
    cols = jobs.columns(result.inputs)
    seconds = jobs.explain_seconds(cols)
    if background.progress("explain"):
        return
    st.caption(f"Finding the smallest change that gives a plan takes {jobs.say(seconds)} "
               "for a model this size, and much of the server's memory.")
    st.button("Find the smallest change that gives a plan", key="explain_go",
              on_click=_start_explain, args=(result,))


def _start_explain(result: Result) -> None:
    """on_click: explain in the background (only offered when it takes a minute or more)."""
    ss = st.session_state
    seconds = jobs.explain_seconds(jobs.columns(result.inputs))
    limit = time_limit(seconds)

    def done(job: Job) -> None:
        if ss.get("result") is result:
            ss["result"] = dataclasses.replace(result, allocation=job.result,
                                               explain_later=False)

    background.start("explain", "Finding the smallest change that gives a plan", seconds,
                     lambda job: tasks.explained(job, result.allocation, limit), done)


def relax(explanation) -> None:
    """on_click of Relax: ask for the smallest relaxation (solved before the widgets are drawn,
    so they show the relaxed values). `explanation` None: the plan bent its rules; the
    relaxation that meets them all hard is found in the job."""
    st.session_state["relax_request"] = (explanation,)


def settle(base: ModelInputs) -> None:
    """Before any widget is drawn: start a relaxation asked for, so that a short one's changes
    reach the widgets in this run."""
    ss = st.session_state
    request = ss.pop("relax_request", None)
    if request is None:
        return
    explanation = request[0]
    cols = jobs.columns(base)
    seconds = jobs.solve_seconds(cols, warm=True) + jobs.explain_seconds(cols)
    limit = time_limit(seconds)
    engine, changes = ss["engine"], dict(ss["changes"])
    icbs = list(ss["icbs"])

    def done(job: Job) -> None:
        relaxed: tasks.Relaxed = job.result
        before = base.with_policy(**changes) if changes else base
        set_changes(relaxed.changes)
        install(relaxed.outcome, limit)
        ss["plan_settings"] = (icbs, relaxed.changes)
        ss["relaxed"] = {"digest": relaxed.outcome.inputs.digest, "met": relaxed.feasible,
                         "lines": settings_changed(before, relaxed.outcome.inputs),
                         "rules": [FAMILY_WORDS.get(r, r) for r in relaxed.rules]}

    background.start("solve", "Relaxing the rules", seconds,
                     lambda job: tasks.relax(job, engine, base, changes, explanation, limit),
                     on_done=done, key=RELAXING)


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


def frontier_time(inputs: ModelInputs, points: int) -> str:
    """How long the frontier takes, in words (said beside its button)."""
    return jobs.say(jobs.frontier_seconds(jobs.columns(inputs), points))


def start_frontier(inputs: ModelInputs, points: int, key: str) -> None:
    """Sweep the equity dial from 0 to 1 (in the background when it takes more than ~3 s);
    the table lands in session state "frontier" as (key, table)."""
    seconds = jobs.frontier_seconds(jobs.columns(inputs), points)
    limit = time_limit(jobs.solve_seconds(jobs.columns(inputs)))

    def done(job: Job) -> None:
        st.session_state["frontier"] = (key, job.result)

    background.start("frontier", f"Solving {points} settings of the equity dial", seconds,
                     lambda job: tasks.frontier_table(job, inputs, points, limit), done)


def _uncertainty_seconds(inputs: ModelInputs, draws: int, kinds: bool) -> float:
    solves = int(draws) + (18 if kinds else 0)  # the draws, and each kind of parameter alone
    return jobs.uncertainty_seconds(jobs.columns(inputs), solves)


def uncertainty_time(inputs: ModelInputs, draws: int, kinds: bool) -> str:
    """How long the uncertainty analysis takes, in words (said beside its button)."""
    return jobs.say(_uncertainty_seconds(inputs, draws, kinds))


def start_uncertainty(inputs: ModelInputs, draws: int, kinds: bool) -> None:
    """The uncertainty analysis; its result lands in session state "psa" as (digest, result)."""
    seconds = _uncertainty_seconds(inputs, draws, kinds)
    limit = time_limit(jobs.solve_seconds(jobs.columns(inputs)))

    def done(job: Job) -> None:
        st.session_state["psa"] = (inputs.digest, job.result)

    background.start("uncertainty", f"Solving {draws} draws", seconds,
                     lambda job: tasks.uncertainty(job, inputs, draws, kinds, limit), done)


def compare_inputs(app: App, icbs: tuple[str, ...], changes: dict) -> ModelInputs:
    """Saved settings as inputs (InputError if they cannot be used with the data in use)."""
    base = base_inputs(str(app.model_file), tuple(sorted(icbs)), app.data_key, app.tables)
    return base.with_policy(**changes) if changes else base


def start_compare(first: ModelInputs | None, second: ModelInputs | None, on_done) -> None:
    """Solve the saved settings being compared, on the session's comparison Solver (kept apart
    from the main one); `on_done(first, second)` gets the allocations (None: the current plan)."""
    todo = [i for i in (first, second) if i is not None]
    seconds = sum(jobs.solve_seconds(jobs.columns(i)) for i in todo)
    limit = time_limit(max((jobs.solve_seconds(jobs.columns(i)) for i in todo), default=0))
    engine = st.session_state["compare_engine"]
    background.start("compare", "Solving the scenarios to compare",
                     seconds, lambda job: tasks.compare(job, engine, first, second, limit),
                     lambda job: on_done(*job.result))
