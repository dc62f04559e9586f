r"""The allocation model as a linear program, written once as labelled, vectorised blocks.

Sets
    T years (t = 0 is 2026/27); P PCNs, each in an ICB c(p) and a place; I interventions,
    each in a priority r(i) and a tier (core or enhanced); R priorities; S staff groups;
    K response tranches; O outcomes (QALYs; emergency admissions, A&E attendances, bed days
    and outpatient attendances avoided); H_r ⊆ P the higher-need PCNs of priority r.

Parameters (units)
    E[p,i]      people eligible in a year = population[p, col_i] x prevalence[p, col_i]
                x cohort_share_i x max_uptake_i                                    [people]
    sigma_k     share of E in tranche k (sum 1); m_k marginal effect (m_1 >= m_2 >= ...)
    c_i         cost per person reached                                  [£ 2024/25]
    w[i,s]      WTE per person reached                                            [WTE]
    e[i,o]      outcome o per person reached                               [unit of o]
    rho[p,o]    risk multiplier of PCN p for outcome o (its need index)             [-]
    v_o         value of one unit of o (QALY at £/QALY; activity at unit cost x
                cash-releasing share)                                              [£]
    pi_r        priority weight; q_p equity weight of p's IMD quintile               [-]
    delta_t     discount factor (1 + rate)^-t                                      [-]
    B_t         budget [£]; W[t,s,c] WTE available [WTE]; f floor share; u uplift;
    lambda      need-gradient dial; phi_p need-weighted fair share (sum 1);
    g           mobilisation (most a service grows a year, as a share of E);
    d           continuity (most its funding falls a year); theta invest-to-save share.
    w[p,q]      share of PCN p's people in IMD quintile q (rows sum to 1); N_q = sum_p
                w[p,q] pop_p people in quintile q; k the least Q1:Q5 ratio of spend per head.

Variables
    x[t,p,i,k] >= 0   people reached in tranche k                              [people]
    y[t,p,i]          people reached in all = sum_k x[t,p,i,k]                  [people]
    sp[t,p,r]         spend on priority r in PCN p                                   [£]
    s[t,p]            spend in PCN p; S[t] total spend                               [£]
    a[t,c,r]          average spend per eligible person on r in c's other PCNs       [£]
    C[t]              cash released by avoided activity (invest-to-save only):
                      sum over activity o of v_o x activity avoided                  [£]

Objective
    max  sum_t delta_t sum_{p,i,k} ( sum_o v_o e[i,o] rho[p,o] ) m_k pi_r(i) q_p x[t,p,i,k]
         - epsilon sum_{t,p,i,k} c_i x[t,p,i,k]
    (epsilon = 1e-6 per £ breaks ties against spending on interventions worth nothing.)

The diminishing marginal effects make the objective concave in the people reached, so the
tranches fill in order without integer variables and the optimum is global.

Constraints: one function per family below, each with its inequality in the docstring.
Enhanced support only where flagged (`enhanced_where_flagged`, seed 001 L653-656) is bounds,
not rows: x[t,p,i,k] = 0 for an enhanced-tier i in a PCN p outside H_r(i), so switching it is a
warm change and the reduced costs of those columns say what offering the service would be worth.

Rules that bend (`formulate(inputs, shortfalls=True)`; solved by optimiser/ordered.py)
    z_j >= 0    the shortfall of row j of a rule ranked in [rules], in the row's own unit
                (people for the floor; £ for the uplift, the gradient, the Q1:Q5 ratio, a
                ring-fence minimum, a lock and the budget; WTE for the workforce; the
                activity's unit for a target): the row is met with z_j added (`rule_shortfalls`)
    Z_k         = sum_{j at rank k} g_j z_j, rank k's shortfall in £ (g_j £ per unit of row j)
    Lexicographic stages: min Z_1, then Z_1 held at its least; min Z_2; ...; then the
    objective above with every Z_k held at its least.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .commissioning import add_commissioning
from .inputs import ModelInputs
from .lp import INF, LinearProgram, product
from .schemas import OUTCOMES

TIE_BREAK_PER_GBP = 1e-6


class Layout:
    """Index arithmetic for the reached variables x[t, m, k].

    m runs over the eligible (PCN, intervention) pairs.
    """

    def __init__(self, inputs: ModelInputs):
        eligible = inputs.eligible.to_numpy()
        self.inputs = inputs
        self.T = len(inputs.years)
        self.K = len(inputs.policy.tranche_shares)
        self.pcn_pos, self.iv_pos = np.nonzero(eligible > 0)
        self.M = len(self.pcn_pos)
        self.E = eligible[self.pcn_pos, self.iv_pos]
        iv = inputs.interventions
        self.cost = iv["cost_gbp"].to_numpy(dtype=float)[self.iv_pos]
        self.priorities = np.array(inputs.priority_ids)
        prio_code = {r: j for j, r in enumerate(inputs.priority_ids)}
        self.prio_pos = iv["priority_id"].map(prio_code).to_numpy()[self.iv_pos]
        self.core = (iv["tier"] == "core").to_numpy()[self.iv_pos]
        self.enhanced = ~self.core
        self.n_pcn = len(inputs.pcns)
        self.n_prio = len(self.priorities)

    def tmk(self):
        """Arrays (t, m, k) in column order."""
        t = np.repeat(np.arange(self.T), self.M * self.K)
        m = np.tile(np.repeat(np.arange(self.M), self.K), self.T)
        k = np.tile(np.arange(self.K), self.T * self.M)
        return t, m, k


def outcome_value_per_person(inputs: ModelInputs) -> pd.DataFrame:
    """Weighted value per person reached before tranche and discount (pcn x intervention), £."""
    iv = inputs.interventions
    effects = iv[list(OUTCOMES)].to_numpy(dtype=float)  # I x O
    weights = inputs.outcome_weight_gbp.reindex(list(OUTCOMES)).to_numpy()
    risk = inputs.risk[list(OUTCOMES)].to_numpy()  # P x O
    value = (risk * weights) @ effects.T  # P x I
    pw = iv["priority_id"].map(inputs.priority_weight).to_numpy(dtype=float)
    value = value * pw[None, :] * inputs.equity_weight.to_numpy()[:, None]
    return pd.DataFrame(value, index=inputs.pcns.index, columns=iv.index)


def discount(inputs: ModelInputs) -> np.ndarray:
    return (1.0 + inputs.policy.discount_rate) ** -np.arange(len(inputs.years), dtype=float)


def objective(lay: Layout) -> np.ndarray:
    """The objective's coefficient of each x[t,p,i,k] (the only columns with one)."""
    inputs = lay.inputs
    t, m, k = lay.tmk()
    marginal = np.asarray(inputs.policy.marginal_effect)
    value = outcome_value_per_person(inputs).to_numpy()[lay.pcn_pos, lay.iv_pos]
    return discount(inputs)[t] * value[m] * marginal[k] - TIE_BREAK_PER_GBP * lay.cost[m]


# Policy fields read only by `objective` (or by nothing in the LP): a change to these alone
# leaves every row and bound as it was (`reformulate`). tests/test_lp.py changes each one and
# compares with `formulate`.
OBJECTIVE_ONLY = frozenset({"qaly_gbp", "activity_gbp", "cash_releasing_share",
                            "priority_weight", "quintile_weight", "discount_rate",
                            "name", "description", "scenario", "aims"})


def reformulate(lp: LinearProgram, before: ModelInputs, after: ModelInputs) -> LinearProgram:
    """The LP for `after`, given `lp` formulated for `before`: when only objective weights
    changed, `lp` with new objective coefficients (a weight slider in the app re-solves
    without building every row again); otherwise `formulate(after)`."""
    changed = {f.name for f in dataclasses.fields(before.policy)
               if getattr(before.policy, f.name) != getattr(after.policy, f.name)}
    objective_only = OBJECTIVE_ONLY - CASH_VALUES if (
        after.policy.on("invest_to_save") and after.policy.invest_to_save_share > 0) \
        else OBJECTIVE_ONLY
    if not changed <= objective_only or not all(
            _same(getattr(before, f.name), getattr(after, f.name))
            for f in dataclasses.fields(ModelInputs) if f.name != "policy"):
        return formulate(after, shortfalls=has_shortfalls(lp))
    cost = list(lp.col_cost)
    cost[list(lp.columns).index("reached")] = objective(Layout(after))
    return dataclasses.replace(lp, col_cost=cost)


def has_shortfalls(lp: LinearProgram) -> bool:
    """Was `lp` formulated with its rules' shortfalls (`formulate(..., shortfalls=True)`)?"""
    return "rule_shortfall_gbp" in lp.columns


def _same(a, b) -> bool:
    """The same table (the app re-derives the small workforce table on every change)."""
    return a is b or (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)
                      and a.equals(b)) or (isinstance(a, str) and a == b)


def formulate(inputs: ModelInputs, shortfalls: bool = False) -> LinearProgram:
    """The LP for these inputs. Pure: no files, no solver, no globals.

    Every rule is hard unless `shortfalls`: then each rule the policy ranks (`Policy.rank`)
    gets a shortfall column per row and each rank its total in £ (`rule_shortfalls`), for
    the ordered stages (optimiser/ordered.py); with every shortfall at zero it is this LP.
    """
    lp = LinearProgram()
    lay = Layout(inputs)
    policy = inputs.policy
    years = np.array(inputs.years)
    pcn_codes = inputs.pcns.index.to_numpy()
    iv_ids = inputs.interventions.index.to_numpy()

    # ---- variables -----------------------------------------------------------------------
    t, m, k = lay.tmk()
    shares = np.asarray(policy.tranche_shares)
    x = lp.add_vars(
        "reached",
        {"year": years[t], "pcn": pcn_codes[lay.pcn_pos[m]],
         "intervention": iv_ids[lay.iv_pos[m]], "tranche": k + 1},
        lower=0.0, upper=shares[k] * lay.E[m], cost=objective(lay),
        meaning="people reached in a response tranche",
    )
    tm = np.repeat(np.arange(lay.T), lay.M)
    mm = np.tile(np.arange(lay.M), lay.T)
    y = lp.add_vars(
        "reach",
        {"year": years[tm], "pcn": pcn_codes[lay.pcn_pos[mm]],
         "intervention": iv_ids[lay.iv_pos[mm]]},
        lower=0.0, upper=lay.E[mm], meaning="people reached in all tranches",
    )
    tp = product(year=years, pcn=pcn_codes, priority=lay.priorities)
    spend_priority = lp.add_vars("spend_priority", tp, meaning="£ spent on a priority in a PCN")
    tpc = product(year=years, pcn=pcn_codes)
    spend_pcn = lp.add_vars("spend_pcn", tpc, meaning="£ spent in a PCN")
    total = lp.add_vars("spend_total", pd.DataFrame({"year": years}), meaning="£ spent in all")
    blocks = {"x": x, "y": y, "sp": spend_priority, "s": spend_pcn, "S": total}

    define_spend(lp, lay, blocks)
    if policy.on("invest_to_save") and policy.invest_to_save_share > 0:
        blocks["C"] = avoided_cash(lp, lay, blocks)
    if policy.on("budget_limit"):
        budget_limit(lp, lay, blocks)
    if policy.on("ring_fences") and policy.ring_fences:
        ring_fences(lp, lay, blocks)
    if policy.on("workforce_limit") and len(inputs.workforce_wte):
        workforce_limit(lp, lay, blocks)
    if policy.on("universal_core_offer"):
        universal_core_offer(lp, lay, blocks)
    if policy.on("enhanced_support_uplift"):
        enhanced_support_uplift(lp, lay, blocks)
    if policy.on("need_gradient"):
        need_gradient(lp, lay, blocks)
    if policy.on("mobilisation"):
        mobilisation(lp, lay, blocks)
    if policy.on("continuity") and lay.T > 1:
        continuity(lp, lay, blocks)
    if policy.on("activity_targets") and policy.activity_targets:
        activity_targets(lp, lay, blocks)
    if policy.on("enhanced_where_flagged"):
        enhanced_where_flagged(lp, lay, blocks)
    if policy.q1_q5_spend_ratio is not None:
        q1_q5_spend_ratio(lp, lay, blocks)
    apply_locks(lp, lay, blocks)
    add_commissioning(lp, lay, blocks)  # [commissioning]: contracts (optimiser/commissioning.py)
    if shortfalls:
        locks_that_bend(lp, lay, blocks)
        rule_shortfalls(lp, lay)
    return lp


# ---- spend definitions ---------------------------------------------------------------------


def define_spend(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Reach and spend are defined once from the people reached, so coupling rows stay sparse.

    y[t,p,i]  - sum_k x[t,p,i,k]                  = 0         [people]
    sp[t,p,r] - sum_{i in r} c_i y[t,p,i]         = 0         [£]
    s[t,p]    - sum_r sp[t,p,r]                   = 0         [£]
    S[t]      - sum_p s[t,p]                      = 0         [£]
    """
    R, P, T, M, K = lay.n_prio, lay.n_pcn, lay.T, lay.M, lay.K
    x, yb, spb, sb, Sb = b["x"], b["y"], b["sp"], b["s"], b["S"]
    n_y = T * M
    rows = np.concatenate([np.arange(n_y), np.repeat(np.arange(n_y), K)])
    cols = np.concatenate([yb.positions(), x.positions()])
    vals = np.concatenate([np.ones(n_y), -np.ones(n_y * K)])
    lp.add_rows("define_reach", yb.labels, rows, cols, vals, 0.0, 0.0,
                "people reached = sum over tranches")

    t = np.repeat(np.arange(T), M)
    m = np.tile(np.arange(M), T)
    n_sp = T * P * R
    sp_row = (t * P + lay.pcn_pos[m]) * R + lay.prio_pos[m]
    rows = np.concatenate([np.arange(n_sp), sp_row])
    cols = np.concatenate([spb.positions(), yb.positions()])
    vals = np.concatenate([np.ones(n_sp), -lay.cost[m]])
    lp.add_rows("define_priority_spend", spb.labels, rows, cols, vals, 0.0, 0.0,
                "spend on a priority = cost x people reached")

    n_s = T * P
    rows = np.concatenate([np.arange(n_s), np.arange(n_sp) // R])
    cols = np.concatenate([sb.positions(), spb.positions()])
    vals = np.concatenate([np.ones(n_s), -np.ones(n_sp)])
    lp.add_rows("define_pcn_spend", sb.labels, rows, cols, vals, 0.0, 0.0,
                "spend in a PCN = sum of its priorities")

    rows = np.concatenate([np.arange(T), np.arange(n_s) // P])
    cols = np.concatenate([Sb.positions(), sb.positions()])
    vals = np.concatenate([np.ones(T), -np.ones(n_s)])
    lp.add_rows("define_total_spend", Sb.labels, rows, cols, vals, 0.0, 0.0,
                "total spend = sum over PCNs")


def activity_per_person(lay: Layout, outcome: str) -> np.ndarray:
    """Outcome per person reached for each (PCN, intervention) pair, risk-adjusted."""
    inputs = lay.inputs
    effect = inputs.interventions[outcome].to_numpy(dtype=float)[lay.iv_pos]
    risk = inputs.risk[outcome].to_numpy()[lay.pcn_pos]
    return effect * risk


# Policy fields that set the cash value of avoided activity: they weigh the objective and,
# with invest-to-save on, the `avoided_cash` row too (`reformulate` then builds again).
CASH_VALUES = frozenset({"activity_gbp", "cash_releasing_share"})


def avoided_cash(lp: LinearProgram, lay: Layout, b: dict):
    r"""Cash released by the activity avoided in a year (used by invest-to-save), valued as the
    model file says cash is released: v_o, the objective's £ value of a unit of activity o
    (its unit cost x the cash-releasing share, or the model file's own £ per unit, e.g. bed
    days at £0 where the admission's cost already pays for the stay). QALYs release no cash;
    priority and equity weights do not apply (cash is cash).

    C[t] - sum_{p,i,k} sum_{o activity} v_o e[i,o] rho[p,o] m_k x[t,p,i,k] = 0           [£]
    """
    inputs = lay.inputs
    value = inputs.outcome_weight_gbp
    per_person = sum(float(value[o]) * activity_per_person(lay, o) for o in OUTCOMES[1:])
    t, m, k = lay.tmk()
    marginal = np.asarray(inputs.policy.marginal_effect)
    C = lp.add_vars("avoided_cash", pd.DataFrame({"year": list(inputs.years)}),
                    lower=-INF, upper=INF, meaning="£ value of activity avoided")
    rows = np.concatenate([np.arange(lay.T), t])
    cols = np.concatenate([C.positions(), b["x"].positions()])
    vals = np.concatenate([np.ones(lay.T), -per_person[m] * marginal[k]])
    lp.add_rows("define_avoided_cash", C.labels, rows, cols, vals, 0.0, 0.0,
                "£ value of avoided activity")
    return C


# ---- policy rules ----------------------------------------------------------------------------


def budget_limit(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Spend stays within each year's budget; with invest-to-save, a share of last year's
    avoided activity value returns to this year's budget.

    S[t] - theta C[t-1] <= B_t          for each year t                                  [£]
    """
    inputs = lay.inputs
    T = lay.T
    rows, cols, vals = [np.arange(T)], [b["S"].positions()], [np.ones(T)]
    if "C" in b and T > 1:
        rows.append(np.arange(1, T))
        cols.append(b["C"].positions()[:-1])
        vals.append(np.full(T - 1, -inputs.policy.invest_to_save_share))
    lp.add_rows("budget_limit", pd.DataFrame({"year": list(inputs.years)}),
                np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                -INF, inputs.budget_gbp, "spend within the year's budget")


def ring_fences(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Ring-fenced pots: spend on a priority (or tier, in an ICB) between shares of the budget.

    min_share B_t <= sum_{p in scope, i in pot} c_i y[t,p,i] <= max_share B_t            [£]
    """
    inputs = lay.inputs
    t = np.repeat(np.arange(lay.T), lay.M)
    m = np.tile(np.arange(lay.M), lay.T)
    icb_of = inputs.pcns["icb_code"].to_numpy()[lay.pcn_pos]
    tier = np.where(lay.core, "core", "enhanced")
    prio = lay.priorities[lay.prio_pos]
    rows, cols, vals, lo, hi, labels = [], [], [], [], [], []
    for f_idx, fence in enumerate(inputs.policy.ring_fences):
        keep = np.ones(lay.M, dtype=bool)
        if fence.priority:
            keep &= prio == fence.priority
        if fence.tier:
            keep &= tier == fence.tier
        if fence.icb:
            keep &= icb_of == fence.icb
        sel = keep[m]
        for ti in range(lay.T):
            row = f_idx * lay.T + ti
            pick = sel & (t == ti)
            rows.append(np.full(pick.sum(), row))
            cols.append(b["y"].positions()[pick])
            vals.append(lay.cost[m[pick]])
            budget = inputs.budget_gbp[ti]
            lo.append(-INF if fence.min_share is None else fence.min_share * budget)
            hi.append(INF if fence.max_share is None else fence.max_share * budget)
            labels.append((inputs.years[ti], fence.label()))
    lp.add_rows("ring_fence", pd.DataFrame(labels, columns=["year", "pot"]),
                np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                np.array(lo), np.array(hi), "spend on a ring-fenced pot")


def workforce_limit(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""WTE needed per staff group within the WTE available, per ICB (or place), per year.

    sum_{p in c, i} w[i,s] y[t,p,i] <= W[t,s,c]          for each t, s, c          [WTE]
    """
    inputs = lay.inputs
    available = inputs.workforce_wte  # index (group, scope), columns years
    wte = inputs.wte_per_person  # I x S
    scope_of = inputs.scope_of_pcn.to_numpy()[lay.pcn_pos]
    t = np.repeat(np.arange(lay.T), lay.M)
    m = np.tile(np.arange(lay.M), lay.T)
    x_pos = b["y"].positions()
    n_keys = len(available.index)
    row_of = {key: j for j, key in enumerate(available.index)}
    scope_codes, pair_scope = np.unique(scope_of.astype(str), return_inverse=True)
    rows, cols, vals = [], [], []
    for group in available.index.get_level_values(0).unique():
        per_person = wte[group].to_numpy()[lay.iv_pos]
        uses = per_person[m] > 0
        if not uses.any():
            continue
        # the workforce row of each PCN pair's scope: -1 when no WTE is given for it
        key_row = np.array([row_of.get((group, c), -1) for c in scope_codes])[pair_scope]
        ok = uses & (key_row[m] >= 0)
        rows.append(t[ok] * n_keys + key_row[m[ok]])
        cols.append(x_pos[ok])
        vals.append(per_person[m[ok]])
    groups, scopes = (available.index.get_level_values(j).to_numpy() for j in (0, 1))
    index = {"year": np.repeat(np.array(inputs.years), n_keys),
             "staff_group": np.tile(groups, lay.T), "scope": np.tile(scopes, lay.T)}
    upper = available.to_numpy().T.reshape(-1)  # year-major, matching index order
    lp.add_rows("workforce_limit", index,
                np.concatenate(rows) if rows else np.zeros(0, np.int64),
                np.concatenate(cols) if cols else np.zeros(0, np.int64),
                np.concatenate(vals) if vals else np.zeros(0),
                -INF, upper, "WTE needed within WTE available")


def universal_core_offer(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Every PCN reaches at least the floor share of the eligible cohort of each core offer.

    y[t,p,i] >= f E[p,i]          for each t, p and core intervention i             [people]
    """
    inputs = lay.inputs
    core_m = np.nonzero(lay.core)[0]
    n = len(core_m)
    t_r = np.repeat(np.arange(lay.T), n)
    m_r = np.tile(core_m, lay.T)
    col = b["y"].start + t_r * lay.M + m_r
    lp.add_rows("universal_core_offer", _pair_index(lay, t_r, m_r), np.arange(len(col)), col,
                np.ones(len(col)), inputs.policy.universal_floor * lay.E[m_r], INF,
                "people reached >= floor x eligible, core offer")


def priority_cohort_array(lay: Layout) -> np.ndarray:
    return lay.inputs.priority_cohort.reindex(columns=lay.priorities).to_numpy()  # P x R


def enhanced_support_uplift(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Higher-need PCNs of a priority spend more per eligible person than the rest of the ICB.

    a[t,c,r] sum_{q in c \ H_r} E[q,r] - sum_{q in c \ H_r} sp[t,q,r] = 0               [£]
    sp[t,p,r] - (1 + u) E[p,r] a[t,c(p),r] >= 0          for p in H_r, in ICB c          [£]
    """
    inputs = lay.inputs
    flags = inputs.higher_need.reindex(columns=lay.priorities).to_numpy()  # P x R
    cohort = priority_cohort_array(lay)
    icb = inputs.pcns["icb_code"].to_numpy()
    R, P = lay.n_prio, lay.n_pcn
    groups = []  # (icb, r, others positions, higher-need positions)
    for c in np.unique(icb):
        in_c = icb == c
        for r in range(R):
            others = np.nonzero(in_c & ~flags[:, r] & (cohort[:, r] > 0))[0]
            needy = np.nonzero(in_c & flags[:, r] & (cohort[:, r] > 0))[0]
            if len(others) and len(needy):
                groups.append((c, r, others, needy))
    if not groups:
        return
    G, T = len(groups), lay.T
    years = np.array(inputs.years)
    g_r = np.array([r for (_c, r, _o, _n) in groups])
    avg = lp.add_vars("others_spend_per_eligible",
                      {"year": np.repeat(years, G), "icb": np.tile([c for c, *_ in groups], T),
                       "priority": np.tile(lay.priorities[g_r], T)},
                      meaning="£ per eligible person on a priority in the ICB's other PCNs")
    sp_start = b["sp"].start

    def spend(ti: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
        return sp_start + (ti * P + p) * R + r  # the column sp[t, p, r]

    # each group's other PCNs (o_) and higher-need PCNs (n_), for one year, then every year
    o_g = np.repeat(np.arange(G), [len(o) for (_c, _r, o, _n) in groups])
    o_p = np.concatenate([o for (_c, _r, o, _n) in groups])
    n_g = np.repeat(np.arange(G), [len(n) for (_c, _r, _o, n) in groups])
    n_p = np.concatenate([n for (_c, _r, _o, n) in groups])
    N = len(n_p)
    others_cohort = np.array([cohort[o, r].sum() for (_c, r, o, _n) in groups])
    ti_g, g = np.repeat(np.arange(T), G), np.tile(np.arange(G), T)
    ti_o, go = np.repeat(np.arange(T), len(o_p)), np.tile(o_g, T)
    lp.add_rows("define_others_spend_per_eligible", avg.labels,
                np.concatenate([ti_g * G + g, ti_o * G + go]),
                np.concatenate([avg.start + ti_g * G + g,
                                spend(ti_o, np.tile(o_p, T), g_r[go])]),
                np.concatenate([np.tile(others_cohort, T), -np.ones(len(ti_o))]),
                0.0, 0.0, "average spend per eligible person in the ICB's other PCNs")
    ti_n, gn, pn = np.repeat(np.arange(T), N), np.tile(n_g, T), np.tile(n_p, T)
    uplift = 1.0 + inputs.policy.enhanced_uplift
    lp.add_rows("enhanced_support_uplift",
                {"year": years[ti_n], "pcn": inputs.pcns.index.to_numpy()[pn],
                 "priority": lay.priorities[g_r[gn]]},
                np.repeat(np.arange(T * N), 2),  # two entries a row: own spend, others' average
                np.column_stack([spend(ti_n, pn, g_r[gn]),
                                 avg.start + ti_n * G + gn]).reshape(-1),
                np.column_stack([np.ones(T * N),
                                 -uplift * cohort[pn, g_r[gn]]]).reshape(-1),
                0.0, INF,
                "higher-need PCN spend per eligible >= (1+uplift) x others' average")


def need_gradient(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""The equity dial: each PCN gets at least lambda times its need-weighted fair share.

    s[t,p] - lambda phi_p S[t] >= 0                    for each t, p                     [£]
    """
    inputs = lay.inputs
    P, T = lay.n_pcn, lay.T
    n = T * P
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([b["s"].positions(), b["S"].start + np.arange(n) // P])
    fair = inputs.fair_share.to_numpy()
    vals = np.concatenate([np.ones(n), -inputs.policy.need_gradient * np.tile(fair, T)])
    lp.add_rows("need_gradient", b["s"].labels, rows, cols, vals, 0.0, INF,
                "PCN spend >= lambda x need-weighted fair share of total spend")


def _pair_index(lay: Layout, t_r: np.ndarray, m_r: np.ndarray) -> dict[str, np.ndarray]:
    inputs = lay.inputs
    return {
        "year": np.array(inputs.years)[t_r],
        "pcn": inputs.pcns.index.to_numpy()[lay.pcn_pos[m_r]],
        "intervention": inputs.interventions.index.to_numpy()[lay.iv_pos[m_r]],
    }


def mobilisation(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""A service in a PCN grows by at most g of its eligible cohort a year (from nothing).

    y[t,p,i] - y[t-1,p,i] <= g E[p,i]                     (y[-1] = 0)              [people]
    """
    g = lay.inputs.policy.mobilisation_max_growth
    n = lay.T * lay.M
    t_r = np.repeat(np.arange(lay.T), lay.M)
    m_r = np.tile(np.arange(lay.M), lay.T)
    start = b["y"].start
    later = np.arange(lay.M, n)  # rows from the second year on also hold last year's reach
    rows = np.concatenate([np.arange(n), later])
    cols = np.concatenate([start + np.arange(n), start + later - lay.M])
    vals = np.concatenate([np.ones(n), -np.ones(len(later))])
    lp.add_rows("mobilisation", _pair_index(lay, t_r, m_r), rows, cols, vals, -INF,
                g * lay.E[m_r], "growth in people reached <= g x eligible")


def continuity(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""A service's funding falls by at most d a year (cost per person is constant).

    y[t,p,i] - (1 - d) y[t-1,p,i] >= 0                    for t >= 1               [people]
    """
    d = lay.inputs.policy.continuity_max_fall
    n = (lay.T - 1) * lay.M
    t_r = np.repeat(np.arange(1, lay.T), lay.M)
    m_r = np.tile(np.arange(lay.M), lay.T - 1)
    now = b["y"].start + lay.M + np.arange(n)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([now, now - lay.M])
    vals = np.concatenate([np.ones(n), np.full(n, -(1.0 - d))])
    lp.add_rows("continuity", _pair_index(lay, t_r, m_r), rows, cols, vals, 0.0, INF,
                "people reached >= (1-d) x last year's")


def activity_targets(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""At least N of an activity avoided in a year (e.g. admissions by 2030/31), in the whole
    model, an ICB or a place; for a change from baseline c (e.g. -0.35), N = -c x the scope's
    annual baseline activity (`ModelInputs.target_minimum`).

    sum_{p in scope, i, k} e[i,o] rho[p,o] m_k x[t,p,i,k] >= N                    [activity]
    """
    inputs = lay.inputs
    t, m, k = lay.tmk()
    marginal = np.asarray(inputs.policy.marginal_effect)
    rows, cols, vals, lo, labels = [], [], [], [], []
    for j, target in enumerate(inputs.policy.activity_targets):
        ti = inputs.years.index(target.year)
        in_scope = inputs.target_pcns(target).to_numpy()[lay.pcn_pos]
        pick = (t == ti) & in_scope[m]
        per = activity_per_person(lay, target.outcome)[m[pick]] * marginal[k[pick]]
        rows.append(np.full(pick.sum(), j))
        cols.append(b["x"].positions()[pick])
        vals.append(per)
        lo.append(inputs.target_minimum(target))
        labels.append((target.year, target.outcome, target.scope))
    lp.add_rows("activity_target", pd.DataFrame(labels, columns=["year", "outcome", "scope"]),
                np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                np.array(lo), INF, "activity avoided >= target")


def enhanced_where_flagged(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Enhanced support only where the strategy puts it (seed 001 L653-656): an enhanced-tier
    intervention is offered only in the PCNs flagged higher-need for its priority (bounds).

    x[t,p,i,k] = 0          for each t, k and enhanced i with p not in H_r(i)         [people]
    """
    inputs = lay.inputs
    flags = inputs.higher_need.reindex(columns=lay.priorities).to_numpy(dtype=bool)  # P x R
    closed = lay.enhanced & ~flags[lay.pcn_pos, lay.prio_pos]  # per pair m
    block = list(lp.columns).index("reached")  # columns in (t, m, k) order, k fastest
    lp.col_upper[block][np.tile(np.repeat(closed, lay.K), lay.T)] = 0.0


def q1_q5_spend_ratio(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Spend per head in IMD quintile 1 (most deprived) at least k times quintile 5's.

    A PCN's spend is shared across quintiles like its people (w[p,q]), so quintile q spends
    sum_p w[p,q] s[t,p] on its N_q people. The ratio is linear as a floor, multiplied by N_1:

    sum_p w[p,1] s[t,p] - k (N_1 / N_5) sum_p w[p,5] s[t,p] >= 0     for each t   [£ in Q1]
    """
    inputs = lay.inputs
    shares = inputs.quintile_shares.to_numpy(dtype=float)  # P x 5
    people = shares.T @ inputs.pcns["population"].to_numpy(dtype=float)
    if people[0] <= 0 or people[4] <= 0:
        return  # no one in Q1 or Q5: the ratio is not defined (inputs.py reports it)
    coef = shares[:, 0] - inputs.policy.q1_q5_spend_ratio * people[0] / people[4] * shares[:, 4]
    # every PCN with people in Q1 or Q5 keeps its entry, so a new k keeps the structure
    pcns = np.nonzero((shares[:, 0] > 0) | (shares[:, 4] > 0))[0]
    T, P, n = lay.T, lay.n_pcn, len(pcns)
    rows = np.repeat(np.arange(T), n)
    cols = b["s"].start + rows * P + np.tile(pcns, T)
    lp.add_rows("q1_q5_spend_ratio", {"year": np.array(inputs.years)}, rows, cols,
                np.tile(coef[pcns], T), 0.0, INF,
                "spend in Q1 >= k x spend per head in Q5 x Q1's people")


def apply_locks(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""Locks hold spend on a priority in a PCN at a set level: sp[t,p,r] = L  (bounds)."""
    inputs = lay.inputs
    P, R = lay.n_pcn, lay.n_prio
    pcn_pos = {p: j for j, p in enumerate(inputs.pcns.index)}
    block = list(lp.columns).index("spend_priority")
    for lock in inputs.policy.locks:
        years = lock.years or inputs.years
        for year in years:
            ti = inputs.years.index(year)
            local = (ti * P + pcn_pos[lock.pcn]) * R + list(lay.priorities).index(lock.priority)
            lp.col_lower[block][local] = lock.spend_gbp
            lp.col_upper[block][local] = lock.spend_gbp
    _ = b


def _lock_column(lay: Layout, b: dict, lock, year: str) -> int:
    """The column sp[t,p,r] a lock holds, for one of its years."""
    ti = lay.inputs.years.index(year)
    p = list(lay.inputs.pcns.index).index(lock.pcn)
    r = list(lay.priorities).index(lock.priority)
    return b["sp"].start + (ti * lay.n_pcn + p) * lay.n_prio + r


def locks_that_bend(lp: LinearProgram, lay: Layout, b: dict) -> None:
    r"""A lock with a rank keeps its upper bound (no more than committed) and becomes a row,
    so that the spend it commits may fall short:

    sp[t,p,r] >= L          (and sp[t,p,r] <= L as a bound)                              [£]
    """
    inputs = lay.inputs
    block = list(lp.columns).index("spend_priority")
    labels, cols, lower = [], [], []
    for n, lock in enumerate(inputs.policy.locks, 1):
        if inputs.policy.rank("locks", lock) is None:
            continue
        for year in lock.years or inputs.years:
            col = _lock_column(lay, b, lock, year)
            lp.col_lower[block][col - b["sp"].start] = 0.0
            labels.append((year, lock.pcn, lock.priority, n))
            cols.append(col)
            lower.append(lock.spend_gbp)
    if labels:
        lp.add_rows("lock", pd.DataFrame(labels, columns=["year", "pcn", "priority", "lock"]),
                    np.arange(len(cols)), np.array(cols), np.ones(len(cols)),
                    np.array(lower), INF, "spend on a locked priority >= the amount locked")


# The rows of a rule that may bend: their rule in [rules], the unit of a row, and the sign of
# its shortfall (+1: a floor the shortfall helps reach; -1: a limit it lets spend beyond).
SOFT_ROWS = {
    "budget_limit": ("budget_limit", "£", -1.0),
    "workforce_limit": ("workforce_limit", "WTE", -1.0),
    "lock": ("locks", "£", 1.0),
    "universal_core_offer": ("universal_core_offer", "people", 1.0),
    "enhanced_support_uplift": ("enhanced_support_uplift", "£", 1.0),
    "need_gradient": ("need_gradient", "£", 1.0),
    "q1_q5_spend_ratio": ("q1_q5_spend_ratio", "£", 1.0),
    "ring_fence": ("ring_fences", "£", 1.0),
    "activity_target": ("activity_targets", "activity", 1.0),
}


def row_ranks(lay: Layout, family: str, size: int) -> np.ndarray:
    """The rank of each row of a rule's family (NaN: hard), from `Policy.rank`."""
    policy = lay.inputs.policy
    rule = SOFT_ROWS[family][0]
    if family == "ring_fence":  # rows fence by fence, a year each; only a minimum can fall short
        each = [policy.rank(rule, f) if f.min_share is not None else None
                for f in policy.ring_fences]
        ranks = np.repeat(np.array(each, dtype=float), lay.T)
    elif family == "activity_target":
        ranks = np.array([policy.rank(rule, t) for t in policy.activity_targets], dtype=float)
    elif family == "lock":  # rows were made for locks that bend only, a year each
        ranks = np.array([policy.rank(rule, lock) for lock in policy.locks
                          if policy.rank(rule, lock) is not None
                          for _ in (lock.years or lay.inputs.years)], dtype=float)
    else:
        ranks = np.full(size, np.nan if policy.rank(rule) is None else policy.rank(rule))
    return ranks


def gbp_per_unit(lay: Layout, family: str, labels: pd.DataFrame | dict) -> np.ndarray:
    """£ for one unit of each row's shortfall: a person short of the floor costs the service's
    £ per person; a WTE its staff group's annual cost; an activity its unit cost (a QALY the
    £ per QALY); a £ row's shortfall is in £."""
    inputs = lay.inputs
    if family == "universal_core_offer":
        return np.tile(lay.cost[np.nonzero(lay.core)[0]], lay.T)
    if family == "workforce_limit":
        costs = inputs.staff_groups["annual_cost_gbp"].astype(float)
        return pd.Series(np.asarray(labels["staff_group"])).map(costs).to_numpy(dtype=float)
    if family == "activity_target":
        value = {**inputs.unit_cost_gbp.to_dict(), "qaly": inputs.policy.qaly_gbp}
        return np.array([value[t.outcome] for t in inputs.policy.activity_targets], dtype=float)
    return np.ones(len(next(iter(labels.values()))) if isinstance(labels, dict) else len(labels))


def rule_shortfalls(lp: LinearProgram, lay: Layout) -> None:
    r"""Each row of a rule with a rank gets a shortfall that lets it be met; each rank sums
    its rows' shortfalls in £.

    row_j(x) + z_j >= lower_j     a floor, share, target or lock (z_j in the row's unit)
    row_j(x) - z_j <= upper_j     the budget [£] or the workforce [WTE], when ranked
    Z_k - sum_{j at rank k} g_j z_j = 0        for each rank k                           [£]
    z_j / |b_j| - L_k <= 0         for each row j of rank k with a fixed requirement b_j != 0
    z_j >= 0, Z_k >= 0, L_k >= 0; g_j £ per unit (`gbp_per_unit`); b_j the row's bound (the
    floor's f E, a target, a lock, a ring fence's minimum, the budget or WTE). L_k, the largest
    shortfall at rank k as a share of what its row asks, lets the ordered stages spread a
    rank's least £ shortfall evenly (optimiser/ordered.py); rows whose requirement depends on
    the plan (the uplift, the need gradient, the Q1:Q5 ratio: b_j = 0) are not spread.
    Columns `shortfall_<rows>` have their rows' labels and rank; `rule_shortfall_gbp` and
    `rule_shortfall_spread` are labelled by rank (and its rules; the spread by the £ its rows
    ask, sum_j g_j |b_j|, which scales its weight in the ordered stages' weighted start).
    """
    row_bounds = lp.arrays()
    parts = []  # (rank of each z, £ per unit of each z, first column, rule, requirement)
    for family, (rule, unit, sign) in SOFT_ROWS.items():
        block = lp.rows.get(family)
        if block is None or not block.size:
            continue
        ranks = row_ranks(lay, family, block.size)
        soft = np.nonzero(~np.isnan(ranks))[0]
        if not len(soft):
            continue
        labels = block.labels
        labels = labels.iloc[soft].to_dict("list") if isinstance(labels, pd.DataFrame) \
            else {k: np.asarray(v)[soft] for k, v in labels.items()}
        labels["rank"] = ranks[soft].astype(int)
        z = lp.add_vars(f"shortfall_{family}", labels, lower=0.0, upper=INF,
                        meaning=f"shortfall of {family.replace('_', ' ')} [{unit}]")
        lp.add_entries(block, soft, z.positions(), np.full(len(soft), sign))
        bound = row_bounds["row_lower" if sign > 0 else "row_upper"][block.start + soft]
        parts.append((ranks[soft], gbp_per_unit(lay, family, block.labels)[soft], z.start,
                      rule, np.where(np.isfinite(bound), np.abs(bound), 0.0)))
    if not parts:
        return
    ranks = np.concatenate([p[0] for p in parts]).astype(int)
    levels = np.unique(ranks)
    words = [", ".join(dict.fromkeys(rule for r, _g, _s, rule, _b in parts if (r == k).any()))
             for k in levels]
    total = lp.add_vars("rule_shortfall_gbp", {"rank": levels, "rules": np.array(words)},
                        lower=0.0, upper=INF, meaning="£ short on the rules of a rank")
    gbp = np.concatenate([p[1] for p in parts])
    z_cols = np.concatenate([p[2] + np.arange(len(p[0])) for p in parts])
    at = np.searchsorted(levels, ranks)
    lp.add_rows("define_rule_shortfall", {"rank": levels},
                np.concatenate([np.arange(len(levels)), at]),
                np.concatenate([total.positions(), z_cols]),
                np.concatenate([np.ones(len(levels)), -gbp]),
                0.0, 0.0, "£ short on a rank = sum of its shortfalls in £")
    required = np.concatenate([p[4] for p in parts])
    # a share of what a row asks (not z <= b L): HiGHS's absolute tolerance then bounds the
    # share, where z - b L <= 0 let rows asking little go several times over (DLN, the floor
    # at 30%: three solves of the same stage found L = 0.26, 0.28 and 0.30)
    spread = (required > 1e-6) & lay.inputs.policy.rules_spread
    spread_levels = np.unique(ranks[spread])
    if not len(spread_levels):
        return
    asks = np.bincount(np.searchsorted(spread_levels, ranks[spread]),
                       weights=gbp[spread] * required[spread], minlength=len(spread_levels))
    largest = lp.add_vars("rule_shortfall_spread", {"rank": spread_levels, "asks_gbp": asks},
                          lower=0.0,
                          upper=INF, meaning="largest shortfall at a rank, as a share of "
                                             "what its row asks")
    n = int(spread.sum())
    lp.add_rows("spread_rule_shortfall", {"rank": ranks[spread], "row": np.arange(n)},
                np.repeat(np.arange(n), 2),
                np.column_stack([z_cols[spread], largest.start + np.searchsorted(
                    spread_levels, ranks[spread])]).reshape(-1),
                np.column_stack([1.0 / required[spread], -np.ones(n)]).reshape(-1),
                -INF, 0.0, "a shortfall as a share of what its row asks <= the rank's largest")
