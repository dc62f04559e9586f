"""The board-workshop app: move the weights and equity rules, see where the money goes.

Run it with `make run` (or `.venv/bin/python -m streamlit run app.py`). This file is the page
layout only; the widgets, views and the warm Solver live in optimiser/ui/. In presenter mode
(?present=1, or the toggle) the sidebar is folded away, the heading names the scenario and
its settings, and the tiles stand in one row above the open tab (optimiser/ui/present.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from optimiser.errors import InputError
from optimiser.ui import (
    address,
    auth,
    charts,
    controls,
    files,
    history,
    inverse,
    present,
    scenarios,
    state,
    sure,
    views,
    why,
)

APP_DIR = Path(__file__).resolve().parent
TABS = ("Allocation by PCN", "Equity at a glance", "PCN x priority", "Map", "Frontier",
        "How sure?", "Shadow prices", "What would it take?", "Scenarios", "Data and downloads")


def main() -> None:
    views.page_style()
    user = auth.gate()  # nothing below is drawn until someone is signed in (auth.py)
    if user is None:
        return
    with st.sidebar:
        auth.account(user)
    try:
        app = state.start(APP_DIR)
        address.restore(app)  # a refresh or a shared link: the settings in the page address
        base = state.base_model(app)
    except InputError as err:
        views.cannot_start(err)
        return
    state.settle(base)  # a relaxation asked for, before the widgets show the settings
    history.observe()  # the settings of this run, for undo and redo
    address.write(app)
    controls.prepare(app, base)
    views.title(app, base)
    views.flashes()
    result = state.current_result(base)
    view = controls.sidebar(app, base)
    views.heading(app, result.allocation if result.optimal else result.previous, view)
    allocation = views.status(result, base)
    if allocation is not None:
        stale = views.not_current(app, result, allocation)
        views.headline(result, allocation, view, stale=stale)
        if not stale and not present.presenting():  # the chart stays above the fold
            why.panel(app, result, allocation, base, view)
    show_tabs(app, result, allocation, view, base)
    views.solve_note(result)


def show_tabs(app: state.App, result: state.Result, allocation, view: controls.View,
              base) -> None:
    """Only the open tab is drawn, so a rerun pays for one view."""
    draw = {
        "Allocation by PCN": lambda: views.pcn_table(allocation, view),
        "Equity at a glance": lambda: charts.equity_glance(allocation, view),
        "PCN x priority": lambda: charts.heatmap(allocation, view),
        "Map": lambda: charts.pcn_map(allocation, view),
        "Frontier": lambda: charts.frontier(result, allocation),
        "How sure?": lambda: sure.sure_tab(allocation),
        "Shadow prices": lambda: views.shadow_prices(allocation),
        "What would it take?": lambda: inverse.tab(base),
        "Scenarios": lambda: scenarios.scenarios_tab(app, allocation),
        "Data and downloads": lambda: files.files_tab(app, allocation),
    }
    needs_plan = set(TABS[:7])
    for name, tab in zip(TABS, st.tabs(TABS, key="view", on_change="rerun"), strict=True):
        if not tab.open:
            continue
        with tab:
            if name in needs_plan and allocation is None:
                st.info("No plan to show: change the settings above.")
            else:
                draw[name]()


if __name__ == "__main__":
    main()
