"""The facilitator's path through a board workshop, in a real browser at a projector's 1280x720.

Served as a workshop would be (docs/app.md, "Running a workshop"): sign-in by workshop
passcode (its salted hash in a secrets.toml) and the scenario store on a throwaway PostgreSQL
server (tests/postgres_support.py). The steps run in order on one signed-in browser session,
one test each, so a report names the step that broke:

open and sign in -> presenter mode (?present=1) -> move the universal floor into shortfall (the
rules bend: the shortfalls in words) -> load the prepared "every rule hard" scenario, which has
no plan, and Relax -> Undo the relaxation (skipped, saying so, only while the app has no Undo
button) -> save the scenario -> compare it with the base model -> download the board pack and
open the PowerPoint with python-pptx and the PDF with pypdf (and the finance workbook with
openpyxl). Each must carry the saved scenario's name: a download's contents are made in a
server thread outside the page's session (optimiser/ui/files.py), and before that was
allowed for they said "Unsaved settings".

A screenshot of every step goes to test-output/ (workshop_*.png).
"""

from __future__ import annotations

import io
import re
import time

import pytest

from optimiser.ui.passcode import hash_passcode
from optimiser.ui.store import ScenarioStore
from tests import browser_support as b
from tests.test_browser import OUTPUT, _require_browser

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1280, "height": 720}
PASSCODE = "board-room-2026"
FACILITATOR = "Lee Facilitator"
HARD = "Prepared: every rule hard, floor 25%"
SAVED = "Workshop option A"
BASE = "Base model, as planned"
# what a board member must never read: codes, column names, Python's words, unsigned minus
IDS = re.compile(r"\b(pcn_code|icb_code|cyp_obesity|cyp_mental_health|budget_limit|"
                 r"universal_core_offer|universal_floor|need_gradient|spend_gbp|None|nan|NaN)\b"
                 r"|£-")


@pytest.fixture(scope="module")
def workshop(tmp_path_factory, postgres_server):
    """The app served with a facilitator passcode and PostgreSQL behind it; one browser."""
    _require_browser()
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_server)  # a store of its own on the shared server
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS scenarios"))
    engine.dispose()
    store = ScenarioStore(postgres_server)
    # prepared before the day: the base model, to compare against, and the floor the room
    # will ask about with every rule hard (no plan, so Relax is offered)
    dln = ["QJ2", "QJM", "QT1"]
    store.save(BASE, {"icbs": dln, "changes": {}}, owner=FACILITATOR)
    store.save(HARD, {"icbs": dln, "changes": {"rules_bend": False, "universal_floor": 0.25}},
               owner=FACILITATOR)
    store.dispose()
    folder = tmp_path_factory.mktemp("workshop_path")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        f'[workshop]\nfacilitator_passcode_hash = "{hash_passcode(PASSCODE)}"\n')
    OUTPUT.mkdir(exist_ok=True)
    with b.served_app(postgres_server, OUTPUT / "streamlit_workshop_path.log",
                      secrets=secrets_file) as url, b.chromium() as browser:
        context = browser.new_context(viewport=PROJECTOR, accept_downloads=True)
        yield {"url": url, "page": context.new_page(), "store": postgres_server}
        context.close()


def shot(page, name: str, show=None) -> None:
    """A screenshot of what the room sees, scrolled to `show` (a locator) when given."""
    if show is not None:
        show.scroll_into_view_if_needed()
    time.sleep(0.5)  # the last element's drawing
    page.screenshot(path=str(OUTPUT / f"workshop_{name}.png"))


def settled(page, at_least: int, timeout_ms: int = 120_000) -> None:
    """Until solve `at_least` is on screen and nothing is solving."""
    b.wait_for_result(page, at_least, timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')",
                           timeout=timeout_ms)


def open_sidebar(page) -> None:
    """In presenter mode the settings are folded away: the arrow at the top left opens them."""
    expand = page.locator("[data-testid=stExpandSidebarButton]")
    if expand.count() and expand.is_visible():
        expand.click()
    page.locator("[data-testid=stSidebar] .st-key-universal_floor").wait_for(timeout=30_000)
    time.sleep(0.5)


def close_sidebar(page) -> None:
    collapse = page.locator("[data-testid=stSidebarCollapseButton] button")
    if collapse.count():
        page.locator("[data-testid=stSidebar]").hover()
        collapse.click()
        time.sleep(0.5)


def choose(page, box: str, name: str) -> None:
    """Pick `name` in the select box labelled `box` (again if a rerun redrew the list)."""
    field = page.get_by_role("combobox", name=box)
    for _ in range(5):
        field.click()
        field.press("ControlOrMeta+a")
        page.keyboard.type(name)
        try:
            page.get_by_role("option", name=name, exact=True).click(timeout=5_000)
        except Exception:  # noqa: BLE001 - the list was redrawn under the click: again
            page.keyboard.press("Escape")
        if field.input_value() == name:
            return
        time.sleep(1)
    raise AssertionError(f"could not choose {name!r} in {box!r}: {field.input_value()!r}")


def main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def test_1_open_and_sign_in_with_the_workshop_passcode(workshop):
    page = workshop["page"]
    page.goto(workshop["url"] + "/?present=1")
    page.get_by_text("Sign in to use the allocation app.").wait_for(timeout=120_000)
    assert page.locator("[data-testid=stMetric]").count() == 0
    shot(page, "1_sign_in")
    page.get_by_label("Your name (as others will see it on saved scenarios)").fill(FACILITATOR)
    page.get_by_label("Workshop passcode").fill(PASSCODE)
    page.get_by_role("button", name="Sign in", exact=True).click()
    b.wait_for_result(page, 1, 180_000)


def test_2_presenter_mode(workshop):
    page = workshop["page"]
    assert "present=1" in page.url
    sidebar = page.locator("[data-testid=stSidebar]").bounding_box()
    assert sidebar is None or sidebar["x"] + sidebar["width"] <= 1  # folded away
    tiles = [page.locator(f".st-key-tile_{n}").bounding_box() for n in
             ("objective", "spend", "ratio", "qaly", "nel", "wte")]
    assert max(t["y"] for t in tiles) - min(t["y"] for t in tiles) < 2  # one row
    page.get_by_text("Base model: the model file's own settings").wait_for()
    assert not IDS.findall(main_text(page)), IDS.findall(main_text(page))
    shot(page, "2_presenting")


def test_3_move_the_universal_floor_into_shortfall(workshop):
    page = workshop["page"]
    open_sidebar(page)
    page.get_by_text(f"Signed in as {FACILITATOR} (facilitator).").wait_for()
    assert b.slider_value(page, "universal_floor") == "20"
    for _ in range(5):  # 20% -> 25%, a step at a time as a facilitator nudges it
        number = b.solve_number(page)
        b.nudge_slider(page, "universal_floor", 1)
        settled(page, number + 1)
    assert b.slider_value(page, "universal_floor") == "25"
    close_sidebar(page)
    warning = page.locator(".st-key-shortfalls")
    warning.wait_for(timeout=60_000)
    words = warning.inner_text()
    assert "The rules cannot all be met" in words
    assert "Universal" in words or "universal" in words
    assert re.search(r"£[\d,.]+(m|k)?", words), words  # short by an amount of money
    assert not IDS.findall(words), IDS.findall(words)
    assert b.tile(page, "objective").startswith("£")  # the bent plan stays on screen
    # the bent plan is there, and Relax offers the least change that meets every rule
    relax = page.locator(".st-key-shortfalls .st-key-relax button")
    assert relax.count() >= 1 and "meets every rule" in relax.first.inner_text()
    shot(page, "3_shortfall")


def test_4_a_plan_with_every_rule_hard_is_relaxed(workshop):
    page = workshop["page"]
    b.open_tab(page, "Scenarios")
    chosen = page.get_by_role("combobox", name="Saved scenarios")
    for _ in range(5):  # again if a rerun (a background job ending) redrew the list
        chosen.click()
        try:
            page.get_by_role("option", name=re.compile(re.escape(HARD))).click(timeout=5_000)
        except Exception:  # noqa: BLE001 - the list was redrawn under the click: again
            page.keyboard.press("Escape")
        if HARD in chosen.input_value():
            break
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text(f"Loaded scenario '{HARD}'").wait_for(timeout=60_000)
    relax = page.locator(".st-key-infeasible .st-key-relax button")
    relax.wait_for(timeout=120_000)  # no plan meets every rule: the smallest change offered
    infeasible = page.locator(".st-key-infeasible").inner_text()
    assert not IDS.findall(infeasible), IDS.findall(infeasible)
    shot(page, "4_no_plan", page.locator(".st-key-infeasible"))
    number = b.solve_number(page)
    relax.click()
    page.get_by_text(re.compile(r"Relaxed.*by the smallest amount that works")).wait_for(
        timeout=120_000)
    settled(page, number + 1)
    assert page.locator(".st-key-infeasible").count() == 0
    assert b.tile(page, "objective").startswith("£")
    shot(page, "4_relaxed", page.get_by_text(re.compile("Relaxed.*smallest amount")))


def test_5_undo_the_relaxation(workshop):
    page = workshop["page"]
    open_sidebar(page)
    undo = page.locator(".st-key-undo button")
    if undo.count() == 0:
        close_sidebar(page)
        pytest.skip("the app has no Undo button yet (.st-key-undo): the undo step runs once "
                    "undo and redo of settings are merged (issue 15)")
    undo.click()
    relax = page.locator(".st-key-infeasible .st-key-relax button")
    relax.wait_for(timeout=120_000)  # back to the settings before the relaxation: no plan
    close_sidebar(page)
    shot(page, "5_undone", page.locator(".st-key-infeasible"))
    redo = page.locator(".st-key-redo button")
    open_sidebar(page)
    if redo.count():
        redo.click()  # and forward again to the relaxed plan
    else:
        close_sidebar(page)
        relax.click()
    page.locator(".st-key-infeasible").wait_for(state="detached", timeout=120_000)
    settled(page, 1)
    close_sidebar(page)
    assert b.tile(page, "objective").startswith("£")


def test_6_save_the_scenario(workshop):
    page = workshop["page"]
    b.open_tab(page, "Scenarios")
    field = page.get_by_label("Scenario name")
    field.fill(SAVED)
    field.press("Enter")
    page.get_by_role("button", name="Save the current settings").click()
    page.get_by_text(f"Saved scenario '{SAVED}'").wait_for(timeout=60_000)
    store = ScenarioStore(workshop["store"])
    try:
        saved = store.load(SAVED)
        assert saved["owner"] == FACILITATOR
        assert saved["changes"]["rules_bend"] is False  # the relaxed, all-hard settings
    finally:
        store.dispose()
    heading = page.locator(".st-key-heading")  # presenter mode's heading names the scenario
    heading.get_by_text(re.compile(f"^{SAVED}: ")).wait_for(timeout=30_000)
    shot(page, "6_saved", heading)


def test_7_compare_with_the_base_model(workshop):
    page = workshop["page"]
    b.open_tab(page, "Scenarios")
    settled(page, 1)
    for box, name in (("First", BASE), ("Second", SAVED)):
        choose(page, box, name)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text(f"Second: {SAVED}").wait_for(timeout=120_000)
    page.locator(".st-key-chart_compare_priority .js-plotly-plot").wait_for(timeout=60_000)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=60_000)
    text = main_text(page)
    assert f"First: {BASE}" in text
    assert not IDS.findall(text), IDS.findall(text)
    shot(page, "7_compared", page.get_by_text(f"Second: {SAVED}"))


def test_8_download_and_open_the_board_pack(workshop):
    from pptx import Presentation
    from pypdf import PdfReader

    page = workshop["page"]
    b.open_tab(page, "Data and downloads")
    packs = {}
    for key, suffix in (("download_pptx", " board pack.pptx"),
                        ("download_pdf", " board pack.pdf"), ("download_xlsx", ".xlsx")):
        button = page.locator(f".st-key-{key} button").filter(visible=True).first
        button.wait_for(timeout=60_000)
        with page.expect_download(timeout=180_000) as info:
            button.click()
        download = info.value
        assert download.suggested_filename == f"{SAVED}{suffix}"
        path = OUTPUT / ("workshop" + suffix.replace(" ", "_"))
        download.save_as(path)
        packs[suffix] = path
    shot(page, "8_board_pack")

    deck = Presentation(str(packs[" board pack.pptx"]))
    slides = [" ".join(shape.text_frame.text for shape in slide.shapes
                       if shape.has_text_frame) for slide in deck.slides]
    assert len(slides) >= 4
    assert all(SAVED in text for text in slides), [text[:80] for text in slides]
    deck_text = " ".join(slides)
    assert not IDS.findall(deck_text), IDS.findall(deck_text)

    pdf = PdfReader(io.BytesIO(packs[" board pack.pdf"].read_bytes()))
    pages = [" ".join((p.extract_text() or "").split()) for p in pdf.pages]
    assert len(pages) >= 4
    assert all(SAVED in text for text in pages), [text[:80] for text in pages]
    pdf_text = " ".join(pages)
    assert not IDS.findall(pdf_text), IDS.findall(pdf_text)
    assert "£" in pdf_text

    # the finance workbook, for after the day: named after the scenario, on its front sheet
    from openpyxl import load_workbook

    front = load_workbook(packs[".xlsx"], read_only=True).worksheets[0]
    cells = " ".join(str(v) for row in front.iter_rows(values_only=True) for v in row
                     if v is not None)
    assert SAVED in cells, cells[:300]
