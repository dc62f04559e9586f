"""The app never puzzles: undo and redo, settings in the page address, relaxations said number
by number, a plan that is not current greyed with its settings named (AppTest, headless)."""

from __future__ import annotations

import base64
import zlib

import pytest
from streamlit.testing.v1 import AppTest

from optimiser.ui import address

from .test_app import ROOT, TIMEOUT, open_section, run, shown, texts, tile


def fresh(tmp_path, monkeypatch, settle: bool = True, **params) -> AppTest:
    """A new session opened on a page address with these parameters (`settle`: and its first
    plan waited for, should it have gone on in the background on a loaded machine)."""
    monkeypatch.setenv("OPTIMISER_STORE_URL", f"sqlite:///{tmp_path / 'scenarios.db'}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    return run(at, settle=settle)


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    return fresh(tmp_path, monkeypatch)


# ---- undo and redo -------------------------------------------------------------------------


def test_undo_and_redo_restore_settings_and_their_plan_without_solving(app):
    assert app.button(key="undo").disabled and app.button(key="redo").disabled
    first = tile(app, "Weighted outcome")
    run(app.slider(key="qaly_gbp").set_value(30_000))
    second = tile(app, "Weighted outcome")
    run(app.slider(key="qaly_gbp").set_value(40_000))
    third = tile(app, "Weighted outcome")
    assert len({first, second, third}) == 3
    run(app.button(key="undo").click())
    assert app.session_state["changes"] == {"qaly_gbp": 30_000.0}
    assert app.slider(key="qaly_gbp").value == 30_000  # the widget shows it too
    assert tile(app, "Weighted outcome") == second
    assert "reused" in texts(app, "caption")  # the plan kept, not solved again
    run(app.button(key="undo").click())
    assert app.session_state["changes"] == {} and tile(app, "Weighted outcome") == first
    assert app.button(key="undo").disabled
    run(app.button(key="redo").click())
    run(app.button(key="redo").click())
    assert app.slider(key="qaly_gbp").value == 40_000
    assert tile(app, "Weighted outcome") == third
    assert app.button(key="redo").disabled
    # a new change after an undo drops what redo would have gone back to
    run(app.button(key="undo").click())
    run(app.slider(key="need_gradient").set_value(0.6))
    assert app.button(key="redo").disabled and not app.button(key="undo").disabled


# ---- the page address ----------------------------------------------------------------------


def test_the_page_address_follows_the_settings_and_a_new_session_restores_them(
        app, tmp_path, monkeypatch):
    assert "s" not in app.query_params  # the base model: no parameter
    run(app.slider(key="need_gradient").set_value(0.7))
    open_section(app, "budget")
    run(app.number_input(key="budget_1").set_value(30.0))
    token = app.query_params["s"]
    token = token[0] if isinstance(token, list) else token
    assert len(token) < 400  # compact
    outcome = tile(app, "Weighted outcome")
    again = fresh(tmp_path, monkeypatch, settle=False, s=token)  # a refresh, a shared link
    assert "settings in the page address" in texts(again, "info")  # said once, on opening
    again = run(again)
    assert again.slider(key="need_gradient").value == 0.7
    assert again.session_state["changes"]["need_gradient"] == 0.7
    assert tile(again, "Weighted outcome") == outcome
    run(app.button(key="reset").click())
    assert "s" not in app.query_params


def test_presenter_mode_and_settings_share_the_address(tmp_path, monkeypatch):
    token = address.encode(["QJ2", "QJM", "QT1"], {"need_gradient": 0.7}, ["QJ2", "QJM", "QT1"])
    at = fresh(tmp_path, monkeypatch, present="1", s=token)
    assert at.toggle(key="present").value
    assert at.session_state["changes"] == {"need_gradient": 0.7}


@pytest.mark.parametrize("token, words", [
    ("not-base64-at-all!!", "cannot be read"),
    (base64.urlsafe_b64encode(zlib.compress(b'{"v":1,"c":{"need_gradient":7}}')).decode(),
     "cannot be used"),
    (base64.urlsafe_b64encode(zlib.compress(b'{"v":1,"i":["XXX"]}')).decode(), "XXX"),
    (base64.urlsafe_b64encode(zlib.compress(b'{"v":1,"c":{"warp_drive":1}}')).decode(),
     "warp_drive"),
    (base64.urlsafe_b64encode(zlib.compress(b'{"v":9}')).decode(), "another version"),
    (base64.urlsafe_b64encode(zlib.compress(b"0" * 1_000_000)).decode(), "more than"),
    ("A" * 9_000, "characters long"),
])
def test_a_hostile_or_stale_address_is_refused_in_words(tmp_path, monkeypatch, token, words):
    at = fresh(tmp_path, monkeypatch, settle=False, s=token)
    warning = texts(at, "warning")  # said once, on opening
    assert "could not be used" in warning and words in warning
    at = run(at)
    assert at.session_state["changes"] == {}  # the model file's settings
    assert tile(at, "Weighted outcome").startswith("£")
    assert "s" not in at.query_params


def test_address_round_trip_without_streamlit():
    from optimiser.policy import Lock, RingFence

    changes = {"need_gradient": 0.65, "budget_gbp": (1e6, 2e6), "gbp_per_head": None,
               "locks": (Lock("U1", "r1", 5000.0),),
               "ring_fences": (RingFence(priority="r1", min_share=0.1),)}
    token = address.encode(["B", "A"], changes, ["A"])
    assert address.decode(token) == (["A", "B"], changes)
    assert address.encode(["A"], {}, ["A"]) is None


# ---- relax, said number by number, undone in one click ------------------------------------


def test_relax_with_every_rule_hard_says_what_it_changed_and_undoes_in_one_click(app):
    app.session_state["changes"] = {"rules_bend": False}
    open_section(app, "budget")
    run(app.number_input(key="budget_0").set_value(1.0))
    assert "infeasible" in texts(app, "caption")
    run(app.button(key="relax").click())
    said = shown(app, "success")
    assert "Relaxed by the smallest amount that works" in said
    assert "2026/27 budget £1.0m → £" in said  # number by number (optimiser/changes.py)
    assert app.number_input(key="budget_0").value > 1.0
    run(app.button(key="undo_relax").click())
    assert app.number_input(key="budget_0").value == 1.0
    assert app.session_state["changes"]["budget_gbp"][0] == 1e6


def test_relax_is_offered_for_a_workforce_shortfall(app):
    open_section(app, "workforce")
    run(app.number_input(key="wte_care_coordinator").set_value(0.0))
    assert "The rules cannot all be met" in texts(app, "warning")
    run(app.button(key="relax").click())
    said = shown(app, "success")
    assert "Relaxed by the smallest amount that works" in said and "→" in said
    assert "The rules cannot all be met" not in texts(app, "warning")
    run(app.button(key="undo").click())
    assert app.number_input(key="wte_care_coordinator").value == 0.0
    assert "The rules cannot all be met" in texts(app, "warning")


# ---- a plan that is not current ------------------------------------------------------------


def test_a_plan_that_is_not_current_is_greyed_and_names_its_settings(app):
    run(app.slider(key="need_gradient").set_value(0.7))
    app.session_state["changes"] = {**app.session_state["changes"], "rules_bend": False}
    run(app.slider(key="universal_floor").set_value(60))  # no plan with every rule hard
    banner = shown(app, "warning")
    assert "Not the plan for the current settings" in banner
    assert "Need-gradient dial 0.50 → 0.70" in banner  # the settings the greyed plan is for
    assert "stale_plan" in block_keys(app) and "current_plan" not in block_keys(app)
    assert all(b.proto.delta == "" for b in app.metric)  # no change shown on a greyed tile
    css = "\n".join(h.proto.body for h in app.get("html"))
    assert ".st-key-stale_plan [data-testid=\"stMetric\"] { opacity: 0.45" in css
    run(app.button(key="undo").click())  # back to settings with a plan: current again
    assert "Not the plan for the current settings" not in texts(app, "warning")
    assert "current_plan" in block_keys(app) and "stale_plan" not in block_keys(app)


def block_keys(at: AppTest) -> set[str]:
    """The keys of the page's keyed containers."""
    out, todo = set(), [at.main]
    while todo:
        node = todo.pop()
        for child in getattr(node, "children", {}).values():
            todo.append(child)
            key = getattr(getattr(child, "proto", None), "id", "")
            if isinstance(key, str) and "-" in key:
                out.add(key.rsplit("-", 1)[-1])
    return out


def test_a_workforce_change_in_later_years_only_is_said():
    from optimiser import load_model
    from optimiser.changes import settings_changed

    base = load_model(ROOT / "models" / "dln_base.toml")
    wte = base.workforce_wte.loc["care_coordinator"]
    more = {"care_coordinator": {scope: [row[0], *(v + 1.0 for v in row[1:])]
                                 for scope, row in zip(wte.index, wte.to_numpy(), strict=True)}}
    was = wte["2027/28"].sum()
    lines = settings_changed(base, base.with_policy(available_wte=more))
    assert lines == [f"Care coordinators available in 2027/28: {was:,.1f} WTE → "
                     f"{was + len(wte):,.1f} WTE (and 3 later years)"]


# ---- what changed and why ------------------------------------------------------------------


def test_what_changed_and_why_against_the_previous_plan_and_the_base(app):
    app.session_state["why"] = True
    run(app)
    run(app.radio(key="why_against").set_value("Against the previous plan"))
    assert "No previous plan" in texts(app, "caption")
    run(app.slider(key="need_gradient").set_value(0.9))
    words = shown(app, "markdown")
    assert "Settings changed: Need-gradient dial 0.50 → 0.90" in words
    assert "Largest moves of money by PCN (a year on average)" in words
    run(app.slider(key="qaly_gbp").set_value(30_000))
    assert "cannot be compared" in shown(app, "warning")
    assert "the value of a QALY" in shown(app, "warning")
    run(app.radio(key="why_against").set_value("Against the base model"))
    words = shown(app, "markdown")  # the base plan was kept from the session's first solve
    assert ("Settings changed: Value of a QALY £20,000 → £30,000; Need-gradient dial 0.50 → "
            "0.90.") in words
    assert "cannot be compared" in shown(app, "warning")


def test_the_base_plan_is_solved_on_request_when_the_session_has_none(tmp_path, monkeypatch):
    token = address.encode(["QJ2", "QJM", "QT1"], {"need_gradient": 0.9}, ["QJ2", "QJM", "QT1"])
    at = fresh(tmp_path, monkeypatch, s=token)
    at.session_state["why"] = True
    run(at)
    assert "not solved in this session yet" in texts(at, "caption")
    at = run(at.button(key="why_base").click())
    entry = at.session_state["jobs"].get("compare") if "jobs" in at.session_state else None
    if entry is not None:
        assert entry.job.wait(TIMEOUT)
        at = run(at)
    assert "Settings changed: Need-gradient dial 0.50 → 0.90." in shown(at, "markdown")


def test_the_last_plan_is_greyed_while_a_new_one_is_solved_in_the_background(
        app, monkeypatch):
    from optimiser.ui import jobs

    monkeypatch.setattr(jobs, "solve_seconds", lambda cols, warm=False: 10.0)  # "long"
    at = app.slider(key="need_gradient").set_value(0.9).run()  # not settled: still solving
    assert not at.exception
    if "solve" in at.session_state["jobs"]:  # (a fast machine may have finished already)
        banner = shown(at, "warning")
        assert "Not the plan for the current settings" in banner
        assert "A plan for the current settings is being solved." in banner
        assert "the model file's own settings" in banner
        assert "stale_plan" in block_keys(at)
    at = run(at)
    assert "Not the plan for the current settings" not in shown(at, "warning")
    assert "current_plan" in block_keys(at)


def test_a_fall_on_a_tile_points_down(app):
    """A change written with a true minus sign (−£69.3m) is a fall: a down arrow, not green."""
    from streamlit.proto.Metric_pb2 import Metric

    run(app.slider(key="qaly_gbp").set_value(10_000))
    falls = [m for m in app.metric if m.proto.delta.startswith("−")]
    rises = [m for m in app.metric if m.proto.delta.startswith("+")]
    assert falls and rises
    assert all(m.proto.direction == Metric.MetricDirection.DOWN for m in falls)
    assert all(m.proto.color != Metric.MetricColor.GREEN for m in falls)
    assert all(m.proto.direction == Metric.MetricDirection.UP for m in rises)
