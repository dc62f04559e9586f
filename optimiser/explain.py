"""Why a model is infeasible, in words, and the smallest relaxation that makes it feasible.

An elastic copy of the LP: every policy row may be broken at a
penalty per unit, scaled so that breaking a rule by 1% of its size costs the same whichever
rule it is (budget and workforce at half that, so that asking for more money or staff is
preferred to dropping a commitment). The rows it breaks, summed by rule and year, are the
conflict; they become both the explanation and a relaxed policy that is checked to solve.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .formulation import Layout
from .highs import new_highs
from .inputs import ModelInputs
from .lp import LinearProgram
from .results import CONSTRAINT_FAMILIES, money
from .solve import SolveOptions

RESOURCE_PREFERENCE = 0.5
FAMILY_WORDS = {
    "locks": "the locks",
    "budget_limit": "the budget",
    "workforce_limit": "the workforce available",
    "universal_core_offer": "the universal core offer",
    "enhanced_support_uplift": "the enhanced-support uplift",
    "need_gradient": "the need gradient",
    "mobilisation": "the mobilisation limit",
    "continuity": "the continuity rule",
    "activity_target": "the activity target",
    "ring_fence": "a ring fence",
}


@dataclass
class Explanation:
    status: str
    summary: str
    lines: list[str] = field(default_factory=list)
    relaxed_rules: list[str] = field(default_factory=list)
    changes: dict = field(default_factory=dict)  # Policy field -> new value
    relaxed_inputs: ModelInputs | None = None

    def __str__(self) -> str:
        return "\n".join([self.summary, *(f"  - {line}" for line in self.lines)])


def _row_scale(lp: LinearProgram, inputs: ModelInputs) -> np.ndarray:
    arrays = lp.arrays()
    bound = np.where(np.isfinite(arrays["row_upper"]), arrays["row_upper"], arrays["row_lower"])
    scale = np.maximum(np.abs(bound), 1.0)
    budget_scale = max(float(np.mean(inputs.budget_gbp)), 1.0)
    for name in ("need_gradient", "enhanced_support_uplift"):
        if name in lp.rows:
            b = lp.rows[name]
            scale[b.start:b.stop] = budget_scale
    return scale


def _elastic(lp: LinearProgram, inputs: ModelInputs):
    """The elastic LP: every policy row (and lock) may be broken, at a penalty per unit.

    min sum_j penalty_j (e+_j + e-_j)  s.t.  lower <= A x + e- - e+ <= upper  (policy rows)
    """
    arrays = lp.arrays()
    scale = _row_scale(lp, inputs)
    rows, penalty = [], []
    for name, block in lp.rows.items():
        if name not in CONSTRAINT_FAMILIES:
            continue
        weight = RESOURCE_PREFERENCE if name in ("budget_limit", "workforce_limit") else 1.0
        idx = np.arange(block.start, block.stop)
        rows.append(idx)
        penalty.append(weight / scale[idx])
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    penalty = np.concatenate(penalty) if penalty else np.zeros(0)
    n = len(rows)
    col_lower, col_upper = arrays["col_lower"].copy(), arrays["col_upper"].copy()
    matrix = lp.matrix()
    # e- then e+ for each relaxable row
    extra = sp.csc_matrix(
        (np.concatenate([np.ones(n), -np.ones(n)]),
         (np.concatenate([rows, rows]), np.arange(2 * n))),
        shape=(lp.num_row, 2 * n))
    row_lower, row_upper = arrays["row_lower"].copy(), arrays["row_upper"].copy()
    lock_rows = []
    if "spend_priority" in lp.columns:  # a lock is a fixed bound: make it an elastic row
        b = lp.columns["spend_priority"]
        fixed = np.nonzero(col_lower[b.start:b.stop] == col_upper[b.start:b.stop])[0]
        fixed = fixed[col_upper[b.start + fixed] > 0] + b.start
        if len(fixed):
            k = len(fixed)
            lock_rows = fixed
            value = col_lower[fixed].copy()
            col_lower[fixed], col_upper[fixed] = 0.0, np.inf
            lock_block = sp.csc_matrix(
                (np.ones(k), (np.arange(k), fixed)), shape=(k, lp.num_col))
            matrix = sp.vstack([matrix, lock_block]).tocsc()
            extra = sp.vstack([extra, sp.csc_matrix((k, 2 * n))]).tocsc()
            lock_slack = sp.csc_matrix(
                (np.concatenate([np.ones(k), -np.ones(k)]),
                 (np.concatenate([np.arange(k)] * 2) + lp.num_row, np.arange(2 * k))),
                shape=(lp.num_row + k, 2 * k))
            extra = sp.hstack([extra, lock_slack]).tocsc()
            row_lower = np.concatenate([row_lower, value])
            row_upper = np.concatenate([row_upper, value])
            penalty = np.concatenate([penalty, np.full(k, 1.0 / max(value.max(), 1.0))])
    full = sp.hstack([matrix, extra]).tocsc()
    n_slack = extra.shape[1]
    slack_penalty = np.concatenate([penalty[:n], penalty[:n], penalty[n:], penalty[n:]])
    model = highspy.HighsLp()
    model.num_col_ = full.shape[1]
    model.num_row_ = full.shape[0]
    model.col_cost_ = np.concatenate([np.zeros(lp.num_col), slack_penalty])
    model.col_lower_ = np.concatenate([col_lower, np.zeros(n_slack)])
    model.col_upper_ = np.concatenate([col_upper, np.full(n_slack, np.inf)])
    model.row_lower_ = row_lower
    model.row_upper_ = row_upper
    model.sense_ = highspy.ObjSense.kMinimize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = full.indptr.astype(np.int32)
    model.a_matrix_.index_ = full.indices.astype(np.int32)
    model.a_matrix_.value_ = full.data
    return model, rows, n, np.asarray(lock_rows, dtype=np.int64)


def explain_infeasible(inputs: ModelInputs, lp: LinearProgram,
                       options: SolveOptions | None = None, check: bool = True) -> Explanation:
    """Find the smallest relaxation that makes the model feasible, and say what it means.

    With `check`, the suggested relaxation is solved before it is offered (and relaxed again
    if a conflict remains), so `relaxed_inputs` is always a plan that solves, or None.
    """
    options = options or SolveOptions()
    model, rows, n, lock_cols = _elastic(lp, inputs)
    h = new_highs(options)
    h.passModel(model)
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return Explanation("infeasible", "The rules cannot all be met, and no relaxation of the "
                           "policy rules was found: check the data (for example a zero "
                           "eligible cohort with a positive target).")
    values = np.asarray(h.getSolution().col_value)
    slack = values[lp.num_col:]
    short = np.zeros(lp.num_row)
    short[rows] = slack[:n] + slack[n:2 * n]
    scale = _row_scale(lp, inputs)
    tol = 1e-6 * scale + 1e-6
    lines, rules, changes = [], [], {}
    for name, block in lp.rows.items():
        if name not in CONSTRAINT_FAMILIES:
            continue
        sl = slice(block.start, block.stop)
        broken = short[sl] > tol[sl]
        if not broken.any():
            continue
        rules.append(name)
        frame = block.index[broken].copy()
        frame["short"] = short[sl][broken]
        lines += _describe(name, frame, inputs, lp)
        changes.update(_relax(name, frame, short[sl], block, inputs))
    if len(lock_cols):
        k = len(lock_cols)
        lock_short = slack[2 * n:2 * n + k] + slack[2 * n + k:]
        if (lock_short > 1e-3).any():
            b = lp.columns["spend_priority"]
            frame = b.index.iloc[lock_cols[lock_short > 1e-3] - b.start]
            rules.append("locks")
            lines += [f"The lock on {r.priority} in {r.pcn} ({r.year}) cannot be held with "
                      "the other rules." for r in frame.itertuples()]
            changes["locks"] = ()
    if not rules:
        return Explanation("infeasible", "The solver reported the rules infeasible, but the "
                           "elastic check found nothing to relax: the model may be numerically "
                           "difficult. Try the efficiency_only scenario to compare.")
    summary = ("These settings cannot all be met. The smallest change that makes them "
               f"feasible relaxes {', '.join(FAMILY_WORDS.get(r, r) for r in rules)}.")
    lines += _demanders(inputs, rules)
    relaxed = None
    if check:
        changes, relaxed = _checked_relaxation(inputs, changes, options)
    return Explanation("infeasible", summary, lines, rules, changes, relaxed)


def _checked_relaxation(inputs: ModelInputs, changes: dict, options: SolveOptions,
                        rounds: int = 3) -> tuple[dict, ModelInputs | None]:
    """Apply the suggested changes and solve; if still infeasible, relax again (a few rounds).

    One round is usually enough; a second is needed when a rule relaxed by a rounded step
    (the uplift, the gradient) leaves a smaller conflict behind. A suggestion that does not
    solve after the last round is not offered.
    """
    from .formulation import formulate
    from .solve import Solver

    total = dict(changes)
    for _ in range(rounds):
        if not total:
            return total, None
        try:
            relaxed = inputs.with_policy(**total)
        except Exception:  # noqa: BLE001 - a suggestion that fails validation is not offered
            return total, None
        solution = Solver(relaxed, options).solve()
        if solution.optimal:
            return total, relaxed
        if solution.status != "infeasible":
            return total, None
        more = explain_infeasible(relaxed, formulate(relaxed), options, check=False).changes
        if not more:
            return total, None
        total.update(more)
    return total, None


def _describe(name: str, frame: pd.DataFrame, inputs: ModelInputs, lp: LinearProgram) -> list[str]:
    if name == "budget_limit":
        return [f"The rules need {money(r.short)} more than the {r.year} budget of "
                f"{money(inputs.budget_gbp[inputs.years.index(r.year)])}."
                for r in frame.itertuples()]
    if name == "workforce_limit":
        out = []
        for r in frame.itertuples():
            group = str(inputs.staff_groups.at[r.staff_group, "name"]).lower()
            out.append(f"The rules need {r.short:,.1f} more WTE of {group} in {r.scope} in "
                       f"{r.year} than are available.")
        return out
    count = len(frame)
    total = frame["short"].sum()
    unit = "£" if name in ("need_gradient", "enhanced_support_uplift", "ring_fence") else ""
    amount = money(total) if unit else f"{total:,.0f}"
    where = ", ".join(sorted(set(frame["year"].astype(str))))
    what = FAMILY_WORDS.get(name, name)
    if name == "activity_target":
        return [f"{what.capitalize()} ({r.outcome}, {r.year}) is {r.short:,.0f} out of reach."
                for r in frame.itertuples()]
    return [f"{what.capitalize()} cannot be met in {count} place(s) in {where}: "
            f"{amount}{'' if unit else ' people'} short in all."]


def _relax(name: str, frame: pd.DataFrame, short: np.ndarray, block, inputs: ModelInputs) -> dict:
    """The policy change that removes this family's shortfall."""
    policy = inputs.policy
    margin = 1.0 + 1e-6
    if name == "budget_limit":
        extra = frame.set_index("year")["short"]
        return {"budget_gbp": tuple(b + extra.get(y, 0.0) * margin + (0.01 if y in extra else 0.0)
                                    for y, b in zip(inputs.years, inputs.budget_gbp, strict=True)),
                "gbp_per_head": None}
    if name == "workforce_limit":
        available = {g: dict(v) for g, v in (policy.available_wte or {}).items()}
        wte = inputs.workforce_wte
        for (group, scope), part in frame.groupby(["staff_group", "scope"]):
            current = wte.loc[(group, scope)].reindex(list(inputs.years)).to_numpy()
            extra = part.set_index("year")["short"].reindex(list(inputs.years)).fillna(0.0)
            available.setdefault(group, {})[scope] = list(current + extra.to_numpy() * margin
                                                          + (extra.to_numpy() > 0) * 0.01)
        return {"available_wte": available}
    if name == "universal_core_offer":
        lay = Layout(inputs)
        core = np.nonzero(lay.core)[0]
        needed = np.tile(lay.E[core], lay.T) * policy.universal_floor
        rel = short[:len(needed)] / np.maximum(needed, 1e-9)
        return {"universal_floor": max(0.0, policy.universal_floor * (1 - rel.max()) - 1e-6)}
    if name == "need_gradient":
        return {"need_gradient": max(0.0, policy.need_gradient * 0.9 - 1e-6)}
    if name == "enhanced_support_uplift":
        return {"enhanced_uplift": max(-1.0, policy.enhanced_uplift - 0.1)}
    if name == "mobilisation":
        return {"mobilisation_max_growth": min(1.0, policy.mobilisation_max_growth + 0.1)}
    if name == "continuity":
        return {"continuity_max_fall": min(1.0, policy.continuity_max_fall + 0.1)}
    if name == "activity_target":
        targets = []
        shortfall = frame.set_index(["year", "outcome", "scope"])["short"]
        for t in policy.activity_targets:  # a change from baseline becomes its minimum, cut
            cut = shortfall.get((t.year, t.outcome, t.scope), 0.0)
            targets.append(t if cut <= 0 else dataclasses.replace(
                t, minimum=max(0.0, inputs.target_minimum(t) - cut * margin - 1),
                change_from_baseline=None))
        return {"activity_targets": tuple(targets)}
    if name == "ring_fence":
        return {"ring_fences": ()}
    return {}


def _demanders(inputs: ModelInputs, rules: list[str]) -> list[str]:
    """For a money shortfall, what the spend-forcing rules cost on their own."""
    if "budget_limit" not in rules:
        return []
    policy = inputs.policy
    lines = []
    if policy.on("universal_core_offer") and policy.universal_floor > 0:
        core = inputs.interventions["tier"] == "core"
        cost = (inputs.eligible.loc[:, core] * inputs.interventions.loc[core, "cost_gbp"]).sum(
            axis=1).sum() * policy.universal_floor
        for year, budget in zip(inputs.years, inputs.budget_gbp, strict=True):
            if cost > budget:
                lines.append(f"The universal core offer alone needs {money(cost)} a year: "
                             f"{money(cost - budget)} more than the {year} budget.")
    locked = sum(lock.spend_gbp for lock in policy.locks)
    if locked:
        lines.append(f"Locked commitments take {money(locked)} a year.")
    return lines
