"""How far a plan goes towards the strategy's own ambitions, in its units and in words.

Seed 001 (L639-640) and seed 000 (L218-227) state five-year ambitions: emergency admissions
-35% (or -36%), outpatient attendances -25%, bed days -10%, A&E -33%, 5% of people
case-managed and 20% condition-managed. A model file states them as activity targets (rules
the plan must meet, [[activity_targets]]) or as aims (reported only, [[aims]]). For each, in
its year and scope (the whole model, an ICB or a place):

* baseline: the modelled 2024/25 activity a year (`ModelInputs.baseline`; no growth sourced),
  or the registered population for a managed share;
* needed: the activity the ambition needs avoided a year (-change x baseline), or the people
  it needs reached (share x population);
* achieved: what the plan avoids (or reaches) in that year; `share_of_way` = achieved / needed;
* ceiling: the most the intervention library could do in that year with unlimited money and
  workforce under the model's rules on where and how fast services grow (a direct bound,
  `library_ceiling`): every eligible person reached as far as mobilisation allows by then
  (g x E a year from nothing), enhanced-tier services only where the model offers them, with
  the response tranches' diminishing effects. The equity rules are left out, so the ceiling
  is an upper bound: when it falls short of what an ambition needs, no budget reaches it.

People reached by case- and condition-management services: a person may be reached by two
services of the same kind, so the plan reaches between the largest single service per PCN
(`achieved_low`) and the sum over services (`achieved`, no one counted twice only if no one is
in two).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .checks import effective_people
from .formulation import Layout, activity_per_person
from .inputs import ModelInputs
from .policy import ActivityTarget, ManagedShareAim

if TYPE_CHECKING:
    from .results import Allocation

PROGRESS_COLUMNS = ("kind", "ambition", "source", "scope", "year", "measure", "baseline",
                    "change_from_baseline", "needed", "achieved_low", "achieved",
                    "change_achieved", "share_of_way", "ceiling", "ceiling_change", "reachable",
                    "in_words", "library")
UNITS = {"nel_avoided": "emergency admissions", "ed_avoided": "A&E attendances",
         "bed_days_avoided": "emergency bed days", "op_avoided": "outpatient attendances",
         "qaly": "QALYs"}


def reach_ceiling(inputs: ModelInputs, year: str) -> tuple[Layout, np.ndarray]:
    """The most people each eligible (PCN, intervention) pair can reach in `year` with
    unlimited money and workforce: E x min(1, (t + 1) g) under mobilisation, 0 where
    enhanced support is not offered (`enhanced_where_flagged`)."""
    lay = Layout(inputs)
    policy = inputs.policy
    t = inputs.years.index(year)
    share = min(1.0, (t + 1) * policy.mobilisation_max_growth) if policy.on(
        "mobilisation") else 1.0
    reach = share * lay.E
    if policy.on("enhanced_where_flagged"):
        flags = inputs.higher_need.reindex(columns=lay.priorities).to_numpy(dtype=bool)
        reach[lay.enhanced & ~flags[lay.pcn_pos, lay.prio_pos]] = 0.0
    return lay, reach


def library_ceiling(inputs: ModelInputs, outcome: str, year: str,
                    scope: pd.Series) -> pd.Series:
    """The most of an outcome each intervention could avoid in `year` in the PCNs of `scope`
    (bool per PCN), every eligible person reached as far as the model's growth rules allow."""
    lay, reach = reach_ceiling(inputs, year)
    effective = effective_people(reach, lay.E, inputs)
    in_scope = scope.reindex(inputs.pcns.index, fill_value=False).to_numpy()[lay.pcn_pos]
    avoided = activity_per_person(lay, outcome) * effective * in_scope
    per_iv = np.bincount(lay.iv_pos, weights=avoided, minlength=len(inputs.interventions))
    return pd.Series(per_iv, index=inputs.interventions.index)


def progress(allocation: Allocation) -> pd.DataFrame:
    """One row per activity target (rule) and aim of the model, in the model file's order:
    baseline, needed, achieved, share of the way, the library's ceiling and the words."""
    inputs = allocation.inputs
    policy = inputs.policy
    items = [("rule", t) for t in policy.activity_targets] + [("aim", a) for a in policy.aims]
    rows = [(_managed_row if isinstance(item, ManagedShareAim) else _activity_row)(
        allocation, kind, item) for kind, item in items]
    return pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS))


def scope_name(inputs: ModelInputs, target: ActivityTarget) -> str:
    """The words for a target's scope: the place's or ICB's name, or the model's PCNs."""
    pcns = inputs.pcns
    if target.place:
        return str(pcns.loc[pcns["place_code"] == target.place, "place_name"].iloc[0])
    if target.icb:
        return str(pcns.loc[pcns["icb_code"] == target.icb, "icb_name"].iloc[0])
    return _whole_model(inputs)


def _whole_model(inputs: ModelInputs) -> str:
    icbs = inputs.pcns["icb_code"].nunique()
    return f"the model's {len(inputs.pcns)} PCNs" + (f" in {icbs} ICBs" if icbs > 1 else "")


def _activity_row(allocation: Allocation, kind: str, target: ActivityTarget) -> dict:
    inputs = allocation.inputs
    scope = inputs.target_pcns(target)
    unit = UNITS[target.outcome]
    detail = allocation.detail
    in_year = detail[(detail["year"] == target.year)
                     & detail["pcn_code"].map(scope).fillna(False).astype(bool)]
    achieved = float(in_year[target.outcome].sum())
    needed = inputs.target_minimum(target)
    baseline = (float(inputs.baseline.loc[scope, target.outcome].sum())
                if target.outcome in inputs.baseline else np.nan)
    per_iv = library_ceiling(inputs, target.outcome, target.year, scope)
    ceiling = float(per_iv.sum())
    share = achieved / needed if needed > 0 else np.nan
    change = -achieved / baseline if baseline > 0 else np.nan
    where = scope_name(inputs, target)
    aim = (f"the {target.change_from_baseline:+.0%} {'ambition' if kind == 'aim' else 'target'}"
           .replace("-", "\u2212") if target.change_from_baseline is not None
           else f"the {'aim' if kind == 'aim' else 'target'} of {needed:,.0f}")
    plan = (f"The plan avoids {achieved:,.0f} of the {needed:,.0f} {unit} {aim} needs in "
            f"{target.year}: {_way(share)}." if achieved < needed else
            f"The plan avoids {achieved:,.0f} {unit} in {target.year} against the "
            f"{needed:,.0f} {aim} needs: {_way(share)}.")
    words = (f"Modelled baseline {baseline:,.0f} {unit} a year in {where}. " if baseline > 0
             else "") + plan
    library = _library_words(inputs, target, per_iv, needed, baseline, unit)
    return {"kind": kind, "ambition": target.label(), "source": target.source, "scope": where,
            "year": target.year, "measure": target.outcome, "baseline": baseline,
            "change_from_baseline": target.change_from_baseline, "needed": needed,
            "achieved_low": achieved, "achieved": achieved, "change_achieved": change,
            "share_of_way": share, "ceiling": ceiling,
            "ceiling_change": -ceiling / baseline if baseline > 0 else np.nan,
            "reachable": bool(ceiling >= needed - 1e-9), "in_words": words,
            "library": library}


def _way(share: float) -> str:
    if not np.isfinite(share):
        return "nothing is needed"
    if share >= 1 - 1e-9:
        return "met" if share < 1.005 else f"met ({share:.0%} of it)"
    return f"{share:.0%} of the way" if share >= 0.005 else "less than 1% of the way"


def _library_words(inputs: ModelInputs, target: ActivityTarget, per_iv: pd.Series,
                   needed: float, baseline: float, unit: str) -> str:
    """Whether the library could reach the ambition at any budget, and what it lacks."""
    ceiling = float(per_iv.sum())
    of_base = f" ({ceiling / baseline:.1%} of the baseline)" if baseline > 0 else ""
    grow = inputs.policy.mobilisation_max_growth
    how = ("reaching everyone eligible as fast as services can grow "
           f"({grow:.0%} of each cohort a year)" if inputs.policy.on("mobilisation")
           else "reaching everyone eligible")
    top = per_iv[per_iv > 0].sort_values(ascending=False)
    if ceiling >= needed - 1e-9:
        return (f"The library can reach it: {how} avoids up to {ceiling:,.0f} {unit} in "
                f"{target.year}{of_base}.")
    if ceiling <= 0:
        return (f"No intervention in the library avoids {unit}, so no budget reaches this "
                f"ambition: the library needs services that do"
                + (" (seed 001's outpatient redesign, CC3, L1047-1070)."
                   if target.outcome == "op_avoided" else "."))
    names = inputs.interventions["name"]
    codes = inputs.interventions["priority_id"].map(inputs.priorities.get(
        "code", pd.Series(dtype=str))).fillna("")
    parts = [f"{names[i][:1].lower()}{names[i][1:]} ({codes[i]}) {v:,.0f}" if codes[i]
             else f"{names[i]} {v:,.0f}" for i, v in top.head(3).items()]
    return (f"Even {how} avoids at most {ceiling:,.0f} {unit} in {target.year}{of_base}: "
            f"no budget reaches this ambition. The most from any service: "
            + "; ".join(parts) + f". The ambition needs {needed / ceiling:,.1f} times what "
            + {1: "the one such service", 2: "both such services"}.get(
                len(top), f"all {len(top)} such services")
            + " could do at full reach: the library has no service (or no effect) large "
            "enough.")


def _managed_row(allocation: Allocation, kind: str, aim: ManagedShareAim) -> dict:
    inputs = allocation.inputs
    population = float(inputs.pcns["population"].sum())
    needed = aim.share * population
    what = f"people {aim.managed}-managed"
    iv = inputs.interventions
    row = {"kind": kind, "ambition": aim.label(), "source": aim.source,
           "scope": _whole_model(inputs), "year": aim.year, "measure": f"{aim.managed}_managed",
           "baseline": population, "change_from_baseline": np.nan, "needed": needed}
    if "management" not in iv.columns or not (iv["management"] == aim.managed).any():
        why = ("no intervention in the library is classed as "
               f"{aim.managed} management (interventions.csv, column 'management')")
        return row | {"achieved_low": np.nan, "achieved": np.nan, "change_achieved": np.nan,
                      "share_of_way": np.nan, "ceiling": np.nan, "ceiling_change": np.nan,
                      "reachable": False, "library": "",
                      "in_words": f"Not measured: {why}."}
    kind_ids = set(iv.index[iv["management"] == aim.managed])
    detail = allocation.detail
    part = detail[(detail["year"] == aim.year) & detail["intervention_id"].isin(kind_ids)]
    by_pcn = part.groupby("pcn_code")["people_reached"]
    high, low = float(by_pcn.sum().sum()), float(by_pcn.max().sum())
    lay, reach = reach_ceiling(inputs, aim.year)
    ceiling = float(reach[np.isin(iv.index.to_numpy()[lay.iv_pos], list(kind_ids))].sum())
    names = "; ".join(str(iv.at[i, "name"]) for i in iv.index if i in kind_ids)
    words = (f"The plan reaches between {low:,.0f} and {high:,.0f} {what} in {aim.year} "
             f"({low / population:.1%} to {high / population:.1%} of {population:,.0f} "
             f"registered), against the {aim.share:.0%} aim ({needed:,.0f}): "
             f"{_way(high / needed)} at most.")
    library = (f"Services classed as {aim.managed} management: {names}. Reaching everyone "
               f"eligible for them would reach at most {ceiling:,.0f} "
               f"({ceiling / population:.1%} of the population)"
               + (": the library cannot reach the aim." if ceiling < needed else "."))
    return row | {"achieved_low": low, "achieved": high, "change_achieved": high / population,
                  "share_of_way": high / needed, "ceiling": ceiling,
                  "ceiling_change": ceiling / population, "reachable": bool(ceiling >= needed),
                  "in_words": words, "library": library}


def progress_figures(progress_table: pd.DataFrame) -> dict:
    """The progress table as flat comparison columns: rule j -> target{j}_*, aim j -> aim{j}_*."""
    out: dict = {}
    counters = {"rule": 0, "aim": 0}
    for row in progress_table.itertuples(index=False):
        counters[row.kind] += 1
        key = f"{'target' if row.kind == 'rule' else 'aim'}{counters[row.kind]}"
        out[f"{key}_ambition"] = (f"{row.ambition}, {row.scope}, {row.year}"
                                  + (f" ({row.source})" if row.source else ""))
        for column in ("baseline", "needed", "achieved", "change_achieved", "share_of_way",
                       "ceiling"):
            out[f"{key}_{column}"] = float(getattr(row, column))
        out[f"{key}_in_words"] = " ".join(filter(None, (row.in_words, row.library)))
    return out
