"""The app in a real browser: Playwright driving Debian's /usr/bin/chromium.

Starts `streamlit run app.py` on 127.0.0.1 (a free port, a temporary scenario store), opens
the page, waits for the optimal allocation, changes a weight and waits for the new result,
saves screenshots into test-output/ (copied to docs/screenshot.png for the README only when
UPDATE_SCREENSHOT=1 is set, so that `make test` leaves the working tree as it found it), saves
a scenario and loads it in a second browser context, and checks an oversized upload states
the limit. `make test` installs Chromium when it is missing; without it these tests fail on
CI (CI is set) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests import browser_support as b

pytestmark = pytest.mark.browser
OUTPUT = b.ROOT / "test-output"
SCREENSHOT = b.ROOT / "docs" / "screenshot.png"


def _require_browser() -> None:
    reason = b.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run on CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    _require_browser()
    folder = tmp_path_factory.mktemp("browser")
    store = f"sqlite:///{folder / 'scenarios.db'}"
    with b.served_app(store, OUTPUT / "streamlit.log") as url, b.chromium() as browser:
        yield url, browser


def test_a_changed_weight_shows_a_new_result(served):
    url, browser = served
    page = b.open_app(browser, url)
    assert "optimal" in page.locator(".st-key-solve_info").inner_text()
    first = b.tile(page, "objective")
    assert first.startswith("£")
    assert b.slider_value(page, "qaly_gbp") == "20000"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "app_start.png"))
    b.nudge_slider(page, "qaly_gbp", 5)  # £20,000 -> £25,000 a QALY
    b.wait_for_result(page, 2)
    assert b.slider_value(page, "qaly_gbp") == "25000"
    page.wait_for_function(
        "old => document.querySelector('.st-key-tile_objective [data-testid=stMetricValue]')"
        ".innerText !== old", arg=first, timeout=60_000)
    assert b.tile(page, "objective") != first
    assert "warm" in page.locator(".st-key-solve_info").inner_text()
    page.screenshot(path=str(OUTPUT / "app_after_change.png"))
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(OUTPUT / "app_after_change.png", SCREENSHOT)
    page.context.close()


def test_a_saved_scenario_loads_in_a_second_browser(served):
    url, browser = served
    page = b.open_app(browser, url)
    b.nudge_slider(page, "need_gradient", 4)  # the equity dial 0.50 -> 0.70
    b.wait_for_result(page, 2)
    b.open_tab(page, "Scenarios")
    name = page.get_by_label("Scenario name")
    name.fill("Board option B")
    name.press("Enter")
    page.get_by_role("button", name="Save the current settings").click()
    page.get_by_text("Saved scenario 'Board option B'").wait_for(timeout=60_000)
    saved = b.tile(page, "objective")
    page.screenshot(path=str(OUTPUT / "scenario_saved.png"))

    other = b.open_app(browser, url)  # a new context: a second person's browser session
    assert b.slider_value(other, "need_gradient") == "0.50"
    b.open_tab(other, "Scenarios")
    load = other.get_by_role("button", name="Load", exact=True)
    load.wait_for(timeout=60_000)
    assert other.get_by_role("combobox", name="Saved scenarios").input_value() == \
        "Board option B"  # the first person's scenario, seen by the second
    solves = b.solve_number(other)
    load.click()
    other.get_by_text("Loaded scenario 'Board option B'").wait_for(timeout=60_000)
    b.wait_for_result(other, solves + 1)
    assert b.slider_value(other, "need_gradient") == "0.70"
    assert b.tile(other, "objective") == saved
    other.screenshot(path=str(OUTPUT / "scenario_loaded.png"))
    page.context.close()
    other.context.close()


def test_an_oversized_upload_shows_the_limit(served):
    url, browser = served
    page = b.open_app(browser, url)
    b.open_tab(page, "Data and downloads")
    page.get_by_text("Files larger than 10 MB are refused.").wait_for(timeout=60_000)
    page.locator(".st-key-upload input[type=file]").set_input_files(files=[{
        "name": "too_big.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": b"0" * (11 * 1024 * 1024)}])
    refusal = page.get_by_text(re.compile(r"File must be .*or smaller"))
    refusal.first.wait_for(timeout=60_000)  # Streamlit refuses it, naming the limit
    assert re.search(r"10(\.0)?\s?MB", refusal.first.inner_text())
    page.screenshot(path=str(OUTPUT / "upload_too_big.png"))
    page.context.close()
