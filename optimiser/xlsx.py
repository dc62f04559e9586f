"""The house layer over xlsxwriter: labelled, formatted tables and native charts.

Every text cell is written with `write_string` after `io.neutralise_formula`, so a PCN or
scenario named `=HYPERLINK(...)` stays literal text; numbers are written as numbers at full
precision with £, WTE and count formats for display only, so a total in a workbook equals the
same total in the CSV files. No cell holds a formula. A workbook is built in memory and
`close()` returns its bytes, for `io.write_atomic` to write whole.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import re
from io import BytesIO

import numpy as np
import pandas as pd

from . import io

# ---- number formats and column labels ------------------------------------------------------

FORMATS = {
    "gbp": "£#,##0", "gbp2": "£#,##0.00", "wte": "#,##0.0", "count": "#,##0",
    "dec1": "#,##0.0", "dec2": "#,##0.00", "dec4": "0.0000", "ratio": "0.00", "share": "0.0%",
    "int": "0", "text": None,
}
MILLIONS = '£#,##0.0,,"m"'
COLUMNS: dict[str, tuple[str, str]] = {  # column -> (label, format)
    "year": ("Year", "text"),
    "scenario": ("Scenario", "text"),
    "icbs": ("ICB(s)", "text"),
    "icb_names": ("ICB name(s)", "text"),
    "description": ("Scenario description", "text"),
    "status": ("Status", "text"),
    "pcn_code": ("PCN code", "text"),
    "pcn_name": ("PCN", "text"),
    "icb_code": ("ICB code", "text"),
    "icb_name": ("ICB", "text"),
    "place_code": ("Place code", "text"),
    "place_name": ("Place", "text"),
    "imd_quintile": ("IMD quintile (1 = most deprived)", "int"),
    "imd_score": ("IMD score", "dec1"),
    "population": ("Registered population", "count"),
    "people_reached": ("People reached", "count"),
    "eligible": ("People eligible", "count"),
    "spend_gbp": ("Spend (£)", "gbp"),
    "budget_gbp": ("Budget (£)", "gbp"),
    "spend_per_head_gbp": ("Spend per head (£)", "gbp2"),
    "spend_per_eligible_gbp": ("Spend per eligible person (£)", "gbp2"),
    "qaly": ("QALYs gained", "dec1"),
    "nel_avoided": ("Emergency admissions avoided", "count"),
    "ed_avoided": ("A&E attendances avoided", "count"),
    "bed_days_avoided": ("Bed days avoided", "count"),
    "op_avoided": ("Outpatient attendances avoided", "count"),
    "weighted_value_gbp": ("Weighted outcome, undiscounted (£)", "gbp"),
    "discounted_value_gbp": ("Weighted outcome, discounted (£)", "gbp"),
    "objective_gbp": ("Weighted outcome, discounted (£) - the objective", "gbp"),
    "wte_total": ("WTE, all staff groups", "wte"),
    "wte_used_final_year": ("WTE used in the final year", "wte"),
    "priority_id": ("Priority", "text"),
    "priority_name": ("Priority name", "text"),
    "tier": ("Tier", "text"),
    "intervention_id": ("Intervention", "text"),
    "higher_need_spend_gbp": ("Spend in higher-need PCNs (£)", "gbp"),
    "higher_need_pcns": ("Higher-need PCNs", "count"),
    "higher_need_per_eligible_gbp": ("Spend per eligible person a year, higher-need PCNs (£)",
                                     "gbp2"),
    "other_per_eligible_gbp": ("Spend per eligible person a year, other PCNs (£)", "gbp2"),
    "universal_per_eligible_gbp": ("Spend per eligible person a year, universal-offer PCNs (£)",
                                   "gbp2"),
    "higher_need_to_universal_ratio": ("Higher-need ÷ universal spend per eligible person, "
                                       "pooled over ICBs and priorities (the rule is per ICB)",
                                       "ratio"),
    "ratio": ("Higher-need ÷ other", "ratio"),
    "qaly_per_1000": ("QALYs per 1,000 people", "dec2"),
    "value_per_head_gbp": ("Weighted outcome per head (£)", "gbp2"),
    "higher_need_priorities": ("Higher-need priorities", "text"),
    "higher_need_count": ("Number of higher-need priorities", "int"),
    "nel_avoided_per_1000": ("Emergency admissions avoided per 1,000", "dec2"),
    "fair_share": ("Need-weighted fair share of spend", "share"),
    "constraint": ("Rule", "text"),
    "what": ("Where and when", "text"),
    "activity": ("Value", "dec2"),
    "lower": ("Lower limit", "dec2"),
    "upper": ("Upper limit", "dec2"),
    "shadow_price": ("Shadow price (£ of outcome per unit)", "dec2"),
    "in_words": ("In words", "text"),
    "binding_count": ("Binding rules", "count"),
    "binding_constraints": ("Binding rules by family", "text"),
    "checks_passed": ("Independent check passed", "text"),
    "input_digest": ("Inputs digest", "text"),
    "explanation": ("Explanation (when not optimal)", "text"),
    "reference_scenario": ("Compared with", "text"),
    "staff_group": ("Staff group", "text"),
    "scope": ("Scope (ICB or place)", "text"),
    "setting": ("Setting", "text"),
    "value": ("Value", "text"),
    "meaning": ("Meaning and source", "text"),
    # health and cash apart; the strategy's ambitions and lenses (ambitions.py, strategy.py)
    "health_value_gbp": ("Weighted outcome: health part, QALYs (£)", "gbp"),
    "cash_value_gbp": ("Weighted outcome: cash-releasing part, activity avoided (£)", "gbp"),
    "cash_released_gbp": ("Cash released by avoided activity (£)", "gbp"),
    "cash_released_per_gbp": ("Cash released per £ spent (£)", "gbp2"),
    "health_share": ("Health share of the weighted outcome", "share"),
    "kind": ("Rule or aim", "text"),
    "ambition": ("Ambition", "text"),
    "source": ("Source", "text"),
    "measure": ("Measure", "text"),
    "baseline": ("Modelled baseline a year", "count"),
    "change_from_baseline": ("Ambition: change from baseline", "share"),
    "needed": ("Needed in the year", "count"),
    "achieved_low": ("Plan achieves (lower bound)", "count"),
    "achieved": ("Plan achieves in the year", "count"),
    "change_achieved": ("Plan: change from baseline", "share"),
    "share_of_way": ("Share of the way to the ambition", "share"),
    "ceiling": ("Most the library could achieve (any budget)", "count"),
    "ceiling_change": ("Library's most: change from baseline", "share"),
    "reachable": ("Library can reach it", "text"),
    "library": ("What the library can and cannot do", "text"),
    "enhanced_spend_gbp": ("Enhanced-tier spend (£)", "gbp"),
    "flagged_spend_gbp": ("Enhanced-tier spend in PCNs flagged for the priority (£)", "gbp"),
    "unflagged_spend_gbp": ("Enhanced-tier spend in PCNs not flagged for it (£)", "gbp"),
    "unflagged_share": ("Share of enhanced-tier spend in PCNs not flagged", "share"),
    "enhanced_interventions_funded": ("Enhanced interventions funded", "count"),
    "enhanced_interventions": ("Enhanced interventions in the library", "count"),
    "intervention": ("Intervention name", "text"),
    "unflagged_pcns": ("PCNs not flagged (not offered)", "count"),
    "pcns_worth_offering": ("PCNs where offering it would add value", "count"),
    "best_value_per_person_gbp": ("Most it would add per person reached (£, discounted)",
                                  "gbp2"),
    "best_value_per_gbp": ("Most it would add per £ spent (£, discounted)", "gbp2"),
    "top_pcns": ("Higher-need PCNs (the seed's Top-15 set)", "count"),
    "rest_pcns": ("Other PCNs", "count"),
    "qaly_per_1000_eligible": ("QALYs per 1,000 eligible", "dec2"),
    "nel_avoided_per_1000_eligible": ("Emergency admissions avoided per 1,000 eligible",
                                      "dec2"),
    "highest_pcn": ("Highest PCN", "text"),
    "highest": ("Highest", "dec2"),
    "lowest_pcn": ("Lowest PCN", "text"),
    "lowest": ("Lowest", "dec2"),
    "gap": ("Highest - lowest", "dec2"),
    "icb_median_gbp": ("ICB median spend per head (£)", "gbp2"),
    "higher_need_below_median_pcns": ("Higher-need PCNs below their ICB's median £ per head",
                                      "count"),
    "reason": ("Why the optimiser keeps money away (shadow prices and reduced costs)", "text"),
}
for _q in range(1, 6):
    COLUMNS[f"spend_per_head_q{_q}_gbp"] = (
        f"Spend per head a year, IMD Q{_q}{' (most deprived)' if _q == 1 else ''}"
        f"{' (least deprived)' if _q == 5 else ''} (£)", "gbp2")
COLUMNS["spend_per_head_all_gbp"] = ("Spend per head a year, all PCNs (£)", "gbp2")


def column_spec(name: str, staff_names: dict[str, str] | None = None) -> tuple[str, str]:
    """(label, format key) for a column: known names, WTE by staff group, differences."""
    if name in COLUMNS:
        return COLUMNS[name]
    if name.startswith("wte_"):
        group = name[len("wte_"):]
        return f"WTE: {(staff_names or {}).get(group, group.replace('_', ' '))}", "wte"
    for prefix, words in (("top_", "Higher-need PCNs"), ("rest_", "Other PCNs")):
        if name.startswith(prefix) and name[len(prefix):] in COLUMNS:
            label, fmt = COLUMNS[name[len(prefix):]]
            return f"{words}: {label}", fmt
    numbered = re.fullmatch(r"(aim|target)(\d+)_(\w+)", name)
    if numbered:
        kind, number, what = numbered.groups()
        label, fmt = COLUMNS.get(what, (what.replace("_", " "), "dec2"))
        return f"{kind.capitalize()} {number}: {label}", fmt
    if name.endswith("_vs_base"):
        label, fmt = column_spec(name[: -len("_vs_base")], staff_names)
        return f"Change from the compared scenario: {label}", fmt
    if name.startswith(("spend_per_head_", "value_per_head_", "qaly_per_head_")):
        measure, _, metric = name.partition("_per_head_")
        what = {"spend": "Spend", "value": "Weighted outcome", "qaly": "QALYs"}[measure]
        words = {"q1_q5_ratio": "Q1 ÷ Q5 ratio", "q1_q5_gap": "Q1 - Q5 gap",
                 "slope_index": "slope index of inequality",
                 "relative_index": "relative index of inequality",
                 "concentration_index": "concentration index (negative = pro-deprived)"}
        if metric in ("q1_q5_gap", "slope_index"):
            kind = "0.000000" if measure == "qaly" else "gbp2"
        else:
            kind = "0.000" if metric == "concentration_index" else "ratio"
        return f"{what} per head: {words.get(metric, metric.replace('_', ' '))}", kind
    return name.replace("_", " ").capitalize(), "dec2"


# ---- a small layer over xlsxwriter ----------------------------------------------------------

def created_time(digest: str) -> datetime.datetime:
    """The workbook's "created" property, from the inputs' digest and not the clock, so two
    runs of the same inputs write the same bytes: a moment in 2000-2019 that the digest picks
    (the same inputs, the same moment; other inputs, almost surely another)."""
    seconds = int(hashlib.sha256(digest.encode()).hexdigest()[:12], 16) % CREATED_SPAN_SECONDS
    return CREATED_FROM + datetime.timedelta(seconds=seconds)


CREATED_FROM = datetime.datetime(2000, 1, 1)
CREATED_SPAN_SECONDS = 20 * 365 * 24 * 3600


class Workbook:
    """An in-memory xlsxwriter workbook with the house formats; `close()` returns its bytes.

    `digest` names the inputs (ModelInputs.digest): the workbook's created time comes from it
    (`created_time`), so the same inputs give the same file byte for byte.
    """

    def __init__(self, title: str, digest: str = ""):
        import xlsxwriter

        self._buffer = BytesIO()
        self.book = xlsxwriter.Workbook(self._buffer, {
            "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False})
        self.book.set_properties({
            "title": title, "created": created_time(digest),
            "comments": "Written by the NHS proportionate-universalism allocation optimiser. "
                        f"Inputs digest {digest or '(none)'}; the created time is set from it, "
                        "not the clock, so the same inputs give the same file."})
        self._formats: dict = {}
        self.header = self.format(bold=True, text_wrap=True, valign="top", bg_color="#DCE6F2",
                                  bottom=1)
        self.title = self.format(bold=True, font_size=14)
        self.heading = self.format(bold=True, font_size=11, font_color="#1F4E79")
        self.wrap = self.format(text_wrap=True, valign="top")
        self.bold = self.format(bold=True, valign="top")

    def format(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(props)
        return self._formats[key]

    def number_format(self, kind: str):
        pattern = FORMATS.get(kind, kind)
        return self.format(num_format=pattern, valign="top") if pattern else self.format(
            valign="top")

    def sheet(self, name: str):
        return self.book.add_worksheet(name[:31])

    def cell(self, sheet, row: int, col: int, value, fmt=None) -> None:
        """One value: text literal, numbers as numbers, blanks for missing."""
        if value is None or (isinstance(value, float | np.floating) and not math.isfinite(value)):
            sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, bool | np.bool_):
            sheet.write_string(row, col, "Yes" if value else "No", fmt)
        elif isinstance(value, int | float | np.integer | np.floating):
            sheet.write_number(row, col, float(value), fmt)
        else:
            sheet.write_string(row, col, str(io.neutralise_formula(str(value))), fmt)

    def _column_writer(self, sheet, series: pd.Series, fmt):
        """write(row, col, i) for the i-th value of a column: what `cell` writes, decided
        once per column for numbers and text (a table of DLN's was 0.1 s of `cell` calls)."""
        values = series.tolist()
        kind = series.dtype.kind
        if kind == "f":
            number, blank = sheet.write_number, sheet.write_blank

            def write(r, c, i):
                v = values[i]
                if v - v == 0:  # finite (nan and inf are not)
                    number(r, c, v, fmt)
                else:
                    blank(r, c, None, fmt)
            return write
        if kind in "iu":
            numbers = [float(v) for v in values]
            return lambda r, c, i: sheet.write_number(r, c, numbers[i], fmt)
        if pd.api.types.is_string_dtype(series.dtype) and all(
                isinstance(v, str) or (isinstance(v, float) and v != v) for v in values):
            texts = [str(io.neutralise_formula(v)) if isinstance(v, str) else None
                     for v in values]
            string, blank = sheet.write_string, sheet.write_blank

            def write(r, c, i):
                if texts[i] is None:
                    blank(r, c, None, fmt)
                else:
                    string(r, c, texts[i], fmt)
            return write
        return lambda r, c, i: self.cell(sheet, r, c, values[i], fmt)

    def text(self, sheet, row: int, col: int, value, fmt=None) -> None:
        sheet.write_string(row, col, str(io.neutralise_formula(str(value))), fmt)

    def wide(self, sheet, row: int, value, fmt, last_col: int = 2) -> None:
        """Text across merged columns A to `last_col` of one row."""
        sheet.merge_range(row, 0, row, last_col, "", fmt)
        self.text(sheet, row, 0, value, fmt)

    def table(self, sheet, row: int, frame: pd.DataFrame, col: int = 0, freeze_cols: int = 0,
              staff_names: dict | None = None, freeze: bool = True,
              widths: dict | None = None, kinds: dict | None = None,
              labels: dict | None = None) -> tuple[int, int]:
        """A table with a labelled header row; returns (first data row, last data row)."""
        specs = [column_spec(str(c), staff_names) for c in frame.columns]
        specs = [((labels or {}).get(c, label), (kinds or {}).get(c, kind))
                 for c, (label, kind) in zip(frame.columns, specs, strict=True)]
        sheet.set_row(row, 45)
        for j, (label, kind) in enumerate(specs):
            self.text(sheet, row, col + j, label, self.header)
            fmt = self.wrap if kind == "text" else self.number_format(kind)
            width = (widths or {}).get(frame.columns[j]) or _width(frame.iloc[:, j], label, kind)
            sheet.set_column(col + j, col + j, width, fmt)
        formats = [self.wrap if kind == "text" else self.number_format(kind)
                   for _, kind in specs]
        writers = [self._column_writer(sheet, frame.iloc[:, j], formats[j])
                   for j in range(len(specs))]
        for i in range(len(frame)):  # row by row, as before: the same strings table, bytes
            for j, write in enumerate(writers):
                write(row + 1 + i, col + j, i)
        last = row + len(frame)
        if freeze:
            sheet.freeze_panes(row + 1, freeze_cols)
        if len(frame):
            sheet.autofilter(row, col, last, col + len(specs) - 1)
        return row + 1, last

    def close(self) -> bytes:
        self.book.close()
        return self._buffer.getvalue()


def _width(series: pd.Series, label: str, kind: str) -> float:
    if kind != "text":
        return max(12.0, min(18.0, len(label) / 2.2))
    lengths = series.head(200).astype(str).str.len().dropna()  # (pandas 3 keeps blanks NaN)
    longest = int(lengths.max()) if len(lengths) else 8
    return float(max(10, min(60, max(longest + 2, len(label) / 2.5))))


def column_chart(wb: Workbook, sheet_name: str, first_row: int, last_row: int, cat_col: int,
                 series_cols: list[tuple[int, str]], title: str, y_title: str, y_format: str,
                 stacked: bool = False, x_title: str = ""):
    """A native Excel column chart of cells already written (series names kept literal)."""
    chart = wb.book.add_chart({"type": "column", **({"subtype": "stacked"} if stacked else {})})
    for col, name in series_cols:
        chart.add_series({
            "name": str(io.neutralise_formula(name)),
            "categories": [sheet_name, first_row, cat_col, last_row, cat_col],
            "values": [sheet_name, first_row, col, last_row, col],
        })
    chart.set_title({"name": title})
    chart.set_y_axis({"name": y_title, "num_format": y_format, "major_gridlines": {
        "visible": True, "line": {"color": "#D9D9D9"}}})
    if x_title:
        chart.set_x_axis({"name": x_title})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 400})
    return chart


def pivot_with_chart(wb: Workbook, sheet, sheet_name: str, row: int, col: int,
                     pivot: pd.DataFrame, title: str, y_title: str, y_format: str,
                     value_format: str, stacked: bool = False) -> None:
    """A small labelled pivot (rows = categories, columns = series) with its chart beside it."""
    wb.text(sheet, row, col, title, wb.heading)
    wb.text(sheet, row + 1, col, pivot.index.name or "", wb.header)
    sheet.set_column(col, col, 40)
    for j, name in enumerate(pivot.columns, start=1):
        wb.text(sheet, row + 1, col + j, str(name), wb.header)
        sheet.set_column(col + j, col + j, 13)
    fmt = wb.number_format(value_format)
    for i, (label, values) in enumerate(pivot.iterrows(), start=row + 2):
        wb.text(sheet, i, col, str(label), wb.wrap)
        for j, value in enumerate(values, start=1):
            wb.cell(sheet, i, col + j, value, fmt)
    first, last = row + 2, row + 1 + len(pivot)
    chart = column_chart(wb, sheet_name, first, last, col,
                         [(col + j, str(name)) for j, name in enumerate(pivot.columns, 1)],
                         title, y_title, y_format, stacked)
    sheet.insert_chart(row, col + len(pivot.columns) + 2, chart)
