"""The "What changed and why" panel: the plan on screen against the base model's plan and
against the previous plan, in words (optimiser/movement.py does the comparing).

The base model's plan is the one the session solved for the model file's settings over the
ICBs in view, when it is among the plans kept (state.py); otherwise a button solves it on the
session's comparison Solver, in the background like any long action. The panel is drawn only
while it is open, so a closed panel costs a rerun nothing.
"""

from __future__ import annotations

import streamlit as st

from ..inputs import ModelInputs
from ..movement import Movement, movement
from ..results import Allocation
from . import background, state
from .controls import View
from .safe import md

AGAINST = ("Against the base model", "Against the previous plan")


def _base_plan(base: ModelInputs) -> Allocation | None:
    kept = st.session_state.get("plans", {}).get(base.digest)
    if kept is not None and kept.optimal:
        return kept.allocation
    stored = st.session_state.get("base_plan")
    return stored[1] if stored and stored[0] == base.digest else None


def _solve_base(base: ModelInputs) -> None:
    def done(first, _second) -> None:
        st.session_state["base_plan"] = (base.digest, first)

    state.start_compare(base, None, done)


def _compared(before: Allocation, after: Allocation, against: str, year: str | None,
              model_icbs) -> Movement:
    cache = st.session_state.setdefault("movement_cache", {})
    key = (id(before), before.inputs.digest, id(after), after.inputs.digest, year)
    if key not in cache:
        if len(cache) > 8:
            cache.clear()
        cache[key] = movement(before, after, against, year=year, model_icbs=model_icbs)
    return cache[key]


def panel(app: state.App, result: state.Result, allocation: Allocation, base: ModelInputs,
          view: View) -> None:
    """The expander under the headline tiles."""
    with st.expander("What changed and why", key="why", on_change="rerun") as box:
        if not box.open:
            return
        which = st.radio("Compare the plan on screen", AGAINST, key="why_against",
                         horizontal=True, label_visibility="collapsed")
        if which == AGAINST[0]:
            before = _base_plan(base)
            if before is None:
                if not background.progress("compare"):
                    st.caption("The base model's plan for these ICBs is not solved in this "
                               "session yet.")
                    st.button("Solve the base model to compare", key="why_base",
                              on_click=_solve_base, args=(base,))
                return
            against = "the base model"
        else:
            before = result.previous if result.previous is not allocation else None
            if before is None:
                st.caption("No previous plan in this session yet: change a setting first.")
                return
            against = "the previous plan"
        if before.status != "optimal":
            st.caption(f"{against.capitalize()} has no plan to compare with.")
            return
        moved = _compared(before, allocation, against, view.year, tuple(app.default_icbs))
        if moved.warning:
            st.warning(md(moved.warning))
        st.markdown("\n".join(f"- {md(line)}" for line in moved.lines
                              if line != moved.warning))
