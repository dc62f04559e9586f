"""The "How sure?" tab: the probabilistic sensitivity analysis, run only when asked.

Every uncertain effect, cost, uptake and staff time of the interventions is drawn from its
low-central-high range and the plan re-solved per draw (optimiser/uncertainty.py). The tab
shows the spread of the weighted outcome, how often each PCN and priority is funded above its
floor, how often each intervention is used, which uncertainties matter most, and which
allocation holds up best across the draws beside the central one.

A percentile is shown only from enough draws: at least five must lie beyond it on each side
(`enough_for`), so the 5th-95th range needs 100 feasible draws and the 10th-90th needs 50;
with fewer, the tab says so and shows the lowest and highest instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ..results import Allocation, money
from . import background, state
from .charts import NHS_BLUE, ORANGE, alternative, chart, layout, pcn_rows_layout
from .glossary import short_priority

BEYOND = 5  # draws that must lie beyond a percentile, on each side, before it is shown
TIERS = {"core": "Universal core offer", "enhanced": "Enhanced support"}


def enough_for(percentile: float) -> int:
    """The fewest draws from which a percentile is shown: 100 for the 5th or 95th, 50 for the
    10th or 90th (five draws beyond it)."""
    share = min(percentile, 100 - percentile) / 100
    return math.ceil(BEYOND / share)


def sure_tab(allocation: Allocation | None) -> None:
    st.subheader("How sure is this plan?", anchor=False)
    st.caption("Draws every uncertain effect, cost, uptake and staff time of the interventions "
               "from its low-central-high range (PERT) and re-solves the plan for each draw.")
    if allocation is None or allocation.status != "optimal":
        st.info("Available once the settings give a feasible plan.")
        return
    left, right = st.columns([2, 1])
    draws = left.number_input("Draws", min_value=5, max_value=500, value=20, step=5,
                              key="psa_draws", help="Each draw is one re-solve of the plan "
                                                    "(a second or two at DLN scale). The "
                                                    "command line runs 1,000 in parallel.")
    kinds = left.checkbox("Also vary each kind of parameter on its own (18 more solves)",
                          value=True, key="psa_kinds",
                          help="Shows which kind of uncertainty (costs, effects, cohort "
                               "sizes...) moves the weighted outcome most.")
    if right.button("Run the uncertainty analysis", key="psa_go"):
        state.start_uncertainty(allocation.inputs, int(draws), bool(kinds))
    right.caption(f"Takes {state.uncertainty_time(allocation.inputs, int(draws), bool(kinds))}.")
    background.progress("uncertainty")
    stored = st.session_state.get("psa")
    if not stored:
        return
    if stored[0] != allocation.inputs.digest:
        st.warning("The settings changed since this analysis: run it again to update it.")
    result = stored[1]
    s = result.objective_summary
    if not s.get("optimal_draws"):
        st.error(f"None of the {s['draws']} draws gave a plan that meets every rule.")
        return
    spread(result)
    robust(result)
    funding(result)
    interventions(result)
    tornado(result)


def spread(result) -> None:
    s = result.objective_summary
    n = s["optimal_draws"]
    if n >= enough_for(5):
        middle = (f"90% lie between **{money(s['p5_gbp'])}** and **{money(s['p95_gbp'])}**")
    elif n >= enough_for(10):
        middle = (f"80% lie between **{money(s['p10_gbp'])}** and **{money(s['p90_gbp'])}** "
                  f"(the 5th to 95th percentile needs {enough_for(5)} draws)")
    else:
        middle = (f"they range from **{money(s['min_gbp'])}** to **{money(s['max_gbp'])}**. "
                  f"Percentiles need more draws: {enough_for(10)} for the 10th and 90th, "
                  f"{enough_for(5)} for the 5th and 95th (five draws beyond each)")
    st.markdown(f"Weighted outcome: central **{money(s['central_gbp'])}**; across {n} draws, "
                f"{middle} (mean {money(s['mean_gbp'])}).")
    if s.get("not_optimal_draws"):
        st.caption(f"{s['not_optimal_draws']} of {s['draws']} draws could not meet every rule "
                   "(for example, dearer services or larger cohorts put the universal core "
                   "offer beyond the budget); they are left out of the figures above.")
    values = result.draws["objective_gbp"].dropna() / 1e6
    tallest = int(np.histogram(values, bins=25)[0].max()) if len(values) else 1
    step = max(1, math.ceil(tallest / 5))  # whole draws on the count axis
    fig = go.Figure(go.Histogram(x=values, marker_color=NHS_BLUE, nbinsx=25,
                                 hovertemplate="£%{x}m: %{y} draws<extra></extra>"))
    fig.add_vline(x=s["central_gbp"] / 1e6, line_color=ORANGE, line_width=4,
                  annotation_text="central")
    layout(fig, height=360, title="Weighted outcome across the draws",
           subtitle=f"{n} draws; the orange line is the central plan",
           xaxis={"title": "Weighted outcome (£m, discounted)", "tickprefix": "£",
                  "ticksuffix": "m", "nticks": 8},
           yaxis={"title": "Draws", "rangemode": "tozero", "dtick": step})
    chart(fig, "chart_psa")
    alternative(f"A histogram of the weighted outcome in each of {n} draws, from "
                f"{money(s['min_gbp'])} to {money(s['max_gbp'])}; the central plan gives "
                f"{money(s['central_gbp'])}.")


def robust(result) -> None:
    choice = result.robust_choice
    if not choice:
        return
    table = result.robust
    n = result.objective_summary["draws"]
    percentiles = n >= enough_for(10)
    central_mean = choice["central_mean_gbp"]

    def said(name: str, value: float, central: float) -> str:
        if name == "central":
            return "the central plan itself"
        return f"the plan optimal in {name} ({money(value - central)} more than the central plan)"

    if percentiles:
        bad = ("Best in a bad case (the 10th percentile): "
               f"{said(choice['best_p10'], choice['best_p10_gbp'], choice['central_p10_gbp'])}.")
    else:
        worst = table.loc[table["min_gbp"].idxmax()]
        best = said(worst["candidate"], worst["min_gbp"], table.at[0, "min_gbp"])
        bad = (f"Best in the worst draw (the 10th percentile needs {enough_for(10)} draws; "
               f"this is {n}): {best}.")
    st.markdown(
        f"**A robust choice.** Each of {choice['candidates']} candidate plans (the central one "
        "and the optima of the first draws) was valued in every draw. Best on average: "
        f"{said(choice['best_mean'], choice['best_mean_gbp'], central_mean)}. {bad}")
    columns = (["candidate", "mean_gbp", "p10_gbp", "p90_gbp"] if percentiles
               else ["candidate", "mean_gbp", "min_gbp"]) + ["mean_regret_gbp",
                                                             "share_within_workforce"]
    gbp = st.column_config.NumberColumn
    st.dataframe(table[columns], hide_index=True, key="psa_robust", column_config={
        "candidate": "Plan",
        "mean_gbp": gbp("Mean", format="£%,.0f"),
        "p10_gbp": gbp("10th percentile", format="£%,.0f"),
        "p90_gbp": gbp("90th percentile", format="£%,.0f"),
        "min_gbp": gbp("Lowest", format="£%,.0f",
                       help=f"The 10th and 90th percentiles need {enough_for(10)} draws."),
        "mean_regret_gbp": gbp("Mean regret", format="£%,.0f",
                               help="How far below each draw's own best plan, on average"),
        "share_within_workforce": gbp(
            "Draws within the workforce", format="percent",
            help="Share of draws in which this plan's staff needs fit the WTE available"),
    })


def funding(result) -> None:
    table = result.funded_above_floor
    if not len(table):
        return
    order = table.drop_duplicates("pcn_code").sort_values(["imd_quintile", "pcn_name"])
    grid = table.pivot_table(index="pcn_code", columns="priority_id",
                             values="probability_above_floor", aggfunc="first")
    grid = grid.reindex(index=order["pcn_code"], columns=list(dict.fromkeys(table["priority_id"])))
    flags = table.pivot_table(index="pcn_code", columns="priority_id", values="higher_need",
                              aggfunc="first").reindex_like(grid).fillna(False)
    rows = [f"{name[:34]} (Q{int(q)})" for name, q in
            zip(order["pcn_name"], order["imd_quintile"], strict=True)]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(dtype=float), x=[short_priority(p) for p in grid.columns], y=rows,
        zmin=0, zmax=1, colorscale="Blues", colorbar={"title": "probability"},
        text=np.where(flags.to_numpy(dtype=bool), "▲", ""), texttemplate="%{text}",
        hovertemplate="%{y}<br>%{x}<br>funded above its floor in %{z:.0%} of draws"
                      "<extra></extra>"))
    pcn_rows_layout(fig, len(rows))
    st.markdown("**How often each PCN and priority is funded above its floor** (▲ marks a "
                "higher-need PCN for that priority)")
    st.caption("Share of the feasible draws in which the plan spends more on the priority in "
               "the PCN than its universal core offer needs. PCNs from most deprived (top).")
    chart(fig, "chart_psa_funding")
    frame = pd.DataFrame(grid.to_numpy(dtype=float), columns=[short_priority(p)
                                                              for p in grid.columns])
    frame.insert(0, "PCN", rows)
    alternative(f"A grid of {len(rows)} PCNs by {len(grid.columns)} priorities: the share of "
                "draws in which each is funded above its floor.", frame, "psa_funding",
                {c: st.column_config.NumberColumn(c, format="percent")
                 for c in frame.columns[1:]})


def interventions(result) -> None:
    table = result.intervention_use
    if not len(table):
        return
    st.markdown("**How often each intervention is used**")
    shown = table.sort_values("probability_used", ascending=False)[
        ["name", "priority_id", "tier", "probability_used", "probability_beyond_floor",
         "central_used"]].copy()
    shown["priority_id"] = shown["priority_id"].map(short_priority)
    shown["tier"] = shown["tier"].map(lambda t: TIERS.get(t, str(t).capitalize()))
    shown["central_used"] = shown["central_used"].map({True: "Yes", False: "No"})
    st.dataframe(
        shown, hide_index=True, key="psa_interventions", column_config={
            "name": "Intervention", "priority_id": "Priority", "tier": "Tier",
            "probability_used": st.column_config.NumberColumn("Used", format="percent"),
            "probability_beyond_floor": st.column_config.NumberColumn(
                "Used beyond its floor", format="percent"),
            "central_used": "Used in the central plan"})


def tornado(result) -> None:
    table = result.tornado
    if not len(table):
        return
    st.markdown("**Which uncertainties matter most**")
    st.caption("One kind of parameter at a time at its low and high value, the rest central.")
    gbp = st.column_config.NumberColumn
    st.dataframe(table[["label", "objective_low_gbp", "objective_high_gbp",
                        "swing_gbp"]].head(12), hide_index=True, key="psa_tornado",
                 column_config={
                     "label": "What varies",
                     "objective_low_gbp": gbp("At its low value", format="£%,.0f"),
                     "objective_high_gbp": gbp("At its high value", format="£%,.0f"),
                     "swing_gbp": gbp("Swing", format="£%,.0f")})
