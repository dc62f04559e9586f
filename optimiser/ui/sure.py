"""The "How sure?" tab: the probabilistic sensitivity analysis, run only when asked.

Every uncertain effect, cost, uptake and staff time of the interventions is drawn from its
low-central-high range and the plan re-solved per draw (optimiser/uncertainty.py). The tab
shows the spread of the weighted outcome, how often each PCN and priority is funded above its
floor, how often each intervention is used, which uncertainties matter most, and which
allocation holds up best across the draws beside the central one.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ..results import Allocation, money
from . import background, state
from .charts import NHS_BLUE, ORANGE, chart, layout, pcn_rows_layout
from .glossary import short_priority


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
    st.markdown(
        f"Weighted outcome: central **{money(s['central_gbp'])}**; across "
        f"{s['optimal_draws']} draws, 90% lie between **{money(s['p5_gbp'])}** and "
        f"**{money(s['p95_gbp'])}** (mean {money(s['mean_gbp'])}).")
    if s.get("not_optimal_draws"):
        st.caption(f"{s['not_optimal_draws']} of {s['draws']} draws could not meet every rule "
                   "(for example, dearer services or larger cohorts put the universal core "
                   "offer beyond the budget); they are left out of the figures above.")
    fig = go.Figure(go.Histogram(x=result.draws["objective_gbp"] / 1e6,
                                 marker_color=NHS_BLUE, nbinsx=25))
    fig.add_vline(x=s["central_gbp"] / 1e6, line_color=ORANGE, line_width=4,
                  annotation_text="central")
    layout(fig, height=360, title="Weighted outcome across the draws (£m)")
    chart(fig, "chart_psa")


def robust(result) -> None:
    choice = result.robust_choice
    if not choice:
        return
    central_mean, central_p10 = choice["central_mean_gbp"], choice["central_p10_gbp"]

    def said(name: str, value: float, central: float) -> str:
        if name == "central":
            return "the central plan itself"
        return f"the plan optimal in {name} ({money(value - central)} more than the central plan)"

    st.markdown(
        f"**A robust choice.** Each of {choice['candidates']} candidate plans (the central one "
        "and the optima of the first draws) was valued in every draw. Best on average: "
        f"{said(choice['best_mean'], choice['best_mean_gbp'], central_mean)}. Best in a bad "
        "case (the 10th percentile): "
        f"{said(choice['best_p10'], choice['best_p10_gbp'], central_p10)}.")
    table = result.robust[["candidate", "mean_gbp", "p10_gbp", "p90_gbp", "mean_regret_gbp",
                           "share_within_workforce"]]
    st.dataframe(table, hide_index=True, key="psa_robust", column_config={
        "candidate": "Plan",
        "mean_gbp": st.column_config.NumberColumn("Mean (£)", format="£%.0f"),
        "p10_gbp": st.column_config.NumberColumn("10th percentile (£)", format="£%.0f"),
        "p90_gbp": st.column_config.NumberColumn("90th percentile (£)", format="£%.0f"),
        "mean_regret_gbp": st.column_config.NumberColumn(
            "Mean regret (£)", format="£%.0f",
            help="How far below each draw's own best plan, on average"),
        "share_within_workforce": st.column_config.NumberColumn(
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


def interventions(result) -> None:
    table = result.intervention_use
    if not len(table):
        return
    st.markdown("**How often each intervention is used**")
    st.dataframe(
        table.sort_values("probability_used", ascending=False)[
            ["name", "priority_id", "tier", "probability_used", "probability_beyond_floor",
             "central_used"]],
        hide_index=True, key="psa_interventions", column_config={
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
    st.dataframe(table[["label", "objective_low_gbp", "objective_high_gbp",
                        "swing_gbp"]].head(12), hide_index=True, key="psa_tornado",
                 column_config={
                     "label": "What varies",
                     "objective_low_gbp": st.column_config.NumberColumn(
                         "At its low value (£)", format="£%.0f"),
                     "objective_high_gbp": st.column_config.NumberColumn(
                         "At its high value (£)", format="£%.0f"),
                     "swing_gbp": st.column_config.NumberColumn("Swing (£)", format="£%.0f")})
