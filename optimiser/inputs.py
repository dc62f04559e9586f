"""ModelInputs: the validated, indexed tables plus the policy and the sets derived from them.

Loading is the only way in: `load_model(path, scenario)` reads the model file and its tables,
checks everything, and returns a frozen `ModelInputs` or raises one `InputError` listing every
problem. A changed policy is a new object: `inputs.with_policy(need_gradient=0.8)`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import io, schemas
from .equity import QUINTILES, single_quintile_shares
from .errors import Problems, did_you_mean, unknown_code_fix
from .policy import (
    HARD,
    MAX_ACTIVITY,
    MAX_BUDGET_GBP,
    MAX_GBP_PER_HEAD,
    MAX_GBP_PER_UNIT,
    MAX_TIME_LIMIT_SECONDS,
    MAX_WEIGHT,
    ActivityTarget,
    Policy,
    check_keys,
    is_finite_number,
    merge_scenario,
    read_policy,
    scenario_names,
)
from .schemas import (
    BASELINE_COLUMNS,
    COMMISSIONING_BASIS,
    HIGHER_NEED,
    INTERVENTIONS,
    OUTCOMES,
    PCNS,
    PRIORITIES_TABLE,
    QUINTILE_SHARE_COLUMNS,
    STAFF_GROUPS,
    TIERS,
    UNIT_COSTS,
    TableSchema,
)

MAX_WTE = 1e7  # WTE of one staff group in one ICB or place: far above the NHS's whole workforce
TABLE_SCHEMAS: tuple[TableSchema, ...] = (
    PCNS, INTERVENTIONS, STAFF_GROUPS, UNIT_COSTS, HIGHER_NEED, PRIORITIES_TABLE
)


@dataclass(frozen=True)
class ModelInputs:
    """Validated tables (indexed by their ids) and the policy. Never mutated."""

    policy: Policy
    pcns: pd.DataFrame  # index pcn_code, only the PCNs of the model's ICBs
    interventions: pd.DataFrame  # index intervention_id
    staff_groups: pd.DataFrame  # index staff_group
    unit_costs: pd.DataFrame  # index outcome
    priorities: pd.DataFrame  # index priority_id
    higher_need: pd.DataFrame  # index pcn_code, a bool column per priority
    workforce_wte: pd.DataFrame  # index (staff_group, scope_code), a column per year
    source: str = ""  # where the tables came from
    tables_digest: str = ""

    # ---- changing the policy -------------------------------------------------------------
    def with_policy(self, **changes) -> ModelInputs:
        """A new ModelInputs with some policy fields replaced (checked like a model file)."""
        policy = dataclasses.replace(self.policy, **changes)
        problems = Problems()
        check_policy_values(policy, problems)
        workforce = self.workforce_wte
        if {"deployable_share", "annual_growth", "available_wte", "limited_groups",
                "workforce_scope", "years"} & changes.keys():
            workforce = derive_workforce(policy, self.pcns, self.staff_groups, problems)
        check_against_data(policy, self.pcns, self.interventions, problems,
                           self.priorities.index)
        check_rules(policy, self.pcns, self.staff_groups, problems)
        check_commissioning(policy, self.interventions, self.staff_groups, problems)
        problems.raise_if_any()
        return dataclasses.replace(self, policy=policy, workforce_wte=workforce)

    # ---- derived sets and parameters -----------------------------------------------------
    @property
    def years(self) -> tuple[str, ...]:
        return self.policy.years

    @cached_property
    def priority_ids(self) -> tuple[str, ...]:
        """The priorities R, in the order of the priorities table (data, not code: an ICB adds
        its own by adding a row to priorities.csv)."""
        return tuple(self.priorities.index)

    @cached_property
    def priority_weight(self) -> pd.Series:
        """pi_r, the weight of each priority's outcomes: the model file's
        [priority_weights], 1 for a priority it does not name."""
        given = self.policy.priority_weight
        return pd.Series([float(given.get(r, 1.0)) for r in self.priority_ids],
                         index=list(self.priority_ids), dtype=float)

    @cached_property
    def budget_gbp(self) -> np.ndarray:
        p = self.policy
        if p.budget_gbp is not None:
            return np.asarray(p.budget_gbp, dtype=float)
        return np.asarray(p.gbp_per_head, dtype=float) * float(self.pcns["population"].sum())

    @cached_property
    def eligible(self) -> pd.DataFrame:
        """People eligible per PCN and intervention in a year (pcn x intervention).

        eligible[p,i] = population[p, column_i] x prevalence[p, column_i] x cohort_share_i
                        x max_uptake_i
        """
        iv = self.interventions
        pop = self.pcns[list(iv["cohort_population"])].to_numpy(dtype=float)
        prev = np.ones_like(pop)
        has_prev = iv["cohort_prevalence"].ne("").to_numpy()
        if has_prev.any():
            cols = list(iv.loc[has_prev, "cohort_prevalence"])
            prev[:, has_prev] = self.pcns[cols].to_numpy(dtype=float)
        share = (iv["cohort_share"] * iv["max_uptake"]).to_numpy(dtype=float)
        return pd.DataFrame(pop * prev * share, index=self.pcns.index, columns=iv.index)

    @cached_property
    def priority_cohort(self) -> pd.DataFrame:
        """People eligible for a priority (pcn x priority): the largest of its cohorts.

        The cohorts of one priority's interventions overlap (the same older people are in the
        frailty register and the falls cohort), so the largest is used, not the sum.
        """
        eligible = self.eligible
        by_priority = self.interventions["priority_id"]
        out = {r: eligible.loc[:, by_priority == r].max(axis=1) for r in self.priority_ids}
        return pd.DataFrame(out, index=self.pcns.index).fillna(0.0)

    @cached_property
    def risk(self) -> pd.DataFrame:
        """Risk multiplier per PCN and outcome (pcn x outcome), from the PCN's need indices."""
        out = {}
        for o in OUTCOMES:
            column = self.policy.risk_columns.get(o, "")
            out[o] = self.pcns[column].astype(float) if column else pd.Series(
                1.0, index=self.pcns.index)
        return pd.DataFrame(out, index=self.pcns.index)

    @cached_property
    def outcome_weight_gbp(self) -> pd.Series:
        """£ value of one unit of each outcome in the objective."""
        p = self.policy
        weights = {"qaly": p.qaly_gbp}
        for o in OUTCOMES[1:]:
            if o in p.activity_gbp:
                weights[o] = p.activity_gbp[o]
            else:
                weights[o] = float(self.unit_costs.at[o, "unit_cost_gbp"]) * p.cash_releasing_share
        return pd.Series(weights)

    @cached_property
    def unit_cost_gbp(self) -> pd.Series:
        """£ unit cost of each avoided activity (for invest-to-save and reporting)."""
        return self.unit_costs["unit_cost_gbp"].reindex(list(OUTCOMES[1:])).astype(float)

    @cached_property
    def fair_share(self) -> pd.Series:
        """Need-weighted share of total spend per PCN (sums to 1 over the model's PCNs)."""
        weight = self.pcns["population"].astype(float) * self.pcns[self.policy.need_measure]
        return weight / weight.sum()

    @cached_property
    def quintile_shares(self) -> pd.DataFrame:
        """Share of each PCN's people in each national IMD quintile (pcn x quintile 1..5).

        From the columns imd_q1_share..imd_q5_share of the PCN table (each PCN's population
        split by its practices' IMD quintiles, data/README.md); rows sum to 1. A table without
        them (e.g. an uploaded workbook) puts each PCN wholly in its imd_quintile.
        """
        pcns = self.pcns
        if all(c in pcns.columns for c in QUINTILE_SHARE_COLUMNS):
            shares = pcns[list(QUINTILE_SHARE_COLUMNS)].astype(float)
            shares = shares.div(shares.sum(axis=1), axis=0)  # exactly 1 after 6-decimal rounding
            shares.columns = list(QUINTILES)
            return shares
        return single_quintile_shares(pcns["imd_quintile"].astype(int))

    @cached_property
    def equity_weight(self) -> pd.Series:
        """q_p: the PCN's equity weight, the mix of the quintile weights by its people.

        q_p = sum_k share[p,k] x quintile_weight_k, so a PCN with 60% of its people in Q1 and
        40% in Q2 gets 0.6 w_1 + 0.4 w_2 (w_q of a PCN wholly in quintile q without a split).
        """
        weights = np.asarray(self.policy.quintile_weight, dtype=float)
        return pd.Series(self.quintile_shares.to_numpy() @ weights, index=self.pcns.index)

    @cached_property
    def baseline(self) -> pd.DataFrame:
        """Modelled annual activity per PCN before any intervention (pcn x activity outcome).

        Columns are the avoided-activity outcomes (nel_avoided, ed_avoided, bed_days_avoided,
        op_avoided), each holding the activity it is avoided from: emergency admissions, A&E
        attendances, emergency bed days and consultant-led outpatient attendances a year, from
        the PCN table's baseline_* columns. They are 2024/25 counts apportioned to PCNs by
        population x acute need (data/README.md); no growth is sourced, so the same baseline
        stands for every year of the model. A column the table lacks is NaN (no baseline).
        """
        out = {o: (self.pcns[c].astype(float) if c in self.pcns.columns
                   else pd.Series(np.nan, index=self.pcns.index))
               for o, c in BASELINE_COLUMNS.items()}
        return pd.DataFrame(out, index=self.pcns.index)

    def target_pcns(self, target: ActivityTarget) -> pd.Series:
        """Which of the model's PCNs an activity target or aim covers (bool per PCN)."""
        return target_scope(self.pcns, target)

    def target_minimum(self, target: ActivityTarget) -> float:
        """The activity a target needs avoided in its year: its `minimum`, or, for a change
        from baseline c (e.g. -0.35), -c x the scope's annual baseline (no growth is sourced,
        so the 2024/25 baseline stands for the target's year)."""
        if target.change_from_baseline is None:
            return float(target.minimum or 0.0)
        baseline = self.baseline.loc[self.target_pcns(target), target.outcome].sum()
        return -target.change_from_baseline * float(baseline)

    @cached_property
    def wte_per_person(self) -> pd.DataFrame:
        """WTE per person reached (intervention x staff group)."""
        cols = [f"wte_per_1000_{g}" for g in self.staff_groups.index]
        frame = self.interventions.reindex(columns=cols).fillna(0.0) / 1000.0
        frame.columns = list(self.staff_groups.index)
        return frame

    @cached_property
    def scope_of_pcn(self) -> pd.Series:
        column = "icb_code" if self.policy.workforce_scope == "icb" else "place_code"
        return self.pcns[column]

    @cached_property
    def digest(self) -> str:
        """A fingerprint of the tables and the policy: same inputs, same digest."""
        policy = json.dumps(dataclasses.asdict(self.policy), sort_keys=True, default=str)
        return hashlib.sha256((self.tables_digest + policy).encode()).hexdigest()[:16]

    def max_spend(self) -> pd.DataFrame:
        """The most a PCN could spend on each priority in a year (pcn x priority), in £."""
        spend = self.eligible * self.interventions["cost_gbp"]
        return spend.T.groupby(self.interventions["priority_id"]).sum().T.reindex(
            columns=list(self.priority_ids), fill_value=0.0)


# ---- loading ---------------------------------------------------------------------------


def load_model(path: str | Path, scenario: str | None = None, icbs: list[str] | None = None,
               tables: dict[str, pd.DataFrame] | None = None) -> ModelInputs:
    """Read a model file (and a named scenario) and its tables; raise InputError if bad.

    `icbs` replaces the model's ICB selection (e.g. one ICB of a batch over England);
    `tables` reuses tables already read with `read_tables` (a batch reads them once).
    """
    problems = Problems()
    policy = _model_policy(Path(path), scenario, icbs, problems)
    # the model file's problems are listed with the tables' and the references' problems
    return build_inputs(policy, model_data_source(path, policy), problems, tables=tables)


def read_model_policy(path: str | Path, scenario: str | None = None,
                      icbs: list[str] | None = None) -> Policy:
    """The policy of a model file and a named scenario (no tables read); InputError if bad."""
    problems = Problems()
    policy = _model_policy(Path(path), scenario, icbs, problems)
    problems.raise_if_any()
    return policy


def _model_policy(path: Path, scenario: str | None, icbs: list[str] | None,
                  problems: Problems) -> Policy:
    """The policy of a model file, its problems recorded (raises only if the file cannot be
    read at all)."""
    where = f"model file {path.name}"
    raw = io.read_toml(path, problems)
    problems.raise_if_any()
    check_keys(raw, where, problems)
    merged = merge_scenario(raw, scenario, where, problems)
    if icbs is not None:
        if not isinstance(merged.get("model"), dict):
            merged["model"] = {}
        merged["model"]["icbs"] = list(icbs)
    return read_policy(merged, scenario or "base", where, problems)


def model_data_source(path: str | Path, policy: Policy) -> Path:
    """The folder or workbook a model file's `model.data` points at."""
    return (Path(path).parent / policy.data).resolve()


def list_scenarios(path: str | Path) -> list[str]:
    problems = Problems()
    raw = io.read_toml(Path(path), problems)
    problems.raise_if_any()
    return ["base", *scenario_names(raw)]


def read_tables(source: Path, problems: Problems) -> dict[str, pd.DataFrame]:
    """Every table from a folder of CSVs or one workbook, typed; problems recorded.

    Clean tables are cached under the digest of their files (`io.read_cached`): the same
    files are read from the cache, checked against that digest; any change is read afresh.
    """
    names = [schema.name for schema in TABLE_SCHEMAS]
    key = io.tables_key(source, names, [io.__file__, schemas.__file__]) \
        if source.exists() else None
    if key is not None:
        cached = io.read_cached(key)
        if isinstance(cached, dict) and list(cached) == names and all(
                isinstance(cached[n], pd.DataFrame) for n in names):
            return {n: cached[n].copy() for n in names}
    before = len(problems.items)
    tables = _read_tables(source, problems)
    if key is not None and len(problems.items) == before and list(tables) == names:
        io.write_cached(key, tables)
    return tables


def _read_tables(source: Path, problems: Problems) -> dict[str, pd.DataFrame]:
    tables = {}
    if not io.check_data_source(source, problems):
        return tables
    for schema in TABLE_SCHEMAS:
        raw = io.read_raw_table(source, schema, problems)
        if raw is None:
            continue
        where = f"{schema.name}.csv" if source.is_dir() else f"{source.name}, sheet '{schema.name}'"
        typed = io.coerce_table(raw, schema, where, problems)
        if typed is not None:
            tables[schema.name] = typed
    return tables


def tables_fingerprint(tables: dict[str, pd.DataFrame]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(tables[name], index=False).to_numpy().tobytes())
    return digest.hexdigest()


def build_inputs(policy: Policy, source: Path, problems: Problems | None = None,
                 tables: dict[str, pd.DataFrame] | None = None) -> ModelInputs:
    """Cross-check the tables against each other and the policy; derive the sets."""
    problems = problems if problems is not None else Problems()
    if not problems:  # a model file's values were checked as they were read
        check_policy_values(policy, problems)
    if tables is None:
        tables = read_tables(source, problems)
    if set(tables) != {schema.name for schema in TABLE_SCHEMAS}:
        problems.raise_if_any()  # a table missing or unreadable: nothing to cross-check
    pcns_all = tables["pcns"].set_index("pcn_code", drop=False).rename_axis(None)
    if policy.icbs != ("all",):
        known = set(pcns_all["icb_code"])
        for icb in policy.icbs:
            if icb not in known:
                problems.add("model file", f"the ICB code '{icb}' is not in the PCN table",
                             did_you_mean(icb, known) or "Use a 3-character ICB code, e.g. QJ2")
        if not known & set(policy.icbs):
            problems.raise_if_any()  # no PCNs selected: nothing to cross-check
    interventions = tables["interventions"].set_index("intervention_id",
                                                       drop=False).rename_axis(None)
    staff = tables["staff_groups"].set_index("staff_group", drop=False).rename_axis(None)
    unit_costs = tables["unit_costs"].set_index("outcome", drop=False).rename_axis(None)
    priorities = tables["priorities"].set_index("priority_id", drop=False).rename_axis(None)
    _check_age_bands(pcns_all, problems)  # listed with the rest: the sets stay sound
    before = len(problems.items)
    _check_references(pcns_all, interventions, staff, unit_costs, tables["higher_need"],
                      priorities, policy, problems)
    check_commissioning_facts(interventions, problems)
    _check_quintile_shares(tables["pcns"], problems)
    if len(problems.items) > before:
        problems.raise_if_any()  # the tables disagree with each other: the sets are not sound

    if policy.icbs == ("all",):
        pcns = pcns_all
    else:
        pcns = pcns_all[pcns_all["icb_code"].isin(policy.icbs)]
    pcns = pcns.sort_values(["icb_code", "pcn_code"])
    flags = tables["higher_need"]
    flags = flags[flags["pcn_code"].isin(pcns.index)]
    higher_need = (
        flags.pivot_table(index="pcn_code", columns="priority_id", values="higher_need",
                          aggfunc="max")
        .reindex(index=pcns.index, columns=list(priorities.index))
        .fillna(0)
        .astype(bool)
    )
    check_against_data(policy, pcns, interventions, problems, priorities.index)
    check_rules(policy, pcns, staff, problems)
    check_commissioning(policy, interventions, staff, problems)
    workforce = derive_workforce(policy, pcns, staff, problems)
    problems.raise_if_any()
    return ModelInputs(
        policy=policy,
        pcns=pcns,
        interventions=interventions,
        staff_groups=staff,
        unit_costs=unit_costs,
        priorities=priorities,
        higher_need=higher_need,
        workforce_wte=workforce,
        source=str(source),
        tables_digest=tables_fingerprint(tables),
    )


def _check_references(pcns, interventions, staff, unit_costs, flags, priorities, policy,
                      problems) -> None:
    """Codes in one table must exist in the others, and the policy's codes in the data."""
    groups = set(staff.index)
    known = list(priorities.index)
    for table, frame in (("interventions.csv", interventions), ("higher_need.csv", flags)):
        ids = frame["priority_id"].astype(str).to_numpy()
        for pos in np.nonzero(~np.isin(ids, known))[0][:5]:
            problems.add(table, f"the priority '{ids[pos]}' is not in the priorities table",
                         did_you_mean(ids[pos], known)
                         or f"Add a row for it to priorities, or use one of {', '.join(known)}",
                         row=pos + 2, column="priority_id", value=ids[pos])
    for col in interventions.columns:
        if col.startswith("wte_per_1000_") and col[len("wte_per_1000_"):] not in groups:
            name = col[len("wte_per_1000_"):]
            problems.add("interventions.csv", f"the staff group '{name}' is not in staff_groups",
                         did_you_mean(name, groups) or "Add it to staff_groups or fix the name",
                         column=col)
    for col in pcns.columns:
        if col.startswith("fte_") and col not in ("fte_admin_other",) and col[4:] not in groups:
            problems.add("pcns.csv", f"the staff group '{col[4:]}' is not in staff_groups",
                         did_you_mean(col[4:], groups), column=col)
    for o in OUTCOMES[1:]:
        if o not in unit_costs.index and o not in policy.activity_gbp:
            problems.add("unit_costs.csv", f"there is no unit cost for '{o}'",
                         f"Add a row for {o}, or set outcome_weights.{o}_gbp in the model file")
    for i, p in enumerate(flags["pcn_code"]):
        if p not in pcns.index:
            problems.add("higher_need.csv", "the PCN code is not in pcns", "Fix or remove the row",
                         row=i + 2, column="pcn_code", value=p)
            break
    for r in known:
        core = interventions[(interventions["priority_id"] == r)]
        if not core.empty and not (core["tier"] == "core").any():
            problems.add("interventions.csv", f"the priority '{r}' has no core-offer intervention",
                         "Mark at least one of its interventions tier = core")
    for base in ("cohort_share", "max_uptake", "cost_gbp", *OUTCOMES):
        lo, mid, hi = (interventions[f"{base}{s}"] for s in ("_low", "", "_high"))
        wrong = interventions.index[(lo > mid + 1e-12) | (mid > hi + 1e-12)]
        for iid in wrong[:5]:
            problems.add("interventions.csv", f"'{base}' low, central and high are out of order",
                         "Make low ≤ central ≤ high", row=interventions.index.get_loc(iid) + 2,
                         column=base, value=(lo[iid], mid[iid], hi[iid]))


AGE_BANDS = ("pop_0_19", "pop_20_39", "pop_40_64", "pop_65_plus")  # they partition a population
NESTED_BANDS = (("pop_50_64", "pop_40_64"), ("pop_75_plus", "pop_65_plus"),
                ("pop_85_plus", "pop_75_plus"))


def _check_age_bands(pcns: pd.DataFrame, problems: Problems) -> None:
    """No age band holds more people than the PCN, or than the band that contains it, and the
    bands 0-19, 20-39, 40-64 and 65+ hold no more than the whole registered population."""
    where = "pcns.csv"
    population = pcns["population"].to_numpy(dtype=float)
    rules = [(f"'{band}' is larger than the whole registered population", band,
              pcns[band].to_numpy(dtype=float), population)
             for band in ("pop_0_19", "pop_20_39", "pop_40_64", "pop_50_64", "pop_65_plus",
                          "pop_75_plus", "pop_85_plus") if band in pcns.columns]
    rules += [(f"'{small}' is larger than '{large}', which contains it", small,
               pcns[small].to_numpy(dtype=float), pcns[large].to_numpy(dtype=float))
              for small, large in NESTED_BANDS if {small, large} <= set(pcns.columns)]
    if set(AGE_BANDS) <= set(pcns.columns):
        total = pcns[list(AGE_BANDS)].to_numpy(dtype=float).sum(axis=1)
        rules.append(("the age bands 0-19, 20-39, 40-64 and 65+ add up to more than the "
                      "registered population", " + ".join(AGE_BANDS), total, population))
    for message, column, part, whole in rules:
        bad = np.nonzero(part > whole)[0]
        for pos in bad[:5]:
            problems.add(where, f"PCN {pcns.index[pos]}: {message} ({part[pos]:,.0f} against "
                         f"{whole[pos]:,.0f})", "Check the PCN's age bands: each counts "
                         "registered people", row=int(pos) + 2, column=column)
        if len(bad) > 5:
            problems.add(where, f"{len(bad) - 5} more PCNs have the same problem", column=column)


def check_commissioning_facts(interventions: pd.DataFrame, problems: Problems) -> None:
    """Delivery level, minimum viable size and set-up cost: each figure given has its basis.

    The columns are optional, so a workbook made before them still loads. Once the
    delivery_level column is there every intervention needs a level; a minimum size needs its
    unit (and a unit its size); every figure given needs the text saying where it comes from,
    and a confidence grade.
    """
    columns = (*COMMISSIONING_BASIS, *COMMISSIONING_BASIS.values(), "min_size_unit",
               "commissioning_confidence")
    filled = {c: _filled(interventions[c]) for c in columns if c in interventions}
    nothing = pd.Series(False, index=interventions.index)

    def report(mask: pd.Series, column: str, message: str, fix: str) -> None:
        for iid in interventions.index[mask.to_numpy()][:10]:
            problems.add("interventions.csv", f"{message} for '{iid}'", fix, column=column,
                         row=interventions.index.get_loc(iid) + 2)

    if "delivery_level" in filled:
        report(~filled["delivery_level"], "delivery_level", "the delivery level is blank",
               "Write pcn, place or icb (who holds the contract), with its source in "
               "delivery_level_basis")
    words = {"delivery_level": "delivery level", "min_size": "minimum size",
             "setup_cost_gbp": "set-up cost"}
    for figure, basis in COMMISSIONING_BASIS.items():
        report(filled.get(figure, nothing) & ~filled.get(basis, nothing), basis,
               f"the {words[figure]} has no source or assumption",
               f"Say in {basis} where it comes from (a source, or an assumption with its "
               "reasoning), or leave the figure blank")
    size, unit = filled.get("min_size", nothing), filled.get("min_size_unit", nothing)
    report(size & ~unit, "min_size_unit", "the minimum size has no unit",
           "Write wte (a team), people (reached a year) or gbp (a contract a year)")
    report(unit & ~size, "min_size", "a unit is given but no minimum size",
           "Give the size, or leave both blank when nothing is known")
    any_fact = pd.concat([filled.get(c, nothing) for c in COMMISSIONING_BASIS], axis=1)
    report(any_fact.any(axis=1) & ~filled.get("commissioning_confidence", nothing),
           "commissioning_confidence", "the delivery level, size or set-up cost has no "
           "confidence grade", "Grade each figure, e.g. 'Medium (level) / Low (size)'")
    if "management" in interventions:
        managed = _filled(interventions["management"])
        basis = (_filled(interventions["management_basis"])
                 if "management_basis" in interventions else nothing)
        report(managed & ~basis, "management_basis", "case or condition management has no "
               "basis", "Say in management_basis why the row counts as case or condition "
               "management (data/INTERVENTIONS.md, section 13), or leave management blank")


def _filled(column: pd.Series) -> pd.Series:
    """True where a cell holds a value (not blank, not a missing number)."""
    if pd.api.types.is_numeric_dtype(column):
        return column.notna()
    return column.fillna("").astype(str).str.strip().ne("")  # object or pandas' str dtype


def _check_quintile_shares(pcns: pd.DataFrame, problems: Problems) -> None:
    """The IMD quintile shares come as all five columns or none, and each row sums to 1."""
    present = [c for c in QUINTILE_SHARE_COLUMNS if c in pcns.columns]
    if not present:
        return
    if len(present) < len(QUINTILE_SHARE_COLUMNS):
        missing = [c for c in QUINTILE_SHARE_COLUMNS if c not in present]
        problems.add("pcns.csv", f"the IMD quintile shares need all five columns: "
                     f"{', '.join(missing)} missing",
                     "Add them, or remove every imd_q*_share column to use imd_quintile alone")
        return
    total = pcns[list(QUINTILE_SHARE_COLUMNS)].astype(float).sum(axis=1)
    wrong = np.flatnonzero((total - 1.0).abs().to_numpy() > 1e-3)
    for pos in wrong[:5]:
        problems.add("pcns.csv", "the IMD quintile shares of a PCN do not add up to 1",
                     "Make imd_q1_share to imd_q5_share sum to 1 (they share out its people)",
                     row=int(pos) + 2, column="imd_q1_share..imd_q5_share",
                     value=round(float(total.iloc[pos]), 6))
    if len(wrong) > 5:
        problems.add("pcns.csv", f"{len(wrong) - 5} more PCNs' IMD quintile shares do not add "
                     "up to 1", "Make each row's five shares sum to 1")


def check_policy_values(policy: Policy, problems: Problems) -> None:
    """Range checks on a policy built in code (the model-file reader checks the same): every
    number finite and in its range, every list the right length, every pot possible."""
    where = "policy"
    _check_finite(policy, problems)
    for name, value, low, high in (
        ("universal_floor", policy.universal_floor, 0, 1),
        ("need_gradient", policy.need_gradient, 0, 1),
        ("discount_rate", policy.discount_rate, 0, 0.2),
        ("cash_releasing_share", policy.cash_releasing_share, 0, 1),
        ("mobilisation_max_growth", policy.mobilisation_max_growth, 0, 1),
        ("continuity_max_fall", policy.continuity_max_fall, 0, 1),
        ("invest_to_save_share", policy.invest_to_save_share, 0, 1),
        ("deployable_share", policy.deployable_share, 0, 1),
        ("annual_growth", policy.annual_growth, -0.5, 1),
        ("qaly_gbp", policy.qaly_gbp, 0, MAX_GBP_PER_UNIT),
    ):
        if not low <= value <= high:
            problems.add(where, f"'{name}' must be between {low:g} and {high:g}", value=value)
    if not -1 <= policy.enhanced_uplift <= 100:
        problems.add(where, "'enhanced_uplift' cannot be below -1 (that would mean negative "
                     "spend) or above 100", "Use 0.25 for 25% more per eligible person",
                     value=policy.enhanced_uplift)
    for series_name, high in (("budget_gbp", MAX_BUDGET_GBP), ("gbp_per_head", MAX_GBP_PER_HEAD)):
        series = getattr(policy, series_name)
        if series is None:
            continue
        if any(not 0 <= b <= high for b in series):
            problems.add(where, f"'{series_name}' cannot be negative (or above {high:,.0f})",
                         "Enter £0 or more", value=list(series))
        if len(series) != len(policy.years):
            problems.add(where, f"'{series_name}' needs one value per year")
    if (policy.budget_gbp is None) == (policy.gbp_per_head is None):
        problems.add(where, "exactly one of 'budget_gbp' and 'gbp_per_head' must be set")
    if len(set(policy.years)) != len(policy.years) or not policy.years:
        problems.add(where, "the years must be listed, each once", value=list(policy.years))
    for o, value in policy.activity_gbp.items():
        if not 0 <= value <= MAX_GBP_PER_UNIT:
            problems.add(where, f"the £ value of '{o}' must be from 0 to {MAX_GBP_PER_UNIT:,.0f}",
                         value=value)
    if any(not 0 <= w <= MAX_WEIGHT for w in policy.priority_weight.values()):
        problems.add(where, "priority weights cannot be negative (or above 1,000,000)")
    if any(not 0 <= w <= MAX_WEIGHT for w in policy.quintile_weight) or len(
            policy.quintile_weight) != 5:
        problems.add(where, "equity weights need 5 values, each from 0 to 1,000,000")
    if policy.time_limit is not None and not 0 < policy.time_limit <= MAX_TIME_LIMIT_SECONDS:
        problems.add(where, f"the time limit must be from 0 to {MAX_TIME_LIMIT_SECONDS:,.0f} "
                     "seconds", value=policy.time_limit)
    for i, fence in enumerate(policy.ring_fences, 1):
        shares = [v for v in (fence.min_share, fence.max_share) if v is not None]
        if not shares:
            problems.add(where, f"ring fence {i} sets neither a minimum nor a maximum share")
        if any(not 0 <= v <= 1 for v in shares):
            problems.add(where, f"ring fence {i}: a share must be from 0 to 1", value=shares)
        if len(shares) == 2 and fence.min_share > fence.max_share:
            problems.add(where, f"ring fence {i}: min_share ({fence.min_share:g}) is above "
                         f"max_share ({fence.max_share:g}), so no spend can meet it",
                         "Make min_share ≤ max_share")
        if fence.tier is not None and fence.tier not in TIERS:
            problems.add(where, f"ring fence {i}: tier must be core or enhanced", value=fence.tier)
    for i, target in enumerate(policy.activity_targets, 1):
        if (target.minimum is None) == (target.change_from_baseline is None):
            problems.add(where, f"activity target {i}: give either a minimum or a change from "
                         "baseline, not both or neither")
        elif target.minimum is not None and not 0 <= target.minimum <= MAX_ACTIVITY:
            problems.add(where, f"activity target {i}: minimum must be from 0 to "
                         f"{MAX_ACTIVITY:,.0f}", value=target.minimum)
        elif target.change_from_baseline is not None and \
                not -1 <= target.change_from_baseline <= 0:
            problems.add(where, f"activity target {i}: the change from baseline must be a fall "
                         "from 0 to -1", value=target.change_from_baseline)
    for i, lock in enumerate(policy.locks, 1):
        if not lock.spend_gbp >= 0:
            problems.add(where, f"lock {i}: spend_gbp must be £0 or more", value=lock.spend_gbp)
    # (a floor that may bend falls short in the first year instead: a plan, not an error)
    if policy.universal_floor > policy.mobilisation_max_growth and policy.on("mobilisation") \
            and policy.on("universal_core_offer") and policy.rank("universal_core_offer") is None:
        problems.add(where, f"the universal floor ({policy.universal_floor:.0%}) is above the "
                     f"most a new service can grow in its first year "
                     f"({policy.mobilisation_max_growth:.0%}), so no allocation can meet it",
                     "Lower equity.universal_floor or raise dynamics.mobilisation_max_growth")


def _check_finite(policy: Policy, problems: Problems) -> None:
    """Every number in the policy is finite (inf and nan are never amounts)."""
    found: list[str] = []

    def visit(name: str, value) -> None:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return
        if isinstance(value, int | float | np.floating | np.integer):
            if not is_finite_number(float(value) if isinstance(value, np.number) else value):
                found.append(name)
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(f"{name}.{key}", item)
        elif isinstance(value, list | tuple | np.ndarray):
            for item in value:
                visit(name, item)
        elif dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                visit(f"{name}.{f.name}", getattr(value, f.name))

    for f in dataclasses.fields(policy):
        visit(f.name, getattr(policy, f.name))
    for name in dict.fromkeys(found):
        problems.add("policy", f"'{name}' must be a finite number",
                     "inf and nan are not amounts: enter the figure itself")


def check_against_data(policy: Policy, pcns: pd.DataFrame, interventions: pd.DataFrame,
                       problems: Problems, priorities) -> None:
    """Every code the policy names is in the model: priorities, ICBs, PCNs, outcomes, years,
    need columns; each message names the unknown code and the known ones. Locks within caps."""
    where = "model file"
    known = list(priorities)
    icbs = list(dict.fromkeys(pcns["icb_code"])) if len(pcns) else []
    named = [(f"priority_weights.{r}", r) for r in policy.priority_weight]
    named += [(f"ring fence {i}", f.priority) for i, f in enumerate(policy.ring_fences, 1)
              if f.priority is not None]
    named += [(f"lock {i}", lock.priority) for i, lock in enumerate(policy.locks, 1)]
    for what, r in named:
        if r not in known:
            problems.add(where, f"{what}: the priority '{r}' is not in the priorities table",
                         unknown_code_fix(r, known))
    if len(pcns) == 0:
        problems.add(where, "no PCNs are selected", "Check model.icbs")
        return
    for what, icb in [(f"ring fence {i}", f.icb) for i, f in enumerate(policy.ring_fences, 1)] \
            + [(f"activity target {i}", t.icb) for i, t in
               enumerate(policy.activity_targets, 1)]:
        if icb is not None and icb not in icbs:
            problems.add(where, f"{what}: the ICB '{icb}' is not one of the model's ICBs",
                         unknown_code_fix(icb, icbs))
    for i, target in enumerate(policy.activity_targets, 1):
        if target.outcome not in OUTCOMES:
            problems.add(where, f"activity target {i}: the outcome '{target.outcome}' is not "
                         "one the model knows", unknown_code_fix(target.outcome, OUTCOMES))
        if target.year not in policy.years:
            problems.add(where, f"activity target {i}: the year '{target.year}' is not in the "
                         "model's years", unknown_code_fix(target.year, policy.years))
    for i, lock in enumerate(policy.locks, 1):
        for year in lock.years:
            if year not in policy.years:
                problems.add(where, f"lock {i}: the year '{year}' is not in the model's years",
                             unknown_code_fix(year, policy.years))
    if policy.need_measure not in pcns.columns:
        problems.add(where, f"'equity.need_measure' names an unknown column "
                     f"'{policy.need_measure}'", did_you_mean(policy.need_measure, pcns.columns))
    for o, col in policy.risk_columns.items():
        if col and col not in pcns.columns:
            problems.add(where, f"'risk.{o}' names an unknown column '{col}'",
                         did_you_mean(col, pcns.columns) or "Use a need_* column of pcns.csv")
    _check_targets(policy, pcns, problems)
    cost = interventions["cost_gbp"]
    for i, lock in enumerate(policy.locks, 1):
        if lock.priority not in known:
            continue
        if lock.pcn not in pcns.index:
            problems.add(where, f"lock {i}: the PCN '{lock.pcn}' is not among the model's PCNs",
                         unknown_code_fix(lock.pcn, pcns.index))
            continue
        mine = interventions["priority_id"] == lock.priority
        pop = pcns.loc[lock.pcn, list(interventions.loc[mine, "cohort_population"])].to_numpy(
            dtype=float)
        prev = np.array([
            float(pcns.at[lock.pcn, c]) if c else 1.0
            for c in interventions.loc[mine, "cohort_prevalence"]
        ])
        share = (interventions.loc[mine, "cohort_share"] * interventions.loc[mine, "max_uptake"])
        cap = float((pop * prev * share.to_numpy() * cost[mine].to_numpy()).sum())
        if lock.spend_gbp > cap + 1e-6:
            problems.add(where, f"the lock on {lock.priority} in {lock.pcn} "
                         f"(£{lock.spend_gbp:,.0f} a year) is above the most that PCN can spend "
                         f"on it (£{cap:,.0f}, every eligible person reached)",
                         f"Lock at £{cap:,.0f} or less")


def target_scope(pcns: pd.DataFrame, target: ActivityTarget) -> pd.Series:
    """The PCNs an activity target or aim covers (bool per PCN): all, one ICB or one place."""
    if target.place:
        return pcns["place_code"] == target.place
    if target.icb:
        return pcns["icb_code"] == target.icb
    return pd.Series(True, index=pcns.index)


def _check_targets(policy: Policy, pcns: pd.DataFrame, problems: Problems) -> None:
    """Activity targets and aims name the model's ICBs and places, and a change from baseline
    needs a baseline for every PCN in its scope."""
    where = "model file"
    named = [(f"activity target {i}", t) for i, t in enumerate(policy.activity_targets, 1)]
    named += [(f"aim {i}", t) for i, t in enumerate(policy.aims, 1)
              if isinstance(t, ActivityTarget)]
    for what, target in named:
        if target.icb and target.icb not in set(pcns["icb_code"]):
            problems.add(where, f"{what}: the ICB '{target.icb}' is not one of the model's ICBs",
                         did_you_mean(target.icb, set(pcns["icb_code"])))
            continue
        if target.place and target.place not in set(pcns["place_code"]):
            problems.add(where, f"{what}: the place '{target.place}' is not one of the model's "
                         "places", did_you_mean(target.place, set(pcns["place_code"]))
                         or "Use a place_code of pcns.csv")
            continue
        if target.change_from_baseline is None:
            continue
        column = BASELINE_COLUMNS.get(target.outcome)
        if column is None:
            problems.add(where, f"{what}: {target.outcome} has no baseline to change from",
                         "Give a 'minimum' a year instead")
            continue
        values = pcns.loc[target_scope(pcns, target), column] if column in pcns.columns else None
        if values is None or values.isna().any():
            problems.add(where, f"{what}: a change from baseline needs the PCNs' baseline "
                         f"'{column}', which the PCN table lacks"
                         + ("" if values is None else f" for {int(values.isna().sum())} PCNs"),
                         f"Add {column} to the PCN table (data/README.md, activity baselines), "
                         "or give the target as a 'minimum' a year")


def check_commissioning(policy: Policy, interventions: pd.DataFrame, staff: pd.DataFrame,
                        problems: Problems) -> None:
    """[commissioning] against the tables: its staff groups and interventions exist, and the
    intervention table says who holds each contract (delivery_level) when it is on."""
    rules = policy.commissioning
    where = "model file"
    for group in rules.wte_increment:
        if group not in staff.index:
            problems.add(where, f"'commissioning.wte_increment.{group}': the staff group "
                         f"'{group}' is not in the staff groups table",
                         unknown_code_fix(group, list(staff.index)))
    for iid in rules.setup_not_charged:
        if iid not in interventions.index:
            problems.add(where, f"'commissioning.setup_not_charged': the intervention '{iid}' "
                         "is not in the interventions table",
                         unknown_code_fix(iid, list(interventions.index)))
    if rules.wte_increment and "annual_cost_gbp" not in staff:
        problems.add(where, "'commissioning.wte_increment' hires staff in posts, but the staff "
                     "groups table gives no annual_cost_gbp to pay for WTE hired beyond need",
                     "Add annual_cost_gbp (£ a WTE a year) to the staff groups table")
    if rules.on and "delivery_level" not in interventions:
        problems.add(where, "commissioning is on, but the interventions table has no "
                     "delivery_level column, so the tool cannot tell who holds each contract",
                     "Add delivery_level (pcn, place or icb) with its basis to the "
                     "interventions table, or set commissioning.on = false")
    if policy.commissioning.mip_rel_gap < 0 or not 0 <= rules.min_contract_gbp:
        problems.add(where, "'commissioning' gap and minimum contract value cannot be "
                     "negative", value=(rules.mip_rel_gap, rules.min_contract_gbp))


def check_rules(policy: Policy, pcns: pd.DataFrame, staff: pd.DataFrame,
                problems: Problems) -> None:
    """The ranks of rules that bend (each "hard" or a whole number from 1), the £ a WTE costs
    when the workforce may bend (its shortfall is ranked in £), and people in quintiles 1 and 5
    when the Q1:Q5 ratio is set."""
    where = "model file"
    for rule, rank in policy.rule_ranks.items():
        if rank != HARD and not (isinstance(rank, int) and not isinstance(rank, bool)
                                 and rank >= 1):
            problems.add(where, f"'rules.{rule}' must be \"hard\" or a whole number from 1",
                         value=rank)
    if policy.rank("workforce_limit") is not None and "annual_cost_gbp" not in staff:
        problems.add("staff_groups", "the workforce may fall short (rules.workforce_limit has "
                     "a rank), but the staff table gives no annual_cost_gbp to value a WTE in £",
                     "Add annual_cost_gbp to staff_groups, or set rules.workforce_limit = "
                     "\"hard\"")
    ratio = policy.q1_q5_spend_ratio
    if ratio is not None:
        if not ratio >= 0:
            problems.add(where, "'equity.q1_q5_spend_ratio' cannot be negative", value=ratio)
        quintiles = set(pcns["imd_quintile"].astype(int)) if len(pcns) else set()
        if not {1, 5} <= quintiles:
            problems.add(where, "'equity.q1_q5_spend_ratio' compares IMD quintiles 1 and 5, but "
                         "the model's PCNs have no people in "
                         + " or ".join(str(q) for q in (1, 5) if q not in quintiles),
                         "Remove the ratio, or model ICBs with people in both quintiles")


def derive_workforce(policy: Policy, pcns: pd.DataFrame, staff: pd.DataFrame,
                     problems: Problems) -> pd.DataFrame:
    """WTE available per staff group and scope (ICB or place) per year.

    Default: census FTE x deployable share x (1 + annual growth)^(year index), for the groups
    in the PCN census. `workforce.available_wte.<group>.<scope> = value or [per year]` overrides.
    Groups outside `limited_groups` (default: the census groups) are not limited.
    """
    scope_col = "icb_code" if policy.workforce_scope == "icb" else "place_code"
    years = list(policy.years)
    census_groups = [g for g in staff.index if bool(staff.at[g, "in_pcn_census"])]
    limited = list(policy.limited_groups) if policy.limited_groups is not None else census_groups
    for g in limited:
        if g not in staff.index:
            problems.add("model file", f"workforce.limited_groups names an unknown staff group "
                         f"'{g}'", unknown_code_fix(g, staff.index))
    limited = [g for g in limited if g in staff.index]
    scopes = sorted(pcns[scope_col].unique())
    growth = (1.0 + policy.annual_growth) ** np.arange(len(years))
    rows = {}
    for g in limited:
        column = f"fte_{g}"
        census = (pcns.groupby(scope_col)[column].sum() if column in pcns.columns
                  else pd.Series(0.0, index=scopes))
        for s in scopes:
            rows[(g, s)] = float(census.get(s, 0.0)) * policy.deployable_share * growth
    for g, by_scope in (policy.available_wte or {}).items():
        if g not in staff.index:
            problems.add("model file", f"workforce.available_wte names an unknown staff group "
                         f"'{g}'", unknown_code_fix(g, staff.index))
            continue
        if not isinstance(by_scope, dict):
            problems.add("model file", f"workforce.available_wte.{g} must be a table of "
                         f"{scope_col[:-5].upper()} code = WTE")
            continue
        for s, value in by_scope.items():
            if s not in scopes:
                problems.add("model file", f"workforce.available_wte.{g}: '{s}' is not one of "
                             f"the model's {policy.workforce_scope.upper()}s",
                             unknown_code_fix(s, scopes))
                continue
            values = value if isinstance(value, list) else [value] * len(years)
            if len(values) != len(years) or any(
                    not is_finite_number(v) or not 0 <= v <= MAX_WTE for v in values):
                problems.add("model file", f"workforce.available_wte.{g}.{s} must be WTE from 0 "
                             f"to {MAX_WTE:,.0f}, one number or one per year", value=value)
                continue
            rows[(g, s)] = np.asarray(values, dtype=float)
    if not rows:
        return pd.DataFrame(columns=years, index=pd.MultiIndex.from_tuples(
            [], names=["staff_group", "scope"]), dtype=float)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=years)
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["staff_group", "scope"])
    return frame.sort_index()
