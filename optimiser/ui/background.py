"""Long actions in the page: start a job, show its progress with a Cancel button, collect what
it made. The jobs themselves (threads, estimates, cancelling HiGHS) are in jobs.py.

An action whose estimate is at most `INLINE_SECONDS` (about 3 s) is waited for in the page
run that started it, under a spinner, as before (until it runs well past its estimate, or
into a long next step such as an explanation). A longer one runs while the page stays
usable: its progress bar is a fragment that redraws itself twice a second
(`st.fragment(run_every=...)`) without rerunning the page, and asks for a whole-page rerun
when the job ends. Every page run first collects the jobs that ended (`collect`): it hands
each result to the job's `on_done` in the page's own thread, since only that thread may touch
the session's state.

One job of each kind (the plan, the frontier, the uncertainty analysis, a comparison) runs
per browser session; starting another of the same kind cancels the one running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from . import jobs
from .jobs import Job

INLINE_SECONDS = 3.0  # the "about 3 s": longer actions run in the background
POLL_SECONDS = 0.5
WAIT_AT_MOST = 3.0  # x the estimate: a short job still running then goes on in the background


@dataclass
class Entry:
    """A job and what to do with its outcome (each called in the page's thread)."""

    job: Job
    on_done: Callable[[Job], None]
    on_cancel: Callable[[Job], None] | None = None
    on_error: Callable[[Job], None] | None = None  # default: a message (flash_failure)


def _jobs() -> dict[str, Entry]:
    return st.session_state.setdefault("jobs", {})


def running(kind: str) -> Job | None:
    entry = _jobs().get(kind)
    return entry.job if entry is not None and entry.job.running else None


def start(kind: str, label: str, estimate: float, work: Callable[[Job], object],
          on_done: Callable[[Job], None], on_cancel: Callable[[Job], None] | None = None,
          key: object = None, on_error: Callable[[Job], None] | None = None,
          wait: bool = True) -> Job:
    """Start `work` in the background (cancelling a job of the same kind); wait for it here if
    it should take at most INLINE_SECONDS (and `wait`: a job the page need not wait for, such
    as the range shown beside a slider, never holds the page up)."""
    watch_server()
    old = _jobs().get(kind)
    if old is not None:
        old.job.cancel()
    job = Job(kind, label, estimate, work, key=key)
    _jobs()[kind] = Entry(job, on_done, on_cancel, on_error)
    job.start()
    if wait and estimate <= INLINE_SECONDS:
        with st.spinner(f"{label}: {jobs.say(estimate)}…"):
            _wait_inline(job)
        collect(kind)
    return job


def _wait_inline(job: Job) -> None:
    """Wait for a short job, but not past WAIT_AT_MOST x its estimate (a loaded machine, a
    wrong estimate) nor into a long next step (an explanation): from then on it goes on in the
    background like any long job."""
    first = job.step
    deadline = job.started + max(2 * INLINE_SECONDS, WAIT_AT_MOST * job.estimate)
    while not job.wait(0.05):
        if time.monotonic() > deadline or (job.step is not first
                                           and job.step.estimate > INLINE_SECONDS):
            return


def collect(only: str | None = None) -> None:
    """Hand the outcome of every job that ended to its callbacks (in this, the page's thread)."""
    entries = _jobs()
    for kind in list(entries):
        if only is not None and kind != only:
            continue
        entry = entries[kind]
        job = entry.job
        if job.cancelled.is_set():
            entries.pop(kind)  # cancelled: its on_cancel ran when Cancel was pressed
        elif job.finished.is_set():
            entries.pop(kind)
            if job.error is not None:
                (entry.on_error or flash_failure)(job)
            else:
                entry.on_done(job)


def failure_words(job: Job) -> str:
    """What went wrong, in words: the problems of settings the engine refused, or the kind of
    fault (its details go to the server's log, never to the page)."""
    from ..errors import InputError
    from .safe import md

    if isinstance(job.error, InputError):
        return ("These settings cannot be used:\n\n"
                + "\n".join(f"- {md(p)}" for p in job.error.problems))
    return (f"{job.label} could not be finished ({type(job.error).__name__}); the details are "
            "in the server's log. Nothing was lost: the last plan is kept.")


def flash_failure(job: Job) -> None:
    from .state import flash

    flash("error", failure_words(job))


def cancel(kind: str) -> None:
    """on_click of a Cancel button."""
    entry = _jobs().get(kind)
    if entry is None:
        return
    entry.job.cancel()
    if entry.on_cancel is not None:
        entry.on_cancel(entry.job)


def progress(kind: str) -> bool:
    """Draw the progress bar and Cancel button of the running job of this kind; False (and
    nothing drawn) when none is running."""
    if running(kind) is None:
        return False
    _progress(kind)
    return True


@st.fragment(run_every=POLL_SECONDS)
def _progress(kind: str) -> None:
    job = running(kind)
    if job is None:  # it ended (or was cancelled): redraw the page with its outcome
        st.rerun()
    with st.container(key=f"job_{kind}"):
        bar, button = st.columns([5, 1], vertical_alignment="bottom")
        bar.progress(job.fraction(), text=job.words())
        button.button("Cancel", key=f"cancel_{kind}", on_click=cancel, args=(kind,),
                      help="Stop this and keep what is on screen.")


# ---- the server stopping ---------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def watch_server() -> threading.Thread:
    """Once per server: a thread that sets jobs.STOPPING as soon as the server begins to stop
    (SIGTERM, Ctrl-C), so that every job's HiGHS run is interrupted and the process exits at
    once instead of finishing a solve nobody will see."""
    from streamlit.runtime import Runtime, RuntimeState

    def watch() -> None:
        stopping = {RuntimeState.STOPPING, RuntimeState.STOPPED}
        while not jobs.STOPPING.is_set():
            if not Runtime.exists():  # a test harness runs the page without a server
                return
            if Runtime.instance().state in stopping:
                jobs.STOPPING.set()
                return
            time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True, name="stop-watch")
    thread.start()
    return thread
