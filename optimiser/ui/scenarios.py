"""The Scenarios tab: save the current settings under a name, load them, compare two.

The store (store.py) is shared by everyone using the same database. A save whose name is
taken asks before overwriting; a load re-applies the saved Policy changes and ICBs. Each
scenario records who saved it: a facilitator may overwrite and delete any scenario, a viewer
only their own (auth.py; the store refuses the rest too). Names and descriptions people type
are shown as text (safe.md), never as markdown.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import board, formats
from ..errors import InputError
from ..results import Allocation
from . import auth, background, present, state
from .charts import NHS_BLUE, ORANGE, chart, layout
from .safe import md
from .store import (
    BadScenario,
    Entry,
    NameTaken,
    NotYours,
    ScenarioStore,
    changes_from_json,
    changes_to_json,
    clean_name,
    describe_url,
)
from .tables import styled
from .views import tile_values

CURRENT = "Current settings"
DESCRIPTION_LIMIT = 1000  # characters


def current_settings(app: state.App) -> dict:
    return {"icbs": list(state.selected_icbs()),
            "changes": changes_to_json(st.session_state["changes"]),
            "model": app.model_file.name, "data": app.data_label,
            "description": str(st.session_state.get("save_description", ""))[
                :DESCRIPTION_LIMIT].strip()}


def _save(app: state.App, store: ScenarioStore, overwrite: bool) -> None:
    ss = st.session_state
    user = auth.current_user()
    try:
        name = clean_name(ss.get("save_name", ""))
    except ValueError as err:
        state.flash("warning", str(err))
        return
    try:
        outcome = store.save(name, current_settings(app), overwrite=overwrite,
                             owner=user.key, any_owner=user.facilitator)
    except NameTaken:
        ss["clash"] = name
        return
    except NotYours as err:
        ss.pop("clash", None)
        state.flash("error", md(err))
        return
    except Exception as err:  # noqa: BLE001 - a database error is reported, not raised
        state.flash("error", f"The scenario could not be saved ({type(err).__name__}). "
                             "Nothing was overwritten.")
        return
    ss.pop("clash", None)
    present.remember(name)  # the plan on screen now has a name (board pack, workbook)
    verb = "Saved" if outcome == "saved" else "Overwrote"
    state.flash("success", f"{verb} scenario '{md(name)}'.")


def _cancel() -> None:
    st.session_state.pop("clash", None)


def _delete(store: ScenarioStore, name: str) -> None:
    user = auth.current_user()
    st.session_state.pop("confirm_delete", None)
    try:
        store.delete(name, owner=user.key, any_owner=user.facilitator)
    except NotYours as err:
        state.flash("error", md(err))
        return
    except KeyError:
        state.flash("warning", f"The scenario '{md(name)}' is no longer in the store.")
        return
    except Exception as err:  # noqa: BLE001 - a database error is reported, not raised
        state.flash("error", f"The scenario could not be deleted ({type(err).__name__}).")
        return
    state.flash("success", f"Deleted scenario '{md(name)}'.")


def _ask_delete(name: str) -> None:
    st.session_state["confirm_delete"] = name


def saved_settings(store: ScenarioStore, name: str) -> tuple[dict, tuple[str, ...], dict,
                                                             list[str]]:
    """A saved scenario's settings, ICBs, policy changes and ignored fields; KeyError or
    BadScenario (with the reason in words) when it cannot be used."""
    settings = store.load(name)
    changes, ignored = changes_from_json(settings.get("changes", {}), name)
    return settings, tuple(settings["icbs"]), changes, ignored


def _load(app: state.App, store: ScenarioStore) -> None:
    ss = st.session_state
    name = ss.get("load_name")
    if not name:
        return
    try:
        settings, icbs, changes, ignored = saved_settings(store, name)
    except KeyError:
        state.flash("warning", f"The scenario '{md(name)}' is no longer in the store.")
        return
    except BadScenario as err:
        state.flash("error", md(err))
        return
    known = set(app.icb_table.index)
    icbs = [i for i in icbs if i in known]
    if not icbs:
        state.flash("error", f"The scenario '{md(name)}' is for ICBs that are not in the data "
                             "in use, so it was not loaded.")
        return
    try:
        base = state.base_inputs(str(app.model_file), tuple(sorted(icbs)), app.data_key,
                                 app.tables)
        base.with_policy(**changes)
    except InputError as err:
        state.flash("error", f"The scenario '{md(name)}' cannot be used with this data, so it "
                             "was not loaded.\n\n" + "\n".join(f"- {md(p)}"
                                                               for p in err.problems))
        return
    except Exception as err:  # noqa: BLE001 - a stored value of the wrong kind, in words
        state.flash("error", f"The scenario '{md(name)}' holds a setting this app cannot use "
                             f"({type(err).__name__}), so it was not loaded.")
        return
    ss["icbs"] = icbs
    state.set_changes(changes)
    present.remember(name)
    note = f" (ignored settings this version does not know: {md(', '.join(ignored))})" \
        if ignored else ""
    state.flash("success", f"Loaded scenario '{md(name)}' (saved {_when(settings)}){note}.")


def _when(settings: dict) -> str:
    try:
        return datetime.fromisoformat(settings["saved_at"]).strftime("%d %b %Y, %H:%M UTC")
    except (KeyError, TypeError, ValueError):
        return "earlier"


def scenarios_tab(app: state.App, allocation: Allocation | None) -> None:
    store = state.scenario_store(app)
    if store is None:
        st.error(st.session_state.get("store_error", "The scenario store cannot be opened."))
        return
    st.caption(f"Scenarios are kept in {md(describe_url(store.url))}: everyone using the same "
               "store sees them. Set OPTIMISER_STORE_URL to share a database server.")
    save, load = st.columns(2)
    with save:
        save_section(app, store)
    with load:
        names = load_section(app, store)
    st.divider()
    compare_section(app, store, allocation, names)


def save_section(app: state.App, store: ScenarioStore) -> None:
    ss = st.session_state
    user = auth.current_user()
    st.subheader("Save", anchor=False)
    st.text_input("Scenario name", key="save_name", placeholder="e.g. Board workshop, option B",
                  max_chars=200)
    st.text_area("Description (optional)", key="save_description", max_chars=DESCRIPTION_LIMIT,
                 height=68, placeholder="What this option is for")
    st.button("Save the current settings", key="save", type="primary", on_click=_save,
              args=(app, store, False))
    if not user.facilitator:
        st.caption("Saved under your name; you can overwrite and delete only your own.")
    clash = ss.get("clash")
    if not clash:
        return
    try:
        owner = store.owner(clash)
    except KeyError:  # deleted meanwhile: the next save will simply save
        owner = user.key
    if user.may_change(owner):
        st.warning(f"A scenario called '{md(clash)}' is already saved. Overwrite it with the "
                   "current settings?")
        yes, no = st.columns(2)
        yes.button("Overwrite", key="overwrite", on_click=_save, args=(app, store, True))
        no.button("Cancel", key="cancel_overwrite", on_click=_cancel)
    else:
        st.warning(md(NotYours(clash, owner)))
        st.button("Choose another name", key="cancel_overwrite", on_click=_cancel)


def _label(entries: dict[str, Entry]):
    def label(name: str) -> str:  # selectbox options are shown as plain text
        owner = entries[name].owner if name in entries else None
        return f"{name} (by {owner})" if owner else name
    return label


def load_section(app: state.App, store: ScenarioStore) -> list[str]:
    ss = st.session_state
    user = auth.current_user()
    st.subheader("Load", anchor=False)
    try:
        entries = {e.name: e for e in store.entries()}
    except Exception as err:  # noqa: BLE001 - an unreachable store is reported
        st.error(f"The scenario store cannot be read ({type(err).__name__}).")
        return []
    names = list(entries)
    if not names:
        st.info("No scenarios saved yet.")
        return names
    chosen = st.selectbox("Saved scenarios", names, key="load_name",
                          format_func=_label(entries))
    if chosen in entries:
        _describe(store, chosen)
    load, delete = st.columns(2)
    load.button("Load", key="load", on_click=_load, args=(app, store))
    if chosen in entries and user.may_change(entries[chosen].owner):
        if ss.get("confirm_delete") == chosen:
            st.warning(f"Delete the scenario '{md(chosen)}' for everyone?")
            yes, no = st.columns(2)
            yes.button("Delete", key="delete_yes", type="primary", on_click=_delete,
                       args=(store, chosen))
            no.button("Keep it", key="delete_no", on_click=_ask_delete, args=(None,))
        else:
            delete.button("Delete…", key="delete", on_click=_ask_delete, args=(chosen,))
    return names


def _describe(store: ScenarioStore, name: str) -> None:
    """The chosen scenario's description and when it was saved, as text."""
    try:
        settings = store.load(name)
    except KeyError:
        return
    except BadScenario as err:
        st.warning(md(err))
        return
    words = settings.get("description") or "No description."
    st.caption(f"{md(words)} Saved {_when(settings)}.")


def _inputs_for(app: state.App, store: ScenarioStore, name: str):
    """The inputs a saved scenario solves (None for the current settings, already solved)."""
    if name == CURRENT:
        return None
    _, icbs, changes, _ = saved_settings(store, name)
    return state.compare_inputs(app, icbs, changes)


def _compare(app: state.App, store: ScenarioStore, current: Allocation | None) -> None:
    """Start solving the two chosen scenarios; the comparison is kept when both are solved."""
    ss = st.session_state
    a_name, b_name = ss["compare_a"], ss["compare_b"]
    ss.pop("comparison", None)
    try:
        a_inputs = _inputs_for(app, store, a_name)
        b_inputs = _inputs_for(app, store, b_name)
    except BadScenario as err:
        st.error(md(err))
        return
    except KeyError as err:
        st.error(f"The scenario '{md(err.args[0])}' is no longer in the store.")
        return
    except InputError as err:
        st.error("These scenarios cannot be compared:\n\n"
                 + "\n".join(f"- {md(p)}" for p in err.problems))
        return
    except Exception as err:  # noqa: BLE001 - a stored value of the wrong kind
        st.error(f"These scenarios cannot be compared: a saved setting cannot be used "
                 f"({type(err).__name__}).")
        return

    def done(a: Allocation | None, b: Allocation | None) -> None:
        a, b = a or current, b or current
        if a is None or b is None or a.status != "optimal" or b.status != "optimal":
            state.flash("error", "Both scenarios need a feasible plan to be compared.")
            return
        ss["comparison"] = (a_name, b_name, comparison_tables(a, b))

    state.start_compare(a_inputs, b_inputs, done)


def compare_section(app: state.App, store: ScenarioStore, current: Allocation | None,
                    names: list[str]) -> None:
    ss = st.session_state
    st.subheader("Compare two side by side", anchor=False)
    options = [CURRENT, *names]
    first, second, go_column = st.columns([2, 2, 1])
    first.selectbox("First", options, key="compare_a")
    second.selectbox("Second", options, key="compare_b",
                     index=min(1, len(options) - 1))
    if go_column.button("Compare", key="compare_go"):
        _compare(app, store, current)
    background.progress("compare")
    stored = ss.get("comparison")
    if stored:
        show_comparison(*stored)


def comparison_tables(a: Allocation, b: Allocation) -> dict[str, pd.DataFrame]:
    """Headline, per-PCN and per-priority differences (second minus first)."""
    ta, tb = tile_values(a, None), tile_values(b, None)
    tiles = board.tiles(ta, a.inputs.years)
    frame = pd.DataFrame({"measure": [t.label for t in tiles], "key": [t.name for t in tiles],
                          "first": [ta[t.name] for t in tiles],
                          "second": [tb[t.name] for t in tiles]})
    frame["difference"] = frame["second"] - frame["first"]
    cols = ["pcn_code", "pcn_name", "icb_name", "imd_quintile", "population", "spend_gbp",
            "spend_per_head_gbp"]
    keys = ["pcn_code", "pcn_name", "icb_name", "imd_quintile", "population"]
    pcn = a.by_pcn[cols].merge(b.by_pcn[cols], on=keys, how="outer",
                               suffixes=("_first", "_second")).fillna(0.0)
    pcn["difference_gbp"] = pcn["spend_gbp_second"] - pcn["spend_gbp_first"]
    pcn["difference_per_head_gbp"] = (pcn["spend_per_head_gbp_second"]
                                      - pcn["spend_per_head_gbp_first"])
    pcn = pcn.reindex(pcn["difference_gbp"].abs().sort_values(ascending=False).index)
    pcn["icb_name"] = pcn["icb_name"].map(formats.short_icb)
    pa = a.spend_priority().groupby("priority_id")["spend_gbp"].sum()
    pb = b.spend_priority().groupby("priority_id")["spend_gbp"].sum()
    names = a.inputs.priorities["name"]
    order = list(dict.fromkeys([*a.inputs.priority_ids, *b.inputs.priority_ids]))
    priority = pd.DataFrame({"priority": [names.get(r, r) for r in order],
                             "first_gbp": pa.reindex(order).fillna(0.0).to_numpy(),
                             "second_gbp": pb.reindex(order).fillna(0.0).to_numpy()})
    priority["difference_gbp"] = priority["second_gbp"] - priority["first_gbp"]
    return {"headline": frame, "pcn": pcn, "priority": priority}


def headline_words(frame: pd.DataFrame) -> pd.DataFrame:
    """The headline comparison as words: each figure in its own format, the difference
    signed (+£1.2m, −0.04)."""
    out = frame[["measure"]].copy()
    for col in ("first", "second", "difference"):
        out[col] = [board.FORMATS[k](v, signed=col == "difference") if np.isfinite(v)
                    else "n/a"
                    for k, v in zip(frame["key"], frame[col], strict=True)]
    return out


def show_comparison(a_name: str, b_name: str, tables: dict[str, pd.DataFrame]) -> None:
    st.markdown(f"**First:** {md(a_name)} &nbsp; **Second:** {md(b_name)} &nbsp; (difference = "
                "second minus first)")
    st.dataframe(headline_words(tables["headline"]), hide_index=True, key="compare_headline",
                 column_config={"measure": "Measure", "first": "First", "second": "Second",
                                "difference": "Difference"})
    priority = tables["priority"]
    fig = go.Figure(go.Bar(
        x=priority["difference_gbp"] / 1e6, y=priority["priority"], orientation="h",
        marker_color=[NHS_BLUE if v >= 0 else ORANGE for v in priority["difference_gbp"]],
        hovertemplate="%{y}: %{x:+,.2f} £m<extra></extra>"))
    layout(fig, height=380, title="Difference in spend by priority",
           subtitle="Five years, £m: second minus first (blue more, orange less)",
           xaxis={"tickprefix": "£", "ticksuffix": "m", "zeroline": True,
                  "zerolinecolor": "#425563"}, yaxis={"autorange": "reversed"})
    left, right = st.columns(2)
    with left:
        chart(fig, "chart_compare_priority")
    with right:
        st.dataframe(styled(priority, money=("first_gbp", "second_gbp"),
                            signed_money=("difference_gbp",)),
                     hide_index=True, key="compare_priority", column_config={
                         "priority": "Priority", "first_gbp": "First",
                         "second_gbp": "Second", "difference_gbp": "Difference"})
    st.caption("By PCN, a typical year, largest differences first.")
    pcn = tables["pcn"].drop(columns=["pcn_code"])
    st.dataframe(styled(pcn, money=("spend_gbp_first", "spend_gbp_second"),
                        signed_money=("difference_gbp",),
                        pence=("spend_per_head_gbp_first", "spend_per_head_gbp_second"),
                        signed_pence=("difference_per_head_gbp",)),
                 hide_index=True, key="compare_pcn", column_config={
                     "pcn_name": st.column_config.TextColumn("PCN"), "icb_name": "ICB",
                     "imd_quintile": "IMD quintile",
                     "population": st.column_config.NumberColumn("Population", format="%,d"),
                     "spend_gbp_first": "First", "spend_gbp_second": "Second",
                     "difference_gbp": "Difference",
                     "spend_per_head_gbp_first": "First £ per head",
                     "spend_per_head_gbp_second": "Second £ per head",
                     "difference_per_head_gbp": "Difference £ per head"})
