r"""Plans a contract manager can let: contracts, their minimum size and set-up cost (issue 17).

The LP spreads money as finely as the maths allows (a fifth of a day a week of a care
coordinator in one PCN). With `[commissioning] on = true` a service is let as contracts, each
for a PCN, a place or an ICB, that run or not in each year; people reached are still counted
per PCN (the equity rules and the outcomes stay per PCN), but the minimum size, the set-up
cost and the WTE increments apply to the contract. A service's delivery level (the
intervention table's `delivery_level`) is the narrowest contract it is let as; with `merge`
(the default) PCN contracts may be merged into one for their place or ICB, and place contracts
into one for the ICB, when that is better (a minimum one PCN cannot reach, one set-up cost
instead of several).

Sets
    J            contracts (i, level, area) of the services with a minimum size, a set-up cost
                 or staff hired in posts: for each PCN p offering i, the contract of p's area at
                 i's delivery level and, with merge, at each wider level (place, ICB)
    Q ⊆ M x J    memberships: pair m = (p, i) may be served by contract j (up to 3 per pair)
    J_set ⊆ J    contracts with a set-up cost the ICB pays
    G            staff groups hired in posts ([commissioning] wte_increment)

Parameters (units)
    N_j          minimum size in people reached a year: the larger of min_size / a_i (a_i one
                 person in min_size's unit: 1 person, sum_s w[i,s] WTE, or c_i £) and
                 min_contract_gbp / c_i                                              [people]
    U[t,m]       the most pair m can reach in year t: E_m x min(1, (t+1) g) (mobilisation),
                 at most B_t / c_i when the budget is hard; 0 where a rule closes the pair
    F_j          set-up cost, one-off (0 for interventions in setup_not_charged)   [£ 2024/25]
    inc_s, k_s   the WTE a post of group s is hired in, and its annual cost          [WTE, £]

Variables
    run[t,j] ∈ {0,1}    contract j runs in year t
    r[t,q] >= 0         people of pair m(q) reached by contract j(q)                   [people]
    start[t,j] ∈ [0,1]  contract j starts in year t (J_set; 0 or 1 at any whole run)
    n[t,u,s] ∈ Z+       posts of group s hired for hiring unit u (a contract within one
                        workforce scope); idle[t,u,s] >= 0 WTE hired beyond need        [WTE]

Rules (one function each below)
    contract_serves          y[t,m] - sum_{q in m} r[t,q] = 0                           [people]
    contract_runs_upper      r[t,q] - U[t,m(q)] run[t,j(q)] <= 0                          [people]
    contract_minimum_size    sum_{q in j} r[t,q] - N_j run[t,j] >= 0                     [people]
    contract_starts          start[t,j] - run[t,j] + run[t-1,j] >= 0    (run[-1,j] = 0)        [-]
    setup_cost_charged       year t's budget row gets + sum_{j in J_set} F_j start[t,j]         [£]
    wte_in_increments        inc_s n[t,u,s] - sum_{q in u} w[i,s] r[t,q] - idle[t,u,s] = 0 [WTE];
                             + idle in the workforce row of (t, s, u's scope) and + k_s idle in
                             year t's budget row (posts hired are paid, used or not)

With every run and n free to be fractional this is the LP relaxation (the bound the plan is
proved against, strategies/mip.py); with commissioning off, or nothing to commission, it is
the LP itself. The universal core offer stays per PCN: the people a place or ICB contract
reaches in a PCN count toward that PCN's floor, so every PCN still gets its share.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .lp import INF, LinearProgram

LEVELS = ("pcn", "place", "icb")  # narrowest to widest
AREA_COLUMN = {"pcn": "pcn_code", "place": "place_code", "icb": "icb_code"}
AREA_NAME = {"pcn": "pcn_name", "place": "place_name", "icb": "icb_name"}


def delivery_levels(inputs) -> pd.Series:
    """Each intervention's delivery level (pcn where the table gives none)."""
    iv = inputs.interventions
    if "delivery_level" not in iv:
        return pd.Series("pcn", index=iv.index)
    level = iv["delivery_level"].fillna("pcn").astype(str).str.strip().str.lower()
    return level.where(level.isin(LEVELS), "pcn")


def min_people_of(inputs) -> pd.Series:
    """N_i: each intervention's minimum contract size in people reached a year (0: none)."""
    iv, rules = inputs.interventions, inputs.policy.commissioning
    cost = iv["cost_gbp"].astype(float)
    by_value = (rules.min_contract_gbp / cost.where(cost > 0)).fillna(0.0)
    if "min_size" not in iv:
        return by_value
    unit = iv["min_size_unit"].fillna("").astype(str).str.strip().str.lower()
    per = pd.Series(np.nan, index=iv.index)
    per[unit == "people"] = 1.0
    per[unit == "wte"] = inputs.wte_per_person.sum(axis=1)[unit == "wte"]
    per[unit.str.startswith("gbp")] = cost[unit.str.startswith("gbp")]
    by_size = (iv["min_size"].astype(float) / per.where(per > 0)).fillna(0.0)
    return np.maximum(by_size, by_value)


def setup_of(inputs) -> pd.Series:
    """F_i: the set-up cost the ICB pays for each contract of an intervention (0: none)."""
    iv = inputs.interventions
    if "setup_cost_gbp" not in iv:
        return pd.Series(0.0, index=iv.index)
    cost = iv["setup_cost_gbp"].astype(float).fillna(0.0)
    return cost.where(~iv.index.isin(inputs.policy.commissioning.setup_not_charged), 0.0)


@dataclass
class Contracts:
    """The contracts of a model and the numbers their rules need (from a `Layout`)."""

    lay: object  # formulation.Layout

    @cached_property
    def inputs(self):
        return self.lay.inputs

    @cached_property
    def needed(self) -> np.ndarray:
        """Per intervention: let as contracts (a minimum size, a set-up cost, or staff hired
        in posts); the others are funded as the LP funds them."""
        inputs = self.inputs
        wte = inputs.wte_per_person
        groups = list(inputs.policy.commissioning.wte_increment)
        posts = (wte[groups] > 0).any(axis=1) if groups else pd.Series(False, index=wte.index)
        return ((min_people_of(inputs) > 0) | (setup_of(inputs) > 0) | posts).to_numpy()

    @cached_property
    def _memberships(self):
        lay, pcns = self.lay, self.inputs.pcns
        merge = self.inputs.policy.commissioning.merge
        level_of = delivery_levels(self.inputs).to_numpy()[lay.iv_pos]
        iv_ids = self.inputs.interventions.index.to_numpy()[lay.iv_pos]
        pairs, ivs, levels, areas = [], [], [], []
        for depth, level in enumerate(LEVELS):
            narrowest = np.array([LEVELS.index(v) for v in level_of])
            pick = self.needed[lay.iv_pos] & ((narrowest == depth) if not merge
                                              else (narrowest <= depth))
            m = np.nonzero(pick)[0]
            pairs.append(m)
            ivs.append(iv_ids[m])
            levels.append(np.full(len(m), level, dtype=object))
            areas.append(pcns[AREA_COLUMN[level]].astype(str).to_numpy()[lay.pcn_pos[m]])
        pair = np.concatenate(pairs)
        key = pd.MultiIndex.from_arrays([np.concatenate(ivs), np.concatenate(levels),
                                         np.concatenate(areas)],
                                        names=["intervention_id", "level", "area_code"])
        codes, uniques = pd.factorize(key, sort=True)
        order = np.lexsort((codes, pair))  # memberships by pair, then contract
        return pair[order], codes[order], uniques

    @property
    def member_pair(self) -> np.ndarray:
        return self._memberships[0]

    @property
    def member_contract(self) -> np.ndarray:
        return self._memberships[1]

    @property
    def Q(self) -> int:
        return len(self.member_pair)

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per contract: intervention, level, area, its PCNs, N_j and F_j."""
        uniques = self._memberships[2]
        frame = pd.DataFrame({name: uniques.get_level_values(k) for k, name in
                              enumerate(("intervention_id", "level", "area_code"))})
        ids = frame["intervention_id"]
        frame["cost_gbp"] = ids.map(self.inputs.interventions["cost_gbp"]).astype(float)
        frame["pcns"] = np.bincount(self.member_contract, minlength=len(frame))
        frame["min_people"] = ids.map(min_people_of(self.inputs)).to_numpy(dtype=float)
        frame["setup_gbp"] = ids.map(setup_of(self.inputs)).to_numpy(dtype=float)
        return frame

    @property
    def J(self) -> int:
        return len(self.table)

    @cached_property
    def with_start(self) -> np.ndarray:
        return np.nonzero(self.table["setup_gbp"].to_numpy() > 0)[0]

    @cached_property
    def open_eligible(self) -> np.ndarray:
        """E of each pair, zero where a rule holds the pair at zero (enhanced where flagged)."""
        lay, policy = self.lay, self.inputs.policy
        E = lay.E.copy()
        if policy.on("enhanced_where_flagged"):
            flags = self.inputs.higher_need.reindex(columns=lay.priorities).to_numpy(dtype=bool)
            E[lay.enhanced & ~flags[lay.pcn_pos, lay.prio_pos]] = 0.0
        return E

    def most_reached(self) -> np.ndarray:
        """U[t,m] for every pair (T x M), the tightest big-M the rules allow."""
        lay, policy = self.lay, self.inputs.policy
        growth = np.ones(lay.T)
        if policy.on("mobilisation"):
            growth = np.minimum(1.0, (np.arange(lay.T) + 1) * policy.mobilisation_max_growth)
        most = growth[:, None] * self.open_eligible[None, :]
        budget_hard = policy.on("budget_limit") and policy.rank("budget_limit") is None \
            and not (policy.on("invest_to_save") and policy.invest_to_save_share > 0)
        if budget_hard:
            budget = np.asarray(self.inputs.budget_gbp, dtype=float)
            cost = lay.cost
            cap = budget[:, None] / np.where(cost > 0, cost, np.nan)[None, :]
            most = np.fmin(most, cap)
        return most

    def labels(self, j: np.ndarray) -> dict:
        t = self.table
        return {"intervention": t["intervention_id"].to_numpy()[j],
                "level": t["level"].to_numpy()[j], "area": t["area_code"].to_numpy()[j]}


def active(inputs) -> bool:
    return bool(inputs.policy.commissioning.on)


def add_commissioning(lp: LinearProgram, lay, b: dict) -> Contracts | None:
    """The commissioning blocks (module docstring), when `[commissioning] on`; after the
    budget and workforce rows, before the rules' shortfalls."""
    if not active(lay.inputs):
        return None
    contracts = Contracts(lay)
    if not contracts.J:
        return contracts
    b["run"] = contract_runs(lp, lay, contracts)
    b["serve"] = contract_serves(lp, lay, b, contracts)
    contract_runs_upper(lp, lay, b, contracts)
    contract_minimum_size(lp, lay, b, contracts)
    if len(contracts.with_start):
        b["start"] = contract_starts(lp, lay, b, contracts)
        setup_cost_charged(lp, lay, b, contracts)
    for group, inc in lay.inputs.policy.commissioning.wte_increment.items():
        wte_in_increments(lp, lay, b, contracts, group, inc)
    return contracts


def _tj(lay, contracts: Contracts, picked: np.ndarray) -> dict:
    years = np.array(lay.inputs.years)
    return {"year": np.repeat(years, len(picked)), **contracts.labels(np.tile(picked, lay.T))}


def contract_runs(lp: LinearProgram, lay, contracts: Contracts):
    r"""A whole number per contract and year: the contract runs (1) or not (0).

    run[t,j] ∈ {0, 1}                                          for each t and j        [-]
    """
    return lp.add_vars("contract_runs", _tj(lay, contracts, np.arange(contracts.J)),
                       lower=0.0, upper=1.0, integer=True,
                       meaning="the contract runs this year (1) or not")


def contract_serves(lp: LinearProgram, lay, b: dict, contracts: Contracts):
    r"""The people of a PCN reached by a service come from the contracts that may serve it.

    y[t,m] - sum_{q in m} r[t,q] = 0                 for each t and pair m let as contracts [people]
    """
    Q, M, T = contracts.Q, lay.M, lay.T
    pcns = lay.inputs.pcns.index.to_numpy()
    pair, contract = contracts.member_pair, contracts.member_contract
    most = contracts.most_reached()  # T x M
    serve = lp.add_vars(
        "contract_serves",
        {"year": np.repeat(np.array(lay.inputs.years), Q),
         "pcn": np.tile(pcns[lay.pcn_pos[pair]], T),
         **contracts.labels(np.tile(contract, T))},
        lower=0.0, upper=most[:, pair].reshape(-1),
        meaning="people of a PCN reached by a contract")
    pairs = np.unique(pair)
    at = np.searchsorted(pairs, pair)
    n = len(pairs)
    t_p, t_q = np.repeat(np.arange(T), n), np.repeat(np.arange(T), Q)
    lp.add_rows("contract_serves",
                {"year": np.array(lay.inputs.years)[t_p],
                 "pcn": pcns[lay.pcn_pos[np.tile(pairs, T)]],
                 "intervention": lay.inputs.interventions.index.to_numpy()[
                     lay.iv_pos[np.tile(pairs, T)]]},
                np.concatenate([np.arange(T * n), t_q * n + np.tile(at, T)]),
                np.concatenate([b["y"].start + t_p * M + np.tile(pairs, T), serve.positions()]),
                np.concatenate([np.ones(T * n), -np.ones(T * Q)]), 0.0, 0.0,
                "people reached = sum over the contracts serving the PCN")
    return serve


def contract_runs_upper(lp: LinearProgram, lay, b: dict, contracts: Contracts) -> None:
    r"""No one is reached by a contract that does not run (U the most the pair could reach).

    r[t,q] - U[t,m(q)] run[t,j(q)] <= 0                      for each t and membership q [people]
    """
    Q, T, J = contracts.Q, lay.T, contracts.J
    most = contracts.most_reached()[:, contracts.member_pair].reshape(-1)
    t_q = np.repeat(np.arange(T), Q)
    run = b["run"].start + t_q * J + np.tile(contracts.member_contract, T)
    lp.add_rows("contract_runs_upper", b["serve"].labels,
                np.concatenate([np.arange(T * Q), np.arange(T * Q)]),
                np.concatenate([b["serve"].positions(), run]),
                np.concatenate([np.ones(T * Q), -most]), -INF, 0.0,
                "people a contract reaches in a PCN <= the most it can x runs")


def contract_minimum_size(lp: LinearProgram, lay, b: dict, contracts: Contracts) -> None:
    r"""A contract that runs is at least its minimum viable size.

    sum_{q in j} r[t,q] - N_j run[t,j] >= 0                      for each t and j      [people]
    """
    Q, T, J = contracts.Q, lay.T, contracts.J
    t_q = np.repeat(np.arange(T), Q)
    lp.add_rows("contract_minimum_size", _tj(lay, contracts, np.arange(J)),
                np.concatenate([t_q * J + np.tile(contracts.member_contract, T),
                                np.arange(T * J)]),
                np.concatenate([b["serve"].positions(), b["run"].positions()]),
                np.concatenate([np.ones(T * Q),
                                -np.tile(contracts.table["min_people"].to_numpy(), T)]),
                0.0, INF, "people reached by a running contract >= its minimum size")


def contract_starts(lp: LinearProgram, lay, b: dict, contracts: Contracts):
    r"""A contract with a set-up cost starts in a year it runs and did not run the year before.

    start[t,j] - run[t,j] + run[t-1,j] >= 0               for each t, j in J_set (run[-1,j] = 0) [-]
    """
    picked, J, T = contracts.with_start, contracts.J, lay.T
    n = len(picked)
    # no cost in the objective (the objective stays the weighted outcome the verifier
    # recomputes): a start beyond the runs' can only use budget nothing else wanted
    starts = lp.add_vars("contract_starts", _tj(lay, contracts, picked), lower=0.0, upper=1.0,
                         meaning="the contract starts this year (its set-up cost is paid)")
    t = np.repeat(np.arange(T), n)
    run = b["run"].start + t * J + np.tile(picked, T)
    later = np.nonzero(t > 0)[0]
    lp.add_rows("contract_starts", _tj(lay, contracts, picked),
                np.concatenate([np.arange(T * n), np.arange(T * n), later]),
                np.concatenate([starts.positions(), run, run[later] - J]),
                np.concatenate([np.ones(T * n), -np.ones(T * n), np.ones(len(later))]),
                0.0, INF, "starts >= runs now - ran last year")
    return starts


def setup_cost_charged(lp: LinearProgram, lay, b: dict, contracts: Contracts) -> None:
    r"""The set-up cost is paid from the budget of the year the contract starts.

    S[t] - theta C[t-1] + sum_{j in J_set} F_j start[t,j] <= B_t         (budget_limit)     [£]
    """
    budget = lp.rows.get("budget_limit")
    if budget is None:
        return  # no budget rule: nothing to charge it to (the reports still show it)
    n = len(contracts.with_start)
    setup = contracts.table["setup_gbp"].to_numpy()[contracts.with_start]
    lp.add_entries(budget, np.repeat(np.arange(lay.T), n), b["start"].positions(),
                   np.tile(setup, lay.T))


def wte_in_increments(lp: LinearProgram, lay, b: dict, contracts: Contracts, group: str,
                      inc: float) -> None:
    r"""Staff of a group in [commissioning] wte_increment are hired in whole posts of inc_s
    WTE for each contract within one workforce scope (a hiring unit u); WTE hired beyond need
    is paid for and counts against the WTE available.

    inc_s n[t,u,s] - sum_{q in u} w[i,s] r[t,q] - idle[t,u,s] = 0       for each t, u  [WTE]
    (+ k_s idle[t,u,s] in year t's budget row; + idle[t,u,s] in the workforce row of (t, s,
    u's scope), when there are those rows)
    """
    inputs, T, Q = lay.inputs, lay.T, contracts.Q
    per = inputs.wte_per_person[group].to_numpy()[lay.iv_pos[contracts.member_pair]]
    uses = np.nonzero(per > 0)[0]
    if not len(uses):
        return
    scope = inputs.scope_of_pcn.astype(str).to_numpy()[lay.pcn_pos[contracts.member_pair]]
    key = pd.MultiIndex.from_arrays([contracts.member_contract[uses], scope[uses]])
    codes, uniques = pd.factorize(key, sort=True)
    U = len(uniques)
    unit_contract = uniques.get_level_values(0).to_numpy()
    unit_scope = uniques.get_level_values(1).to_numpy()
    years = np.array(inputs.years)
    labels = {"year": np.repeat(years, U), "staff_group": np.full(T * U, group),
              **{k: np.tile(v, T) for k, v in contracts.labels(unit_contract).items()},
              "scope": np.tile(unit_scope, T)}
    annual = float(inputs.staff_groups.at[group, "annual_cost_gbp"])
    posts = lp.add_vars(f"posts_{group}", labels, lower=0.0, upper=INF, integer=True,
                        meaning=f"posts of {inc:g} WTE of {group} hired for a contract")
    idle = lp.add_vars(f"idle_wte_{group}", labels, lower=0.0, upper=INF,
                       meaning=f"WTE of {group} hired beyond need")
    n = T * U
    t = np.repeat(np.arange(T), len(uses))
    lp.add_rows(f"wte_in_increments_{group}", labels,
                np.concatenate([np.arange(n), t * U + np.tile(codes, T), np.arange(n)]),
                np.concatenate([posts.positions(),
                                b["serve"].start + t * Q + np.tile(uses, T), idle.positions()]),
                np.concatenate([np.full(n, inc), -np.tile(per[uses], T), -np.ones(n)]),
                0.0, 0.0, "WTE hired in posts = WTE needed + WTE idle")
    budget = lp.rows.get("budget_limit")
    if budget is not None:
        lp.add_entries(budget, np.repeat(np.arange(T), U), idle.positions(),
                       np.full(n, annual))
    workforce = lp.rows.get("workforce_limit")
    if workforce is not None:
        index = workforce.index
        row_of = {k: j for j, k in enumerate(zip(index["year"], index["staff_group"],
                                                  index["scope"].astype(str), strict=True))}
        found = np.array([row_of.get(k, -1) for k in zip(
            labels["year"], labels["staff_group"], labels["scope"], strict=True)])
        ok = found >= 0
        lp.add_entries(workforce, found[ok], idle.positions()[ok], np.ones(int(ok.sum())))
