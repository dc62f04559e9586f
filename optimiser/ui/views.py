"""What the board sees first: the status, headline tiles, the PCN table and shadow prices.

Each function draws one view from an `Allocation` (and the year in view) and returns nothing;
the charts are in charts.py.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import streamlit as st

from ..equity import quintile_ratio, split_by_quintile
from ..explain import FAMILY_WORDS
from ..results import Allocation, money
from ..schemas import staff_short
from . import background, state
from .controls import View, short_icb
from .glossary import term
from .tables import pcn_frame

CSS = """
<style>
[class*="st-key-tile_"] [data-testid="stMetricValue"] {
  font-size: 2.6rem; font-weight: 700; color: #003087; }
[class*="st-key-tile_"] [data-testid="stMetricLabel"] p { font-size: 1.05rem; }
[class*="st-key-tile_"] [data-testid="stMetricDelta"] { font-size: 1.05rem; }
.block-container { padding-top: 2.5rem; }
h1 { color: #005EB8; }
.stTabs [data-baseweb="tab"] p { font-size: 1.1rem; }
</style>
"""


def page_style() -> None:
    st.set_page_config(page_title="Proportionate universalism: allocation", page_icon="⚖️",
                       layout="wide", initial_sidebar_state="expanded")
    st.html(CSS)


def title(app: state.App, base) -> None:
    st.title("Where the money goes, and what equity costs")
    pcns = base.pcns
    st.caption(f"{base.policy.name}. {len(pcns)} PCNs in {pcns['icb_code'].nunique()} ICB(s), "
               f"{base.years[0]} to {base.years[-1]}, on {app.data_label}. All money is £ at "
               "2024/25 prices.")


def flashes() -> None:
    for kind, text in state.take_flashes():
        getattr(st, kind)(text)


# ---- status: errors, infeasible settings -----------------------------------------------------


def status(result: state.Result, base) -> Allocation | None:
    """Say what stops a plan, offer the fix; return the allocation to show (maybe the last)."""
    if result.pending is not None:  # solving in the background: progress, Cancel, last plan
        background.progress("solve")
        if result.previous is not None:
            st.caption("Showing the last plan, for the settings before this change, until the "
                       "new one is ready. Every control can still be used.")
        return result.previous
    if result.error is not None:
        problems = "\n".join(f"- {p}" for p in result.error.problems)
        st.error(f"**These settings cannot be used:**\n\n{problems}")
        if result.previous is not None:
            st.caption("Showing the last plan that worked.")
        return result.previous
    allocation = result.allocation
    if allocation.status == "optimal":
        if not allocation.rules_met:  # the rules bent in the model's order: say where
            with st.container(key="shortfalls"):
                lines = "\n".join(f"- {line}" for line in allocation.shortfall_words)
                st.warning("**The rules cannot all be met: this is the best plan when they "
                           "bend in the model's order.** It falls short here (amounts rounded "
                           f"up):\n\n{lines}")
        return allocation
    explanation = allocation.explanation
    with st.container(key="infeasible"):
        if explanation is None:
            st.error(state.no_plan_words(result))
            if result.explain_later:
                state.explain_later(result)
        else:
            lines = "\n".join(f"- {line}" for line in explanation.lines)
            st.error(f"**{explanation.summary}**\n\n{lines}")
            if explanation.changes and explanation.relaxed_inputs is not None:
                words = ", ".join(FAMILY_WORDS.get(r, r) for r in explanation.relaxed_rules)
                st.button(f"Relax {words} by the smallest amount that works", key="relax",
                          type="primary", on_click=state.relax, args=(explanation,))
    if result.previous is not None:
        st.caption("Showing the last plan that worked.")
    return result.previous


def solve_note(result: state.Result) -> None:
    """The last line of the page: which solve this is (a browser test waits for it)."""
    with st.container(key="solve_info"):
        if result.pending is not None:
            st.caption(f"Solving in the background: solve {result.solve_number + 1} of this "
                       "session.")
            return
        if result.allocation is None:
            st.caption(f"Solve {result.solve_number}: not run (settings invalid).")
            return
        st.caption(f"Solve {result.solve_number}: {result.allocation.status}, "
                   f"{result.how} in {result.seconds:.2f} s.")


# ---- headline tiles ----------------------------------------------------------------------------


def tile_values(allocation: Allocation, year: str | None) -> dict[str, float]:
    """The headline figures for the year in view (None: all years), from the detail table."""
    cache = st.session_state.setdefault("tile_cache", {})
    key = (id(allocation), allocation.inputs.digest, year)
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = _tile_values(allocation, year)
    return cache[key]


def _tile_values(allocation: Allocation, year: str | None) -> dict[str, float]:
    detail = allocation.detail
    years = allocation.inputs.years
    in_view = detail if year is None else detail[detail["year"] == year]
    final = detail[detail["year"] == (year or years[-1])]
    pcns = allocation.inputs.pcns
    spend = in_view.groupby("pcn_code")["spend_gbp"].sum().reindex(pcns.index, fill_value=0.0)
    by_q = split_by_quintile(pd.DataFrame({"spend": spend, "population": pcns["population"]}),
                             allocation.inputs.quintile_shares)  # people, not PCNs, by quintile
    return {
        "objective": float(allocation.objective or 0.0),
        "spend": float(in_view["spend_gbp"].sum()),
        "wte": float(final[allocation.wte_columns].to_numpy().sum()),
        "qaly": float(in_view["qaly"].sum()),
        "nel": float(in_view["nel_avoided"].sum()),
        "ratio": quintile_ratio(by_q["spend"] / by_q["population"]),
    }


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _signed(text_of, delta: float) -> str | None:
    """The change as shown on a tile, or None when it rounds to nothing."""
    text = text_of(abs(delta))
    if not re.search(r"[1-9]", text):
        return None
    return ("+" if delta >= 0 else "-") + text


def headline(result: state.Result, allocation: Allocation, view: View) -> None:
    years = allocation.inputs.years
    span = view.year or "five years"
    final = view.year or years[-1]
    tiles = [
        ("objective", "Weighted outcome (£, five years, discounted)", money,
         term("weighted outcome")),
        ("spend", f"Spend ({span})", money, "Money allocated to PCNs."),
        ("ratio", "Q1:Q5 spend per head", lambda v: f"{v:.2f}", term("Q1:Q5 ratio")),
        ("qaly", f"QALYs gained ({span})", _count, term("QALY")),
        ("nel", f"Emergency admissions avoided ({span})", _count,
         "Emergency hospital admissions the plan avoids."),
        ("wte", f"WTE used ({final})", _count,
         term("WTE") + " Staff time the plan uses, all staff groups."),
    ]
    now = tile_values(allocation, view.year)
    before = None
    if result.previous is not None and result.previous is not allocation:
        before = tile_values(result.previous, view.year)
    for row in (tiles[:3], tiles[3:]):
        for column, (name, label, fmt, help_text) in zip(st.columns(3), row, strict=True):
            delta = None
            if before is not None and np.isfinite(now[name]) and np.isfinite(before[name]):
                change = now[name] - before[name]
                if abs(change) > 1e-9 * max(1.0, abs(before[name])):
                    delta = _signed(fmt, change)
            with column, st.container(key=f"tile_{name}"):
                value = fmt(now[name]) if np.isfinite(now[name]) else "n/a"
                st.metric(label, value, delta=delta,
                          delta_color="off" if name == "ratio" else "normal",
                          help=help_text + " The small figure is the change from the last "
                                           "solve.", border=True)
    ambitions(allocation)


def ambitions(allocation: Allocation) -> None:
    """One line per target and aim of the model: how far the plan goes (ambitions.progress)."""
    progress = allocation.progress
    if progress.empty:
        return
    lines = []
    for r in progress.itertuples(index=False):
        source = r.source.split(":")[0]
        if not np.isfinite(r.share_of_way):
            way = "not measured"
        else:
            way = f"{r.share_of_way:.0%} of the way"
            if np.isfinite(r.ceiling) and not r.reachable and r.needed > 0:
                way += f" (the library could go {r.ceiling / r.needed:.0%} of it at most)"
        lines.append(f"{r.ambition} by {r.year}" + (f" ({source})" if source else "")
                     + f": {way}")
    with st.container(key="ambitions"):
        st.caption("**Against the strategy's ambitions:** " + "; ".join(lines) + ".")


# ---- tabs ---------------------------------------------------------------------------------


def pcn_table(allocation: Allocation, view: View) -> None:
    frame = pcn_frame(allocation, view.year).sort_values("spend_per_head_gbp", ascending=False)
    frame["spend_gbp"] = frame["spend_gbp"].round(0)
    columns = ["pcn_name", "icb_code", "imd_quintile", "population", "spend_gbp",
               "spend_per_head_gbp", "spend_per_eligible_gbp", "higher_need_count",
               "higher_need_priorities", "qaly", "nel_avoided", "place_name"]
    which = view.year or "a typical year (the average of the five)"
    st.caption(f"Allocation by PCN in {which}, highest spend per head first. Click a column "
               "heading to sort by it.")
    number = st.column_config.NumberColumn
    st.dataframe(
        frame[columns], hide_index=True, height=600, key="pcn_table",
        column_config={
            "pcn_name": st.column_config.TextColumn("PCN", help=term("PCN"), pinned=True),
            "icb_code": st.column_config.TextColumn("ICB", help=term("ICB")),
            "imd_quintile": number("IMD quintile", help=term("IMD quintile")),
            "population": number("Population", format="localized"),
            "spend_gbp": number("Spend (£)", format="localized"),
            "spend_per_head_gbp": number("£ per head", format="£%.2f"),
            "spend_per_eligible_gbp": number("£ per eligible person", format="£%.2f",
                                             help=term("eligible person")),
            "higher_need_count": number("Higher-need flags", help=term("higher-need PCN")),
            "higher_need_priorities": st.column_config.TextColumn(
                "Higher need for", help="The priorities this PCN has higher need for (CYP: "
                                        "children and young people)."),
            "qaly": number("QALYs", format="%.1f", help=term("QALY")),
            "nel_avoided": number("Admissions avoided", format="%.0f",
                                  help="Emergency admissions avoided."),
            "place_name": st.column_config.TextColumn("Place"),
        })

def shadow_prices(allocation: Allocation) -> None:
    st.markdown(term("shadow price"))
    budget, workforce, families = resource_prices(allocation)
    st.subheader("Money", anchor=False)
    if budget:
        st.markdown("\n".join(f"- {line}" for line in budget))
    else:
        st.info("The budget is not holding the plan back: more money would buy nothing more.")
    st.subheader("Staff", help=term("WTE"), anchor=False)
    if len(workforce):
        top = workforce.iloc[0]
        st.markdown(f"One more WTE of **{top['staff']}** in **{top['where']}** in {top['year']} "
                    f"buys **{money(top['gbp_per_wte'])}** of weighted outcome: the most "
                    "valuable extra post. The binding workforce limits:")
        st.dataframe(workforce, hide_index=True, key="workforce_prices", column_config={
            "staff": "Staff group", "where": "Where", "year": "Year",
            "gbp_per_wte": st.column_config.NumberColumn(
                "One more WTE buys (£ weighted outcome)", format="localized")})
    else:
        st.info("No workforce limit is holding the plan back.")
    st.subheader("Binding rules", help=term("binding constraint"), anchor=False)
    st.dataframe(families, hide_index=True, key="binding_table")


def resource_prices(allocation: Allocation) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Shadow prices of the budget (in words) and of the workforce (a table, largest first);
    binding rows counted per rule. Read straight from the solver's duals, so it stays fast."""
    sol, lp = allocation.solution, allocation.lp
    arrays = lp.arrays()
    budget = []
    if "budget_limit" in lp.rows:
        block = lp.rows["budget_limit"]
        duals = sol.row_dual[block.start:block.stop]
        for year, price in zip(block.index["year"], duals, strict=True):
            if abs(price) > 1e-7:
                budget.append(f"One more £1m in {year} buys {money(price * 1e6)} of weighted "
                              "outcome (discounted to today's value).")
    rows = []
    if "workforce_limit" in lp.rows:
        block = lp.rows["workforce_limit"]
        frame = block.index.copy()
        frame["price"] = sol.row_dual[block.start:block.stop]
        frame = frame[frame["price"].abs() > 1e-7].sort_values("price", ascending=False)
        for row in frame.itertuples():
            rows.append({"staff": staff_short(row.staff_group).capitalize(),
                         "where": short_icb(allocation.scope_name(row.scope)),
                         "year": row.year, "gbp_per_wte": round(float(row.price))})
    families = []
    for name, block in lp.rows.items():
        if name not in FAMILY_WORDS:
            continue
        sl = slice(block.start, block.stop)
        duals = sol.row_dual[sl]
        activity = sol.row_value[sl]
        slack = np.minimum(activity - arrays["row_lower"][sl], arrays["row_upper"][sl] - activity)
        binding = (np.abs(duals) > 1e-7) & (slack <= 1e-6 * np.maximum(1.0, np.abs(activity)))
        families.append({"rule": FAMILY_WORDS[name].removeprefix("the ").capitalize(),
                         "binding": int(binding.sum()), "of": block.size})
    return budget, pd.DataFrame(rows, columns=["staff", "where", "year", "gbp_per_wte"]), \
        pd.DataFrame(families)


def cannot_start(err) -> None:
    problems = "\n".join(f"- {p}" for p in err.problems)
    st.error(f"**The model or its data cannot be used:**\n\n{problems}")
