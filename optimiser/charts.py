"""Charts of the frontier and the uncertainty analysis: PNG (matplotlib) and HTML (plotly).

Each function takes the tables that `frontier.frontier` and `uncertainty.run_uncertainty`
return and gives bytes (PNG) or text (a self-contained HTML page with plotly.js embedded, so
it opens offline). Colours are the Okabe-Ito palette, safe for colour-blind readers.
matplotlib is drawn through its object interface (no pyplot, no global state); plotly is
imported only when an HTML chart is asked for (it comes with the app extra).
"""

from __future__ import annotations

import io as _io

import numpy as np
import pandas as pd

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
GREY = "#BBBBBB"
MILLION = 1e6


def plotly_available() -> bool:
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(rows: int = 1, height: float = 4.0, width: float = 8.0):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height * rows), layout="constrained")
    axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
    return figure, axes


def _png(figure) -> bytes:
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _html(figure) -> str:
    # a fixed element id (plotly draws a random one) keeps a rerun's file byte-identical
    return figure.to_html(include_plotlyjs=True, full_html=True, div_id="chart")


def _short(text: str, most: int = 58) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


# ---- frontier ----------------------------------------------------------------------------


def _infeasible_from(frame: pd.DataFrame) -> float | None:
    bad = frame.loc[frame["status"] == "infeasible", "need_gradient"]
    return float(bad.iloc[0]) if len(bad) else None


def frontier_png(frame: pd.DataFrame) -> bytes:
    """Weighted outcome against the dial (top) and the Q1:Q5 spend ratio (bottom)."""
    ok = frame[frame["status"] == "optimal"]
    figure, (top, bottom) = _figure(rows=2, height=3.2)
    x = ok["need_gradient"]
    top.plot(x, ok["weighted_outcome_gbp"] / MILLION, marker="o", color=OKABE_ITO["blue"],
             label="weighted outcome")
    top.set_ylabel("Weighted outcome (£m, discounted)")
    top.set_title("What equity costs: the efficiency-equity frontier")
    bottom.plot(x, ok.get("spend_per_head_q1_q5_ratio", np.nan), marker="s",
                color=OKABE_ITO["vermillion"], label="spend per head, Q1 : Q5")
    bottom.axhline(1.0, color=GREY, linewidth=1, linestyle=":")
    bottom.set_ylabel("Spend per head, Q1 : Q5")
    bottom.set_xlabel(_dial_label(frame))
    start = _infeasible_from(frame)
    for axis in (top, bottom):
        axis.set_xlim(-0.02, 1.02)
        axis.grid(alpha=0.3)
        if start is not None:
            axis.axvspan(start - 0.5 / max(1, len(frame) - 1), 1.02, color=GREY, alpha=0.35,
                         label="no allocation meets every rule")
        axis.legend(loc="best", fontsize=8)
    return _png(figure)


def _dial_label(frame: pd.DataFrame) -> str:
    label = "Equity dial: need gradient λ (each PCN gets ≥ λ x its need-weighted fair share)"
    uplift = frame["enhanced_uplift"]
    if uplift.nunique() > 1:
        label += f"\nand the enhanced uplift rises with it, from 0 to {uplift.max():.0%}"
    return label


def frontier_html(frame: pd.DataFrame) -> str:
    from plotly.subplots import make_subplots

    ok = frame[frame["status"] == "optimal"]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    hover = ("λ %{x:.2f}<br>%{y:,.2f}<br>health given up £%{customdata[0]:,.0f} "
             "(%{customdata[1]:.2%})<extra></extra>")
    custom = np.c_[ok["health_given_up_gbp"], ok["health_given_up_share"]]
    figure.add_scatter(x=ok["need_gradient"], y=ok["weighted_outcome_gbp"] / MILLION,
                       mode="lines+markers", name="weighted outcome (£m)",
                       line={"color": OKABE_ITO["blue"]}, customdata=custom,
                       hovertemplate=hover, row=1, col=1)
    if "spend_per_head_q1_q5_ratio" in ok:
        figure.add_scatter(x=ok["need_gradient"], y=ok["spend_per_head_q1_q5_ratio"],
                           mode="lines+markers", name="spend per head Q1:Q5",
                           line={"color": OKABE_ITO["vermillion"]}, row=2, col=1)
    start = _infeasible_from(frame)
    if start is not None:
        for row in (1, 2):
            figure.add_vrect(x0=start, x1=1.0, fillcolor=GREY, opacity=0.35, line_width=0,
                             row=row, col=1)
        figure.add_annotation(x=(start + 1) / 2, y=1.0, yref="paper", showarrow=False,
                              text="infeasible")
    figure.update_yaxes(title_text="Weighted outcome (£m)", row=1, col=1)
    figure.update_yaxes(title_text="Spend per head Q1 : Q5", row=2, col=1)
    figure.update_xaxes(title_text="Equity dial λ", row=2, col=1)
    figure.update_layout(title="What equity costs: the efficiency-equity frontier",
                         template="simple_white", height=650)
    return _html(figure)


# ---- uncertainty -------------------------------------------------------------------------


def distribution_png(draws: pd.DataFrame, central: float) -> bytes:
    """Histogram of the objective across the draws, with the central value and p10/p90."""
    values = draws["objective_gbp"].dropna().to_numpy() / MILLION
    figure, (axis,) = _figure(height=4.0)
    if len(values):
        axis.hist(values, bins=min(40, max(5, len(values) // 10)), color=OKABE_ITO["sky"],
                  edgecolor="white")
        for value, label, colour, style in (
                (central / MILLION, "central", OKABE_ITO["black"], "-"),
                (values.mean(), "mean", OKABE_ITO["blue"], "--"),
                (np.percentile(values, 10), "10th percentile", OKABE_ITO["vermillion"], ":"),
                (np.percentile(values, 90), "90th percentile", OKABE_ITO["green"], ":")):
            axis.axvline(value, color=colour, linestyle=style, label=f"{label} £{value:,.1f}m")
        axis.legend(fontsize=8)
    failed = int(draws["objective_gbp"].isna().sum())
    axis.set_title(f"Weighted outcome across {len(draws)} draws"
                   + (f" ({failed} with no allocation meeting every rule, not shown)"
                      if failed else ""), fontsize=10)
    axis.set_xlabel("Weighted outcome (£m, discounted)")
    axis.set_ylabel("Draws")
    axis.grid(alpha=0.3)
    return _png(figure)


def distribution_html(draws: pd.DataFrame, central: float) -> str:
    import plotly.graph_objects as go

    values = draws["objective_gbp"].dropna() / MILLION
    figure = go.Figure(go.Histogram(x=values, marker_color=OKABE_ITO["sky"], name="draws"))
    figure.add_vline(x=central / MILLION, line_color=OKABE_ITO["black"],
                     annotation_text="central")
    if len(values):
        for q, colour in ((10, OKABE_ITO["vermillion"]), (90, OKABE_ITO["green"])):
            figure.add_vline(x=float(np.percentile(values, q)), line_dash="dot",
                             line_color=colour, annotation_text=f"p{q}")
    failed = int(draws["objective_gbp"].isna().sum())
    figure.update_layout(
        title=f"Weighted outcome across {len(draws)} draws"
              + (f" ({failed} infeasible, not shown)" if failed else ""),
        xaxis_title="Weighted outcome (£m, discounted)", yaxis_title="Draws",
        template="simple_white")
    return _html(figure)


def _bar_label(row, most: int = 34) -> str:
    """'Intervention name (shortened): kind of parameter', so the kind is never cut off."""
    if row["group"] == "kind":
        return row["kind_label"]
    return f"{_short(str(row['intervention_name']), most)}: {row['kind_label']}"


def _tornado_bars(part: pd.DataFrame):
    central = part["central_gbp"].to_numpy(dtype=float)
    low = (part["objective_low_gbp"].to_numpy(dtype=float) - central) / MILLION
    high = (part["objective_high_gbp"].to_numpy(dtype=float) - central) / MILLION
    return low, high


def tornado_png(tornado: pd.DataFrame) -> bytes:
    """Change in the objective at each parameter's low and high value, others central."""
    groups = [(g, tornado[tornado["group"] == g]) for g in ("kind", "parameter")]
    groups = [(g, part) for g, part in groups if len(part)]
    heights = [max(1.6, 0.32 * len(part) + 0.8) for _, part in groups] or [1.6]
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.5, sum(heights) + 0.4), layout="constrained")
    axes = figure.subplots(max(1, len(groups)), 1, squeeze=False,
                           gridspec_kw={"height_ratios": heights})[:, 0]
    titles = {"kind": "Each kind of parameter, across all interventions",
              "parameter": "Single parameters most linked to the outcome"}
    for axis, (group, part) in zip(axes, groups, strict=False):
        part = part.iloc[::-1]
        low, high = _tornado_bars(part)
        y = np.arange(len(part))
        axis.barh(y - 0.2, np.nan_to_num(low), height=0.4, color=OKABE_ITO["orange"],
                  label="at low value")
        axis.barh(y + 0.2, np.nan_to_num(high), height=0.4, color=OKABE_ITO["blue"],
                  label="at high value")
        for j, (lo, hi) in enumerate(zip(low, high, strict=True)):
            for value, end, offset in ((lo, "low", -0.2), (hi, "high", 0.2)):
                if np.isnan(value):
                    axis.text(0, j + offset, f"  no feasible allocation at {end} value",
                              va="center", fontsize=6)
        axis.set_yticks(y, [_bar_label(row) for _, row in part.iterrows()], fontsize=7)
        axis.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
        axis.set_title(titles[group], fontsize=9)
        axis.set_xlabel("Change in weighted outcome from central (£m)", fontsize=8)
        axis.grid(axis="x", alpha=0.3)
        axis.legend(fontsize=7, loc="lower right")
    return _png(figure)


def tornado_html(tornado: pd.DataFrame) -> str:
    import plotly.graph_objects as go

    part = tornado.iloc[::-1]
    low, high = _tornado_bars(part)
    labels = [("All: " if row["group"] == "kind" else "") + _bar_label(row, 50)
              for _, row in part.iterrows()]
    figure = go.Figure()
    figure.add_bar(y=labels, x=low, orientation="h", name="at low value",
                   marker_color=OKABE_ITO["orange"])
    figure.add_bar(y=labels, x=high, orientation="h", name="at high value",
                   marker_color=OKABE_ITO["blue"])
    figure.update_layout(barmode="group", template="simple_white",
                         title="Which parameters move the weighted outcome (one at a time)",
                         xaxis_title="Change from central (£m)",
                         height=max(400, 28 * len(part) + 150))
    return _html(figure)


def funding_png(funded: pd.DataFrame) -> bytes:
    """PCN x priority: the probability of funding above the universal floor."""
    funded = funded.assign(row=[f"{name} (Q{int(q)})" for name, q in
                                zip(funded["pcn_name"], funded["imd_quintile"], strict=True)])
    order = funded.sort_values(["imd_quintile", "pcn_name"])["row"].drop_duplicates()
    table = funded.pivot_table(index="row", columns="priority_id",
                               values="probability_above_floor", aggfunc="mean")
    table = table.reindex(index=order.tolist())
    figure, (axis,) = _figure(height=max(4.0, 0.16 * len(table) + 1.5), width=9.0)
    image = axis.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="cividis",
                        vmin=0, vmax=1)
    axis.set_xticks(np.arange(table.shape[1]), [c.replace("_", " ") for c in table.columns],
                    rotation=30, ha="right", fontsize=7)
    axis.set_yticks(np.arange(table.shape[0]), [_short(p, 40) for p in table.index],
                    fontsize=6)
    axis.set_title("Probability each PCN (most deprived quintile first) and priority is funded "
                   "above the universal floor", fontsize=9)
    figure.colorbar(image, ax=axis, label="probability")
    return _png(figure)
