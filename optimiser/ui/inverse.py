"""The "What would it take?" tab: the inverse questions, asked of the current settings.

"What is the least budget that meets a universal floor of 30%?", "...that gives a Q1:Q5
ratio of 1.5?", "How many WTE of care coordinators would 2,000 more avoided admissions need?"
Answered exactly by optimiser/target.py (`least_resource`: one LP minimising the resource, then
the forward model at the answer), as a background job like every long action (a progress bar
and Cancel), with the marginal cost of the aim in words. One button makes the answer the
settings (the resource at its least and the aim's rule at its level); Undo puts them back.
"""

from __future__ import annotations

import streamlit as st

from ..inputs import ModelInputs
from ..schemas import ACTIVITY_OUTCOMES, OUTCOME_LABELS, staff_short
from ..target import Aim, Target, answer_changes
from . import background, controls, jobs, state, tasks
from .safe import md

AIMS = {  # aim name: (what the user picks, the level's label, default, step, shown as %)
    "universal_floor": ("A universal floor", "Universal floor (% of eligible people)", 30.0,
                        1.0, True),
    "need_gradient": ("A need gradient (the equity dial)", "Need gradient", 0.8, 0.05, False),
    "q1_q5_spend_ratio": ("A Q1:Q5 ratio of spend per head", "Least Q1:Q5 ratio", 1.5, 0.1,
                          False),
    "enhanced_uplift": ("An enhanced uplift", "Enhanced uplift (%)", 40.0, 5.0, True),
    **{o: (f"{OUTCOME_LABELS[o].capitalize()} in a year",
           f"{OUTCOME_LABELS[o].capitalize()}", 1000.0, 100.0, False)
       for o in ACTIVITY_OUTCOMES},
}


def _resources(inputs: ModelInputs) -> dict[str, str]:
    out = {"budget": "The budget"}
    for group in controls.limited_groups(inputs):
        out[f"wte:{group}"] = f"WTE of {staff_short(group)}"
    return out


def _question(inputs: ModelInputs) -> tuple[str, Aim, bool]:
    """Draw the question's widgets; return the question."""
    ss = st.session_state
    resources = _resources(inputs)
    if ss.get("inverse_resource") not in resources:
        ss["inverse_resource"] = "budget"
    left, right = st.columns(2)
    with left:
        st.radio("The least of", list(resources), key="inverse_resource",
                 format_func=resources.get)
        st.toggle("Each year on its own", key="inverse_per_year",
                  help="Off: one scale for every year (the model's profile over the years "
                       "kept). On: each year's least amount found separately.")
    with right:
        name = st.selectbox("That meets", list(AIMS), key="inverse_aim",
                            format_func=lambda a: AIMS[a][0])
        _words, label, default, step, _pct = AIMS[name]
        if ss.get("inverse_level_for") != name:
            ss["inverse_level_for"] = name
            ss["inverse_level"] = default
        st.number_input(label, min_value=0.0, step=step, key="inverse_level")
        if name in ACTIVITY_OUTCOMES:
            if ss.get("inverse_year") not in inputs.years:
                ss["inverse_year"] = inputs.years[-1]
            st.selectbox("In", list(inputs.years), key="inverse_year")
    return _asked(inputs)


def _asked(inputs: ModelInputs) -> tuple[str, Aim, bool]:
    """The question as the widgets now hold it (read again at the click: a button's arguments
    are those of the run that drew it)."""
    ss = st.session_state
    name = ss["inverse_aim"]
    pct = AIMS[name][4]
    value = float(ss["inverse_level"]) / 100.0 if pct else float(ss["inverse_level"])
    year = ss.get("inverse_year") if name in ACTIVITY_OUTCOMES else None
    return ss["inverse_resource"], Aim(name, value, year), bool(ss.get("inverse_per_year"))


def _start(base: ModelInputs) -> None:
    """on_click: ask in the background (the job's result lands in session state)."""
    inputs = state.current_inputs(base)
    resource, aim, per_year = _asked(inputs)
    cols = jobs.columns(inputs)
    seconds = 3 * jobs.solve_seconds(cols)  # the resource LP, then the plan at the answer
    limit = state.time_limit(seconds)
    question = (inputs.digest, resource, str(aim), per_year)

    def done(job) -> None:
        st.session_state["inverse"] = (question, job.result)

    background.start("inverse", "Finding the least amount that meets the aim", seconds,
                     lambda job: tasks.least(job, inputs, resource, (aim,), per_year, limit),
                     done)


def _apply(base: ModelInputs, target: Target) -> None:
    """on_click: the answer becomes the settings (undoable)."""
    inputs = state.current_inputs(base)
    changes = {**st.session_state["changes"], **answer_changes(inputs, target)}
    state.set_changes(controls.minimal(changes, base))
    state.flash("success", "The answer is now the settings: " + md(target.words[0]) + " Undo "
                "puts the settings back.")


def tab(base: ModelInputs) -> None:
    """The tab: the question, its answer, and the button that applies it."""
    try:
        inputs = state.current_inputs(base)
    except Exception:  # noqa: BLE001 - invalid settings are listed at the top of the page
        st.info("The current settings cannot be used: fix them first (see above).")
        return
    st.caption("The least budget, or WTE of one staff group, that meets an aim with every "
               "other rule of the current settings kept (hard), found exactly: one linear "
               "program that minimises the amount, not a search.")
    resource, aim, per_year = _question(inputs)
    question = (inputs.digest, resource, str(aim), per_year)
    seconds = 3 * jobs.solve_seconds(jobs.columns(inputs))
    if not background.progress("inverse"):
        st.button(f"Find the least amount ({jobs.say(seconds)})", key="inverse_go",
                  type="primary", on_click=_start, args=(base,))
    answer = st.session_state.get("inverse")
    if not answer:
        return
    asked, target = answer
    if asked != question:
        st.caption("The answer below was for another question or other settings: ask again.")
    with st.container(key="inverse_answer"):
        lines = "\n".join(f"- {md(line)}" for line in target.words)
        if target.status != "optimal":
            st.warning(lines)
            return
        st.success(lines)
        if asked == question:
            st.button("Use this as the settings", key="inverse_apply", on_click=_apply,
                      args=(base, target),
                      help="Sets the amount found and the aim's level as the settings and "
                           "solves the plan. Undo puts the settings back.")
