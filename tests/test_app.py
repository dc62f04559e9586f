"""The board-workshop app, headless: every control changes what is shown, every view renders.

Streamlit's AppTest runs app.py as a browser session would (widgets set, buttons clicked,
tabs and expanders opened through session state). Each test starts a new session, so each
builds its own Solver on the DLN base model; the tables and base model are cached between
sessions as in the served app. The scenario store is a temporary SQLite file per test.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from optimiser import allocate, load_model
from optimiser.io import write_workbook
from optimiser.policy import Lock, RingFence
from optimiser.ui import store as store_module
from optimiser.ui.store import NameTaken, ScenarioStore, changes_from_json, changes_to_json
from optimiser.ui.upload import check_workbook, too_big

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"
TIMEOUT = 240  # seconds per run: generous for a loaded 2-core CI machine


# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("OPTIMISER_STORE_URL", f"sqlite:///{tmp_path / 'scenarios.db'}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    run(at)
    return at


def run(target, settle: bool = True) -> AppTest:
    """Rerun the app (after a widget was set on `target`, or the AppTest itself).

    A solve the page stopped waiting for (it ran past 3 x its estimate on a loaded machine)
    goes on in the background; with `settle`, wait for it and rerun, as the progress bar's
    own rerun does in a browser, so that the tests see the plan whatever the machine's load.
    """
    at = target.run()
    assert not at.exception, [e.value for e in at.exception]
    while settle and "jobs" in at.session_state and "solve" in at.session_state["jobs"]:
        assert at.session_state["jobs"]["solve"].job.wait(TIMEOUT), "the solve did not end"
        at = at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def finish(at: AppTest, kind: str) -> AppTest:
    """Wait for the session's background job of this kind to end, then rerun the page (as the
    progress bar's own rerun does in a browser)."""
    entry = at.session_state["jobs"].get(kind) if "jobs" in at.session_state else None
    if entry is not None:
        assert entry.job.wait(TIMEOUT), f"the {kind} job did not finish"
    return run(at)


def tile(at: AppTest, starts: str) -> str:
    values = [m.value for m in at.metric if m.label.startswith(starts)]
    assert values, f"no tile starting {starts!r}: {[m.label for m in at.metric]}"
    return values[0]


def note(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Solve "))


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def texts(at: AppTest, kind: str) -> str:
    return "\n".join(e.value for e in getattr(at, kind))


def shown(at: AppTest, kind: str) -> str:
    """The text of these elements as a browser shows it: markdown escapes (names people typed
    or uploaded are escaped, optimiser/ui/safe.py) and word joiners removed."""
    return re.sub(r"\\(.)", r"\1", texts(at, kind)).replace("\u2060", "")


def show(at: AppTest, tab: str) -> AppTest:
    at.session_state["view"] = tab
    return run(at)


def open_section(at: AppTest, name: str) -> AppTest:
    at.session_state[f"section_{name}"] = True
    return run(at)


def delta(at: AppTest, starts: str) -> str:
    """The change from the last solve shown on a tile ("" when none)."""
    return next(m.proto.delta for m in at.metric if m.label.startswith(starts))


def changed(at: AppTest, action) -> tuple[str, str]:
    """The weighted-outcome tile before and after `action(at)` (which must rerun).

    When the change is smaller than the tile's rounding (£0.1m), the tile still shows it as
    the change from the last solve; that text is returned in place of the value.
    """
    before = tile(at, "Weighted outcome")
    number = at.session_state["solves"]
    action(at)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["solves"] == number + 1, "no new solve"
    after = tile(at, "Weighted outcome")
    return before, after if after != before else delta(at, "Weighted outcome")


# ---- start -------------------------------------------------------------------------------------


def test_the_app_opens_on_the_optimal_dln_allocation(app):
    assert "optimal" in note(app) and "cold" in note(app)
    assert tile(app, "Weighted outcome").startswith("£")
    for name in ("Spend", "Q1:Q5", "QALYs", "Emergency admissions", "WTE used"):
        assert tile(app, name)
    assert "55 PCNs in 3 ICB(s)" in captions(app)
    table = app.dataframe[0].value
    assert len(table) == 55 and {"pcn_name", "spend_per_head_gbp"} <= set(table.columns)
    assert not app.error


# ---- every control -----------------------------------------------------------------------------


def test_value_of_a_qaly_changes_the_result_warm(app):
    before, after = changed(app, lambda at: run(at.slider(key="qaly_gbp").set_value(30_000)))
    assert before != after
    assert "warm" in note(app) and "Solve 2" in note(app)
    assert app.session_state["changes"] == {"qaly_gbp": 30_000.0}


def test_activity_values_change_the_result(app):
    before, after = changed(
        app, lambda at: run(at.number_input(key="activity_nel_avoided").set_value(5_000.0)))
    assert before != after
    assert tile(app, "Emergency admissions") != ""
    value = app.session_state["changes"]["activity_gbp"]["nel_avoided"]
    assert value == 5_000.0


def test_equity_controls_change_the_result(app):
    ratio = tile(app, "Q1:Q5")
    run(app.slider(key="need_gradient").set_value(0.8))
    assert tile(app, "Q1:Q5") != ratio  # more money follows need
    for control, value in ((app.slider(key="universal_floor"), 15),
                           (app.slider(key="enhanced_uplift"), 40),
                           (app.slider(key="qw_1"), 1.5)):
        before, after = changed(app, lambda at, c=control, v=value: run(c.set_value(v)))
        assert before != after and "optimal" in note(app), control.key
    changes = app.session_state["changes"]
    assert changes["need_gradient"] == 0.8 and changes["universal_floor"] == 0.15
    assert changes["enhanced_uplift"] == 0.4 and changes["quintile_weight"][0] == 1.5


def test_priority_weights_change_the_result(app):
    open_section(app, "priorities")
    before, after = changed(app, lambda at: run(at.slider(key="pw_frailty").set_value(3.0)))
    assert before != after


def test_budget_per_year_changes_spend(app):
    open_section(app, "budget")
    spend = tile(app, "Spend")
    run(app.number_input(key="budget_4").set_value(100.0))
    assert tile(app, "Spend") != spend
    assert app.session_state["changes"]["gbp_per_head"] is None
    assert app.session_state["changes"]["budget_gbp"][4] == pytest.approx(100e6)


def test_a_ring_fence_moves_money(app):
    open_section(app, "budget")
    # 24%: since CC3's core offer (data/INTERVENTIONS.md section 8) a 25% fence on frailty no
    # longer fits the 2026/27 budget (£136k short)
    before, after = changed(
        app, lambda at: run(at.number_input(key="fence_min_frailty").set_value(24)))
    assert before != after and "optimal" in note(app)
    fence = app.session_state["changes"]["ring_fences"]
    assert fence == (RingFence(priority="frailty", min_share=0.24),)
    assert "rebuilt" in note(app)  # a new rule row changes the model's shape


def test_workforce_available_changes_the_result(app):
    open_section(app, "workforce")
    census = [m.value for m in app.markdown if m.value.startswith("census **")]
    assert len(census) == 6  # the census baseline beside each limited staff group
    wte = app.number_input(key="wte_allied_health")
    before, after = changed(app, lambda at: run(wte.set_value(round(wte.value * 2, 1))))
    assert before != after
    available = app.session_state["changes"]["available_wte"]["allied_health"]
    assert set(available) == {"QJ2", "QJM", "QT1"}


def test_icb_selection_rebuilds_for_the_chosen_area(app):
    run(app.multiselect(key="icbs").set_value(["QJ2"]))
    assert "in 1 ICB(s)" in captions(app)
    assert "rebuilt" in note(app)
    assert len(app.dataframe[0].value) < 55


def test_year_in_view_changes_the_tiles_and_table(app):
    spend = tile(app, "Spend")
    run(app.selectbox(key="year_view").set_value("2026/27"))
    assert tile(app, "Spend") != spend
    assert any(m.label == "Spend (2026/27)" for m in app.metric)
    assert "Solve 1" in note(app)  # the view changed, not the plan: no new solve


def test_lock_and_release_a_commitment(app):
    open_section(app, "locks")
    pcn = app.selectbox(key="lock_pcn").options[0]
    run(app.selectbox(key="lock_prio").set_value("frailty"))
    suggested = app.number_input(key="lock_spend_k").value
    assert suggested > 0  # filled in with what the plan spends there now
    run(app.number_input(key="lock_spend_k").set_value(round(suggested * 1.5, 1)))
    before, after = changed(app, lambda at: run(at.button(key="lock_add").click()))
    assert before != after
    locks = app.session_state["changes"]["locks"]
    assert len(locks) == 1 and locks[0].priority == "frailty"
    assert f"({pcn})" not in texts(app, "markdown")  # the list shows the PCN's name
    assert "a year" in texts(app, "markdown") and app.button(key="release_0")
    run(app.button(key="release_0").click())
    assert "locks" not in app.session_state["changes"]
    assert tile(app, "Weighted outcome") == before


def objective(at: AppTest) -> float:
    return at.session_state["result"].allocation.objective


def test_switching_a_rule_off_rebuilds(app):
    open_section(app, "rules")
    before = objective(app)
    run(app.toggle(key="rule_need_gradient").set_value(False))
    assert "rebuilt" in note(app)
    assert objective(app) >= before - 1e-6 * before  # a rule fewer never does worse
    assert app.session_state["changes"]["constraints"]["need_gradient"] is False


def test_the_strategy_ambitions_follow_the_rule_on_enhanced_support(app):
    """The line under the tiles says how far the plan goes towards each seed ambition; letting
    enhanced support go anywhere (a bounds change) re-solves warm and gains weighted outcome."""
    line = captions(app)
    assert "Against the strategy's ambitions:" in line
    assert "emergency admissions \u221235% by 2030/31 (seed 001 L639):" in line
    assert "population case-managed 5% by 2030/31 (seed 001 L639):" in line
    open_section(app, "rules")
    before = objective(app)
    run(app.toggle(key="rule_enhanced_where_flagged").set_value(False))
    assert "warm" in note(app)
    assert objective(app) > before


@pytest.mark.slow
def test_the_commissionable_plan_toggle(app):
    """The sidebar switch lets the plan as contracts (a mixed-integer plan) and says its gap;
    off again, the LP's plan is back."""
    first = tile(app, "Weighted outcome")
    run(app.toggle(key="commissionable").set_value(True))
    assert "The plan is proven within" in captions(app)
    assert "Contracts running:" in captions(app)
    assert app.session_state["changes"]["commissioning"].on
    run(app.toggle(key="commissionable").set_value(False))
    assert "The plan is proven within" not in captions(app)
    assert tile(app, "Weighted outcome") == first


def test_back_to_the_base_model(app):
    first = tile(app, "Weighted outcome")
    run(app.slider(key="qaly_gbp").set_value(50_000))
    assert tile(app, "Weighted outcome") != first
    run(app.button(key="reset").click())
    assert tile(app, "Weighted outcome") == first
    assert app.slider(key="qaly_gbp").value == 20_000
    assert app.session_state["changes"] == {}


# ---- infeasible and invalid settings -------------------------------------------------------


def test_a_budget_too_small_bends_the_rules_in_order_and_names_what_falls_short(app):
    open_section(app, "budget")
    run(app.number_input(key="budget_0").set_value(5.0))
    assert "optimal" in note(app)  # a plan, not "no plan"
    warning = texts(app, "warning")
    assert "The rules cannot all be met" in warning
    assert "The universal core offer reaches" in warning and "short in 2026/27" in warning
    assert tile(app, "Weighted outcome").startswith("£")  # the plan is on screen
    run(app.button(key="reset").click())
    assert "The rules cannot all be met" not in texts(app, "warning")


def test_with_every_rule_hard_infeasible_settings_are_explained_and_relaxed(app):
    app.session_state["changes"] = {"rules_bend": False}
    open_section(app, "budget")
    run(app.number_input(key="budget_0").set_value(5.0))
    assert "infeasible" in note(app)
    message = texts(app, "error")
    assert "cannot all be met" in message and "budget" in message
    assert "Showing the last plan that worked." in captions(app)
    relax = app.button(key="relax")
    assert "smallest amount" in relax.label
    run(relax.click())
    assert "optimal" in note(app), texts(app, "error")
    assert "Relaxed" in texts(app, "success")
    assert app.number_input(key="budget_0").value > 5.0


def test_invalid_settings_list_the_problem_and_keep_the_last_plan(app):
    app.session_state["changes"] = {"rules_bend": False}  # a floor that cannot bend
    run(app.slider(key="universal_floor").set_value(60))
    assert "cannot be used" in texts(app, "error")
    assert "universal floor" in texts(app, "error")
    assert tile(app, "Weighted outcome").startswith("£")  # the last plan stays on screen


# ---- presenter mode ----------------------------------------------------------------------------


def tile_rows(at: AppTest) -> list[int]:
    """How many headline tiles stand in each row of tiles (rows inside containers too)."""
    rows = []

    def walk(node) -> None:
        for block in getattr(node, "children", {}).values():
            columns = [c for c in getattr(block, "children", {}).values() if c.type == "column"]
            tiles = sum(1 for c in columns if c.get("metric"))
            if tiles:
                rows.append(tiles)
            elif block.type != "column":
                walk(block)

    walk(at.main)
    return rows


def test_presenter_mode_opens_from_the_page_address(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMISER_STORE_URL", f"sqlite:///{tmp_path / 'scenarios.db'}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["present"] = "1"
    run(at)
    assert at.toggle(key="present").value
    assert tile_rows(at) == [6]  # one row of six
    assert [m.label for m in at.metric] == ["Weighted outcome", "Spend", "Q1:Q5 per head",
                                            "QALYs gained", "Admissions avoided",
                                            "WTE used 2030/31"]
    assert not at.title  # the scenario's line instead of the big title
    assert "Base model: the model file's own settings" in shown(at, "markdown")
    css = "\n".join(h.proto.body for h in at.get("html"))
    assert "html { font-size: 18px; }" in css  # large type
    run(at.slider(key="need_gradient").set_value(0.7))
    assert "Unsaved settings: Need-gradient dial 0.50 → 0.70" in shown(at, "markdown")
    run(at.toggle(key="present").set_value(False))
    assert "present" not in at.query_params  # the page address follows the toggle
    assert tile_rows(at) == [3, 3]
    assert tile(at, "Weighted outcome (five years, discounted)")
    assert "html { font-size: 18px; }" not in "\n".join(h.proto.body for h in at.get("html"))


def test_presenter_toggle_writes_the_page_address(app):
    assert tile_rows(app) == [3, 3] and not app.toggle(key="present").value
    run(app.toggle(key="present").set_value(True))
    assert app.query_params.get("present") == "1"
    assert tile_rows(app) == [6]


# ---- every view --------------------------------------------------------------------------------


def test_every_view_renders(app):
    for tab in ("Equity at a glance", "PCN x priority", "Map"):
        show(app, tab)
        assert app.get("plotly_chart"), tab
    show(app, "Shadow prices")
    assert "One more £1m" in texts(app, "markdown")
    assert app.dataframe[-1].value["rule"].str.contains("Universal core offer").any()
    show(app, "Data and downloads")
    labels = [b.label for b in app.get("download_button")]
    assert any("Excel" in x for x in labels) and any("CSV" in x for x in labels)
    assert any("template" in x for x in labels)


def shown_ids(at: AppTest) -> list[str]:
    """Codes and column names a reader would see on the page: in a table's headings or cells,
    a tile, a caption or markdown ("" when none)."""
    inputs = at.session_state["result"].allocation.inputs
    ids = ({"pcn_code", "icb_code", "None", "nan", "budget_limit", "spend_gbp"}
           | set(inputs.priority_ids) | set(inputs.interventions.index)
           | set(inputs.staff_groups.index) | set(inputs.pcns.index)
           | set(inputs.pcns["icb_code"]))
    found = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for column in frame.value.columns:
            label = config.get(f"name:{column}", config.get(str(column), {})).get("label")
            label = label or str(column)
            if label in ids or re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", label):
                found.append(f"column {label}")
            if frame.value[column].dtype == object:
                found += [f"{label}: {v}" for v in set(frame.value[column].astype(str))
                          if v in ids]
    words = [m.label for m in at.metric] + [c.value for c in at.caption]
    words += [m.value for m in at.markdown]
    codes = {i for i in ids if "_" in i or any(ch.isdigit() for ch in i) or i in ("None", "nan")}
    for text in words:  # in words only what cannot be English ("frailty" is both)
        found += [f"text: {w}" for w in re.findall(r"[\w.]+", text) if w in codes]
    return found


def test_no_code_or_column_name_reaches_the_page(app):
    """Names, not ids, on every view (issue 15's formatting pass)."""
    for tab in ("Allocation by PCN", "Equity at a glance", "PCN x priority", "Map",
                "Shadow prices", "Data and downloads"):
        show(app, tab)
        assert shown_ids(app) == [], tab
    show(app, "Frontier")
    run(app.button(key="frontier_go").click())
    finish(app, "frontier")
    assert app.get("plotly_chart") and shown_ids(app) == []
    run(app.slider(key="qaly_gbp").set_value(30_000))
    show(app, "Scenarios")
    run(app.text_input(key="save_name").set_value("Dearer QALY"))
    run(app.button(key="save").click())
    run(app.selectbox(key="compare_a").set_value("Current settings"))
    run(app.selectbox(key="compare_b").set_value("Dearer QALY"))
    run(app.button(key="reset").click())
    run(app.button(key="compare_go").click())
    finish(app, "compare")
    assert shown_ids(app) == []
    assert "comparison" in app.session_state, [e.value for e in app.error]
    headline = next(d.value for d in app.dataframe if "measure" in d.value.columns)
    assert headline.loc[0, "difference"].startswith("+£")  # signed, in its own format
    assert headline.loc[5, "first"].count(".") == 1  # WTE to one decimal place


def test_every_chart_has_a_text_alternative(app):
    for tab in ("Equity at a glance", "PCN x priority", "Map"):
        show(app, tab)
        charts = len(app.get("plotly_chart"))
        numbers = [e for e in app.expander if e.label == "The numbers behind this chart"]
        assert charts and len(numbers) == charts, tab


def test_the_finance_workbook_downloads(app):
    from optimiser.report import summary_workbook

    workbook = summary_workbook(app.session_state["result"].allocation, scenario="Base model",
                                changed=[])
    assert workbook[:2] == b"PK" and len(workbook) > 10_000  # an .xlsx (zip) file


def test_the_board_pack_and_workbook_are_named_after_the_saved_scenario(app):
    show(app, "Data and downloads")
    labels = [b.label for b in app.get("download_button")]
    assert "Board pack (PowerPoint)" in labels and "Board pack (PDF)" in labels
    assert "Slides for **Base model**" in captions(app)
    run(app.slider(key="need_gradient").set_value(0.7))
    assert "Slides for **Unsaved settings**" in captions(app)
    assert "Save the settings in the Scenarios tab to give the pack a name." in captions(app)
    show(app, "Scenarios")
    run(app.text_input(key="save_name").set_value("Board option B"))
    run(app.button(key="save").click())
    show(app, "Data and downloads")
    assert "Slides for **Board option B**" in captions(app)
    run(app.slider(key="need_gradient").set_value(0.5))  # back to the model's own settings
    assert "Slides for **Base model**" in captions(app)


def test_uncertainty_runs_on_request(app):
    show(app, "How sure?")
    assert "psa" not in app.session_state  # nothing is solved until asked
    run(app.number_input(key="psa_draws").set_value(5))
    run(app.checkbox(key="psa_kinds").uncheck())
    run(app.button(key="psa_go").click())
    assert app.button(key="cancel_uncertainty")  # 5 draws: more than 3 s, in the background
    assert any("Solving 5 draws: about" in p.proto.text for p in app.get("progress"))
    finish(app, "uncertainty")
    markdown = texts(app, "markdown")
    # five draws are too few for a percentile: the range, and how many draws one needs
    assert "90% lie between" not in markdown and "they range from" in markdown
    assert "Percentiles need more draws: 50 for the 10th and 90th, 100 for the 5th" in markdown
    assert "A robust choice" in markdown and "Best on average" in markdown
    assert "Best in the worst draw (the 10th percentile needs 50 draws; this is 5)" in markdown
    assert "funded above its floor" in markdown
    assert "How often each intervention is used" in markdown
    result = app.session_state["psa"][1]
    assert result.objective_summary["draws"] == 5
    columns = [set(d.value.columns) for d in app.dataframe]
    assert any("candidate" in c and "min_gbp" in c and "p10_gbp" not in c
               for c in columns)  # the robust choice, with the lowest in place of a percentile
    assert any("probability_used" in c for c in columns)  # the interventions
    assert not any("swing_gbp" in c for c in columns)  # one-at-a-time bars were switched off
    assert shown_ids(app) == []  # priorities and tiers in words
    # a settings change marks the stored analysis as out of date, without re-running it
    run(app.slider(key="qaly_gbp").set_value(25_000))
    show(app, "How sure?")
    assert any("settings changed" in w.value for w in app.warning)
    assert app.session_state["psa"][1] is result


def test_views_follow_the_year_in_view(app):
    show(app, "Equity at a glance")
    run(app.selectbox(key="year_view").set_value("2030/31"))
    assert app.get("plotly_chart")
    show(app, "PCN x priority")
    assert "2030/31" in captions(app)


def test_frontier_is_drawn_on_request_with_the_current_choice(app):
    show(app, "Frontier")
    assert "Draw the frontier" in texts(app, "info")
    run(app.slider(key="frontier_points").set_value(10))
    app = finish(run(app.button(key="frontier_go").click()), "frontier")  # a loaded machine
    table = app.session_state["frontier"][1]
    assert len(table) == 10 and (table["status"] == "optimal").sum() >= 5
    figure = app.get("plotly_chart")[0]
    assert "Current choice" in figure.proto.spec
    # the curve never rises as the dial turns towards need
    values = table.loc[table["status"] == "optimal", "objective_gbp"].to_numpy()
    assert np.all(np.diff(values) <= 1e-6 * values[0])


# ---- scenarios ---------------------------------------------------------------------------------


def test_save_load_and_compare_scenarios(app):
    run(app.slider(key="qaly_gbp").set_value(30_000))
    saved_value = tile(app, "Weighted outcome")
    show(app, "Scenarios")
    run(app.text_input(key="save_name").set_value("Higher QALY value"))
    run(app.button(key="save").click())
    assert "Saved scenario 'Higher QALY value'" in texts(app, "success")
    run(app.button(key="reset").click())
    assert tile(app, "Weighted outcome") != saved_value
    run(app.selectbox(key="load_name").set_value("Higher QALY value"))
    run(app.button(key="load").click())
    assert "Loaded scenario 'Higher QALY value'" in texts(app, "success")
    assert app.slider(key="qaly_gbp").value == 30_000
    assert tile(app, "Weighted outcome") == saved_value
    run(app.button(key="reset").click())
    run(app.selectbox(key="compare_a").set_value("Current settings"))
    run(app.selectbox(key="compare_b").set_value("Higher QALY value"))
    run(app.button(key="compare_go").click())
    tables = app.session_state["comparison"][2]
    assert set(tables) == {"headline", "pcn", "priority"}
    assert len(tables["pcn"]) == 55 and len(tables["priority"]) == 8  # data/priorities.csv
    assert tables["headline"].loc[0, "difference"] > 0  # a QALY worth more: more outcome
    assert "First:" in texts(app, "markdown")


def test_a_name_clash_asks_before_overwriting(app):
    show(app, "Scenarios")
    run(app.text_input(key="save_name").set_value("Option B"))
    run(app.button(key="save").click())
    run(app.slider(key="need_gradient").set_value(0.8))
    run(app.button(key="save").click())
    assert "already saved" in texts(app, "warning")
    run(app.button(key="cancel_overwrite").click())
    assert "already saved" not in texts(app, "warning")
    run(app.button(key="save").click())
    run(app.button(key="overwrite").click())
    assert "Overwrote scenario 'Option B'" in texts(app, "success")
    settings = ScenarioStore(app_store_url(app)).load("Option B")
    assert settings["changes"]["need_gradient"] == 0.8


def app_store_url(app: AppTest) -> str:
    import os

    return os.environ["OPTIMISER_STORE_URL"]


# ---- uploads -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_workbook(tmp_path_factory) -> bytes:
    """The shipped tables for the DLN ICBs, with a bad number, a bad quintile, a lost sheet."""
    data = ROOT / "data"
    tables = {name: pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in ("pcns", "interventions", "staff_groups", "higher_need", "priorities")}
    dln = tables["pcns"]["icb_code"].isin(["QJ2", "QJM", "QT1"])
    tables["pcns"] = tables["pcns"][dln].reset_index(drop=True)
    tables["higher_need"] = tables["higher_need"][
        tables["higher_need"]["pcn_code"].isin(tables["pcns"]["pcn_code"])]
    tables["pcns"].loc[0, "population"] = "lots"
    tables["pcns"].loc[1, "imd_quintile"] = "7"
    path = tmp_path_factory.mktemp("upload") / "bad.xlsx"
    write_workbook(tables, path)  # unit_costs left out
    return path.read_bytes()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_bad_workbook_lists_its_problems(app, bad_workbook):
    show(app, "Data and downloads")
    run(app.file_uploader(key="upload").set_value(("our_icb.xlsx", bad_workbook, XLSX)))
    message = shown(app, "error")
    assert "3 problems in our_icb.xlsx" in message
    assert "row 2, column 'population': the value is not a number" in message
    assert "imd_quintile" in message and "'unit_costs' is missing" in message
    assert "optimal" in note(app)  # nothing crashed, the plan is still there


def test_an_oversized_upload_states_the_limit(app):
    show(app, "Data and downloads")
    assert "Files larger than 10 MB are refused." in captions(app)
    big = b"0" * (11 * 1024 * 1024)
    run(app.file_uploader(key="upload").set_value(("big.xlsx", big, XLSX)))
    assert "the largest file the app accepts is 10 MB" in shown(app, "error")


def test_a_good_workbook_can_be_used(app):
    show(app, "Data and downloads")
    data = (ROOT / "data" / "template.xlsx").read_bytes()
    run(app.file_uploader(key="upload").set_value(("template.xlsx", data, XLSX)))
    assert "1,297 PCNs in 42 ICB(s)" in shown(app, "success")
    run(app.button(key="use_upload").click())
    assert "Now using template.xlsx" in shown(app, "success")
    assert "your workbook template\\.xlsx" in captions(app)  # escaped: a file name
    assert "optimal" in note(app)


def test_check_workbook_without_streamlit(bad_workbook):
    policy = load_model(MODEL).policy
    checked = check_workbook(bad_workbook, "ours.xlsx", policy)
    assert not checked.ok and len(checked.problems) == 3
    assert check_workbook(b"not a zip", "ours.xlsx", policy).problems[0].startswith(
        "ours.xlsx: the file is not a real Excel workbook")
    assert "not an Excel workbook" in check_workbook(b"x", "ours.csv", policy).problems[0]
    assert too_big(10 * 1024 * 1024, 10) == ""
    assert "12.0 MB" in too_big(12 * 1024 * 1024, 10)


# ---- the PCN table agrees with the engine ------------------------------------------------------


def test_pcn_table_matches_allocation_by_pcn():
    from optimiser.ui.tables import pcn_frame

    _, allocation = allocate(load_model(MODEL))
    ours = pcn_frame(allocation, None).set_index("pcn_code")
    engine = allocation.by_pcn.set_index("pcn_code").reindex(ours.index)
    for column in ("spend_gbp", "qaly", "nel_avoided", "spend_per_head_gbp",
                   "spend_per_eligible_gbp", "higher_need_count"):
        np.testing.assert_allclose(ours[column].to_numpy(float), engine[column].to_numpy(float),
                                   rtol=1e-9, err_msg=column)
    year = allocation.inputs.years[2]
    ours = pcn_frame(allocation, year).set_index("pcn_code")
    engine = allocation.by_pcn_year
    engine = engine[engine["year"] == year].set_index("pcn_code").reindex(ours.index)
    np.testing.assert_allclose(ours["spend_gbp"], engine["spend_gbp"], rtol=1e-9)


# ---- the scenario store ------------------------------------------------------------------------


def test_changes_round_trip_through_json():
    changes = {"qaly_gbp": 25_000.0, "budget_gbp": (1e6, 2e6), "gbp_per_head": None,
               "quintile_weight": (1.5, 1.2, 1.0, 1.0, 1.0),
               "locks": (Lock("U05048", "frailty", 50_000.0, ("2026/27",)),),
               "ring_fences": (RingFence(priority="end_of_life", min_share=0.1),),
               "available_wte": {"allied_health": {"QJ2": [1.0, 2.0]}},
               "constraints": {"need_gradient": False}}
    back, ignored = changes_from_json(changes_to_json(changes))
    assert back == changes and ignored == []
    back, ignored = changes_from_json({"qaly_gbp": 1.0, "future_setting": 3})
    assert back == {"qaly_gbp": 1.0} and ignored == ["future_setting"]


def test_store_saves_loads_and_refuses_a_clash(tmp_path):
    store = ScenarioStore(f"sqlite:///{tmp_path / 's.db'}")
    assert store.save("A", {"icbs": ["QJ2"], "changes": {}}) == "saved"
    with pytest.raises(NameTaken):
        store.save("A", {"icbs": ["QT1"], "changes": {}})
    assert store.load("A")["icbs"] == ["QJ2"]  # the clash overwrote nothing
    assert store.save("A", {"icbs": ["QT1"], "changes": {}}, overwrite=True) == "overwritten"
    assert store.load("A")["icbs"] == ["QT1"] and store.names() == ["A"]
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_url_comes_from_the_environment_then_secrets(tmp_path):
    url = store_module.store_url(tmp_path, {"scenario_store_url": "sqlite:///x.db"},
                                 {"OPTIMISER_STORE_URL": "postgresql://u:secret@h/db"})
    assert url == "postgresql://u:secret@h/db"
    assert "secret" not in store_module.describe_url(url)
    assert store_module.store_url(tmp_path, {"scenario_store_url": "sqlite:///x.db"},
                                  {}) == "sqlite:///x.db"
    assert store_module.store_url(tmp_path, None, {}).endswith("scenarios.db")


# Concurrent saves from threads and processes, on SQLite and on PostgreSQL: tests/test_serving.py
