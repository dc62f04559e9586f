"""The board pack, the workbook's scenario line and the words the app's figures are written in.

The deck is opened with python-pptx and the PDF with pypdf, and their text is read back: each
slide titled with the scenario and its changed settings, the headline figures, the equity chart
with its text alternative, the top and bottom ten PCNs, the frontier (or that it was not drawn),
the shadow prices and, when the rules bent, the shortfalls in words. No Streamlit is imported.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimiser import api, board, boardpack, formats
from optimiser.changes import scenario_line, settings_changed
from optimiser.inputs import load_model
from optimiser.policy import Lock, RingFence
from optimiser.report import summary_workbook

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"
SUBJECTS = ["The scenario", "Headline figures", "Equity at a glance", "PCNs: the 10 highest",
            "What each step of the equity dial costs", "Shadow prices"]


@pytest.fixture(scope="module")
def base():
    return load_model(MODEL)


@pytest.fixture(scope="module")
def option_b(base):
    """The dial turned up to 0.70: a plan that meets every rule."""
    inputs = base.with_policy(need_gradient=0.7)
    return inputs, api.allocate(inputs)[1]


@pytest.fixture(scope="module")
def short_of_money(base):
    """Half the budget: the rules bend, and the plan names its shortfalls."""
    inputs = base.with_policy(budget_gbp=tuple(b / 2 for b in base.budget_gbp),
                              gbp_per_head=None)
    return inputs, api.allocate(inputs)[1]


def frontier_table() -> pd.DataFrame:
    """A frontier as the app keeps it: the ratio falls at the top of the dial."""
    return pd.DataFrame({"need_gradient": [0.0, 0.5, 0.9, 1.0],
                         "status": ["optimal"] * 4,
                         "objective_gbp": [262.0e6, 261.9e6, 261.5e6, 253.4e6],
                         "q1_q5_ratio": [1.16, 1.16, 1.17, 1.11],
                         "rules_met": [True, True, True, False]})


def deck_text(data: bytes) -> list[list[str]]:
    """Every slide's text: its text boxes, then its tables' cells."""
    from pptx import Presentation

    slides = []
    for slide in Presentation(io.BytesIO(data)).slides:
        texts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
        slides.append(texts)
    return slides


def pdf_text(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# ---- words for numbers ----------------------------------------------------------------------


def test_money_has_separators_and_a_true_minus_sign():
    assert formats.gbp(-50_920) == "−£50,920"
    assert formats.gbp(1_204.4, signed=True) == "+£1,204"
    assert formats.gbp(-0.2) == "£0"  # never "−£0"
    assert formats.gbp(34.781, 2) == "£34.78"
    assert formats.money(-4_200_000) == "−£4.2m" and formats.money(350_000) == "£350k"
    assert formats.money(1_200_000, signed=True) == "+£1.2m"
    assert formats.percent(0.2) == "20%" and formats.percent(-0.035, 1) == "−3.5%"
    assert formats.wte(576.44) == "576.4" and formats.count(68_757.4) == "68,757"
    assert formats.ratio(-0.04, signed=True) == "−0.04"
    assert formats.short_icb("NHS Lincolnshire Integrated Care Board") == "Lincolnshire"


def test_changed_settings_are_said_number_by_number(base):
    assert settings_changed(base, base) == []
    p = base.policy
    changed = base.with_policy(
        need_gradient=0.7, qaly_gbp=25_000, universal_floor=0.3,
        budget_gbp=(base.budget_gbp[0] * 0.9, *base.budget_gbp[1:]), gbp_per_head=None,
        priority_weight={**p.priority_weight, "frailty": 2.0},
        constraints={**p.constraints, "need_gradient": False},
        ring_fences=(*p.ring_fences, RingFence(priority="cyp_obesity", min_share=0.05)),
        locks=(Lock(base.pcns.index[0], "frailty", 100_000.0),))
    lines = settings_changed(base, changed)
    words = "\n".join(lines)
    assert "Need-gradient dial 0.50 → 0.70" in words
    assert "Value of a QALY £20,000 → £25,000" in words
    assert "Universal floor 20% → 30%" in words
    assert "2026/27 budget £45.3m → £40.7m" in words
    assert "Priority weight, Frailty: 1 → 2" in words
    assert "Rule switched off: the need gradient" in words
    assert "Ring fence added: CYP obesity at least 5% of each year's budget" in words
    assert f"Lock added: {base.pcns['pcn_name'].iloc[0]}, Frailty: £100k a year" in words
    for id_ in ("need_gradient", "cyp_obesity", "frailty,", "None", base.pcns.index[0]):
        assert id_ not in words
    line = scenario_line("Option B", lines, limit=2)
    assert line.startswith("Option B: ") and line.endswith(f"and {len(lines) - 2} more changes")
    assert scenario_line("Base model", []) == "Base model: the model file's own settings"


# ---- the headline and why the ratio moves ---------------------------------------------------


def test_tiles_are_labelled_in_full_and_short(option_b):
    _, allocation = option_b
    years = allocation.inputs.years
    values = board.figures(allocation)
    tiles = board.tiles(values, years)
    assert [t.short for t in tiles] == ["Weighted outcome", "Spend", "Q1:Q5 per head",
                                        "QALYs gained", "Admissions avoided", "WTE used 2030/31"]
    assert tiles[1].label == "Spend (five years)" and tiles[1].text.startswith("£")
    assert tiles[5].text == f"{values['wte']:,.1f}"  # WTE to one decimal place
    assert board.signed(tiles[1], -50_920.0) == "−£51k"
    assert board.signed(tiles[2], 0.0001) is None  # rounds to nothing: no change shown


def test_the_reason_is_said_where_the_ratio_moves_against_the_dial(option_b):
    inputs, _ = option_b
    words = board.against_the_dial(frontier_table(), inputs)
    fair = board.fair_share_ratio(inputs)
    assert "falls from 1.17 to 1.11 as the dial rises from 0.90 to 1.00" in words
    assert f"{fair:.2f} times the least deprived's" in words
    assert 1.0 < fair < 1.16  # the need measure gives Q1 less extra per head than the plan
    rising = frontier_table().assign(q1_q5_ratio=[1.10, 1.12, 1.14, 1.16])
    assert board.against_the_dial(rising, inputs) == ""


def test_a_ratio_below_one_is_explained_from_the_data(base):
    even = base.with_policy(quintile_weight=(1.0,) * 5)
    reasons = board.below_one_reasons(even, 0.95)
    assert any("no more than one in Q5 (1 against 1)" in r for r in reasons)
    assert board.below_one_reasons(even, 1.02) == []
    sentence = board.below_one_sentence(even, 0.95)
    assert sentence.startswith("The Q1:Q5 ratio is 0.95, below 1")


# ---- the pack ------------------------------------------------------------------------------


def test_the_deck_has_every_slide_titled_with_the_scenario_and_its_settings(base, option_b):
    inputs, allocation = option_b
    changes = tuple(settings_changed(base, inputs))
    pack = boardpack.Pack(allocation, "Board option B", changes)
    slides = deck_text(boardpack.deck(pack))
    assert len(slides) == len(SUBJECTS)  # every rule met: no shortfall slide
    for texts, subject in zip(slides, SUBJECTS, strict=True):
        assert texts[0].startswith(f"Board option B: {subject}")
        assert texts[1] == "Board option B: Need-gradient dial 0.50 → 0.70"
    opening = "\n".join(slides[0])
    assert "Settings changed from the base model:" in opening
    assert "Every rule of the model is met." in opening
    tiles = "\n".join(slides[1])
    values = board.figures(allocation)
    assert formats.money(values["spend"]) in tiles and "Q1:Q5 spend per head" in tiles
    cells = slides[3]
    top = allocation.by_pcn.sort_values("spend_per_head_gbp", ascending=False)
    assert top["pcn_name"].iloc[0] in cells and top["pcn_name"].iloc[-1] in cells
    assert sum(name in cells for name in top["pcn_name"]) == 20  # ten and ten
    assert formats.gbp(top["spend_per_head_gbp"].iloc[0], 2) in cells
    assert "The frontier was not computed for these settings" in "\n".join(slides[4])
    assert "One more £1m in 2026/27 buys" in "\n".join(slides[5])
    for texts in slides:
        for text in texts:
            for id_ in ("pcn_code", "cyp_obesity", "budget_limit", "None", "nan"):
                assert id_ not in text, (id_, text)


def test_charts_in_the_deck_carry_their_text_alternative(option_b):
    from pptx import Presentation

    _, allocation = option_b
    pack = boardpack.Pack(allocation, "Board option B", (), frontier_table())
    deck = Presentation(io.BytesIO(boardpack.deck(pack)))
    pictures = [shape for slide in deck.slides for shape in slide.shapes
                if shape.shape_type == 13]
    assert len(pictures) == 2  # the equity chart and the frontier
    alt = [p._element.nvPicPr.cNvPr.get("descr") for p in pictures]
    assert alt[0].startswith("Spend per head a year by IMD quintile (Q1 most deprived): Q1 £")
    assert alt[1].startswith("Frontier: dial 0.00: £262.0m, Q1:Q5 1.16")
    frontier = "\n".join(deck_text(boardpack.deck(pack))[4])
    assert "falls by £8.6m (3.28% of £262.0m)" in frontier
    assert "not £0" in frontier and "At dial 1.00 the rules bend" in frontier
    assert "The Q1:Q5 ratio falls from 1.17 to 1.11" in frontier


def test_the_pdf_says_the_same_on_one_page_per_slide(short_of_money):
    _, allocation = short_of_money
    assert not allocation.rules_met
    pack = boardpack.Pack(allocation, "Half the budget",
                          ("Budget: 2026/27 £45.3m → £22.6m",), None,
                          "The frontier drawn in the app was for other settings.")
    pages = pdf_text(boardpack.pdf(pack))
    assert len(pages) == len(SUBJECTS) + 1  # and where the plan falls short
    for page, subject in zip(pages, [*SUBJECTS, "Where the plan falls short"], strict=True):
        flat = " ".join(page.split())
        assert f"Half the budget: {subject}" in flat, flat[:120]
        assert "Half the budget: Budget: 2026/27 £45.3m → £22.6m" in flat
    equity = " ".join(pages[2].split())
    ratio = board.figures(allocation)["ratio"]
    assert ratio < 1 and f"The Q1:Q5 ratio is {ratio:.2f}, below 1" in equity
    last = " ".join(pages[-1].split())
    assert allocation.shortfall_words[0][:60] in last
    assert "The frontier drawn in the app was for other settings." in " ".join(pages[4].split())
    assert "Text alternative: Spend per head a year by IMD quintile" in " ".join(
        pages[2].split())


def test_the_pack_is_built_without_streamlit():
    code = ("import sys, optimiser.boardpack, optimiser.board, optimiser.changes; "
            "print('streamlit' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


# ---- the workbook ----------------------------------------------------------------------------


def test_the_workbook_is_named_after_the_scenario_and_says_what_changed(base, option_b):
    inputs, allocation = option_b
    data = summary_workbook(allocation, scenario="Board option B",
                            changed=settings_changed(base, inputs))
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Summary"]
    assert sheet["A2"].value == "Scenario: Board option B"
    assert sheet["A4"].value == ("Settings changed from the model file: Need-gradient dial "
                                 "0.50 → 0.70.")
    words = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "Board option B" in words  # "This run": the scenario
    binding = next(w for w in words if w.startswith("budget "))
    assert "budget_limit" not in binding and "universal core offer" in binding
    plain = summary_workbook(allocation)
    assert openpyxl.load_workbook(io.BytesIO(plain))["Summary"]["A2"].value == "Scenario: base"


def test_nothing_on_the_pack_is_a_number_nobody_can_trace(option_b):
    """The tiles' figures are the allocation's own totals."""
    _, allocation = option_b
    values = board.figures(allocation)
    assert np.isclose(values["spend"], allocation.totals["spend_gbp"])
    assert np.isclose(values["qaly"], allocation.totals["qaly"])
    assert np.isclose(values["wte"], allocation.totals["wte_used_final_year"])


def test_a_long_name_in_a_pdf_table_fits_its_cell():
    """matplotlib's table cells do not wrap: a long name is put on two lines or made smaller,
    never cut at the cell's edge ("BULWELL AND TOP VALLEY PC")."""
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.table import Table
    from matplotlib.textpath import TextPath

    ax = Figure().add_subplot()

    def width_pt(text: str, size: float) -> float:
        return max(TextPath((0, 0), line, prop=FontProperties(size=size)).get_extents().width
                   for line in text.split("\n"))

    inches = (12.3 / 2 - 0.15) * boardpack.COLUMN_SHARES[1]  # the ICB column
    cell = Table(ax).add_cell(0, 0, 1, 1, text="Nottingham and Nottinghamshire")
    boardpack._fit_cell(cell, inches, bold=False)
    text, size = cell.get_text().get_text(), cell.get_fontsize()
    assert text == "Nottingham and\nNottinghamshire"
    assert width_pt(text, size) <= 0.86 * inches * 72
    short = Table(ax).add_cell(0, 0, 1, 1, text="Lincolnshire")
    boardpack._fit_cell(short, inches, bold=False)
    assert short.get_text().get_text() == "Lincolnshire"
    assert short.get_fontsize() == boardpack.TABLE_SIZE
    tiny = boardpack._fitting_size("X" * 200, 1.0)
    assert tiny == 5.5  # never below the smallest size a reader can read
