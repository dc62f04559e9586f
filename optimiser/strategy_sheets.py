"""The strategy's own questions in the finance outputs: the front sheet's block, its sheets,
the comparison columns and run.json's record.

The figures come from `ambitions.py` (progress against each target and aim) and `strategy.py`
(enhanced support by flag, the Top-15 against the rest, the PCN range, higher-need PCNs below
the median, health and cash apart); this module only lays them out. `report.py` calls it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import strategy
from .ambitions import progress_figures
from .results import Allocation, money
from .schemas import OUTCOME_LABELS
from .xlsx import Workbook, column_spec


def figures(allocation: Allocation) -> dict:
    """The strategy's questions as comparison columns: health and cash apart, enhanced
    support by flag, higher-need PCNs below their ICB's median, and each target and aim."""
    out = dict(strategy.health_and_cash(allocation))
    enhanced = strategy.enhanced_support(allocation).iloc[-1]  # all ICBs (or the one)
    for column in ("enhanced_spend_gbp", "unflagged_share", "enhanced_interventions_funded",
                   "enhanced_interventions"):
        out[column] = enhanced[column]
    out["higher_need_below_median_pcns"] = len(strategy.below_median(allocation))
    out.update(progress_figures(allocation.progress))
    return out


def record(allocation: Allocation) -> dict:
    """The strategy's questions for run.json (no NaN: JSON has none): every target and aim,
    enhanced support by flag, health and cash, and higher-need PCNs below the median."""
    def records(frame: pd.DataFrame) -> list[dict]:
        return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]

    below = strategy.below_median(allocation)
    return {
        "progress": records(allocation.progress),
        "enhanced_support": records(strategy.enhanced_support(allocation)),
        "health_and_cash": {k: _plain(v) for k, v in
                            strategy.health_and_cash(allocation).items()},
        "higher_need_below_median": records(below),
    }


def _plain(value):
    """A JSON value: numpy numbers as Python numbers, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _years(inputs) -> str:
    n = len(inputs.years)
    return "The one year" if n == 1 else f"All {n} years"


def _fit(sheet, row: int, *cells: tuple[str, float]) -> None:
    """A row tall enough for its wrapped texts (text, column width in characters)."""
    lines = max((sum(math.ceil(max(len(part), 1) / max(width * 1.1, 1.0))
                     for part in str(text).split("\n")) for text, width in cells), default=1)
    sheet.set_row(row, 15 * max(lines, 1))


def front_block(wb, sheet, row, allocation: Allocation, head: dict) -> int:
    """The strategy's own questions, first on the front sheet: progress against each ambition,
    enhanced support by flag, health and cash apart, higher-need PCNs below the median."""
    inputs = allocation.inputs
    p = inputs.policy
    wb.text(sheet, row, 0, "Progress against the strategy's ambitions", wb.heading)
    row += 1
    progress = allocation.progress
    if progress.empty:
        wb.wide(sheet, row, "The model file states no activity targets or aims ([[aims]] in the "
                "model file; see docs/batch.md).", wb.wrap)
        row += 2
    else:
        note = ("Each ambition with the line of the strategy it comes from. Aims are reported, "
                "not imposed; targets are rules the plan must meet. Baselines are modelled "
                "2024/25 activity a year (data/README.md). 'Even reaching everyone eligible' "
                "means unlimited money and staff, every eligible person reached as fast as "
                "services can grow.")
        wb.wide(sheet, row, note, wb.wrap)
        _fit(sheet, row, (note, 150))
        row += 1
        for col, text in enumerate(("Ambition, year and source", "Share of the way",
                                    "Baseline → plan → ambition; can the library reach it?")):
            wb.text(sheet, row, col, text, wb.header)
        row += 1
        share = wb.number_format("0%")
        for r in progress.itertuples(index=False):
            kind = "target (a rule)" if r.kind == "rule" else "aim"
            first = f"{r.ambition} by {r.year}, {kind}" + (f"\n{r.source}" if r.source else "")
            words = r.in_words + (f"\n{r.library}" if r.library else "")
            wb.text(sheet, row, 0, first, wb.wrap)
            if np.isfinite(r.share_of_way):
                wb.cell(sheet, row, 1, r.share_of_way, share)
            else:
                wb.text(sheet, row, 1, "not measured", wb.wrap)
            wb.text(sheet, row, 2, words, wb.wrap)
            _fit(sheet, row, (first, 38), (words, 90))
            row += 1
        row += 1

    wb.text(sheet, row, 0, "Enhanced support where the strategy puts it", wb.heading)
    row += 1
    rule = ("On: enhanced-tier interventions are offered only in the PCNs flagged higher-need "
            "for their priority (seed 001 L653-656)." if p.on("enhanced_where_flagged") else
            "Off: enhanced-tier interventions may go to any PCN; seed 001 L653-656 puts them in "
            "the PCNs flagged higher-need for their priority.")
    wb.text(sheet, row, 0, "Rule: enhanced support only where flagged", wb.bold)
    wb.text(sheet, row, 2, rule, wb.wrap)
    row += 1
    for r in strategy.enhanced_support(allocation).itertuples(index=False):
        text = (f"{money(r.enhanced_spend_gbp)} of enhanced-tier spend over "
                f"{_years(inputs).lower()}: {money(r.flagged_spend_gbp)} in PCNs flagged "
                f"higher-need for the priority, {money(r.unflagged_spend_gbp)} in others; "
                f"{r.enhanced_interventions_funded} of the {r.enhanced_interventions} enhanced "
                "interventions funded.")
        wb.text(sheet, row, 0, f"Flagged share, {r.icb_name}", wb.bold)
        wb.cell(sheet, row, 1, 1 - r.unflagged_share, wb.number_format("0%"))
        wb.text(sheet, row, 2, text, wb.wrap)
        row += 1
    row += 1

    wb.text(sheet, row, 0, "Health and cash apart", wb.heading)
    row += 1
    cash_share = p.cash_releasing_share
    lines = [
        ("Weighted outcome, undiscounted", head["weighted_value_gbp"], "gbp",
         f"{_years(inputs)}; the objective is this, discounted."),
        ("Health part (QALYs)", head["health_value_gbp"], "gbp",
         f"QALYs gained x £{p.qaly_gbp:,.0f} x priority and equity weights: health gained "
         "(many QALYs over a lifetime), not cash."),
        ("Cash-releasing part (activity avoided)", head["cash_value_gbp"], "gbp",
         "Activity avoided x its £ value x priority and equity weights."),
        ("Cash released by avoided activity", head["cash_released_gbp"], "gbp",
         f"Activity avoided x unit cost x the cash-releasing share ({cash_share:.0%}), before "
         f"weights: £{head['cash_released_per_gbp']:.2f} returned for every £1 spent."),
    ]
    for name, value, kind, note in lines:
        wb.text(sheet, row, 0, name, wb.bold)
        wb.cell(sheet, row, 1, value, wb.number_format(kind))
        wb.text(sheet, row, 2, note, wb.wrap)
        row += 1
    row += 1

    wb.text(sheet, row, 0, "Higher-need PCNs below their ICB's median spend per head",
            wb.heading)
    row += 1
    below = strategy.below_median(allocation)
    if below.empty:
        wb.wide(sheet, row, f"None: every PCN flagged higher-need for {strategy.SEVERAL} or "
                "more priorities gets at least the median £ per head of its ICB.", wb.wrap)
        row += 1
    names = inputs.priorities.get("name", pd.Series(dtype=str))
    for r in below.itertuples(index=False):
        flagged = ", ".join(str(names.get(x, x)) for x in r.higher_need_priorities.split(", "))
        text = (f"Flagged higher-need for {r.higher_need_count} priorities ({flagged}): "
                f"£{r.spend_per_head_gbp:,.2f} a head a year against its ICB's median "
                f"£{r.icb_median_gbp:,.2f}. {r.reason}")
        wb.text(sheet, row, 0, f"{r.pcn_name} ({r.icb_code})", wb.bold)
        wb.cell(sheet, row, 1, r.spend_per_head_gbp, wb.number_format("gbp2"))
        wb.text(sheet, row, 2, text, wb.wrap)
        _fit(sheet, row, (text, 90))
        row += 1
    return row + 1


def sheets(wb: Workbook, allocation: Allocation) -> None:
    """The strategy's questions in full: every target and aim, enhanced support by flag and
    what offering it elsewhere would be worth, Top-15 vs rest, the best-to-worst PCN range."""
    sheet = wb.sheet("Strategy targets")
    wb.text(sheet, 0, 0, "Progress against the strategy's targets and aims: modelled baseline "
            "a year, what the ambition needs, what the plan achieves in the year, and the most "
            "the intervention library could achieve at any budget", wb.bold)
    progress = allocation.progress.copy()
    progress["measure"] = [OUTCOME_LABELS.get(m) or f"people {m.replace('_', '-')}"
                           for m in progress["measure"]]
    wb.table(sheet, 2, progress, freeze_cols=2,
             widths={"ambition": 30, "source": 40, "in_words": 80, "library": 80, "scope": 24})

    sheet = wb.sheet("Enhanced support")
    wb.text(sheet, 0, 0, "Enhanced-tier spend over all years in PCNs flagged higher-need for "
            "the priority against the others (seed 001 L653-656)", wb.bold)
    _, last = wb.table(sheet, 2, strategy.enhanced_support(allocation), freeze=False,
                       widths={"icb_name": 40})
    offer = strategy.enhanced_offer_value(allocation)
    if len(offer):
        names = allocation.inputs.priorities.get("name", pd.Series(dtype=str))
        offer.insert(3, "priority_name", offer["priority_id"].map(names).fillna(""))
        wb.text(sheet, last + 2, 0, "What offering each enhanced intervention outside its "
                "flagged PCNs would be worth: the reduced cost of its first tranche, net of "
                "what the money and staff buy now (a small change; re-solve the "
                "enhanced_anywhere scenario for a large one)", wb.bold)
        wb.table(sheet, last + 4, offer, freeze=False,
                 widths={"intervention": 40, "in_words": 90})

    sheet = wb.sheet("Top 15 vs rest")
    wb.text(sheet, 0, 0, "Seed 001's 'Top-15 PCNs aggregate vs all other PCNs' (KPI footnotes, "
            "L800-1041): per ICB and priority, the PCNs flagged higher-need for it (4, 4 and 7 "
            "in DLN: 15) against its other PCNs. A typical year; outcomes of the priority's "
            "own interventions. Rows 'all ICBs (pooled)' add the ICBs together.", wb.bold)
    wb.table(sheet, 2, strategy.top_vs_rest(allocation), freeze_cols=4,
             widths={"priority_name": 36, "icb_name": 30})

    sheet = wb.sheet("PCN range")
    wb.text(sheet, 0, 0, "Best-to-worst PCN range (seed 001 L1013) per ICB and priority, a "
            "typical year", wb.bold)
    frame = strategy.pcn_range(allocation)
    frame["measure"] = [column_spec(m)[0] for m in frame["measure"]]
    wb.table(sheet, 2, frame, freeze_cols=3,
             widths={"priority_name": 36, "measure": 32, "highest_pcn": 30, "lowest_pcn": 30})
