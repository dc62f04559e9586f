"""The board pack: a PowerPoint deck and a PDF of one plan, in one click from the app.

Slides, in order: the scenario and every setting it changed from the base model; the headline
figures; the equity chart (spend per head by IMD quintile, higher-need against universal); the
PCNs with the highest and lowest spend per head (ten each); the efficiency-equity frontier (or
that it was not computed for these settings); the shadow prices in words; and, when the rules
bent, where the plan falls short. Every slide is titled with the scenario's name and says its
changed settings beneath. Each chart carries its text alternative (alt text in the deck, a
sentence beneath it on the page).

Both files are drawn from the same list of `Slide`s: the deck with python-pptx (native text
and tables, charts as pictures), the PDF with matplotlib's PdfPages (no office suite needed).
The charts are matplotlib figures, drawn once for both. No Streamlit: the command line could
write a pack too (`Pack` from an `Allocation` and the settings in words).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import board, formats
from .changes import scenario_line
from .results import Allocation
from .schemas import priority_short

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
ORANGE = "#E69F00"  # Okabe-Ito orange, as in the app
QUINTILE_COLOURS = {1: "#440154", 2: "#3B528B", 3: "#21918C", 4: "#5EC962", 5: "#FDE725"}
GREY = "#425563"
PAGE_INCHES = (13.333, 7.5)  # 16:9, the deck's and the PDF's page
TOP_AND_BOTTOM = 10
TABLE_SIZE, TWO_LINE_SIZE = 8.5, 7.0  # a PDF table's type, points (two lines fill a row)
COLUMN_SHARES = [0.33, 0.29, 0.1, 0.13, 0.15]  # of a PCN table's width: PCN, ICB, IMD, £, £/head


@dataclass(frozen=True)
class Pack:
    """What a board pack is drawn from."""

    allocation: Allocation
    scenario: str  # the scenario's name ("Base model" when nothing changed)
    changes: tuple[str, ...] = ()  # changes.settings_changed(...): a line each
    frontier: pd.DataFrame | None = None  # need_gradient, status, objective_gbp, q1_q5_ratio
    frontier_note: str = ""  # why there is no frontier, when there is none

    @property
    def subtitle(self) -> str:
        return scenario_line(self.scenario, list(self.changes), limit=3)


@dataclass
class Slide:
    """One slide (one PDF page): a title, words, and at most one table pair or chart."""

    subject: str
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # (caption, table)
    chart: Callable | None = None  # draws into a matplotlib Figure
    alt: str = ""  # the chart's text alternative
    tiles: list[board.Tile] = field(default_factory=list)


# ---- what the pack says -----------------------------------------------------------------------

def slides(pack: Pack) -> list[Slide]:
    a = pack.allocation
    inputs = a.inputs
    years = inputs.years
    values = board.figures(a)
    out = [_opening(pack)]
    out.append(Slide("Headline figures", [board.period(years, None),
                                           board.summary_sentence(values, years)],
                     tiles=board.tiles(values, years)))
    out.append(_equity(a, values["ratio"]))
    out.append(_pcn_tables(a))
    out.append(_frontier(pack))
    out.append(Slide("Shadow prices: what one more £ or WTE is worth",
                     board.shadow_price_words(a) + [
                         "A shadow price holds for small changes; for large ones, re-solve."]))
    if not a.rules_met:
        out.append(Slide("Where the plan falls short of the rules",
                         ["The rules cannot all be met: this is the best plan when they bend in "
                          "the model's stated order. Amounts are rounded up."]
                         + list(a.shortfall_words)))
    return out


def _opening(pack: Pack) -> Slide:
    a = pack.allocation
    inputs = a.inputs
    pcns = inputs.pcns
    icbs = ", ".join(formats.short_icb(n) for n in pcns.drop_duplicates("icb_code")["icb_name"])
    lines = [f"{inputs.policy.name}: {len(pcns)} PCNs in {icbs}, {inputs.years[0]} to "
             f"{inputs.years[-1]}. All money is £ at 2024/25 prices."]
    lines.append("Every rule of the model is met." if a.rules_met else
                 "The rules cannot all be met: the plan bends them in the model's stated order "
                 "(see the last slide).")
    if pack.changes:
        lines.append("Settings changed from the base model:")
        lines += [f"• {line}" for line in pack.changes]
    else:
        lines.append("The base model's settings, unchanged.")
    return Slide("The scenario", lines)


def _equity(a: Allocation, ratio: float) -> Slide:
    per_head = board.spend_per_head_by_quintile(a)
    hn = board.higher_need_vs_universal(a)
    quintiles = "; ".join(f"Q{q} {formats.gbp(v, 2)}" for q, v in per_head.items())
    priorities = "; ".join(
        f"{priority_short(r)} {formats.gbp(row.higher_need_per_eligible_gbp, 2)} against "
        f"{formats.gbp(row.other_per_eligible_gbp, 2)}" for r, row in hn.iterrows())
    alt = (f"Spend per head a year by IMD quintile (Q1 most deprived): {quintiles}; Q1:Q5 = "
           f"{formats.ratio(ratio)}. £ per eligible person a year, higher-need PCNs against the "
           f"others: {priorities}.")
    lines = [board.below_one_sentence(a.inputs, ratio)] if ratio < 1 else []

    def draw(fig) -> None:
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        labels = [f"Q{q}" + ("\nmost\ndeprived" if q == 1 else "\nleast\ndeprived" if q == 5
                             else "") for q in per_head.index]
        bars = left.bar(labels, per_head.to_numpy(),
                        color=[QUINTILE_COLOURS[q] for q in per_head.index], edgecolor=GREY)
        left.bar_label(bars, labels=[formats.gbp(v, 2) for v in per_head], fontsize=11)
        left.set_ylim(0, float(per_head.max()) * 1.18)
        left.set_title(f"Spend per head by IMD quintile (Q1:Q5 = {formats.ratio(ratio)})",
                       loc="left", fontsize=13, color=NHS_DARK_BLUE)
        left.set_ylabel("£ per head a year (axis from £0)")
        y = np.arange(len(hn))
        right.barh(y - 0.2, hn["higher_need_per_eligible_gbp"], 0.4, color=NHS_BLUE,
                   label="Higher-need PCNs")
        right.barh(y + 0.2, hn["other_per_eligible_gbp"], 0.4, color=ORANGE, hatch="//",
                   edgecolor="white", label="Universal offer (other PCNs)")
        right.set_yticks(y, [priority_short(r) for r in hn.index])
        right.invert_yaxis()
        right.set_xlabel("£ per eligible person a year (axis from £0)")
        right.set_title("Higher need against universal", loc="left", fontsize=13,
                        color=NHS_DARK_BLUE)
        right.legend(loc="lower right", fontsize=10, frameon=False)
        for ax in (left, right):
            _tidy(ax)

    return Slide("Equity at a glance", lines, chart=draw, alt=alt)


def _pcn_tables(a: Allocation) -> Slide:
    frame = a.by_pcn.sort_values("spend_per_head_gbp", ascending=False)
    shown = pd.DataFrame({
        "PCN": frame["pcn_name"].astype(str),
        "ICB": frame["icb_name"].map(formats.short_icb),
        "IMD Q": frame["imd_quintile"].astype(int).astype(str),
        "Spend a year": frame["spend_gbp"].map(formats.money),
        "£ per head": frame["spend_per_head_gbp"].map(lambda v: formats.gbp(v, 2)),
    })
    top = shown.head(TOP_AND_BOTTOM)
    bottom = shown.tail(TOP_AND_BOTTOM).iloc[::-1]
    return Slide(
        f"PCNs: the {TOP_AND_BOTTOM} highest and {TOP_AND_BOTTOM} lowest spend per head",
        [f"A typical year (the average of {len(a.inputs.years)}), of {len(frame)} PCNs. The "
         "app's Allocation by PCN tab and the workbook list every PCN."],
        tables=[(f"Highest {TOP_AND_BOTTOM}", top), (f"Lowest {TOP_AND_BOTTOM} (lowest first)",
                                                     bottom)])


def _frontier(pack: Pack) -> Slide:
    subject = "What each step of the equity dial costs (the frontier)"
    table = pack.frontier
    inputs = pack.allocation.inputs
    if table is None or not len(table):
        return Slide(subject, [pack.frontier_note or (
            "The frontier was not computed for these settings. In the app, open the Frontier "
            "tab and press Draw the frontier before downloading the pack; or run "
            "`python -m optimiser frontier` on the model.")])
    ok = table[table["status"] == "optimal"].sort_values("need_gradient")
    low, high, fall = board.frontier_range(ok)
    current = inputs.policy.need_gradient if inputs.policy.on("need_gradient") else None
    lines = [f"From the lowest to the highest dial setting the weighted outcome falls by "
             f"{formats.money(high - low)} ({formats.percent(fall, 2)} of "
             f"{formats.money(high)}). The chart's left axis starts at "
             f"{formats.money(_axis_floor(low, high) * 1e6)}, not £0, so that fall looks "
             "larger than it is."]
    reversal = board.against_the_dial(ok, inputs)
    if reversal:
        lines.append(reversal)
    bent = ok[~ok.get("rules_met", pd.Series(True, index=ok.index)).astype(bool)]
    if len(bent):
        lines.append("At dial " + ", ".join(f"{v:.2f}" for v in bent["need_gradient"])
                     + " the rules bend (shortfalls), so those points do not meet every rule.")
    alt = ("Frontier: " + "; ".join(
        f"dial {r.need_gradient:.2f}: {formats.money(r.objective_gbp)}, Q1:Q5 "
        f"{formats.ratio(r.q1_q5_ratio)}" for r in ok.itertuples()) + ".")

    def draw(fig) -> None:
        ax = fig.subplots()
        ax.plot(ok["need_gradient"], ok["objective_gbp"] / 1e6, "-o", color=NHS_BLUE, lw=3,
                label="Weighted outcome (left, £m)")
        ax.set_ylim(_axis_floor(low, high), high / 1e6 + (high - low) / 1e6 * 0.15 + 1e-9)
        ax.set_xlabel("Need gradient (the equity dial)")
        ax.set_ylabel("Weighted outcome (£m), axis not from £0")
        ax.yaxis.set_major_formatter(lambda v, _: f"£{v:,.1f}m")
        if current is not None:
            ax.plot([current], [(pack.allocation.objective or 0) / 1e6], marker="*",
                    markersize=22, color=ORANGE, markeredgecolor="black", linestyle="none",
                    label="Current choice")
        right = ax.twinx()
        right.plot(ok["need_gradient"], ok["q1_q5_ratio"], "--D", color=ORANGE, lw=2,
                   label="Q1:Q5 spend per head (right)")
        right.set_ylabel("Q1:Q5 spend per head")
        right.yaxis.set_major_formatter(lambda v, _: f"{v:.2f}")
        handles = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(handles[0] + more[0], handles[1] + more[1], loc="lower left", fontsize=10,
                  frameon=False)
        _tidy(ax)
        right.spines["top"].set_visible(False)

    return Slide(subject, lines, chart=draw, alt=alt)


def _axis_floor(low: float, high: float) -> float:
    """Where the frontier's £m axis starts: a little below the lowest point."""
    return (low - (high - low) * 0.15) / 1e6


def _tidy(ax) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=11)
    ax.grid(axis="both", color="#E8EDEE", linewidth=0.8)
    ax.set_axisbelow(True)


def _figure(draw: Callable, size=(12.3, 4.4)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    draw(fig)
    return fig


# ---- the deck ---------------------------------------------------------------------------------

def deck(pack: Pack) -> bytes:
    """The board pack as a PowerPoint deck (.pptx)."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(PAGE_INCHES[0]), Inches(PAGE_INCHES[1])
    prs.core_properties.title = f"Board pack: {pack.scenario}"
    prs.core_properties.subject = pack.subtitle
    blank = prs.slide_layouts[6]
    for item in slides(pack):
        slide = prs.slides.add_slide(blank)
        _pptx_heading(slide, pack, item)
        top = 1.55
        if item.tiles:
            top = _pptx_tiles(slide, item.tiles, top)
        top = _pptx_lines(slide, item.lines, top, room=5.6 if item.chart or item.tables else 5.7)
        if item.tables:
            _pptx_tables(slide, item.tables, top)
        if item.chart is not None:
            _pptx_chart(slide, item, top)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def _text(slide, left, top, width, height, lines, size, bold=False, colour="212B32"):
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.text = line
        para.font.size = Pt(size)
        para.font.bold = bold
        para.font.color.rgb = RGBColor.from_string(colour)
    return box


def _pptx_heading(slide, pack: Pack, item: Slide) -> None:
    _text(slide, 0.5, 0.3, 12.3, 0.7, [f"{pack.scenario}: {item.subject}"], 26, bold=True,
          colour=NHS_DARK_BLUE[1:])
    _text(slide, 0.5, 0.95, 12.3, 0.5, [pack.subtitle], 12, colour=GREY[1:])


def _pptx_tiles(slide, tiles: list[board.Tile], top: float) -> float:
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Inches, Pt

    width, height, gap = 3.95, 1.35, 0.2
    for i, tile in enumerate(tiles):
        left = 0.5 + (i % 3) * (width + gap)
        y = top + (i // 3) * (height + gap)
        box = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, Inches(left), Inches(y),
                                     Inches(width), Inches(height))
        box.fill.solid()
        box.fill.fore_color.rgb = RGBColor.from_string("F0F4F5")
        box.line.color.rgb = RGBColor.from_string("AEB7BD")
        frame = box.text_frame
        frame.word_wrap = True
        frame.paragraphs[0].text = tile.label
        frame.paragraphs[0].font.size = Pt(14)
        frame.paragraphs[0].font.color.rgb = RGBColor.from_string(GREY[1:])
        value = frame.add_paragraph()
        value.text = tile.text
        value.font.size = Pt(34)
        value.font.bold = True
        value.font.color.rgb = RGBColor.from_string(NHS_DARK_BLUE[1:])
    return top + 2 * (height + gap) + 0.1


def _pptx_lines(slide, lines: list[str], top: float, room: float) -> float:
    if not lines:
        return top
    size = 16 if sum(len(line) for line in lines) < 900 else 13
    height = min(room, 0.1 + sum(0.32 * (1 + len(line) // 115) for line in lines)
                 * size / 16)
    _text(slide, 0.5, top, 12.3, height, lines, size)
    return top + height + 0.1


def _pptx_tables(slide, tables: list[tuple[str, pd.DataFrame]], top: float) -> None:
    from pptx.util import Inches, Pt

    width = 12.3 / len(tables) - 0.15
    for n, (caption, frame) in enumerate(tables):
        left = 0.5 + n * (width + 0.3)
        _text(slide, left, top, width, 0.35, [caption], 13, bold=True)
        rows, cols = len(frame) + 1, len(frame.columns)
        shape = slide.shapes.add_table(rows, cols, Inches(left), Inches(top + 0.4),
                                       Inches(width), Inches(0.27 * rows))
        table = shape.table
        widths = COLUMN_SHARES
        for c, share in enumerate(widths[:cols]):
            table.columns[c].width = Inches(width * share)
        for c, name in enumerate(frame.columns):
            table.cell(0, c).text = str(name)
        for r, row in enumerate(frame.itertuples(index=False), start=1):
            for c, value in enumerate(row):
                table.cell(r, c).text = str(value)
        for r in range(rows):
            for c in range(cols):
                for para in table.cell(r, c).text_frame.paragraphs:
                    para.font.size = Pt(10)


def _pptx_chart(slide, item: Slide, top: float) -> None:
    from pptx.util import Inches

    height = max(2.5, PAGE_INCHES[1] - top - 0.3)
    fig = _figure(item.chart, size=(12.3, height))
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=150)
    png.seek(0)
    picture = slide.shapes.add_picture(png, Inches(0.5), Inches(top), Inches(12.3),
                                       Inches(height))
    picture._element.nvPicPr.cNvPr.set("descr", item.alt)  # alt text (no public API)


# ---- the PDF ----------------------------------------------------------------------------------

def pdf(pack: Pack) -> bytes:
    """The board pack as a PDF: one landscape 16:9 page per slide."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    settings = {"pdf.fonttype": 42, "font.family": "DejaVu Sans"}  # text a reader can copy
    with matplotlib.rc_context(settings), PdfPages(out, metadata={
            "Title": f"Board pack: {pack.scenario}", "Subject": pack.subtitle,
            "CreationDate": None, "Creator": "pu-allocation-optimiser"}) as pages:
        for item in slides(pack):
            page = Figure(figsize=PAGE_INCHES,
                          layout="constrained" if item.chart is not None else None)
            _pdf_page(page, pack, item)
            pages.savefig(page)
    return out.getvalue()


def _wrapped(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or " "


def _pdf_page(page, pack: Pack, item: Slide) -> None:
    w, h = PAGE_INCHES
    page.text(0.5 / w, 1 - 0.45 / h, f"{pack.scenario}: {item.subject}", fontsize=20,
              weight="bold", color=NHS_DARK_BLUE, va="top")
    page.text(0.5 / w, 1 - 0.95 / h, _wrapped(pack.subtitle, 150), fontsize=9.5, color=GREY,
              va="top")
    y = 1.55
    if item.tiles:
        y = _pdf_tiles(page, item.tiles, y)
    size = 12 if sum(len(line) for line in item.lines) < 900 else 10
    for line in item.lines:
        text = _wrapped(line, 120 if size == 12 else 145)
        page.text(0.5 / w, 1 - y / h, text, fontsize=size, va="top", color="#212B32")
        y += 0.24 * (text.count("\n") + 1) * size / 12 + 0.08
    if item.tables:
        _pdf_tables(page, item.tables, y + 0.1)
    if item.chart is not None:  # laid out by matplotlib's constrained layout below the words
        _, body, _ = page.subfigures(3, 1, height_ratios=[y + 0.1, h - y - 0.1 - 0.8, 0.8])
        item.chart(body)
        page.text(0.5 / w, 0.7 / h, _wrapped("Text alternative: " + item.alt, 190),
                  fontsize=7.5, color=GREY, va="top")


def _pdf_tiles(page, tiles: list[board.Tile], y: float) -> float:
    from matplotlib.patches import FancyBboxPatch

    w, h = PAGE_INCHES
    width, height, gap = 3.95, 1.25, 0.2
    for i, tile in enumerate(tiles):
        left = 0.5 + (i % 3) * (width + gap)
        top = y + (i // 3) * (height + gap)
        page.patches.append(FancyBboxPatch(
            (left / w, 1 - (top + height) / h), width / w, height / h,
            boxstyle="round,pad=0,rounding_size=0.01", transform=page.transFigure,
            facecolor="#F0F4F5", edgecolor="#AEB7BD", figure=page))
        page.text((left + 0.15) / w, 1 - (top + 0.15) / h, tile.label, fontsize=11,
                  color=GREY, va="top")
        page.text((left + 0.15) / w, 1 - (top + 0.55) / h, tile.text, fontsize=26,
                  weight="bold", color=NHS_DARK_BLUE, va="top")
    return y + 2 * (height + gap) + 0.1


def _pdf_tables(page, tables: list[tuple[str, pd.DataFrame]], y: float) -> None:
    w, h = PAGE_INCHES
    width = 12.3 / len(tables) - 0.15
    for n, (caption, frame) in enumerate(tables):
        left = 0.5 + n * (width + 0.3)
        page.text(left / w, 1 - y / h, caption, fontsize=11, weight="bold", va="top")
        rows = len(frame) + 1
        height = 0.26 * rows
        ax = page.add_axes((left / w, 1 - (y + 0.3 + height) / h, width / w, height / h))
        ax.axis("off")
        table = ax.table(cellText=frame.to_numpy().tolist(), colLabels=list(frame.columns),
                         colWidths=COLUMN_SHARES[:len(frame.columns)],
                         loc="upper left", cellLoc="left", bbox=(0, 0, 1, 1))
        table.auto_set_font_size(False)
        table.set_fontsize(TABLE_SIZE)
        shares = COLUMN_SHARES[:len(frame.columns)]
        for (r, c), cell in table.get_celld().items():
            cell.set_edgecolor("#AEB7BD")
            if r == 0:
                cell.set_text_props(weight="bold")
                cell.set_facecolor("#F0F4F5")
            _fit_cell(cell, width * shares[c], bold=r == 0)


def _fit_cell(cell, inches: float, bold: bool) -> None:
    """Fit a cell's text to its width: as it is, else on two lines (a long PCN or ICB name),
    else smaller."""
    text = cell.get_text().get_text()
    size = _fitting_size(text, inches, bold)
    words = text.split()
    if size < TABLE_SIZE and len(words) > 1:
        # two lines, broken at the space that leaves the longer line shortest
        lines = min(((" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))),
                    key=lambda pair: max(len(pair[0]), len(pair[1])))
        two = min(_fitting_size(line, inches, bold, size=TWO_LINE_SIZE) for line in lines)
        if two > size:
            cell.get_text().set_text("\n".join(lines))
            cell.get_text().set_linespacing(1.0)
            size = two
    cell.set_fontsize(size)


def _fitting_size(text: str, inches: float, bold: bool = False, size: float = TABLE_SIZE,
                  smallest: float = 5.5) -> float:
    """The font size at which `text` fits a table cell `inches` wide (matplotlib's cells do not
    wrap: a long PCN name would run over the next column or be cut at the table's edge),
    measured with the font itself; a cell's text starts a tenth of its width in (matplotlib's
    `Cell.PAD`), and a little is kept free at the right; never below `smallest`."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if not text.strip():
        return size
    font = FontProperties(size=size, weight="bold" if bold else "normal")
    needed = TextPath((0, 0), text, prop=font).get_extents().width  # points at `size`
    room = inches * 0.86 * 72
    return max(smallest, min(size, size * room / needed)) if needed > 0 else size
