"""The "Data and downloads" tab: the results as files, your own data, and how sure we are.

Downloads are built only when clicked (Streamlit runs the callable then), so a rerun after a
slider move never pays for writing a workbook.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from .. import io
from ..results import Allocation, money
from . import state
from .charts import NHS_BLUE, ORANGE, chart, layout
from .upload import upload_section

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def files_tab(app: state.App, allocation: Allocation | None) -> None:
    downloads(allocation)
    st.divider()
    upload_section(app)
    st.divider()
    uncertainty(allocation)


def _stem(allocation: Allocation) -> str:
    return f"allocation_{allocation.inputs.digest[:8]}"


def downloads(allocation: Allocation | None) -> None:
    st.subheader("Download the results", anchor=False)
    if allocation is None or allocation.status != "optimal":
        st.info("There is no feasible plan to download for these settings.")
        return
    stem = _stem(allocation)
    excel, detail, by_pcn = st.columns(3)
    with excel:
        st.download_button(
            "Excel workbook (finance summary)", data=lambda: _workbook(allocation),
            file_name=f"{stem}.xlsx", mime=XLSX, key="download_xlsx", type="primary",
            help="The same workbook the batch run writes: headline figures, allocation by "
                 "PCN, priority and quintile, shadow prices, and the settings used.")
    with detail:
        st.download_button(
            "CSV: every PCN, intervention and year", data=lambda: io.csv_bytes(allocation.detail),
            file_name=f"{stem}_detail.csv", mime="text/csv", key="download_detail",
            help="One row per year, PCN and intervention: people reached, spend, WTE by staff "
                 "group and outcomes.")
    with by_pcn:
        st.download_button(
            "CSV: by PCN and year", data=lambda: io.csv_bytes(allocation.by_pcn_year),
            file_name=f"{stem}_by_pcn.csv", mime="text/csv", key="download_by_pcn")


def _workbook(allocation: Allocation) -> bytes:
    from ..report import summary_workbook

    return summary_workbook(allocation, label="Saved from the board-workshop app")


def uncertainty(allocation: Allocation | None) -> None:
    """The probabilistic sensitivity analysis, run only when asked (it solves many times)."""
    try:
        from ..uncertainty import run_uncertainty
    except ImportError:
        return
    st.subheader("How sure is this plan?", anchor=False)
    st.caption("Draws every uncertain effect, cost and cohort size of the interventions from "
               "its low-central-high range and re-solves the plan for each draw.")
    if allocation is None or allocation.status != "optimal":
        st.info("Available once the settings give a feasible plan.")
        return
    left, right = st.columns([2, 1])
    draws = left.number_input("Draws", min_value=5, max_value=500, value=20, step=5,
                              key="psa_draws", help="Each draw is one re-solve of the plan "
                                                    "(a second or two at DLN scale).")
    kinds = left.checkbox("Also vary each kind of parameter on its own (18 more solves)",
                          value=True, key="psa_kinds",
                          help="Shows which kind of uncertainty (costs, effects, cohort "
                               "sizes...) moves the weighted outcome most.")
    if right.button("Run the uncertainty analysis", key="psa_go"):
        bar = st.progress(0.0, text="Solving the draws…")

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"Solved {done} of {total}")

        result = run_uncertainty(allocation.inputs, int(draws), seed=0, workers=1,
                                 tornado_top=0, tornado_kinds=bool(kinds), candidates=5,
                                 progress=progress)
        bar.empty()
        st.session_state["psa"] = (allocation.inputs.digest, result)
    stored = st.session_state.get("psa")
    if not stored:
        return
    if stored[0] != allocation.inputs.digest:
        st.warning("The settings changed since this analysis: run it again to update it.")
    result = stored[1]
    s = result.objective_summary
    if not s.get("optimal_draws"):
        st.error("No draw gave a feasible plan.")
        return
    st.markdown(
        f"Weighted outcome: central **{money(s['central_gbp'])}**; across "
        f"{s['optimal_draws']} draws, 90% lie between **{money(s['p5_gbp'])}** and "
        f"**{money(s['p95_gbp'])}** (mean {money(s['mean_gbp'])}).")
    fig = go.Figure(go.Histogram(x=result.draws["objective_gbp"] / 1e6,
                                 marker_color=NHS_BLUE, nbinsx=25))
    fig.add_vline(x=s["central_gbp"] / 1e6, line_color=ORANGE, line_width=4,
                  annotation_text="central")
    layout(fig, height=360, title="Weighted outcome across the draws (£m)")
    chart(fig, "chart_psa")
    tornado = result.tornado
    if len(tornado):
        st.caption("One kind of parameter at a time at its low and high value, the rest "
                   "central: which uncertainties matter most.")
        st.dataframe(tornado[["label", "objective_low_gbp", "objective_high_gbp",
                              "swing_gbp"]].head(12), hide_index=True, key="psa_tornado",
                     column_config={
                         "label": "What varies",
                         "objective_low_gbp": st.column_config.NumberColumn(
                             "At its low value (£)", format="£%.0f"),
                         "objective_high_gbp": st.column_config.NumberColumn(
                             "At its high value (£)", format="£%.0f"),
                         "swing_gbp": st.column_config.NumberColumn("Swing (£)",
                                                                    format="£%.0f")})
