r"""The inverse questions: the least budget, or WTE of a staff group, that meets stated aims.

`least_resource(inputs, resource, aims, per_year=False) -> Target`

An aim is a rule at a level (`parse_aim`: "q1_q5_spend_ratio>=1.5", "universal_floor>=0.3",
"need_gradient>=0.8", "enhanced_uplift>=0.4", "nel_avoided>=2000", "nel_avoided@2028/29>=500").
Every rule of the model is kept, hard; each aim sets its rule's level (an activity aim adds a
target for the whole model, in the last year unless it names one). The resource becomes a
variable of the LP, which is solved once for its least value (exactly: an LP, not a search):

    budget, one scale:   S[t] - theta C[t-1] - beta B_t <= 0    min beta mean_t B_t   [£ a year]
    budget, per year:    S[t] - theta C[t-1] - b_t <= 0         min mean_t b_t        [£ a year]
    WTE of group s:      sum_{p in c,i} w[i,s] y[t,p,i] - omega W[t,s,c] <= 0
                         min omega mean_t sum_c W[t,s,c]                                  [WTE]
    WTE, per year and scope:  ... - v[t,c] <= 0    min mean_t sum_c v[t,c]                [WTE]

(one scale keeps the model's profile over the years, or over the ICBs or places; per year, each
is free). The answer is rounded up (to the £, or the hundredth of a WTE), and the forward model
is solved at it, every rule hard, for the allocation (written as `run` writes it).

The marginal cost of each aim comes from that LP's duals (the envelope theorem). HiGHS's row
dual y_j is the change in the objective (here minus the resource) per unit of row j's binding
bound; an aim at level a moves the bounds by db_j/da at the optimum x* (for a ratio, gradient
or uplift the level is a coefficient: the same change of the row's activity at x*), so

    d(least resource)/da = - sum_j y_j db_j/da
    floor f: E[p,i] per core row;  target N: 1;  need gradient lambda: phi_p S*[t] per row;
    uplift u: E[p,r] a*[t,c,r] per row;  Q1:Q5 ratio k: (N_1/N_5) sum_p w[p,5] s*[t,p] per year.

It holds for a small step (the LP's answer is piecewise linear in the level): "each 0.1 on the
Q1:Q5 ratio costs £2.3m a year at this level".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .explain import explain_infeasible
from .formulation import Layout, formulate
from .inputs import ModelInputs
from .lp import LinearProgram
from .policy import ActivityTarget
from .results import Allocation, money
from .schemas import OUTCOME_LABELS, OUTCOMES, staff_short
from .solve import Solution, SolveOptions, Solver

RULE_AIMS = {  # aim name: (the rule's row family, step in words, the words for one step)
    "universal_floor": ("universal_core_offer", 0.01, "each percentage point on the universal "
                        "floor"),
    "enhanced_uplift": ("enhanced_support_uplift", 0.1, "each 10 points on the enhanced uplift"),
    "need_gradient": ("need_gradient", 0.1, "each 0.1 on the need gradient"),
    "q1_q5_spend_ratio": ("q1_q5_spend_ratio", 0.1, "each 0.1 on the Q1:Q5 ratio"),
}
SWITCH = {"universal_floor": "universal_core_offer", "enhanced_uplift": "enhanced_support_uplift",
          "need_gradient": "need_gradient"}
ACTIVITY_STEP = 100.0  # "each 100 more emergency admissions avoided"
AIM_FORM = re.compile(r"^\s*([a-z_0-9]+)(?:@([0-9/]+))?\s*>=\s*([0-9.eE+-]+)\s*(%?)\s*$")


@dataclass(frozen=True)
class Aim:
    """A rule at a level: `name` >= `level` (an activity aim: in `year`, None the last)."""

    name: str
    level: float
    year: str | None = None

    def __str__(self) -> str:
        at = f"@{self.year}" if self.year else ""
        return f"{self.name}{at}>={self.level:g}"


@dataclass
class Target:
    """The answer to an inverse question (`least_resource`)."""

    resource: str  # "budget" or "wte:<group>"
    aims: tuple[Aim, ...]
    per_year: bool
    status: str  # optimal, infeasible (no amount meets the aims), ...
    amounts: pd.DataFrame = field(default_factory=pd.DataFrame)  # the least resource, rounded up
    least_per_year: float = math.nan  # £ (or WTE) a year on average, before rounding
    marginal: dict = field(default_factory=dict)  # aim -> resource per step of the aim
    words: list[str] = field(default_factory=list)
    allocation: Allocation | None = None  # the forward model solved at the answer
    explanation: object = None  # why no amount meets the aims (the model at a huge resource)

    def record(self) -> dict:
        """The answer for run.json."""
        return {"resource": self.resource, "aims": [str(a) for a in self.aims],
                "per_year": self.per_year, "status": self.status,
                "least_per_year": None if math.isnan(self.least_per_year)
                else self.least_per_year, "amounts": self.amounts.to_dict("records"),
                "marginal_per_step": self.marginal, "words": self.words}


def parse_aim(text: str, inputs: ModelInputs) -> Aim:
    """"q1_q5_spend_ratio>=1.5", "universal_floor>=30%", "nel_avoided@2030/31>=500"."""
    match = AIM_FORM.match(text)
    known = [*RULE_AIMS, *OUTCOMES]
    if not match:
        raise InputError([Problem("--meet", f"'{text}' is not an aim the tool can read",
                                  "Write NAME>=LEVEL, e.g. q1_q5_spend_ratio>=1.5, "
                                  "universal_floor>=0.3 or nel_avoided@2030/31>=500")])
    name, year, number, percent = match.groups()
    problems = []
    if name not in known:
        problems.append(Problem("--meet", f"'{name}' is not a rule or outcome the tool knows",
                                f"Use one of {', '.join(known)}"))
    try:
        level = float(number) / (100.0 if percent else 1.0)
    except ValueError:
        level = math.nan
    if not math.isfinite(level) or level < 0:
        problems.append(Problem("--meet", f"the level in '{text}' must be a number, 0 or more"))
    if year is not None and (name not in OUTCOMES or year not in inputs.years):
        problems.append(Problem("--meet", f"'@{year}' in '{text}': a year goes with an activity "
                                "aim and must be one of the model's years",
                                f"e.g. nel_avoided@{inputs.years[-1]}>=500"))
    if problems:
        raise InputError(problems)
    return Aim(name, level, year)


def with_aims(inputs: ModelInputs, aims: tuple[Aim, ...]) -> ModelInputs:
    """The model with each aim's rule at its level and every rule hard."""
    policy = inputs.policy
    constraints = dict(policy.constraints)
    changes: dict = {"rules_bend": False}
    targets = list(policy.activity_targets)
    for aim in aims:
        if aim.name in OUTCOMES:
            targets.append(ActivityTarget(aim.name, aim.year or inputs.years[-1], aim.level))
            constraints["activity_targets"] = True
        else:
            changes[aim.name] = aim.level
            if aim.name in SWITCH:
                constraints[SWITCH[aim.name]] = True
    return inputs.with_policy(**changes, constraints=constraints,
                              activity_targets=tuple(targets))


def _resource_rows(lp: LinearProgram, inputs: ModelInputs, resource: str) -> tuple:
    """The LP rows the resource limits and the amount each now allows (the budget's by year;
    a staff group's by year and scope): (block, local rows, amounts, labels)."""
    if resource == "budget":
        block = lp.rows.get("budget_limit")
        if block is None:
            raise InputError([Problem("--minimise budget", "the model's budget limit is "
                                      "switched off", "Set constraints.budget_limit = true")])
        return block, np.arange(block.size), inputs.budget_gbp, block.index[["year"]]
    group = resource.split(":", 1)[1]
    block = lp.rows.get("workforce_limit")
    rows = np.zeros(0, dtype=int) if block is None else \
        np.nonzero(block.index["staff_group"].to_numpy() == group)[0]
    if not len(rows):
        limited = sorted(set(inputs.workforce_wte.index.get_level_values(0)))
        raise InputError([Problem("--minimise", f"the staff group '{group}' is not limited in "
                                  "this model: there is no WTE to minimise",
                                  f"Use one of: {', '.join('wte:' + g for g in limited)}"
                                  if limited else "Limit it in [workforce] limited_groups")])
    upper = lp.arrays()["row_upper"][block.start + rows]
    return block, rows, upper, block.index.iloc[rows][["year", "scope"]].reset_index(drop=True)


def resource_lp(inputs: ModelInputs, resource: str, per_year: bool) -> tuple:
    """The hard LP of `inputs` with the resource a variable to minimise (module docstring):
    (lp, its resource columns, the amount each limited row allows now, their labels)."""
    lp = formulate(inputs)
    block, rows, now, labels = _resource_rows(lp, inputs, resource)
    years = len(inputs.years)
    now = np.asarray(now, dtype=float)
    for j in range(len(lp.col_cost)):  # only the resource is in the objective
        lp.col_cost[j] = np.zeros_like(lp.col_cost[j])
    if per_year:
        cols = lp.add_vars("resource", labels.to_dict("list"), lower=0.0, upper=np.inf,
                           cost=-1.0 / years, meaning="what each limited row may use")
        lp.add_entries(block, rows, cols.positions(), -np.ones(len(rows)))
    else:
        cols = lp.add_vars("resource", {"scale": ["all"]}, lower=0.0, upper=np.inf,
                           cost=-now.sum() / years, meaning="the scale of what the rows allow")
        lp.add_entries(block, rows, np.full(len(rows), cols.start), -now)
    lp.row_upper[list(lp.rows).index(block.name)][rows] = 0.0
    return lp, cols, now, labels


def least_resource(inputs: ModelInputs, resource: str, aims: tuple[Aim, ...],
                   per_year: bool = False, options: SolveOptions | None = None) -> Target:
    """The least resource ("budget" or "wte:<group>") meeting `aims` with every rule hard, its
    marginal cost per aim, and the forward model solved at it (module docstring)."""
    options = options or SolveOptions()
    aimed = with_aims(inputs, aims)
    lp, cols, now, labels = resource_lp(aimed, resource, per_year)
    solution = Solver(aimed, options, lp=lp).solve()
    target = Target(resource, aims, per_year, solution.status)
    if not solution.optimal:
        target.words = [f"No {_what(resource)} meets these aims with the model's other rules."]
        if solution.status == "infeasible":
            target.explanation = _why_not(aimed, resource, options)
            target.words += [target.explanation.summary, *target.explanation.lines]
        return target
    values = solution.col_value[cols.start:cols.stop]
    least = values if per_year else values[0] * now
    step = 1.0 if resource == "budget" else 0.01  # rounded up to the £ or 0.01 WTE
    target.least_per_year = -float(solution.objective)
    target.amounts = labels.assign(now=now, least=least, answer=np.ceil(
        np.maximum(least, 0.0) / step - 1e-9) * step)
    target.marginal = marginal_costs(aimed, lp, solution, aims)
    target.allocation = _forward(aimed, resource, target.amounts, options)
    target.words = _words(target, aimed)
    return target


def _what(resource: str) -> str:
    return "budget" if resource == "budget" else f"WTE of {staff_short(resource[4:])}"


def resource_changes(inputs: ModelInputs, resource: str, amounts: pd.DataFrame) -> dict:
    """The policy changes that set the resource to `amounts["answer"]` (by year; a staff
    group's by year and scope)."""
    answer = amounts["answer"].to_numpy(dtype=float)
    if resource == "budget":
        return {"budget_gbp": tuple(float(v) for v in answer), "gbp_per_head": None}
    group = resource[4:]
    available = {g: dict(v) for g, v in (inputs.policy.available_wte or {}).items()}
    by_scope: dict = {}
    for year, scope, value in zip(amounts["year"], amounts["scope"], answer, strict=True):
        by_scope.setdefault(scope, {})[year] = float(value)
    available[group] = {scope: [per_year[y] for y in inputs.years]
                        for scope, per_year in by_scope.items()}
    return {"available_wte": available}


def answer_changes(inputs: ModelInputs, target: Target) -> dict:
    """The policy changes that make the answer the model's settings: each aim's rule at its
    level (switched on) and the resource at its least. Whether rules bend is left as it was:
    at the answer every rule can be met, so the plan is the same either way."""
    aimed = with_aims(inputs, target.aims)
    changes: dict = {"constraints": dict(aimed.policy.constraints)}
    if aimed.policy.activity_targets != inputs.policy.activity_targets:
        changes["activity_targets"] = aimed.policy.activity_targets
    for aim in target.aims:
        if aim.name not in OUTCOMES:
            changes[aim.name] = aim.level
    return {**changes, **resource_changes(inputs, target.resource, target.amounts)}


def _forward(inputs: ModelInputs, resource: str, amounts: pd.DataFrame,
             options: SolveOptions) -> Allocation:
    """The model (aims in, every rule hard) solved at the answer."""
    from .api import allocate

    _, allocation = allocate(inputs.with_policy(**resource_changes(inputs, resource, amounts)),
                             options)
    return allocation


def _why_not(inputs: ModelInputs, resource: str, options: SolveOptions):
    """Why no amount is enough: the model explained at a thousand times the resource."""
    if resource == "budget":
        more = inputs.with_policy(budget_gbp=tuple(1e3 * b for b in inputs.budget_gbp),
                                  gbp_per_head=None)
    else:
        group = resource[4:]
        wte = inputs.workforce_wte.loc[group]
        available = {g: dict(v) for g, v in (inputs.policy.available_wte or {}).items()}
        available[group] = {scope: [1e3 * max(v, 1.0) for v in row]
                            for scope, row in zip(wte.index, wte.to_numpy(), strict=True)}
        more = inputs.with_policy(available_wte=available)
    return explain_infeasible(more, formulate(more), options, check=False)


def marginal_costs(inputs: ModelInputs, lp: LinearProgram, solution: Solution,
                   aims: tuple[Aim, ...]) -> dict[str, float]:
    """Resource per unit of each aim's level at the optimum (module docstring)."""
    x, dual = solution.col_value, solution.row_dual
    out = {}
    for aim in aims:
        if aim.name in OUTCOMES:
            block = lp.rows["activity_target"]
            labels = block.index
            year = aim.year or inputs.years[-1]
            j = np.nonzero((labels["outcome"] == aim.name).to_numpy()
                           & (labels["year"] == year).to_numpy()
                           & (labels["scope"] == "all").to_numpy())[0][-1]
            out[str(aim)] = -float(dual[block.start + j])
            continue
        family = RULE_AIMS[aim.name][0]
        block = lp.rows.get(family)
        if block is None:
            out[str(aim)] = 0.0
            continue
        y = dual[block.start:block.stop]
        out[str(aim)] = -float(y @ _bound_per_level(inputs, lp, x, family))
    return out


def _bound_per_level(inputs: ModelInputs, lp: LinearProgram, x: np.ndarray,
                     family: str) -> np.ndarray:
    """How far each row of the aim's rule moves per unit of its level, at the optimum x."""
    lay = Layout(inputs)
    if family == "universal_core_offer":
        return np.tile(lay.E[np.nonzero(lay.core)[0]], lay.T)
    if family == "need_gradient":
        total = x[lp.columns["spend_total"].start:lp.columns["spend_total"].stop]
        return np.tile(inputs.fair_share.to_numpy(), lay.T) * np.repeat(total, lay.n_pcn)
    rows, cols, vals = lp.entries()
    block = lp.rows[family]
    pick = (rows >= block.start) & (rows < block.stop)
    rows, cols, vals = rows[pick] - block.start, cols[pick], vals[pick]
    if family == "enhanced_support_uplift":  # entry -(1 + u) E[p,r] on a[t,c,r]
        avg = lp.columns["others_spend_per_eligible"]
        on = (cols >= avg.start) & (cols < avg.stop)
        out = np.zeros(block.size)
        out[rows[on]] = -vals[on] / (1.0 + inputs.policy.enhanced_uplift) * x[cols[on]]
        return out
    # q1_q5_spend_ratio: the row is sum_p (w1_p - k (N_1/N_5) w5_p) s[t,p]
    shares = inputs.quintile_shares.to_numpy(dtype=float)
    people = shares.T @ inputs.pcns["population"].to_numpy(dtype=float)
    spend = x[lp.columns["spend_pcn"].start:lp.columns["spend_pcn"].stop].reshape(lay.T, -1)
    return people[0] / people[4] * (spend @ shares[:, 4])


def _words(target: Target, inputs: ModelInputs) -> list[str]:
    wte = target.resource != "budget"
    unit = (lambda v: f"{v:,.2f} WTE") if wte else money
    amounts = target.amounts
    what = "; ".join(f"{r.year}{' in ' + str(r.scope) if wte else ''} {unit(r.answer)}"
                     for r in amounts.itertuples())
    if not target.per_year and amounts["now"].sum() > 0:
        what += (f" ({float(amounts['least'].sum() / amounts['now'].sum()):.4f} x the "
                 f"model's, in every {'year and scope' if wte else 'year'})")
    aims = " and ".join(_aim_words(a) for a in target.aims)
    lines = [f"The least {_what(target.resource)} that meets {aims} with every other rule: "
             f"{what}."]
    for aim in target.aims:
        per_unit = target.marginal.get(str(aim), 0.0)
        if aim.name in OUTCOMES:
            step = ACTIVITY_STEP
            words = f"each {ACTIVITY_STEP:,.0f} more {OUTCOME_LABELS[aim.name]}"
        else:
            _family, step, words = RULE_AIMS[aim.name]
        cost = per_unit * step
        amount = f"{cost:,.2f} WTE" if wte else money(cost)
        words = words[0].upper() + words[1:]
        lines.append(f"{words} costs {amount} a year at this level (a small step; re-run for "
                     "a large one)." if cost > 0 else
                     f"{words} costs nothing more at this level: another rule sets the amount.")
    return lines


def _aim_words(aim: Aim) -> str:
    if aim.name in OUTCOMES:
        return f"{aim.level:,.0f} {OUTCOME_LABELS[aim.name]}{' in ' + aim.year if aim.year else ''}"
    return {"universal_floor": f"a universal floor of {aim.level:.0%}",
            "enhanced_uplift": f"an enhanced uplift of {aim.level:.0%}",
            "need_gradient": f"a need gradient of {aim.level:g}",
            "q1_q5_spend_ratio": f"a Q1:Q5 ratio of spend per head of {aim.level:g}"}[aim.name]

