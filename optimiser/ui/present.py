"""Presenting to a board: presenter mode, the scenario's name, and the board pack.

Presenter mode is for a 1280x720 projector: the sidebar folded away (the facilitator opens
it with the arrow at the top left to change a setting), one row of short headline tiles, the
open tab's chart above the fold and larger type. It is a toggle at the top of the page and
lives in the page address (`?present=1`), so a bookmark or a refresh opens the page presenting.

The scenario's name is the one last saved or loaded, while the plan on screen still has its
settings; "Base model" when it has the model's own; otherwise "Unsaved settings". It heads the
presenter view, names the workbook and titles every slide of the board pack, with the
settings it changed in words (optimiser/changes.py).
"""

from __future__ import annotations

import re

import streamlit as st

from ..changes import scenario_line, settings_changed
from ..results import Allocation
from . import state

PRESENT = "present"  # the toggle's key and the page address's parameter
BASE_NAME = "Base model"
UNSAVED = "Unsaved settings"


def presenting() -> bool:
    """Is the page presenting? The page address says so on the first run (?present=1);
    the toggle after that."""
    ss = st.session_state
    if PRESENT not in ss:
        ss[PRESENT] = st.query_params.get(PRESENT) == "1"
    return bool(ss[PRESENT])


def _toggled() -> None:
    """on_change of the toggle: keep the page address in step (a refresh keeps the mode)."""
    if st.session_state[PRESENT]:
        st.query_params[PRESENT] = "1"
    else:
        st.query_params.pop(PRESENT, None)


def toggle() -> None:
    st.toggle("Presenter mode", key=PRESENT, on_change=_toggled,
              help="For a projector: settings folded away (the arrow at the top left opens "
                   "them), one row of headline figures, larger type. Also ?present=1 in the "
                   "page address.")


# ---- the scenario's name ----------------------------------------------------------------------


def remember(name: str) -> None:
    """Hook for the Scenarios tab: the settings on screen were saved or loaded as `name`."""
    st.session_state["scenario_named"] = {"name": name, "icbs": list(state.selected_icbs()),
                                          "changes": dict(st.session_state["changes"]),
                                          "digest": None}


def _named_digest(app: state.App, named: dict) -> str | None:
    """The inputs digest the named scenario's settings give (worked out once)."""
    if named["digest"] is None:
        try:
            named["digest"] = state.compare_inputs(app, tuple(named["icbs"]),
                                                   named["changes"]).digest
        except Exception:  # noqa: BLE001 - settings that no longer apply name nothing
            named["digest"] = ""
    return named["digest"]


def default_base(app: state.App):
    """The model file's base model over its own ICBs."""
    return state.base_inputs(str(app.model_file), tuple(sorted(app.default_icbs)),
                             app.data_key, app.tables)


def scenario_name(app: state.App, allocation: Allocation) -> str:
    """The name of the scenario whose plan this is."""
    named = st.session_state.get("scenario_named")
    digest = allocation.inputs.digest
    if named and _named_digest(app, named) == digest:
        return named["name"]
    if digest == default_base(app).digest:
        return BASE_NAME
    return UNSAVED


def changed(app: state.App, allocation: Allocation) -> list[str]:
    """What the plan's settings changed from the model file's, a line each."""
    inputs = allocation.inputs
    base = state.base_inputs(str(app.model_file), tuple(sorted(inputs.policy.icbs)),
                             app.data_key, app.tables)
    return settings_changed(base, inputs, model_icbs=tuple(app.default_icbs))


def heading(app: state.App, allocation: Allocation | None) -> str:
    """The scenario and its changed settings, on one line (presenter mode's heading)."""
    if allocation is None:
        return ""
    key = (allocation.inputs.digest, str(st.session_state.get("scenario_named")))
    cache = st.session_state.setdefault("heading_cache", {})
    if key not in cache:
        cache.clear()
        cache[key] = scenario_line(scenario_name(app, allocation), changed(app, allocation))
    return cache[key]


def file_stem(name: str) -> str:
    """A file name from a scenario's name: letters, digits, spaces, hyphens and dots kept."""
    stem = re.sub(r"[^\w\- .]+", "_", name).strip(" ._") or "allocation"
    return stem[:80]


# ---- the board pack ---------------------------------------------------------------------------


def pack(app: state.App, allocation: Allocation):
    """The board pack of the plan on screen (with the frontier if it was drawn for it)."""
    from ..boardpack import Pack

    inputs = allocation.inputs
    stored = st.session_state.get("frontier")
    frontier, note = None, ""
    if stored:
        if stored[0] == inputs.with_policy(need_gradient=0.0).digest:
            frontier = stored[1]
        else:
            note = ("The frontier drawn in the app was for other settings, so it is left out. "
                    "Draw it again in the Frontier tab for these settings, then download the "
                    "pack again.")
    return Pack(allocation, scenario_name(app, allocation), tuple(changed(app, allocation)),
                frontier, note)
