"""Allocation: the solved numbers as labelled tables, equity metrics, shadow prices in words.

Built from the inputs, the LP's labels and the solver's numbers; never written back into the
inputs. All money is £ at 2024/25 prices, undiscounted, unless a column says otherwise.
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from . import equity
from .formats import money
from .formulation import (
    SOFT_ROWS,
    Layout,
    discount,
    gbp_per_unit,
    outcome_value_per_person,
    row_ranks,
)
from .inputs import ModelInputs
from .lp import LinearProgram
from .schemas import OUTCOME_LABELS, OUTCOMES, staff_short
from .solve import Solution

__version__ = "0.1.0"
CONSTRAINT_FAMILIES = (
    "budget_limit", "ring_fence", "workforce_limit", "universal_core_offer",
    "enhanced_support_uplift", "need_gradient", "mobilisation", "continuity", "activity_target",
)
TOLERANCE = 1e-6
# the weighted value's health and cash-releasing parts, and the cash released (flows)
VALUE_PARTS = ("health_value_gbp", "cash_value_gbp", "cash_released_gbp")
# A rule row counts as short when its gap is above SHORT_ABSOLUTE (in its unit) + SHORT_RELATIVE
# x what it asks: below that it is met to the tolerance the independent check uses.
SHORT_ABSOLUTE, SHORT_RELATIVE = 1e-4, 1e-7
# ... and worth a penny or more: the ordered stages hold each rank at its least + one part in
# 1e9 (optimiser/ordered.py), which the last stage may move to another row ("£1 short" of a
# £2.8m uplift shortfall, once rounded up, was that)
SHORT_GBP = 0.01
RULE_WORDS = {
    "budget_limit": "the budget",
    "workforce_limit": "the workforce available",
    "locks": "the locks",
    "universal_core_offer": "the universal core offer",
    "enhanced_support_uplift": "the enhanced-support uplift",
    "need_gradient": "the need gradient",
    "q1_q5_spend_ratio": "the Q1:Q5 ratio of spend per head",
    "ring_fences": "the ring fences",
    "activity_targets": "the activity targets",
}


def up(value: float, decimals: int = 0) -> str:
    """A count rounded up (people, WTE, activity; `amount_up`): 1,204 or 3.2."""
    return f"{amount_up(max(float(value), 0.0), 10.0 ** -decimals):,.{decimals}f}"


def shortfall_summary(allocation: Allocation) -> dict:
    """Whether every rule is met and, if not, the £ short in all and per rule, in words."""
    by_rule = allocation.shortfall_by_rule.groupby("rule", sort=False)["shortfall_gbp"].sum()
    return {"rules_met": by_rule.empty, "shortfall_gbp": float(by_rule.sum()),
            "rules_short": "; ".join(f"{RULE_WORDS.get(rule, rule)} {money_up(gbp)}"
                                     for rule, gbp in by_rule.items())}


def amount_up(value: float, step: float) -> float:
    """`value` rounded up to a multiple of `step` (a shortfall shown to 0.1 WTE is never less
    than the shortfall): 1.546 WTE -> 1.6, never 1.5."""
    steps = value / step
    # a value that is a whole number of steps but for the solver's tolerance (one part in 1e9
    # and 1e-6 of a step: an ordered stage holds a rank at its least + that) stays where it is
    near = round(steps)
    noise = 1e-9 * abs(steps) + 1e-6
    return (near if abs(steps - near) <= noise else math.ceil(steps)) * step


def money_up(value: float) -> str:
    """A shortfall in £, as `money` writes it but rounded up at the precision shown, so adding
    the amount shown is always enough: £52,553 -> £53k, £1,234,567 -> £1.3m."""
    v = max(float(value), 0.0)
    if v >= 1e6:
        return money(amount_up(v, 1e5))
    if v >= 1e4:
        return money(amount_up(v, 1e3))
    return money(amount_up(v, 1.0))


@dataclass
class Allocation:
    """The result of one solve, as tables."""

    inputs: ModelInputs
    lp: LinearProgram
    solution: Solution
    extra_manifest: dict = field(default_factory=dict)
    explanation: object = None  # an explain.Explanation when the model is infeasible
    # [commissioning] on: the LP's allocation of the same inputs (commissioning off), for the
    # price of commissionability and the services dropped or merged (optimiser/contracts.py)
    compared_with: Allocation | None = None

    @cached_property
    def commissioning(self) -> dict | None:
        """The commissionable plan against the LP (optimiser/contracts.py), when it is on."""
        if not self.inputs.policy.commissioning.on:
            return None
        from .contracts import summary

        return summary(self, self.compared_with)

    @cached_property
    def contracts(self) -> pd.DataFrame | None:
        """Contract x year (optimiser/contracts.py), when commissioning is on."""
        if not self.inputs.policy.commissioning.on or not self.solution.optimal:
            return None
        from .contracts import contracts_table

        return contracts_table(self)

    @property
    def status(self) -> str:
        return self.solution.status

    @property
    def objective(self) -> float | None:
        return self.solution.objective

    # ---- the long table --------------------------------------------------------------------
    @cached_property
    def flows(self) -> dict[str, np.ndarray]:
        """The solution as arrays over (year, eligible PCN x intervention pair), T x M each.

        `people_reached`, `spend_gbp`, `wte_<group>`, each outcome, `weighted_value_gbp` and
        `discounted_value_gbp`; the weighted value's health (QALY) and cash-releasing (activity)
        parts, `health_value_gbp` + `cash_value_gbp` = `weighted_value_gbp`, and the cash the
        avoided activity releases at the model's £ values before priority and equity weights,
        `cash_released_gbp` (data/INTERVENTIONS.md §1.6: report health and cash apart);
        `pcn_pos` and `iv_pos` (length M) say which PCN and intervention each pair is. The
        long table (`detail`) is built from these; a sweep that needs only totals per PCN can
        sum them without it.
        """
        inputs = self.inputs
        lay = Layout(inputs)
        block = self.lp.columns["reached"]
        x = self.solution.col_value[block.start:block.stop].reshape(lay.T, lay.M, lay.K)
        marginal = np.asarray(inputs.policy.marginal_effect)
        people = x.sum(axis=2)  # T x M
        effective = (x * marginal).sum(axis=2)  # people x marginal effect
        out = {"layout": lay, "pcn_pos": lay.pcn_pos, "iv_pos": lay.iv_pos,
               "people_reached": people, "spend_gbp": people * lay.cost}
        wte = inputs.wte_per_person.to_numpy()[lay.iv_pos]  # M x S
        for j, group in enumerate(inputs.staff_groups.index):
            out[f"wte_{group}"] = people * wte[:, j]
        risk = inputs.risk.to_numpy()[lay.pcn_pos]  # M x O
        effects = inputs.interventions[list(OUTCOMES)].to_numpy(dtype=float)[lay.iv_pos]
        for j, o in enumerate(OUTCOMES):
            out[o] = effective * (effects[:, j] * risk[:, j])
        value = outcome_value_per_person(inputs).to_numpy()[lay.pcn_pos, lay.iv_pos]
        out["weighted_value_gbp"] = effective * value
        out["discounted_value_gbp"] = effective * value * discount(inputs)[:, None]
        by_outcome = effects * risk * inputs.outcome_weight_gbp.reindex(list(OUTCOMES)).to_numpy()
        weights = (inputs.interventions["priority_id"].map(inputs.priority_weight).to_numpy(
            dtype=float)[lay.iv_pos] * inputs.equity_weight.to_numpy()[lay.pcn_pos])
        out["health_value_gbp"] = effective * (by_outcome[:, 0] * weights)
        out["cash_released_gbp"] = effective * by_outcome[:, 1:].sum(axis=1)
        out["cash_value_gbp"] = out["cash_released_gbp"] * weights
        return out

    def per_pcn_totals(self, names: list[str]) -> np.ndarray:
        """Each flow in `names` summed over years and interventions, per PCN (P x len(names))."""
        flows = self.flows
        out = np.zeros((len(self.inputs.pcns), len(names)))
        for j, name in enumerate(names):
            np.add.at(out[:, j], flows["pcn_pos"], flows[name].sum(axis=0))
        return out

    @cached_property
    def detail(self) -> pd.DataFrame:
        """year x PCN x intervention: people reached, spend, WTE by staff group, outcomes."""
        inputs = self.inputs
        flows = self.flows
        lay = flows["layout"]
        frame = pd.DataFrame({
            "year": np.repeat(np.array(inputs.years), lay.M),
            "pcn_code": np.tile(inputs.pcns.index.to_numpy()[lay.pcn_pos], lay.T),
            "intervention_id": np.tile(inputs.interventions.index.to_numpy()[lay.iv_pos],
                                       lay.T),
            "priority_id": np.tile(lay.priorities[lay.prio_pos], lay.T),
            "tier": np.tile(np.where(lay.core, "core", "enhanced"), lay.T),
            "eligible": np.tile(lay.E, lay.T),
        })
        names = ["people_reached", "spend_gbp", *self.wte_columns, *OUTCOMES,
                 "weighted_value_gbp", "discounted_value_gbp", *VALUE_PARTS]
        frame = pd.concat([frame, pd.DataFrame({n: flows[n].reshape(-1) for n in names})],
                          axis=1)
        frame = frame[frame["people_reached"] > TOLERANCE]
        return frame.reset_index(drop=True)

    # ---- summaries ---------------------------------------------------------------------------
    def _sum(self, keys: list[str]) -> pd.DataFrame:
        cols = ["people_reached", "spend_gbp", *self.wte_columns, *OUTCOMES, "weighted_value_gbp",
                *VALUE_PARTS]
        return self.detail.groupby(keys, as_index=False)[cols].sum()

    @property
    def wte_columns(self) -> list[str]:
        return [f"wte_{g}" for g in self.inputs.staff_groups.index]

    @cached_property
    def by_pcn_year(self) -> pd.DataFrame:
        """year x PCN, every PCN listed (zero where nothing is spent)."""
        inputs = self.inputs
        grid = pd.MultiIndex.from_product([inputs.years, inputs.pcns.index],
                                          names=["year", "pcn_code"]).to_frame(index=False)
        sums = self._sum(["year", "pcn_code"])
        frame = grid.merge(sums, how="left", on=["year", "pcn_code"]).fillna(0.0)
        return self._per_pcn_columns(frame)

    @cached_property
    def by_pcn(self) -> pd.DataFrame:
        """PCN, averaged over the model's years (a typical year)."""
        frame = self.by_pcn_year.drop(columns=["year"]).groupby("pcn_code", as_index=False)
        numeric = ["people_reached", "spend_gbp", *self.wte_columns, *OUTCOMES,
                   "weighted_value_gbp", *VALUE_PARTS]
        frame = frame[numeric].mean()
        return self._per_pcn_columns(frame)

    def _per_pcn_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        inputs = self.inputs
        info = inputs.pcns[["pcn_name", "icb_code", "icb_name", "place_name", "imd_quintile",
                            "imd_score", "population"]]
        frame = frame.drop(columns=[c for c in info.columns if c in frame.columns])
        frame = frame.merge(info, left_on="pcn_code", right_index=True, how="left")
        eligible = inputs.priority_cohort.sum(axis=1)
        frame["spend_per_head_gbp"] = frame["spend_gbp"] / frame["population"]
        frame["spend_per_eligible_gbp"] = frame["spend_gbp"] / frame["pcn_code"].map(
            eligible).replace(0, np.nan)
        frame["qaly_per_1000"] = 1000 * frame["qaly"] / frame["population"]
        frame["nel_avoided_per_1000"] = 1000 * frame["nel_avoided"] / frame["population"]
        flags = inputs.higher_need
        on = flags[list(inputs.priority_ids)].to_numpy(dtype=bool)
        named = {p: ", ".join(r for r, f in zip(inputs.priority_ids, row, strict=True) if f)
                 for p, row in zip(flags.index, on, strict=True)}  # once per PCN, not per row
        frame["higher_need_priorities"] = frame["pcn_code"].map(named)
        frame["higher_need_count"] = frame["pcn_code"].map(flags.sum(axis=1)).astype(int)
        return frame

    @cached_property
    def by_priority(self) -> pd.DataFrame:
        """year x priority, with the higher-need PCNs' share of each priority's spend."""
        frame = self._sum(["year", "priority_id"])
        flags = self.inputs.higher_need
        detail = self.detail
        stacked = flags.stack()
        stacked.index.names = ["pcn_code", "priority_id"]
        needy = detail.join(stacked.rename("needy"), on=["pcn_code", "priority_id"])["needy"]
        needy = needy.fillna(False).astype(bool).to_numpy()
        hn = detail[needy].groupby(["year", "priority_id"])["spend_gbp"].sum()
        frame["higher_need_spend_gbp"] = [hn.get((y, r), 0.0) for y, r in
                                          zip(frame["year"], frame["priority_id"], strict=True)]
        return frame

    @cached_property
    def higher_need_comparison(self) -> pd.DataFrame:
        """Per year, ICB and priority, as the enhanced-support rule measures it: spend per
        eligible person in the ICB's higher-need PCNs for the priority against its other PCNs.

        Spend per eligible person on a priority in a PCN is the PCN's spend on all the
        priority's interventions divided by the priority's cohort there (the largest eligible
        cohort among its interventions, `ModelInputs.priority_cohort`). `other_per_eligible_gbp`
        is the other PCNs' spend over their cohorts (PCNs with no cohort left out, as in the
        rule); `ratio` is the higher-need PCNs' average over it; `lowest_pcn_ratio` the lowest
        single higher-need PCN's, which the rule holds at `rule_ratio` = 1 + uplift or more.
        """
        frame = self.higher_need_frame()
        frame = frame[frame["cohort"] > 0]
        keys = ["year", "icb_code", "priority_id"]
        hn = frame[frame["flag"]].groupby(keys)
        others = frame[~frame["flag"]].groupby(keys)[["spend_gbp", "cohort"]].sum()
        out = hn[["spend_gbp", "cohort"]].sum().join(
            others.rename(columns=lambda c: f"{c}_other"), how="inner")
        out = out[out["cohort_other"] > 0]
        out["higher_need_pcns"] = hn.size().reindex(out.index).astype(int)
        out["higher_need_per_eligible_gbp"] = out["spend_gbp"] / out["cohort"]
        out["other_per_eligible_gbp"] = out["spend_gbp_other"] / out["cohort_other"]
        per_pcn = frame[frame["flag"]].assign(each=lambda f: f["spend_gbp"] / f["cohort"])
        lowest = per_pcn.groupby(keys)["each"].min().reindex(out.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["ratio"] = out["higher_need_per_eligible_gbp"] / out["other_per_eligible_gbp"]
            out["lowest_pcn_ratio"] = lowest / out["other_per_eligible_gbp"]
        policy = self.inputs.policy
        out["rule_ratio"] = 1.0 + policy.enhanced_uplift if policy.on(
            "enhanced_support_uplift") else np.nan
        out = out.reset_index()
        names = self.inputs.pcns.drop_duplicates("icb_code").set_index("icb_code")["icb_name"]
        out.insert(2, "icb_name", out["icb_code"].map(names))
        return out[["year", "icb_code", "icb_name", "priority_id", "higher_need_pcns",
                    "higher_need_per_eligible_gbp", "other_per_eligible_gbp", "ratio",
                    "lowest_pcn_ratio", "rule_ratio"]]

    @cached_property
    def higher_need_pooled(self) -> pd.DataFrame:
        """Per year and priority, every ICB's PCNs pooled: not what the rule measures (each
        ICB's higher-need PCNs are held against its own other PCNs), so a pooled ratio can be
        below 1 + uplift where every ICB meets it."""
        frame = self.higher_need_frame()
        rows = []
        for (year, r), group in frame.groupby(["year", "priority_id"], sort=False):
            f, c, s = (group[k].to_numpy() for k in ("flag", "cohort", "spend_gbp"))
            hn = s[f].sum() / c[f].sum() if c[f].sum() else np.nan
            other = s[~f].sum() / c[~f].sum() if c[~f].sum() else np.nan
            rows.append({"year": year, "priority_id": r, "higher_need_pcns": int(f.sum()),
                         "higher_need_per_eligible_gbp": hn, "other_per_eligible_gbp": other,
                         "ratio": hn / other if other else np.nan})
        return pd.DataFrame(rows, columns=["year", "priority_id", "higher_need_pcns",
                                           "higher_need_per_eligible_gbp",
                                           "other_per_eligible_gbp", "ratio"])

    def higher_need_frame(self) -> pd.DataFrame:
        """year x PCN x priority: spend, the priority's cohort, higher-need flag, ICB."""
        inputs = self.inputs
        spend = self.spend_priority()
        key = pd.MultiIndex.from_arrays([spend["pcn_code"], spend["priority_id"]])
        return spend.assign(
            flag=inputs.higher_need.stack().reindex(key).fillna(False).to_numpy(dtype=bool),
            cohort=inputs.priority_cohort.stack().reindex(key).fillna(0.0).to_numpy(float),
            icb_code=spend["pcn_code"].map(inputs.pcns["icb_code"]).to_numpy())

    def spend_priority(self) -> pd.DataFrame:
        """year x PCN x priority spend (every combination)."""
        block = self.lp.columns["spend_priority"]
        values = self.solution.col_value[block.start:block.stop]
        frame = block.index.rename(columns={"pcn": "pcn_code", "priority": "priority_id"}).copy()
        frame["spend_gbp"] = values
        return frame

    @cached_property
    def by_icb(self) -> pd.DataFrame:
        return self._by_area("icb_code", "icb_name")

    @cached_property
    def by_place(self) -> pd.DataFrame:
        return self._by_area("place_code", "place_name")

    def _by_area(self, code: str, name: str) -> pd.DataFrame:
        pcns = self.inputs.pcns
        frame = self.by_pcn_year.copy()
        frame[code] = frame["pcn_code"].map(pcns[code])
        frame[name] = frame["pcn_code"].map(pcns[name])
        numeric = ["population", "spend_gbp", *self.wte_columns, *OUTCOMES, "weighted_value_gbp",
                   *VALUE_PARTS]
        out = frame.groupby(["year", code, name], as_index=False)[numeric].sum()
        out["spend_per_head_gbp"] = out["spend_gbp"] / out["population"]
        return out

    @cached_property
    def by_quintile(self) -> pd.DataFrame:
        """year x national IMD quintile, counting people, not PCNs.

        Each PCN's population, spend, outcomes and value are shared across the quintiles by the
        share of its people in each (`inputs.quintile_shares`): spend and outcomes per head are
        taken as the same for everyone in a PCN. Quintiles with nobody in the model are left out.
        """
        frame = self.by_pcn_year
        numeric = ["population", "spend_gbp", *OUTCOMES, "weighted_value_gbp"]
        shares = self.inputs.quintile_shares
        parts = []
        for year, part in frame.groupby("year", sort=False):
            split = equity.split_by_quintile(part[numeric], shares.loc[part["pcn_code"]])
            parts.append(split.reset_index().assign(year=year))
        out = pd.concat(parts, ignore_index=True)[["year", "imd_quintile", *numeric]]
        out = out[out["population"] > 0].reset_index(drop=True)
        out["spend_per_head_gbp"] = out["spend_gbp"] / out["population"]
        out["qaly_per_1000"] = 1000 * out["qaly"] / out["population"]
        out["value_per_head_gbp"] = out["weighted_value_gbp"] / out["population"]
        return out

    @cached_property
    def equity_metrics(self) -> dict[str, float]:
        """Q1:Q5 ratios, slope and concentration indices of spend and outcome per head.

        By people: each PCN's population is shared across the IMD quintiles by its people
        split (`inputs.quintile_shares`), its value per head the same for all (equity.summary).
        """
        frame = self.by_pcn
        per_head = pd.DataFrame({
            "spend_per_head": frame["spend_per_head_gbp"].to_numpy(),
            "value_per_head": (frame["weighted_value_gbp"] / frame["population"]).to_numpy(),
            "qaly_per_head": (frame["qaly"] / frame["population"]).to_numpy(),
        })
        shares = self.inputs.quintile_shares.loc[frame["pcn_code"]]
        return equity.summary(per_head, frame["population"], shares)

    @cached_property
    def totals(self) -> dict[str, float]:
        d = self.detail
        years = len(self.inputs.years)
        out = {
            "objective_gbp": float(self.objective or 0.0),
            "spend_gbp": float(d["spend_gbp"].sum()),
            "budget_gbp": float(self.inputs.budget_gbp.sum()),
            "people_reached": float(d["people_reached"].sum()),
            **{o: float(d[o].sum()) for o in OUTCOMES},
            "weighted_value_gbp": float(d["weighted_value_gbp"].sum()),
            **{c: float(d[c].sum()) for c in VALUE_PARTS},
            "wte_used_final_year": float(
                d.loc[d["year"] == self.inputs.years[-1], self.wte_columns].to_numpy().sum()),
            "years": years,
        }
        return out

    @cached_property
    def progress(self) -> pd.DataFrame:
        """Progress against the model's activity targets and aims: baseline, needed, achieved,
        share of the way, the library's ceiling, in words (ambitions.progress)."""
        from .ambitions import progress

        return progress(self)

    # ---- constraints and shadow prices ---------------------------------------------------------
    @cached_property
    def constraints(self) -> pd.DataFrame:
        """Every policy row: activity, bounds, slack, shadow price (£ of objective per unit).

        When the rules bent, a row's activity is the plan's own, without its shortfall (its
        slack is then negative), and its shadow price is the last stage's, every rank's
        shortfall held at its least (optimiser/ordered.py)."""
        sol, lp = self.solution, self.lp
        arrays = lp.arrays()
        frames = []
        if not sol.optimal:  # no solution values: no activity or shadow prices to report
            lp = LinearProgram()
        for name, block in lp.rows.items():
            if name not in CONSTRAINT_FAMILIES:
                continue
            sl = slice(block.start, block.stop)
            frame = block.index.copy()
            label_cols = list(frame.columns)
            frame.insert(0, "constraint", name)
            what = pd.Series("", index=frame.index)
            for j, col in enumerate(label_cols):
                what = what + ("" if j == 0 else ", ") + frame[col].astype(str)
            frame["what"] = what
            frame["activity"] = sol.row_value[sl] - self._shortfall_in_rows(name, block)
            frame["lower"] = arrays["row_lower"][sl]
            frame["upper"] = arrays["row_upper"][sl]
            frame["slack"] = np.minimum(frame["activity"] - frame["lower"],
                                        frame["upper"] - frame["activity"])
            frame["shadow_price"] = sol.row_dual[sl]
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["constraint", "what", "activity", "lower", "upper",
                                         "slack", "shadow_price", "binding", "in_words"])
        frame = pd.concat(frames, ignore_index=True)
        scale = np.maximum(1.0, np.abs(np.where(np.isfinite(frame["upper"]), frame["upper"],
                                                frame["lower"])))
        frame["binding"] = (np.abs(frame["shadow_price"]) > 1e-7) & (
            frame["slack"] <= 1e-6 * scale)
        frame["in_words"] = ""  # a row without a shadow price has nothing to say
        priced = np.abs(frame["shadow_price"].to_numpy()) > 1e-7
        frame.loc[priced, "in_words"] = [self._words(row)
                                         for row in frame[priced].itertuples(index=False)]
        return frame

    def _shortfall_in_rows(self, family: str, rows) -> np.ndarray:
        """Each row's shortfall term (sign x z) when the rules bent, so that a row's activity
        is the plan's own (a row short of its rule shows a negative slack)."""
        out = np.zeros(rows.size)
        z = self.lp.columns.get(f"shortfall_{family}")
        if z is not None:
            soft = np.nonzero(~np.isnan(row_ranks(Layout(self.inputs), family, rows.size)))[0]
            out[soft] = SOFT_ROWS[family][2] * self.solution.col_value[z.start:z.stop]
        return out

    @cached_property
    def binding(self) -> pd.DataFrame:
        frame = self.constraints
        frame = frame[frame["binding"]].copy()
        frame["abs_price"] = frame["shadow_price"].abs()
        return frame.sort_values(["constraint", "abs_price"], ascending=[True, False]).drop(
            columns="abs_price")

    def _words(self, row) -> str:
        price = row.shadow_price
        name = row.constraint
        if abs(price) <= 1e-7:
            return ""
        inputs = self.inputs
        what = row.what
        if name == "budget_limit":
            return (f"One more £1m in {what} buys {money(price * 1e6)} of weighted outcome "
                    f"(discounted to {inputs.years[0]}).")
        if name == "workforce_limit":
            year, group, scope = what.split(", ")
            group_name = str(inputs.staff_groups.at[group, "name"]).lower()
            return (f"One more WTE of {group_name} in {self.scope_name(scope)} in {year} "
                    f"buys {money(price)} of weighted outcome.")
        if name == "universal_core_offer":
            return (f"The core-offer floor ({what}) costs {money(-price)} of weighted outcome "
                    "per extra person it requires.")
        if name == "need_gradient":
            return (f"The need gradient for {what} costs {money(-price)} of weighted outcome per "
                    "extra £1 it directs there.")
        if name == "enhanced_support_uplift":
            return (f"The enhanced-support uplift ({what}) costs {money(-price)} of weighted "
                    "outcome per extra £1 it requires.")
        if name == "mobilisation":
            return (f"Letting the service grow faster ({what}) would add {money(price)} of "
                    "weighted outcome per extra person.")
        if name == "continuity":
            return (f"Keeping last year's service ({what}) costs {money(-price)} of weighted "
                    "outcome per person kept.")
        if name == "ring_fence":
            side = "minimum" if row.activity - row.lower <= row.upper - row.activity else "maximum"
            return (f"The ring-fence {side} ({what}) changes weighted outcome by {money(price)} "
                    "per £1 moved.")
        if name == "activity_target":
            year, outcome, scope = what.split(", ")
            where = "" if scope == "all" else f" in {self.scope_name(scope)}"
            return (f"The target for {OUTCOME_LABELS.get(outcome, outcome)}{where} in {year} "
                    f"costs {money(-price)} of weighted outcome per extra one avoided.")
        return ""

    def scope_name(self, code: str) -> str:
        pcns = self.inputs.pcns
        if code in set(pcns["icb_code"]):
            return str(pcns.loc[pcns["icb_code"] == code, "icb_name"].iloc[0])
        if code in set(pcns["place_code"]):
            return str(pcns.loc[pcns["place_code"] == code, "place_name"].iloc[0])
        return code

    def shadow_prices_in_words(self, top: int = 10) -> list[str]:
        """The most valuable binding limits, in words, largest first within resources first."""
        frame = self.binding
        lines = []
        for family in ("budget_limit", "workforce_limit"):
            part = frame[frame["constraint"] == family]
            part = part.reindex(part["shadow_price"].abs().sort_values(ascending=False).index)
            lines += list(part["in_words"].head(top))
        rules = frame[~frame["constraint"].isin(["budget_limit", "workforce_limit"])]
        cost = rules.groupby("constraint")["shadow_price"].agg(["count"])
        for family, row in cost.iterrows():
            lines.append(f"{int(row['count'])} {family.replace('_', ' ')} rule(s) bind.")
        return lines

    # ---- rules that fell short -----------------------------------------------------------------
    @cached_property
    def shortfalls(self) -> pd.DataFrame:
        """Every rule row the plan falls short of (none when every rule is met).

        One row each: `rule` (its key in [rules]), `rank`, `year`, `where` (its other labels in
        words; one column each too, as the rule has them: `pcn_code`, `intervention_id`,
        `priority_id`, `staff_group`, `scope`, `pot`, `outcome`, `lock`), `required` (what the
        rule asks), `achieved` (what the plan gives), `shortfall` (the gap, in `unit`) and
        `shortfall_gbp` (its £ equivalent: a person short of the floor at the service's £ per
        person; a WTE at its annual cost; an activity at its unit cost). Read from the
        solution: the plan's own side of each row, without its shortfall column, against the
        rule.
        """
        sol, lp = self.solution, self.lp
        frames = []
        arrays = lp.arrays() if sol.optimal else {}
        for family, (rule, unit, sign) in SOFT_ROWS.items():
            z = lp.columns.get(f"shortfall_{family}")
            if z is None or not sol.optimal:
                continue
            rows = lp.rows[family]
            lay = Layout(self.inputs)
            soft = np.nonzero(~np.isnan(row_ranks(lay, family, rows.size)))[0]
            at = rows.start + soft
            achieved = sol.row_value[at] - self._shortfall_in_rows(family, rows)[soft]
            required = arrays["row_lower"][at] if sign > 0 else arrays["row_upper"][at]
            short = np.maximum(sign * (required - achieved), 0.0)
            gbp = gbp_per_unit(lay, family, rows.labels)[soft]
            keep = (short > SHORT_ABSOLUTE + SHORT_RELATIVE * np.abs(required)) \
                & ~(short * gbp < SHORT_GBP)  # a £ value not known (NaN): kept
            if not keep.any():
                continue
            frame = z.index[keep].rename(columns={
                "pcn": "pcn_code", "intervention": "intervention_id", "priority": "priority_id"})
            frame.insert(0, "rule", rule)
            frame["required"] = required[keep]
            frame["achieved"] = achieved[keep]
            frame["shortfall"] = short[keep]
            frame["unit"] = (frame["outcome"].map(OUTCOME_LABELS) if family == "activity_target"
                             else unit)
            frame["shortfall_gbp"] = short[keep] * gbp[keep]
            frames.append(frame)
        columns = ["rule", "rank", "year", "where", "shortfall", "unit", "shortfall_gbp",
                   "required", "achieved"]
        if not frames:
            return pd.DataFrame(columns=columns)
        frame = pd.concat(frames, ignore_index=True)
        labels = [c for c in frame.columns if c not in columns]
        frame["where"] = frame[labels].apply(
            lambda r: ", ".join(str(v) for v in r if isinstance(v, str) and v), axis=1)
        return frame[columns + labels]

    @cached_property
    def shortfall_prices(self) -> pd.DataFrame:
        """Per rank that bent: its rules, its least shortfall in £, and the weighted outcome £1
        more of it would buy (the reduced cost of its total, held at its least in the last
        stage: optimiser/ordered.py). Empty when no rule bent."""
        block = self.lp.columns.get("rule_shortfall_gbp")
        if block is None or not self.solution.optimal:
            return pd.DataFrame(columns=["rank", "rules", "shortfall_gbp", "price_per_gbp"])
        frame = block.index.copy()
        frame["shortfall_gbp"] = self.solution.col_value[block.start:block.stop]
        frame["price_per_gbp"] = self.solution.col_dual[block.start:block.stop]
        return frame[frame["shortfall_gbp"] > SHORT_ABSOLUTE].reset_index(drop=True)

    @property
    def rules_met(self) -> bool:
        """Does the plan meet every rule (no shortfall)?"""
        return self.shortfalls.empty

    @cached_property
    def shortfall_by_rule(self) -> pd.DataFrame:
        """rank x rule x year: how many rows fall short and the £ short in all."""
        frame = self.shortfalls
        if frame.empty:
            return pd.DataFrame(columns=["rank", "rule", "year", "rows_short", "shortfall_gbp"])
        return frame.groupby(["rank", "rule", "year"], as_index=False).agg(
            rows_short=("shortfall", "size"), shortfall_gbp=("shortfall_gbp", "sum"))

    @cached_property
    def shortfall_words(self) -> list[str]:
        """Each rule that falls short, a line per year, amounts rounded up: "The universal core
        offer reaches 18.3% of the eligible cohort instead of 20% in 12 PCNs: £1.2m short in
        2026/27." """
        return [self._shortfall_line(rule, str(year), part) for (_rank, rule, year), part
                in self.shortfalls.groupby(["rank", "rule", "year"], sort=True)]

    def _shortfall_line(self, rule: str, year: str, part: pd.DataFrame) -> str:
        policy = self.inputs.policy
        gbp = money_up(part["shortfall_gbp"].sum())
        pcns = part["pcn_code"].nunique() if "pcn_code" in part else 0
        in_pcns = f"in {pcns} PCN{'s' if pcns != 1 else ''}"
        if rule == "universal_core_offer":
            cohort = part["required"] / policy.universal_floor
            least = (part["achieved"] / cohort).min()
            share = part["achieved"].sum() / cohort.sum()
            # in tenths of a percent, rounded down (never overstated) past the stages' own
            # tolerance (a share held at its least + 1e-6 of the floor: ordered.py)
            least, share = (math.floor(v * 1000 + 1e-3) / 10 for v in (least, share))
            reach = (f"{least:.1f}%" if share - least < 0.1
                     else f"at least {least:.1f}% ({share:.1f}% in all)")
            return (f"The universal core offer reaches {reach} of the eligible cohort instead "
                    f"of {policy.universal_floor:.0%} for {len(part):,} service(s) {in_pcns}: "
                    f"{up(part['shortfall'].sum())} people, {gbp} short in {year}.")
        if rule == "enhanced_support_uplift":
            return (f"The enhanced-support uplift ({policy.enhanced_uplift:.0%} more per eligible "
                    f"person in higher-need PCNs) is not reached for {len(part)} priority(ies) "
                    f"{in_pcns}: {gbp} short in {year}.")
        if rule == "need_gradient":
            return (f"The need gradient (each PCN at least {policy.need_gradient:.0%} of its "
                    f"need-weighted fair share) is not reached {in_pcns}: {gbp} short in {year}.")
        if rule == "q1_q5_spend_ratio":
            return (f"Spend per head in the most deprived quintile is short of "
                    f"{policy.q1_q5_spend_ratio:g} times the least deprived's: {gbp} more in "
                    f"quintile 1 would meet it in {year}.")
        if rule == "ring_fences":
            pots = ", ".join(dict.fromkeys(part["pot"].astype(str)))
            return f"The ring fence minimum ({pots}) is {gbp} short in {year}."
        if rule == "activity_targets":
            row = part.iloc[0]
            scope = "" if row["scope"] == "all" else f" in {self.scope_name(row['scope'])}"
            return (f"The target of {up(row['required'])} {row['unit']}{scope} in {year} is met "
                    f"at {math.floor(row['achieved']):,}: {up(row['shortfall'])} short "
                    f"({gbp} at unit cost)." if len(part) == 1 else
                    f"{len(part)} activity targets fall short in {year}: {gbp} at unit cost.")
        if rule == "locks":
            what = "; ".join(f"{r.priority_id} in {self._pcn_name(r.pcn_code)}"
                             for r in part.itertuples())
            return f"The locked spend ({what}) is {gbp} short in {year}."
        if rule == "budget_limit":
            return f"The plan spends {gbp} beyond the {year} budget."
        if rule == "workforce_limit":
            parts = [f"{up(r.shortfall, 1)} WTE of {staff_short(r.staff_group)} in "
                     f"{self.scope_name(r.scope)}" for r in part.itertuples()]
            return (f"The plan needs {'; '.join(parts)} beyond those available in {year} "
                    f"({gbp} a year at their cost).")
        return f"{RULE_WORDS.get(rule, rule).capitalize()}: {gbp} short in {year}."

    def _pcn_name(self, code: str) -> str:
        pcns = self.inputs.pcns
        return str(pcns.at[code, "pcn_name"]) if code in pcns.index else str(code)

    # ---- manifest ------------------------------------------------------------------------------
    @cached_property
    def manifest(self) -> dict:
        import highspy

        sol = self.solution
        policy = self.inputs.policy
        try:
            from importlib.metadata import version
            highs_version = version("highspy")
        except Exception:  # noqa: BLE001 - a missing version string is not fatal
            highs_version = getattr(highspy, "__version__", "unknown")
        return {
            "model": policy.name,
            "scenario": policy.scenario,
            "description": policy.description,
            "icbs": list(policy.icbs),
            "years": list(policy.years),
            "input_digest": self.inputs.digest,
            "data_source": self.inputs.source,
            "status": sol.status,
            "solver_status": sol.solver_status,
            "objective_gbp": sol.objective,
            "iterations": sol.iterations,
            "solve_rounds": sol.rounds,  # more than 1: cross-year rows were added as needed
            "warm_start": sol.warm,
            "retried_cold": sol.retried_cold,  # a warm re-solve without an answer, redone cold
            "build_seconds": round(sol.build_seconds, 4),
            "solve_seconds": round(sol.solve_seconds, 4),
            "variables": self.lp.num_col,
            "rows": self.lp.num_row,
            "versions": {
                "optimiser": __version__,
                "highspy": highs_version,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "pandas": pd.__version__,
            },
            "rules": "ordered" if policy.rules_bend else "hard",
            "rules_met": bool(self.rules_met) if sol.optimal else None,
            "shortfall_gbp": float(self.shortfalls["shortfall_gbp"].sum()),
            "shortfalls": self.shortfall_words,
            "shortfall_by_rule": self.shortfall_by_rule.to_dict("records"),
            "shortfall_prices": self.shortfall_prices.to_dict("records"),
            "explanation": None if self.explanation is None else {
                "summary": self.explanation.summary,
                "lines": self.explanation.lines,
                "relaxed_rules": self.explanation.relaxed_rules,
            },
            **({"commissioning": {k: v for k, v in self.commissioning.items()}}
               if self.commissioning is not None else {}),
            **self.extra_manifest,
        }
