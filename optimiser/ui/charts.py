"""The charts: Plotly figures drawn from an Allocation, readable on a projector and offline.

Colours are colour-blind safe: NHS blue against Okabe-Ito orange (with a hatch pattern too)
for two-way comparisons, a blue sequence for amounts, and for IMD quintiles the ordered
viridis scale from dark purple (most deprived) to yellow (least). Nothing is fetched from the
internet to draw them: the map plots PCN centres on plain axes, with no map tiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ..equity import quintile_ratio
from ..results import Allocation
from . import background, state
from .controls import View, short_icb
from .glossary import short_priority, term
from .tables import pcn_frame

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
ORANGE = "#E69F00"  # Okabe-Ito orange: distinct from blue for every common colour vision
QUINTILE_COLOURS = {1: "#440154", 2: "#3B528B", 3: "#21918C", 4: "#5EC962", 5: "#FDE725"}
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 16}


def layout(fig: go.Figure, height: int = 460, **kw) -> go.Figure:
    """Large type for a projector, white background, legend below."""
    margin = kw.pop("margin", {"l": 10, "r": 10, "t": 60, "b": 10})
    fig.update_layout(template="plotly_white", font=FONT, height=height, margin=margin,
                      title_font={"size": 20, "color": NHS_DARK_BLUE},
                      legend={"orientation": "h", "y": -0.18}, **kw)
    return fig


def chart(fig: go.Figure, key: str) -> None:
    """Draw a figure with its own colours and fonts (not the Streamlit theme's)."""
    st.plotly_chart(fig, key=key, theme=None, config={"displaylogo": False})


def equity_glance(allocation: Allocation, view: View) -> None:
    left, right = st.columns(2)
    quintiles = allocation.by_quintile
    if view.year:
        quintiles = quintiles[quintiles["year"] == view.year]
    by_q = quintiles.groupby("imd_quintile")[["spend_gbp", "population"]].sum()
    per_head = by_q["spend_gbp"] / by_q["population"]  # population counted once per year
    labels = [f"Q{int(q)}" + (" most deprived" if q == 1 else " least deprived" if q == 5
                              else "") for q in per_head.index]
    fig = go.Figure(go.Bar(x=labels, y=per_head.to_numpy(),
                           marker_color=[QUINTILE_COLOURS[int(q)] for q in per_head.index],
                           marker_line={"color": "#425563", "width": 1},
                           text=[f"£{v:,.2f}" for v in per_head], textposition="outside",
                           hovertemplate="%{x}: £%{y:,.2f} per head<extra></extra>"))
    ratio = quintile_ratio(per_head.set_axis(per_head.index.astype(int)))
    layout(fig, title=f"Spend per head by IMD quintile (Q1:Q5 = {ratio:.2f})",
            yaxis_title="£ per head a year" + ("" if view.year else " (average of the five)"))
    with left:
        chart(fig, "chart_quintile")
        st.caption(term("IMD quintile") + " " + term("Q1:Q5 ratio"))
    comparison = allocation.higher_need_comparison
    if view.year:
        comparison = comparison[comparison["year"] == view.year]
    comparison = comparison.groupby("priority_id")[
        ["higher_need_per_eligible_gbp", "other_per_eligible_gbp"]].mean()
    comparison = comparison.reindex([r for r in allocation.inputs.priority_ids
                                     if r in comparison.index])
    short = [short_priority(r) for r in comparison.index]
    fig = go.Figure([
        go.Bar(name="Higher-need PCNs", y=short, x=comparison["higher_need_per_eligible_gbp"],
               orientation="h", marker_color=NHS_BLUE,
               hovertemplate="%{y}: £%{x:,.2f} per eligible person<extra>higher need</extra>"),
        go.Bar(name="Universal offer (other PCNs)", y=short,
               x=comparison["other_per_eligible_gbp"], orientation="h", marker_color=ORANGE,
               marker_pattern_shape="/",
               hovertemplate="%{y}: £%{x:,.2f} per eligible person<extra>other</extra>"),
    ])
    layout(fig, title="Higher-need vs universal: £ per eligible person", barmode="group",
            xaxis_title="£ per eligible person per year", yaxis={"autorange": "reversed"})
    with right:
        chart(fig, "chart_higher_need")
        st.caption(term("proportionate universalism") + " " + term("higher-need PCN"))


def pcn_rows_layout(fig: go.Figure, n_rows: int) -> go.Figure:
    """A PCN x priority heatmap: a row per PCN (first at the top), priorities along the top."""
    return layout(fig, height=max(420, 22 * n_rows + 120),
                  yaxis={"autorange": "reversed", "tickfont": {"size": 13}},
                  xaxis={"side": "top", "tickangle": -25},
                  margin={"l": 10, "r": 10, "t": 90, "b": 10})


def heatmap(allocation: Allocation, view: View) -> None:
    spend = allocation.spend_priority()
    priorities = list(allocation.inputs.priority_ids)
    if view.year:
        spend = spend[spend["year"] == view.year]
    table = spend.pivot_table(index="pcn_code", columns="priority_id", values="spend_gbp",
                              aggfunc="mean").reindex(columns=priorities).fillna(0.0)
    pcns = allocation.inputs.pcns.sort_values("imd_score", ascending=False)
    table = table.reindex(pcns.index).fillna(0.0)
    per_head = table.div(pcns["population"].astype(float), axis=0)
    flags = allocation.inputs.higher_need.reindex(index=pcns.index, columns=priorities)
    rows = [f"{pcns.at[p, 'pcn_name'][:34]} (Q{int(pcns.at[p, 'imd_quintile'])})"
            for p in pcns.index]
    columns = [short_priority(r) for r in priorities]
    fig = go.Figure(go.Heatmap(
        z=per_head.to_numpy(), x=columns, y=rows, colorscale="Blues",
        text=np.where(flags.to_numpy(), "▲", ""), texttemplate="%{text}",
        colorbar={"title": "£ per head"},
        hovertemplate="%{y}<br>%{x}<br>£%{z:,.2f} per head<extra></extra>"))
    pcn_rows_layout(fig, len(rows))
    st.markdown("**Spend per head, PCN x priority** (▲ marks a higher-need PCN for that "
                "priority)")
    st.caption("PCNs from most deprived (top) to least deprived, £ per head of the PCN's "
               "population in " + ("a typical year." if view.year is None else view.year + "."))
    chart(fig, "chart_heatmap")


def pcn_map(allocation: Allocation, view: View) -> None:
    frame = pcn_frame(allocation, view.year)
    pcns = allocation.inputs.pcns.set_index("pcn_code", drop=False)
    frame["lat"] = frame["pcn_code"].map(pcns["latitude"]).astype(float)
    frame["lon"] = frame["pcn_code"].map(pcns["longitude"]).astype(float)
    frame = frame.dropna(subset=["lat", "lon"])
    largest = max(float(frame["spend_gbp"].max()), 1.0)
    fig = go.Figure()
    for _, part in frame.groupby("icb_code"):
        _icb_label(fig, part, str(pcns.loc[part["pcn_code"].iloc[0], "icb_name"]))
    for q in sorted(frame["imd_quintile"].unique()):
        part = frame[frame["imd_quintile"] == q]
        fig.add_trace(go.Scatter(
            x=part["lon"], y=part["lat"], mode="markers", name=f"Q{q}",
            marker={"size": 8 + 42 * np.sqrt(part["spend_gbp"] / largest),
                    "color": QUINTILE_COLOURS[q], "line": {"color": "#212B32", "width": 1},
                    "opacity": 0.85},
            customdata=np.stack([part["pcn_name"], part["spend_gbp"] / 1e3,
                                 part["spend_per_head_gbp"]], axis=1),
            hovertemplate="%{customdata[0]}<br>£%{customdata[1]:,.0f}k, "
                          "£%{customdata[2]:,.2f} per head<extra>IMD Q" + str(q) + "</extra>"))
    mid_lat = float(frame["lat"].mean()) if len(frame) else 53.0
    hidden = {"showgrid": False, "zeroline": False, "showticklabels": False, "title": ""}
    layout(fig, height=640, title="PCNs at their centres: size = spend, colour = IMD quintile",
            xaxis=hidden, yaxis={**hidden, "scaleanchor": "x",
                                 "scaleratio": 1 / np.cos(np.radians(mid_lat))},
            legend_title_text="IMD quintile (1 = most deprived): ")
    chart(fig, "chart_map")
    st.caption("Each PCN is drawn at its centre point (the mean of its practices' locations), "
               "with each ICB's name above its PCNs. No background map is needed, so it works "
               "without an internet connection. " + term("IMD quintile"))


def _icb_label(fig: go.Figure, part: pd.DataFrame, name: str) -> None:
    """The ICB's name at the centre of its PCNs: enough geography to read the map offline."""
    fig.add_annotation(x=float(part["lon"].mean()), y=float(part["lat"].max()),
                       text=f"<b>{short_icb(name)}</b>", showarrow=False, yshift=30,
                       font={"size": 15, "color": "#425563"}, bgcolor="rgba(255,255,255,0.8)")


def frontier(result: state.Result, allocation: Allocation) -> None:
    ss = st.session_state
    inputs = allocation.inputs
    st.markdown("How much weighted outcome each step of the equity dial costs. "
                + term("frontier"))
    left, right = st.columns([2, 1])
    points = left.slider("Points on the frontier", 10, 25, 11, key="frontier_points")
    key = inputs.with_policy(need_gradient=0.0).digest
    if right.button("Draw the frontier", key="frontier_go", type="primary"):
        state.start_frontier(inputs, points, key)
    right.caption(f"Takes {state.frontier_time(inputs, points)}.")
    background.progress("frontier")
    stored = ss.get("frontier")
    if not stored:
        st.info("Press **Draw the frontier** to sweep the equity dial from 0 to 1.")
        return
    if stored[0] != key:
        st.warning("The settings changed since the frontier was drawn: press the button to "
                   "redraw it.")
    table = stored[1]
    ok = table[table["status"] == "optimal"]
    fig = go.Figure(go.Scatter(
        x=ok["need_gradient"], y=ok["objective_gbp"] / 1e6, mode="lines+markers",
        name="Weighted outcome (left)", line={"color": NHS_BLUE, "width": 4},
        marker={"size": 9}, customdata=ok["q1_q5_ratio"],
        hovertemplate="dial %{x:.2f}: £%{y:,.2f}m<br>Q1:Q5 %{customdata:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=ok["need_gradient"], y=ok["q1_q5_ratio"], mode="lines+markers", yaxis="y2",
        name="Q1:Q5 spend per head (right)", line={"color": ORANGE, "width": 3, "dash": "dash"},
        marker={"symbol": "diamond", "size": 9},
        hovertemplate="dial %{x:.2f}: Q1:Q5 %{y:.2f}<extra></extra>"))
    if inputs.policy.on("need_gradient"):
        fig.add_trace(go.Scatter(
            x=[inputs.policy.need_gradient], y=[(allocation.objective or 0) / 1e6],
            mode="markers+text", name="Current choice", text=["current choice"],
            textposition="top center",
            marker={"symbol": "star", "size": 22, "color": ORANGE,
                    "line": {"color": "#212B32", "width": 1}}))
    layout(fig, height=520, title="Efficiency-equity frontier",
            xaxis_title="Need gradient (equity dial)",
            yaxis_title="Weighted outcome (£m, discounted)",
            yaxis2={"title": "Q1:Q5 spend per head", "overlaying": "y", "side": "right",
                    "showgrid": False})
    chart(fig, "chart_frontier")
    failed = table[table["status"] != "optimal"]
    if len(failed):
        st.caption("No plan meets every rule at dial settings "
                   + ", ".join(f"{v:.2f}" for v in failed["need_gradient"]) + ".")
    if not inputs.policy.on("need_gradient"):
        st.info("The need-gradient rule is switched off, so the dial has no effect.")
