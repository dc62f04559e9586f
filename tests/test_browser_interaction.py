"""Never puzzling, in a real browser at a projector's 1280x720 (Playwright driving Debian's
Chromium, as tests/test_browser.py): undo and redo bring back settings and their plan, the
settings live in the page address so a refresh restores them, and a plan that is not the
current settings' plan is greyed under a banner naming its settings. Screenshots go into
test-output/.
"""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests import browser_support as b

pytestmark = pytest.mark.browser
OUTPUT = b.ROOT / "test-output"
PROJECTOR = {"width": 1280, "height": 720}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    reason = b.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run on CI: {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("interaction")
    store = f"sqlite:///{folder / 'scenarios.db'}"
    with b.served_app(store, OUTPUT / "streamlit_interaction.log") as url, \
            b.chromium() as browser:
        OUTPUT.mkdir(exist_ok=True)
        yield url, browser


def wait_for_tile(page, name: str, value: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        """([name, value]) => { const t = document.querySelector(
            `.st-key-tile_${name} [data-testid=stMetricValue]`);
            return t && t.innerText.trim() === value; }""", arg=[name, value],
        timeout=timeout_ms)


def wait_for_slider(page, key: str, value: str, timeout_s: float = 30.0) -> None:
    """Until the slider shows `value` (it follows its run's tiles by a moment)."""
    deadline = time.monotonic() + timeout_s
    while b.slider_value(page, key) != value:
        assert time.monotonic() < deadline, (key, b.slider_value(page, key), value)
        time.sleep(0.2)


def settings_in_address(page) -> str | None:
    values = parse_qs(urlparse(page.url).query).get("s")
    return values[0] if values else None


def set_number(page, key: str, value: str) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(value)
    field.press("Enter")


def test_undo_redo_address_restore_and_a_plan_not_current(served):
    url, browser = served
    page = browser.new_context(viewport=PROJECTOR).new_page()
    page.goto(url)
    b.wait_for_result(page, 1, 120_000)
    first = b.tile(page, "objective")
    assert settings_in_address(page) is None  # the base model: nothing in the address

    page.locator(".st-key-qaly_gbp").get_by_role("slider").focus()
    page.keyboard.press("End")  # £20,000 -> £100,000 in one change (each arrow is one)
    b.wait_for_result(page, 2)
    page.wait_for_function("() => new URLSearchParams(location.search).has('s')")
    second = b.tile(page, "objective")
    assert second != first
    assert b.slider_value(page, "qaly_gbp") == "100000"

    page.locator(".st-key-undo button").click()
    wait_for_tile(page, "objective", first)
    wait_for_slider(page, "qaly_gbp", "20000")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('s')")
    page.screenshot(path=str(OUTPUT / "interaction_undone.png"))
    page.locator(".st-key-redo button").click()
    wait_for_tile(page, "objective", second)
    wait_for_slider(page, "qaly_gbp", "100000")
    page.wait_for_function("() => new URLSearchParams(location.search).has('s')")

    page.reload()  # a refresh: a new session, the settings from the address
    b.wait_for_result(page, 1, 120_000)
    page.get_by_text("Opened with the settings in the page address").wait_for(timeout=60_000)
    wait_for_slider(page, "qaly_gbp", "100000")
    assert b.tile(page, "objective") == second
    page.screenshot(path=str(OUTPUT / "interaction_restored.png"))

    page.locator(".st-key-section_budget summary").click()  # Budget and ring-fences
    page.locator(".st-key-fence_min_cyp_obesity input").wait_for(timeout=30_000)
    set_number(page, "fence_min_cyp_obesity", "60")
    b.wait_for_result(page, 2)
    set_number(page, "fence_max_cyp_obesity", "40")  # upside down: refused before solving
    banner = page.locator(".st-key-stale_banner")
    banner.wait_for(timeout=60_000)
    text = banner.inner_text()
    assert "Not the plan for the current settings" in text
    assert "Value of a QALY £20,000 → £100,000" in text  # the settings the greyed plan is for
    assert "no plan can do both" in page.locator("[data-testid=stAlert]").first.inner_text()
    opacity = page.evaluate("""() => getComputedStyle(document.querySelector(
        '.st-key-stale_plan [data-testid=stMetric]')).opacity""")
    assert float(opacity) < 0.6  # greyed
    page.locator(".st-key-tile_wte").scroll_into_view_if_needed()  # the greyed tiles in view
    page.screenshot(path=str(OUTPUT / "interaction_stale.png"))

    page.locator(".st-key-undo button").click()  # back to a plan of its own: not greyed
    banner.wait_for(state="detached", timeout=60_000)
    assert page.locator(".st-key-current_plan").count() == 1
    page.context.close()
