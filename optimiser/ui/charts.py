"""The charts: Plotly figures drawn from an Allocation, readable on a projector and offline.

Colours are colour-blind safe: NHS blue against Okabe-Ito orange (with a hatch pattern too)
for two-way comparisons, a blue sequence for amounts, and for IMD quintiles the ordered
viridis scale from dark purple (most deprived) to yellow (least). Nothing is fetched from the
internet to draw them: the map plots PCN centres on plain axes, with no map tiles, and each
ICB's outline is the smallest polygon around its PCNs' centres (approximate, and said so: no
boundary file ships with the tool).

None misleads: an amount's axis starts at £0, or says where it starts (the frontier, whose
whole range is a few per cent, has its own switch to draw it from £0); ticks are few and
rounded; where the Q1:Q5 ratio falls below 1 or moves against the equity dial the reason is
said beside it (optimiser/board.py). Every chart has a text alternative: a sentence
beneath it and its numbers in a table ("The numbers behind this chart").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import board, formats
from ..equity import quintile_ratio
from ..results import Allocation
from . import background, present, state
from .controls import View
from .glossary import short_priority, term
from .tables import pcn_frame

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
ORANGE = "#E69F00"  # Okabe-Ito orange: distinct from blue for every common colour vision
QUINTILE_COLOURS = {1: "#440154", 2: "#3B528B", 3: "#21918C", 4: "#5EC962", 5: "#FDE725"}
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 16}
PRESENTER_HEIGHT = 360  # px: a chart below one row of tiles, above the fold of a 1280x720 screen
MARKER_SMALLEST, MARKER_RANGE = 8, 42  # px: a PCN's marker, 8 + 42 x sqrt(spend / largest)


def layout(fig: go.Figure, height: int = 460, subtitle: str = "", **kw) -> go.Figure:
    """Large type for a projector, white background, legend below; in presenter mode no
    taller than fits under the tiles."""
    margin = kw.pop("margin", {"l": 10, "r": 10, "t": 80 if subtitle else 60, "b": 10})
    if present.presenting():
        height = min(height, PRESENTER_HEIGHT)
    title = kw.pop("title", None)
    if title is not None:
        kw["title"] = {"text": title, "font": {"size": 20, "color": NHS_DARK_BLUE},
                       "subtitle": {"text": subtitle, "font": {"size": 14, "color": "#425563"}}}
    below = -0.32 if height < 420 else -0.18  # under the x axis's title, however short the plot
    legend = {"orientation": "h", "y": below, "yanchor": "top"} | kw.pop("legend", {})
    fig.update_layout(template="plotly_white", font=FONT, height=height, margin=margin,
                      legend=legend, **kw)
    return fig


def chart(fig: go.Figure, key: str) -> None:
    """Draw a figure with its own colours and fonts (not the Streamlit theme's)."""
    st.plotly_chart(fig, key=key, theme=None, config={"displaylogo": False})


def alternative(sentence: str, table: pd.DataFrame | None = None, key: str = "",
                column_config: dict | None = None) -> None:
    """A chart's text alternative: a sentence saying what it shows, and its numbers."""
    st.caption(sentence)
    if table is not None:
        with st.expander("The numbers behind this chart", key=f"numbers_{key}"):
            st.dataframe(table, hide_index=True, key=f"table_{key}", column_config=column_config)


def quintile_label(q: int, sep: str = "<br>") -> str:
    return f"Q{q}" + {1: f"{sep}most deprived", 5: f"{sep}least deprived"}.get(q, "")


# ---- equity at a glance ----------------------------------------------------------------------


def equity_glance(allocation: Allocation, view: View) -> None:
    left, right = st.columns(2)
    per_head = board.spend_per_head_by_quintile(allocation, view.year)
    ratio = quintile_ratio(per_head)
    fig = go.Figure(go.Bar(x=[quintile_label(q) for q in per_head.index], y=per_head.to_numpy(),
                           marker_color=[QUINTILE_COLOURS[q] for q in per_head.index],
                           marker_line={"color": "#425563", "width": 1},
                           text=[formats.gbp(v, 2) for v in per_head], textposition="outside",
                           cliponaxis=False,
                           hovertemplate="%{x}: £%{y:,.2f} per head<extra></extra>"))
    which = view.year or "a typical year (the average of the five)"
    layout(fig, title="£ per head by IMD quintile",
           subtitle=f"Q1:Q5 = {formats.ratio(ratio)}; {which}",
           yaxis={"title": "£ per head a year", "rangemode": "tozero", "tickprefix": "£",
                  "nticks": 6}, xaxis={"tickangle": 0})
    with left:
        chart(fig, "chart_quintile")
        words = "; ".join(f"{quintile_label(q, ' ')} {formats.gbp(v, 2)}"
                          for q, v in per_head.items())
        alternative(f"Spend per head a year by IMD quintile, axis from £0: {words}. "
                    + term("Q1:Q5 ratio"), _quintile_table(per_head), "quintile")
        reason = board.below_one_sentence(allocation.inputs, ratio)
        if reason:
            st.warning(reason)
    comparison = board.higher_need_vs_universal(allocation, view.year)
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
    layout(fig, title="Higher need against universal", subtitle="£ per eligible person a year",
           barmode="group", xaxis={"tickprefix": "£", "nticks": 6, "rangemode": "tozero"},
           yaxis={"autorange": "reversed"})
    with right:
        chart(fig, "chart_higher_need")
        table = pd.DataFrame({"Priority": short,
                              "Higher-need PCNs": comparison["higher_need_per_eligible_gbp"],
                              "Other PCNs": comparison["other_per_eligible_gbp"]})
        more = int((table["Higher-need PCNs"] > table["Other PCNs"]).sum())
        alternative(f"Spend per eligible person a year in the PCNs with higher need for each "
                    f"priority against the others: more where need is higher for {more} of "
                    f"{len(table)} priorities. " + term("higher-need PCN"), table, "higher_need",
                    {c: st.column_config.NumberColumn(c, format="£%,.2f")
                     for c in ("Higher-need PCNs", "Other PCNs")})


def _quintile_table(per_head: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"IMD quintile": [quintile_label(q, " ") for q in per_head.index],
                         "£ per head a year": [formats.gbp(v, 2) for v in per_head]})


# ---- PCN x priority --------------------------------------------------------------------------


def pcn_rows_layout(fig: go.Figure, n_rows: int) -> go.Figure:
    """A PCN x priority heatmap: a row per PCN (first at the top), priorities along the top."""
    fig = layout(fig, height=max(420, 22 * n_rows + 120),
                 yaxis={"autorange": "reversed", "tickfont": {"size": 13}},
                 xaxis={"side": "top", "tickangle": -25},
                 margin={"l": 10, "r": 10, "t": 90, "b": 10})
    fig.update_layout(height=max(420, 22 * n_rows + 120))  # every PCN readable, even presenting
    return fig


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
        z=per_head.to_numpy(), x=columns, y=rows, colorscale="Blues", zmin=0,
        text=np.where(flags.to_numpy(dtype=bool), "▲", ""), texttemplate="%{text}",
        colorbar={"title": "£ per head", "tickprefix": "£"},
        hovertemplate="%{y}<br>%{x}<br>£%{z:,.2f} per head<extra></extra>"))
    pcn_rows_layout(fig, len(rows))
    st.markdown("**Spend per head, PCN x priority** (▲ marks a higher-need PCN for that "
                "priority)")
    st.caption("PCNs from most deprived (top) to least deprived, £ per head of the PCN's "
               "population in " + ("a typical year." if view.year is None else view.year + ".")
               + " The colour scale starts at £0 (white).")
    chart(fig, "chart_heatmap")
    frame = per_head.set_axis(columns, axis=1).round(2)
    frame.insert(0, "PCN", rows)
    top = per_head.stack().idxmax()
    alternative(f"A grid of {len(rows)} PCNs by {len(columns)} priorities. The most per head: "
                f"{pcns.at[top[0], 'pcn_name']} on {short_priority(top[1])}, "
                f"{formats.gbp(per_head.loc[top], 2)}.", frame, "heatmap",
                {c: st.column_config.NumberColumn(c, format="£%,.2f") for c in columns})


# ---- the map ---------------------------------------------------------------------------------


def pcn_map(allocation: Allocation, view: View) -> None:
    frame = pcn_frame(allocation, view.year)
    pcns = allocation.inputs.pcns.set_index("pcn_code", drop=False)
    frame["lat"] = frame["pcn_code"].map(pcns["latitude"]).astype(float)
    frame["lon"] = frame["pcn_code"].map(pcns["longitude"]).astype(float)
    frame = frame.dropna(subset=["lat", "lon"])
    largest = max(float(frame["spend_gbp"].max()), 1.0)
    fig = go.Figure()
    outlined, placed = False, []
    for _, part in frame.groupby("icb_code"):
        outlined |= _icb_outline(fig, part, not outlined)
        _icb_label(fig, part, str(pcns.loc[part["pcn_code"].iloc[0], "icb_name"]), placed)
    for q in sorted(frame["imd_quintile"].unique()):
        part = frame[frame["imd_quintile"] == q]
        fig.add_trace(go.Scatter(
            x=part["lon"], y=part["lat"], mode="markers", name=f"Q{q}",
            legendgroup="quintile", legendgrouptitle_text="IMD quintile (1 = most deprived)",
            marker={"size": _marker_size(part["spend_gbp"], largest),
                    "color": QUINTILE_COLOURS[q], "line": {"color": "#212B32", "width": 1},
                    "opacity": 0.85},
            customdata=np.stack([part["pcn_name"], part["spend_gbp"] / 1e3,
                                 part["spend_per_head_gbp"]], axis=1),
            hovertemplate="%{customdata[0]}<br>£%{customdata[1]:,.0f}k, "
                          "£%{customdata[2]:,.2f} per head<extra>IMD Q" + str(q) + "</extra>"))
    _size_legend(fig, frame, largest)
    mid_lat = float(frame["lat"].mean()) if len(frame) else 53.0
    hidden = {"showgrid": False, "zeroline": False, "showticklabels": False, "title": ""}
    which = view.year or "a typical year"
    layout(fig, height=640, title="PCNs at their centres",
           subtitle=f"Size: spend in {which}; colour: IMD quintile", xaxis=hidden,
           yaxis={**hidden, "scaleanchor": "x", "scaleratio": 1 / np.cos(np.radians(mid_lat))},
           legend={"orientation": "v", "x": 1.0, "y": 1.0, "xanchor": "left"},
           margin={"l": 10, "r": 10, "t": 80, "b": 10})
    chart(fig, "chart_map")
    st.caption("Each PCN is drawn at its centre point (the mean of its practices' locations). "
               "An ICB's outline is approximate: the smallest shape around its PCNs' centres, "
               "not its legal boundary (no boundary file ships with the tool). Nothing is "
               "fetched from the internet. " + term("IMD quintile"))
    table = frame.sort_values("spend_gbp", ascending=False)
    alternative(
        f"{len(frame)} PCNs; the largest spend is {table['pcn_name'].iloc[0]} "
        f"({formats.money(table['spend_gbp'].iloc[0])} in {which}). Every PCN, its ICB, "
        "quintile and spend are in the table.",
        table[["pcn_name", "icb_name", "place_name", "imd_quintile", "spend_gbp",
               "spend_per_head_gbp"]].assign(icb_name=table["icb_name"].map(formats.short_icb)),
        "map", {"pcn_name": "PCN", "icb_name": "ICB", "place_name": "Place",
                "imd_quintile": "IMD quintile",
                "spend_gbp": st.column_config.NumberColumn("Spend", format="£%,.0f"),
                "spend_per_head_gbp": st.column_config.NumberColumn("£ per head",
                                                                    format="£%,.2f")})


def _marker_size(spend, largest: float):
    """A PCN's marker diameter (px): its area grows with its spend."""
    return MARKER_SMALLEST + MARKER_RANGE * np.sqrt(np.asarray(spend, dtype=float) / largest)


def _nice(value: float) -> float:
    """A round amount at or below `value`: 1, 2 or 5 x a power of ten."""
    power = 10 ** np.floor(np.log10(value))
    return max(m for m in (1, 2, 5, 10) if m * power <= value) * power


def _size_legend(fig: go.Figure, frame: pd.DataFrame, largest: float) -> None:
    """Three reference circles with their amounts, drawn to the lower right of the PCNs at the
    sizes the map uses (a legend entry would be drawn at one size)."""
    if not len(frame):
        return
    top = _nice(largest)
    amounts = list(dict.fromkeys([top, _nice(top / 4), _nice(top / 16)]))
    height = float(frame["lat"].max() - frame["lat"].min()) or 1.0
    x = float(frame["lon"].max()) + 0.18 * height
    ys = [float(frame["lat"].min()) + height * (0.05 + 0.13 * i) for i in range(len(amounts))]
    fig.add_trace(go.Scatter(
        x=[x] * len(amounts), y=ys, mode="markers+text", showlegend=False, hoverinfo="skip",
        text=[f"   {formats.money(a)}" for a in amounts], textposition="middle right",
        marker={"size": _marker_size(amounts, largest), "color": "white",
                "line": {"color": "#212B32", "width": 1}}))
    fig.add_annotation(x=x, y=ys[-1] + height * 0.1, text="Spend (size)", showarrow=False,
                       xanchor="left", font={"size": 14, "color": "#425563"})
    west = float(frame["lon"].min())
    fig.update_xaxes(range=[west - 0.05 * height, x + 0.45 * height])  # room for the amounts


def _icb_outline(fig: go.Figure, part: pd.DataFrame, first: bool) -> bool:
    """The ICB's approximate outline: the convex hull of its PCN centres (none for fewer than
    three PCNs in a line). Returns whether one was drawn."""
    from scipy.spatial import ConvexHull, QhullError

    points = part[["lon", "lat"]].to_numpy(dtype=float)
    if len(points) < 3:
        return False
    try:
        hull = ConvexHull(points)
    except QhullError:
        return False
    ring = points[np.append(hull.vertices, hull.vertices[0])]
    fig.add_trace(go.Scatter(
        x=ring[:, 0], y=ring[:, 1], mode="lines", fill="toself",
        fillcolor="rgba(0, 94, 184, 0.05)", line={"color": "#768692", "width": 1.5,
                                                  "dash": "dot"},
        name="ICB outline (approximate)", legendgroup="outline", showlegend=first,
        hoverinfo="skip"))
    return True


def _icb_label(fig: go.Figure, part: pd.DataFrame, name: str, placed: list) -> None:
    """The ICB's name above its PCNs (raised above a neighbour's name it would cover): enough
    geography to read the map offline."""
    x, y = float(part["lon"].mean()), float(part["lat"].max())
    shift = 30 + 24 * sum(abs(x - px) < 1.2 and abs(y - py) < 0.3 for px, py in placed)
    placed.append((x, y))
    fig.add_annotation(x=x, y=y, text=f"<b>{formats.short_icb(name)}</b>", showarrow=False,
                       yshift=shift, font={"size": 15, "color": "#425563"},
                       bgcolor="rgba(255,255,255,0.8)")


# ---- the frontier ------------------------------------------------------------------------------


def frontier(result: state.Result, allocation: Allocation) -> None:
    """The frontier when it has been drawn (first, so it stands above the fold), then the
    controls that draw it."""
    ss = st.session_state
    inputs = allocation.inputs
    key = inputs.with_policy(need_gradient=0.0).digest
    stored = ss.get("frontier")
    if stored:
        if stored[0] != key:
            st.warning("The settings changed since the frontier was drawn: press the button "
                       "below to redraw it.")
        table = stored[1]
        ok = table[table["status"] == "optimal"].sort_values("need_gradient")
        if len(ok):
            from_zero = ss.get("frontier_zero", False)
            chart(frontier_figure(ok, allocation, from_zero), "chart_frontier")
            frontier_words(ok, table, inputs, from_zero)
        else:
            st.error("No setting of the dial gave a plan.")
    st.markdown("How much weighted outcome each step of the equity dial costs. "
                + term("frontier"))
    left, right = st.columns([2, 1])
    points = left.slider("Points on the frontier", 10, 25, 11, key="frontier_points")
    if stored:
        left.toggle("Draw the outcome axis from £0", key="frontier_zero",
                    help="The whole frontier spans a few per cent of the weighted outcome; "
                         "from £0 it is nearly flat.")
    if right.button("Draw the frontier", key="frontier_go", type="primary"):
        state.start_frontier(inputs, points, key)
        if background.running("frontier") is None:  # drawn while the page waited: show it
            st.rerun()
    right.caption(f"Takes {state.frontier_time(inputs, points)}.")
    background.progress("frontier")
    if not stored:
        st.info("Press **Draw the frontier** to sweep the equity dial from 0 to 1.")
    if not inputs.policy.on("need_gradient"):
        st.info("The need-gradient rule is switched off, so the dial has no effect.")


def frontier_figure(ok: pd.DataFrame, allocation: Allocation, from_zero: bool) -> go.Figure:
    inputs = allocation.inputs
    low, high, _ = board.frontier_range(ok)
    met = ok["rules_met"].astype(bool) if "rules_met" in ok else pd.Series(True, index=ok.index)
    fig = go.Figure(go.Scatter(
        x=ok["need_gradient"], y=ok["objective_gbp"] / 1e6, mode="lines+markers",
        name="Weighted outcome (left)", line={"color": NHS_BLUE, "width": 4},
        marker={"size": 10, "symbol": np.where(met, "circle", "circle-open").tolist(),
                "line": {"width": 2, "color": NHS_BLUE}}, customdata=ok["q1_q5_ratio"],
        hovertemplate="dial %{x:.2f}: £%{y:,.2f}m<br>Q1:Q5 %{customdata:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=ok["need_gradient"], y=ok["q1_q5_ratio"], mode="lines+markers", yaxis="y2",
        name="Q1:Q5 spend per head (right)", line={"color": ORANGE, "width": 3, "dash": "dash"},
        marker={"symbol": "diamond", "size": 9},
        hovertemplate="dial %{x:.2f}: Q1:Q5 %{y:.2f}<extra></extra>"))
    if not met.all():
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="Rules bend here",
                                 marker={"symbol": "circle-open", "size": 10, "color": NHS_BLUE,
                                         "line": {"width": 2, "color": NHS_BLUE}}))
    if inputs.policy.on("need_gradient"):
        fig.add_trace(go.Scatter(
            x=[inputs.policy.need_gradient], y=[(allocation.objective or 0) / 1e6],
            mode="markers+text", name="Current choice", text=["current choice"],
            textposition="top center",
            marker={"symbol": "star", "size": 22, "color": ORANGE,
                    "line": {"color": "#212B32", "width": 1}}))
    span = max(high - low, 1e-9 * high, 1.0) / 1e6
    bottom = 0.0 if from_zero else low / 1e6 - 0.15 * span
    top = (high / 1e6) * 1.04 if from_zero else high / 1e6 + 0.25 * span
    layout(fig, height=520, title="Efficiency-equity frontier",
           subtitle=("Outcome axis from £0" if from_zero else
                     f"Outcome axis from {formats.money(bottom * 1e6)}, not £0: magnified"),
           xaxis={"title": "Need gradient (equity dial)", "dtick": 0.1 if len(ok) > 6 else 0.2,
                  "tickformat": ".1f"},
           yaxis={"title": "Weighted outcome (£m, discounted)", "range": [bottom, top],
                  "tickprefix": "£", "ticksuffix": "m", "tickformat": ",.1f", "nticks": 6},
           yaxis2={"title": "Q1:Q5 spend per head", "overlaying": "y", "side": "right",
                   "showgrid": False, "tickformat": ".2f", "tick0": 0,
                   "dtick": _step(ok["q1_q5_ratio"].max() - ok["q1_q5_ratio"].min())})
    return fig


def _step(span: float) -> float:
    """A round tick step giving about four ticks over `span`: 0.01, 0.02, 0.025, 0.05, 0.1..."""
    if not np.isfinite(span) or span <= 0:
        return 0.05
    power = 10 ** np.floor(np.log10(span / 4))
    return float(min(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= span / 4))


def frontier_words(ok: pd.DataFrame, table: pd.DataFrame, inputs, from_zero: bool) -> None:
    """The frontier's range, where its axis starts, why the ratio moves against the dial, and
    where the rules bent: said beneath the chart (also its text alternative)."""
    low, high, fall = board.frontier_range(ok)
    best = ok.loc[ok["objective_gbp"].idxmax()]
    lines = [f"From dial {ok['need_gradient'].iloc[0]:.2f} to "
             f"{ok['need_gradient'].iloc[-1]:.2f} the weighted outcome goes from "
             f"{formats.money(ok['objective_gbp'].iloc[0])} to "
             f"{formats.money(ok['objective_gbp'].iloc[-1])}: the whole range is "
             f"{formats.money(high - low)}, {formats.percent(fall, 2)} of the best "
             f"({formats.money(best['objective_gbp'])})."
             + ("" if from_zero else " The left axis is magnified (it does not start at £0), "
                                     "so a small fall looks like a cliff.")]
    reversal = board.against_the_dial(ok, inputs)
    if reversal:
        lines.append(reversal)
    if "rules_met" in ok and not ok["rules_met"].astype(bool).all():
        bent = ok.loc[~ok["rules_met"].astype(bool), "need_gradient"]
        lines.append("Open circles: at dial " + ", ".join(f"{v:.2f}" for v in bent)
                     + " the rules cannot all be met, so they bend in the model's order "
                       "(shortfalls).")
    failed = table[table["status"] != "optimal"]
    if len(failed):
        lines.append("No plan at dial settings "
                     + ", ".join(f"{v:.2f}" for v in failed["need_gradient"]) + ".")
    for line in lines:
        st.caption(line)
    frame = ok[["need_gradient", "objective_gbp", "q1_q5_ratio"]].rename(columns={
        "need_gradient": "Dial", "objective_gbp": "Weighted outcome",
        "q1_q5_ratio": "Q1:Q5 spend per head"})
    with st.expander("The numbers behind this chart", key="numbers_frontier"):
        st.dataframe(frame, hide_index=True, key="table_frontier", column_config={
            "Dial": st.column_config.NumberColumn(format="%.2f"),
            "Weighted outcome": st.column_config.NumberColumn(format="£%,.0f"),
            "Q1:Q5 spend per head": st.column_config.NumberColumn(format="%.2f")})
