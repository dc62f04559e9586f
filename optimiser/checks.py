"""An independent check that every policy rule holds on the solved numbers.

It reads only the output table (year x PCN x intervention: people reached, spend) and the
inputs, and recomputes every rule from scratch, with plain pandas and none of the solver's or
the formulation's internals. Any rule that fails is named with its worst violation.

When the rules bent (`Allocation.shortfalls`: rule, its labels, the amount short in the
rule's unit), every rule must hold once its reported shortfall is added back, no shortfall
may be more than the rule's gap on the plan itself (none where the plan meets the rule), and
no rule held hard may have one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import ModelInputs
from .schemas import BASELINE_COLUMNS, OUTCOMES

ABS_TOL = 1e-4  # people or £
REL_TOL = 1e-6


@dataclass(frozen=True)
class Check:
    rule: str
    ok: bool
    rows_checked: int
    worst: float  # largest violation found, in the rule's unit (0 when it holds)
    detail: str = ""


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def __str__(self) -> str:
        lines = []
        for c in self.checks:
            mark = "ok  " if c.ok else "FAIL"
            lines.append(f"{mark} {c.rule}: {c.rows_checked} checked, worst violation "
                         f"{c.worst:.3g} {c.detail}")
        return "\n".join(lines)


def _violation(lhs: pd.Series | np.ndarray, rhs: pd.Series | np.ndarray) -> np.ndarray:
    """How far lhs <= rhs is broken, beyond tolerance (0 where it holds)."""
    lhs, rhs = np.asarray(lhs, float), np.asarray(rhs, float)
    tol = ABS_TOL + REL_TOL * np.maximum(np.abs(lhs), np.abs(rhs))
    return np.maximum(lhs - rhs - tol, 0.0)


def _check(rule: str, lhs, rhs, detail: str = "") -> Check:
    gap = _violation(lhs, rhs)
    worst = float(gap.max()) if gap.size else 0.0
    return Check(rule, worst == 0.0, int(gap.size), worst, detail)


def reach_grid(detail: pd.DataFrame, inputs: ModelInputs) -> pd.DataFrame:
    """People reached as a full year x PCN x intervention grid (zeros filled)."""
    grid = pd.MultiIndex.from_product(
        [inputs.years, inputs.pcns.index, inputs.interventions.index],
        names=["year", "pcn_code", "intervention_id"])
    reached = detail.set_index(["year", "pcn_code", "intervention_id"])["people_reached"]
    return reached.reindex(grid, fill_value=0.0).to_frame()


def effective_people(reached: np.ndarray, eligible: np.ndarray, inputs: ModelInputs) -> np.ndarray:
    """People reached weighted by the tranche's marginal effect, tranches filled in order."""
    out = np.zeros_like(reached)
    below = np.zeros_like(reached)
    for share, m in zip(inputs.policy.tranche_shares, inputs.policy.marginal_effect, strict=True):
        size = share * eligible
        in_tranche = np.clip(reached - below, 0.0, size)
        out += m * in_tranche
        below += size
    return out


class _Shortfalls:
    """The reported shortfalls of one rule, looked up by the rule's own labels."""

    def __init__(self, table: pd.DataFrame | None, rule: str):
        self.rows = pd.DataFrame() if table is None or table.empty \
            else table[table["rule"] == rule]
        self.reported: list[np.ndarray] = []
        self.gaps: list[np.ndarray] = []

    def on(self, keys: list[str], index) -> np.ndarray:
        """The shortfall reported for each label in `index` (a MultiIndex or Index over
        `keys`), zero where none is; summed where labels repeat."""
        if self.rows.empty:
            return np.zeros(len(index))
        amount = self.rows.groupby(keys)["shortfall"].sum()
        return amount.reindex(index).fillna(0.0).to_numpy(dtype=float)

    def exact(self, reported: np.ndarray, need: np.ndarray, have: np.ndarray,
              direction: float = 1.0) -> None:
        """Record each reported shortfall against the rule's own gap on the plan."""
        gap = np.maximum(direction * (np.asarray(need, float) - np.asarray(have, float)), 0.0)
        self.reported.append(np.asarray(reported, float))
        self.gaps.append(gap)


def verify(detail: pd.DataFrame, inputs: ModelInputs, objective: float | None = None,
           shortfalls: pd.DataFrame | None = None,
           contracts: pd.DataFrame | None = None) -> CheckReport:
    """Recompute every rule from the long output table and the inputs (with the shortfalls
    reported when the rules bent: the module docstring); with [commissioning] on, every
    commissioning rule from the plan's contract table (`Allocation.contracts`) as well."""
    short = {rule: _Shortfalls(shortfalls, rule) for rule in (
        "budget_limit", "workforce_limit", "universal_core_offer", "enhanced_support_uplift",
        "need_gradient", "q1_q5_spend_ratio", "ring_fences", "activity_targets", "locks")}
    policy = inputs.policy
    grid = reach_grid(detail, inputs)
    years = list(inputs.years)
    iv = inputs.interventions
    eligible = inputs.eligible.stack()  # (pcn, intervention)
    eligible.index.names = ["pcn_code", "intervention_id"]
    g = grid.join(eligible.rename("eligible"), on=["pcn_code", "intervention_id"])
    g["cost"] = g.index.get_level_values("intervention_id").map(iv["cost_gbp"]).to_numpy()
    g["spend"] = g["people_reached"] * g["cost"]
    g["priority"] = g.index.get_level_values("intervention_id").map(iv["priority_id"]).to_numpy()
    g["tier"] = g.index.get_level_values("intervention_id").map(iv["tier"]).to_numpy()
    pcn_level = g.index.get_level_values("pcn_code")
    year_level = g.index.get_level_values("year")
    checks: list[Check] = []

    checks.append(_check("people reached are not negative", -g["people_reached"], 0.0))
    checks.append(_check("reach caps: people reached <= eligible cohort",
                         g["people_reached"], g["eligible"]))
    if "spend_gbp" in detail:
        reported = detail.set_index(["year", "pcn_code", "intervention_id"])["spend_gbp"]
        recomputed = g["spend"].reindex(reported.index)
        checks.append(_check("spend = people reached x cost per person",
                             np.abs(reported - recomputed), 0.0))

    spend_year = g.groupby(level="year")["spend"].sum().reindex(years)
    g["effective"] = effective_people(g["people_reached"].to_numpy(), g["eligible"].to_numpy(),
                                      inputs)
    risk = inputs.risk
    for o in OUTCOMES:
        g[o] = g["effective"] * g.index.get_level_values("intervention_id").map(iv[o]).to_numpy() \
            * pcn_level.map(risk[o]).to_numpy()

    if policy.on("budget_limit"):
        budget = pd.Series(inputs.budget_gbp, index=years)
        if policy.on("invest_to_save") and policy.invest_to_save_share > 0:
            # cash released as the model file values it: the objective's £ per unit
            cash = sum(g[o] * float(inputs.outcome_weight_gbp[o]) for o in OUTCOMES[1:])
            cash_year = cash.groupby(level="year").sum().reindex(years).shift(1).fillna(0.0)
            budget = budget + policy.invest_to_save_share * cash_year
        over = short["budget_limit"].on(["year"], pd.Index(years))
        charged = spend_year
        if contracts is not None and policy.commissioning.on:
            charged = spend_year + set_up_charged(contracts, inputs)
        short["budget_limit"].exact(over, charged, budget)
        checks.append(_check("budget_limit: spend (and set-up costs) within each year's budget",
                             charged, budget + over))

    if policy.on("workforce_limit") and len(inputs.workforce_wte):
        scope = pcn_level.map(inputs.scope_of_pcn).to_numpy()
        iid = g.index.get_level_values("intervention_id")
        need_of = {}  # staff group: WTE needed by (year, scope), computed once per group
        lhs, rhs, keys = [], [], []
        for (group, s), available in inputs.workforce_wte.iterrows():
            if group not in need_of:
                per = iid.map(inputs.wte_per_person[group]).to_numpy()
                need_of[group] = pd.Series(g["people_reached"].to_numpy() * per).groupby(
                    [year_level, scope]).sum()
            need = need_of[group]
            lhs.append(np.array([need.get((y, s), 0.0) for y in years]))
            rhs.append(available.reindex(years).to_numpy())
            keys += [(y, group, s) for y in years]
        lhs, rhs = np.concatenate(lhs), np.concatenate(rhs)
        over = short["workforce_limit"].on(["year", "staff_group", "scope"],
                                           pd.MultiIndex.from_tuples(keys))
        short["workforce_limit"].exact(over, lhs, rhs)
        checks.append(_check("workforce_limit: WTE needed within WTE available", lhs,
                             rhs + over))

    if policy.on("universal_core_offer"):
        core = g[(g["tier"] == "core") & (g["eligible"] > 0)]
        floor = policy.universal_floor * core["eligible"]
        gap = short["universal_core_offer"].on(["year", "pcn_code", "intervention_id"],
                                              core.index)
        short["universal_core_offer"].exact(gap, floor, core["people_reached"])
        checks.append(_check("universal_core_offer: floor share of each core cohort reached",
                             floor, core["people_reached"] + gap))

    sp = g.groupby(["year", pcn_level.rename("pcn"), "priority"])["spend"].sum()
    if policy.on("enhanced_support_uplift"):
        checks.append(_uplift_check(sp, inputs, short["enhanced_support_uplift"]))

    spend_pcn = g.groupby(["year", pcn_level.rename("pcn")])["spend"].sum()
    if policy.on("need_gradient"):
        fair = spend_pcn.index.get_level_values("pcn").map(inputs.fair_share).to_numpy()
        total = spend_pcn.index.get_level_values("year").map(spend_year).to_numpy()
        need = policy.need_gradient * fair * total
        gap = short["need_gradient"].on(["year", "pcn_code"], spend_pcn.index)
        short["need_gradient"].exact(gap, need, spend_pcn.to_numpy())
        checks.append(_check("need_gradient: each PCN gets lambda x its fair share", need,
                             spend_pcn.to_numpy() + gap))
    if policy.q1_q5_spend_ratio is not None:
        checks.append(_ratio_check(spend_pcn, inputs, short["q1_q5_spend_ratio"]))

    reach = g["people_reached"].unstack("year")[years]
    elig = g["eligible"].unstack("year")[years[0]]
    if policy.on("mobilisation"):
        growth = reach.diff(axis=1)
        growth[years[0]] = reach[years[0]]
        limit = policy.mobilisation_max_growth * elig
        checks.append(_check("mobilisation: growth a year within its limit",
                             growth.to_numpy().ravel(),
                             np.repeat(limit.to_numpy()[:, None], len(years), 1).ravel()))
    if policy.on("continuity") and len(years) > 1:
        kept = (1 - policy.continuity_max_fall) * reach[years[:-1]].to_numpy()
        checks.append(_check("continuity: funding falls at most the set share a year",
                             kept.ravel(), reach[years[1:]].to_numpy().ravel()))

    if policy.on("ring_fences"):
        for fence in policy.ring_fences:
            pick = np.ones(len(g), dtype=bool)
            if fence.priority:
                pick &= (g["priority"] == fence.priority).to_numpy()
            if fence.tier:
                pick &= (g["tier"] == fence.tier).to_numpy()
            if fence.icb:
                pick &= (pcn_level.map(inputs.pcns["icb_code"]) == fence.icb).to_numpy()
            pot = g.loc[pick, "spend"].groupby(level="year").sum().reindex(years, fill_value=0)
            if fence.min_share is not None:
                need = fence.min_share * inputs.budget_gbp
                gap = short["ring_fences"].on(["year", "pot"], pd.MultiIndex.from_arrays(
                    [years, [fence.label()] * len(years)]))
                short["ring_fences"].exact(gap, need, pot.to_numpy())
                checks.append(_check(f"ring fence minimum ({fence.label()})", need,
                                     pot.to_numpy() + gap))
            if fence.max_share is not None:
                checks.append(_check(f"ring fence maximum ({fence.label()})",
                                     pot.to_numpy(), fence.max_share * inputs.budget_gbp))

    if policy.on("activity_targets"):
        for target in policy.activity_targets:
            checks.append(_target_check(g, inputs, target, short["activity_targets"]))

    if policy.on("enhanced_where_flagged"):
        table = inputs.higher_need.stack()
        flagged = pd.Series(table.to_numpy(dtype=bool), index=table.index.map(tuple))
        key = list(zip(pcn_level, g["priority"], strict=True))
        offered = flagged.reindex(key, fill_value=False).to_numpy()
        closed = (g["tier"] == "enhanced").to_numpy() & ~offered
        checks.append(_check("enhanced_where_flagged: no enhanced-tier reach outside the PCNs "
                             "flagged for its priority", g.loc[closed, "people_reached"], 0.0))

    for n, lock in enumerate(policy.locks, 1):
        for year in lock.years or years:
            held = sp.get((year, lock.pcn, lock.priority), 0.0)
            gap = short["locks"].on(["year", "pcn_code", "priority_id", "lock"],
                                    pd.MultiIndex.from_tuples([(year, lock.pcn, lock.priority,
                                                                n)]))[0]
            short["locks"].exact([gap], [lock.spend_gbp], [held])
            checks.append(_check(f"lock ({lock.priority} in {lock.pcn}, {year})",
                                 [abs(held + gap - lock.spend_gbp), held - lock.spend_gbp],
                                 [0.0, 0.0]))

    if shortfalls is not None and len(shortfalls):
        checks += _shortfall_checks(shortfalls, short, policy)
    if contracts is not None and policy.commissioning.on:
        checks += commissioning_checks(contracts, g, inputs)

    if objective is not None:
        checks.append(_objective_check(g, inputs, objective))
    return CheckReport(tuple(checks))


def _target_check(g: pd.DataFrame, inputs: ModelInputs, target, short) -> Check:
    """Activity avoided in the target's year and scope reaches its minimum; a change from
    baseline is turned into a minimum here from the PCN table's baseline column."""
    pcns = inputs.pcns
    pcn_level = g.index.get_level_values("pcn_code")
    if target.place:
        scope = pcns.index[pcns["place_code"] == target.place]
    elif target.icb:
        scope = pcns.index[pcns["icb_code"] == target.icb]
    else:
        scope = pcns.index
    minimum = target.minimum
    if target.change_from_baseline is not None:
        minimum = -target.change_from_baseline * float(
            pcns.loc[scope, BASELINE_COLUMNS[target.outcome]].astype(float).sum())
    pick = (g.index.get_level_values("year") == target.year) & pcn_level.isin(scope)
    achieved = g.loc[pick, target.outcome].sum()
    gap = short.on(["year", "outcome", "scope"], pd.MultiIndex.from_tuples(
        [(target.year, target.outcome, target.scope)]))
    short.exact(gap, [minimum], [achieved])
    return _check(f"activity target ({target.label()} in {target.year}, {target.scope})",
                  minimum, achieved + gap[0])


def _shortfall_checks(table: pd.DataFrame, short: dict, policy) -> list[Check]:
    """Shortfalls are no more than each rule's gap, and only on rules that may bend."""
    reported = np.concatenate([a for s in short.values() for a in s.reported] or [np.zeros(0)])
    gaps = np.concatenate([a for s in short.values() for a in s.gaps] or [np.zeros(0)])
    checked = sum(len(s.rows) for s in short.values())
    hard = sorted({r for r in table["rule"] if policy.rank(r) is None and r != "ring_fences"
                   and r != "activity_targets" and r != "locks"})
    return [
        _check("shortfalls: each is the rule's own gap on the plan (none where it is met)",
               reported, gaps),
        Check("shortfalls: every one was found against a rule", checked == len(table), 1,
              float(len(table) - checked)),
        Check("shortfalls: none on a rule held hard", not hard, 1, float(len(hard)),
              ", ".join(hard)),
    ]


def _ratio_check(spend_pcn: pd.Series, inputs: ModelInputs, short) -> Check:
    """Q1 spend >= k x Q5 spend per head x Q1's people, each year (people split by the PCNs'
    quintile shares, spend split like the people)."""
    shares = inputs.quintile_shares
    people = shares.mul(inputs.pcns["population"].astype(float), axis=0).sum()
    spend = spend_pcn.unstack("pcn").reindex(columns=shares.index, fill_value=0.0)
    q1 = spend.to_numpy() @ shares[1].to_numpy()
    q5 = spend.to_numpy() @ shares[5].to_numpy()
    need = inputs.policy.q1_q5_spend_ratio * q5 / people[5] * people[1]
    gap = short.on(["year"], spend.index)
    short.exact(gap, need, q1)
    return _check("q1_q5_spend_ratio: Q1 spend per head >= k x Q5's", need, q1 + gap)


def _uplift_check(sp: pd.Series, inputs: ModelInputs, short) -> Check:
    cohort = inputs.priority_cohort
    flags = inputs.higher_need
    icb = inputs.pcns["icb_code"]
    uplift = 1.0 + inputs.policy.enhanced_uplift
    lhs, rhs, keys = [], [], []
    table = sp.unstack("priority").reindex(columns=list(inputs.priority_ids),
                                           fill_value=0.0).fillna(0.0)
    pcns = inputs.pcns.index
    icb_of, icbs = icb.to_numpy(), icb.unique()
    for year in inputs.years:
        for r in inputs.priority_ids:  # (arrays: the loop once took 0.3 s of a DLN run)
            spend = table.loc[year, r].reindex(pcns, fill_value=0.0).to_numpy(dtype=float)
            people = cohort[r].to_numpy(dtype=float)
            flagged = flags[r].to_numpy(dtype=bool)
            for c in icbs:
                in_c = (icb_of == c) & (people > 0)
                others, needy = in_c & ~flagged, in_c & flagged
                if not others.any() or not needy.any():
                    continue
                average = spend[others].sum() / people[others].sum()
                lhs += (uplift * average * people[needy]).tolist()
                rhs += spend[needy].tolist()
                keys += [(year, p, r) for p in pcns[needy]]
    gap = short.on(["year", "pcn_code", "priority_id"], pd.MultiIndex.from_tuples(keys)) \
        if keys else np.zeros(0)
    short.exact(gap, lhs, rhs)
    return _check("enhanced_support_uplift: higher-need spend per eligible >= (1+u) x others",
                  np.array(lhs), np.array(rhs) + gap)


def _objective_check(g: pd.DataFrame, inputs: ModelInputs, objective: float) -> Check:
    """The reported objective equals the value recomputed from the people reached."""
    policy = inputs.policy
    iv = inputs.interventions
    pcn = g.index.get_level_values("pcn_code")
    iid = g.index.get_level_values("intervention_id")
    weights = inputs.outcome_weight_gbp
    value = sum(weights[o] * g[o] for o in OUTCOMES)
    value = value * iid.map(iv["priority_id"]).map(inputs.priority_weight).to_numpy()
    value = value * pcn.map(inputs.equity_weight).to_numpy()
    year_pos = g.index.get_level_values("year").map({y: j for j, y in enumerate(inputs.years)})
    value = value * (1 + policy.discount_rate) ** -np.asarray(year_pos, dtype=float)
    recomputed = float(value.sum() - 1e-6 * g["spend"].sum())
    gap = abs(recomputed - objective)
    tol = 1e-6 * max(1.0, abs(objective)) + 1e-3
    return Check("objective recomputed from the people reached", gap <= tol, 1,
                 max(gap - tol, 0.0), f"(recomputed {recomputed:,.2f}, solver {objective:,.2f})")


# ---- [commissioning]: contracts a commissioner can let ----------------------------------------

def _minimum_people(inputs: ModelInputs) -> pd.Series:
    """Each intervention's smallest contract in people a year, from the table and the model
    file alone: min_size in its unit (people; WTE over every staff group at the row's WTE per
    person; £ at its cost per person) and the model's minimum contract value."""
    iv = inputs.interventions
    cost = iv["cost_gbp"].astype(float)
    need = pd.Series(0.0, index=iv.index)
    if "min_size" in iv:
        unit = iv["min_size_unit"].fillna("").astype(str).str.lower()
        size = iv["min_size"].astype(float)
        wte = sum(iv[f"wte_per_1000_{g}"].astype(float) for g in inputs.staff_groups.index) / 1000
        per = np.where(unit == "people", 1.0, np.where(unit == "wte", wte, np.where(
            unit.str.startswith("gbp"), cost, np.nan)))
        need = (size / per).fillna(0.0)
    value = (inputs.policy.commissioning.min_contract_gbp / cost.where(cost > 0)).fillna(0.0)
    return np.maximum(need, value)


def _setup_cost(inputs: ModelInputs) -> pd.Series:
    iv = inputs.interventions
    if "setup_cost_gbp" not in iv:
        return pd.Series(0.0, index=iv.index)
    cost = iv["setup_cost_gbp"].astype(float).fillna(0.0)
    return cost.where(~iv.index.isin(inputs.policy.commissioning.setup_not_charged), 0.0)


def set_up_charged(contracts: pd.DataFrame, inputs: ModelInputs) -> pd.Series:
    """Set-up cost due each year, recomputed from the runs: a contract pays it in a year it
    runs and did not run the year before (the first year counts as a start)."""
    years = list(inputs.years)
    runs = contracts.pivot_table(index=["intervention_id", "level", "area_code"],
                                 columns="year", values="runs", aggfunc="max",
                                 fill_value=False).reindex(columns=years, fill_value=False)
    on = runs.to_numpy(dtype=bool)
    started = on & ~np.concatenate([np.zeros((len(on), 1), bool), on[:, :-1]], axis=1)
    fee = runs.index.get_level_values("intervention_id").map(_setup_cost(inputs)).to_numpy(
        dtype=float)
    return pd.Series((started * fee[:, None]).sum(axis=0), index=years)


def commissioning_checks(contracts: pd.DataFrame, g: pd.DataFrame,
                         inputs: ModelInputs) -> list[Check]:
    """Every commissioning rule on the plan's contracts: no one reached by a contract that
    does not run; a running contract at least its minimum size; set-up costs charged in the
    years contracts start (and only then); the contracts' people add up to the PCNs' own."""
    checks = []
    idle = contracts[~contracts["runs"]]
    checks.append(_check("commissioning: no one reached by a contract that does not run",
                         idle["people_reached"], 0.0))
    running = contracts[contracts["runs"]]
    need = running["intervention_id"].map(_minimum_people(inputs)).to_numpy(dtype=float)
    checks.append(_check("commissioning: every running contract at least its minimum size",
                         need, running["people_reached"].to_numpy()))
    due = set_up_charged(contracts, inputs)
    charged = contracts.groupby("year")["setup_charged_gbp"].sum().reindex(
        list(inputs.years), fill_value=0.0)
    checks.append(_check("commissioning: set-up costs charged in the years contracts start",
                         np.abs(charged.to_numpy() - due.to_numpy()), 0.0))
    icb = inputs.pcns["icb_code"].astype(str)
    areas = {**dict(zip(inputs.pcns["pcn_code"].astype(str), icb, strict=True)),
             **dict(zip(inputs.pcns["place_code"].astype(str), icb, strict=True)),
             **{c: c for c in icb}}
    theirs = contracts.assign(icb=contracts["area_code"].astype(str).map(areas)).groupby(
        ["year", "intervention_id", "icb"])["people_reached"].sum()
    reached = g["people_reached"]
    mine = reached.groupby([reached.index.get_level_values("year"),
                            reached.index.get_level_values("intervention_id"),
                            reached.index.get_level_values("pcn_code").map(icb)]).sum()
    mine.index.names = ["year", "intervention_id", "icb"]
    both = pd.concat([mine.rename("pcns"), theirs.rename("contracts")], axis=1).fillna(0.0)
    checks.append(_check("commissioning: contracts' people add up to the PCNs' people reached",
                         np.abs(both["pcns"] - both["contracts"]), 0.0))
    return checks
