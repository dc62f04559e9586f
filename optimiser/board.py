"""What a board reads first: the headline figures of a plan, and why its equity ratio moves.

The same six figures head the app, the board pack and the comparison of two scenarios, so
they are computed once here (from `Allocation.detail`, for the year in view or all years)
with their labels and formats. The reasons are read from the inputs: where the Q1:Q5 ratio
of spend per head falls below 1, or moves against the equity dial on the frontier, they say
which fact of the data or the settings does it, with its number. No Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import formats
from .equity import quintile_ratio, split_by_quintile
from .explain import FAMILY_WORDS
from .inputs import ModelInputs
from .results import Allocation
from .schemas import priority_short, staff_short

NEED_WORDS = {  # the need measures the need gradient can follow (data/README.md)
    "need_overall_eng": "NHS England's overall need index (the weighted population of the core "
                        "allocation: age, sex, morbidity and deprivation together)",
    "need_ga_eng": "NHS England's general and acute need index",
    "need_community_eng": "NHS England's community services need index",
    "need_mental_health_eng": "NHS England's mental health need index",
    "need_health_inequalities_eng": "NHS England's health-inequalities need index",
    "need_primary_care_eng": "NHS England's primary medical care need index",
}
RATIO_TOLERANCE = 0.005  # a move of the Q1:Q5 ratio smaller than this is no move


@dataclass(frozen=True)
class Tile:
    """One headline figure: its key, its full and short labels, the value and its text."""

    name: str
    label: str  # with the period: "Spend (five years)"
    short: str  # for one row of tiles on a projector: "Spend"
    value: float
    text: str
    fmt: object  # the formatter of the value (and of a change: fmt(x, signed=True))


def figures(allocation: Allocation, year: str | None = None) -> dict[str, float]:
    """The headline figures for the year in view (None: all years), from the detail table."""
    detail = allocation.detail
    years = allocation.inputs.years
    in_view = detail if year is None else detail[detail["year"] == year]
    final = detail[detail["year"] == (year or years[-1])]
    pcns = allocation.inputs.pcns
    spend = in_view.groupby("pcn_code")["spend_gbp"].sum().reindex(pcns.index, fill_value=0.0)
    by_q = split_by_quintile(pd.DataFrame({"spend": spend, "population": pcns["population"]}),
                             allocation.inputs.quintile_shares)  # people, not PCNs, by quintile
    return {
        "objective": float(allocation.objective or 0.0),
        "spend": float(in_view["spend_gbp"].sum()),
        "ratio": quintile_ratio(by_q["spend"] / by_q["population"]),
        "qaly": float(in_view["qaly"].sum()),
        "nel": float(in_view["nel_avoided"].sum()),
        "wte": float(final[allocation.wte_columns].to_numpy().sum()),
    }


FORMATS = {"objective": formats.money, "spend": formats.money, "ratio": formats.ratio,
           "qaly": formats.count, "nel": formats.count, "wte": formats.wte}


def tiles(values: dict[str, float], years: tuple[str, ...], year: str | None = None) -> list[Tile]:
    """The six tiles, in the order they are shown, for `figures(...)` of the year in view."""
    every = "five years" if len(years) == 5 else f"{len(years)} years"
    span = year or every
    final = year or years[-1]
    labels = {
        "objective": (f"Weighted outcome ({every}, discounted)", "Weighted outcome"),
        "spend": (f"Spend ({span})", "Spend"),
        "ratio": ("Q1:Q5 spend per head", "Q1:Q5 per head"),
        "qaly": (f"QALYs gained ({span})", "QALYs gained"),
        "nel": (f"Emergency admissions avoided ({span})", "Admissions avoided"),
        "wte": (f"WTE used ({final})", f"WTE used {final}"),
    }
    out = []
    for name, (label, short) in labels.items():
        value, fmt = values[name], FORMATS[name]
        out.append(Tile(name, label, short, value,
                        fmt(value) if np.isfinite(value) else "n/a", fmt))
    return out


def period(years: tuple[str, ...], year: str | None) -> str:
    """The period the tiles cover, said once above a row of short tiles."""
    if year:
        return f"{year}; weighted outcome over all years, discounted."
    every = "five" if len(years) == 5 else str(len(years))
    return (f"{years[0]} to {years[-1]}: totals over the {every} years (weighted outcome "
            f"discounted; WTE in {years[-1]}).")


# ---- why the Q1:Q5 ratio is where it is ------------------------------------------------------

def quintile_per_head(inputs: ModelInputs, per_pcn: pd.Series) -> pd.Series:
    """An amount per PCN shared over the IMD quintiles by people, per head (quintile 1..5)."""
    pcns = inputs.pcns
    frame = pd.DataFrame({"amount": per_pcn.reindex(pcns.index, fill_value=0.0),
                          "population": pcns["population"].astype(float)})
    by_q = split_by_quintile(frame, inputs.quintile_shares)
    return by_q["amount"] / by_q["population"]


def fair_share_ratio(inputs: ModelInputs) -> float:
    """The Q1:Q5 ratio per head of the need-weighted fair shares the need gradient follows:
    where the ratio goes at dial 1 (every PCN then gets exactly its fair share)."""
    return quintile_ratio(quintile_per_head(inputs, inputs.fair_share))


def cohort_ratio(inputs: ModelInputs) -> float:
    """The Q1:Q5 ratio of people eligible for the priorities' services, per head."""
    return quintile_ratio(quintile_per_head(inputs, inputs.priority_cohort.sum(axis=1)))


def need_words(inputs: ModelInputs) -> str:
    measure = inputs.policy.need_measure
    return NEED_WORDS.get(measure, f"the need measure {measure.replace('_', ' ')}")


def below_one_reasons(inputs: ModelInputs, ratio: float) -> list[str]:
    """Why spend per head is lower in the most deprived fifth than in the least (ratio < 1),
    from the facts of the data and the settings that push it there; empty when ratio >= 1."""
    if not np.isfinite(ratio) or ratio >= 1:
        return []
    reasons = []
    cohort = cohort_ratio(inputs)
    if cohort < 1:
        by_priority = {r: quintile_ratio(quintile_per_head(inputs, inputs.priority_cohort[r]))
                       for r in inputs.priority_ids}
        larger = sorted((v, r) for r, v in by_priority.items() if v < 1)[:2]
        which = " and ".join(f"{priority_short(r)} ({v:.2f})" for v, r in larger)
        reasons.append(
            f"the services are for people who are fewer per head in the most deprived fifth: "
            f"{cohort:.2f} eligible people per head in Q1 for each one in Q5 (lowest: {which})")
    weights = inputs.policy.quintile_weight
    if weights[0] <= weights[-1]:
        reasons.append(f"the equity weights count an outcome in Q1 no more than one in Q5 "
                       f"({weights[0]:g} against {weights[-1]:g})")
    p = inputs.policy
    fair = fair_share_ratio(inputs)
    if p.on("need_gradient") and p.need_gradient > 0 and fair < 1:
        reasons.append(f"the need gradient follows {need_words(inputs)}, by which Q1's fair "
                       f"share per head is {fair:.2f} times Q5's")
    if not reasons:
        reasons.append("the most valuable services per £ are, in this plan, in less deprived "
                       "areas (see the Shadow prices tab for the rules that bind)")
    return reasons


def below_one_sentence(inputs: ModelInputs, ratio: float) -> str:
    """The reasons as one sentence ("" when the ratio is 1 or more)."""
    reasons = below_one_reasons(inputs, ratio)
    if not reasons:
        return ""
    return (f"The Q1:Q5 ratio is {ratio:.2f}, below 1: the plan spends less per head in the "
            "most deprived fifth than in the least, because " + "; and ".join(reasons) + ".")


def against_the_dial(table: pd.DataFrame, inputs: ModelInputs) -> str:
    """Where the Q1:Q5 ratio falls as the equity dial rises on the frontier, and why ("" when
    it never does). `table`: need_gradient, q1_q5_ratio for the points with a plan."""
    points = table.dropna(subset=["q1_q5_ratio"]).sort_values("need_gradient")
    dial = points["need_gradient"].to_numpy()
    ratio = points["q1_q5_ratio"].to_numpy()
    falls = [(dial[i], dial[i + 1], ratio[i], ratio[i + 1]) for i in range(len(points) - 1)
             if ratio[i + 1] < ratio[i] - RATIO_TOLERANCE]
    if not falls:
        return ""
    start, end = falls[0][0], falls[-1][1]
    high, low = max(f[2] for f in falls), min(f[3] for f in falls)
    fair = fair_share_ratio(inputs)
    return (f"The Q1:Q5 ratio falls from {high:.2f} to {low:.2f} as the dial rises from "
            f"{start:.2f} to {end:.2f}. The dial asks each PCN for at least that fraction of its "
            f"need-weighted fair share, and the fair shares follow {need_words(inputs)}: by "
            f"that measure the most deprived fifth's share per head is {fair:.2f} times the "
            f"least deprived's. At dial 1 every PCN gets exactly its fair share, so the ratio "
            f"is pulled towards {fair:.2f}: needs other than deprivation (age, above all) "
            "draw money to less deprived areas.")


def frontier_range(table: pd.DataFrame) -> tuple[float, float, float]:
    """The lowest and highest weighted outcome on the frontier and the fall as a share of the
    highest (the range an axis that does not start at zero magnifies)."""
    values = table["objective_gbp"].dropna()
    low, high = float(values.min()), float(values.max())
    return low, high, (high - low) / high if high else float("nan")


def signed(tile: Tile, change: float) -> str | None:
    """A tile's change as shown beside it (+£1.2m, −0.04), or None when it rounds to nothing."""
    text = tile.fmt(change, signed=True)
    return text if any(ch in "123456789" for ch in text) else None


def summary_sentence(values: dict[str, float], years: tuple[str, ...]) -> str:
    """The headline tiles as one sentence (a text alternative, and the pack's first line)."""
    t = {tile.name: tile for tile in tiles(values, years)}
    return (f"Over {years[0]} to {years[-1]} the plan spends {t['spend'].text} for a weighted "
            f"outcome of {t['objective'].text} (discounted): {t['qaly'].text} QALYs gained and "
            f"{t['nel'].text} emergency admissions avoided, with {t['wte'].text} WTE in "
            f"{years[-1]}; spend per head in the most deprived fifth is {t['ratio'].text} "
            "times that in the least deprived.")


# ---- shadow prices, read straight from the solver's duals (fast enough for every rerun) ------

def shadow_prices(allocation: Allocation) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """The budget's shadow price in words (a line per year it binds), the binding workforce
    limits (staff, where, year, gbp_per_wte; largest first) and, per rule, how many of its rows
    bind (rule, binding, of)."""
    sol, lp = allocation.solution, allocation.lp
    arrays = lp.arrays()
    budget = []
    if "budget_limit" in lp.rows:
        block = lp.rows["budget_limit"]
        duals = sol.row_dual[block.start:block.stop]
        for year, price in zip(block.index["year"], duals, strict=True):
            if abs(price) > 1e-7:
                budget.append(f"One more £1m in {year} buys {formats.money(price * 1e6)} of "
                              "weighted outcome (discounted to today's value).")
    rows = []
    if "workforce_limit" in lp.rows:
        block = lp.rows["workforce_limit"]
        frame = block.index.copy()
        frame["price"] = sol.row_dual[block.start:block.stop]
        frame = frame[frame["price"].abs() > 1e-7].sort_values("price", ascending=False)
        for row in frame.itertuples():
            rows.append({"staff": staff_short(row.staff_group).capitalize(),
                         "where": formats.short_icb(allocation.scope_name(row.scope)),
                         "year": row.year, "gbp_per_wte": round(float(row.price))})
    families = []
    for name, block in lp.rows.items():
        if name not in FAMILY_WORDS:
            continue
        sl = slice(block.start, block.stop)
        duals = sol.row_dual[sl]
        activity = sol.row_value[sl]
        slack = np.minimum(activity - arrays["row_lower"][sl], arrays["row_upper"][sl] - activity)
        binding = (np.abs(duals) > 1e-7) & (slack <= 1e-6 * np.maximum(1.0, np.abs(activity)))
        families.append({"rule": FAMILY_WORDS[name].removeprefix("the ").capitalize(),
                         "binding": int(binding.sum()), "of": block.size})
    return (budget, pd.DataFrame(rows, columns=["staff", "where", "year", "gbp_per_wte"]),
            pd.DataFrame(families, columns=["rule", "binding", "of"]))


def shadow_price_words(allocation: Allocation, staff_lines: int = 5) -> list[str]:
    """The shadow prices as sentences a board reads: money per year, the most valuable extra
    posts, and the rules the plan is pressed against (what keeping them costs)."""
    budget, workforce, families = shadow_prices(allocation)
    lines = list(budget) or ["The budget is not holding the plan back: more money would buy "
                             "nothing more."]
    for row in workforce.head(staff_lines).itertuples():
        lines.append(f"One more WTE of {row.staff.lower()} in {row.where} in {row.year} buys "
                     f"{formats.money(row.gbp_per_wte)} of weighted outcome.")
    if len(workforce) > staff_lines:
        lines.append(f"{len(workforce) - staff_lines} more workforce limits bind (the app's "
                     "Shadow prices tab lists them all).")
    if not len(workforce):
        lines.append("No workforce limit is holding the plan back.")
    pressed = families[(families["binding"] > 0)
                       & ~families["rule"].isin(["Budget", "Workforce available"])]
    if len(pressed):
        lines.append("Rules the plan is pressed against, each costing weighted outcome to keep: "
                     + "; ".join(f"{r.rule.lower()} ({r.binding:,} of {r.of:,} places)"
                                 for r in pressed.itertuples()) + ".")
    return lines


# ---- the equity views' tables ---------------------------------------------------------------

def spend_per_head_by_quintile(allocation: Allocation, year: str | None = None) -> pd.Series:
    """£ per head a year by IMD quintile (1..5): the year in view, or the average year."""
    quintiles = allocation.by_quintile
    if year:
        quintiles = quintiles[quintiles["year"] == year]
    by_q = quintiles.groupby("imd_quintile")[["spend_gbp", "population"]].sum()
    per_head = by_q["spend_gbp"] / by_q["population"]  # population counted once per year
    return per_head.set_axis(per_head.index.astype(int))


def higher_need_vs_universal(allocation: Allocation, year: str | None = None) -> pd.DataFrame:
    """Per priority (in the model's order): £ per eligible person a year in the PCNs flagged
    higher-need for it and in the others (universal offer only)."""
    comparison = allocation.higher_need_comparison
    if year:
        comparison = comparison[comparison["year"] == year]
    comparison = comparison.groupby("priority_id")[
        ["higher_need_per_eligible_gbp", "other_per_eligible_gbp"]].mean()
    return comparison.reindex([r for r in allocation.inputs.priority_ids
                               if r in comparison.index])
