"""Beside the equity sliders: how far each can go with a plan that meets every rule.

"Every rule can be met with the universal floor up to 20% and the dial up to 0.95": the highest
levels (optimiser/ranges.py), worked out in the background after the settings that bound them
change (not after a weight: weights never make a plan possible or impossible), kept per
settings for the session, and skipped for models too large for it to be cheap.
"""

from __future__ import annotations

import streamlit as st

from ..formulation import OBJECTIVE_ONLY
from ..inputs import ModelInputs
from ..ranges import Levels, highest_levels
from . import background, jobs, state
from .history import settings_key

CHEAP_UP_TO_COLUMNS = 150_000  # larger models: no range worked out unasked
BUSY = ("solve", "frontier", "uncertainty", "compare", "inverse")  # jobs that go first
SOLVES = 14  # about log2(100) + log2(20) feasibility solves, warm


def _key(app: state.App) -> str:
    ss = st.session_state
    bounding = {k: v for k, v in ss["changes"].items() if k not in OBJECTIVE_ONLY}
    return app.data_key + settings_key(ss["icbs"], bounding)


def _start(inputs: ModelInputs, key: str) -> None:
    seconds = SOLVES * jobs.solve_seconds(jobs.columns(inputs), warm=True)
    limit = state.time_limit(jobs.solve_seconds(jobs.columns(inputs)))

    def work(job):
        from .tasks import options

        job.now("Working out how far the floor and the dial can go", seconds)
        return highest_levels(inputs, options(limit), check=job.check)

    def done(job) -> None:
        kept = st.session_state.setdefault("reach", {})
        if len(kept) > 32:
            kept.clear()
        kept[key] = job.result

    background.start("reach", "Working out how far the floor and the dial can go", seconds,
                     work, done, key=key, wait=False)


def words(levels: Levels) -> str:
    if levels.floor is None or levels.dial is None:
        return ("No universal floor or dial meets every rule with the other settings as they "
                "are: the rules bend in the model's order.")
    return (f"Every rule can be met with the universal floor up to {levels.floor:.0%} and the "
            f"dial up to {levels.dial:.2f} (each with the other settings as they are); above "
            "that the rules bend in the model's order.")


def caption(app: state.App, base: ModelInputs) -> None:
    """The range, or the job working it out; nothing for settings that cannot be used."""
    try:
        inputs = state.current_inputs(base)
    except Exception:  # noqa: BLE001 - invalid settings are listed at the top of the page
        return
    if jobs.columns(inputs) > CHEAP_UP_TO_COLUMNS:
        return
    key = _key(app)
    known = st.session_state.get("reach", {}).get(key)
    if known is not None:
        st.caption(words(known))
        return
    job = background.running("reach")
    if job is None or job.key != key:
        if any(background.running(kind) for kind in BUSY):
            return  # it waits for the next run: the plan and the user's own actions first
        _start(inputs, key)
    background.progress("reach")
