"""The "Data and downloads" tab: the results as files, the board pack, and your own data.

Downloads are built only when clicked (Streamlit runs the callable then), so a rerun after a
slider move never pays for writing a workbook or drawing a deck. Each file is named after the
scenario (present.py) and says the settings it changed from the model file. The callable runs
in a server thread outside the page's session, where `st.session_state` is not this
session's: what it needs from the session (the scenario's name, its changed settings, the
frontier) is read here, while the page is drawn, and handed to it.
"""

from __future__ import annotations

import streamlit as st

from .. import io
from ..results import Allocation
from . import present, state
from .safe import md
from .upload import upload_section

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def files_tab(app: state.App, allocation: Allocation | None) -> None:
    board_pack(app, allocation)
    downloads(app, allocation)
    st.divider()
    upload_section(app)


def _ready(allocation: Allocation | None) -> bool:
    return allocation is not None and allocation.status == "optimal"


def board_pack(app: state.App, allocation: Allocation | None) -> None:
    st.subheader("Board pack", anchor=False)
    if not _ready(allocation):
        st.info("There is no plan to put in a board pack for these settings.")
        return
    name = present.scenario_name(app, allocation)
    stem = present.file_stem(name)
    drawn = st.session_state.get("frontier") is not None
    st.caption(f"Slides for **{md(name)}**: the settings it changed, the headline "
               "figures, the equity chart, the ten PCNs with the highest and lowest spend per "
               "head, the frontier" + ("" if drawn else " (not drawn yet: the Frontier tab "
                                                          "draws it)")
               + ", the shadow prices and any shortfalls, in words."
               + ("" if name != present.UNSAVED else " Save the settings in the Scenarios tab "
                                                     "to give the pack a name."))
    contents = present.pack(app, allocation)  # here, in the session (see the docstring)
    deck, pdf = st.columns(2)
    with deck:
        st.download_button(
            "Board pack (PowerPoint)", data=lambda: _deck(contents),
            file_name=f"{stem} board pack.pptx", mime=PPTX, key="download_pptx",
            type="primary", icon=":material/slideshow:")
    with pdf:
        st.download_button(
            "Board pack (PDF)", data=lambda: _pdf(contents),
            file_name=f"{stem} board pack.pdf", mime="application/pdf", key="download_pdf",
            icon=":material/picture_as_pdf:")


def _deck(contents) -> bytes:
    from ..boardpack import deck

    return deck(contents)


def _pdf(contents) -> bytes:
    from ..boardpack import pdf

    return pdf(contents)


def downloads(app: state.App, allocation: Allocation | None) -> None:
    st.subheader("Download the results", anchor=False)
    if not _ready(allocation):
        st.info("There is no plan to download for these settings.")
        return
    name = present.scenario_name(app, allocation)
    changed = present.changed(app, allocation)  # here, in the session (see the docstring)
    stem = present.file_stem(name)
    excel, detail, by_pcn = st.columns(3)
    with excel:
        st.download_button(
            "Excel workbook (finance summary)",
            data=lambda: _workbook(allocation, name, changed),
            file_name=f"{stem}.xlsx", mime=XLSX, key="download_xlsx",
            help="The same workbook the batch run writes: headline figures, allocation by "
                 "PCN, priority and quintile, shadow prices, and the settings used.")
    with detail:
        st.download_button(
            "CSV: every PCN, intervention and year", data=lambda: io.csv_bytes(allocation.detail),
            file_name=f"{stem} detail.csv", mime="text/csv", key="download_detail",
            help="One row per year, PCN and intervention: people reached, spend, WTE by staff "
                 "group and outcomes.")
    with by_pcn:
        st.download_button(
            "CSV: by PCN and year", data=lambda: io.csv_bytes(allocation.by_pcn_year),
            file_name=f"{stem} by PCN.csv", mime="text/csv", key="download_by_pcn")


def _workbook(allocation: Allocation, name: str, changed: list[str]) -> bytes:
    from ..report import summary_workbook

    return summary_workbook(allocation, label="Saved from the board-workshop app",
                            scenario=name, changed=changed)
