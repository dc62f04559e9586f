r"""The allocation model written again in Pyomo, for analysts who want their own rules or solver.

This is the same linear program as `formulation.py` (the HiGHS path the tool uses), with the
same sets, parameters, variable names and constraint-family names, written as Pyomo indexed
sets and one rule function per family so that it reads like the maths. It is the analysts'
reference, not the fast path: building it is several times slower than `formulate`, and it
has no warm re-solve. Pyomo is imported only when a model is built, so importing `optimiser`
never imports Pyomo.

    from optimiser import load_model
    from optimiser.pyomo_model import build_pyomo
    import pyomo.environ as pyo

    m = build_pyomo(load_model("models/dln_base.toml"))
    m.my_rule = pyo.Constraint(expr=m.spend_total["2026/27"] <= 40e6)   # a rule of your own
    pyo.SolverFactory("appsi_highs").solve(m)                           # or cbc, glpk, gurobi...
    print(pyo.value(m.objective))

Sets
    T years; P PCNs; I interventions; R priorities; S staff groups; K response tranches;
    C ICBs; EP ⊆ P x I the eligible (PCN, intervention) pairs (eligible[p,i] > 0);
    CORE ⊆ EP the pairs of core-offer interventions; W the limited (staff group, scope) pairs;
    UPLIFT_GROUPS the (ICB, priority) pairs with both higher-need and other PCNs;
    HIGHER_NEED ⊆ P x R the higher-need (PCN, priority) pairs in those groups.

Variables (the names of formulation.py)
    reached[t,p,i,k] >= 0            people reached in tranche k                     [people]
    reach[t,p,i] in [0, E[p,i]]      people reached in all tranches                  [people]
    spend_priority[t,p,r] >= 0       £ on priority r in PCN p                             [£]
    spend_pcn[t,p] >= 0              £ in PCN p                                           [£]
    spend_total[t] >= 0              £ in all                                             [£]
    others_spend_per_eligible[t,c,r] £ per eligible person on r in c's other PCNs         [£]
    avoided_cash[t] (free)           £ value of avoided activity (invest-to-save only)    [£]

Objective
    max  sum_{t,p,i,k} ( delta_t value[p,i] m_k - epsilon c_i ) reached[t,p,i,k]
    value[p,i] = sum_o v_o e[i,o] rho[p,o] pi_r(i) q_p  (formulation.outcome_value_per_person)

Constraint families (each rule's docstring holds its inequality): define_reach,
define_priority_spend, define_pcn_spend, define_total_spend, define_avoided_cash,
define_others_spend_per_eligible, budget_limit, ring_fence, workforce_limit,
universal_core_offer, enhanced_support_uplift, need_gradient, mobilisation, continuity,
activity_target. Locks are bounds on spend_priority; enhanced support only where flagged
(`enhanced_where_flagged`) is bounds on reached: 0 for an enhanced-tier intervention in a PCN
outside the higher-need set of its priority.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from .formulation import TIE_BREAK_PER_GBP, discount, outcome_value_per_person
from .inputs import ModelInputs
from .schemas import OUTCOMES

if TYPE_CHECKING:  # only for type hints; Pyomo is imported inside the functions
    import pyomo.environ as pyo


def build_pyomo(inputs: ModelInputs) -> pyo.ConcreteModel:
    """The allocation LP for these inputs as a Pyomo ConcreteModel (maximise `objective`)."""
    import pyomo.environ as pyo

    policy = inputs.policy
    m = pyo.ConcreteModel(name=policy.name)
    m.policy = policy  # the switches and dials, kept on the model for the rules to read
    _sets(m, inputs)
    _parameters(m, inputs)
    _variables(m)

    # reach and spend defined once from the people reached, so coupling rows stay sparse
    m.define_reach = pyo.Constraint(m.T, m.EP, rule=define_reach)
    m.define_priority_spend = pyo.Constraint(m.T, m.P, m.R, rule=define_priority_spend)
    m.define_pcn_spend = pyo.Constraint(m.T, m.P, rule=define_pcn_spend)
    m.define_total_spend = pyo.Constraint(m.T, rule=define_total_spend)
    m.invest_to_save = policy.on("invest_to_save") and policy.invest_to_save_share > 0
    if m.invest_to_save:
        m.avoided_cash = pyo.Var(m.T, domain=pyo.Reals, doc="£ value of activity avoided")
        m.define_avoided_cash = pyo.Constraint(m.T, rule=define_avoided_cash)

    if policy.on("budget_limit"):
        m.budget_limit = pyo.Constraint(m.T, rule=budget_limit)
    if policy.on("ring_fences") and policy.ring_fences:
        m.ring_fence = pyo.Constraint(m.T, m.FENCES, rule=ring_fence)
    if policy.on("workforce_limit") and len(inputs.workforce_wte):
        m.workforce_limit = pyo.Constraint(m.T, m.W, rule=workforce_limit)
    if policy.on("universal_core_offer"):
        m.universal_core_offer = pyo.Constraint(m.T, m.CORE, rule=universal_core_offer)
    if policy.on("enhanced_support_uplift") and len(m.UPLIFT_GROUPS):
        m.others_spend_per_eligible = pyo.Var(
            m.T, m.UPLIFT_GROUPS, domain=pyo.NonNegativeReals,
            doc="£ per eligible person on a priority in the ICB's other PCNs")
        m.define_others_spend_per_eligible = pyo.Constraint(
            m.T, m.UPLIFT_GROUPS, rule=define_others_spend_per_eligible)
        m.enhanced_support_uplift = pyo.Constraint(m.T, m.HIGHER_NEED,
                                                   rule=enhanced_support_uplift)
    if policy.on("need_gradient"):
        m.need_gradient = pyo.Constraint(m.T, m.P, rule=need_gradient)
    if policy.on("mobilisation"):
        m.mobilisation = pyo.Constraint(m.T, m.EP, rule=mobilisation)
    if policy.on("continuity") and len(m.T) > 1:
        m.continuity = pyo.Constraint(m.T, m.EP, rule=continuity)
    if policy.on("activity_targets") and policy.activity_targets:
        m.activity_target = pyo.Constraint(m.TARGETS, rule=activity_target)
    if policy.on("enhanced_where_flagged"):
        enhanced_where_flagged(m, inputs)
    apply_locks(m)

    m.objective = pyo.Objective(rule=weighted_value, sense=pyo.maximize)
    return m


def solve_pyomo(inputs: ModelInputs, solver: str = "appsi_highs") -> float | None:
    """Build and solve with a Pyomo solver; the optimal objective, or None if not optimal.

    `solver` is any name `pyomo.environ.SolverFactory` knows: "appsi_highs" (HiGHS through
    highspy, Pyomo's APPSI interface), "highs" (the newer pyomo.contrib.solver interface, also
    highspy), or an installed "cbc", "glpk", "gurobi", ...
    """
    import pyomo.environ as pyo
    from pyomo.opt import TerminationCondition

    m = build_pyomo(inputs)
    results = pyo.SolverFactory(solver).solve(m, load_solutions=False)
    if results.solver.termination_condition != TerminationCondition.optimal:
        return None
    m.solutions.load_from(results)
    return float(pyo.value(m.objective))


# ---- sets, parameters and variables ----------------------------------------------------------


def _sets(m, inputs: ModelInputs) -> None:
    import pyomo.environ as pyo

    policy = inputs.policy
    pcns, iv = inputs.pcns, inputs.interventions
    eligible = inputs.eligible
    people = eligible.stack()
    pairs = list(people.index[people.to_numpy() > 0])
    core = set(iv.index[iv["tier"] == "core"])

    m.T = pyo.Set(initialize=list(inputs.years), ordered=True, doc="years")
    m.P = pyo.Set(initialize=list(pcns.index), ordered=True, doc="PCNs")
    m.I = pyo.Set(initialize=list(iv.index), ordered=True, doc="interventions")
    m.R = pyo.Set(initialize=list(inputs.priority_ids), ordered=True, doc="priorities")
    m.S = pyo.Set(initialize=list(inputs.staff_groups.index), ordered=True, doc="staff groups")
    m.K = pyo.RangeSet(1, len(policy.tranche_shares), doc="response tranches")
    m.C = pyo.Set(initialize=sorted(pcns["icb_code"].unique()), ordered=True, doc="ICBs")
    m.EP = pyo.Set(initialize=pairs, dimen=2, ordered=True,
                   doc="eligible (PCN, intervention) pairs")
    m.CORE = pyo.Set(initialize=[(p, i) for p, i in pairs if i in core], dimen=2,
                     ordered=True, within=m.EP, doc="eligible pairs of core-offer interventions")

    # the eligible interventions of each PCN and priority, for the spend definitions
    priority_of = iv["priority_id"].to_dict()
    by_pcn_priority = defaultdict(list)
    for p, i in pairs:
        by_pcn_priority[p, priority_of[i]].append(i)
    m.EP_OF = pyo.Set(m.P, m.R, within=m.I, ordered=True,
                      initialize=lambda _, p, r: by_pcn_priority.get((p, r), []),
                      doc="eligible interventions of a priority in a PCN")

    # workforce: (staff group, scope) pairs with a limit, and the eligible pairs in each scope
    m.W = pyo.Set(initialize=list(inputs.workforce_wte.index), dimen=2, ordered=True,
                  doc="limited (staff group, scope) pairs")
    scope_of = inputs.scope_of_pcn.to_dict()
    wte = inputs.wte_per_person
    staffed = defaultdict(list)
    groups_of = {i: [s for s in wte.columns if row[s] > 0] for i, row in wte.iterrows()}
    for p, i in pairs:
        for s in groups_of[i]:
            staffed[s, scope_of[p]].append((p, i))
    m.STAFFED = pyo.Set(m.W, dimen=2, within=m.EP, ordered=True,
                        initialize=lambda _, s, c: staffed.get((s, c), []),
                        doc="eligible pairs in a workforce scope that use a staff group")

    # enhanced support: per ICB and priority, the higher-need PCNs and the others
    flags = inputs.higher_need.reindex(columns=list(inputs.priority_ids))
    cohort = inputs.priority_cohort.reindex(columns=list(inputs.priority_ids))
    icb = pcns["icb_code"]
    groups, others, needy = [], {}, {}
    for c in sorted(icb.unique()):
        for r in inputs.priority_ids:
            has = (icb == c) & (cohort[r] > 0)
            o = list(pcns.index[has & ~flags[r]])
            h = list(pcns.index[has & flags[r]])
            if o and h:
                groups.append((c, r))
                others[c, r], needy[c, r] = o, h
    m.UPLIFT_GROUPS = pyo.Set(initialize=groups, dimen=2, ordered=True,
                              doc="(ICB, priority) with both higher-need and other PCNs")
    m.OTHERS = pyo.Set(m.UPLIFT_GROUPS, within=m.P, ordered=True,
                       initialize=lambda _, c, r: others[c, r],
                       doc="the PCNs of an ICB that are not higher-need for a priority")
    m.HIGHER_NEED = pyo.Set(initialize=[(p, r) for (c, r) in groups for p in needy[c, r]],
                            dimen=2, ordered=True, doc="higher-need (PCN, priority) pairs")

    m.FENCES = pyo.RangeSet(1, len(policy.ring_fences), doc="ring-fenced pots")
    m.TARGETS = pyo.RangeSet(1, len(policy.activity_targets), doc="activity targets")


def _parameters(m, inputs: ModelInputs) -> None:
    import pyomo.environ as pyo

    policy = inputs.policy
    iv = inputs.interventions
    eligible = inputs.eligible
    years = list(inputs.years)
    value = outcome_value_per_person(inputs)
    wte = inputs.wte_per_person
    pairs = list(m.EP)

    people = eligible.stack()
    m.eligible = pyo.Param(m.EP, initialize={pair: float(people[pair]) for pair in pairs},
                           doc="people eligible in a year [people]")
    m.tranche_share = pyo.Param(m.K, initialize=dict(enumerate(policy.tranche_shares, 1)),
                                doc="share of the eligible cohort in a tranche [-]")
    m.marginal_effect = pyo.Param(m.K, initialize=dict(enumerate(policy.marginal_effect, 1)),
                                  doc="effect of a person reached in a tranche [-]")
    m.cost_gbp = pyo.Param(m.I, initialize=iv["cost_gbp"].astype(float).to_dict(),
                           doc="cost per person reached [£]")
    m.priority_of = pyo.Param(m.I, initialize=iv["priority_id"].to_dict(), within=pyo.Any,
                              doc="the priority of an intervention")
    value = value.stack()
    m.outcome_value_gbp = pyo.Param(
        m.EP, initialize={pair: float(value[pair]) for pair in pairs},
        doc="weighted £ value per person reached, before tranche and discount [£]")
    delta = [float(d) for d in discount(inputs)]
    m.discount = pyo.Param(m.T, initialize=dict(zip(years, delta, strict=True)),
                           doc="discount factor (1 + rate)^-t [-]")
    m.tie_break_per_gbp = pyo.Param(initialize=TIE_BREAK_PER_GBP,
                                    doc="objective £ lost per £ spent, to break ties [-]")
    m.budget_gbp = pyo.Param(m.T, initialize=dict(zip(years, map(float, inputs.budget_gbp),
                                                      strict=True)), doc="budget [£]")
    wte = wte.stack()
    m.wte_per_person = pyo.Param(m.I, m.S, default=0.0, doc="WTE per person reached [WTE]",
                                 initialize={key: float(v) for key, v in wte.items() if v != 0})
    m.workforce_wte = pyo.Param(
        m.T, m.W, doc="WTE available [WTE]",
        initialize={(t, s, c): float(inputs.workforce_wte.at[(s, c), t])
                    for t in years for (s, c) in inputs.workforce_wte.index})
    m.fair_share = pyo.Param(m.P, initialize=inputs.fair_share.astype(float).to_dict(),
                             doc="need-weighted fair share of total spend (sums to 1) [-]")
    m.priority_cohort = pyo.Param(
        m.P, m.R, doc="people eligible for a priority (its largest cohort) [people]",
        initialize={(p, r): float(v) for (p, r), v in
                    inputs.priority_cohort.reindex(columns=list(inputs.priority_ids)).stack().items()})
    m.icb_of = pyo.Param(m.P, initialize=inputs.pcns["icb_code"].to_dict(), within=pyo.Any)
    m.target_minimum = pyo.Param(
        m.TARGETS, doc="activity a target needs avoided (from its baseline when it is a change)",
        initialize={j: inputs.target_minimum(t)
                    for j, t in enumerate(policy.activity_targets, 1)})
    m.target_pcns = pyo.Set(m.TARGETS, within=m.P, ordered=True, doc="the PCNs a target covers",
                            initialize=lambda _, j: list(inputs.pcns.index[inputs.target_pcns(
                                policy.activity_targets[j - 1])]))

    # risk-adjusted outcome per person reached, for invest-to-save and activity targets
    effect = iv[list(OUTCOMES)].astype(float).to_dict("index")  # {i: {o: e[i,o]}}
    risk = inputs.risk[list(OUTCOMES)].astype(float).to_dict("index")  # {p: {o: rho[p,o]}}
    m.activity_per_person = pyo.Param(
        m.EP, list(OUTCOMES), default=0.0, doc="outcome per person reached [unit of o]",
        initialize={(p, i, o): effect[i][o] * risk[p][o] for p, i in pairs for o in OUTCOMES
                    if effect[i][o] * risk[p][o] != 0})
    cash = inputs.outcome_weight_gbp
    m.cash_gbp = pyo.Param(
        list(OUTCOMES[1:]), initialize={o: float(cash[o]) for o in OUTCOMES[1:]},
        doc="£ of cash released by a unit of avoided activity (its value v_o) [£]")

    m.universal_floor = pyo.Param(initialize=policy.universal_floor, doc="floor share f [-]")
    m.enhanced_uplift = pyo.Param(initialize=policy.enhanced_uplift, doc="uplift u [-]")
    m.need_gradient_dial = pyo.Param(initialize=policy.need_gradient, doc="lambda [-]")
    m.mobilisation_max_growth = pyo.Param(initialize=policy.mobilisation_max_growth,
                                          doc="g: most a service grows a year [share of E]")
    m.continuity_max_fall = pyo.Param(initialize=policy.continuity_max_fall,
                                      doc="d: most its funding falls a year [-]")
    m.invest_to_save_share = pyo.Param(initialize=policy.invest_to_save_share,
                                       doc="theta: share of avoided cash returned [-]")


def _variables(m) -> None:
    import pyomo.environ as pyo

    def reach_cap(m, t, p, i, k):
        return (0.0, m.tranche_share[k] * m.eligible[p, i])

    m.reached = pyo.Var(m.T, m.EP, m.K, bounds=reach_cap,
                        doc="people reached in a response tranche [people]")
    m.reach = pyo.Var(m.T, m.EP, bounds=lambda m, t, p, i: (0.0, m.eligible[p, i]),
                      doc="people reached in all tranches [people]")
    m.spend_priority = pyo.Var(m.T, m.P, m.R, domain=pyo.NonNegativeReals,
                               doc="£ spent on a priority in a PCN")
    m.spend_pcn = pyo.Var(m.T, m.P, domain=pyo.NonNegativeReals, doc="£ spent in a PCN")
    m.spend_total = pyo.Var(m.T, domain=pyo.NonNegativeReals, doc="£ spent in all")


def _skip():
    import pyomo.environ as pyo

    return pyo.Constraint.Skip


def _empty(lower: float, upper: float):
    """A row with no terms, as formulation.py keeps it: feasible or not on its bounds alone."""
    import pyomo.environ as pyo

    return pyo.Constraint.Feasible if lower <= 0.0 <= upper else pyo.Constraint.Infeasible


# ---- objective -------------------------------------------------------------------------------


def weighted_value(m):
    r"""max sum_{t,p,i,k} (delta_t value[p,i] m_k - epsilon c_i) reached[t,p,i,k]    [£]"""
    return sum(
        (m.discount[t] * m.outcome_value_gbp[p, i] * m.marginal_effect[k]
         - m.tie_break_per_gbp * m.cost_gbp[i]) * m.reached[t, p, i, k]
        for t in m.T for (p, i) in m.EP for k in m.K)


# ---- spend definitions ---------------------------------------------------------------------


def define_reach(m, t, p, i):
    r"""y[t,p,i] - sum_k x[t,p,i,k] = 0                                             [people]"""
    return m.reach[t, p, i] == sum(m.reached[t, p, i, k] for k in m.K)


def define_priority_spend(m, t, p, r):
    r"""sp[t,p,r] - sum_{i in r} c_i y[t,p,i] = 0                                        [£]"""
    return m.spend_priority[t, p, r] == sum(m.cost_gbp[i] * m.reach[t, p, i]
                                            for i in m.EP_OF[p, r])


def define_pcn_spend(m, t, p):
    r"""s[t,p] - sum_r sp[t,p,r] = 0                                                    [£]"""
    return m.spend_pcn[t, p] == sum(m.spend_priority[t, p, r] for r in m.R)


def define_total_spend(m, t):
    r"""S[t] - sum_p s[t,p] = 0                                                         [£]"""
    return m.spend_total[t] == sum(m.spend_pcn[t, p] for p in m.P)


def define_avoided_cash(m, t):
    r"""C[t] - sum_{p,i,k} sum_{o activity} v_o e[i,o] rho[p,o] m_k x[t,p,i,k] = 0        [£]"""
    return m.avoided_cash[t] == sum(
        sum(m.cash_gbp[o] * m.activity_per_person[p, i, o] for o in OUTCOMES[1:])
        * m.marginal_effect[k] * m.reached[t, p, i, k]
        for (p, i) in m.EP for k in m.K)


# ---- policy rules ----------------------------------------------------------------------------


def budget_limit(m, t):
    r"""Spend within the year's budget, plus theta of last year's avoided cash (invest-to-save).

    S[t] - theta C[t-1] <= B_t                                                         [£]
    """
    if m.invest_to_save and t != m.T.first():
        return m.spend_total[t] - m.invest_to_save_share * m.avoided_cash[m.T.prev(t)] \
            <= m.budget_gbp[t]
    return m.spend_total[t] <= m.budget_gbp[t]


def ring_fence(m, t, f):
    r"""Spend on a pot between shares of the year's budget.

    min_share B_t <= sum_{p in scope, i in pot} c_i y[t,p,i] <= max_share B_t            [£]
    """
    fence = m.policy.ring_fences[f - 1]
    lower = None if fence.min_share is None else fence.min_share * m.budget_gbp[t]
    upper = None if fence.max_share is None else fence.max_share * m.budget_gbp[t]
    terms = [
        m.cost_gbp[i] * m.reach[t, p, i] for (p, i) in m.EP
        if (fence.priority is None or m.priority_of[i] == fence.priority)
        and (fence.tier is None or ((p, i) in m.CORE) == (fence.tier == "core"))
        and (fence.icb is None or m.icb_of[p] == fence.icb)
    ]
    if not terms:
        return _empty(-np.inf if lower is None else lower, np.inf if upper is None else upper)
    return (lower, sum(terms), upper)


def workforce_limit(m, t, s, c):
    r"""WTE needed per staff group within the WTE available, per ICB (or place), per year.

    sum_{p in c, i} w[i,s] y[t,p,i] <= W[t,s,c]                                       [WTE]
    """
    terms = [m.wte_per_person[i, s] * m.reach[t, p, i] for (p, i) in m.STAFFED[s, c]]
    if not terms:
        return _empty(-np.inf, m.workforce_wte[t, s, c])
    return sum(terms) <= m.workforce_wte[t, s, c]


def universal_core_offer(m, t, p, i):
    r"""y[t,p,i] >= f E[p,i]          for each core-offer pair                          [people]"""
    return m.reach[t, p, i] >= m.universal_floor * m.eligible[p, i]


def define_others_spend_per_eligible(m, t, c, r):
    r"""a[t,c,r] sum_{q in c \ H_r} E[q,r] - sum_{q in c \ H_r} sp[t,q,r] = 0              [£]"""
    others = m.OTHERS[c, r]
    return m.others_spend_per_eligible[t, c, r] * sum(m.priority_cohort[q, r] for q in others) \
        == sum(m.spend_priority[t, q, r] for q in others)


def enhanced_support_uplift(m, t, p, r):
    r"""Higher-need PCNs spend more per eligible person than the rest of their ICB.

    sp[t,p,r] - (1 + u) E[p,r] a[t,c(p),r] >= 0          for p in H_r                   [£]
    """
    return m.spend_priority[t, p, r] >= (1 + m.enhanced_uplift) * m.priority_cohort[p, r] \
        * m.others_spend_per_eligible[t, m.icb_of[p], r]


def need_gradient(m, t, p):
    r"""s[t,p] - lambda phi_p S[t] >= 0                                                  [£]"""
    return m.spend_pcn[t, p] >= m.need_gradient_dial * m.fair_share[p] * m.spend_total[t]


def mobilisation(m, t, p, i):
    r"""y[t,p,i] - y[t-1,p,i] <= g E[p,i]                     (y[-1] = 0)              [people]"""
    last_year = 0 if t == m.T.first() else m.reach[m.T.prev(t), p, i]
    return m.reach[t, p, i] - last_year <= m.mobilisation_max_growth * m.eligible[p, i]


def continuity(m, t, p, i):
    r"""y[t,p,i] - (1 - d) y[t-1,p,i] >= 0                    for t >= 1               [people]"""
    if t == m.T.first():
        return _skip()
    return m.reach[t, p, i] >= (1 - m.continuity_max_fall) * m.reach[m.T.prev(t), p, i]


def activity_target(m, j):
    r"""sum_{p in scope, i, k} e[i,o] rho[p,o] m_k x[t,p,i,k] >= N                  [activity]"""
    target = m.policy.activity_targets[j - 1]
    t, o = target.year, target.outcome
    scope = set(m.target_pcns[j])
    terms = [m.activity_per_person[p, i, o] * m.marginal_effect[k] * m.reached[t, p, i, k]
             for (p, i) in m.EP for k in m.K if p in scope]
    if not terms:
        return _empty(m.target_minimum[j], np.inf)
    return sum(terms) >= m.target_minimum[j]


def enhanced_where_flagged(m, inputs: ModelInputs) -> None:
    r"""reached[t,p,i,k] = 0 for an enhanced-tier i with p not in H_r(i)   (bounds) [people]"""
    tier = inputs.interventions["tier"]
    flags = inputs.higher_need
    for p, i in m.EP:
        if tier[i] == "enhanced" and not flags.at[p, m.priority_of[i]]:
            for t in m.T:
                for k in m.K:
                    m.reached[t, p, i, k].setub(0.0)


def apply_locks(m) -> None:
    r"""Locks hold spend on a priority in a PCN at a set level: sp[t,p,r] = L  (bounds)."""
    for lock in m.policy.locks:
        for t in lock.years or list(m.T):
            m.spend_priority[t, lock.pcn, lock.priority].setlb(lock.spend_gbp)
            m.spend_priority[t, lock.pcn, lock.priority].setub(lock.spend_gbp)
