"""Serving the app safely and without stalls, headless (Streamlit's AppTest) and below it.

Sign-in: with a passcode set up, only the sign-in page is drawn until someone signs in; a
wrong passcode is refused; a viewer cannot overwrite or delete another person's scenario (the
page offers no Overwrite, and the store refuses it too); served to a network with no sign-in
set up, the app draws nothing but a page saying so. Names people type are shown as text.
A stored scenario of an unexpected shape is refused in words. Long actions run in the
background with a progress bar and Cancel; a solve past its time limit says so and keeps the
last plan; HiGHS is interrupted by a cancel. The browser-level checks (OpenID Connect,
PostgreSQL behind two browsers, SIGTERM) are in tests/test_browser.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from optimiser.formulation import formulate
from optimiser.inputs import load_model
from optimiser.ordered import OrderedSolver
from optimiser.ui import auth, jobs, tasks
from optimiser.ui.passcode import BadHash, check_passcode, hash_passcode, problem
from optimiser.ui.safe import markup, md
from optimiser.ui.store import (
    BadScenario,
    NameTaken,
    NotYours,
    ScenarioStore,
    changes_from_json,
)
from tests.test_app import ROOT, TIMEOUT, captions, finish, run, show, shown, texts, tile

VIEWER_CODE, FACILITATOR_CODE = "viewers-2026", "facilitate-2026"
DLN = ["QJ2", "QJM", "QT1"]
EIGHT = [*DLN, "QE1", "QF7", "QGH", "QH8", "QHG"]  # about 4 s to solve: in the background


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {"viewer": hash_passcode(VIEWER_CODE), "facilitator": hash_passcode(FACILITATOR_CODE)}


def new_app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("OPTIMISER_STORE_URL", f"sqlite:///{tmp_path / 'scenarios.db'}")
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


@pytest.fixture
def gated(tmp_path, monkeypatch, hashes) -> AppTest:
    """The app with both passcodes set up, not yet signed in."""
    monkeypatch.setenv("OPTIMISER_VIEWER_PASSCODE_HASH", hashes["viewer"])
    monkeypatch.setenv("OPTIMISER_FACILITATOR_PASSCODE_HASH", hashes["facilitator"])
    return run(new_app(tmp_path, monkeypatch))


def sign_in(at: AppTest, name: str, passcode: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_passcode").input(passcode)
    return run(at.get("form_submit_button")[0].click())


# ---- passcodes --------------------------------------------------------------------------------


def test_a_passcode_is_stored_salted_and_checked():
    first, second = hash_passcode(VIEWER_CODE), hash_passcode(VIEWER_CODE)
    assert first != second and VIEWER_CODE not in first  # a new salt each time
    assert check_passcode(VIEWER_CODE, first) and check_passcode(VIEWER_CODE, second)
    assert not check_passcode("viewers-2027", first)
    with pytest.raises(BadHash, match="python -m optimiser passcode"):
        check_passcode(VIEWER_CODE, "sha1$abc")
    assert "at least 8" in problem("short") and problem(VIEWER_CODE) == ""


def test_the_passcode_command_prints_the_secrets_lines():
    done = subprocess.run([sys.executable, "-m", "optimiser", "passcode", "--role", "viewer"],
                          input=f"{VIEWER_CODE}\n", capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("viewer_passcode_hash"))
    assert "[workshop]" in done.stdout
    assert check_passcode(VIEWER_CODE, line.split('"')[1])
    weak = subprocess.run([sys.executable, "-m", "optimiser", "passcode"], input="short\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr


# ---- the gate ----------------------------------------------------------------------------------


def test_without_signing_in_only_the_sign_in_page_is_drawn(gated):
    assert not gated.metric and not gated.slider and not gated.get("tab")
    assert "Sign in to use the allocation app." in texts(gated, "info")
    assert gated.text_input(key="sign_in_passcode").proto.type == 1  # a password field
    sign_in(gated, "Bob", "not-the-passcode")
    assert "That passcode is not right" in texts(gated, "error")
    assert not gated.metric


def test_a_viewer_signs_in_and_explores(gated):
    sign_in(gated, "Bob", VIEWER_CODE)
    assert tile(gated, "Weighted outcome").startswith("£")
    assert "Signed in as **Bob** (viewer)." in captions(gated)
    assert gated.session_state["user"] == auth.User("Bob", "Bob", auth.VIEWER, "passcode")
    run(gated.slider(key="qaly_gbp").set_value(30_000))  # every control works for a viewer
    assert gated.session_state["changes"] == {"qaly_gbp": 30_000.0}
    run(gated.button(key="sign_out").click())
    assert not gated.metric and "Sign in" in texts(gated, "info")


def save_over_alices(at: AppTest, tmp_path, name: str, passcode: str) -> ScenarioStore:
    """Alice saved "Option B"; `name` signs in, moves the dial and saves under that name."""
    store = ScenarioStore(f"sqlite:///{tmp_path / 'scenarios.db'}")
    store.save("Option B", {"icbs": DLN, "changes": {}}, owner="Alice")
    sign_in(at, name, passcode)
    run(at.slider(key="need_gradient").set_value(0.8))
    show(at, "Scenarios")
    run(at.text_input(key="save_name").set_value("Option B"))
    run(at.button(key="save").click())
    return store


def test_a_viewer_cannot_overwrite_or_delete_another_persons_scenario(gated, tmp_path):
    store = save_over_alices(gated, tmp_path, "Bob", VIEWER_CODE)
    assert "saved by Alice: only its owner or a facilitator" in shown(gated, "warning")
    assert not [b for b in gated.button if b.key == "overwrite"]  # no Overwrite offered
    assert not [b for b in gated.button if b.key == "delete"]  # nor Delete
    assert store.load("Option B")["changes"] == {}
    with pytest.raises(NotYours):  # the store refuses it too, whatever the page offers
        store.save("Option B", {"icbs": DLN, "changes": {"qaly_gbp": 1.0}}, overwrite=True,
                   owner="Bob", any_owner=False)
    with pytest.raises(NotYours):
        store.delete("Option B", owner="Bob", any_owner=False)
    # their own scenario they may overwrite and delete
    run(gated.text_input(key="save_name").set_value("Bob's option"))
    run(gated.button(key="save").click())
    assert store.owner("Bob's option") == "Bob"
    run(gated.button(key="save").click())
    run(gated.button(key="overwrite").click())
    assert "Overwrote scenario 'Bob's option'" in shown(gated, "success")
    run(gated.selectbox(key="load_name").set_value("Bob's option"))
    run(gated.button(key="delete").click())
    run(gated.button(key="delete_yes").click())
    assert store.names() == ["Option B"]


def test_a_facilitator_may_overwrite_anyones_scenario(gated, tmp_path):
    store = save_over_alices(gated, tmp_path, "Carol", FACILITATOR_CODE)
    run(gated.button(key="overwrite").click())
    assert store.load("Option B")["changes"] == {"need_gradient": 0.8}
    assert store.owner("Option B") == "Alice"  # the first owner stays


def test_served_to_a_network_without_sign_in_draws_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "server_address", lambda: "0.0.0.0")
    at = run(new_app(tmp_path, monkeypatch))
    message = texts(at, "error")
    assert "served to the network" in message and "no sign-in is set up" in message
    assert "python -m optimiser passcode" in message
    assert not at.metric and not at.slider


def test_which_addresses_are_this_computer():
    assert auth.is_loopback("127.0.0.1") and auth.is_loopback("localhost")
    assert auth.is_loopback("::1") and auth.is_loopback("[::1]")
    assert not auth.is_loopback("") and not auth.is_loopback("0.0.0.0")
    assert not auth.is_loopback("10.2.3.4") and not auth.is_loopback("app.example.nhs.uk")


def test_identity_provider_users_get_their_role():
    settings = auth.read_settings({
        "auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
                 "cookie_secret": "x" * 32,
                 "microsoft": {"client_id": "app", "client_secret": "s",
                               "server_metadata_url": "https://login.example/.well-known"}},
        "workshop": {"facilitators": ["Lead@NHS.net"], "allowed_domains": ["nhs.net"]}}, {})
    assert settings.providers == ("microsoft",) and not settings.passcodes
    lead = auth.oidc_user({"email": "lead@nhs.net", "name": "Lead"}, settings)
    assert lead.role == auth.FACILITATOR and lead.key == "lead@nhs.net"
    role = auth.oidc_user({"email": "x@nhs.net", "roles": ["Facilitator"]}, settings)
    assert role.role == auth.FACILITATOR  # an Entra ID app role
    viewer = auth.oidc_user({"email": "y@nhs.net", "name": "Y"}, settings)
    assert viewer.role == auth.VIEWER and viewer.may_change("y@nhs.net")
    assert not viewer.may_change("lead@nhs.net") and not viewer.may_change(None)
    assert auth.oidc_user({"email": "z@gmail.com"}, settings) is None
    no_secret = {"auth": {"redirect_uri": "http://x/oauth2callback", "client_id": "a",
                          "server_metadata_url": "https://x"}}
    assert auth.read_settings(no_secret, {}).providers == ()  # no cookie_secret: not set up


# ---- names as text -----------------------------------------------------------------------------


HOSTILE = "Option [minutes](https://x.example) ![t](https://x.example/t.png) **B**"


def test_typed_names_are_shown_as_text_never_markdown(tmp_path, monkeypatch):
    at = run(new_app(tmp_path, monkeypatch))
    show(at, "Scenarios")
    run(at.text_input(key="save_name").set_value(HOSTILE))
    run(at.button(key="save").click())
    success = texts(at, "success")
    assert "](" not in success.replace("\\]\\(", "") and "\\[minutes\\]" in success
    run(at.selectbox(key="compare_a").set_value("Current settings"))
    run(at.selectbox(key="compare_b").set_value(" ".join(HOSTILE.split())))
    run(at.button(key="compare_go").click())
    finish(at, "compare")
    header = next(m.value for m in at.markdown if m.value.startswith("**First:**"))
    assert md(" ".join(HOSTILE.split())) in header
    assert "![t](https" not in header and "[minutes](https" not in header


def test_markdown_escaping_leaves_no_markup():
    assert md("a [b](c) ![d](e) **f** :red[g] $h$ <i>") == \
        r"a \[b\]\(c\) \!\[d\]\(e\) \*\*f\*\* \:red\[g\] \$h\$ \<i\>"
    assert md("two\nlines  here") == "two lines here"
    assert markup("St. John's (North) & Co-op PCN") == ""
    assert markup("see https://x") == "://" and markup("<a href=x>") == "<"


# ---- stored scenarios of an unexpected shape ---------------------------------------------------


@pytest.mark.parametrize("body, reason", [
    ("{not json", "not readable JSON"),
    ("[1, 2]", "not a set of named settings"),
    ('{"icbs": "QJ2", "changes": {}}', "ICBs are not a list"),
    ('{"icbs": ["QJ2"], "changes": [1]}', "changed settings are not"),
    ('{"icbs": ["QJ2"], "changes": {"locks": [{"pcn": "x", "colour": 1}]}}', "locks"),
    ('{"icbs": ["QJ2"], "changes": {"ring_fences": "all"}}', "ring_fences are not a list"),
    ('{"icbs": ["QJ2"], "changes": {"budget_gbp": 5}}', "budget_gbp is not a list"),
])
def test_a_stored_scenario_of_an_unexpected_shape_is_refused_in_words(tmp_path, body, reason):
    store = ScenarioStore(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO scenarios (name, settings, saved_at) "
                             "VALUES ('odd', :body, '2026-01-01T00:00:00+00:00')"),
                     {"body": body})
    with pytest.raises(BadScenario, match=reason) as caught:
        store.load("odd")
    assert "Save it again from the app" in str(caught.value)


def test_the_page_refuses_an_odd_scenario_without_a_traceback(tmp_path, monkeypatch):
    at = run(new_app(tmp_path, monkeypatch))
    store = ScenarioStore(f"sqlite:///{tmp_path / 'scenarios.db'}")
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO scenarios (name, settings, saved_at) VALUES "
                             "('odd', :body, '2026-01-01T00:00:00+00:00')"),
                     {"body": json.dumps({"icbs": DLN, "changes": {"qaly_gbp": "lots"}})})
    show(at, "Scenarios")
    run(at.selectbox(key="load_name").set_value("odd"))
    run(at.button(key="load").click())
    assert "so it was not loaded" in shown(at, "error")  # in words, whichever check caught it
    assert at.session_state["changes"] == {}  # nothing applied
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE scenarios SET settings = '{\"icbs\": 3}'"))
    run(at.button(key="load").click())
    assert "not in the form this app saves" in shown(at, "error")
    assert changes_from_json({"qaly_gbp": 1.0}) == ({"qaly_gbp": 1.0}, [])


def test_a_store_made_before_owners_gains_the_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE scenarios (id INTEGER PRIMARY KEY, name VARCHAR(200) "
                             "NOT NULL UNIQUE, settings TEXT NOT NULL, saved_at VARCHAR(32) "
                             "NOT NULL)"))
        conn.execute(sa.text("INSERT INTO scenarios (name, settings, saved_at) VALUES "
                             "('old', '{\"icbs\": [\"QJ2\"], \"changes\": {}}', 'x')"))
    store = ScenarioStore(url)
    assert store.owner("old") is None and store.load("old")["icbs"] == ["QJ2"]
    with pytest.raises(NotYours, match="before sign-in was set up"):
        store.save("old", {"icbs": [], "changes": {}}, overwrite=True, owner="Bob",
                   any_owner=False)
    with pytest.raises(NameTaken):
        store.save("old", {"icbs": [], "changes": {}}, owner="Bob", any_owner=False)


# ---- never stalled ----------------------------------------------------------------------------


def test_a_stale_widget_value_after_a_load_is_not_taken_as_an_edit(tmp_path, monkeypatch):
    """A run stopped before it drew the sidebar leaves the browser with the old widget values,
    sent back with the next rerun (the browser test once saw 0.50 for a loaded 0.70)."""
    at = run(new_app(tmp_path, monkeypatch))
    ScenarioStore(f"sqlite:///{tmp_path / 'scenarios.db'}").save(
        "B", {"icbs": DLN, "changes": {"need_gradient": 0.7}})
    show(at, "Scenarios")
    run(at.button(key="load").click())
    assert at.slider(key="need_gradient").value == 0.7
    at.session_state["sync"] = True  # as if that run had stopped before the sidebar
    run(at.slider(key="need_gradient").set_value(0.5))  # the browser's stale value comes back
    assert at.session_state["changes"] == {"need_gradient": 0.7}
    assert at.slider(key="need_gradient").value == 0.7
    run(at.slider(key="need_gradient").set_value(0.55))  # a real edit after that counts
    assert at.session_state["changes"] == {"need_gradient": 0.55}


def test_many_icbs_solve_in_the_background_and_cancel_goes_back(tmp_path, monkeypatch):
    at = run(new_app(tmp_path, monkeypatch))
    before = tile(at, "Weighted outcome")
    run(at.multiselect(key="icbs").set_value(EIGHT), settle=False)
    bars = [p.proto.text for p in at.get("progress")]
    assert bars and bars[0].startswith("Solving 8 ICBs (196 PCNs): about 4 s")
    assert tile(at, "Weighted outcome") == before  # the last plan stays on screen
    assert "Showing the last plan" in captions(at)
    assert "Solving in the background" in captions(at)
    assert at.slider(key="qaly_gbp")  # and every control
    job = at.session_state["jobs"]["solve"].job
    run(at.button(key="cancel_solve").click(), settle=False)
    assert job.cancelled.is_set()
    assert at.session_state["icbs"] == DLN
    assert "Cancelled: the settings are back" in shown(at, "info")
    assert tile(at, "Weighted outcome") == before and "optimal" in captions(at)


def test_a_solve_past_its_time_limit_says_so_and_keeps_the_last_plan(tmp_path, monkeypatch):
    at = run(new_app(tmp_path, monkeypatch))
    before = tile(at, "Weighted outcome")
    monkeypatch.setenv("OPTIMISER_TIME_LIMIT", "0.001")
    run(at.slider(key="need_gradient").set_value(0.8))
    message = texts(at, "error")
    assert "took longer than its limit (0 s)" in message and "last plan is kept" in message
    assert tile(at, "Weighted outcome") == before
    assert "Showing the last plan that worked." in captions(at)
    monkeypatch.setenv("OPTIMISER_TIME_LIMIT", "20")
    run(at.slider(key="need_gradient").set_value(0.75))
    assert "optimal" in captions(at) and tile(at, "Weighted outcome") != before


def test_an_explanation_too_long_to_start_unasked_waits_for_a_click(tmp_path, monkeypatch):
    """With every rule hard (the rules do not bend), 24 ICBs have no plan, and explaining why
    would take minutes: offered, not started."""
    at = new_app(tmp_path, monkeypatch)
    at.session_state["changes"] = {"rules_bend": False}
    at = run(at)
    codes = sorted(set(pd.read_csv(ROOT / "data" / "pcns.csv", usecols=["icb_code"])
                       ["icb_code"]))
    twenty_four = DLN + [c for c in codes if c not in DLN][:21]
    run(at.multiselect(key="icbs").set_value(twenty_four))
    finish(at, "solve")
    assert "No plan meets every rule" in texts(at, "error")
    inputs = load_model(ROOT / "models" / "dln_base.toml", icbs=twenty_four)
    assert f"takes {jobs.say(jobs.explain_seconds(jobs.columns(inputs)))}" in captions(at)
    assert at.button(key="explain_go")  # offered, not started
    assert "explain" not in at.session_state["jobs"]


def test_the_uncertainty_analysis_can_be_cancelled(tmp_path, monkeypatch):
    at = run(new_app(tmp_path, monkeypatch))
    show(at, "How sure?")
    run(at.number_input(key="psa_draws").set_value(200))
    run(at.button(key="psa_go").click())
    job = at.session_state["jobs"]["uncertainty"].job
    run(at.button(key="cancel_uncertainty").click())
    assert job.wait(60) and job.cancelled.is_set()  # it stops after the draw it was solving
    run(at)
    assert "psa" not in at.session_state and not at.get("progress")


def test_a_cancel_interrupts_a_long_highs_run(monkeypatch):
    # a run past tasks.LET_FINISH_SECONDS is interrupted at once (younger runs finish: below)
    monkeypatch.setattr(tasks, "LET_FINISH_SECONDS", 0.0)
    inputs = load_model(ROOT / "models" / "dln_base.toml", icbs=EIGHT[:6])  # ~2.4 s cold
    engine = tasks.Engine()
    job = jobs.Job("solve", "test", 3.0, lambda j: tasks.solve(j, engine, inputs, 600)).start()
    time.sleep(0.5)
    cancelled_at = time.monotonic()
    job.cancel()
    assert job.wait(30)
    assert time.monotonic() - cancelled_at < 1.5, "HiGHS was not interrupted"
    assert job.cancelled.is_set() and job.result is None
    assert engine.solver is None  # an interrupted Solver is never re-used


def test_a_cancel_lets_a_short_run_finish_and_keeps_the_solver_warm(monkeypatch):
    """A burst of slider presses cancels each solve for the next: a warm run of a fraction of a
    second is left to finish, so the next press starts warm (interrupted, it would start cold)."""
    base = load_model(ROOT / "models" / "dln_base.toml")
    engine = tasks.Engine()
    first = jobs.Job("solve", "test", 1.0, lambda j: tasks.solve(j, engine, base, 600)).start()
    assert first.wait(60) and first.succeeded and first.result.how == "cold"
    solve = OrderedSolver.solve
    running: list[jobs.Job] = []

    def cancelled_while_solving(self):
        running[0].cancel()  # a newer press arrives while HiGHS runs
        return solve(self)

    monkeypatch.setattr(OrderedSolver, "solve", cancelled_while_solving)
    moved = base.with_policy(universal_floor=0.21)
    running.append(jobs.Job("solve", "test", 1.0,
                            lambda j: tasks.solve(j, engine, moved, 600)))
    assert running[0].start().wait(60) and running[0].cancelled.is_set()
    assert engine.solver is not None and engine.solver.inputs is moved  # finished, kept warm
    monkeypatch.setattr(OrderedSolver, "solve", solve)
    last = base.with_policy(universal_floor=0.22)
    after = jobs.Job("solve", "test", 1.0, lambda j: tasks.solve(j, engine, last, 600)).start()
    assert after.wait(60) and after.succeeded and after.result.how == "warm"


def test_estimates_follow_the_model_size():
    dln = load_model(ROOT / "models" / "dln_base.toml")
    assert jobs.columns(dln) == formulate(dln).num_col  # counted without building
    assert jobs.solve_seconds(jobs.columns(dln)) < 3 < jobs.solve_seconds(987_195)
    assert jobs.say(jobs.solve_seconds(987_195)) == "about 45 s"  # all 42 ICBs
    assert jobs.solve_seconds(44_400, warm=True) < jobs.solve_seconds(44_400)
    assert jobs.solve_seconds(987_195, warm=True) == jobs.solve_seconds(987_195)
    assert jobs.say(1) == "about a second" and jobs.say(400) == "about 7 min"


def test_a_job_reports_failure_without_raising(caplog):
    def broken(job):
        raise RuntimeError("boom")

    job = jobs.Job("x", "Broken", 1.0, broken).start()
    assert job.wait(5) and isinstance(job.error, RuntimeError) and not job.succeeded
    stop = threading.Event()
    waiting = jobs.Job("y", "Waits", 1.0, lambda j: stop.wait(10) and j.check()).start()
    jobs.STOPPING.set()
    try:
        stop.set()
        assert waiting.wait(5) and waiting.cancelled.is_set()  # a stopping server ends jobs
    finally:
        jobs.STOPPING.clear()


# ---- the scenario store on SQLite and on a real PostgreSQL server -------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 's.db'}"
    return request.getfixturevalue("postgres_url")


def test_the_store_keeps_owners_and_refuses_others(store_url):
    store = ScenarioStore(store_url)
    assert store.save("A", {"icbs": ["QJ2"], "changes": {}}, owner="alice@nhs.net") == "saved"
    with pytest.raises(NameTaken):
        store.save("A", {"icbs": ["QT1"], "changes": {}}, owner="bob@nhs.net", any_owner=False)
    with pytest.raises(NotYours, match="saved by alice@nhs.net"):
        store.save("A", {"icbs": ["QT1"], "changes": {}}, overwrite=True, owner="bob@nhs.net",
                   any_owner=False)
    with pytest.raises(NotYours):
        store.delete("A", owner="bob@nhs.net", any_owner=False)
    assert store.load("A")["icbs"] == ["QJ2"]  # nothing a refused viewer did reached it
    assert store.save("A", {"icbs": ["QT1"], "changes": {}}, overwrite=True,
                      owner="alice@nhs.net", any_owner=False) == "overwritten"
    assert store.save("A", {"icbs": ["QJM"], "changes": {}}, overwrite=True,
                      owner="lead@nhs.net") == "overwritten"  # a facilitator
    assert store.load("A")["icbs"] == ["QJM"] and store.owner("A") == "alice@nhs.net"
    assert store.entries()[0].owner == "alice@nhs.net"
    with pytest.raises(KeyError):
        store.delete("B", owner="bob@nhs.net", any_owner=False)
    store.delete("A", owner="alice@nhs.net", any_owner=False)
    assert store.names() == []
    store.dispose()


def _save_many(url: str, prefix: str, count: int, barrier=None) -> list[str]:
    store = ScenarioStore(url)
    if barrier is not None:
        barrier.wait()
    outcomes = []
    for i in range(count):
        try:
            outcomes.append(store.save(f"{prefix}{i}", {"icbs": ["QJ2"], "changes": {"n": i}}))
        except NameTaken:
            outcomes.append("taken")
    store.dispose()
    return outcomes


def test_two_sessions_saving_at_once_both_keep_theirs(store_url):
    ScenarioStore(store_url).dispose()  # the table, made once
    barrier = threading.Barrier(2, timeout=120)
    results: dict[str, list[str]] = {}
    threads = [threading.Thread(target=lambda p=p: results.__setitem__(
        p, _save_many(store_url, p, 25, barrier))) for p in ("alice-", "bob-")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["alice-"] == ["saved"] * 25 and results["bob-"] == ["saved"] * 25
    assert len(ScenarioStore(store_url).names()) == 50


def test_two_processes_saving_the_same_names_one_wins_each(store_url):
    import multiprocessing

    ScenarioStore(store_url).dispose()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        a, b = pool.starmap(_save_many, [(store_url, "same-", 20), (store_url, "same-", 20)])
    for i in range(20):
        assert sorted([a[i], b[i]]) == ["saved", "taken"]
    assert len(ScenarioStore(store_url).names()) == 20


def test_two_stores_opening_a_new_database_at_once(store_url):
    """Two sessions starting together both create the table (and add the owner column)."""
    barrier = threading.Barrier(2, timeout=60)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            ScenarioStore(store_url).dispose()
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_an_uploaded_workbook_with_markup_in_its_names_is_refused(tmp_path):
    from optimiser.io import write_workbook
    from optimiser.ui.upload import check_workbook

    data = ROOT / "data"
    tables = {name: pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in ("pcns", "interventions", "staff_groups", "higher_need", "priorities",
                           "unit_costs")}
    tables["pcns"].loc[0, "pcn_name"] = "[Click](https://x.example)"
    tables["priorities"].loc[1, "name"] = "<a href='https://x.example'>Frailty</a>"
    path = tmp_path / "ours.xlsx"
    write_workbook(tables, path)
    policy = load_model(ROOT / "models" / "dln_base.toml").policy
    checked = check_workbook(path.read_bytes(), "ours.xlsx", policy)
    assert not checked.ok
    text = "\n".join(checked.problems)
    assert "sheet 'pcns', row 2, column 'pcn_name'" in text and "holds '['" in text
    assert "sheet 'priorities', row 3, column 'name'" in text
    assert "Names may not contain square or angle brackets" in text


def test_a_solve_that_fails_is_reported_in_words_and_not_retried(tmp_path, monkeypatch):
    at = run(new_app(tmp_path, monkeypatch))
    before = tile(at, "Weighted outcome")
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("a fault deep inside")

    monkeypatch.setattr(tasks, "solve", broken)
    run(at.slider(key="need_gradient").set_value(0.8))
    message = shown(at, "error")
    assert "could not be finished (RuntimeError)" in message and "deep inside" not in message
    assert tile(at, "Weighted outcome") == before  # the last plan stays
    run(at)
    run(at)
    assert len(calls) == 1  # the same settings are not solved again and again
    monkeypatch.undo()
    run(at.slider(key="need_gradient").set_value(0.75))
    assert tile(at, "Weighted outcome") != before and "optimal" in captions(at)


def test_the_server_settings_serve_this_computer_only_and_show_no_tracebacks():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text().splitlines()


def test_a_cancel_that_stops_no_highs_run_keeps_the_solver_warm():
    """A slider moved several steps in a row cancels the solves it overtakes; one whose HiGHS
    run had already finished leaves the session's Solver warm for the next (it had been
    dropped, so the next move solved cold: 2.6 s instead of 0.2 s in the browser)."""
    inputs = load_model(ROOT / "models" / "dln_base.toml")
    engine = tasks.Engine()
    first = jobs.Job("solve", "first", 1.0,
                     lambda j: tasks.solve(j, engine, inputs, 600)).start()
    assert first.wait(300) and first.succeeded
    solver = engine.solver
    real, second = solver.solve, {}

    def solve_then_cancel():
        solution = real()
        second["job"].cancel()  # the next move arrives just after HiGHS finished
        return solution

    solver.solve = solve_then_cancel
    moved = inputs.with_policy(qaly_gbp=25_000.0)
    second["job"] = jobs.Job("solve", "second", 1.0,
                             lambda j: tasks.solve(j, engine, moved, 600)).start()
    assert second["job"].wait(300) and second["job"].cancelled.is_set()
    assert engine.solver is solver  # kept: the next solve is warm
