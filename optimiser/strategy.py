"""The strategy's own lenses on a plan: where enhanced support goes, the higher-need set against
the rest, the best-to-worst PCN range, higher-need PCNs left below the median, health and cash.

Seed 001 reads a plan through these (L653-656, and the KPI footnotes at L800-1043: "PCN level,
'Top-15' PCNs aggregate vs all other PCNs. DLN total"; "best-worst PCN range"). Our reading of
"Top-15": for each priority, the PCNs flagged higher-need for it, 25% of each ICB's PCNs (4 in
Derby and Derbyshire, 4 in Lincolnshire, 7 in Nottingham and Nottinghamshire: 15 in DLN;
seed-001-notes section 10). Every comparison is made within an ICB; a row across ICBs is
labelled "pooled". Figures are a typical year (the average of the model's years), £ at 2024/25
prices; outcomes are those of the priority's own interventions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .results import Allocation

POOLED = "all ICBs (pooled)"
SEVERAL = 2  # a PCN flagged for this many priorities or more is "higher-need for several"


def _names(allocation: Allocation) -> pd.Series:
    priorities = allocation.inputs.priorities
    return priorities["name"] if "name" in priorities else pd.Series(
        list(priorities.index), index=priorities.index)


def _flagged(allocation: Allocation, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's PCN is flagged higher-need for the row's priority."""
    flags = allocation.inputs.higher_need
    table = flags.stack()
    lookup = pd.Series(table.to_numpy(dtype=bool), index=table.index.map(tuple))
    keys = list(zip(frame["pcn_code"], frame["priority_id"], strict=True))
    return lookup.reindex(keys, fill_value=False).to_numpy()


# ---- enhanced support where the strategy puts it --------------------------------------------

def enhanced_support(allocation: Allocation) -> pd.DataFrame:
    """Enhanced-tier spend (all years) in PCNs flagged for the priority against the others,
    per ICB and for all ICBs, with how many enhanced interventions get any money."""
    inputs = allocation.inputs
    detail = allocation.detail
    enhanced = detail[detail["tier"] == "enhanced"].assign(
        flagged=lambda f: _flagged(allocation, f),
        icb_code=lambda f: f["pcn_code"].map(inputs.pcns["icb_code"]))
    library = inputs.interventions.index[inputs.interventions["tier"] == "enhanced"]
    icb_names = inputs.pcns.drop_duplicates("icb_code").set_index("icb_code")["icb_name"]
    groups = [(c, icb_names[c], enhanced[enhanced["icb_code"] == c])
              for c in sorted(icb_names.index)]
    if len(groups) > 1:
        groups.append(("all", "all ICBs", enhanced))
    rows = []
    for code, name, part in groups:
        spend = float(part["spend_gbp"].sum())
        unflagged = float(part.loc[~part["flagged"], "spend_gbp"].sum())
        funded = part.groupby("intervention_id")["spend_gbp"].sum()
        rows.append({"icb_code": code, "icb_name": name, "enhanced_spend_gbp": spend,
                     "flagged_spend_gbp": spend - unflagged, "unflagged_spend_gbp": unflagged,
                     "unflagged_share": unflagged / spend if spend else math.nan,
                     "enhanced_interventions_funded": int((funded > 1e-6).sum()),
                     "enhanced_interventions": len(library)})
    return pd.DataFrame(rows)


def enhanced_offer_value(allocation: Allocation) -> pd.DataFrame:
    """What offering each enhanced intervention outside its flagged PCNs would be worth, from
    the reduced costs of the columns the rule `enhanced_where_flagged` holds at zero: £ of
    weighted outcome (discounted) per person reached in the first tranche, net of what the
    money and staff would buy elsewhere. Empty when the rule is off."""
    from .formulation import Layout

    inputs = allocation.inputs
    if not inputs.policy.on("enhanced_where_flagged") or not allocation.solution.optimal:
        return pd.DataFrame()
    lay = Layout(inputs)
    flags = inputs.higher_need.reindex(columns=lay.priorities).to_numpy(dtype=bool)
    closed = np.nonzero(lay.enhanced & ~flags[lay.pcn_pos, lay.prio_pos])[0]
    block = allocation.lp.columns["reached"]
    duals = allocation.solution.col_dual[block.start:block.stop].reshape(lay.T, lay.M, lay.K)
    first = duals[:, closed, 0]  # T x closed pairs, the first tranche
    best_year = first.argmax(axis=0)
    value = first[best_year, np.arange(len(closed))]
    frame = pd.DataFrame({"intervention_id": inputs.interventions.index[lay.iv_pos[closed]],
                          "pcn_code": inputs.pcns.index[lay.pcn_pos[closed]],
                          "year": np.array(inputs.years)[best_year], "value": value,
                          "cost": lay.cost[closed]})
    rows = []
    names = inputs.interventions["name"]
    for iid, part in frame.groupby("intervention_id", sort=False):
        top = part.loc[part["value"].idxmax()]
        worth = int((part["value"] > 1e-6).sum())
        pcn = inputs.pcns.at[top["pcn_code"], "pcn_name"]
        words = (f"Worth offering in {worth} of the {len(part)} PCNs not flagged for it: each £ "
                 f"spent on it there would add up to £{top['value'] / top['cost']:.2f} of "
                 f"weighted outcome on top of what that £ buys now ({pcn}, {top['year']})."
                 if worth else
                 f"Not worth offering in any of the {len(part)} PCNs not flagged for it: the "
                 "money and staff buy more elsewhere.")
        rows.append({"intervention_id": iid, "intervention": names[iid],
                     "priority_id": inputs.interventions.at[iid, "priority_id"],
                     "unflagged_pcns": len(part), "pcns_worth_offering": worth,
                     "best_value_per_person_gbp": max(float(top["value"]), 0.0) + 0.0,
                     "best_value_per_gbp": max(float(top["value"]) / top["cost"], 0.0) + 0.0,
                     "in_words": words})
    return pd.DataFrame(rows)


# ---- the higher-need ("Top-15") PCNs against the rest, and the PCN range --------------------

def _typical_year(allocation: Allocation) -> pd.DataFrame:
    """PCN x priority, a typical year: spend, QALYs, admissions avoided, eligible, population."""
    inputs = allocation.inputs
    grid = pd.MultiIndex.from_product([inputs.pcns.index, inputs.priority_ids],
                                      names=["pcn_code", "priority_id"])
    years = len(inputs.years)
    sums = allocation.detail.groupby(["pcn_code", "priority_id"])[
        ["spend_gbp", "qaly", "nel_avoided", "weighted_value_gbp"]].sum() / years
    frame = sums.reindex(grid, fill_value=0.0).reset_index()
    cohort = inputs.priority_cohort.stack()
    frame["eligible"] = cohort.reindex(grid, fill_value=0.0).to_numpy()
    frame["population"] = frame["pcn_code"].map(inputs.pcns["population"]).astype(float)
    frame["icb_code"] = frame["pcn_code"].map(inputs.pcns["icb_code"])
    frame["flagged"] = _flagged(allocation, frame)
    return frame


MEASURES = {  # name -> (numerator, denominator, scale)
    "spend_per_head_gbp": ("spend_gbp", "population", 1.0),
    "spend_per_eligible_gbp": ("spend_gbp", "eligible", 1.0),
    "qaly_per_1000": ("qaly", "population", 1000.0),
    "qaly_per_1000_eligible": ("qaly", "eligible", 1000.0),
    "nel_avoided_per_1000": ("nel_avoided", "population", 1000.0),
    "nel_avoided_per_1000_eligible": ("nel_avoided", "eligible", 1000.0),
}


def top_vs_rest(allocation: Allocation) -> pd.DataFrame:
    """Per ICB and priority (and pooled across ICBs, labelled so): the PCNs flagged
    higher-need for the priority (seed 001's "Top-15") against all its other PCNs, spend and
    outcomes of the priority per head and per eligible person, a typical year."""
    frame = _typical_year(allocation)
    names = _names(allocation)
    icb_names = allocation.inputs.pcns.drop_duplicates("icb_code").set_index(
        "icb_code")["icb_name"]
    icb = frame["icb_code"].to_numpy()
    scopes = [(c, icb_names[c], icb == c) for c in sorted(icb_names.index)]
    if len(scopes) > 1:
        scopes.append(("all", POOLED, np.ones(len(frame), dtype=bool)))
    priority = frame["priority_id"].to_numpy()
    flagged = frame["flagged"].to_numpy(dtype=bool)
    values = {c: frame[c].to_numpy(dtype=float) for m in MEASURES.values() for c in m[:2]}

    def ratio(mask: np.ndarray, measure: str) -> float:  # `_ratio` on the rows in mask
        top, bottom, scale = MEASURES[measure]
        below = float(values[bottom][mask].sum())
        return scale * float(values[top][mask].sum()) / below if below > 0 else math.nan

    rows = []
    for code, name, scope in scopes:  # (masks over arrays: pandas filters took 0.1 s on DLN)
        for r in allocation.inputs.priority_ids:
            part = scope & (priority == r)
            top, rest = part & flagged, part & ~flagged
            if not top.any():  # no higher-need set (e.g. outpatient redesign, seed 001 L696)
                continue
            row = {"icb_code": code, "icb_name": name, "priority_id": r,
                   "priority_name": names.get(r, r), "top_pcns": int(top.sum()),
                   "rest_pcns": int(rest.sum())}
            for measure in MEASURES:
                row[f"top_{measure}"] = ratio(top, measure)
                row[f"rest_{measure}"] = ratio(rest, measure)
            rows.append(row)
    return pd.DataFrame(rows)


def pcn_range(allocation: Allocation) -> pd.DataFrame:
    """Best-to-worst PCN range (seed 001 L1013) per ICB and priority, a typical year: the
    highest and lowest PCN on spend per eligible person, QALYs and admissions avoided per
    1,000 people, and on the whole plan's spend per head."""
    frame = _typical_year(allocation)
    pcn_names = allocation.inputs.pcns["pcn_name"]
    names = _names(allocation)
    rows = []
    for icb in sorted(frame["icb_code"].unique()):
        in_icb = frame[frame["icb_code"] == icb]
        whole = in_icb.groupby("pcn_code")[["spend_gbp", "population"]].agg(
            {"spend_gbp": "sum", "population": "first"})
        parts = [("all priorities", {"spend_per_head_gbp": whole["spend_gbp"]
                                     / whole["population"]})]
        for r in allocation.inputs.priority_ids:
            part = in_icb[in_icb["priority_id"] == r].set_index("pcn_code")
            part = part[part["eligible"] > 0]
            parts.append((names.get(r, r), {
                m: MEASURES[m][2] * part[MEASURES[m][0]] / part[MEASURES[m][1]]
                for m in ("spend_per_eligible_gbp", "qaly_per_1000", "nel_avoided_per_1000")}))
        for priority, measures in parts:
            for measure, values in measures.items():
                if values.empty or not values.notna().any():
                    continue
                hi, lo = values.idxmax(), values.idxmin()
                rows.append({"icb_code": icb, "priority_name": priority, "measure": measure,
                             "highest_pcn": pcn_names[hi], "highest": float(values[hi]),
                             "lowest_pcn": pcn_names[lo], "lowest": float(values[lo]),
                             "gap": float(values[hi] - values[lo])})
    return pd.DataFrame(rows)


# ---- higher-need PCNs left below the median ------------------------------------------------

def below_median(allocation: Allocation, several: int = SEVERAL) -> pd.DataFrame:
    """PCNs flagged higher-need for `several` priorities or more whose spend per head (a
    typical year) is below the median of their ICB's PCNs, with the reason the optimiser gives
    (its shadow prices and reduced costs) in words. Worked out once per allocation (the
    headline figures, the front sheet and its own sheet all ask for it)."""
    memo = allocation.__dict__.setdefault("_below_median", {})  # as a cached_property keeps
    if several not in memo:
        memo[several] = _below_median(allocation, several)
    return memo[several].copy()


def _below_median(allocation: Allocation, several: int) -> pd.DataFrame:
    by_pcn = allocation.by_pcn
    median = by_pcn.groupby("icb_code")["spend_per_head_gbp"].transform("median")
    picked = by_pcn[(by_pcn["higher_need_count"] >= several)
                    & (by_pcn["spend_per_head_gbp"] < median - 1e-9)].copy()
    picked["icb_median_gbp"] = median[picked.index]
    older_share = _older_share_of_avoidable(allocation.inputs)
    prices = _Prices(allocation)
    picked["reason"] = [_reason(allocation, p, older_share, prices) for p in picked["pcn_code"]]
    picked["_below"] = picked["spend_per_head_gbp"] / picked["icb_median_gbp"]
    picked = picked.sort_values("_below", kind="stable")
    return picked[["pcn_code", "pcn_name", "icb_code", "higher_need_count",
                   "higher_need_priorities", "spend_per_head_gbp", "icb_median_gbp",
                   "reason"]].reset_index(drop=True)


def _older_share_of_avoidable(inputs) -> float:
    """The share of the most the library could avoid in admissions in the last year that
    comes from services for people aged 65 and over (their cohort is pop_65_plus or older)."""
    from .ambitions import library_ceiling

    per_iv = library_ceiling(inputs, "nel_avoided", inputs.years[-1],
                             pd.Series(True, index=inputs.pcns.index))
    older = inputs.interventions["cohort_population"].isin(
        ["pop_65_plus", "pop_75_plus", "pop_85_plus"])
    return float(per_iv[older].sum() / per_iv.sum()) if per_iv.sum() > 0 else 0.0


class _Prices:
    """What `_reason` reads for every PCN, worked out once: the index arithmetic of the
    reached columns, their bounds and costs, and the rows by family and year."""

    def __init__(self, allocation: Allocation):
        from .formulation import Layout

        lp = allocation.lp
        self.layout = Layout(allocation.inputs)
        self.col_upper = np.concatenate(lp.col_upper)
        self.col_cost = np.concatenate(lp.col_cost)
        rules = allocation.constraints
        self.gradient = rules[(rules["constraint"] == "need_gradient") & rules["binding"]]
        self.rules = rules
        self._years: dict = {}

    def in_year(self, year) -> pd.DataFrame:
        if year not in self._years:
            self._years[year] = self.rules[self.rules["year"] == year]
        return self._years[year]


def _reason(allocation: Allocation, pcn: str, older_share: float,
            prices: _Prices | None = None) -> str:
    """Why the optimiser keeps money away from a PCN, from its rows' and columns' prices."""
    inputs = allocation.inputs
    years = inputs.years
    lines = []
    prices = prices or _Prices(allocation)
    gradient = prices.gradient
    held = int((gradient["pcn"] == pcn).sum()) if "pcn" in gradient else 0
    if held:
        lines.append(f"In {held} of {len(years)} years it receives only the floor the need "
                     f"gradient guarantees ({inputs.policy.need_gradient:.0%} of its "
                     "need-weighted fair share): without that rule the optimiser would move "
                     "money away.")
    lines += _margin_words(allocation, pcn, len(years) - 1, prices)
    pcns = inputs.pcns
    weights = pcns["population"].astype(float)
    for column, what in (("need_ga_eng", "acute need index (admissions per person reached "
                          "scale with it)"), ("need_overall_eng", "overall need index (QALYs "
                                              "scale with it)")):
        mean = float((pcns[column] * weights).sum() / weights.sum())
        own = float(pcns.at[pcn, column])
        if own < 0.9 * mean:
            lines.append(f"Its {what} is {own:.2f} against {mean:.2f} across the model's "
                         "PCNs.")
    older = pcns["pop_65_plus"] / pcns["population"]
    mean_older = float(pcns["pop_65_plus"].sum() / pcns["population"].sum())
    if older[pcn] < 0.8 * mean_older and older_share > 0.5:
        lines.append(f"Its people are young ({older[pcn]:.0%} aged 65 and over against "
                     f"{mean_older:.0%}), and services for people aged 65 and over hold "
                     f"{older_share:.0%} of the admissions the library could avoid.")
    return " ".join(lines) or "No rule or price singles it out: its services tie at the margin."


def _margin_words(allocation: Allocation, pcn: str, t: int,
                  prices: _Prices | None = None) -> list[str]:
    """The PCN's best service not at full reach in year t: its value per £ against what the
    money and the staff it needs are worth elsewhere at the margin (the shadow prices)."""
    inputs = allocation.inputs
    year = inputs.years[t]
    prices = prices or _Prices(allocation)
    lay = prices.layout
    block = allocation.lp.columns["reached"]
    mine = np.nonzero(inputs.pcns.index[lay.pcn_pos] == pcn)[0]
    cols = np.arange(block.start, block.stop).reshape(lay.T, lay.M, lay.K)[t][mine]
    upper = prices.col_upper[cols]
    open_ = (allocation.solution.col_value[cols] < upper - 1e-6) & (upper > 0)
    if not open_.any():
        return []
    cost = lay.cost[mine][:, None]
    per_gbp = np.where(open_, prices.col_cost[cols] / cost, -np.inf)
    m, k = np.unravel_index(per_gbp.argmax(), per_gbp.shape)
    iid = inputs.interventions.index[lay.iv_pos[mine[m]]]
    in_year = prices.in_year(year)
    budget = in_year.loc[in_year["constraint"] == "budget_limit", "shadow_price"]
    money_price = float(budget.iloc[0]) if len(budget) else 0.0
    staff = in_year[(in_year["constraint"] == "workforce_limit")
                    & (in_year["scope"] == inputs.scope_of_pcn[pcn])]
    wte = inputs.wte_per_person.loc[iid]
    staff_price = float((staff["staff_group"].map(wte).fillna(0.0)
                         * staff["shadow_price"]).sum()) / float(cost[m, 0])
    name = str(inputs.interventions.at[iid, "name"])
    value = float(per_gbp[m, k])
    words = (f"The best-value service it does not fund in full in {year}, "
             f"{name[:1].lower()}{name[1:]}, returns £{value:.2f} of weighted outcome "
             "(discounted) per £ it costs")
    costs = []
    if money_price > 1e-9:
        costs.append(f"the same £ returns £{money_price:.2f} elsewhere (the budget's shadow "
                     "price)")
    if staff_price > 1e-9:
        costs.append(f"the staff it needs would return £{staff_price:.2f} more elsewhere (the "
                     "workforce limits' shadow prices)")
    if costs:
        words += "; " + " and ".join(costs)
    if value < money_price + staff_price - 1e-9:
        return [words + ": there it does not pay its way."]
    return [words + ": other rules (how fast services grow, continuity or the equity rules) "
            "hold it back."]


# ---- health and cash apart -----------------------------------------------------------------

def health_and_cash(allocation: Allocation) -> dict[str, float]:
    """The weighted outcome (undiscounted, all years) split into its health (QALY) part and its
    cash-releasing part, the cash the avoided activity releases (at the model's £ values,
    before priority and equity weights) and that cash per £ spent."""
    totals = allocation.totals
    spend = totals["spend_gbp"]
    return {"weighted_value_gbp": totals["weighted_value_gbp"],
            "health_value_gbp": totals["health_value_gbp"],
            "cash_value_gbp": totals["cash_value_gbp"],
            "cash_released_gbp": totals["cash_released_gbp"],
            "cash_released_per_gbp": totals["cash_released_gbp"] / spend if spend else math.nan,
            "health_share": (totals["health_value_gbp"] / totals["weighted_value_gbp"]
                             if totals["weighted_value_gbp"] else math.nan)}
