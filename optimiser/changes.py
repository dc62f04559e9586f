"""A scenario's settings in words: what it changed from its base model, number by number.

"Need-gradient dial 0.50 → 0.70", "2026/27 budget £70.0m → £60.0m", "Rule switched off: the
need gradient". Said on the board pack's slides, the workbook's front sheet and in the app,
so a figure is never shown without the settings that made it. Compares two `ModelInputs`
(the base model and the scenario) and reads only their policies and derived budgets and
workforce; no Streamlit.
"""

from __future__ import annotations

import numpy as np

from .formats import money, percent, short_icb, wte
from .inputs import ModelInputs
from .policy import ActivityTarget, Lock, RingFence
from .results import RULE_WORDS
from .schemas import ACTIVITY_OUTCOMES, OUTCOME_LABELS, priority_short, staff_short

ARROW = "→"
QUINTILE_WORDS = {1: "Q1 (most deprived)", 5: "Q5 (least deprived)"}
RULE_NAMES = {  # the switchable rules, as the app's sidebar names them
    **RULE_WORDS,
    "mobilisation": "mobilisation (services grow gradually)",
    "continuity": "continuity (funding falls gradually)",
    "invest_to_save": "invest to save",
}
HANDLED = {  # Policy fields said by a function below (the rest, if changed, generically)
    "budget_gbp", "gbp_per_head", "available_wte", "deployable_share", "limited_groups",
    "qaly_gbp", "activity_gbp", "cash_releasing_share", "priority_weight", "quintile_weight",
    "universal_floor", "enhanced_uplift", "need_gradient", "q1_q5_spend_ratio", "constraints",
    "ring_fences", "activity_targets", "locks", "rules_bend", "icbs", "scenario", "name",
    "description", "time_limit", "commissioning",
}


def settings_changed(base: ModelInputs, inputs: ModelInputs,
                     model_icbs: tuple[str, ...] | None = None) -> list[str]:
    """What `inputs` changed from `base`, a line each, in the order a board reads them.

    `model_icbs`: the model file's own ICBs, when `base` is the model over other ICBs (the
    app's ICB selection), so a different area is said too. Empty when nothing changed.
    """
    old, new = base.policy, inputs.policy
    lines: list[str] = []
    if model_icbs is not None and set(model_icbs) != set(new.icbs):
        names = inputs.pcns.drop_duplicates("icb_code").set_index("icb_code")["icb_name"]
        lines.append("ICBs: " + ", ".join(short_icb(names.get(c, c)) for c in sorted(
            new.icbs, key=lambda c: str(names.get(c, c)))))
    lines += _budget(base, inputs)
    lines += _workforce(base, inputs)
    lines += _values(base, inputs)
    for name, label in (("universal_floor", "Universal floor"),
                        ("enhanced_uplift", "Enhanced uplift")):
        a, b = getattr(old, name), getattr(new, name)
        if not np.isclose(a, b):
            lines.append(f"{label} {percent(a)} {ARROW} {percent(b)}")
    if not np.isclose(old.need_gradient, new.need_gradient):
        lines.append(f"Need-gradient dial {old.need_gradient:.2f} {ARROW} "
                     f"{new.need_gradient:.2f}")
    if old.q1_q5_spend_ratio != new.q1_q5_spend_ratio:
        lines.append(f"Least Q1:Q5 ratio of spend per head {_ratio(old.q1_q5_spend_ratio)} "
                     f"{ARROW} {_ratio(new.q1_q5_spend_ratio)}")
    lines += _weights(base, inputs)
    lines += _rules(old, new)
    lines += _listed("Ring fence", old.ring_fences, new.ring_fences,
                     lambda f: _fence(f, inputs))
    lines += _listed("Activity target", old.activity_targets, new.activity_targets,
                     lambda t: _target(t, inputs))
    lines += _listed("Lock", old.locks, new.locks, lambda k: _lock(k, inputs))
    if old.commissioning != new.commissioning:
        a, b = old.commissioning, new.commissioning
        lines.append("Commissionable plan (contracts at least their minimum size) "
                     f"{'on' if a.on else 'off'} {ARROW} {'on' if b.on else 'off'}"
                     + ("" if a.min_contract_gbp == b.min_contract_gbp else
                        f"; smallest contract £{a.min_contract_gbp:,.0f} {ARROW} "
                        f"£{b.min_contract_gbp:,.0f} a year"))
    for field in sorted(set(vars(old)) - HANDLED):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            lines.append(f"{field.replace('_', ' ').capitalize()}: {a} {ARROW} {b}")
    return lines


def _ratio(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


def _budget(base: ModelInputs, inputs: ModelInputs) -> list[str]:
    a, b = base.budget_gbp, inputs.budget_gbp
    if len(a) != len(b):
        return [f"Budget: {money(a.sum())} {ARROW} {money(b.sum())} in all"]
    moved = [(year, x, y) for year, x, y in zip(inputs.years, a, b, strict=True)
             if abs(x - y) > 500.0]
    if len(moved) == 1:
        year, x, y = moved[0]
        return [f"{year} budget {money(x)} {ARROW} {money(y)}"]
    if moved:
        return ["Budget: " + ", ".join(f"{year} {money(x)} {ARROW} {money(y)}"
                                       for year, x, y in moved)]
    return []


def _workforce(base: ModelInputs, inputs: ModelInputs) -> list[str]:
    """Each staff group's WTE available in the first year it changed (the first year of the
    model, as the sidebar shows it, when that changed), and how many later years changed too."""

    def by_year(i: ModelInputs):
        wte_table = i.workforce_wte
        if not len(wte_table):
            return {}
        return {g: row for g, row in wte_table.groupby(level="staff_group").sum().iterrows()}

    a, b = by_year(base), by_year(inputs)
    lines = []
    for group in dict.fromkeys([*a, *b]):
        x, y = a.get(group), b.get(group)
        name = staff_short(group).capitalize()
        if x is None or y is None:
            year = inputs.years[0]
            said = (f"{wte(x[year])} WTE" if x is not None else "not limited",
                    f"{wte(y[year])} WTE" if y is not None else "not limited")
            lines.append(f"{name} available in {year}: {said[0]} {ARROW} {said[1]}")
            continue
        moved = [t for t in inputs.years if t in x and t in y and abs(x[t] - y[t]) >= 0.05]
        if not moved:
            continue
        year = moved[0]
        more = len(moved) - 1
        lines.append(f"{name} available in {year}: {wte(x[year])} WTE {ARROW} {wte(y[year])} WTE"
                     + (f" (and {more} later year{'s' if more > 1 else ''})" if more else ""))
    return lines


def _values(base: ModelInputs, inputs: ModelInputs) -> list[str]:
    a, b = base.outcome_weight_gbp, inputs.outcome_weight_gbp
    lines = []
    if not np.isclose(a["qaly"], b["qaly"]):
        lines.append(f"Value of a QALY £{a['qaly']:,.0f} {ARROW} £{b['qaly']:,.0f}")
    for outcome in ACTIVITY_OUTCOMES:
        if not np.isclose(a[outcome], b[outcome]):
            what = OUTCOME_LABELS[outcome].removesuffix(" avoided")
            lines.append(f"Value of each of the {what} avoided £{a[outcome]:,.2f} {ARROW} "
                         f"£{b[outcome]:,.2f}")
    return lines


def _weights(base: ModelInputs, inputs: ModelInputs) -> list[str]:
    lines = []
    a, b = base.priority_weight, inputs.priority_weight
    for r in inputs.priority_ids:
        if r in a.index and not np.isclose(a[r], b[r]):
            lines.append(f"Priority weight, {priority_short(r)}: {a[r]:g} {ARROW} {b[r]:g}")
    old, new = base.policy.quintile_weight, inputs.policy.quintile_weight
    for k, (x, y) in enumerate(zip(old, new, strict=True), start=1):
        if not np.isclose(x, y):
            lines.append(f"Equity weight, {QUINTILE_WORDS.get(k, f'Q{k}')}: {x:g} {ARROW} {y:g}")
    return lines


def _rules(old, new) -> list[str]:
    lines = []
    for rule in dict.fromkeys([*old.constraints, *new.constraints]):
        if old.on(rule) != new.on(rule):
            state = "on" if new.on(rule) else "off"
            lines.append(f"Rule switched {state}: {RULE_NAMES.get(rule, rule.replace('_', ' '))}")
    if old.rules_bend != new.rules_bend:
        lines.append("Every rule hard (no rule bends)" if not new.rules_bend
                     else "Rules bend in the model's order when they cannot all be met")
    return lines


def _listed(what: str, old: tuple, new: tuple, words) -> list[str]:
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    return ([f"{what} added: {words(x)}" for x in added]
            + [f"{what} removed: {words(x)}" for x in removed])


def _priority(r: str | None) -> str:
    return priority_short(r) if r else "all priorities"


def _fence(fence: RingFence, inputs: ModelInputs) -> str:
    pot = _priority(fence.priority)
    if fence.tier:
        pot += f", {'universal core offer' if fence.tier == 'core' else 'enhanced support'}"
    if fence.icb:
        pot += f", {_icb(fence.icb, inputs)}"
    bounds = []
    if fence.min_share is not None:
        bounds.append(f"at least {fence.min_share * 100:g}%")
    if fence.max_share is not None:
        bounds.append(f"at most {fence.max_share * 100:g}%")
    return f"{pot} {' and '.join(bounds)} of each year's budget"


def _target(target: ActivityTarget, inputs: ModelInputs) -> str:
    where = f" in {_icb(target.icb, inputs)}" if target.icb else ""
    return (f"at least {target.minimum:,.0f} {OUTCOME_LABELS[target.outcome]} in "
            f"{target.year}{where}")


def _lock(lock: Lock, inputs: ModelInputs) -> str:
    pcns = inputs.pcns
    name = str(pcns.at[lock.pcn, "pcn_name"]) if lock.pcn in pcns.index else lock.pcn
    years = f" in {', '.join(lock.years)}" if lock.years else " a year"
    return f"{name}, {priority_short(lock.priority)}: {money(lock.spend_gbp)}{years}"


def _icb(code: str, inputs: ModelInputs) -> str:
    pcns = inputs.pcns
    names = pcns.loc[pcns["icb_code"] == code, "icb_name"]
    return short_icb(names.iloc[0]) if len(names) else code


def scenario_line(name: str, lines: list[str], limit: int = 4) -> str:
    """The scenario and its changes on one line (a slide's subtitle): the first `limit`
    changes, and how many more."""
    if not lines:
        return f"{name}: the model file's own settings"
    shown = "; ".join(lines[:limit])
    more = len(lines) - limit
    return f"{name}: {shown}" + (f"; and {more} more change{'s' if more > 1 else ''}"
                                 if more > 0 else "")
