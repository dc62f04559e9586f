"""The sidebar controls: each widget shows a policy setting, and an edit folds into the changes.

The session's policy changes (`st.session_state["changes"]`, Policy field -> value) are the
truth. `prepare` writes them into the widgets when they were replaced (first run, a loaded
scenario, a relaxation, a reset, new ICBs); a widget's `on_change` callback folds its new
value back into the changes, relative to the base model, before the page reruns. Widgets
are created by key only, so Streamlit never sees two sources for one value.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ..errors import InputError
from ..inputs import ModelInputs
from ..policy import CONSTRAINTS, Lock, RingFence
from ..results import money
from ..schemas import ACTIVITY_OUTCOMES, OUTCOME_LABELS, staff_short
from . import history, reach, state
from .glossary import short_priority, term

ALL_YEARS = "All five years"
RULE_LABELS = {
    "budget_limit": "Budget limit",
    "workforce_limit": "Workforce limit",
    "universal_core_offer": "Universal core offer (floor)",
    "enhanced_support_uplift": "Enhanced support (uplift)",
    "need_gradient": "Need gradient (equity dial)",
    "mobilisation": "Mobilisation: services grow gradually",
    "continuity": "Continuity: funding falls gradually",
    "invest_to_save": "Invest to save",
    "ring_fences": "Ring-fences",
    "activity_targets": "Activity targets",
    "enhanced_where_flagged": "Enhanced support only where flagged",
}
ACTIVITY_UNIT = {
    "nel_avoided": "an avoided emergency admission",
    "ed_avoided": "an avoided A&E attendance",
    "bed_days_avoided": "an avoided bed day",
    "op_avoided": "an avoided outpatient attendance",
}


@dataclass(frozen=True)
class View:
    """What to show, as opposed to what to solve."""

    year: str | None  # None: all years


# ---- widget values from a model --------------------------------------------------------------


def limited_groups(inputs: ModelInputs) -> list[str]:
    wte = inputs.workforce_wte
    return list(dict.fromkeys(wte.index.get_level_values("staff_group"))) if len(wte) else []


def simple_fences(policy) -> dict[str, tuple[float | None, float | None]]:
    """Ring-fences on one priority across the model (no tier, no ICB): the ones widgets show."""
    out = {}
    for fence in policy.ring_fences:
        if fence.priority and not fence.tier and not fence.icb:
            out[fence.priority] = (fence.min_share, fence.max_share)
    return out


def widget_values(inputs: ModelInputs) -> dict:
    """The value every policy widget shows for these inputs."""
    p = inputs.policy
    values = {f"budget_{i}": round(float(b) / 1e6, 3) for i, b in enumerate(inputs.budget_gbp)}
    if len(inputs.workforce_wte):
        first = inputs.workforce_wte.groupby(level="staff_group")[inputs.years[0]].sum()
        for g, total in first.items():
            values[f"wte_{g}"] = round(float(total), 1)
    values["qaly_gbp"] = int(round(p.qaly_gbp))
    for o in ACTIVITY_OUTCOMES:
        values[f"activity_{o}"] = round(float(inputs.outcome_weight_gbp[o]), 2)
    for r in inputs.priority_ids:
        values[f"pw_{r}"] = round(float(p.priority_weight.get(r, 1.0)), 2)
    values["universal_floor"] = int(round(p.universal_floor * 100))
    values["enhanced_uplift"] = int(round(p.enhanced_uplift * 100))
    values["need_gradient"] = round(float(p.need_gradient), 2)
    for k in range(5):
        values[f"qw_{k + 1}"] = round(float(p.quintile_weight[k]), 2)
    fences = simple_fences(p)
    for r in inputs.priority_ids:
        lo, hi = fences.get(r, (None, None))
        values[f"fence_min_{r}"] = round((lo or 0.0) * 100, 1)
        values[f"fence_max_{r}"] = round((hi if hi is not None else 1.0) * 100, 1)
    for c in CONSTRAINTS:
        values[f"rule_{c}"] = bool(p.on(c))
    values["commissionable"] = bool(p.commissioning.on)
    return values


def prepare(app: state.App, base: ModelInputs) -> None:
    """Before any widget is drawn: put the session's changes into the widgets.

    All of them after a replacement (first run, a loaded scenario, a relaxation, a reset, new
    ICBs); otherwise only widgets with no value yet (Streamlit forgets the value of a widget
    that was not drawn, as in a closed expander, so it is filled in again when it opens).
    """
    ss = st.session_state
    try:
        inputs = state.current_inputs(base)
    except InputError:
        inputs = base
    values = widget_values(inputs)
    if ss.get("sync"):  # cleared once the sidebar is drawn (`sidebar`), not before: see _fold
        ss.update(values)
    else:
        for key, value in values.items():
            if key not in ss:
                ss[key] = value
    if ss.get("year_view") not in (ALL_YEARS, *base.years):
        ss["year_view"] = ALL_YEARS
    ss.setdefault("lock_spend_k", 0.0)
    ss["icbs_last"] = list(ss["icbs"])


def section(label: str, name: str, expanded: bool = False):
    """A sidebar expander whose widgets are drawn only while it is open (a cheaper rerun)."""
    return st.expander(label, expanded=expanded, key=f"section_{name}", on_change="rerun")


# ---- folding an edit into the changes --------------------------------------------------------


def _fold(kind: str, item, base: ModelInputs) -> None:
    """on_change: apply one widget's new value to the changes (relative to the base model).

    Not while the widgets have yet to show replaced settings (a loaded scenario, a
    relaxation): a run stopped by a newer one before it drew the sidebar leaves the browser
    holding the old values, which it sends back with the next rerun as if they were edits
    (a loaded equity dial of 0.70 came back as 0.50); `prepare` writes the settings again.
    """
    ss = st.session_state
    if ss.get("sync"):
        return
    changes = copy.deepcopy(ss["changes"])
    p = base.policy
    if kind == "budget":
        budget = list(changes.get("budget_gbp") or base.budget_gbp)
        budget[item] = float(ss[f"budget_{item}"]) * 1e6
        if np.allclose(budget, base.budget_gbp, rtol=0, atol=500.0):
            changes.pop("budget_gbp", None)
            changes.pop("gbp_per_head", None)
        else:
            changes["budget_gbp"], changes["gbp_per_head"] = tuple(budget), None
    elif kind == "wte":
        changes["available_wte"] = _workforce(base, changes, item, float(ss[f"wte_{item}"]))
    elif kind == "qaly":
        changes["qaly_gbp"] = float(ss["qaly_gbp"])
    elif kind == "activity":
        weights = dict(changes.get("activity_gbp") or {
            o: float(base.outcome_weight_gbp[o]) for o in ACTIVITY_OUTCOMES})
        weights[item] = float(ss[f"activity_{item}"])
        same = all(abs(weights[o] - float(base.outcome_weight_gbp[o])) < 1e-9
                   for o in ACTIVITY_OUTCOMES)
        changes["activity_gbp"] = p.activity_gbp if same else weights
    elif kind == "priority":
        weights = dict(changes.get("priority_weight") or p.priority_weight)
        weights[item] = float(ss[f"pw_{item}"])
        changes["priority_weight"] = weights
    elif kind == "quintile":
        weights = list(changes.get("quintile_weight") or p.quintile_weight)
        weights[item - 1] = float(ss[f"qw_{item}"])
        changes["quintile_weight"] = tuple(weights)
    elif kind == "percent":
        changes[item] = float(ss[item]) / 100.0
    elif kind == "dial":
        changes["need_gradient"] = float(ss["need_gradient"])
    elif kind == "fence":
        changes["ring_fences"] = _fences(changes.get("ring_fences", p.ring_fences),
                                         base.priority_ids)
    elif kind == "commissioning":
        current = changes.get("commissioning", p.commissioning)
        changes["commissioning"] = dataclasses.replace(current, on=bool(ss["commissionable"]))
    elif kind == "rule":
        rules = dict(changes.get("constraints") or p.constraints)
        rules[item] = bool(ss[f"rule_{item}"])
        changes["constraints"] = rules
    ss["changes"] = _minimal(changes, base)


def _workforce(base: ModelInputs, changes: dict, group: str, total: float) -> dict:
    """available_wte with one group set to `total` WTE in the first year, shaped like the base."""
    available = copy.deepcopy(changes.get("available_wte", base.policy.available_wte) or {})
    rows = base.workforce_wte.xs(group, level="staff_group")
    first = rows[base.years[0]].sum()
    if abs(total - first) < 0.05:
        if group in base.policy.available_wte:
            available[group] = copy.deepcopy(base.policy.available_wte[group])
        else:
            available.pop(group, None)
        return available
    if first > 0:
        scaled = rows * (total / first)
    else:
        scaled = rows * 0.0 + total / max(len(rows), 1)
    available[group] = {scope: [round(float(v), 6) for v in scaled.loc[scope]]
                        for scope in scaled.index}
    return available


def _fences(current, priorities: tuple[str, ...]) -> tuple[RingFence, ...]:
    ss = st.session_state
    kept = [f for f in current if f.tier or f.icb or not f.priority]
    for r in priorities:
        lo = float(ss.get(f"fence_min_{r}", 0.0)) / 100.0
        hi = float(ss.get(f"fence_max_{r}", 100.0)) / 100.0
        if lo > 0 or hi < 1:
            kept.append(RingFence(priority=r, min_share=lo if lo > 0 else None,
                                  max_share=hi if hi < 1 else None))
    return tuple(kept)


def _minimal(changes: dict, base: ModelInputs) -> dict:
    """Drop changes that equal the base policy, so saved scenarios say only what differs."""
    p = base.policy
    out = {}
    for name, value in changes.items():
        if name in ("budget_gbp", "gbp_per_head"):
            out[name] = value
        elif value != getattr(p, name):
            out[name] = value
    return out


def minimal(changes: dict, base: ModelInputs) -> dict:
    """Changes with those equal to the base policy dropped (for changes made outside the
    sidebar: an answer applied, a relaxation)."""
    return _minimal(changes, base)


def _icbs_changed() -> None:
    ss = st.session_state
    if ss.get("sync"):  # a stale value from the browser (see _fold): keep the replaced ICBs
        ss["icbs"] = ss.get("icbs_last") or ss["icbs"]
        return
    if not ss["icbs"]:
        ss["icbs"] = ss.get("icbs_last") or []
        state.flash("warning", "Choose at least one ICB: the selection was kept.")
        return
    changes = {k: v for k, v in ss["changes"].items() if k not in state.AREA_FIELDS}
    if "ring_fences" in changes:
        changes["ring_fences"] = tuple(f for f in changes["ring_fences"] if not f.icb)
    state.set_changes(changes)


def _reset(app: state.App) -> None:
    ss = st.session_state
    ss["icbs"] = list(app.default_icbs)
    state.set_changes({})
    state.flash("info", "Back to the base model.")


def _suggest_lock(base: ModelInputs) -> None:
    """Pre-fill the lock with what the current allocation spends there (a typical year)."""
    ss = st.session_state
    result = ss.get("result")
    if result is None or not result.optimal:
        return
    spend = result.allocation.spend_priority()
    mine = spend[(spend["pcn_code"] == ss["lock_pcn"]) & (spend["priority_id"] == ss["lock_prio"])]
    ss["lock_spend_k"] = round(float(mine["spend_gbp"].mean()) / 1e3, 1) if len(mine) else 0.0


def _add_lock() -> None:
    ss = st.session_state
    lock = Lock(ss["lock_pcn"], ss["lock_prio"], float(ss["lock_spend_k"]) * 1e3)
    changes = dict(ss["changes"])
    locks = [x for x in changes.get("locks", ()) if (x.pcn, x.priority) != (lock.pcn,
                                                                           lock.priority)]
    changes["locks"] = (*locks, lock)
    ss["changes"] = changes


def _release(index: int | None) -> None:
    ss = st.session_state
    changes = dict(ss["changes"])
    locks = list(changes.get("locks", ()))
    locks = [] if index is None else [x for i, x in enumerate(locks) if i != index]
    if locks:
        changes["locks"] = tuple(locks)
    else:
        changes.pop("locks", None)
    ss["changes"] = changes


# ---- the sidebar ----------------------------------------------------------------------------


def sidebar(app: state.App, base: ModelInputs) -> View:
    """Draw every control; return what to show."""
    with st.sidebar:
        st.header("Settings")
        history.buttons()
        view = area_and_year(app, base)
        outcome_weights(base)
        equity_rules(app, base)
        budget_and_fences(base)
        workforce(base)
        priority_weights(base)
        locks(base)
        rules(base)
        commissioning(base)
        st.button("Back to the base model", key="reset", on_click=_reset, args=(app,),
                  help="Undo every change: the model file's settings for its ICBs.",
                  width="stretch")
    st.session_state["sync"] = False  # the widgets now show the session's settings
    return view


def short_icb(name: str) -> str:
    return str(name).removeprefix("NHS ").removesuffix(" Integrated Care Board")


@st.cache_data(show_spinner=False, max_entries=8)
def icb_labels(data_key: str, _icbs) -> dict[str, str]:
    """ICB code -> "Name (code, n PCNs)", in name order."""
    return {code: f"{short_icb(row.icb_name)} ({code}, {row.pcns} PCNs)"
            for code, row in _icbs.iterrows()}


def area_and_year(app: state.App, base: ModelInputs) -> View:
    with st.expander("Area and year", expanded=True):  # always drawn: it holds the view
        labels = icb_labels(app.data_key, app.icb_table)
        st.multiselect(
            "ICBs", list(labels), key="icbs", on_change=_icbs_changed, format_func=labels.get,
            help=term("ICB") + " Choosing other ICBs rebuilds the model (a few seconds).")
        year = st.selectbox("Year in view", [ALL_YEARS, *base.years], key="year_view",
                            help="The tiles, tables and charts show this year, or all five "
                                 "(totals, and a typical year per PCN).")
    return View(None if year == ALL_YEARS else year)


def outcome_weights(base: ModelInputs) -> None:
    with section("Outcome weights", "weights", expanded=True) as box:
        if not box.open:
            return
        ss = st.session_state
        st.slider("Value of a QALY (£)", 0, max(100_000, ss.get("qaly_gbp", 0)), step=1_000,
                  key="qaly_gbp", on_change=_fold, args=("qaly", None, base),
                  help=term("QALY") + " What one QALY is worth in the weighted outcome.")
        for o in ACTIVITY_OUTCOMES:
            st.number_input(f"Value of {ACTIVITY_UNIT[o]} (£)", min_value=0.0, step=10.0,
                            format="%.2f", key=f"activity_{o}", on_change=_fold,
                            args=("activity", o, base),
                            help=f"£ counted for each of the {OUTCOME_LABELS[o]}. Default: "
                                 "the NHS unit cost times the share that releases cash.")


def equity_rules(app: state.App, base: ModelInputs) -> None:
    ss = st.session_state
    with section("Equity rules", "equity", expanded=True) as box:
        if not box.open:
            return
        st.slider("Universal floor (% of eligible people reached)", 0, 100, step=1,
                  key="universal_floor", on_change=_fold, args=("percent", "universal_floor",
                                                                 base),
                  help=term("universal floor"))
        st.slider("Enhanced uplift (% more per eligible person)",
                  min(0, ss.get("enhanced_uplift", 0)), max(200, ss.get("enhanced_uplift", 0)),
                  step=5, key="enhanced_uplift",
                  on_change=_fold, args=("percent", "enhanced_uplift", base),
                  help=term("enhanced uplift") + " " + term("higher-need PCN"))
        st.slider("Need gradient (the equity dial)", 0.0, 1.0, step=0.05, key="need_gradient",
                  on_change=_fold, args=("dial", None, base), help=term("need gradient"))
        reach.caption(app, base)
        st.caption("Equity weights by IMD quintile", help=term("equity weights") + " "
                   + term("IMD quintile"))
        for k in range(1, 6):
            label = {1: "Q1 (most deprived)", 5: "Q5 (least deprived)"}.get(k, f"Q{k}")
            st.slider(label, 0.0, max(3.0, float(ss.get(f"qw_{k}", 0.0))), step=0.05,
                      key=f"qw_{k}", on_change=_fold, args=("quintile", k, base),
                      help=f"Weight on outcomes in IMD quintile {k}: 1.5 counts them one and "
                           "a half times.")


def budget_and_fences(base: ModelInputs) -> None:
    with section("Budget and ring-fences", "budget") as box:
        if not box.open:
            return
        st.caption("Budget per year, £m")
        for i, year in enumerate(base.years):
            st.number_input(year, min_value=0.0, step=1.0, format="%.2f", key=f"budget_{i}",
                            on_change=_fold, args=("budget", i, base),
                            help=f"The programme budget for {year}, £ million.")
        st.caption("Ring-fences: share of each year's budget per priority (%)",
                   help=term("ring-fence"))
        names = base.priorities["name"]
        for r in base.priority_ids:
            low, high = st.columns(2)
            with low:
                st.number_input(f"{short_priority(r)}: at least", min_value=0.0, max_value=100.0,
                                step=1.0, format="%.0f", key=f"fence_min_{r}",
                                on_change=_fold, args=("fence", r, base))
            with high:
                st.number_input("at most", min_value=0.0, max_value=100.0, step=1.0,
                                format="%.0f", key=f"fence_max_{r}", on_change=_fold,
                                args=("fence", r, base), help=str(names[r]))


def workforce(base: ModelInputs) -> None:
    groups = limited_groups(base)
    with section("Workforce available", "workforce") as box:
        if not box.open:
            return
        year = base.years[0]
        st.caption(f"WTE available to the programme in {year} (later years grow with the "
                   "model's assumption). Beside each: the PCN workforce census, November "
                   "2025.", help=term("WTE"))
        pcns = base.pcns
        for g in groups:
            name = str(base.staff_groups.at[g, "name"])
            census = float(pcns[f"fte_{g}"].sum()) if f"fte_{g}" in pcns else float("nan")
            left, right = st.columns([3, 2], vertical_alignment="bottom")
            with left:
                st.number_input(staff_short(g).capitalize(), min_value=0.0, step=1.0,
                                format="%.1f", key=f"wte_{g}", on_change=_fold,
                                args=("wte", g, base),
                                help=f"WTE of {name.lower()} the programme can use in {year}.")
            with right:
                st.markdown(f"census **{census:,.0f}** FTE",
                            help=f"FTE of {name.lower()} in the selected ICBs' PCNs "
                                 "(workforce census, 30 November 2025).")
        if not groups:
            st.caption("No staff group is limited in this model.")


def priority_weights(base: ModelInputs) -> None:
    with section("Priority weights", "priorities") as box:
        if not box.open:
            return
        names = base.priorities["name"]
        for r in base.priority_ids:
            st.slider(str(names[r]), 0.0, 3.0, step=0.1, key=f"pw_{r}", on_change=_fold,
                      args=("priority", r, base),
                      help="Weight on this priority's outcomes: 2 counts them twice.")


def locks(base: ModelInputs) -> None:
    ss = st.session_state
    pcns = base.pcns
    names = base.priorities["name"]
    with section("Lock a commitment", "locks") as box:
        if not box.open:
            return
        st.caption("Hold spend on one priority in one PCN at a set level; the optimiser "
                   "plans everything else around it.", help=term("lock"))
        if ss.get("lock_pcn") not in pcns.index:
            ss["lock_pcn"] = pcns.index[0]
        ss.setdefault("lock_prio", base.priority_ids[0])
        st.selectbox("PCN", list(pcns.index), key="lock_pcn",
                     format_func=lambda c: f"{pcns.at[c, 'pcn_name']} ({c})",
                     on_change=_suggest_lock, args=(base,), help=term("PCN"))
        st.selectbox("Priority", list(base.priority_ids), key="lock_prio",
                     format_func=lambda r: str(names[r]), on_change=_suggest_lock,
                     args=(base,))
        st.number_input("Spend per year (£k)", min_value=0.0, step=10.0, format="%.1f",
                        key="lock_spend_k",
                        help="Filled in with what the current plan spends there.")
        st.button("Lock this spend", key="lock_add", on_click=_add_lock, width="stretch")
        held = ss["changes"].get("locks", ())
        for i, lock in enumerate(held):
            pcn = pcns.at[lock.pcn, "pcn_name"] if lock.pcn in pcns.index else lock.pcn
            text, button = st.columns([3, 1])
            text.markdown(f"**{pcn}**, {names.get(lock.priority, lock.priority)}: "
                          f"{money(lock.spend_gbp)} a year")
            button.button("Release", key=f"release_{i}", on_click=_release, args=(i,))
        if len(held) > 1:
            st.button("Release all", key="release_all", on_click=_release, args=(None,))


def rules(base: ModelInputs) -> None:
    with section("Rules on or off", "rules") as box:
        if not box.open:
            return
        st.caption("Switching a rule changes the model's shape, so it is rebuilt (a second "
                   "or two).")
        for c in CONSTRAINTS:
            st.toggle(RULE_LABELS.get(c, c), key=f"rule_{c}", on_change=_fold,
                      args=("rule", c, base))


def commissioning(base: ModelInputs) -> None:
    """[commissioning] on or off: a plan of contracts a commissioner can let (a mixed-integer
    plan, with the model file's minimum contract value and the services' minimum sizes)."""
    st.toggle("Commissionable plan", key="commissionable", on_change=_fold,
              args=("commissioning", None, base),
              help="Let each service as whole contracts for a PCN, a place or the ICB, none "
                   "below its minimum viable size, with set-up costs paid in the year a "
                   "contract starts. Solved exactly (to a 0.1% proven gap): slower, 10-30 "
                   "seconds for DLN.")
