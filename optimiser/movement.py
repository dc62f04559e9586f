"""What changed between two plans, and why, in words: the app's "what changed and why" panel.

`movement(before, after, against, year=None, top=5) -> Movement` compares two solved
allocations (the base model's plan, or the previous plan, and the plan on screen):

* the settings that changed (optimiser/changes.py, number by number);
* the largest moves of money by PCN and by priority (£ a year on average, or in one year),
  largest first, a PCN in only one of the two plans counting as £0 in the other;
* the rules pressing on the plan (binding) in one and not the other, and the change in the
  shortfall of rules that bent: the rule or weight that moved the money;
* whether the two weighted outcomes can be compared: they are £ of outcome under each plan's
  own weights (the value of a QALY, of avoided activity, the priority and equity weights, the
  discount rate), so when these differ, or the plans cover other PCNs, the difference of the
  two is not a gain or loss, and the comparison says so and compares the parts instead.

Pure: pandas only, no Streamlit, no solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .changes import settings_changed
from .formats import money
from .results import RULE_WORDS, Allocation
from .schemas import priority_short

WEIGHT_WORDS = {  # Policy fields that set the weighted outcome's £, as a board names them
    "qaly_gbp": "the value of a QALY",
    "activity_gbp": "the values of avoided hospital activity",
    "cash_releasing_share": "the cash-releasing share",
    "priority_weight": "the priority weights",
    "quintile_weight": "the equity weights by IMD quintile",
    "discount_rate": "the discount rate",
    "marginal_effect": "the response curve (returns per tranche)",
}
MOVE_AT_LEAST_GBP = 500.0  # a move smaller than this is rounding, not a move


@dataclass
class Movement:
    """Two plans compared, in tables and in words."""

    against: str  # "the base model", "the previous plan"
    settings: list[str]  # what the settings changed, a line each
    by_pcn: pd.DataFrame  # pcn_code, pcn_name, before_gbp, after_gbp, change_gbp (largest first)
    by_priority: pd.DataFrame  # priority_id, priority, before_gbp, after_gbp, change_gbp
    comparable: bool  # can the two weighted outcomes be compared?
    warning: str = ""  # why not, when not
    why: list[str] = field(default_factory=list)  # rules that began or stopped pressing
    lines: list[str] = field(default_factory=list)  # the whole comparison in words

    @property
    def same(self) -> bool:
        return not self.settings and self.by_pcn.empty and self.by_priority.empty


def weights_differ(before: Allocation, after: Allocation) -> list[str]:
    """The weights (in words) under which the two weighted outcomes were counted differently."""
    a, b = before.inputs.policy, after.inputs.policy
    return [words for name, words in WEIGHT_WORDS.items()
            if getattr(a, name, None) != getattr(b, name, None)]


def _spend(allocation: Allocation, year: str | None) -> pd.DataFrame:
    frame = allocation.spend_priority()
    if year is not None:
        frame = frame[frame["year"] == year]
        return frame
    years = len(allocation.inputs.years)
    frame = frame.groupby(["pcn_code", "priority_id"], as_index=False)["spend_gbp"].sum()
    frame["spend_gbp"] /= years  # a typical year
    return frame


def _moves(before: pd.DataFrame, after: pd.DataFrame, key: str, top: int) -> pd.DataFrame:
    a = before.groupby(key)["spend_gbp"].sum().rename("before_gbp")
    b = after.groupby(key)["spend_gbp"].sum().rename("after_gbp")
    both = pd.concat([a, b], axis=1).fillna(0.0)
    both["change_gbp"] = both["after_gbp"] - both["before_gbp"]
    both = both[both["change_gbp"].abs() >= MOVE_AT_LEAST_GBP]
    order = both["change_gbp"].abs().sort_values(ascending=False, kind="stable").index
    return both.loc[order].head(top).reset_index()


def _pressing(allocation: Allocation) -> dict[str, int]:
    """Rule -> how many of its places (a PCN, service or year each) press on the plan."""
    if allocation.status != "optimal":
        return {}
    binding = allocation.binding
    return binding.groupby("constraint").size().to_dict() if len(binding) else {}


def _short(allocation: Allocation) -> dict[str, float]:
    """Rule -> £ it falls short in all years (rules that bent)."""
    if allocation.status != "optimal" or allocation.rules_met:
        return {}
    table = allocation.shortfall_by_rule
    if not len(table):
        return {}
    return {str(r): float(v) for r, v in table.groupby("rule")["shortfall_gbp"].sum().items()}


def _why(before: Allocation, after: Allocation) -> list[str]:
    a, b = _pressing(before), _pressing(after)
    lines = []
    began = [r for r in b if r not in a and r in RULE_WORDS]
    ended = [r for r in a if r not in b and r in RULE_WORDS]
    if began:
        lines.append("Now pressing on the plan (binding), and not before: " + ", ".join(
            f"{RULE_WORDS[r]} (in {b[r]:,} place{'s' if b[r] > 1 else ''})" for r in began))
    if ended:
        lines.append("No longer pressing on the plan: " + ", ".join(RULE_WORDS[r]
                                                                    for r in ended))
    sa, sb = _short(before), _short(after)
    for rule in dict.fromkeys([*sa, *sb]):
        x, y = sa.get(rule, 0.0), sb.get(rule, 0.0)
        if abs(y - x) >= MOVE_AT_LEAST_GBP:
            words = RULE_WORDS.get(rule, rule.replace("_", " "))
            lines.append(f"Shortfall on {words}: {money(x)} → {money(y)} in all years")
    return lines


def movement(before: Allocation, after: Allocation, against: str, year: str | None = None,
             top: int = 5, model_icbs: tuple[str, ...] | None = None) -> Movement:
    """Compare the plan `after` with `before` (module docstring)."""
    settings = settings_changed(before.inputs, after.inputs, model_icbs=None)
    if set(before.inputs.policy.icbs) != set(after.inputs.policy.icbs):
        settings = ["Other ICBs: " + ", ".join(sorted(after.inputs.policy.icbs)), *settings]
    spend_a, spend_b = _spend(before, year), _spend(after, year)
    names = pd.concat([before.inputs.pcns["pcn_name"], after.inputs.pcns["pcn_name"]])
    names = names[~names.index.duplicated()]
    by_pcn = _moves(spend_a, spend_b, "pcn_code", top)
    by_pcn.insert(1, "pcn_name", by_pcn["pcn_code"].map(names).fillna(by_pcn["pcn_code"]))
    by_priority = _moves(spend_a, spend_b, "priority_id", top)
    by_priority.insert(1, "priority", by_priority["priority_id"].map(priority_short))
    differ = weights_differ(before, after)
    other_area = set(before.inputs.pcns.index) != set(after.inputs.pcns.index)
    warning = ""
    if differ or other_area:
        reasons = ([f"they are counted with different weights ({', '.join(differ)})"]
                   if differ else []) + (["they cover other PCNs"] if other_area else [])
        warning = ("The two weighted outcomes cannot be compared: " + " and ".join(reasons)
                   + ". Compare the money, QALYs and activity instead.")
    result = Movement(against, settings, by_pcn, by_priority, not warning, warning,
                      _why(before, after))
    result.lines = _lines(result, before, after, year)
    return result


def _lines(m: Movement, before: Allocation, after: Allocation, year: str | None) -> list[str]:
    when = f"in {year}" if year else "a year on average"
    lines = []
    if m.settings:
        lines.append("Settings changed: " + "; ".join(m.settings) + ".")
    else:
        lines.append("No setting changed.")
    if len(m.by_pcn):
        lines.append(f"Largest moves of money by PCN ({when}): " + "; ".join(
            f"{r.pcn_name} {money(r.change_gbp, signed=True)}" for r in m.by_pcn.itertuples())
            + ".")
    if len(m.by_priority):
        lines.append(f"By priority ({when}): " + "; ".join(
            f"{r.priority} {money(r.change_gbp, signed=True)}"
            for r in m.by_priority.itertuples()) + ".")
    if not len(m.by_pcn) and not len(m.by_priority):
        lines.append("No money moved (by more than £500 a year).")
    lines += [f"{line}." for line in m.why]
    if m.comparable and before.objective is not None and after.objective is not None:
        change = float(after.objective) - float(before.objective)
        if np.isfinite(change) and abs(change) >= MOVE_AT_LEAST_GBP:
            lines.append(f"Weighted outcome {money(float(before.objective))} → "
                         f"{money(float(after.objective))} ({money(change, signed=True)}), "
                         "counted with the same weights.")
    elif m.warning:
        lines.append(m.warning)
    return lines
