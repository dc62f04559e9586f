r"""The efficiency-equity frontier: what each step of the equity dial costs in health.

`frontier(inputs, points=25, uplift=None, solver=None) -> pandas.DataFrame` sweeps the need
gradient lambda (the equity dial) from 0 to 1 in `points` even steps, with one solver
(`ordered.OrderedSolver`) warm started from the point before. Each point is one row:

* the dial (`need_gradient`) and the enhanced uplift used at that point;
* `status` (optimal, infeasible, ...) and `solved` (False when the status is implied, below);
* `rules_met` (False when a rule bends at that point: the model's [rules] order), and then
  `shortfall_gbp` (every rule's shortfall in £) and `rules_short` (which rules, how much);
* `weighted_outcome_gbp` (the objective: £ weighted outcome, discounted), `qaly`, and the
  activity avoided (`nel_avoided`, `ed_avoided`, `bed_days_avoided`, `op_avoided`), summed
  over the model's years;
* inequality measured on the allocation itself (optimiser/equity.py), per PCN with population
  weights, for spend, weighted value and QALYs per head: Q1:Q5 ratio and gap, slope and
  relative index of inequality, concentration index; and Atkinson's equally distributed
  equivalent (EDE) and index for inequality aversion 0.5, 1 and 2 of value and QALYs per head;
* `health_given_up_gbp` = objective at lambda = 0 minus objective at the point (and its
  share, and `qaly_given_up` in QALYs): what the equity at that point costs in health.

The points are solved with the rules bending in the model's order (optimiser/ordered.py), so
the sweep runs to dial 1 even where the rules cannot all be met: those points are plans with
their shortfalls named. With `rules.bend = false` a point that cannot meet every rule is
infeasible, as before.

Why the curve never rises while every rule is met: the dial's rule is s[t,p] >= lambda phi_p
S[t] with S[t] >= 0, so every allocation feasible at a higher lambda is feasible at a lower
one; the best weighted outcome can only fall (or stay) as the dial rises. (Beyond that, each
point first holds its shortfalls at their least, and its outcome is the best under those:
not a nested set, so it may move either way.) The same nesting means that once a point is
infeasible, every higher point is too: those points are recorded as infeasible with `solved =
False` instead of being solved (an infeasible solve is the slowest kind). And when the
optimum of one point already meets the next point's rule, it is optimal there too (the best
of a set, if it lies in a subset, is the best of the subset; with the rules bending, a plan
whose shortfalls are least at a point and that meets the next point's dial keeps those
shortfalls there, and they cannot be less): that point repeats it with `solved = False`,
without a solve.

`uplift=U` sweeps the enhanced-support uplift too, from 0 at lambda = 0 to U at lambda = 1
(also nested, so the curve still never rises). Without it the uplift stays at the policy's.
The lambda = 0 point is the reference ("efficiency only" within the other rules: the
universal floor, workforce and the rest of the policy still hold).

The need-gradient rule (and, with `uplift`, the enhanced-support rule) is switched on for the
sweep even if the policy has it off.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from . import equity
from .inputs import ModelInputs
from .ordered import OrderedSolver
from .results import Allocation, shortfall_summary
from .schemas import OUTCOMES
from .solve import SolveOptions, Solver

PER_HEAD = ("spend_per_head", "value_per_head", "qaly_per_head")


def dial_values(points: int) -> np.ndarray:
    """`points` even steps from 0 to 1 inclusive."""
    if points < 2:
        raise ValueError("a frontier needs at least 2 points")
    return np.linspace(0.0, 1.0, int(points))


def point_inputs(inputs: ModelInputs, dial: float, uplift: float | None) -> ModelInputs:
    """The inputs at one point of the sweep (the dial's rule switched on)."""
    constraints = dict(inputs.policy.constraints)
    constraints["need_gradient"] = True
    changes: dict = {"need_gradient": float(dial), "constraints": constraints}
    if uplift is not None:
        constraints["enhanced_support_uplift"] = True
        changes["enhanced_uplift"] = float(dial) * float(uplift)
    return inputs.with_policy(**changes)


def frontier(inputs: ModelInputs, points: int = 25, uplift: float | None = None,
             solver: Solver | OrderedSolver | None = None, progress=None,
             options: SolveOptions | None = None) -> pd.DataFrame:
    """Sweep the equity dial from 0 to 1; one row per point (columns in the module docstring).

    `solver`: an existing Solver to warm start from (it is updated in place); otherwise one is
    built for the first point, with `options` (its time limit applies to each point's solve).
    `progress(done, total)` is called after each point.
    """
    dials = dial_values(points)
    rows: list[dict] = []
    infeasible_from: float | None = None
    previous = None  # the last optimal point: (its metrics, its LP, its solution)
    for n, dial in enumerate(dials):
        p_inputs = point_inputs(inputs, dial, uplift)
        row = {"point": n, "need_gradient": float(dial),
               "enhanced_uplift": float(p_inputs.policy.enhanced_uplift)}
        start = time.perf_counter()
        if infeasible_from is not None:
            row.update(status="infeasible", solved=False,
                       note=f"implied: the dial at {infeasible_from:.3f} was already infeasible")
        elif previous is not None and uplift is None and meets_dial(*previous[1:], dial):
            row.update(previous[0], status="optimal", solved=False, warm=False, iterations=0,
                       note="implied: the optimum at the dial before already meets this one")
        else:
            if solver is None:
                solver = OrderedSolver(p_inputs, options)
                how = "cold"
            else:
                how = solver.update(p_inputs)
            solution = solver.solve()
            row.update(status=solution.status, solved=True, note="",
                       warm=bool(solution.warm and how == "warm"),
                       iterations=solution.iterations)
            if solution.status == "optimal":
                metrics = point_metrics(Allocation(solver.inputs, solver.lp, solution))
                row.update(metrics)
                previous = (metrics, solver.lp, solver.inputs, solution.col_value)
            elif solution.status == "infeasible":
                infeasible_from = float(dial)
                row["note"] = "no allocation meets every rule at this dial"
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        if progress:
            progress(n + 1, len(dials))
    return finish(pd.DataFrame(rows))


def meets_dial(lp, inputs: ModelInputs, col_value: np.ndarray, dial: float) -> bool:
    """Does a solution already meet s[t,p] >= dial phi_p S[t] for every year and PCN?

    If an optimum does, it is optimal at this dial too: the rule at a higher dial only removes
    allocations, and the best of the larger set is still in the smaller one. (Without
    `uplift` the dial's rule is the only one that moves along the sweep.)
    """
    pcn, total = lp.columns["spend_pcn"], lp.columns["spend_total"]
    spend = col_value[pcn.start:pcn.stop].reshape(len(inputs.years), -1)  # T x P
    spent = col_value[total.start:total.stop]  # T
    fair = inputs.fair_share.to_numpy()
    return bool((spend - dial * fair[None, :] * spent[:, None] >= 1e-12 * spent[:, None]).all())


def point_metrics(allocation: Allocation) -> dict[str, float]:
    """Outcomes and inequality of one solved point.

    Per PCN, a typical year (the mean over the model's years, every PCN counted, zero where
    nothing is spent), as `Allocation.equity_metrics` measures it; computed here from the
    solution's arrays (`Allocation.flows`), because the tables carry labels a sweep does not
    need.
    """
    inputs = allocation.inputs
    flows = allocation.flows
    out = {"weighted_outcome_gbp": float(allocation.objective),
           "spend_gbp": float(flows["spend_gbp"].sum()),
           **{o: float(flows[o].sum()) for o in OUTCOMES}}
    out.update(shortfall_summary(allocation))
    pcns = inputs.pcns
    sums = allocation.per_pcn_totals(["spend_gbp", "weighted_value_gbp", "qaly"])
    sums = sums / len(inputs.years)
    population = pcns["population"].to_numpy(dtype=float)
    per_head = pd.DataFrame({
        "spend_per_head": sums[:, 0] / population,
        "value_per_head": sums[:, 1] / population,
        "qaly_per_head": sums[:, 2] / population,
    })
    out.update(equity.summary(per_head, pcns["population"].reset_index(drop=True),
                              inputs.quintile_shares))
    for name in ("value_per_head", "qaly_per_head"):
        values = np.clip(per_head[name].to_numpy(), 0.0, None)
        try:
            out.update(equity.atkinson_summary(values, population, name))
        except ValueError:  # no valid weights: leave the Atkinson columns blank
            pass
    return out


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the health given up relative to the lambda = 0 point; order the columns."""
    optimal = frame["status"] == "optimal"
    if "weighted_outcome_gbp" not in frame:
        frame["weighted_outcome_gbp"] = np.nan
        frame["qaly"] = np.nan
    reference = frame.loc[0, "weighted_outcome_gbp"] if optimal.iloc[0] else np.nan
    reference_qaly = frame.loc[0, "qaly"] if optimal.iloc[0] else np.nan
    frame["health_given_up_gbp"] = reference - frame["weighted_outcome_gbp"]
    frame["health_given_up_share"] = frame["health_given_up_gbp"] / reference
    frame["qaly_given_up"] = reference_qaly - frame["qaly"]
    first = ["point", "need_gradient", "enhanced_uplift", "status", "solved", "rules_met",
             "shortfall_gbp", "rules_short", "weighted_outcome_gbp", "health_given_up_gbp",
             "health_given_up_share",
             "qaly", "qaly_given_up", "nel_avoided", "ed_avoided", "bed_days_avoided",
             "op_avoided", "spend_gbp"]
    first = [c for c in first if c in frame.columns]
    tail = ["warm", "iterations", "seconds", "note"]
    middle = [c for c in frame.columns if c not in first and c not in tail]
    return frame[first + middle + [c for c in tail if c in frame.columns]]


def summary(frame: pd.DataFrame) -> dict:
    """A few numbers a board reads first: the reference, the last feasible dial and its cost."""
    optimal = frame[frame["status"] == "optimal"]
    out: dict = {"points": int(len(frame)), "optimal_points": int(len(optimal))}
    if len(optimal):
        last = optimal.iloc[-1]
        out.update({
            "reference_weighted_outcome_gbp": float(frame.loc[0, "weighted_outcome_gbp"])
            if frame.loc[0, "status"] == "optimal" else None,
            "highest_feasible_dial": float(last["need_gradient"]),
            "health_given_up_at_highest_gbp": float(last["health_given_up_gbp"]),
            "health_given_up_at_highest_share": float(last["health_given_up_share"]),
            "spend_q1_q5_ratio_at_reference": float(
                optimal.iloc[0].get("spend_per_head_q1_q5_ratio", np.nan)),
            "spend_q1_q5_ratio_at_highest": float(last.get("spend_per_head_q1_q5_ratio",
                                                           np.nan)),
        })
    infeasible = frame[frame["status"] == "infeasible"]
    out["first_infeasible_dial"] = (float(infeasible["need_gradient"].iloc[0])
                                    if len(infeasible) else None)
    met = (optimal["rules_met"].fillna(False).astype(bool) if "rules_met" in optimal
           else pd.Series(False, index=optimal.index))
    out["highest_dial_every_rule_met"] = (float(optimal.loc[met, "need_gradient"].iloc[-1])
                                          if met.any() else None)
    if met.any():
        last_met = optimal.loc[met].iloc[-1]
        out["health_given_up_at_highest_met_gbp"] = float(last_met["health_given_up_gbp"])
        out["health_given_up_at_highest_met_share"] = float(last_met["health_given_up_share"])
    short = optimal[~met]
    out["first_dial_short"] = float(short["need_gradient"].iloc[0]) if len(short) else None
    out["rules_short_at_highest"] = str(short["rules_short"].iloc[-1]) if len(short) else ""
    return out
