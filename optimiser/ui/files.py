"""The "Data and downloads" tab: the results as files, and your own data.

Downloads are built only when clicked (Streamlit runs the callable then), so a rerun after a
slider move never pays for writing a workbook.
"""

from __future__ import annotations

import streamlit as st

from .. import io
from ..results import Allocation
from . import state
from .upload import upload_section

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def files_tab(app: state.App, allocation: Allocation | None) -> None:
    downloads(allocation)
    st.divider()
    upload_section(app)


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
