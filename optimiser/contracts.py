"""A commissionable plan read as contracts, and what letting them costs against the LP.

`contracts_table(allocation)`: one row per contract and year (a service for a PCN, a place or
an ICB): whether it runs, the people it reaches, its £, its WTE, its minimum size and the set-up
cost charged. `summary(allocation, lp_allocation)`: the price of commissionability (the LP's
optimum less the plan's, with the gap the plan is proven within), the number of contracts, the
smallest, the services dropped or merged against the LP, and the shadow prices' caveat, in
words (`summary(...)["words"]`) for the workbook, the app and run.json.
"""

from __future__ import annotations

import pandas as pd

from .commissioning import (
    AREA_COLUMN,
    AREA_NAME,
    LEVELS,
    delivery_levels,
    min_people_of,
    setup_of,
)
from .formats import count, gbp, money, percent

SMALL_CELL_GBP = 10_000  # the line for a PCN x service cell too small to let
RUNS = 0.5  # a run column above this is a contract that runs (HiGHS's whole numbers +- 1e-6)


def _area_names(inputs) -> dict[str, dict[str, str]]:
    pcns = inputs.pcns
    return {level: dict(zip(pcns[AREA_COLUMN[level]].astype(str), pcns[AREA_NAME[level]],
                            strict=True)) for level in LEVELS}


def contracts_table(allocation) -> pd.DataFrame:
    """Contract x year: runs, people reached, spend (£ a year), WTE, minimum, set-up charged.

    Services let as contracts (a minimum size, a set-up cost or posts) come from the plan's own
    contract columns; the others are one contract per area of their delivery level, running
    where the plan reaches anyone."""
    inputs = allocation.inputs
    iv = inputs.interventions
    detail = allocation.detail
    levels = delivery_levels(inputs)
    names = _area_names(inputs)
    wte_per = inputs.wte_per_person.sum(axis=1)
    minimum = min_people_of(inputs)
    rows = []
    serve = allocation.lp.columns.get("contract_serves")
    decided = set()
    if serve is not None and allocation.solution.optimal:
        values = allocation.solution.col_value
        frame = serve.index.copy()
        frame["people_reached"] = values[serve.start:serve.stop]
        sums = frame.groupby(["year", "intervention", "level", "area"], sort=False)[
            "people_reached"].sum()
        runs = allocation.lp.columns["contract_runs"]
        on = pd.Series(values[runs.start:runs.stop] > RUNS, index=pd.MultiIndex.from_frame(
            runs.index[["year", "intervention", "level", "area"]]))
        # set-up paid in a year the contract runs and did not the year before (the start
        # columns may sit above that where the budget has room: they cost nothing else)
        wide = on.unstack("year").reindex(columns=list(inputs.years), fill_value=False)
        began = wide & ~wide.shift(1, axis=1, fill_value=False)
        fee = wide.index.get_level_values("intervention").map(setup_of(inputs)).to_numpy(
            dtype=float)
        setup = (began.astype(float) * fee[:, None]).stack().reorder_levels(on.index.names) \
            .reindex(on.index)
        part = pd.DataFrame({"runs": on, "people_reached": sums.reindex(on.index).fillna(0.0),
                             "setup_charged_gbp": setup}).reset_index()
        part.columns = ["year", "intervention_id", "level", "area_code", "runs",
                        "people_reached", "setup_charged_gbp"]
        rows.append(part)
        decided = set(runs.index["intervention"])
    rest = detail[~detail["intervention_id"].isin(decided)].copy()
    if len(rest):
        rest["level"] = rest["intervention_id"].map(levels)
        rest["area_code"] = [str(inputs.pcns.at[p, AREA_COLUMN[lv]]) for p, lv in
                             zip(rest["pcn_code"], rest["level"], strict=True)]
        part = rest.groupby(["year", "intervention_id", "level", "area_code"], as_index=False)[
            "people_reached"].sum()
        part["runs"] = part["people_reached"] > 1e-6
        part["setup_charged_gbp"] = 0.0
        rows.append(part)
    if not rows:
        return pd.DataFrame(columns=["year", "intervention_id", "intervention", "level",
                                     "area_code", "area", "runs", "people_reached",
                                     "spend_gbp", "wte", "minimum_people",
                                     "setup_charged_gbp"])
    table = pd.concat(rows, ignore_index=True)
    table["intervention"] = table["intervention_id"].map(iv["name"])
    table["area"] = [names[lv].get(a, a) for lv, a in zip(table["level"], table["area_code"],
                                                           strict=True)]
    table["spend_gbp"] = table["people_reached"] * table["intervention_id"].map(
        iv["cost_gbp"]).astype(float)
    table["wte"] = table["people_reached"] * table["intervention_id"].map(wte_per).astype(float)
    table["minimum_people"] = table["intervention_id"].map(minimum).astype(float)
    table["runs"] = table["runs"].astype(bool)
    columns = ["year", "intervention_id", "intervention", "level", "area_code", "area", "runs",
               "people_reached", "spend_gbp", "wte", "minimum_people", "setup_charged_gbp"]
    return table[columns].sort_values(["year", "intervention_id", "level", "area_code"],
                                      kind="stable").reset_index(drop=True)


def _cells(detail: pd.DataFrame, year: str) -> pd.DataFrame:
    return detail[(detail["year"] == year) & (detail["people_reached"] > 1e-6)]


def summary(allocation, lp_allocation=None) -> dict:
    """The commissionable plan against the LP (module docstring): figures and words."""
    inputs = allocation.inputs
    sol = allocation.solution
    facts = dict(sol.mip or {})
    if not sol.optimal:
        return {"on": True, "status": sol.status, "words": [
            "No commissionable plan: " + sol.solver_status]}
    table = contracts_table(allocation)
    running = table[table["runs"]]
    first, last = inputs.years[0], inputs.years[-1]
    per_year = running.groupby("year").size().reindex(list(inputs.years), fill_value=0)
    smallest = running.loc[running["spend_gbp"].idxmin()] if len(running) else None
    lp_objective = None if lp_allocation is None or not lp_allocation.solution.optimal \
        else float(lp_allocation.objective)
    price = None if lp_objective is None else lp_objective - float(allocation.objective)
    # a plan that bends a rule the LP meets is not comparable with the LP: its objective buys
    # with the money the rule would have taken (the price is then against the relaxation)
    bent_only_here = lp_allocation is not None and not allocation.rules_met and (
        lp_allocation.solution.optimal and lp_allocation.rules_met)
    if bent_only_here:
        price = None
    out = {
        "on": True,
        "lp_objective_gbp": lp_objective,
        "plan_objective_gbp": float(allocation.objective),
        "price_of_commissionability_gbp": price,
        "price_share": None if price is None or not lp_objective else price / lp_objective,
        "rules_bent_only_in_plan": bool(bent_only_here),
        "shortfalls": list(allocation.shortfall_words) if bent_only_here else [],
        "price_against_relaxation_gbp": None if facts.get("relaxation_objective_gbp") is None
        else facts["relaxation_objective_gbp"] - float(allocation.objective),
        "proven_gap": facts.get("gap"),
        "gap_asked": facts.get("gap_asked"),
        "gap_met": facts.get("gap_met"),
        "bound_gbp": facts.get("bound_gbp"),
        "relaxation_objective_gbp": facts.get("relaxation_objective_gbp"),
        "repaired_objective_gbp": facts.get("repaired_objective_gbp"),
        "repair": facts.get("repair"),
        "first_plan_seconds": facts.get("first_plan_seconds"),
        "mip_seconds": facts.get("seconds"),
        "found_by": facts.get("found_by"),
        "relaxation_budget_price_gbp": facts.get("relaxation_budget_price_gbp"),
        "contracts_by_year": {y: int(v) for y, v in per_year.items()},
        "setup_charged_gbp": float(table["setup_charged_gbp"].sum()),
        "smallest_contract": None if smallest is None else {
            "year": smallest["year"], "intervention": smallest["intervention"],
            "level": smallest["level"], "area": smallest["area"],
            "spend_gbp": float(smallest["spend_gbp"]),
            "people_reached": float(smallest["people_reached"])},
    }
    mine = allocation.detail
    out["cells_under_10k_first_year"] = int((_cells(mine, first)["spend_gbp"]
                                             < SMALL_CELL_GBP).sum())
    dropped, merged = [], []
    if lp_allocation is not None and lp_allocation.solution.optimal:
        theirs = lp_allocation.detail
        out["lp_cells_under_10k_first_year"] = int((_cells(theirs, first)["spend_gbp"]
                                                    < SMALL_CELL_GBP).sum())
        funded_lp = set(theirs.loc[theirs["people_reached"] > 1e-6, "intervention_id"])
        funded = set(mine.loc[mine["people_reached"] > 1e-6, "intervention_id"])
        dropped = sorted(funded_lp - funded)
        lp_cells = theirs[theirs["year"] == last].groupby("intervention_id").size()
        my_cells = mine[mine["year"] == last].groupby("intervention_id").size()
        fewer = (lp_cells - my_cells.reindex(lp_cells.index, fill_value=0))
        out["pcn_services_dropped_last_year"] = int(fewer.clip(lower=0).sum())
    levels = delivery_levels(inputs)
    wider = running[running["level"].map(LEVELS.index)
                    > running["intervention_id"].map(levels).map(LEVELS.index)]
    for iid, part in wider.groupby("intervention_id"):
        merged.append({"intervention": inputs.interventions.at[iid, "name"],
                       "from": levels[iid], "to": sorted(set(part["level"]))})
    names = inputs.interventions["name"]
    out["services_dropped"] = [names[i] for i in dropped]
    out["services_merged"] = merged
    out["words"] = _words(out, inputs)
    return out


def _words(s: dict, inputs) -> list[str]:
    lines = []
    if s["rules_bent_only_in_plan"]:
        lines.append("The commissionable plan cannot meet every rule the LP meets (a minimum "
                     "size no contract can reach in time), so it bends them in the model's "
                     "order: " + " ".join(s["shortfalls"]) + " Its weighted outcome is not "
                     "comparable with the LP's; against the LP relaxation with the same "
                     "shortfalls, letting whole contracts costs "
                     f"{money(s['price_against_relaxation_gbp'] or 0.0)} of weighted outcome "
                     f"(LP optimum {money(s['lp_objective_gbp'] or 0.0)}, plan "
                     f"{money(s['plan_objective_gbp'])}).")
    if s["price_of_commissionability_gbp"] is not None:
        lines.append(
            f"Price of commissionability: {money(s['price_of_commissionability_gbp'])} of "
            f"weighted outcome ({percent(s['price_share'] or 0.0, 2)} of the LP's "
            f"{money(s['lp_objective_gbp'])}), the cost of plans a contract manager can let.")
    if s["proven_gap"] is not None:
        met = "within the gap asked" if s["gap_met"] else \
            "NOT within the gap asked: the time limit ran out first"
        lines.append(f"The plan is proven within {percent(s['proven_gap'], 3)} of the best "
                     f"commissionable plan (asked {percent(s['gap_asked'] or 0.0, 1)}; {met}).")
    years = s["contracts_by_year"]
    lines.append("Contracts running: " + ", ".join(f"{count(v)} in {y}"
                                                   for y, v in years.items()) + ".")
    small = s["smallest_contract"]
    if small:
        lines.append(f"Smallest contract: {small['intervention']} ({small['level']}, "
                     f"{small['area']}, {small['year']}), {gbp(small['spend_gbp'])} a year.")
    if "lp_cells_under_10k_first_year" in s:
        lines.append(f"PCN x service cells under £10,000 in {inputs.years[0]}: "
                     f"{count(s['cells_under_10k_first_year'])} (the LP: "
                     f"{count(s['lp_cells_under_10k_first_year'])}).")
    if s["services_dropped"]:
        lines.append("Services the LP funds that the plan drops: "
                     + ", ".join(s["services_dropped"]) + ".")
    for item in s["services_merged"]:
        lines.append(f"Merged: {item['intervention']} is let at {' and '.join(item['to'])} "
                     f"level, not per {item['from']}.")
    if s["setup_charged_gbp"]:
        lines.append(f"Set-up costs charged to the budget: {money(s['setup_charged_gbp'])} "
                     "over the plan's years.")
    relaxed = s.get("relaxation_budget_price_gbp")
    lines.append("Shadow prices: a mixed-integer plan has none of its own. Those shown are the "
                 "LP's with the contracts fixed as let: what one more £ or WTE is worth with "
                 "these contracts, not whether to let another."
                 + ("" if not relaxed else " In the LP relaxation (contracts allowed to run in "
                    f"part) £1 more budget in {inputs.years[0]} is worth "
                    f"£{relaxed[0]:,.2f} of weighted outcome."))
    return lines
