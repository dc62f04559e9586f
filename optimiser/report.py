"""The workbooks a finance team opens: `summary.xlsx` for one scenario, `comparison.xlsx` across.

`summary.xlsx` answers one question (the front sheet states it), shows the headline figures and
the assumptions with their sources, then the allocation by year and PCN, priority, ICB, place
and IMD quintile, the shadow prices in words, and the inputs used, so the file stands alone.
`comparison.xlsx` holds the same numbers as comparison.csv. The formatting layer (labels, £ and
WTE formats, frozen headers, charts, formula-injection safety) is in `xlsx.py`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import io, strategy_sheets
from .ambitions import scope_name
from .explain import FAMILY_WORDS
from .results import (
    CONSTRAINT_FAMILIES,
    RULE_WORDS,
    VALUE_PARTS,
    Allocation,
    money,
    shortfall_summary,
)
from .schemas import ACTIVITY_OUTCOMES, OUTCOME_LABELS, priority_short, staff_short
from .xlsx import MILLIONS, Workbook, column_chart, pivot_with_chart

STATUS_WORDS = {  # the front sheet's status line when there is no optimum
    "infeasible": "Infeasible: no allocation meets every rule.",
    "time_limit": "Time limit reached: the solver stopped before it found the best "
                  "allocation, so there is no plan to show.",
    "unbounded": "Unbounded: nothing limits the weighted outcome (is the budget rule off?).",
}
TOP_ROWS_PER_RULE = 25  # binding rows listed per rule family beyond budget and workforce
QUINTILE_NAMES = {1: "Q1 (most deprived)", 2: "Q2", 3: "Q3", 4: "Q4", 5: "Q5 (least deprived)"}
QUESTION = ("How should the model '{name}'{scenario} allocate {budget} over {years}, and the "
            "WTE available{wte}, across {pcns} PCNs in {icbs} to maximise weighted outcomes "
            "under the proportionate-universalism rules?")
DATA_SOURCES = (  # the shipped tables' sources, from data/README.md (Sources; Licences)
    ("PCNs, practices and registered population",
     "NHS England, Patients Registered at a GP Practice: practice-to-PCN map (1 October 2025) "
     "and five-year age bands (1 April 2025). OGL v3."),
    ("Need indices", "NHS England ICB allocation tool, weighted populations 2025/26. OGL v3."),
    ("Deprivation (IMD 2019)",
     "MHCLG IMD 2019 by practice and PCN, derived by Richard Blackwell (blackwellrd/"
     "practice_pcn_imd, BSD-3-Clause) and OHID Fingertips indicator 93553 (extract by HEEC). "
     "OGL v3."),
    ("Prevalence", "NHS England QOF cardiovascular tables (very probably 2023/24) and OHID "
     "Fingertips 91547 smoking prevalence 2023/24, extracts by HEEC. OGL v3."),
    ("PCN workforce", "NHS England Primary Care Network Workforce census, 30 November 2025. "
     "OGL v3."),
    ("Higher-need PCNs and priorities",
     "Seed 001: DLN ICB Cluster 5-Year Population Health Strategy 2026/27-2030/31 (DLN); the "
     "rule in data/README.md elsewhere."),
    ("Interventions, staff costs, unit costs",
     "Hand-curated from the evidence memo; every figure's working in data/INTERVENTIONS.md. "
     "Activity unit costs: NHS England National Cost Collection 2024/25."),
    ("Full list and licences", "data/README.md (Sources; Licences and credits)."),
)


# ---- the figures a finance lead reads first --------------------------------------------------

def higher_need_split(allocation: Allocation) -> dict[str, float]:
    """Spend per eligible person a year where a PCN is flagged higher-need for the priority,
    against the PCNs that get only the universal offer for it, pooled over ICBs and
    priorities (a headline; the rule itself is per ICB: `Allocation.higher_need_comparison`)."""
    frame = allocation.higher_need_frame()
    flags = frame["flag"].to_numpy()
    cohort, money_spent = (frame[k].to_numpy(dtype=float) for k in ("cohort", "spend_gbp"))
    hn = money_spent[flags].sum() / cohort[flags].sum() if cohort[flags].sum() else math.nan
    other = money_spent[~flags].sum() / cohort[~flags].sum() if cohort[~flags].sum() else math.nan
    return {"higher_need_per_eligible_gbp": float(hn), "universal_per_eligible_gbp": float(other),
            "higher_need_to_universal_ratio": float(hn / other) if other else math.nan}


def figures(allocation: Allocation) -> dict:
    """The headline numbers of one optimal allocation (also a row of comparison.csv); worked
    out once per allocation (a batch job asks for them, and summary.xlsx's front sheet)."""
    memo = allocation.__dict__  # as a cached_property keeps its value
    if "_figures" not in memo:
        memo["_figures"] = _figures(allocation)
    return dict(memo["_figures"])


def _figures(allocation: Allocation) -> dict:
    totals = allocation.totals
    out = {k: totals[k] for k in ("objective_gbp", "budget_gbp", "spend_gbp", "people_reached",
                                  "qaly", *ACTIVITY_OUTCOMES, "weighted_value_gbp",
                                  "wte_used_final_year")}
    out["population"] = float(allocation.inputs.pcns["population"].sum())
    by_q = allocation.by_quintile.groupby("imd_quintile")[["spend_gbp", "population"]].sum()
    for q in range(1, 6):
        ok = q in by_q.index and by_q.at[q, "population"] > 0
        out[f"spend_per_head_q{q}_gbp"] = float(
            by_q.at[q, "spend_gbp"] / by_q.at[q, "population"]) if ok else math.nan
    years = len(allocation.inputs.years)
    out["spend_per_head_all_gbp"] = totals["spend_gbp"] / years / out["population"]
    out.update(higher_need_split(allocation))
    out.update(allocation.equity_metrics)
    counts = allocation.binding.groupby("constraint").size()
    out["binding_count"] = int(counts.sum())
    out["binding_constraints"] = "; ".join(
        f"{name} {int(counts[name])}" for name in CONSTRAINT_FAMILIES if name in counts.index)
    out.update(shortfall_summary(allocation))
    out.update(strategy_sheets.figures(allocation))
    return out


# ---- summary.xlsx ---------------------------------------------------------------------------

def question(inputs) -> str:
    p = inputs.policy
    pcns = inputs.pcns
    icb_codes = sorted(pcns["icb_code"].unique())
    icbs = (f"{len(icb_codes)} ICBs ({', '.join(icb_codes)})" if 1 < len(icb_codes) <= 6
            else f"{len(icb_codes)} ICBs" if len(icb_codes) > 6
            else f"{pcns['icb_name'].iloc[0]} ({icb_codes[0]})")
    years = p.years[0] if len(p.years) == 1 else f"{p.years[0]} to {p.years[-1]}"
    groups = sorted(inputs.workforce_wte.index.get_level_values("staff_group").unique())
    wte = f" in {len(groups)} limited staff groups" if groups else ""
    scenario = "" if p.scenario == "base" else f" (scenario '{p.scenario}')"
    return QUESTION.format(name=p.name, scenario=scenario, budget=money(inputs.budget_gbp.sum()),
                           years=years, wte=wte, pcns=len(pcns), icbs=icbs)


def assumptions(inputs, notes: dict[str, str]) -> pd.DataFrame:
    """What the model assumed, with the source the model file gives for it."""
    p = inputs.policy
    rows: list[tuple[str, str, str]] = []
    pop = float(inputs.pcns["population"].sum())
    budget = "; ".join(f"{y} {money(b)} (£{b / pop:,.2f} a head)"
                       for y, b in zip(p.years, inputs.budget_gbp, strict=True))
    rows.append(("Budget per year", budget, notes.get("budget", "")))
    groups = inputs.workforce_wte.groupby(level="staff_group")[p.years[0]].sum()
    workforce = (f"{p.deployable_share:.0%} of the PCN workforce census FTE can be directed to "
                 f"the programmes, growing {p.annual_growth:.1%} a year, limited by "
                 f"{'ICB' if p.workforce_scope == 'icb' else p.workforce_scope}. First-year WTE: "
                 + ", ".join(f"{staff_short(g)} {v:,.1f}" for g, v in groups.items())
                 + ". Other staff groups are not limited.") if len(groups) else (
        "No staff group is limited.")
    rows.append(("Workforce available", workforce, notes.get("workforce", "")))
    qaly_source = notes.get("outcome_weights") or (
        str(inputs.unit_costs.at["qaly", "source"]) if "qaly" in inputs.unit_costs.index
        and "source" in inputs.unit_costs else "")
    rows.append(("Value of a QALY", f"£{p.qaly_gbp:,.0f}", qaly_source))
    weights = inputs.outcome_weight_gbp
    for outcome in ACTIVITY_OUTCOMES:
        if outcome in p.activity_gbp:
            how, source = "set in the model file", notes.get("outcome_weights", "")
        else:
            how = f"unit cost x cash-releasing share {p.cash_releasing_share:.0%}"
            source = str(inputs.unit_costs.at[outcome, "source"]) if (
                outcome in inputs.unit_costs.index and "source" in inputs.unit_costs) else ""
        rows.append((f"Value of {OUTCOME_LABELS[outcome]} (each)",
                     f"£{weights[outcome]:,.2f} ({how})", source))
    rows.append(("Discount rate", f"{p.discount_rate:.1%} a year", notes.get("model", "")))
    rows.append(("Priority weights", ", ".join(f"{priority_short(k)} {v:g}"
                                               for k, v in p.priority_weight.items()),
                 notes.get("priority_weights", "")))
    equity = (f"Universal core offer: every PCN reaches at least {p.universal_floor:.0%} of each "
              f"core intervention's eligible cohort. Enhanced support: higher-need PCNs spend "
              f"at least {p.enhanced_uplift:.0%} more per eligible person on the priority. Need "
              f"gradient: each PCN gets at least {p.need_gradient:.0%} of its need-weighted fair "
              f"share ({p.need_measure}). Outcome weights by IMD quintile 1-5: "
              + ", ".join(f"{w:g}" for w in p.quintile_weight) + ".")
    rows.append(("Proportionate-universalism rules", equity, notes.get("equity", "")))
    rows.append(("Diminishing returns", "Tranches of the eligible cohort "
                 + ", ".join(f"{s:.0%}" for s in p.tranche_shares) + " with effects "
                 + ", ".join(f"{m:.0%}" for m in p.marginal_effect), notes.get("response", "")))
    rows.append(("Mobilisation and continuity",
                 f"A service grows by at most {p.mobilisation_max_growth:.0%} of its cohort a "
                 f"year; its funding falls by at most {p.continuity_max_fall:.0%} a year; "
                 f"invest-to-save share {p.invest_to_save_share:.0%}.", notes.get("dynamics", "")))
    off = [c.replace("_", " ") for c, on in p.constraints.items() if not on]
    rows.append(("Rules switched off", ", ".join(off) or "none", ""))
    for fence in p.ring_fences:
        rows.append(("Ring fence", f"{fence.label()}: share of budget {fence.min_share} to "
                     f"{fence.max_share}", notes.get("ring_fences", "")))
    for target in p.activity_targets:
        rows.append(("Activity target", f"{target.label()} in {target.year}: at least "
                     f"{inputs.target_minimum(target):,.0f} a year"
                     + ("" if target.scope == "all" else f" in {scope_name(inputs, target)}"),
                     target.source or notes.get("activity_targets", "")))
    pcn_names = inputs.pcns["pcn_name"]
    for lock in p.locks:
        rows.append(("Locked spend", f"{pcn_names.get(lock.pcn, lock.pcn)}, "
                     f"{priority_short(lock.priority)}: {money(lock.spend_gbp)} a year"
                     + (f" in {', '.join(lock.years)}" if lock.years else ""),
                     notes.get("locks", "")))
    return pd.DataFrame(rows, columns=["setting", "value", "meaning"])


def policy_table(policy) -> pd.DataFrame:
    """Every policy setting as text, one row each (the Inputs sheet)."""
    rows = []
    for f in dataclasses.fields(policy):
        value = getattr(policy, f.name)
        if isinstance(value, tuple | list):
            shown = "; ".join(str(v) for v in value)
        elif isinstance(value, dict):
            shown = "; ".join(f"{k}: {v}" for k, v in value.items())
        else:
            shown = value
        rows.append({"setting": f.name, "value": shown if shown not in ("", None) else "(none)"})
    return pd.DataFrame(rows)


def summary_workbook(allocation: Allocation, notes: dict[str, str] | None = None,
                     checks=None, label: str = "", scenario: str | None = None,
                     changed: list[str] | None = None) -> bytes:
    """The finance workbook for one solved (or unsolvable) scenario. `scenario`: its name
    when it is not the model file's (a scenario saved in the app); `changed`: the settings it
    changed from the model file's, in words (optimiser/changes.py), said on the front sheet."""
    inputs = allocation.inputs
    p = inputs.policy
    notes = notes or {}
    scenario = scenario or p.scenario
    staff_names = {g: staff_short(g) for g in inputs.staff_groups.index}
    wb = Workbook(f"Allocation summary: {p.name} ({scenario})", inputs.digest)
    front = wb.sheet("Summary")
    optimal = allocation.status == "optimal"
    head = figures(allocation) if optimal else {}
    _front_sheet(wb, front, allocation, head, notes, checks, label, scenario, changed)
    if optimal:
        _result_sheets(wb, allocation, staff_names)
    _input_sheets(wb, inputs, staff_names)
    return wb.close()


def _front_sheet(wb, sheet, allocation, head, notes, checks, label, scenario,
                 changed) -> None:
    inputs = allocation.inputs
    p = inputs.policy
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 90, wb.wrap)
    sheet.hide_gridlines(2)
    wb.text(sheet, 0, 0, f"Allocation summary: {p.name}", wb.title)
    wb.text(sheet, 1, 0, f"Scenario: {scenario}" + (f" - {label}" if label else ""), wb.bold)
    wb.text(sheet, 2, 0, p.description, wb.wrap)
    row = 4
    if changed is not None:
        wb.wide(sheet, 3, "Settings changed from the model file: " + ("; ".join(changed) + "."
                if changed else "none (the model file's own settings)."), wb.wrap)
        sheet.set_row(3, 15 * (1 + len("; ".join(changed)) // 150))
        row = 5
    wb.text(sheet, row, 0, "The question", wb.heading)
    wb.wide(sheet, row + 1, question(inputs), wb.wrap)
    sheet.set_row(row + 1, 48)
    row += 3
    wb.text(sheet, row, 0, "Status", wb.heading)
    status = allocation.status
    short = status == "optimal" and not allocation.rules_met
    if status == "optimal":
        checked = "" if checks is None else (
            " The independent check recomputed every rule from the output and found it met"
            + (" once each shortfall below is added back." if short else ".")
            if checks.ok else " WARNING: the independent check found a rule broken: "
            + "; ".join(c.rule for c in checks.failures()))
        words = ("Optimal: the best allocation the model can find under every rule." if not short
                 else "The rules cannot all be met: this is the best plan when they bend in the "
                 "model's stated order (each rank's shortfall as small as it can be, in turn, "
                 "then the best weighted outcome). What it falls short of:") + checked
    else:
        words = STATUS_WORDS.get(status, f"{status}: the solver stopped without a plan.")
    wb.wide(sheet, row + 1, words, wb.wrap)
    row += 2
    if short:
        for line in allocation.shortfall_words:
            wb.wide(sheet, row, line, wb.wrap)
            row += 1
    explanation = allocation.explanation
    if explanation is not None:
        for line in [explanation.summary, *explanation.lines]:
            wb.wide(sheet, row, line, wb.wrap)
            row += 1
        for name, value in (explanation.changes or {}).items():
            if value is None:
                continue
            wb.text(sheet, row, 0, f"Suggested change: {name}", wb.bold)
            wb.text(sheet, row, 1, _short(value), wb.wrap)
            row += 1
    row += 1
    if allocation.commissioning is not None:
        wb.text(sheet, row, 0, "Commissionable plan (contracts a commissioner can let)",
                wb.heading)
        row += 1
        for line in allocation.commissioning["words"]:
            wb.wide(sheet, row, line, wb.wrap)
            row += 1
        row += 1
    if head:
        row = strategy_sheets.front_block(wb, sheet, row, allocation, head)
        row = _headline(wb, sheet, row, head, inputs)
    wb.text(sheet, row, 0, "Assumptions and their sources", wb.heading)
    row += 1
    for r in assumptions(inputs, notes).itertuples(index=False):
        wb.text(sheet, row, 0, r.setting, wb.bold)
        wb.text(sheet, row, 1, r.value, wb.wrap)
        wb.text(sheet, row, 2, r.meaning or "(no note in the model file)", wb.wrap)
        row += 1
    row += 1
    wb.text(sheet, row, 0, "Data sources", wb.heading)
    row += 1
    wb.text(sheet, row, 0, "Tables read from", wb.bold)
    wb.text(sheet, row, 1, Path(inputs.source).name, wb.wrap)
    wb.text(sheet, row, 2, "Sources of the shipped tables are listed below; a user's own tables "
            "carry their own sources.", wb.wrap)
    row += 1
    for what, source in DATA_SOURCES:
        wb.text(sheet, row, 0, what, wb.bold)
        wb.text(sheet, row, 2, source, wb.wrap)
        row += 1
    row += 1
    wb.text(sheet, row, 0, "This run", wb.heading)
    row += 1
    run = [("Inputs digest", inputs.digest), ("Model", p.name), ("Scenario", scenario),
           ("Years", ", ".join(p.years)), ("PCNs", f"{len(inputs.pcns)}"),
           ("Objective", "Weighted outcome in £, discounted to the first year: QALYs x £ per "
            "QALY plus activity avoided x its £ value, x equity and priority weights.")]
    for name, value in run:
        wb.text(sheet, row, 0, name, wb.bold)
        wb.text(sheet, row, 1, value, wb.wrap)
        row += 1


def _headline(wb, sheet, row, head, inputs) -> int:
    wb.text(sheet, row, 0, "Headline figures", wb.heading)
    row += 1
    years = len(inputs.years)
    lines = [
        ("Weighted outcome (the objective), discounted", head["objective_gbp"], "gbp",
         f"Total over {years} year(s), discounted to {inputs.years[0]}."),
        ("Budget", head["budget_gbp"], "gbp", f"Total over {years} year(s)."),
        ("Spend allocated", head["spend_gbp"], "gbp", "Sum of the By year and PCN sheet."),
        ("People reached", head["people_reached"], "count", "Person-interventions, all years."),
        ("QALYs gained", head["qaly"], "dec1", ""),
        ("Emergency admissions avoided", head["nel_avoided"], "count", ""),
        ("A&E attendances avoided", head["ed_avoided"], "count", ""),
        ("Bed days avoided", head["bed_days_avoided"], "count", ""),
        ("Outpatient attendances avoided", head["op_avoided"], "count", ""),
        ("WTE used in the final year", head["wte_used_final_year"], "wte",
         "All staff groups, the last model year."),
    ]
    for q in range(1, 6):
        lines.append((f"Spend per head a year, {QUINTILE_NAMES[q]}",
                      head[f"spend_per_head_q{q}_gbp"], "gbp2",
                      "People in the national IMD 2019 quintile: each PCN's people are split "
                      "across quintiles by its practices' IMD, spend per head the same for "
                      "all in a PCN (data/README.md)."))
    lines += [
        ("Spend per head, Q1 ÷ Q5", head["spend_per_head_q1_q5_ratio"], "ratio",
         "Above 1: more per head where deprivation is greatest."),
        ("Spend per eligible person a year, higher-need PCNs",
         head["higher_need_per_eligible_gbp"], "gbp2",
         "Where a PCN is flagged higher-need for the priority (enhanced support); pooled over "
         "ICBs and priorities. The rule is per ICB: see the Higher need vs universal sheet."),
        ("Spend per eligible person a year, universal-offer PCNs",
         head["universal_per_eligible_gbp"], "gbp2", "The other PCNs, for the same priorities, "
         "pooled the same way."),
        ("Concentration index of spend per head", head["spend_per_head_concentration_index"],
         "dec4", "Negative: spend concentrated in more deprived PCNs."),
        ("Binding rules", head["binding_count"], "count", _family_words(
            head["binding_constraints"])),
    ]
    for name, value, kind, note in lines:
        wb.text(sheet, row, 0, name, wb.bold)
        wb.cell(sheet, row, 1, value, wb.number_format(kind))
        wb.text(sheet, row, 2, note or "", wb.wrap)
        row += 1
    return row + 1


def _family_words(counts: str) -> str:
    """"budget_limit 5; need_gradient 4" in words: "budget 5; need gradient 4"."""
    pairs = (part.rsplit(" ", 1) for part in counts.split("; ") if part)
    return "; ".join(f"{_family(name)} {count}" for name, count in pairs)


def _family(name: str) -> str:
    return FAMILY_WORDS.get(name, name.replace("_", " ")).removeprefix("the ")


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple) and all(isinstance(v, float) for v in value):
        return ", ".join(money(v) for v in value)
    text = str(value)
    return text if len(text) < 400 else text[:397] + "..."


def _in_priority_order(frame: pd.DataFrame, priorities: tuple[str, ...]) -> pd.DataFrame:
    """Rows by year, then priorities in the strategy's order (not alphabetical)."""
    rank = {p: i for i, p in enumerate(priorities)}
    order = frame.assign(_rank=frame["priority_id"].map(rank).fillna(len(rank)))
    return order.sort_values(["year", "_rank"], kind="stable").drop(columns="_rank").reset_index(
        drop=True)


def _charts_sheet(wb: Workbook, allocation: Allocation) -> None:
    """The three key views as native Excel charts, each beside the small table it plots."""
    sheet = wb.sheet("Charts")
    names = allocation.inputs.priorities.get("name", pd.Series(dtype=str))
    frame = _in_priority_order(allocation.by_priority, allocation.inputs.priority_ids).assign(
        priority=lambda f: f["priority_id"].map(names).fillna(f["priority_id"]))
    spend_by_priority = frame.pivot_table(index="priority", columns="year", values="spend_gbp",
                                          aggfunc="sum", sort=False).fillna(0.0)
    spend_by_priority.index.name = "Spend (£)"
    frame = allocation.by_quintile
    per_head = frame.pivot_table(index="imd_quintile", columns="year",
                                 values="spend_per_head_gbp", aggfunc="sum")
    per_head.index = [QUINTILE_NAMES.get(int(q), str(q)) for q in per_head.index]
    per_head.index.name = "Spend per head (£)"
    spend_by_icb = allocation.by_icb.pivot_table(index="icb_name", columns="year",
                                                 values="spend_gbp", aggfunc="sum").fillna(0.0)
    spend_by_icb.index.name = "Spend (£)"
    row = 0
    for title, pivot, y_title, y_format, kind, stacked in (
            ("Spend by priority and year", spend_by_priority, "Spend", MILLIONS, "gbp", True),
            ("Spend per head by IMD quintile (1 = most deprived)", per_head, "£ per head",
             "£#,##0", "gbp2", False),
            ("Spend by ICB and year", spend_by_icb, "Spend", MILLIONS, "gbp", False)):
        pivot_with_chart(wb, sheet, "Charts", row, 0, pivot, title, y_title, y_format, kind,
                         stacked)
        row += max(len(pivot) + 4, 24)


def _result_sheets(wb: Workbook, allocation: Allocation, staff_names: dict) -> None:
    inputs = allocation.inputs
    if allocation.contracts is not None:  # [commissioning]: one row per contract and year
        sheet = wb.sheet("Contracts")
        wb.table(sheet, 0, allocation.contracts, freeze_cols=3, staff_names=staff_names)
    strategy_sheets.sheets(wb, allocation)
    _charts_sheet(wb, allocation)
    wte = allocation.wte_columns
    outcomes = ["qaly", *ACTIVITY_OUTCOMES]

    frame = allocation.by_pcn_year.copy()
    frame["wte_total"] = frame[wte].sum(axis=1)
    pcn_info = inputs.pcns[["place_code"]]
    frame = frame.merge(pcn_info, left_on="pcn_code", right_index=True, how="left")
    cols = ["year", "pcn_code", "pcn_name", "icb_code", "icb_name", "place_name", "imd_quintile",
            "population", "spend_gbp", "spend_per_head_gbp", "people_reached", "wte_total", *wte,
            *outcomes, "weighted_value_gbp", *VALUE_PARTS]
    sheet = wb.sheet("By year and PCN")
    wb.table(sheet, 0, frame[cols], freeze_cols=3, staff_names=staff_names)

    names = inputs.priorities["name"] if "name" in inputs.priorities else pd.Series(dtype=str)
    frame = _in_priority_order(allocation.by_priority, allocation.inputs.priority_ids)
    frame.insert(2, "priority_name", frame["priority_id"].map(names).fillna(""))
    frame["wte_total"] = frame[wte].sum(axis=1)
    cols = ["year", "priority_id", "priority_name", "spend_gbp", "higher_need_spend_gbp",
            "people_reached", "wte_total", *wte, *outcomes, "weighted_value_gbp", *VALUE_PARTS]
    sheet = wb.sheet("By priority")
    wb.table(sheet, 0, frame[cols], freeze_cols=3, staff_names=staff_names)

    frame = allocation.by_icb.copy()
    frame["wte_total"] = frame[wte].sum(axis=1)
    cols = ["year", "icb_code", "icb_name", "population", "spend_gbp", "spend_per_head_gbp",
            "wte_total", *wte, *outcomes, "weighted_value_gbp", *VALUE_PARTS]
    sheet = wb.sheet("By ICB")
    wb.table(sheet, 0, frame[cols], freeze_cols=3, staff_names=staff_names)

    frame = allocation.by_place.copy()
    icb_of_place = inputs.pcns.drop_duplicates("place_code").set_index("place_code")
    frame.insert(1, "icb_code", frame["place_code"].map(icb_of_place["icb_code"]))
    frame["wte_total"] = frame[wte].sum(axis=1)
    cols = ["year", "icb_code", "place_code", "place_name", "population", "spend_gbp",
            "spend_per_head_gbp", "wte_total", *wte, *outcomes, "weighted_value_gbp",
            *VALUE_PARTS]
    sheet = wb.sheet("By place")
    wb.table(sheet, 0, frame[cols], freeze_cols=4, staff_names=staff_names)

    frame = allocation.by_quintile.copy()
    frame["population"] = frame["population"].round()  # people split by shares: whole people
    cols = ["year", "imd_quintile", "population", "spend_gbp", "spend_per_head_gbp", *outcomes,
            "qaly_per_1000", "weighted_value_gbp", "value_per_head_gbp"]
    sheet = wb.sheet("By IMD quintile")
    wb.table(sheet, 0, frame[cols], freeze_cols=2)

    _higher_need_sheet(wb, allocation, names)

    if not allocation.rules_met:
        sheet = wb.sheet("Shortfalls")
        wb.text(sheet, 0, 0, "Where the plan falls short of a rule (the rules bent in the "
                "model's stated order): each row's shortfall in the rule's own unit and in £.",
                wb.bold)
        short = allocation.shortfalls
        wb.table(sheet, 2, short.assign(rule=short["rule"].map(
            lambda r: RULE_WORDS.get(r, r).removeprefix("the ").capitalize())), freeze_cols=3)
    _shadow_price_sheet(wb, allocation)


def _higher_need_sheet(wb: Workbook, allocation: Allocation, names: pd.Series) -> None:
    """The enhanced-support rule as it is measured: per ICB; the pooled view labelled so."""
    rank = {r: i for i, r in enumerate(allocation.inputs.priority_ids)}
    frame = allocation.higher_need_comparison.copy()
    frame = frame.assign(_rank=frame["priority_id"].map(rank)).sort_values(
        ["year", "icb_code", "_rank"], kind="stable").drop(columns="_rank")
    frame.insert(4, "priority_name", frame["priority_id"].map(names).fillna(""))
    uplift = allocation.inputs.policy.enhanced_uplift
    sheet = wb.sheet("Higher need vs universal")
    wb.text(sheet, 0, 0, "Enhanced support, per ICB as the rule measures it: in each ICB, spend "
            "per eligible person a year on a priority in the PCNs flagged higher-need for it, "
            "against the ICB's other PCNs. Spend per eligible person on a priority = the PCN's "
            "spend on all the priority's interventions ÷ the priority's eligible cohort there "
            "(the largest cohort among its interventions, since they overlap). The rule holds "
            f"every higher-need PCN at {1 + uplift:.2f} x the others' average or more: the "
            "lowest PCN's ratio shows it.", wb.wrap)
    sheet.set_row(0, 60)
    first, last = wb.table(sheet, 2, frame, freeze_cols=5, labels={
        "ratio": "Higher-need ÷ other, averages", "lowest_pcn_ratio":
        "Lowest higher-need PCN ÷ other", "rule_ratio": "The rule: at least"},
        kinds={"lowest_pcn_ratio": "ratio", "rule_ratio": "ratio"})
    pooled = _in_priority_order(allocation.higher_need_pooled, allocation.inputs.priority_ids)
    pooled.insert(2, "priority_name", pooled["priority_id"].map(names).fillna(""))
    row = last + 3
    wb.text(sheet, row, 0, "All ICBs pooled: NOT what the rule measures. Each ICB's higher-need "
            "PCNs are held against its own other PCNs; pooled across ICBs whose spend per "
            "person differs, the ratio can fall below the rule where every ICB meets it.",
            wb.bold)
    wb.table(sheet, row + 2, pooled, freeze=False, labels={
        "ratio": "Higher-need ÷ other, pooled over ICBs"})


def _shadow_price_sheet(wb: Workbook, allocation: Allocation) -> None:
    sheet = wb.sheet("Shadow prices")
    sheet.set_column(0, 0, 130, wb.wrap)
    wb.text(sheet, 0, 0, "What one more £ or WTE is worth, and which rules cost outcome",
            wb.title)
    wb.text(sheet, 1, 0, "A shadow price is the weighted outcome (£, discounted to the first "
            "year) gained by loosening a binding limit by one unit. Rules the model must meet "
            "(the universal offer, enhanced support, the need gradient) show what they cost. "
            "A limit that does not bind is worth nothing at the margin. Every binding rule, "
            "with its number, is on the Binding rules sheet.", wb.wrap)
    sheet.set_row(1, 45)
    row = 3
    for line in allocation.shadow_prices_in_words() or ["No limit binds."]:
        wb.text(sheet, row, 0, line, wb.wrap)
        row += 1

    binding = allocation.binding
    sheet = wb.sheet("Binding rules")
    wb.text(sheet, 0, 0, "Which rules bind: a count by rule family, every binding budget and "
            "workforce limit, and the costliest rows of each other family", wb.bold)
    families = binding.groupby("constraint", sort=False)["shadow_price"].agg(
        binding_count="size", largest=lambda x: float(x.abs().max()))
    families = families.reindex([c for c in CONSTRAINT_FAMILIES if c in families.index])
    families = families.reset_index()
    families["constraint"] = families["constraint"].map(_family)
    first, last = wb.table(sheet, 2, families, freeze=False, labels={
        "constraint": "Rule family", "largest": "Largest shadow price (£ of outcome per unit)"},
        widths={"constraint": 40})
    resources = binding["constraint"].isin(["budget_limit", "workforce_limit"])
    top = (binding[~resources].assign(_size=binding["shadow_price"].abs())
           .sort_values(["constraint", "_size"], ascending=[True, False], kind="stable")
           .groupby("constraint", sort=False).head(TOP_ROWS_PER_RULE))
    rows = pd.concat([binding[resources], top])
    rows = rows.assign(constraint=rows["constraint"].map(_family))
    cols = ["constraint", "what", "activity", "lower", "upper", "shadow_price", "in_words"]
    wb.table(sheet, last + 3, rows[cols], freeze=False,
             widths={"what": 40, "in_words": 90, "constraint": 40})


def _input_sheets(wb: Workbook, inputs, staff_names: dict) -> None:
    sheet = wb.sheet("Inputs")
    wb.text(sheet, 0, 0, "Every policy setting used in this run (the model file with the "
            "scenario's overrides applied)", wb.bold)
    wb.table(sheet, 2, policy_table(inputs.policy), widths={"setting": 30, "value": 100})

    sheet = wb.sheet("Workforce available")
    frame = inputs.workforce_wte.reset_index()
    wb.text(sheet, 0, 0, "WTE available to the programmes by staff group, scope and year "
            "(groups not listed are not limited)", wb.bold)
    if len(frame):
        frame.columns = ["staff_group", "scope", *[str(c) for c in frame.columns[2:]]]
        wb.table(sheet, 2, frame, freeze_cols=2,
                 widths={str(y): 12 for y in inputs.years} | {"staff_group": 28},
                 kinds={str(y): "wte" for y in inputs.years},
                 labels={str(y): f"WTE {y}" for y in inputs.years})

    sheet = wb.sheet("PCN inputs")
    pcns = inputs.pcns
    flags = inputs.higher_need
    frame = pd.DataFrame({
        "pcn_code": pcns.index, "pcn_name": pcns["pcn_name"].to_numpy(),
        "icb_code": pcns["icb_code"].to_numpy(), "place_name": pcns["place_name"].to_numpy(),
        "population": pcns["population"].to_numpy(), "imd_score": pcns["imd_score"].to_numpy(),
        "imd_quintile": pcns["imd_quintile"].to_numpy(),
        "fair_share": inputs.fair_share.reindex(pcns.index).to_numpy(),
        "higher_need_priorities": [", ".join(np.asarray(flags.columns)[row])
                                   for row in flags.reindex(pcns.index).to_numpy(dtype=bool)],
    })
    wb.table(sheet, 0, frame, freeze_cols=2)

    sheet = wb.sheet("Interventions")
    iv = inputs.interventions
    cols = [c for c in ("intervention_id", "priority_id", "name", "tier", "lever",
                        "cohort_population", "cohort_prevalence", "cohort_share", "max_uptake",
                        "cost_gbp", "qaly", *ACTIVITY_OUTCOMES, "outcome_horizon", "confidence",
                        "sources") if c in iv.columns]
    cols += [c for c in iv.columns if c.startswith("wte_per_1000_")]
    frame = iv[cols].reset_index(drop=True)
    wb.text(sheet, 0, 0, "The intervention library used (per person reached: cost, outcome per "
            "person before the PCN's risk multiplier, WTE per 1,000 people); working in "
            "data/INTERVENTIONS.md", wb.bold)
    per_person = {c: "dec4" for c in ("qaly", *ACTIVITY_OUTCOMES)}
    labels = {c: f"{OUTCOME_LABELS[c]} per person reached" for c in per_person}
    labels |= {c: f"WTE per 1,000 people: {staff_names.get(c[13:], c[13:])}"
               for c in cols if c.startswith("wte_per_1000_")}
    labels |= {"cost_gbp": "Cost per person reached (£)"}
    kinds = per_person | {"cost_gbp": "gbp", "cohort_share": "share", "max_uptake": "share"}
    kinds |= {c: "dec2" for c in cols if c.startswith("wte_per_1000_")}
    wb.table(sheet, 2, frame, freeze_cols=1, widths={"name": 40, "sources": 50}, kinds=kinds,
             labels=labels)


# ---- comparison.xlsx ------------------------------------------------------------------------

COMPARISON_KEY_COLUMNS = ("scenario", "icbs", "icb_names", "status", "objective_gbp",
                          "objective_gbp_vs_base", "spend_gbp", "qaly", "qaly_vs_base",
                          "nel_avoided", "nel_avoided_vs_base", "ed_avoided", "bed_days_avoided",
                          *(f"spend_per_head_q{q}_gbp" for q in range(1, 6)),
                          "spend_per_head_q1_q5_ratio", "higher_need_per_eligible_gbp",
                          "universal_per_eligible_gbp", "higher_need_to_universal_ratio",
                          "spend_per_head_concentration_index", "health_value_gbp",
                          "cash_value_gbp", "cash_released_gbp", "cash_released_per_gbp",
                          "unflagged_share", "enhanced_interventions_funded",
                          "higher_need_below_median_pcns", "binding_constraints",
                          "reference_scenario", "explanation")


def comparison_workbook(table: pd.DataFrame, model_name: str, reference: str) -> bytes:
    """The workbook across scenarios (and ICBs): the same numbers as comparison.csv."""
    digests = "".join(str(d) for d in table.get("input_digest", pd.Series(dtype=str)))
    wb = Workbook(f"Scenario comparison: {model_name}", digests)
    front = wb.sheet("Summary")
    front.hide_gridlines(2)
    front.set_column(0, 0, 36)
    front.set_column(1, 1, 100, wb.wrap)
    wb.text(front, 0, 0, f"Scenario comparison: {model_name}", wb.title)
    counts = table["status"].value_counts()
    lines = [
        ("Runs", f"{len(table)}: " + ", ".join(f"{n} {s}" for s, n in counts.items())),
        ("Scenarios", ", ".join(dict.fromkeys(table["scenario"].astype(str)))),
        ("ICBs", ", ".join(dict.fromkeys(table["icbs"].astype(str)))
         if table["icbs"].nunique() <= 12 else f"{table['icbs'].nunique()} ICB runs"),
        ("Compared with", f"Differences ('change from the compared scenario') are against the "
         f"'{reference}' scenario of the same ICB(s)."),
        ("Sheets", "Key figures: the main columns. All figures: every column of "
         "comparison.csv. Charts: weighted outcome and spend per head by IMD quintile."),
        ("Units", "£ at 2024/25 prices; totals over the model's years; the objective is "
         "discounted to the first year; per-head figures are a year's average."),
        ("Reading the objective", "The weighted outcome uses each scenario's own weights "
         "(equity weights by IMD quintile, the £ value of activity avoided). Compare it only "
         "between scenarios with the same weights; compare QALYs and activity avoided across "
         "all of them."),
    ]
    for i, (name, value) in enumerate(lines, start=2):
        wb.text(front, i, 0, name, wb.bold)
        wb.text(front, i, 1, value, wb.wrap)
    row = len(lines) + 3
    bad = table[table["status"] != "optimal"]
    if len(bad):
        wb.text(front, row, 0, "Runs that are not optimal", wb.heading)
        row += 1
        for r in bad.itertuples(index=False):
            wb.text(front, row, 0, f"{r.scenario} {r.icbs}", wb.bold)
            wb.text(front, row, 1, f"{r.status}: {r.explanation}", wb.wrap)
            row += 1

    key = [c for c in COMPARISON_KEY_COLUMNS if c in table.columns]
    key[-3:-3] = [c for c in table.columns if re.fullmatch(r"(target|aim)\d+_(ambition|"
                                                           r"share_of_way)", c)]
    sheet = wb.sheet("Key figures")
    wb.table(sheet, 0, table[key], freeze_cols=2,
             widths={"explanation": 60, "binding_constraints": 40})
    sheet = wb.sheet("All figures")
    wb.table(sheet, 0, table, freeze_cols=2,
             widths={"explanation": 60, "binding_constraints": 40, "description": 40})

    charts = wb.sheet("Charts")
    data = table[table["status"] == "optimal"]
    labels = (data["scenario"].astype(str) + np.where(
        data["icbs"].astype(str) != "", " " + data["icbs"].astype(str), "")).tolist()
    chart_rows = pd.DataFrame({"run": labels,
                               "objective_gbp": data["objective_gbp"].to_numpy(),
                               **{f"spend_per_head_q{q}_gbp":
                                  data[f"spend_per_head_q{q}_gbp"].to_numpy()
                                  for q in range(1, 6)}})
    wb.text(charts, 0, 0, "Chart data (optimal runs)", wb.heading)
    first, last = wb.table(charts, 1, chart_rows, freeze=False, widths={"run": 30})
    if len(chart_rows):
        chart = column_chart(wb, "Charts", first, last, 0, [(1, "Weighted outcome")],
                             "Weighted outcome by run (discounted)", "£", MILLIONS)
        charts.insert_chart(1, 9, chart)
        chart = column_chart(wb, "Charts", first, last, 0,
                             [(1 + q, QUINTILE_NAMES[q]) for q in range(1, 6)],
                             "Spend per head a year by IMD quintile", "£ per head", "£#,##0")
        charts.insert_chart(23, 9, chart)
    return wb.close()


def write_summary(path: Path, allocation: Allocation, **kw) -> None:
    io.write_atomic(Path(path), summary_workbook(allocation, **kw))
