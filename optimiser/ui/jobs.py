"""Long actions off the page: a worker thread per action, its progress, a way to cancel it, and
the time it will take, said before it starts.

A `Job` runs `work(job)` in a daemon thread (so a stopping server never waits for it). The
work reports progress with `job.progress(done, total)` or, for one long solve, nothing (the
bar then follows the time elapsed against the estimate), and calls `job.check()` between
steps: after `job.cancel()` (or once the server is stopping, `STOPPING`) the next check raises
`Cancelled`. A HiGHS run in progress is interrupted through HiGHS's own callback
(the simplex and interior-point interrupt callbacks, checked every iteration, ask
`job.interrupted` while an `OrderedSolver` runs: both its models, the hard one and the one
whose rules bend), so a cancel ends a long single solve within a fraction of a second. Runs the
work starts inside the engine where no `Highs` object is reachable (the years solved apart,
the elastic LP of an infeasibility explanation) end at their next check, bounded by the
solver's time limit; the page does not wait for them. A `Highs` object that was interrupted
is never used again: measured here, a warm re-solve after an interrupt took 226 s where a
cold solve took 3 s.

This module does not import Streamlit: background.py draws the progress and the Cancel
button, and collects what a job made when it ends.

## How long things take (`solve_seconds`, `explain_seconds`, ...)

The estimate comes from the model's size in LP columns, which `columns(inputs)` counts
exactly from the eligible (PCN, intervention) pairs without building the LP. Measured on this
2-core machine, 2026-12-03 (load average 0.9 to 2.4; 6 to 7 for the rows of 8 and 10 ICBs,
other people's work on the machine), the app's model (models/dln_base.toml) on the first n
ICBs, one process each (`Solver` build + `solve`, then `explain_infeasible`):

| ICBs | PCNs | columns | build s | solve s | status | explanation s | peak GB |
|---:|---:|---:|---:|---:|---|---:|---:|
| 3 | 55 | 41,910 | 0.03 | 0.46 | optimal | | 0.23 |
| 6 | 144 | 109,655 | 0.08 | 2.38 | optimal | | 0.34 |
| 8 | 196 | 149,245 | 0.30 | 0.24 | infeasible | 44.2 | 0.89 |
| 10 | 299 | 227,595 | 0.57 | 0.32 | infeasible | 105 | 1.25 |
| 12 | 353 | 268,705 | 0.21 | 0.70 | infeasible | 28.8 | 1.64 |
| 24 | 753 | 573,125 | 0.54 | 1.69 | infeasible | 128 | 3.33 |
| 42 | 1,297 | 987,195 | 0.56 | 1.08 | infeasible | 410 | 5.43 |

and benchmarks/README.md: England five-year feasible (35% of the workforce) 46.3 s, DLN cold
1.03 s and warm 0.17-0.20 s, England one-year (197,439 columns) cold 2.85 s and warm 1.36 s;
benchmarks/frontier_uncertainty_results.md: a 25-point frontier 2.77 x a cold solve, a PSA
draw 0.93 x. Fitted: a cold solve to optimality 2.0 s x (columns / 100,000)^1.37 (DLN 0.6 s,
England 46 s); a warm re-solve 0.4 x that (HiGHS rebuilds models of 250,000 columns or more
and solves them cold). An explanation's time depends on which rules conflict as much as on
size (and on the machine's load: 8 and 10 ICBs took longer than 12): 12 s x (columns /
100,000)^1.6 lies within a factor of 2.5 of every row above (England 470 s). An infeasible
model is found out faster than a feasible one is solved, so the solve estimate holds for
both; the explanation is estimated again once it is needed, and the progress bar says when a
step runs past its estimate.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from ..inputs import ModelInputs
from ..strategies.rowgen import WARM_UP_TO_COLUMNS

LOG = logging.getLogger(__name__)
STOPPING = threading.Event()  # set once the server is stopping: every job ends at its next check

SOLVE_S_PER_100K = 2.0  # a cold solve of 100,000 columns, seconds (table above)
SOLVE_EXPONENT = 1.37
WARM_SHARE = 0.4  # a warm re-solve against a cold one
ALWAYS_COLD_FROM = WARM_UP_TO_COLUMNS  # columns: above this an update rebuilds (rowgen.py)
EXPLAIN_S_PER_100K = 12.0
EXPLAIN_EXPONENT = 1.6
FRONTIER_PER_POINT = 0.07  # a 25-point frontier took 2.77 cold solves
PSA_PER_DRAW = 0.93  # a draw against the central cold solve
SETUP_S = 0.3  # reading the model's tables and formulating, at the least


EXIT_WAIT_SECONDS = 2.0  # an interrupted HiGHS run ends in a fraction of a second
_RUNNING: weakref.WeakSet = weakref.WeakSet()  # jobs alive in this process, for _at_exit


class Cancelled(Exception):
    """The job was cancelled (or the server is stopping)."""


@atexit.register
def _at_exit() -> None:
    """When the process ends (the server stopped by SIGTERM or Ctrl-C): stop every job and
    give each a moment to leave HiGHS, which aborts the process if its threads are still
    working when Python exits."""
    STOPPING.set()
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    for job in list(_RUNNING):
        job.wait(max(deadline - time.monotonic(), 0.0))


# ---- estimates ------------------------------------------------------------------------------


def columns(inputs: ModelInputs) -> int:
    """The LP's columns, counted from the inputs (formulation.py's blocks): per year, 1 + K per
    eligible (PCN, intervention) pair (its reach and K response tranches), 1 + R per PCN
    (spend per priority and in all), one for the total; and per year, the average spend per
    eligible person in the other PCNs of each ICB and priority that has both higher-need and
    other PCNs (the enhanced-support uplift's groups)."""
    eligible = int((inputs.eligible.to_numpy() > 0).sum())
    k = len(inputs.policy.tranche_shares)
    pcns = len(inputs.pcns)
    priorities = len(inputs.priorities)
    groups = 0
    if inputs.policy.on("enhanced_support_uplift"):
        flags = inputs.higher_need.reindex(columns=list(inputs.priority_ids)).to_numpy()
        cohort = inputs.priority_cohort.reindex(columns=list(inputs.priority_ids)).to_numpy() > 0
        icb = inputs.pcns["icb_code"].to_numpy()
        for c in set(icb):
            in_c = (icb == c)[:, None] & cohort
            groups += int(((in_c & flags).any(axis=0) & (in_c & ~flags).any(axis=0)).sum())
    per_year = eligible * (1 + k) + pcns * (1 + priorities) + 1 + groups
    return len(inputs.years) * per_year


def solve_seconds(cols: int, warm: bool = False) -> float:
    cold = SETUP_S + SOLVE_S_PER_100K * (cols / 1e5) ** SOLVE_EXPONENT
    return cold * WARM_SHARE if warm and cols < ALWAYS_COLD_FROM else cold


def explain_seconds(cols: int) -> float:
    return EXPLAIN_S_PER_100K * (cols / 1e5) ** EXPLAIN_EXPONENT


def frontier_seconds(cols: int, points: int) -> float:
    return solve_seconds(cols) * (1 + FRONTIER_PER_POINT * points)


def uncertainty_seconds(cols: int, solves: int) -> float:
    return solve_seconds(cols) * (1 + PSA_PER_DRAW * solves)


def say(seconds: float) -> str:
    """An estimate in words: "about 50 s", "about 7 min"."""
    if seconds < 2:
        return "about a second"
    if seconds < 90:
        return f"about {max(round(seconds / 5) * 5, 2) if seconds > 10 else round(seconds)} s"
    return f"about {round(seconds / 60)} min"


# ---- jobs -----------------------------------------------------------------------------------


@dataclass
class Step:
    """What the job is doing now, and how long this step is expected to take."""

    words: str
    estimate: float
    started: float


class Job:
    """One long action running in its own thread."""

    def __init__(self, kind: str, label: str, estimate: float, work: Callable[[Job], object],
                 key: object = None):
        self.kind, self.label, self.key = kind, label, key
        self.estimate = max(float(estimate), 0.1)
        self._work = work
        self.cancelled = threading.Event()
        self.finished = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.done, self.total = 0, 0
        self.step = Step(label, self.estimate, self.started)
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"job-{kind}")

    def start(self) -> Job:
        _RUNNING.add(self)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.check()
            self.result = self._work(self)
        except Cancelled:
            self.cancelled.set()
        except BaseException as err:  # noqa: BLE001 - kept for the page to report in words
            LOG.exception("background job %s failed", self.kind)
            self.error = err
        finally:
            self.finished.set()
            _RUNNING.discard(self)

    # ---- from the worker ----
    def check(self) -> None:
        """Raise Cancelled if the job was cancelled or the server is stopping."""
        if self.cancelled.is_set() or STOPPING.is_set():
            raise Cancelled()

    def progress(self, done: int, total: int) -> None:
        """Count a finished piece of work (a frontier point, a draw); then check."""
        self.done, self.total = int(done), int(total)
        self.check()

    def now(self, words: str, estimate: float) -> None:
        """Start a new step with its own estimate (the bar then follows this step's time)."""
        self.step = Step(words, max(float(estimate), 0.1), time.monotonic())
        self.done = self.total = 0
        self.check()

    def interrupted(self) -> bool:
        """Should a run stop now (cancelled, or the server stopping)? What an
        `OrderedSolver.interrupt` asks, for each HiGHS model it runs."""
        return self.cancelled.is_set() or STOPPING.is_set()

    # ---- from the page ----
    def cancel(self) -> None:
        self.cancelled.set()

    @property
    def running(self) -> bool:
        return not self.finished.is_set() and not self.cancelled.is_set()

    @property
    def succeeded(self) -> bool:
        return self.finished.is_set() and not self.cancelled.is_set() and self.error is None

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def fraction(self) -> float:
        """How far along: counted pieces when there are any, else time against the estimate
        (never shown complete until it is)."""
        if self.total:
            return min(self.done / self.total, 1.0)
        spent = time.monotonic() - self.step.started
        return min(spent / self.step.estimate, 0.95)

    def words(self) -> str:
        """The progress in words, for the bar's label: what, the estimate, how far."""
        spent = time.monotonic() - self.step.started
        head = f"{self.step.words}: {say(self.step.estimate)} in all, {spent:.0f} s so far"
        if self.total:
            return f"{head}, {self.done} of {self.total} done"
        if spent > self.step.estimate:
            return f"{head}, longer than estimated"
        return head
