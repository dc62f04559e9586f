"""What a board sees, in a real browser at a projector's 1280x720 (Playwright driving Debian's
Chromium, as tests/test_browser.py): presenter mode (sidebar folded away, one row of tiles,
the open tab's chart above the fold, large type; from the page address too), each tab printed
on one landscape page without the sidebar, the (?) help icons out of the Tab order, and no code
or column name in the page's text. Screenshots go into test-output/.
"""

from __future__ import annotations

import io
import os
import re
import time

import pytest

from tests import browser_support as b

pytestmark = pytest.mark.browser
OUTPUT = b.ROOT / "test-output"
PROJECTOR = {"width": 1280, "height": 720}
TABS = ("Allocation by PCN", "Equity at a glance", "PCN x priority", "Map", "Frontier",
        "How sure?", "Shadow prices", "What would it take?", "Scenarios", "Data and downloads")
# ids a reader must never see (issue 15): codes, column names, Python's None and NaN
IDS = re.compile(r"\b(pcn_code|icb_code|cyp_obesity|cyp_mental_health|budget_limit|"
                 r"universal_core_offer|need_gradient|spend_gbp|None|nan|NaN)\b|£-")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    reason = b.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run on CI: {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("outputs")
    store = f"sqlite:///{folder / 'scenarios.db'}"
    with b.served_app(store, OUTPUT / "streamlit_outputs.log") as url, \
            b.chromium() as browser:
        OUTPUT.mkdir(exist_ok=True)
        yield url, browser


def projector(browser, url: str):
    """A new browser session at 1280x720 with the app loaded and solved."""
    page = browser.new_context(viewport=PROJECTOR).new_page()
    page.goto(url)
    b.wait_for_result(page, 1, 120_000)
    return page


def sidebar_width(page) -> float:
    """How much of the sidebar is on screen (0 when folded away)."""
    return page.evaluate("""() => { const s = document.querySelector('[data-testid=stSidebar]');
        if (!s) return 0; const r = s.getBoundingClientRect();
        return Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0)); }""")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def cut_short(page) -> list[str]:
    """Tile labels and values that do not fit their box (shown with an ellipsis)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '[class*=st-key-tile_] [data-testid=stMetricLabel] p, '
        + '[class*=st-key-tile_] [data-testid=stMetricValue] [data-testid=stMarkdownContainer]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")


def test_presenter_mode_fits_a_projector(served):
    url, browser = served
    page = projector(browser, url + "/?present=1")
    time.sleep(1)
    assert sidebar_width(page) == 0  # folded away
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "18px"
    tiles = [box(page, f".st-key-tile_{n}") for n in
             ("objective", "spend", "ratio", "qaly", "nel", "wte")]
    assert max(t["y"] for t in tiles) - min(t["y"] for t in tiles) < 2  # one row
    assert max(t["y"] + t["height"] for t in tiles) < 300
    assert cut_short(page) == []
    page.get_by_text("Base model: the model file's own settings").wait_for()
    page.screenshot(path=str(OUTPUT / "present_table.png"))
    for tab, chart in (("Equity at a glance", "chart_quintile"), ("Map", "chart_map")):
        b.open_tab(page, tab)
        page.locator(f".st-key-{chart} .js-plotly-plot").wait_for(timeout=60_000)
        time.sleep(1)
        drawn = box(page, f".st-key-{chart}")
        assert drawn["y"] + drawn["height"] <= PROJECTOR["height"], tab  # above the fold
        page.screenshot(path=str(OUTPUT / f"present_{chart}.png"))
    b.open_tab(page, "Frontier")
    page.get_by_role("button", name="Draw the frontier").click()
    page.locator(".st-key-chart_frontier .js-plotly-plot").wait_for(timeout=180_000)
    time.sleep(1)
    drawn = box(page, ".st-key-chart_frontier")
    assert drawn["y"] + drawn["height"] <= PROJECTOR["height"]
    page.get_by_text(re.compile(r"the whole range is £[\d.]+m, [\d.]+% of the best")).wait_for()
    page.screenshot(path=str(OUTPUT / "present_frontier.png"))
    page.get_by_text("Presenter mode").click()  # back: the sidebar returns
    page.wait_for_function("() => !location.search.includes('present=1')")
    page.wait_for_function("""() => { const s = document.querySelector('[data-testid=stSidebar]');
        const r = s && s.getBoundingClientRect(); return r && r.left >= 0 && r.width > 200; }""",
                           timeout=30_000)
    assert cut_short(page) == []  # the long labels wrap instead
    page.context.close()


def test_each_tab_prints_on_one_landscape_page_without_the_sidebar(served):
    from pypdf import PdfReader

    url, browser = served
    page = projector(browser, url)
    for tab in TABS:
        b.open_tab(page, tab)
        time.sleep(2)
        pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True,
                                            print_background=True)))
        size = pdf.pages[0].mediabox
        text = " ".join(pdf.pages[0].extract_text().split())
        assert len(pdf.pages) == 1, (tab, len(pdf.pages))
        assert float(size.width) > float(size.height)  # landscape
        assert "Value of a QALY" not in text and "Back to the base model" not in text  # sidebar
        assert "Where the money goes" in text and tab in text, tab
        if tab == "Equity at a glance":
            with open(OUTPUT / "print_equity.pdf", "wb") as out:
                out.write(page.pdf(prefer_css_page_size=True, print_background=True))
    page.context.close()


def test_help_icons_take_no_tab_stop(served):
    """From the top of the page to the equity dial: every stop a control, none a (?) icon
    (26 presses before, 8 of them help icons)."""
    url, browser = served
    page = projector(browser, url)
    helps = page.locator("[data-testid=stTooltipHoverTarget] button")
    assert helps.count() > 10
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("""() => { const a = document.activeElement;
            const k = a.closest('[class*=st-key-]');
            return (a.getAttribute('aria-label') || a.innerText || a.tagName).slice(0, 60) + ' @'
                + (k ? k.className.toString().match(/st-key-\\S+/)[0] : ''); }"""))
        if stops[-1].endswith("@st-key-need_gradient"):
            break
    assert stops[-1] == "Need gradient (the equity dial) @st-key-need_gradient", stops
    assert not [s for s in stops if s.startswith("Help for")], stops
    assert len(stops) <= 16, stops
    # the meanings are still a keyboard press away, in one panel
    page.get_by_text("What the terms mean").click()
    page.get_by_text(re.compile("Whole-time equivalent: one full-time post")).wait_for()
    page.context.close()


def test_no_code_or_column_name_in_the_page_text(served):
    url, browser = served
    page = projector(browser, url)
    for tab in TABS:
        b.open_tab(page, tab)
        time.sleep(2)
        text = page.locator("[data-testid=stMain]").inner_text()
        assert not IDS.findall(text), (tab, IDS.findall(text))
    page.context.close()
