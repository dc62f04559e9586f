"""Integrity of the intervention library: data/interventions.csv, data/staff_groups.csv and
data/unit_costs.csv (documented in data/INTERVENTIONS.md).

These tests read the shipped files directly, so a hand edit that breaks a rule fails here with
the offending rows named.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from optimiser import InputError, load_model

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

PRIORITIES = {
    "cyp_obesity",
    "cyp_mental_health",
    "multimorbidity",
    "frailty",
    "end_of_life",
    "vaccination_screening",
    "strong_general_practice",
    "outpatient_redesign",
}
# CC3: no higher-need PCNs (seed 001 L696/L730), so universal core offer rows only.
CC3 = "outpatient_redesign"
TIERS = {"core", "enhanced"}
LEVERS = {"reach", "access", "intensity", "coordination", "enablement"}
POPULATION_COLUMNS = {
    "population",
    "pop_0_19",
    "pop_20_39",
    "pop_40_64",
    "pop_50_64",
    "pop_65_plus",
    "pop_75_plus",
    "pop_85_plus",
}
PREVALENCE_COLUMNS = {
    "prev_hypertension",
    "prev_chd",
    "prev_af",
    "prev_heart_failure",
    "prev_stroke_tia",
    "prev_smoking",
}
OUTCOMES = ["qaly", "nel_avoided", "ed_avoided", "bed_days_avoided", "op_avoided"]
AVOIDED = OUTCOMES[1:]
# Commissioning facts (issue 17; data/INTERVENTIONS.md section 11), after the notes column.
COMMISSIONING_COLUMNS = [
    "delivery_level",
    "delivery_level_basis",
    "min_size",
    "min_size_unit",
    "min_size_basis",
    "setup_cost_gbp",
    "setup_cost_basis",
    "commissioning_confidence",
]
DELIVERY_LEVELS = {"pcn", "place", "icb"}
MIN_SIZE_UNITS = {"wte", "people", "gbp"}

# Rows whose best evidence is null (data/INTERVENTIONS.md, "Null effects"): no central benefit.
NULL_EVIDENCE_ROWS = {
    "multimorbidity_review": "3D trial null; pharmacist medication review RR 0.99",
    "frailty_identification": "enabler only, no direct effect",
    "smi_physical_health_checks": "checks alone unproven on outcomes",
    "whole_school_package": "WAVES trial null, QALY ~0",
    "eol_shared_care_record": "effect carried on eol_register_acp (no double counting)",
}

STAFF_BASE_COLUMNS = ["staff_group", "name", "census_roles", "in_pcn_census"]
STAFF_NEW_COLUMNS = [
    "afc_band",
    "annual_cost_gbp",
    "hours_per_wte",
    "price_year",
    "source",
    "confidence",
]
STAFF_GROUP_ORDER = [
    "gp",
    "nurse",
    "clinical_pharmacist",
    "pharmacy_technician",
    "care_coordinator",
    "personalised_care",
    "mental_health_practitioner",
    "allied_health",
    "support_worker",
    "community_nursing",
    "specialist_mental_health",
    "specialist_medical",
]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(
        DATA / name, dtype={"evidence_row": str}, keep_default_na=False, na_values=[""]
    )


def _blank(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip() == ""


@pytest.fixture(scope="module")
def staff() -> pd.DataFrame:
    return _read("staff_groups.csv")


@pytest.fixture(scope="module")
def interventions() -> pd.DataFrame:
    return _read("interventions.csv")


@pytest.fixture(scope="module")
def unit_costs() -> pd.DataFrame:
    return _read("unit_costs.csv").set_index("outcome")


def expected_intervention_columns(staff_groups: list[str]) -> list[str]:
    return (
        [
            "intervention_id",
            "priority_id",
            "name",
            "evidence_row",
            "seed_line",
            "tier",
            "lever",
            "cohort_population",
            "cohort_prevalence",
            "cohort_share",
            "cohort_share_low",
            "cohort_share_high",
            "max_uptake",
            "max_uptake_low",
            "max_uptake_high",
            "cost_gbp",
            "cost_gbp_low",
            "cost_gbp_high",
        ]
        + [f"wte_per_1000_{g}" for g in staff_groups]
        + ["wte_scale_low", "wte_scale_high"]
        + [f"{o}{s}" for o in OUTCOMES for s in ("", "_low", "_high")]
        + ["outcome_horizon", "price_year", "sources", "confidence", "notes"]
        + COMMISSIONING_COLUMNS
        + ["management", "management_basis"]
    )


def ranged_bases() -> list[str]:
    return ["cohort_share", "max_uptake", "cost_gbp", *OUTCOMES]


def offenders(frame: pd.DataFrame, mask: pd.Series) -> list[str]:
    return frame.loc[mask, "intervention_id"].tolist()


# ------------------------------------------------------------------------------ interventions


def test_columns_exist_in_order(interventions, staff):
    assert list(interventions.columns) == expected_intervention_columns(
        staff["staff_group"].tolist()
    )


def test_wte_columns_match_staff_groups_exactly(interventions, staff):
    wte = [
        c.removeprefix("wte_per_1000_")
        for c in interventions.columns
        if c.startswith("wte_per_1000_")
    ]
    assert wte == staff["staff_group"].tolist()


def test_row_count_is_in_the_planned_range(interventions):
    assert 30 <= len(interventions) <= 40


def test_ids_are_unique_snake_case_and_short(interventions):
    ids = interventions["intervention_id"]
    assert ids.is_unique, ids[ids.duplicated()].tolist()
    bad = [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9_]*", i) or len(i) > 32]
    assert not bad, bad


def test_priority_tier_lever_values_allowed(interventions):
    assert set(interventions["priority_id"]) <= PRIORITIES
    assert set(interventions["tier"]) <= TIERS
    assert set(interventions["lever"]) <= LEVERS


def test_every_priority_has_core_and_enhanced_rows(interventions):
    """Enhanced support where the seed names higher-need PCNs; CC3 has none, so core only."""
    tiers = interventions.groupby("priority_id")["tier"].agg(set)
    assert set(tiers.index) == PRIORITIES, "a priority has no rows at all"
    missing = {p: TIERS - t for p, t in tiers.items() if t != TIERS and p != CC3}
    assert not missing, missing
    assert tiers[CC3] == {"core"}


def test_cohort_columns_are_pcn_columns(interventions):
    assert set(interventions["cohort_population"]) <= POPULATION_COLUMNS
    prev = interventions["cohort_prevalence"].dropna()
    assert set(prev) <= PREVALENCE_COLUMNS, set(prev) - PREVALENCE_COLUMNS


def test_cohort_columns_exist_in_pcns_when_built(interventions):
    pcns = DATA / "pcns.csv"
    if not pcns.exists():
        pytest.skip("data/pcns.csv not built")
    header = set(pd.read_csv(pcns, nrows=0).columns)
    used = set(interventions["cohort_population"]) | set(
        interventions["cohort_prevalence"].dropna()
    )
    assert used <= header, used - header


def test_every_figure_is_numeric_and_present(interventions):
    numeric = [
        c
        for c in interventions.columns
        if c.startswith(("cohort_share", "max_uptake", "cost_gbp", "wte_"))
        or c.split("_low")[0].split("_high")[0] in OUTCOMES
    ]
    for col in numeric:
        assert pd.api.types.is_numeric_dtype(interventions[col]), col
        assert interventions[col].notna().all(), (
            col,
            offenders(interventions, interventions[col].isna()),
        )


@pytest.mark.parametrize("base", ranged_bases())
def test_low_le_central_le_high(interventions, base):
    lo, mid, hi = (interventions[f"{base}{s}"] for s in ("_low", "", "_high"))
    bad = offenders(interventions, (lo > mid) | (mid > hi))
    assert not bad, f"{base}: {bad}"


def test_wte_scale_brackets_one(interventions):
    lo, hi = interventions["wte_scale_low"], interventions["wte_scale_high"]
    bad = offenders(interventions, (lo <= 0) | (lo > 1) | (hi < 1))
    assert not bad, bad


@pytest.mark.parametrize("base", ["cohort_share", "max_uptake"])
def test_shares_and_uptakes_are_fractions(interventions, base):
    cols = [f"{base}{s}" for s in ("", "_low", "_high")]
    frame = interventions[cols]
    bad = offenders(interventions, ((frame < 0) | (frame > 1)).any(axis=1))
    assert not bad, bad
    # A zero central share or uptake would make the row unreachable.
    assert (interventions[base] > 0).all(), offenders(interventions, interventions[base] <= 0)


def test_costs_positive(interventions):
    cols = ["cost_gbp", "cost_gbp_low", "cost_gbp_high"]
    bad = offenders(interventions, (interventions[cols] <= 0).any(axis=1))
    assert not bad, bad


def test_wte_non_negative(interventions):
    cols = [c for c in interventions.columns if c.startswith("wte_per_1000_")]
    bad = offenders(interventions, (interventions[cols] < 0).any(axis=1))
    assert not bad, bad


def test_central_outcomes_never_negative(interventions):
    """Central 'avoided' values and QALYs are >= 0; only a low value may be negative
    (virtual ward: more bed days in the pessimistic case)."""
    bad = offenders(interventions, (interventions[OUTCOMES] < 0).any(axis=1))
    assert not bad, bad
    high_cols = [f"{o}_high" for o in OUTCOMES]
    assert (interventions[high_cols] >= 0).all().all()


def test_only_declared_rows_have_negative_lows(interventions):
    low_cols = [f"{o}_low" for o in OUTCOMES]
    negative = set(offenders(interventions, (interventions[low_cols] < 0).any(axis=1)))
    assert negative <= {"virtual_ward"}, negative
    for iid in negative:
        notes = interventions.set_index("intervention_id").at[iid, "notes"]
        assert "negative" in notes.lower(), f"{iid}: a negative low must be explained in notes"


@pytest.mark.parametrize("iid", sorted(NULL_EVIDENCE_ROWS))
def test_null_evidence_rows_claim_no_central_benefit(interventions, iid):
    rows = interventions.set_index("intervention_id")
    assert iid in rows.index, f"{iid} missing ({NULL_EVIDENCE_ROWS[iid]})"
    row = rows.loc[iid]
    assert row["nel_avoided"] == 0 and row["qaly"] == 0, NULL_EVIDENCE_ROWS[iid]
    assert row["ed_avoided"] == 0 and row["bed_days_avoided"] == 0, NULL_EVIDENCE_ROWS[iid]


def test_enabler_and_unproven_rows_have_no_optimistic_benefit_either(interventions):
    rows = interventions.set_index("intervention_id")
    for iid in ("frailty_identification", "smi_physical_health_checks", "eol_shared_care_record"):
        highs = rows.loc[iid, [f"{o}_high" for o in OUTCOMES]]
        assert (highs == 0).all(), iid


def test_overlapping_end_of_life_rows_valued_once(interventions):
    rows = interventions.set_index("intervention_id")
    acp = rows.loc["eol_register_acp", OUTCOMES]
    record = rows.loc["eol_shared_care_record", OUTCOMES]
    assert (acp > 0).any() and (record == 0).all()


def test_only_outpatient_redesign_rows_avoid_outpatient_attendances(interventions):
    """PS1-CC2 rows claim no outpatient effect; CC3 rows are what the -25% ambitions rest on."""
    op = interventions[["op_avoided", "op_avoided_low", "op_avoided_high"]]
    others = interventions["priority_id"] != CC3
    assert (op[others] == 0).all().all(), offenders(interventions, others & (op != 0).any(axis=1))


def test_outpatient_redesign_rows_avoid_attendances_with_their_sources(interventions):
    cc3 = interventions[interventions["priority_id"] == CC3]
    assert len(cc3) >= 2
    assert (cc3["op_avoided"] > 0).all(), cc3[["intervention_id", "op_avoided"]]
    assert (cc3["op_avoided_high"] >= cc3["op_avoided"]).all()
    # each cites a source this library checked (L#) and says where its effect comes from
    assert cc3["sources"].str.contains(r"\bL\d+\b").all()
    assert cc3["notes"].str.contains("Effect").all()
    assert cc3["seed_line"].isin([f"L{n}" for n in range(1054, 1059)]).all()  # seed levers
    assert set(cc3["tier"]) == {"core"} and set(cc3["delivery_level"]) == {"icb"}
    assert (cc3["outcome_horizon"] == "annual").all()


def test_prevalence_used_for_register_cohorts(interventions):
    rows = interventions.set_index("intervention_id")
    assert rows.at["ltc_control_hypertension", "cohort_prevalence"] == "prev_hypertension"
    assert rows.at["smoking_cessation", "cohort_prevalence"] == "prev_smoking"


def test_text_fields(interventions):
    for col in ("sources", "confidence", "name", "notes", "evidence_row", "seed_line"):
        blank = offenders(interventions, interventions[col].fillna("").str.strip() == "")
        assert not blank, (col, blank)
    assert set(interventions["price_year"]) == {"2024/25"}
    assert set(interventions["outcome_horizon"]) <= {"annual", "lifetime"}
    assert interventions["seed_line"].str.fullmatch(r"L\d{3,4}").all()
    # memo rows 1.1-7.3; 8.x are this library's CC3 rows (INTERVENTIONS.md section 8)
    assert interventions["evidence_row"].str.fullmatch(r"[1-8]\.\d").all()


def test_sources_cite_memo_tags(interventions):
    tagged = interventions["sources"].str.contains(r"\bS\d{1,2}\b|\bK\b|\bA\b")
    assert tagged.all(), offenders(interventions, ~tagged)


def test_lifetime_rows_carry_qalys(interventions):
    lifetime = interventions[interventions["outcome_horizon"] == "lifetime"]
    assert (lifetime["qaly_high"] > 0).all(), lifetime["intervention_id"].tolist()


# ---------------------------------------------------------------- commissioning facts (issue 17)


# A source tag ([S12], [K], [A], [L1], "(memo 4.2)", "seed L907") in a basis text.
TAGGED = r"\[(?:S\d+|K|A|L\d+)|\(memo \d|seed L\d+"


def test_every_intervention_has_a_delivery_level_with_its_basis(interventions):
    level, basis = interventions["delivery_level"], interventions["delivery_level_basis"]
    assert set(level) <= DELIVERY_LEVELS, set(level) - DELIVERY_LEVELS
    assert not offenders(interventions, _blank(level) | _blank(basis))
    assert not offenders(interventions, ~basis.str.contains(TAGGED))


def test_every_commissioning_figure_has_its_basis_unit_and_confidence(interventions):
    size, setup = interventions["min_size"], interventions["setup_cost_gbp"]
    unit = interventions["min_size_unit"]
    size_basis, setup_basis = interventions["min_size_basis"], interventions["setup_cost_basis"]
    assert pd.api.types.is_numeric_dtype(size) and pd.api.types.is_numeric_dtype(setup)
    assert not offenders(interventions, size.notna() & (size <= 0))
    assert not offenders(interventions, setup.notna() & (setup < 0))
    assert set(unit.dropna()) <= MIN_SIZE_UNITS
    # a figure has its unit and basis exactly when it is given, and the basis names its source
    assert not offenders(interventions, size.notna() != unit.notna())
    assert not offenders(interventions, size.notna() == _blank(size_basis))
    assert not offenders(interventions, setup.notna() == _blank(setup_basis))
    assert not offenders(interventions, size.notna() & ~size_basis.fillna("").str.contains(TAGGED))
    assert not offenders(interventions, setup.notna() & ~setup_basis.fillna("").str.contains(
        TAGGED))
    grade = interventions["commissioning_confidence"].fillna("")
    every = pd.Series(True, index=size.index)  # every row has a delivery level
    for fact, given in (("(level)", every), ("(size)", size.notna()), ("(set-up)", setup.notna())):
        assert not offenders(interventions, given & ~grade.str.contains(fact, regex=False)), fact


def test_a_minimum_team_from_staffed_hours_is_the_hours_over_a_wte_year(interventions):
    """'one post staffed N hours a year / 1,575 h a WTE' gives min_size = N / 1,575."""
    checked = 0
    for row in interventions.itertuples():
        found = re.search(r"= ([\d,]+) h / 1,575 h a WTE", str(row.min_size_basis))
        if found:
            hours = float(found.group(1).replace(",", ""))
            assert row.min_size_unit == "wte", row.intervention_id
            assert row.min_size == pytest.approx(round(hours / 1575, 2)), row.intervention_id
            checked += 1
    assert checked >= 3


def test_mobilisation_set_up_costs_are_a_quarter_of_the_minimum_team(interventions, staff):
    """The assumed set-up cost: the minimum team paid for three months before it starts."""
    costs = set(staff["annual_cost_gbp"].round().astype(int))
    checked = 0
    for row in interventions.itertuples():
        if not str(row.setup_cost_basis).startswith("one quarter of the minimum team"):
            continue
        found = re.search(r"x £([\d,]+) a WTE", row.setup_cost_basis)
        per_wte = int(found.group(1).replace(",", ""))
        assert per_wte in costs, (row.intervention_id, "not a staff_groups.csv cost")
        assert row.min_size_unit == "wte"
        assert row.setup_cost_gbp == pytest.approx(0.25 * row.min_size * per_wte, abs=5)
        assert "[A" in row.setup_cost_basis  # labelled an assumption
        checked += 1
    assert checked >= 3


def test_place_and_icb_services_are_the_ones_with_teams_and_clinics(interventions):
    """Every minimum size belongs to a service one contract delivers to many PCNs."""
    sized = interventions[interventions["min_size"].notna()]
    assert set(sized["delivery_level"]) <= {"place", "icb"}, sized[
        ["intervention_id", "delivery_level"]]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "data", ignore=shutil.ignore_patterns("*.md", "*.xlsx"))
    (tmp_path / "models").mkdir()
    shutil.copy(ROOT / "models" / "dln_base.toml", tmp_path / "models" / "model.toml")
    return tmp_path


def _edit(folder: Path, iid: str, **values) -> str:
    path = folder / "data" / "interventions.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = frame.index[frame["intervention_id"] == iid][0]
    for column, value in values.items():
        frame.at[row, column] = value
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as caught:
        load_model(folder / "models" / "model.toml")
    return caught.value.report()


@pytest.mark.parametrize(("iid", "values", "said"), [
    ("virtual_ward", {"delivery_level": "region"},
     "row 14, column 'delivery_level': the value is not one of the allowed codes (found 'region')"
     ". Use one of: pcn, place, icb"),
    ("virtual_ward", {"delivery_level": ""},
     "row 14, column 'delivery_level': the delivery level is blank for 'virtual_ward'"),
    ("virtual_ward", {"delivery_level_basis": ""},
     "column 'delivery_level_basis': the delivery level has no source or assumption for "
     "'virtual_ward'"),
    ("virtual_ward", {"min_size": "-1"},
     "column 'min_size': the value must be greater than zero (found '-1')"),
    ("virtual_ward", {"min_size": "two"},
     "column 'min_size': the value is not a number (found 'two')"),
    ("virtual_ward", {"min_size_unit": "beds"},
     "column 'min_size_unit': the value is not one of the allowed codes (found 'beds'). "
     "Use one of: wte, people, gbp"),
    ("virtual_ward", {"min_size_unit": ""},
     "column 'min_size_unit': the minimum size has no unit for 'virtual_ward'"),
    ("virtual_ward", {"min_size_basis": ""},
     "column 'min_size_basis': the minimum size has no source or assumption for 'virtual_ward'"),
    ("virtual_ward", {"setup_cost_gbp": "-5"},
     "column 'setup_cost_gbp': the value is below the minimum of 0 (found '-5')"),
    ("virtual_ward", {"setup_cost_basis": ""},
     "column 'setup_cost_basis': the set-up cost has no source or assumption for "
     "'virtual_ward'"),
    ("social_prescribing", {"min_size_unit": "wte"},
     "column 'min_size': a unit is given but no minimum size for 'social_prescribing'"),
    ("social_prescribing", {"setup_cost_gbp": "1000"},
     "column 'setup_cost_basis': the set-up cost has no source or assumption for "
     "'social_prescribing'"),
    ("virtual_ward", {"commissioning_confidence": ""},
     "column 'commissioning_confidence': the delivery level, size or set-up cost has no "
     "confidence grade for 'virtual_ward'"),
])
def test_bad_commissioning_facts_are_named_with_their_fix(workspace, iid, values, said):
    assert said in _edit(workspace, iid, **values)


def test_a_library_without_the_commissioning_columns_still_loads(workspace):
    """The columns are optional: a workbook made before issue 17 loads as before."""
    path = workspace / "data" / "interventions.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.drop(columns=COMMISSIONING_COLUMNS).to_csv(path, index=False)
    inputs = load_model(workspace / "models" / "model.toml")
    assert "delivery_level" not in inputs.interventions


def test_the_upload_template_carries_the_same_commissioning_facts(workspace):
    shutil.copy(DATA / "template.xlsx", workspace / "data" / "template.xlsx")
    path = workspace / "models" / "model.toml"
    path.write_text(path.read_text().replace('data = "../data"', 'data = "../data/template.xlsx"'))
    from_book = load_model(path).interventions
    from_csv = load_model(ROOT / "models" / "dln_base.toml").interventions
    pd.testing.assert_frame_equal(from_book[COMMISSIONING_COLUMNS],
                                  from_csv[COMMISSIONING_COLUMNS])


def test_the_loaded_library_carries_the_commissioning_facts():
    inputs = load_model(ROOT / "models" / "dln_base.toml")
    iv = inputs.interventions
    assert iv["delivery_level"].isin(DELIVERY_LEVELS).all()
    assert iv["min_size"].dtype == float and iv["setup_cost_gbp"].dtype == float
    assert iv.at["mh_support_teams", "min_size"] == 8.0
    assert iv["setup_cost_gbp"].isna().any()  # blank stays "not known", never 0


@pytest.fixture(scope="module")
def dln_allocation():
    from optimiser import allocate

    return allocate(load_model(ROOT / "models" / "dln_base.toml"))[1]


def test_dln_plan_now_avoids_outpatient_attendances_through_cc3(dln_allocation):
    """Before CC3 had rows, every plan avoided 0 outpatient attendances."""
    a = dln_allocation
    assert a.status == "optimal"
    assert a.totals["op_avoided"] > 0
    cc3 = a.detail[a.detail["priority_id"] == CC3]
    assert cc3["op_avoided"].sum() == pytest.approx(a.totals["op_avoided"])
    # the universal core offer reaches every PCN, in every year
    assert cc3.groupby("intervention_id")["pcn_code"].nunique().min() == len(a.inputs.pcns)
    assert set(cc3["year"]) == set(a.inputs.years)


def test_cc3_has_no_higher_need_pcns_and_no_enhanced_support_rule(dln_allocation):
    """higher_need.csv has no CC3 rows; the loader reads the missing flags as 'not higher
    need', so the enhanced-support uplift builds no row for CC3 and none of its spend is
    counted as higher-need spend."""
    a = dln_allocation
    assert not (_read("higher_need.csv")["priority_id"] == CC3).any()
    assert CC3 in a.inputs.higher_need.columns
    assert not a.inputs.higher_need[CC3].any()
    uplift = a.constraints[a.constraints["constraint"] == "enhanced_support_uplift"]
    assert len(uplift) > 0 and CC3 not in set(uplift["priority"])
    spend = a.by_priority.set_index(["year", "priority_id"])
    assert (spend.xs(CC3, level="priority_id")["higher_need_spend_gbp"] == 0).all()


# ------------------------------------------------------------------------------ staff groups


def test_staff_groups_keep_original_columns_and_order(staff):
    assert list(staff.columns) == STAFF_BASE_COLUMNS + STAFF_NEW_COLUMNS
    assert staff["staff_group"].tolist() == STAFF_GROUP_ORDER


def test_staff_group_costs_and_hours(staff):
    assert (staff["annual_cost_gbp"] > 0).all()
    assert staff["hours_per_wte"].between(1400, 1800).all(), staff["hours_per_wte"].tolist()
    assert set(staff["price_year"]) == {"2024/25"}
    for col in ("afc_band", "source", "confidence"):
        assert (staff[col].fillna("").str.strip() != "").all(), col


def test_staff_group_costs_are_plausible(staff):
    """An AfC band costs more the higher it is, and a GP or consultant more than any AfC WTE."""
    cost = staff.set_index("staff_group")["annual_cost_gbp"]
    assert cost["support_worker"] < cost["care_coordinator"] < cost["personalised_care"]
    assert cost["personalised_care"] < cost["allied_health"] < cost["clinical_pharmacist"]
    afc_max = cost.drop(["gp", "specialist_medical"]).max()
    assert cost["gp"] > afc_max and cost["specialist_medical"] > afc_max
    assert cost.between(40_000, 300_000).all()


# ------------------------------------------------------------------------------ unit costs


def test_unit_costs_have_the_five_outcomes(unit_costs):
    assert set(unit_costs.index) == set(OUTCOMES)
    assert unit_costs.index.is_unique


def test_unit_costs_ranges_ordered_and_positive(unit_costs):
    lo, mid, hi = (unit_costs[f"unit_cost_gbp{s}"] for s in ("_low", "", "_high"))
    assert ((lo <= mid) & (mid <= hi)).all()
    assert (lo > 0).all()


def test_unit_costs_match_the_memo(unit_costs):
    assert unit_costs.at["nel_avoided", "unit_cost_gbp"] == 2711
    assert unit_costs.at["ed_avoided", "unit_cost_gbp"] == 280
    assert unit_costs.at["bed_days_avoided", "unit_cost_gbp"] == 500
    assert unit_costs.at["bed_days_avoided", "unit_cost_gbp_low"] == 350
    assert unit_costs.at["bed_days_avoided", "unit_cost_gbp_high"] == 650
    assert unit_costs.at["qaly", "unit_cost_gbp"] == 20000
    assert unit_costs.at["qaly", "unit_cost_gbp_high"] == 30000
    # consultant-led outpatient: between follow-up and first attendance, uprated to 2024/25
    op = unit_costs.loc["op_avoided"]
    assert 192 * 1.035 - 1 <= op["unit_cost_gbp"] <= 232 * 1.035 + 1
    assert set(unit_costs["price_year"]) == {"2024/25"}
    assert (unit_costs["source"].str.strip() != "").all()


def test_qaly_row_says_the_model_file_overrides_it(unit_costs):
    assert "model file" in unit_costs.at["qaly", "note"]
