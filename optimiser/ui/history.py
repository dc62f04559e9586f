"""Undo and redo of settings: a bounded history of the session's settings (ICBs and changes).

Every page run looks at the settings once (`observe`, after any callback or finished job has
changed them): settings unlike the entry in hand become a new entry, and the entries after it
(what redo would have gone back to) are dropped, as in any editor. Undo and redo move along
the entries and put their settings back; the plan comes back with them from the session's
plans already solved (state.py keeps the last few), or is re-solved warm. Everything that
changes settings is seen the same way: a slider, a relaxation, a loaded scenario, a reset.
"""

from __future__ import annotations

import json

import streamlit as st

from . import state
from .store import changes_to_json

HISTORY_LIMIT = 40  # settings kept for undo (slider drags add one each)


def settings_key(icbs, changes: dict) -> str:
    """The settings as a canonical text: equal settings give equal keys."""
    return json.dumps({"icbs": sorted(icbs), "changes": changes_to_json(changes)},
                      sort_keys=True, default=float)


def _history() -> dict:
    return st.session_state.setdefault("history", {"entries": [], "at": -1})


def observe() -> None:
    """Record the session's settings if they differ from the entry in hand."""
    ss = st.session_state
    history = _history()
    icbs, changes = tuple(sorted(ss["icbs"])), dict(ss["changes"])
    key = settings_key(icbs, changes)
    entries, at = history["entries"], history["at"]
    if entries and entries[at][0] == key:
        return
    del entries[at + 1:]
    entries.append((key, icbs, changes))
    del entries[:-HISTORY_LIMIT]
    history["at"] = len(entries) - 1


def can_undo() -> bool:
    return _history()["at"] > 0


def can_redo() -> bool:
    history = _history()
    return history["at"] < len(history["entries"]) - 1


def go(step: int) -> None:
    """on_click of Undo (-1) and Redo (+1): put that entry's settings back."""
    history = _history()
    at = history["at"] + step
    if not 0 <= at < len(history["entries"]):
        return
    history["at"] = at
    _key, icbs, changes = history["entries"][at]
    st.session_state["icbs"] = list(icbs)
    state.set_changes(changes)


def undo() -> None:
    go(-1)


def buttons() -> None:
    """The sidebar's Undo and Redo buttons (keys `undo` and `redo`). No help tooltip: with one
    Streamlit draws the button twice (a tooltip copy), and `.st-key-undo button` must be one."""
    left, right = st.columns(2)
    left.button("↶ Undo", key="undo", on_click=go, args=(-1,), disabled=not can_undo(),
                width="stretch")
    right.button("Redo ↷", key="redo", on_click=go, args=(1,), disabled=not can_redo(),
                 width="stretch")
