"""Why a model has no plan, in words, and the smallest change that gives it one.

Infeasible: an elastic copy of the LP, in which a policy row (or a lock) may be broken by a
shortfall column, is solved in a stated order (lexicographically, never by weights that trade
one kind of change against another):

1. **Resources first.** Only the budget and the workforce rows may be broken: the least extra
   resource with which every rule (and lock) is kept. Budget and WTE are weighed by their share
   of what is available, so 1% more of one year's budget counts as much as 1% more WTE of one
   staff group in one ICB and year. A ring fence is a share of the budget, so extra budget
   moves its limits with it.
2. **Rules only when no amount of resource is enough.** If step 1 has no solution, the rules
   and locks may be broken too, with budget and WTE free: the least total breach of the rules
   (each row's shortfall as a share of its size, so rules in £, people and activity compare);
   then, with that breach held, the least extra resource it needs.

The shortfalls found, summed by rule and year, are the explanation and the relaxed policy, which
is solved before it is offered. Every shortfall in words is rounded up (`results.money_up`), so
whoever adds exactly the amount shown has enough.

A solve that stops at the time limit is said to have done so (`explain_stop`), and so is a
search for the relaxation that runs out of time: neither is ever passed off as a finding.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .formats import short_icb
from .formulation import Layout
from .highs import new_highs
from .inputs import ModelInputs
from .lp import LinearProgram
from .results import CONSTRAINT_FAMILIES, amount_up, money, money_up
from .solve import Solution, SolveOptions

RESOURCES = ("budget_limit", "workforce_limit")
HELD = 1e-7  # step 2 holds the least breach of the rules to within this share (numerics)
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


def seconds_text(seconds: float) -> str:
    return f"{seconds:,.0f} seconds" if seconds >= 10 else f"{seconds:g} seconds"


def time_limit_fix(options: SolveOptions) -> str:
    return (f"Raise the limit (now {seconds_text(options.time_limit)}) with --time-limit "
            "SECONDS on the command line or time_limit under [solver] in the model file.")


def explain_stop(solution: Solution, options: SolveOptions) -> Explanation:
    """Why a solve ended without an optimum, when it is not infeasible."""
    if solution.status == "time_limit":
        return Explanation("time_limit", f"The solver's time limit of "
                           f"{seconds_text(options.time_limit)} ran out before it found the best "
                           f"allocation ({solution.iterations:,} iterations): there is no plan "
                           "to show, and nothing is known yet about whether one exists.",
                           [time_limit_fix(options)])
    if solution.status == "unbounded":
        return Explanation("unbounded", "The solver found no limit to the weighted outcome: a "
                           "rule that should bound spending is switched off or a figure is "
                           "missing.", ["Check that budget_limit is on and the budget is set."])
    return Explanation(solution.status, f"The solver stopped with status "
                       f"'{solution.status}' ({solution.solver_status}) and no plan.",
                       ["Run the model again; if it recurs, export it (python -m optimiser "
                        "export) and report the file."])


# ---- the elastic LP --------------------------------------------------------------------------

@dataclass
class Elastic:
    """The elastic LP and what each of its breakable rows is.

    Columns: the LP's, then for each breakable row j a pair (below_j, above_j) >= 0 that moves
    its activity up or down: lower <= A x + below - above <= upper. `rows` has one line per
    breakable row: `family`, `scale` (its size, for weighing), `lp_row` (the LP row it
    relaxes, whose labels name it; -1 for a lock), `col` (a lock's spend column, else -1),
    and for ring fences `fence`, `year_pos` and `side` ("min" or "max": a fence with both is
    two rows, since its limits move with extra budget at different rates).
    """

    model: highspy.HighsLp
    num_col: int  # the LP's columns
    rows: pd.DataFrame

    def labels(self, lp: LinearProgram, part: pd.DataFrame) -> pd.DataFrame:
        """The LP's labels (year, PCN, ...) of some breakable rows of one family."""
        family = part["family"].iloc[0]
        if family == "locks":
            block, at = lp.columns["spend_priority"], part["col"]
        else:
            block, at = lp.rows[family], part["lp_row"]
        return block.index.iloc[at.to_numpy() - block.start].set_axis(part.index)


def _scales(lp: LinearProgram, inputs: ModelInputs) -> np.ndarray:
    """The size of each LP row: its bound (rules on £ of spend: the mean budget)."""
    arrays = lp.arrays()
    bound = np.where(np.isfinite(arrays["row_upper"]), arrays["row_upper"], arrays["row_lower"])
    scale = np.maximum(np.abs(bound), 1.0)
    budget_scale = max(float(np.mean(inputs.budget_gbp)), 1.0)
    for name in ("need_gradient", "enhanced_support_uplift"):
        if name in lp.rows:
            b = lp.rows[name]
            scale[b.start:b.stop] = budget_scale
    return scale


def build_elastic(lp: LinearProgram, inputs: ModelInputs) -> Elastic:
    """Every policy row and lock breakable; a ring fence's limits move with extra budget."""
    arrays = lp.arrays()
    matrix = lp.matrix().tocsr()
    row_lower, row_upper = arrays["row_lower"].copy(), arrays["row_upper"].copy()
    col_lower, col_upper = arrays["col_lower"].copy(), arrays["col_upper"].copy()
    scale = _scales(lp, inputs)
    policy = inputs.policy
    T = len(inputs.years)
    budget = max(float(np.mean(inputs.budget_gbp)), 1.0)
    parts: list[pd.DataFrame] = []
    added: list[tuple[sp.csr_matrix, np.ndarray, np.ndarray]] = []  # rows below the LP's
    n_added = 0
    for name, block in lp.rows.items():
        if name not in CONSTRAINT_FAMILIES:
            continue
        r = np.arange(block.start, block.stop)
        part = pd.DataFrame({"family": name, "lp_row": r, "model_row": r, "col": -1,
                             "scale": scale[r]})
        if name == "ring_fence":
            k = np.arange(block.size)
            fences = [policy.ring_fences[f] for f in k // T]
            part = part.assign(fence=k // T, year_pos=k % T, scale=budget, side=[
                "max" if f.min_share is None else "min" for f in fences])
            both = np.array([f.min_share is not None and f.max_share is not None
                             for f in fences], dtype=bool)
            if both.any():  # the upper limit as a row of its own
                upper = part[both].assign(side="max",
                                          model_row=lp.num_row + n_added + np.arange(both.sum()))
                added.append((matrix[r[both]], np.full(both.sum(), -np.inf), row_upper[r[both]]))
                n_added += int(both.sum())
                row_upper[r[both]] = np.inf
                part = pd.concat([part, upper])
        parts.append(part)
    if "spend_priority" in lp.columns:  # a lock is a fixed bound: make it a breakable row
        b = lp.columns["spend_priority"]
        fixed = np.nonzero(col_lower[b.start:b.stop] == col_upper[b.start:b.stop])[0]
        cols = b.start + fixed[col_upper[b.start + fixed] > 0]
        if len(cols):
            value = col_lower[cols].copy()
            col_lower[cols], col_upper[cols] = 0.0, np.inf
            k = len(cols)
            added.append((sp.csr_matrix((np.ones(k), (np.arange(k), cols)),
                                        shape=(k, lp.num_col)), value, value))
            parts.append(pd.DataFrame({
                "family": "locks", "lp_row": -1, "col": cols,
                "model_row": lp.num_row + n_added + np.arange(k),
                "scale": max(float(value.max()), 1.0)}))
            n_added += k
    if added:
        matrix = sp.vstack([matrix, *(m for m, _, _ in added)]).tocsr()
        row_lower = np.concatenate([row_lower, *(lo for _, lo, _ in added)])
        row_upper = np.concatenate([row_upper, *(hi for _, _, hi in added)])
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["family", "lp_row", "model_row", "col", "scale"])
    n = len(rows)
    model_row = rows["model_row"].to_numpy(dtype=np.int64)
    entries = [(np.repeat(model_row, 2), np.arange(2 * n), np.tile([1.0, -1.0], n))]
    if n and "budget_limit" in lp.rows:  # share x (budget + extra): the fence moves with it
        budget_rows = lp.rows["budget_limit"]
        above = {t: 2 * j + 1 for j, t in zip(
            np.nonzero((rows["family"] == "budget_limit").to_numpy())[0],
            rows.loc[rows["family"] == "budget_limit", "lp_row"] - budget_rows.start,
            strict=True)}  # the budget rows are one a year, in the years' order
        for j in np.nonzero((rows["family"] == "ring_fence").to_numpy())[0]:
            spec = policy.ring_fences[int(rows.at[j, "fence"])]
            share = spec.min_share if rows.at[j, "side"] == "min" else spec.max_share
            t = int(rows.at[j, "year_pos"])
            if share and t in above:
                entries.append((np.array([model_row[j]]), np.array([above[t]]),
                                np.array([-float(share)])))
    slack_matrix = sp.csc_matrix(
        (np.concatenate([e[2] for e in entries]),
         (np.concatenate([e[0] for e in entries]), np.concatenate([e[1] for e in entries]))),
        shape=(matrix.shape[0], 2 * n))
    full = sp.hstack([matrix.tocsc(), slack_matrix]).tocsc()
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = full.shape[1], full.shape[0]
    model.col_cost_ = np.zeros(full.shape[1])
    model.col_lower_ = np.concatenate([col_lower, np.zeros(2 * n)])
    model.col_upper_ = np.concatenate([col_upper, np.full(2 * n, np.inf)])
    model.row_lower_, model.row_upper_ = row_lower, row_upper
    model.sense_ = highspy.ObjSense.kMinimize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = full.indptr.astype(np.int32)
    model.a_matrix_.index_ = full.indices.astype(np.int32)
    model.a_matrix_.value_ = full.data
    return Elastic(model, lp.num_col, rows)


@dataclass
class Relaxation:
    """The shortfalls found: per breakable row (the `rows` of an Elastic), and how found."""

    status: str  # "resources", "rules", "time_limit" or "none"
    short: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: float = 0.0


def least_relaxation(elastic: Elastic, options: SolveOptions) -> Relaxation:
    """The lexicographic search of the module docstring: resources first, then rules."""
    rows = elastic.rows
    n = len(rows)
    if n == 0:
        return Relaxation("none")
    resource = rows["family"].isin(RESOURCES).to_numpy()
    penalty = 1.0 / rows["scale"].to_numpy(dtype=float)
    cols = elastic.num_col + np.arange(2 * n)
    col_resource = np.repeat(resource, 2)
    col_penalty = np.repeat(penalty, 2)
    started = time.perf_counter()
    h = new_highs(options)
    h.passModel(elastic.model)

    def run(cost: np.ndarray) -> str:
        h.changeColsCost(2 * n, cols.astype(np.int32), cost)
        left = options.time_limit - (time.perf_counter() - started)
        h.setOptionValue("time_limit", h.getRunTime() + max(left, 1e-3))
        h.run()
        return h.modelStatusToString(h.getModelStatus())

    def shortfalls() -> np.ndarray:
        value = np.asarray(h.getSolution().col_value)[elastic.num_col:]
        return value[0::2] + value[1::2]

    rule_cols = cols[~col_resource].astype(np.int32)
    if len(rule_cols):  # step 1: every rule held, resources may grow
        h.changeColsBounds(len(rule_cols), rule_cols, np.zeros(len(rule_cols)),
                           np.zeros(len(rule_cols)))
    status = run(np.where(col_resource, col_penalty, 0.0))
    if status == "Optimal":
        return Relaxation("resources", shortfalls(), time.perf_counter() - started)
    if status == "Time limit reached":
        return Relaxation("time_limit", seconds=time.perf_counter() - started)
    if len(rule_cols):  # step 2: no resource is enough; the least breach of the rules ...
        h.changeColsBounds(len(rule_cols), rule_cols, np.zeros(len(rule_cols)),
                           np.full(len(rule_cols), np.inf))
    status = run(np.where(col_resource, 0.0, col_penalty))
    if status == "Time limit reached":
        return Relaxation("time_limit", seconds=time.perf_counter() - started)
    if status != "Optimal":
        return Relaxation("none", seconds=time.perf_counter() - started)
    breach = float(h.getInfo().objective_function_value)
    # ... held, and then the least extra resource with it
    h.addRow(-np.inf, breach * (1 + HELD) + HELD, len(rule_cols), rule_cols,
             col_penalty[~col_resource])
    status = run(np.where(col_resource, col_penalty, 0.0))
    if status == "Time limit reached":
        return Relaxation("time_limit", seconds=time.perf_counter() - started)
    if status != "Optimal":
        return Relaxation("none", seconds=time.perf_counter() - started)
    return Relaxation("rules", shortfalls(), time.perf_counter() - started)


# ---- explaining ------------------------------------------------------------------------------

def explain_infeasible(inputs: ModelInputs, lp: LinearProgram,
                       options: SolveOptions | None = None, check: bool = True) -> Explanation:
    """Find the smallest relaxation that makes the model feasible, and say what it means.

    With `check`, the suggested relaxation is solved before it is offered (and relaxed again
    if a conflict remains), so `relaxed_inputs` is always a plan that solves, or None.
    """
    options = options or SolveOptions()
    elastic = build_elastic(lp, inputs)
    found = least_relaxation(elastic, options)
    if found.status == "time_limit":
        return Explanation("time_limit", "The rules cannot all be met, and the solver's time "
                           f"limit of {seconds_text(options.time_limit)} ran out while it looked "
                           "for the smallest change that would meet them: nothing is known "
                           "about the cause yet.", [time_limit_fix(options)])
    if found.status == "none":
        return Explanation("infeasible", "The rules cannot all be met, and no relaxation of the "
                           "policy rules was found: check the data (for example a zero "
                           "eligible cohort with a positive target).")
    rows = elastic.rows.assign(short=found.short)
    rows = rows[rows["short"] > 1e-6 * rows["scale"] + 1e-6]
    if rows.empty:
        return Explanation("infeasible", "The solver reported the rules infeasible, but the "
                           "elastic check found nothing to relax: the model may be numerically "
                           "difficult. Try the efficiency_only scenario to compare.")
    order = [*RESOURCES, *CONSTRAINT_FAMILIES, "locks"]
    relaxed = sorted(set(rows["family"]), key=order.index)
    lines, changes = [], {}
    for name in relaxed:
        part = rows[rows["family"] == name]
        labels = elastic.labels(lp, part)
        lines += _describe(name, part, labels, inputs)
        changes.update(_relax(name, part, labels, inputs))
    resources = [r for r in relaxed if r in RESOURCES]
    rules = [r for r in relaxed if r not in RESOURCES]
    words = ", ".join(FAMILY_WORDS.get(r, r) for r in relaxed)
    if found.status == "resources":
        summary = ("These settings cannot all be met. The smallest change that makes them "
                   f"feasible relaxes {words} only: every rule can be kept with more resources, "
                   "and this is the least that works.")
    else:
        extra = (f", and then needs more of {' and '.join(FAMILY_WORDS[r] for r in resources)}"
                 if resources else "")
        summary = ("These settings cannot all be met, and no amount of extra budget or "
                   "workforce would meet them. The smallest change that makes them feasible "
                   f"relaxes {', '.join(FAMILY_WORDS.get(r, r) for r in rules)}{extra}.")
    lines += _demanders(inputs, relaxed)
    explanation = Explanation("infeasible", summary, lines, relaxed, changes)
    if check:
        explanation.changes, explanation.relaxed_inputs, note = _checked_relaxation(
            inputs, changes, options)
        if note:
            explanation.lines.append(note)
    return explanation


def _checked_relaxation(inputs: ModelInputs, changes: dict, options: SolveOptions,
                        rounds: int = 3) -> tuple[dict, ModelInputs | None, str]:
    """Apply the suggested changes and solve; if still infeasible, relax again (a few rounds).

    One round is usually enough; a second is needed when a rule relaxed by a rounded step
    (the uplift, the gradient) leaves a smaller conflict behind. A suggestion that does not
    solve after the last round is not offered; the note says why.
    """
    from .formulation import formulate
    from .solve import Solver

    total = dict(changes)
    for _ in range(rounds):
        if not total:
            return total, None, ""
        try:
            relaxed = inputs.with_policy(**total)
        except Exception:  # noqa: BLE001 - a suggestion that fails validation is not offered
            return total, None, ""
        solution = Solver(relaxed, options).solve()
        if solution.optimal:
            return total, relaxed, ""
        if solution.status == "time_limit":
            return total, None, ("The suggested change could not be checked: the solver's time "
                                 f"limit of {seconds_text(options.time_limit)} ran out. "
                                 + time_limit_fix(options))
        if solution.status != "infeasible":
            return total, None, ""
        more = explain_infeasible(relaxed, formulate(relaxed), options, check=False).changes
        if not more:
            return total, None, ""
        total.update(more)
    return total, None, ""


def _scope_name(inputs: ModelInputs, code: str) -> str:
    """A workforce scope (an ICB or a place) as people say it: "Derby and Derbyshire (QJ2)"."""
    pcns = inputs.pcns
    for code_col, name_col in (("icb_code", "icb_name"), ("place_code", "place_name")):
        if code_col in pcns.columns and name_col in pcns.columns:
            names = pcns.loc[pcns[code_col].astype(str) == str(code), name_col]
            if len(names) and str(names.iloc[0]) != str(code):
                return f"{short_icb(names.iloc[0])} ({code})"
    return str(code)


def _describe(name: str, frame: pd.DataFrame, labels: pd.DataFrame,
              inputs: ModelInputs) -> list[str]:
    """The shortfalls of one rule family in words (each amount rounded up)."""
    if name == "budget_limit":
        return [f"The rules need {money_up(short)} more than the {year} budget of "
                f"{money(inputs.budget_gbp[inputs.years.index(year)])}."
                for year, short in zip(labels["year"], frame["short"], strict=True)]
    if name == "workforce_limit":
        return [f"The rules need {amount_up(short, 0.1):,.1f} more WTE of "
                f"{str(inputs.staff_groups.at[group, 'name']).lower()} "
                f"in {_scope_name(inputs, scope)} in {year} than are available."
                for group, scope, year, short in zip(labels["staff_group"], labels["scope"],
                                                     labels["year"], frame["short"], strict=True)]
    if name == "activity_target":
        return [f"{FAMILY_WORDS[name].capitalize()} ({outcome}, {year}) is "
                f"{amount_up(short, 1):,.0f} out of reach."
                for outcome, year, short in zip(labels["outcome"], labels["year"],
                                                frame["short"], strict=True)]
    if name == "locks":
        return [f"The lock on {priority} in {pcn} ({year}) cannot be held with the other rules: "
                f"it is {money_up(short)} away from what they allow."
                for priority, pcn, year, short in zip(labels["priority"], labels["pcn"],
                                                      labels["year"], frame["short"],
                                                      strict=True)]
    if name == "ring_fence":
        return [f"The ring fence on {pot} ({'minimum' if side == 'min' else 'maximum'} share) "
                f"cannot be held in {year}: "
                f"{money_up(short)} {'short' if side == 'min' else 'over'}."
                for pot, year, side, short in zip(labels["pot"], labels["year"], frame["side"],
                                                  frame["short"], strict=True)]
    money_rule = name in ("need_gradient", "enhanced_support_uplift")
    total = float(frame["short"].sum())
    amount = money_up(total) if money_rule else f"{amount_up(total, 1):,.0f} people"
    where = ", ".join(sorted(set(labels["year"].astype(str))))
    return [f"{FAMILY_WORDS.get(name, name).capitalize()} cannot be met in {len(frame)} "
            f"place(s) in {where}: {amount} short in all."]


def _relax(name: str, frame: pd.DataFrame, labels: pd.DataFrame, inputs: ModelInputs) -> dict:
    """The policy change that removes this family's shortfall."""
    policy = inputs.policy
    margin = 1.0 + 1e-6
    if name == "budget_limit":
        extra = pd.Series(frame["short"].to_numpy(), index=labels["year"].to_numpy())
        return {"budget_gbp": tuple(b + extra.get(y, 0.0) * margin + (0.01 if y in extra else 0.0)
                                    for y, b in zip(inputs.years, inputs.budget_gbp, strict=True)),
                "gbp_per_head": None}
    if name == "workforce_limit":
        available = {g: dict(v) for g, v in (policy.available_wte or {}).items()}
        wte = inputs.workforce_wte
        part = labels.assign(short=frame["short"].to_numpy())
        for (group, scope), rows in part.groupby(["staff_group", "scope"]):
            current = wte.loc[(group, scope)].reindex(list(inputs.years)).to_numpy()
            extra = rows.set_index("year")["short"].reindex(list(inputs.years)).fillna(0.0)
            available.setdefault(group, {})[scope] = list(current + extra.to_numpy() * margin
                                                          + (extra.to_numpy() > 0) * 0.01)
        return {"available_wte": available}
    if name == "universal_core_offer":
        lay = Layout(inputs)
        needed = np.maximum(policy.universal_floor * lay.E[np.asarray(
            [lay_pos for lay_pos in _core_pairs(lay, labels)])], 1e-9)
        rel = frame["short"].to_numpy() / needed
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
        shortfall = pd.Series(frame["short"].to_numpy(),
                              index=pd.MultiIndex.from_frame(labels[["year", "outcome",
                                                                     "scope"]]))
        targets = []
        for t in policy.activity_targets:  # a change from baseline becomes its minimum, cut
            cut = float(shortfall.get((t.year, t.outcome, t.scope), 0.0))
            targets.append(t if cut <= 0 else dataclasses.replace(
                t, minimum=max(0.0, inputs.target_minimum(t) - cut * margin - 1),
                change_from_baseline=None))
        return {"activity_targets": tuple(targets)}
    if name == "ring_fence":
        fences = list(policy.ring_fences)
        for fence, side, year, short in zip(frame["fence"], frame["side"], labels["year"],
                                            frame["short"], strict=True):
            budget = max(float(inputs.budget_gbp[inputs.years.index(year)]), 1.0)
            step = short / budget * margin + 1e-6
            spec = fences[int(fence)]
            if side == "min":
                spec = dataclasses.replace(spec, min_share=max(0.0, spec.min_share - step))
            else:
                spec = dataclasses.replace(spec, max_share=min(1.0, spec.max_share + step))
            fences[int(fence)] = spec
        return {"ring_fences": tuple(fences)}
    if name == "locks":
        return {"locks": ()}
    return {}


def _core_pairs(lay: Layout, labels: pd.DataFrame) -> list[int]:
    """The pair (PCN, intervention) position of each universal-core-offer row."""
    pcns = {p: j for j, p in enumerate(lay.inputs.pcns.index)}
    ivs = {i: j for j, i in enumerate(lay.inputs.interventions.index)}
    position = {(int(p), int(i)): m for m, (p, i) in enumerate(zip(lay.pcn_pos, lay.iv_pos,
                                                                   strict=True))}
    return [position[(pcns[p], ivs[i])] for p, i in zip(labels["pcn"], labels["intervention"],
                                                         strict=True)]


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
                lines.append(f"The universal core offer alone needs {money_up(cost)} a year: "
                             f"{money_up(cost - budget)} more than the {year} budget.")
    locked = sum(lock.spend_gbp for lock in policy.locks)
    if locked:
        lines.append(f"Locked commitments take {money_up(locked)} a year.")
    return lines
