"""An independent check that every policy rule holds on the solved numbers.

It reads only the output table (year x PCN x intervention: people reached, spend) and the
inputs, and recomputes every rule from scratch, with plain pandas and none of the solver's or
the formulation's internals. Any rule that fails is named with its worst violation.
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


def verify(detail: pd.DataFrame, inputs: ModelInputs,
           objective: float | None = None) -> CheckReport:
    """Recompute every rule from the long output table and the inputs."""
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
        checks.append(_check("budget_limit: spend within each year's budget", spend_year, budget))

    if policy.on("workforce_limit") and len(inputs.workforce_wte):
        scope = pcn_level.map(inputs.scope_of_pcn).to_numpy()
        iid = g.index.get_level_values("intervention_id")
        need_of = {}  # staff group: WTE needed by (year, scope), computed once per group
        lhs, rhs = [], []
        for (group, s), available in inputs.workforce_wte.iterrows():
            if group not in need_of:
                per = iid.map(inputs.wte_per_person[group]).to_numpy()
                need_of[group] = pd.Series(g["people_reached"].to_numpy() * per).groupby(
                    [year_level, scope]).sum()
            need = need_of[group]
            lhs.append(np.array([need.get((y, s), 0.0) for y in years]))
            rhs.append(available.reindex(years).to_numpy())
        checks.append(_check("workforce_limit: WTE needed within WTE available",
                             np.concatenate(lhs), np.concatenate(rhs)))

    if policy.on("universal_core_offer"):
        core = g[(g["tier"] == "core") & (g["eligible"] > 0)]
        checks.append(_check("universal_core_offer: floor share of each core cohort reached",
                             policy.universal_floor * core["eligible"], core["people_reached"]))

    sp = g.groupby(["year", pcn_level.rename("pcn"), "priority"])["spend"].sum()
    if policy.on("enhanced_support_uplift"):
        checks.append(_uplift_check(sp, inputs))

    spend_pcn = g.groupby(["year", pcn_level.rename("pcn")])["spend"].sum()
    if policy.on("need_gradient"):
        fair = spend_pcn.index.get_level_values("pcn").map(inputs.fair_share).to_numpy()
        total = spend_pcn.index.get_level_values("year").map(spend_year).to_numpy()
        checks.append(_check("need_gradient: each PCN gets lambda x its fair share",
                             policy.need_gradient * fair * total, spend_pcn.to_numpy()))

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
                checks.append(_check(f"ring fence minimum ({fence.label()})",
                                     fence.min_share * inputs.budget_gbp, pot.to_numpy()))
            if fence.max_share is not None:
                checks.append(_check(f"ring fence maximum ({fence.label()})",
                                     pot.to_numpy(), fence.max_share * inputs.budget_gbp))

    if policy.on("activity_targets"):
        for target in policy.activity_targets:
            checks.append(_target_check(g, inputs, target))

    if policy.on("enhanced_where_flagged"):
        table = inputs.higher_need.stack()
        flagged = pd.Series(table.to_numpy(dtype=bool), index=table.index.map(tuple))
        key = list(zip(pcn_level, g["priority"], strict=True))
        offered = flagged.reindex(key, fill_value=False).to_numpy()
        closed = (g["tier"] == "enhanced").to_numpy() & ~offered
        checks.append(_check("enhanced_where_flagged: no enhanced-tier reach outside the PCNs "
                             "flagged for its priority", g.loc[closed, "people_reached"], 0.0))

    for lock in policy.locks:
        for year in lock.years or years:
            held = sp.get((year, lock.pcn, lock.priority), 0.0)
            checks.append(_check(f"lock ({lock.priority} in {lock.pcn}, {year})",
                                 abs(held - lock.spend_gbp), 0.0))

    if objective is not None:
        checks.append(_objective_check(g, inputs, objective))
    return CheckReport(tuple(checks))


def _target_check(g: pd.DataFrame, inputs: ModelInputs, target) -> Check:
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
    return _check(f"activity target ({target.label()} in {target.year}, {target.scope})",
                  minimum, g.loc[pick, target.outcome].sum())


def _uplift_check(sp: pd.Series, inputs: ModelInputs) -> Check:
    cohort = inputs.priority_cohort
    flags = inputs.higher_need
    icb = inputs.pcns["icb_code"]
    uplift = 1.0 + inputs.policy.enhanced_uplift
    lhs, rhs = [], []
    table = sp.unstack("priority").reindex(columns=list(inputs.priority_ids),
                                           fill_value=0.0).fillna(0.0)
    for year in inputs.years:
        for r in inputs.priority_ids:
            spend = table.loc[year, r].reindex(inputs.pcns.index, fill_value=0.0)
            for c in icb.unique():
                in_c = (icb == c) & (cohort[r] > 0)
                others, needy = in_c & ~flags[r], in_c & flags[r]
                if not others.any() or not needy.any():
                    continue
                average = spend[others].sum() / cohort.loc[others, r].sum()
                lhs += list(uplift * average * cohort.loc[needy, r])
                rhs += list(spend[needy])
    return _check("enhanced_support_uplift: higher-need spend per eligible >= (1+u) x others",
                  np.array(lhs), np.array(rhs))


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
