"""Build the PCN data tables the optimiser reads, from the raw NHS open data.

Reads the raw files in ``<repo>/../shared/data/raw`` (``--raw``) and the seed 001 tables in
``<raw>/../seed_tables`` (``--seed-tables``), plus ``data/staff_groups.csv``, and writes:

* ``pcns.csv``         one row per PCN in the October 2025 practice-to-PCN map: geography and
                       places, population, IMD (with its people split across quintiles), need,
                       prevalence, workforce, location, rurality and modelled activity
                       baselines;
* ``higher_need.csv``  one row per PCN x PCN-allocated priority, with the higher-need flag;
* ``priorities.csv``   seed 001's priorities: the seven with higher-need PCNs and their need
                       measures, and CC3, which has none;
* ``build_report.md``  the reconciliation: every practice, patient and FTE that was not carried
                       into the tables is counted here, with the reason.

The build is deterministic: rows are sorted, floats are written with six decimals, lines end
in ``\\n`` and nothing depends on the clock or on the output path. Only pandas, numpy and the
standard library are used. ``data/README.md`` is the data dictionary for the outputs.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def default_raw() -> Path:
    """`<repo>/../shared/data/raw`, or one folder further up for a git worktree kept one level
    deeper than the main checkout (e.g. `<root>/wt/<branch>` beside `<root>/main`)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data" / "raw").is_dir():
            return base / "shared" / "data" / "raw"
    return REPO.parent / "shared" / "data" / "raw"


DEFAULT_RAW = default_raw()
DEFAULT_OUT = REPO / "data"
DEFAULT_STAFF_GROUPS = REPO / "data" / "staff_groups.csv"

# Raw file names (see shared/data/raw/LICENCE-NOTES.md for provenance and licences).
F_MAP_OCT25 = "gp-reg-pat-prac-map_2025-10.csv"
F_MAP_APR25 = "gp-reg-pat-prac-map_2025-04.csv"
F_AGE = "gp_practice_age_bands_2025-04.csv"
F_WP = "nhse_weighted_populations_2025_26.csv"
F_IMD_PRACTICE = "practice_imd2019_blackwellrd_2023-01.csv"
F_IMD_PCN = "pcn_imd2019_blackwellrd_2023-01.csv"
F_IMD_FINGERTIPS = "practice_imd_fingertips_93553_heec.csv"
F_QOF_CVD = "practice_qof_cvd_heec.csv"
F_SMOKING = "practice_smoking_qof_prev_fingertips_91547_heec.csv"
F_WORKFORCE = "pcn_workforce_fte_by_role_2025-11.csv"
F_PLACES = "place_partnerships.csv"
F_PRACTICE_CCG = "practice_ccg_2019-20_heec.csv"
F_RURALITY = "practice_rurality_2022-23_heec.csv"
F_HES_APC = "icb_hes_apc_2024-25.csv"
F_AE = "icb_ae_monthly_2022-2025_healthyr.csv"
# Not read: imd2025_lsoa21.csv (IMD 2025 by LSOA) is for a people-level IMD split once
# registrations by LSOA are in the raw data (see quintile_shares).
F_SEED_DLN = "dln_higher_need_pcns.csv"
F_SEED_NN_PROFILE = "nn_pcn_profile_2023.csv"

UNALLOCATED = "U"
ENGLAND_CODE = "ENG"  # the England row of the HES file
FLOAT_FORMAT = "%.6f"
DECIMALS = 6

AGE_BANDS = {  # pcns.csv column -> age-band file column
    "pop_0_19": "AGE_0_19",
    "pop_20_39": "AGE_20_39",
    "pop_40_64": "AGE_40_64",
    "pop_50_64": "AGE_50_64",
    "pop_65_plus": "AGE_65_PLUS",
    "pop_75_plus": "AGE_75_PLUS",
    "pop_85_plus": "AGE_85_PLUS",
}

NEED_COMPONENTS = {  # need_<name>_eng / need_<name>_icb -> weighted-population column
    "ga": "G&A WP",
    "community": "CS WP",
    "mental_health": "MH WP",
    "maternity": "Mat WP",
    "health_inequalities": "Health Ineq WP",
    "prescribing": "Prescr WP",
    "primary_care": "Primary Medical Care WP",
    "overall": "Final WP",
}

QOF_MEASURES = {  # pcns.csv column -> QOF condition suffix
    "prev_hypertension": "HYP",
    "prev_chd": "CHD",
    "prev_af": "AF",
    "prev_heart_failure": "HF",
    "prev_stroke_tia": "STIA",
}
SMOKING_PERIOD = "2023/24"

# Rurality bands by the share of a PCN's patients in practices classed Rural: the thresholds of
# Defra's 2011 rural-urban classification of local authority districts (predominantly urban
# below 26% rural, urban with significant rural 26% to under 50%, predominantly rural 50% and
# over), applied here to practice lists instead of residents.
RURAL_BANDS = ((0.26, "urban"), (0.50, "mixed"))
RURAL_TOP_BAND = "rural"

# Activity baselines. A&E: the financial year 2024/25 in the monthly sitrep file.
AE_FIRST_MONTH, AE_LAST_MONTH = "2024-04", "2025-03"
# Outpatients: LICENCE-NOTES.md section 17 (HES outpatient activity 2024-25, "All Attendances
# - All", attended appointments, first and follow-up together; no file in the raw data).
OP_ATTENDED_ENGLAND = 113_225_153
OP_NURSING = 6_942_301  # main specialty 950 Nursing episode
OP_AHP = 13_591_904  # main specialty 960 Allied Health Professional episode

SEED_DLN_Q1_PEOPLE = 720_000  # seed 001 L362: "Around 720,000 people (22%) ... most deprived"

# Census staff groups whose roles are never a model (direct patient care) staff group, even when
# a role name is shared: "Apprentices" appears both here and under direct patient care.
ADMIN_CENSUS_GROUPS = ("Directors", "Other Admin/Non-clinical staff")

DLN_ICBS = ("QJ2", "QJM", "QT1")
SEED_ICB_NAME_TO_CODE = {
    "Derby and Derbyshire": "QJ2",
    "Lincolnshire": "QJM",
    "Nottingham and Nottinghamshire": "QT1",
}
HIGHER_NEED_SHARE = 0.25
POPULATION_TOLERANCE = 0.05

# Seed 001 higher-need table name -> October 2025 PCN code. Written by hand and checked against
# the seed's population (population_k) in build_report.md. Obvious matches carry no comment.
SEED_NAME_TO_PCN = {
    # Derby and Derbyshire (QJ2)
    "Derby City North": "U60509",
    "PCCO": "U06438",  # "PCCO PCN"; the seed never expands the acronym, the name is identical
    "Erewash": "U25882",
    "Glossop": "U60978",
    "High Peak": "U28405",  # published as "HIGH PEAK & BUXTON PCN"
    "North Derbyshire": "U53637",
    "North-East Derbyshire": "U67865",
    "North Hardwick/Bolsover": "U05048",  # "NORTH HARDWICK AND BOLSOVER PCN"
    "South Hardwick": "U17168",
    "Chesterfield & Dronfield": "U78207",  # "CHESTERFIELD AND DRONFIELD PCN"
    "Derby City South": "U47223",
    "Greater Derby": "U53999",
    # Lincolnshire (QJM)
    "First Coastal": "U58435",
    "Boston": "U75268",
    "Trent": "U56215",  # "TRENT CARE PCN"
    "Lincoln Health P'ship": "U38661",  # "LINCOLN HEALTH PARTNERSHIP PCN"
    "Meridian": "U33832",  # "MERIDIAN MEDICAL PCN"
    "East Lindsey": "U12413",
    "IMP Healthcare": "U58704",  # "IMP PCN"
    "South Lincolnshire Rural": "U17012",
    "Spalding": "U41693",
    # Nottingham and Nottinghamshire (QT1)
    "Aspire": "U78528",
    "Bulwell & Top Valley": "U63129",  # "BULWELL AND TOP VALLEY PCN"
    "Nottingham City East": "U47242",
    "Radford & Mary Potter": "U94342",  # "RADFORD AND MARY POTTER PCN"
    "Raleigh": "U55117",  # "RALEIGH HEALTHCARE PCN"
    "Ashfield North": "U85198",
    "Bestwood & Sherwood": "U44561",  # "BESTWOOD AND SHERWOOD PCN"
    "Clifton & Meadows": "U19169",
    "Mansfield North": "U32323",
    "Rosewood (Mansfield)": "U18267",  # "ROSEWOOD PCN", a Mansfield PCN
    "Ashfield South": "U53963",
    "Byron": "U06437",
    "Larwood & Bawtry": "U05001",
    # Beeston and Eastwood/Kimberley are neighbourhoods of Nottingham West PCN, not PCNs. The
    # PCN's third neighbourhood, Stapleford, is not named in the seed's higher-need table.
    "Eastwood/Kimberley": "U99463",
    "Newark": "U65095",
    "Synergy Health": "U12949",
    "Beeston": "U99463",
}
NEIGHBOURHOOD_NAMES = ("Beeston", "Eastwood/Kimberley")
NEIGHBOURHOOD_PCN = "U99463"  # Nottingham West PCN
NEIGHBOURHOOD_NOTE = (
    "seed 001 names neighbourhoods Beeston and Eastwood/Kimberley of this PCN, not the PCN; "
    "flagged for the union of their priorities, so the flag covers the whole PCN "
    "(including Stapleford)"
)
PS2_NOTE = "seed 001 publishes no PS2 flags; derived by the seed's 25% rule"

# Seed 001 flags exactly this many higher-need units per priority in each DLN ICB ("Top-15",
# L800). It is the count used for the PS2 flags the seed does not publish. round(0.25 x 24) = 6
# for QT1's 24 PCNs; the seed's 7 corresponds to the 28 neighbourhood-level units it works with
# (Nottingham West and Rushcliffe each as three neighbourhoods). The build checks these counts
# against the seed table.
DLN_FLAGS_PER_PRIORITY = {"QJ2": 4, "QJM": 4, "QT1": 7}


@dataclass(frozen=True)
class Priority:
    priority_id: str
    code: str
    name: str
    segment: str
    higher_need_measure: str
    notes: str


# "IMD ratio" = imd_score / England's population-weighted mean imd_score over pcns.csv. It brings
# in the seed's first trigger lens, "need / disadvantage: high deprivation" (L655).
IMD_RATIO = "IMD ratio (imd_score / England population-weighted mean imd_score)"

PRIORITIES = (
    Priority(
        "cyp_obesity",
        "PS1",
        "Children and young people's obesity (0-19)",
        "Segment 7 (risk factors), Start Well",
        "share of patients aged 0-19 (pop_0_19 / population) x need_health_inequalities_eng",
        "Child obesity rises steeply with deprivation; the health-inequalities index carries "
        "that gradient and the 0-19 share the size of the cohort.",
    ),
    Priority(
        "cyp_mental_health",
        "PS2",
        "Children and young people's mental health (0-19)",
        "Segment 6 (common mental health), Start Well",
        "share of patients aged 0-19 (pop_0_19 / population) x need_mental_health_eng",
        "Seed 001 publishes no PS2 flags for any PCN; in DLN they are derived by the seed's "
        "25% rule, 4/4/7 PCNs in QJ2/QJM/QT1 as for its other priorities.",
    ),
    Priority(
        "multimorbidity",
        "PS3",
        "Early multimorbidity, 2+ long-term conditions (40-64)",
        "Segment 3 (LTC 3+), Live Well",
        f"share of patients aged 40-64 (pop_40_64 / population) x need_ga_eng x {IMD_RATIO}",
        "General and acute need per head indexes the burden of long-term conditions; "
        "multimorbidity starts earlier in deprived areas (seed L869: most deprived quintile).",
    ),
    Priority(
        "frailty",
        "PS4",
        "Frailty (moderate and severe)",
        "Segment 2, Age Well",
        f"share of patients aged 75+ (pop_75_plus / population) x need_ga_eng x {IMD_RATIO}",
        "Moderate and severe frailty is concentrated at 75+ and comes earlier with deprivation; "
        "general and acute need adjusts for health status.",
    ),
    Priority(
        "end_of_life",
        "PS5",
        "End of life",
        "Segment 1, Die Well",
        f"share of patients aged 85+ (pop_85_plus / population) x need_ga_eng x {IMD_RATIO}",
        "Deaths are concentrated at 85+; general and acute need adjusts for health status and "
        "the IMD ratio for the crisis and hospital-death profile of deprived areas.",
    ),
    Priority(
        "vaccination_screening",
        "CC1",
        "Vaccination and screening",
        "All segments (cross-cutting)",
        "need_health_inequalities_eng",
        "Uptake gaps follow deprivation and inclusion-health need, which the "
        "health-inequalities index measures.",
    ),
    Priority(
        "strong_general_practice",
        "CC2",
        "Strong general practice",
        "All segments (cross-cutting)",
        f"need_primary_care_eng x {IMD_RATIO}",
        "Primary medical care need per head, scaled up where deprivation is higher "
        "(seed L1028: where health gain is highest).",
    ),
)
# CC3 Outpatient and follow-up redesign has no higher-need set (seed 001 L696, L730): it is a
# row of priorities.csv, but it has no need score and no rows in higher_need.csv (the optimiser
# reads a missing flag as "not higher need"), so it gets the universal core offer only.
UNFLAGGED_PRIORITIES = (
    Priority(
        "outpatient_redesign",
        "CC3",
        "Outpatient and follow-up redesign",
        "All segments (cross-cutting)",
        "",
        "No higher-need PCNs: seed 001 selects them 'for each priority (except Outpatient and "
        "Follow-up Appointment Redesign)' (L696, L730). Its interventions are hospital "
        "pathway changes bought for the whole ICB (data/INTERVENTIONS.md section 8).",
    ),
)


@dataclass
class Report:
    """Markdown lines of build_report.md, in the order they are added."""

    lines: list[str] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.lines += ["", f"## {title}", ""]

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, frame: pd.DataFrame) -> None:
        cells = frame.astype(str)
        self.lines.append("| " + " | ".join(cells.columns) + " |")
        self.lines.append("|" + "---|" * len(cells.columns))
        for row in cells.itertuples(index=False):
            self.lines.append("| " + " | ".join(row) + " |")

    def text(self) -> str:
        return "\n".join(["# Data build report", *self.lines]).rstrip("\n") + "\n"


def fmt_int(value: float) -> str:
    return f"{int(round(value)):,}"


def fmt_pct(value: float, decimals: int = 2) -> str:
    return f"{100 * value:.{decimals}f}%"


def round_half_up(value: float) -> int:
    """Round to the nearest integer, halves upwards (Python's round() sends 4.5 to 4)."""
    return int(math.floor(value + 0.5))


def n_flagged(n_pcns: int) -> int:
    """Higher-need PCNs per priority in an ICB: 25% of its PCNs, rounded half up."""
    return round_half_up(HIGHER_NEED_SHARE * n_pcns)


# --------------------------------------------------------------------------------------------
# Loading


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"{path}: raw input missing (see shared/data/raw/LICENCE-NOTES.md)")
    return pd.read_csv(path, **kwargs)


def load_inputs(raw: Path, seed_tables: Path, staff_groups: Path) -> dict[str, pd.DataFrame]:
    code = {"PRACTICE_CODE": str, "PCN_CODE": str}
    return {
        "map_oct": read_csv(raw / F_MAP_OCT25, dtype=str, keep_default_na=False),
        "map_apr": read_csv(raw / F_MAP_APR25, dtype=str, keep_default_na=False),
        "age": read_csv(raw / F_AGE, dtype=code),
        "wp": read_csv(raw / F_WP, encoding="utf-8-sig", dtype={"Practice_Code": str, "ICB": str}),
        "imd_practice": read_csv(raw / F_IMD_PRACTICE, dtype={"practice_code": str}),
        "imd_pcn": read_csv(raw / F_IMD_PCN, dtype={"pcn_code": str}),
        "imd_fingertips": read_csv(
            raw / F_IMD_FINGERTIPS, encoding="utf-8-sig", dtype={"AreaCode": str}
        ),
        "qof": read_csv(raw / F_QOF_CVD, dtype={"Practice.Code": str}),
        "smoking": read_csv(raw / F_SMOKING, dtype={"Area Code": str}),
        "workforce": read_csv(raw / F_WORKFORCE, dtype={"PCN_CODE": str}),
        "places": read_csv(raw / F_PLACES, dtype=str, keep_default_na=False),
        "practice_ccg": read_csv(raw / F_PRACTICE_CCG, dtype=str, keep_default_na=False),
        "rurality": read_csv(raw / F_RURALITY, dtype=str, keep_default_na=False),
        "hes": read_csv(raw / F_HES_APC, dtype={"icb_code": str}),
        "ae": read_csv(raw / F_AE, dtype={"icb_code": str, "month": str}),
        "seed_dln": read_csv(seed_tables / F_SEED_DLN),
        "seed_nn_profile": read_csv(seed_tables / F_SEED_NN_PROFILE),
        "staff_groups": read_csv(staff_groups, dtype=str, keep_default_na=False),
    }


# --------------------------------------------------------------------------------------------
# Practices and PCN geography


def practice_table(inputs: dict[str, pd.DataFrame], report: Report) -> pd.DataFrame:
    """October 2025 practices with their April 2025 registered population and age bands."""
    oct_map, age = inputs["map_oct"], inputs["age"]
    practices = oct_map.merge(age.drop(columns="EXTRACT_DATE"), on="PRACTICE_CODE", how="left")
    practices["has_population"] = practices["TOTAL"].notna()
    for column in ["TOTAL", *AGE_BANDS.values()]:
        practices[column] = practices[column].fillna(0).astype("int64")

    england = int(age["TOTAL"].sum())
    unallocated = practices[practices["PCN_CODE"] == UNALLOCATED]
    allocated = practices[practices["PCN_CODE"] != UNALLOCATED]
    gone = age[~age["PRACTICE_CODE"].isin(oct_map["PRACTICE_CODE"])]
    gone = gone.merge(
        inputs["map_apr"][["PRACTICE_CODE", "PRACTICE_NAME", "PCN_CODE", "ICB_CODE"]],
        on="PRACTICE_CODE",
        how="left",
    )
    no_pop = practices[~practices["has_population"]]

    report.section("Population reconciliation")
    report.add(
        f"England registered population, April 2025 age-band file ({F_AGE}): "
        f"**{fmt_int(england)}** in {len(age):,} practices.",
        "",
    )
    rows = [
        ("Age-band file total (April 2025)", len(age), england),
        (
            "less: practices in April 2025 but not in the October 2025 map (closed or merged)",
            -len(gone),
            -int(gone["TOTAL"].sum()),
        ),
        (
            "= October 2025 map practices with an April 2025 age-band row",
            int(practices["has_population"].sum()),
            int(practices["TOTAL"].sum()),
        ),
        (
            "less: PCN_CODE U (Unallocated) in the October 2025 map",
            -len(unallocated),
            -int(unallocated["TOTAL"].sum()),
        ),
        ("= practices and population in pcns.csv", len(allocated), int(allocated["TOTAL"].sum())),
    ]
    report.table(
        pd.DataFrame(
            [(label, f"{n:,}", f"{p:,}") for label, n, p in rows],
            columns=["step", "practices", "registered patients"],
        )
    )
    report.add(
        "",
        f"pcns.csv holds {fmt_pct(allocated['TOTAL'].sum() / england)} of England's registered "
        "population. The gap is the unallocated practices and the practices that closed or "
        "merged between April and October 2025: their patients re-registered elsewhere, but the "
        "April list sizes used here count them only at the practice they left.",
        f"October 2025 practices without an April 2025 age-band row (opened after April): "
        f"{len(no_pop)}; they count in `practices` but add no population.",
        "",
        "Practices in the April 2025 age-band file and not in the October 2025 map:",
        "",
    )
    gone = gone.sort_values("PRACTICE_CODE")
    report.table(
        gone.rename(
            columns={"PCN_CODE": "April PCN", "ICB_CODE": "April ICB", "TOTAL": "patients"}
        )[["PRACTICE_CODE", "PRACTICE_NAME", "April PCN", "April ICB", "patients"]]
    )
    report.add(
        "",
        f"Unallocated (PCN_CODE U) practices in the October 2025 map: {len(unallocated)} "
        f"practices, {fmt_int(unallocated['TOTAL'].sum())} patients, by ICB:",
        "",
    )
    by_icb = (
        unallocated.groupby(["ICB_CODE", "ICB_NAME"])["TOTAL"]
        .agg(["size", "sum"])
        .reset_index()
        .rename(columns={"size": "practices", "sum": "patients"})
    )
    report.table(by_icb)
    return practices


def majority(members: pd.DataFrame, key: str, columns: list[str]) -> pd.DataFrame:
    """For each PCN, the value of `key` (with its `columns`) holding most of its population."""
    by_key = members.groupby(["PCN_CODE", key, *columns], as_index=False)["TOTAL"].sum()
    by_key = by_key.sort_values(["PCN_CODE", "TOTAL", key], ascending=[True, False, True])
    return by_key.drop_duplicates("PCN_CODE").drop(columns="TOTAL")


def pcn_geography(members: pd.DataFrame, report: Report) -> pd.DataFrame:
    """PCN names, ICB, sub-ICB location and region; split PCNs go where most of their patients
    are. The place (`pcn_places`) is the sub-ICB location unless the ICB defines its own."""
    names = members.groupby("PCN_CODE", as_index=False)["PCN_NAME"].first()
    icb = majority(members, "ICB_CODE", ["ICB_NAME"])
    sub_icb = majority(members, "SUB_ICB_LOCATION_CODE", ["SUB_ICB_LOCATION_NAME"])
    region = majority(members, "COMM_REGION_CODE", ["COMM_REGION_NAME"])
    geo = names.merge(icb, on="PCN_CODE").merge(sub_icb, on="PCN_CODE").merge(region, on="PCN_CODE")
    geo = geo.rename(
        columns={
            "PCN_CODE": "pcn_code",
            "PCN_NAME": "pcn_name",
            "ICB_CODE": "icb_code",
            "ICB_NAME": "icb_name",
            "SUB_ICB_LOCATION_CODE": "sub_icb_code",
            "SUB_ICB_LOCATION_NAME": "sub_icb_name",
            "COMM_REGION_CODE": "region_code",
            "COMM_REGION_NAME": "region_name",
        }
    )

    report.section("PCNs spanning several sub-ICB locations or ICBs")
    spans = []
    for level, column in [
        ("sub-ICB locations", "SUB_ICB_LOCATION_CODE"),
        ("ICBs", "ICB_CODE"),
        ("regions", "COMM_REGION_CODE"),
    ]:
        counts = members.groupby("PCN_CODE")[column].nunique()
        split = sorted(counts[counts > 1].index)
        report.add(
            f"- PCNs whose practices span several {level}: {len(split)}"
            + (f" ({', '.join(split)})" if split else "")
        )
        spans += [(code, level) for code in split]
    report.add(
        "", "Each goes to the sub-ICB location, ICB and region holding most of its patients:", ""
    )
    detail = (
        members[members["PCN_CODE"].isin({c for c, _ in spans})]
        .groupby(["PCN_CODE", "PCN_NAME", "ICB_CODE", "SUB_ICB_LOCATION_CODE"])["TOTAL"]
        .agg(["size", "sum"])
        .reset_index()
        .rename(columns={"size": "practices", "sum": "patients"})
    )
    report.table(detail)
    return geo


def pcn_population(members: pd.DataFrame) -> pd.DataFrame:
    counts = members.groupby("PCN_CODE").agg(
        practices=("PRACTICE_CODE", "size"),
        population=("TOTAL", "sum"),
        practices_without_population=("has_population", lambda s: int((~s).sum())),
    )
    bands = members.groupby("PCN_CODE")[list(AGE_BANDS.values())].sum()
    bands.columns = list(AGE_BANDS)
    out = counts.join(bands)
    return out[["practices", "population", *AGE_BANDS, "practices_without_population"]]


def place_codes(partnerships: pd.DataFrame) -> pd.DataFrame:
    """One row per place an ICB defines: its code (its former CCG codes joined by "_", e.g.
    "04E_04H"), name and ICB. The code is built from published codes, not made up, and is a
    bare key in a model file (`workforce.available_wte.nurse.04E_04H = 20`)."""
    rows = []
    for (icb, name), group in partnerships.groupby(["icb_code", "place_name"], sort=True):
        rows.append((icb, "_".join(sorted(group["former_ccg_code"])), name))
    return pd.DataFrame(rows, columns=["icb_code", "place_code", "place_name"])


def pcn_places(
    members: pd.DataFrame, geo: pd.DataFrame, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """The place of each PCN: the ICB's own places where it defines them, else the sub-ICB.

    Where an ICB is in place_partnerships.csv, each member practice goes to the place of its
    2019/20 CCG (practice_ccg_2019-20_heec.csv) and the PCN to the place holding most of its
    mapped patients; practices with no 2019/20 CCG row, or a CCG outside the ICB's places
    (opened or moved since), follow their PCN's other practices. A PCN of such an ICB with no
    mapped practice at all stops the build: there is nothing to place it by.
    """
    partnerships = inputs["places"]
    places = place_codes(partnerships)
    ccg_place = partnerships.merge(places, on=["icb_code", "place_name"]).set_index(
        "former_ccg_code"
    )
    ccg_of = inputs["practice_ccg"].set_index("practice_code")["ccg_code"]

    out = geo.set_index("pcn_code")[["icb_code", "sub_icb_code", "sub_icb_name"]].copy()
    out["place_code"] = out["sub_icb_code"]
    out["place_name"] = out["sub_icb_name"]
    out["place_basis"] = "sub_icb"

    icbs = sorted(places["icb_code"].unique())
    practice = members[members["PCN_CODE"].map(out["icb_code"]).isin(icbs)][
        ["PCN_CODE", "PCN_NAME", "PRACTICE_CODE", "PRACTICE_NAME", "ICB_CODE", "TOTAL"]
    ].copy()
    practice["ccg_2019_20"] = practice["PRACTICE_CODE"].map(ccg_of)
    practice["place_code"] = practice["ccg_2019_20"].map(ccg_place["place_code"])
    own_icb = practice["ccg_2019_20"].map(ccg_place["icb_code"]) == practice["ICB_CODE"]
    practice.loc[~own_icb, "place_code"] = np.nan
    mapped = practice.dropna(subset=["place_code"])
    unplaced = sorted(set(practice["PCN_CODE"]) - set(mapped["PCN_CODE"]))
    if unplaced:
        raise ValueError(
            f"PCNs {unplaced} have no practice with a 2019/20 CCG in {F_PLACES}: add their "
            f"practices to {F_PRACTICE_CCG} or their place by hand"
        )
    chosen = majority(mapped, "place_code", [])
    chosen = chosen.merge(places, on="place_code").set_index("PCN_CODE")
    out.loc[chosen.index, "place_code"] = chosen["place_code"]
    out.loc[chosen.index, "place_name"] = chosen["place_name"]
    out.loc[chosen.index, "place_basis"] = "place_partnership"

    report.section("Places")
    report.add(
        f"ICBs with their own places ({F_PLACES}, made by hand from seed 003; see "
        "LICENCE-NOTES.md section 12): " + ", ".join(icbs) + ". Each member practice goes to "
        f"the place of its 2019/20 CCG ({F_PRACTICE_CCG}), each PCN to the place holding most "
        "of its mapped patients. Every other ICB's places are its sub-ICB locations.",
        "",
    )
    for icb in icbs:
        in_icb = out[out["icb_code"] == icb]
        table = (
            in_icb.join(geo.set_index("pcn_code")["pcn_name"])
            .reset_index()
            .groupby(["place_code", "place_name"])
            .agg(pcns=("pcn_code", "size"), pcn_names=("pcn_name", lambda s: ", ".join(sorted(s))))
            .reset_index()
        )
        report.add(f"{icb}: {len(table)} places.", "")
        report.table(table)
        report.add("")
    practice["placed"] = practice["place_code"].notna()
    unmapped = practice[~practice["placed"]].sort_values("PRACTICE_CODE")
    spans = mapped.groupby("PCN_CODE")["place_code"].nunique()
    report.add(
        f"- Member practices of these ICBs: {len(practice)} "
        f"({fmt_int(practice['TOTAL'].sum())} patients); with a 2019/20 CCG of one of the "
        f"ICB's places: {int(practice['placed'].sum())}.",
        f"- Without one (placed with their PCN's other practices): {len(unmapped)} "
        f"({fmt_int(unmapped['TOTAL'].sum())} patients)"
        + (
            ": "
            + "; ".join(
                f"{r.PRACTICE_CODE} {r.PRACTICE_NAME} ({r.TOTAL:,} patients, {r.PCN_NAME}, "
                f"2019/20 CCG {r.ccg_2019_20 if isinstance(r.ccg_2019_20, str) else 'none'})"
                for r in unmapped.itertuples()
            )
            if len(unmapped)
            else ""
        ),
        f"- PCNs whose mapped practices span several places: {int((spans > 1).sum())}"
        + (f" ({', '.join(spans[spans > 1].index)})" if (spans > 1).any() else ""),
    )
    return out[["place_code", "place_name", "place_basis"]]


# --------------------------------------------------------------------------------------------
# Deprivation


def practice_imd(members: pd.DataFrame, inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Member practices with their IMD 2019 score: Blackwell's, else Fingertips' (Year 2019)."""
    blackwell = inputs["imd_practice"].set_index("practice_code")["imd_score"]
    fingertips = inputs["imd_fingertips"]
    fingertips = fingertips[fingertips["Year"] == 2019].set_index("AreaCode")["Value"]
    practice = members[["PCN_CODE", "PRACTICE_CODE", "ICB_CODE", "TOTAL"]].copy()
    practice["imd"] = practice["PRACTICE_CODE"].map(blackwell).astype(float)
    practice["from_fingertips"] = practice["imd"].isna() & practice["PRACTICE_CODE"].isin(
        fingertips.index
    )
    practice["imd"] = practice["imd"].fillna(
        practice["PRACTICE_CODE"].map(fingertips).astype(float)
    )
    return practice


def pcn_imd(
    practice: pd.DataFrame, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """IMD 2019 score, population-weighted over member practices, with two fallbacks."""
    pcn_table = inputs["imd_pcn"].set_index("pcn_code")["imd_score"]
    from_fingertips = practice["from_fingertips"]
    scored = practice.dropna(subset=["imd"])
    weighted = (scored["imd"] * scored["TOTAL"]).groupby(scored["PCN_CODE"]).sum()
    weights = scored.groupby("PCN_CODE")["TOTAL"].sum()
    score = (weighted / weights.where(weights > 0)).rename("imd_score")

    out = pd.DataFrame(index=sorted(practice["PCN_CODE"].unique()))
    out["imd_score"] = score
    out["imd_source"] = np.where(out["imd_score"].notna(), "practice_weighted", "pcn_table")
    need_table = out["imd_score"].isna()
    out["imd_score"] = out["imd_score"].fillna(
        pd.Series(out.index, index=out.index).map(pcn_table).astype(float)
    )
    missing = out.index[out["imd_score"].isna()].tolist()
    if missing:
        raise ValueError(f"no IMD score for PCNs {missing} in any of the three IMD files")

    unscored = practice[practice["imd"].isna()]
    report.section("Deprivation (IMD 2019)")
    report.add(
        f"- Member practices scored from {F_IMD_PRACTICE} (Blackwell, January 2023 lists): "
        f"{int((practice['imd'].notna() & ~from_fingertips).sum()):,}",
        f"- Member practices scored from {F_IMD_FINGERTIPS} (Fingertips 93553, Year 2019) "
        f"because Blackwell has no row: {int(from_fingertips.sum())}",
        f"- Member practices with no IMD score in either file (left out of the weighting): "
        f"{len(unscored)} ({fmt_int(unscored['TOTAL'].sum())} patients): "
        + ", ".join(
            f"{r.PRACTICE_CODE} in {r.PCN_CODE} ({r.TOTAL:,})"
            for r in unscored.sort_values("PRACTICE_CODE").itertuples()
        ),
        f"- PCNs scored from {F_IMD_PCN} because no member practice has a score: "
        f"{int(need_table.sum())}",
    )
    return out


def population_quintiles(
    score: pd.Series, population: pd.Series, tie_break: pd.Series
) -> pd.Series:
    """National quintile by population, 1 = most deprived, for areas with an IMD score.

    Areas are ranked by score, highest (most deprived) first, ties by `tie_break`; each goes to
    the quintile that contains the middle of its population on the cumulative scale, so each
    quintile holds as near 20% of the population as whole areas allow.
    """
    frame = pd.DataFrame({"score": score, "population": population, "tie": tie_break})
    ranked = frame.sort_values(["score", "tie"], ascending=[False, True])
    cumulative = ranked["population"].cumsum() - ranked["population"] / 2
    quintile = np.floor(5 * cumulative / ranked["population"].sum()).astype(int) + 1
    return quintile.clip(1, 5).reindex(frame.index)


def imd_quintiles(pcns: pd.DataFrame) -> pd.Series:
    """Each PCN's single national quintile by registered population (PCNs ranked by score)."""
    return population_quintiles(pcns["imd_score"], pcns["population"], pcns["pcn_code"])


QUINTILES = (1, 2, 3, 4, 5)
SHARE_COLUMNS = [f"imd_q{q}_share" for q in QUINTILES]


def quintile_shares(people: pd.DataFrame) -> pd.DataFrame:
    """Share of each PCN's people in each national IMD quintile (PCN x imd_q1_share..q5).

    `people` has one row per group of a PCN's patients whose quintile is known: columns
    PCN_CODE, quintile (1-5) and people. This build gives it one row per member practice (the
    practice's quintile, its whole list). A people-level split plugs in here unchanged: one row
    per practice x LSOA of residence, with the LSOA's quintile (imd2025_lsoa21.csv, IMD_decile
    1-2 -> 1, ..., 9-10 -> 5) and the patients registered from it. That needs NHS England's
    "Patients registered at a GP practice" by LSOA, which is not in the raw data, so no such
    distribution is assumed here.
    """
    counts = people.pivot_table(
        index="PCN_CODE", columns="quintile", values="people", aggfunc="sum", fill_value=0
    ).reindex(columns=list(QUINTILES), fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    shares.columns = SHARE_COLUMNS
    return shares


def imd_people_split(practice: pd.DataFrame, pcns: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Each PCN's population split across national IMD quintiles by its practices' quintiles.

    Practices (with a score) get a national quintile on the registered-population scale, as
    PCNs do in `imd_quintiles`; a PCN's shares are its patients' shares by practice quintile.
    Practices without a score are left out of their PCN's shares; a PCN with no scored practice
    would take its single quintile (share 1).
    """
    scored = practice.dropna(subset=["imd"])
    quintile = population_quintiles(scored["imd"], scored["TOTAL"], scored["PRACTICE_CODE"])
    people = pd.DataFrame(
        {"PCN_CODE": scored["PCN_CODE"], "quintile": quintile, "people": scored["TOTAL"]}
    )
    shares = quintile_shares(people).reindex(pcns["pcn_code"])
    single = pcns.set_index("pcn_code")["imd_quintile"]
    fallback = shares.index[shares.isna().any(axis=1)]
    for code in fallback:
        shares.loc[code] = [float(q == single[code]) for q in QUINTILES]
    shares.index.name = "pcn_code"
    report_imd_split(practice, quintile, shares, pcns, list(fallback), report)
    return shares


def report_imd_split(
    practice: pd.DataFrame,
    quintile: pd.Series,
    shares: pd.DataFrame,
    pcns: pd.DataFrame,
    fallback: list[str],
    report: Report,
) -> None:
    population = pcns.set_index("pcn_code")["population"]
    people = shares.mul(population, axis=0)
    scored = practice.loc[quintile.index]
    by_practice_q = scored["TOTAL"].groupby(quintile).sum()
    report.section("IMD by people: each PCN's population split across national quintiles")
    report.add(
        "Each member practice with an IMD 2019 score gets a national quintile on the "
        "registered-population scale (practices ranked by score, most deprived first; a "
        "practice goes to the quintile holding the middle of its list). Each PCN's "
        "imd_q1_share..imd_q5_share are its patients' shares by practice quintile; "
        "imd_quintile stays the PCN's single quintile.",
        "",
        "- Population share by practice quintile, England: "
        + ", ".join(
            f"Q{q} {fmt_pct(by_practice_q.get(q, 0) / by_practice_q.sum(), 2)}" for q in QUINTILES
        ),
        f"- PCNs whose practices are all in one quintile: "
        f"{int((shares.max(axis=1) > 1 - 1e-12).sum())} of {len(shares):,}; "
        f"PCNs with no scored practice (single quintile used): {len(fallback)}"
        + (f" ({', '.join(fallback)})" if fallback else ""),
        "",
    )
    icb = pcns.set_index("pcn_code")["icb_code"]
    rows = []
    groups = [*[(c, [c]) for c in DLN_ICBS], ("DLN", list(DLN_ICBS))]
    for label, codes in groups:
        sel = icb.isin(codes)
        total = population[sel].sum()
        single = population[sel].groupby(pcns.set_index("pcn_code")["imd_quintile"][sel]).sum()
        split = people[sel].sum()
        rows.append(
            [
                label,
                fmt_int(total),
                *[
                    f"{fmt_int(split.iloc[q - 1])} ({fmt_pct(split.iloc[q - 1] / total, 1)})"
                    for q in QUINTILES
                ],
                f"{fmt_int(single.get(1, 0))} ({fmt_pct(single.get(1, 0) / total, 1)})",
            ]
        )
    report.add("Population by quintile from the split, with Q1 by whole PCN for comparison:", "")
    report.table(
        pd.DataFrame(
            rows,
            columns=[
                "area",
                "population",
                *[f"Q{q} (split)" for q in QUINTILES],
                "Q1 by whole PCN",
            ],
        )
    )
    dln = icb.isin(DLN_ICBS)
    q1 = people.loc[dln, "imd_q1_share"].sum()
    report.add(
        "",
        f"DLN population in England's most deprived fifth: **{fmt_int(q1)} "
        f"({fmt_pct(q1 / population[dln].sum(), 1)})** from the practice split, against "
        f"seed 001's 'around {fmt_int(SEED_DLN_Q1_PEOPLE)} people (22%)' (L362) and "
        f"{fmt_int(population[dln & (pcns.set_index('pcn_code')['imd_quintile'] == 1)].sum())} "
        "when each PCN is one quintile. The units differ: the seed counts people by the LSOA "
        "they live in, this split by the practice they are registered with, whose score is "
        "the mean over all its patients' LSOAs. A practice serving both deprived and "
        "affluent streets lands in one quintile with all its patients, so people in the most "
        "deprived LSOAs who are registered with mixed practices count in Q2 or Q3 here. Only "
        "registrations by LSOA (not in the raw data) would count people as the seed does.",
    )


# --------------------------------------------------------------------------------------------
# Need indices from the 2025/26 weighted populations


def pcn_need(
    members: pd.DataFrame,
    practices: pd.DataFrame,
    geo: pd.DataFrame,
    inputs: dict[str, pd.DataFrame],
    report: Report,
) -> pd.DataFrame:
    """Weighted population per head, relative to England and to the PCN's ICB."""
    wp = inputs["wp"]
    wp_columns = list(NEED_COMPONENTS.values())
    england = wp[wp_columns].sum() / wp["Population"].sum()

    joined = members[["PCN_CODE", "PRACTICE_CODE"]].merge(
        wp[["Practice_Code", "Population", *wp_columns]],
        left_on="PRACTICE_CODE",
        right_on="Practice_Code",
        how="left",
    )
    matched = joined.dropna(subset=["Population"])
    sums = matched.groupby("PCN_CODE")[["Population", *wp_columns]].sum()
    pcn_ratio = sums[wp_columns].div(sums["Population"], axis=0)

    # ICB baseline: every October 2025 practice of the ICB (unallocated ones included).
    icb_practices = practices[["ICB_CODE", "PRACTICE_CODE"]].merge(
        wp[["Practice_Code", "Population", *wp_columns]],
        left_on="PRACTICE_CODE",
        right_on="Practice_Code",
        how="inner",
    )
    icb_sums = icb_practices.groupby("ICB_CODE")[["Population", *wp_columns]].sum()
    icb_ratio = icb_sums[wp_columns].div(icb_sums["Population"], axis=0)
    pcn_icb_ratio = icb_ratio.reindex(geo.set_index("pcn_code").loc[pcn_ratio.index, "icb_code"])
    pcn_icb_ratio.index = pcn_ratio.index

    out = pd.DataFrame(index=pcn_ratio.index)
    for name, column in NEED_COMPONENTS.items():
        out[f"need_{name}_eng"] = pcn_ratio[column] / england[column]
    for name, column in NEED_COMPONENTS.items():
        out[f"need_{name}_icb"] = pcn_ratio[column] / pcn_icb_ratio[column]

    unmatched = joined[joined["Population"].isna()]
    wp_not_in_map = wp[~wp["Practice_Code"].isin(practices["PRACTICE_CODE"])]
    report.section("Need indices (NHS England 2025/26 weighted populations)")
    report.add(
        f"- Member practices without a weighted-population row: {len(unmatched)}",
        f"- Weighted-population practices not in the October 2025 map: {len(wp_not_in_map)} "
        f"(population {fmt_int(wp_not_in_map['Population'].sum())}); they stay in the England "
        "baseline, which is the whole published file.",
        f"- England baseline ratios (sum WP / sum Population, all {len(wp):,} practices): "
        + ", ".join(f"{name} {england[col]:.6f}" for name, col in NEED_COMPONENTS.items()),
        "- ICB baselines use every October 2025 practice of the ICB, unallocated ones included.",
    )
    return out


# --------------------------------------------------------------------------------------------
# Prevalence


def weighted_prevalence(
    frame: pd.DataFrame, key: str, numerator: str, denominator: str
) -> pd.Series:
    usable = frame.dropna(subset=[numerator, denominator])
    usable = usable[usable[denominator] > 0]
    sums = usable.groupby(key)[[numerator, denominator]].sum()
    return sums[numerator] / sums[denominator]


def pcn_prevalence(
    members: pd.DataFrame,
    practices: pd.DataFrame,
    geo: pd.DataFrame,
    inputs: dict[str, pd.DataFrame],
    report: Report,
) -> pd.DataFrame:
    """QOF CVD and smoking prevalence as fractions, filled from the ICB, then England."""
    qof = inputs["qof"].rename(columns={"Practice.Code": "PRACTICE_CODE"})
    smoking = inputs["smoking"]
    # The 2023/24 rows carry blank Sex, Age and Indicator ID (a quirk of the HEEC extract); the
    # indicator is published for Persons 15+ only, so blank means Persons here.
    smoking = smoking[
        (smoking["Time period"] == SMOKING_PERIOD) & smoking["Sex"].fillna("Persons").eq("Persons")
    ]
    if smoking["Area Code"].duplicated().any():
        raise ValueError(f"{F_SMOKING}: duplicate practice rows for {SMOKING_PERIOD}")
    smoking = smoking.rename(columns={"Area Code": "PRACTICE_CODE"})

    measures = {}
    for column, condition in QOF_MEASURES.items():
        list_size = qof[f"List.Size_{condition}"]
        qof[f"{column}_cases"] = qof[f"Prevalence_{condition}"] / 100 * list_size
        measures[column] = qof[
            ["PRACTICE_CODE", f"{column}_cases", f"List.Size_{condition}"]
        ].rename(columns={f"{column}_cases": "num", f"List.Size_{condition}": "den"})
    measures["prev_smoking"] = smoking[["PRACTICE_CODE", "Count", "Denominator"]].rename(
        columns={"Count": "num", "Denominator": "den"}
    )

    icb_of = geo.set_index("pcn_code")["icb_code"]
    pcn_codes = sorted(members["PCN_CODE"].unique())
    out = pd.DataFrame(index=pcn_codes)
    report.section("Prevalence (QOF)")
    rows = []
    for column, data in measures.items():
        at_members = members[["PCN_CODE", "PRACTICE_CODE"]].merge(
            data, on="PRACTICE_CODE", how="left"
        )
        at_all = practices[["ICB_CODE", "PRACTICE_CODE"]].merge(data, on="PRACTICE_CODE")
        pcn_value = weighted_prevalence(at_members, "PCN_CODE", "num", "den").reindex(pcn_codes)
        icb_value = weighted_prevalence(at_all, "ICB_CODE", "num", "den")
        england = float(weighted_prevalence(at_all.assign(all=0), "all", "num", "den").iloc[0])
        missing_practices = at_members[at_members["num"].isna() | at_members["den"].isna()]
        icb_values = icb_of.reindex(pcn_codes).map(icb_value).astype(float)
        icb_fill = pcn_value.isna() & icb_values.notna()
        filled = pcn_value.fillna(icb_values)
        england_fill = filled.isna()
        filled = filled.fillna(england)
        out[column] = filled
        rows.append(
            (
                column,
                len(missing_practices),
                fmt_int(
                    practices.set_index("PRACTICE_CODE")
                    .loc[missing_practices["PRACTICE_CODE"], "TOTAL"]
                    .sum()
                ),
                int(icb_fill.sum()),
                int(england_fill.sum()),
                f"{england:.6f}",
            )
        )
    report.add(
        f"CVD prevalences from {F_QOF_CVD} (very probably QOF 2023/24): "
        "sum(Prevalence% x List.Size) / sum(List.Size) over member practices with data. "
        f"Smoking from {F_SMOKING}, {SMOKING_PERIOD}, sum(Count) / sum(Denominator).",
        "",
    )
    report.table(
        pd.DataFrame(
            rows,
            columns=[
                "measure",
                "member practices without data",
                "their patients",
                "PCNs filled with ICB value",
                "PCNs filled with England value",
                "England value",
            ],
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# Workforce


def census_role_map(staff_groups: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    in_census = staff_groups[staff_groups["in_pcn_census"].str.strip().str.lower() == "true"]
    role_to_group: dict[str, str] = {}
    for group, roles in zip(in_census["staff_group"], in_census["census_roles"], strict=True):
        for role in filter(None, (r.strip() for r in roles.split(";"))):
            if role in role_to_group:
                raise ValueError(f"staff_groups.csv: census role {role!r} mapped twice")
            role_to_group[role] = group
    return in_census["staff_group"].tolist(), role_to_group


def pcn_workforce(
    pcn_codes: list[str], icb_of: pd.Series, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """FTE per model staff group from the November 2025 PCN workforce census."""
    census = inputs["workforce"]
    groups, role_to_group = census_role_map(inputs["staff_groups"])
    census = census.assign(staff_group=census["STAFF_ROLE"].map(role_to_group))
    census.loc[census["STAFF_GROUP"].isin(ADMIN_CENSUS_GROUPS), "staff_group"] = np.nan
    census["staff_group"] = census["staff_group"].fillna("admin_other")

    columns = [*groups, "admin_other"]
    fte = census.pivot_table(
        index="PCN_CODE", columns="staff_group", values="FTE", aggfunc="sum", fill_value=0.0
    )
    fte = fte.reindex(columns=columns, fill_value=0.0)
    fte.columns = [f"fte_{c}" for c in columns]
    out = fte.reindex(pcn_codes, fill_value=0.0)
    out["workforce_in_census"] = np.where(out.index.isin(fte.index), "true", "false")

    total = census["FTE"].sum()
    not_in_map = census[~census["PCN_CODE"].isin(pcn_codes)]
    absent = sorted(set(pcn_codes) - set(fte.index))
    unmapped = (
        census[census["staff_group"] == "admin_other"]
        .groupby(["STAFF_GROUP", "STAFF_ROLE"])["FTE"]
        .sum()
        .reset_index()
    )
    mapped_total = census.loc[census["staff_group"] != "admin_other", "FTE"].sum()
    report.section("Workforce (PCN workforce census, November 2025)")
    report.add(
        f"- Census total: {total:,.1f} FTE in {census['PCN_CODE'].nunique():,} PCNs ("
        + ", ".join(f"{k} {v:,.1f}" for k, v in census.groupby("DATA_SOURCE")["FTE"].sum().items())
        + "); both data sources are summed.",
        f"- Mapped to model staff groups: {mapped_total:,.1f} FTE; fte_admin_other "
        f"(roles not mapped): {total - mapped_total:,.1f} FTE.",
        f"- Sum of fte_* in pcns.csv: {out[fte.columns].to_numpy().sum():,.1f} FTE; census FTE of "
        f"PCNs not in the October 2025 map: {not_in_map['FTE'].sum():,.1f}.",
        f"- PCNs in pcns.csv absent from the census (all fte_* = 0, workforce_in_census = "
        f"false): {len(absent)}" + (f" ({', '.join(absent)})" if absent else ""),
        "- Of these, in DLN: "
        + (", ".join(f"{c} ({icb_of[c]})" for c in absent if icb_of[c] in DLN_ICBS) or "none")
        + ". No staff were returned for these PCNs in November 2025; this file cannot tell "
        "whether they have none or did not submit.",
        "- 'Apprentices' under 'Other Admin/Non-clinical staff' go to fte_admin_other; only "
        "direct-patient-care apprentices go to support_worker.",
        "",
        "FTE by model staff group:",
        "",
    )
    by_group = census.groupby("staff_group")["FTE"].sum().reindex(columns)
    report.table(
        pd.DataFrame({"staff group": by_group.index, "FTE": [f"{v:,.1f}" for v in by_group]})
    )
    report.add("", "Census roles not mapped to a model staff group (in fte_admin_other):", "")
    report.table(unmapped.assign(FTE=unmapped["FTE"].map(lambda v: f"{v:,.1f}")))
    return out


# --------------------------------------------------------------------------------------------
# Location


def pcn_centroid(members: pd.DataFrame, inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    wp = inputs["wp"][["Practice_Code", "Latitude", "Longitude"]]
    located = (
        members[["PCN_CODE", "PRACTICE_CODE", "TOTAL"]]
        .merge(wp, left_on="PRACTICE_CODE", right_on="Practice_Code")
        .dropna(subset=["Latitude"])
    )
    # Practices with no patients still place a PCN that has no other practices.
    located["weight"] = located["TOTAL"].clip(lower=0) + 1e-9
    sums = located.groupby("PCN_CODE")["weight"].sum()
    out = pd.DataFrame(index=sums.index)
    for column in ("Latitude", "Longitude"):
        out[column.lower()] = (located[column] * located["weight"]).groupby(
            located["PCN_CODE"]
        ).sum() / sums
    return out


# --------------------------------------------------------------------------------------------
# Rural and urban


def rurality_band(share: float) -> str:
    """urban / mixed / rural by the share of patients in Rural practices (RURAL_BANDS)."""
    for upper, band in RURAL_BANDS:
        if share < upper:
            return band
    return RURAL_TOP_BAND


def pcn_rurality(
    members: pd.DataFrame, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """Share of each PCN's patients in practices classed Rural (2022/23), and its band.

    Practices missing from the rurality file (opened since 2022/23) are left out of both the
    numerator and the denominator: the share is of the PCN's classified patients.
    """
    rural = inputs["rurality"].set_index("practice_code")["practice_rurality"]
    practice = members[["PCN_CODE", "PRACTICE_CODE", "PRACTICE_NAME", "ICB_CODE", "TOTAL"]].copy()
    practice["rurality"] = practice["PRACTICE_CODE"].map(rural)
    unknown_values = sorted(set(practice["rurality"].dropna()) - {"Rural", "Urban"})
    if unknown_values:
        raise ValueError(f"{F_RURALITY}: unexpected practice_rurality values {unknown_values}")
    classified = practice.dropna(subset=["rurality"])
    rural_patients = classified["TOTAL"].where(classified["rurality"] == "Rural", 0)
    share = rural_patients.groupby(classified["PCN_CODE"]).sum() / classified.groupby("PCN_CODE")[
        "TOTAL"
    ].sum().replace(0, np.nan)
    pcn_codes = sorted(practice["PCN_CODE"].unique())
    missing_pcns = sorted(set(pcn_codes) - set(share.dropna().index))
    if missing_pcns:
        raise ValueError(
            f"PCNs {missing_pcns} have no practice with a rurality class in {F_RURALITY}"
        )
    out = pd.DataFrame({"rural_share": share.reindex(pcn_codes)})
    out["rurality_band"] = out["rural_share"].round(DECIMALS).map(rurality_band)

    unclassified = practice[practice["rurality"].isna()].sort_values("PRACTICE_CODE")
    report.section("Rural and urban (practice rurality, NHS Payments to General Practice 2022/23)")
    bands = out.join(members.groupby("PCN_CODE")["TOTAL"].sum().rename("patients"))
    by_band = bands.groupby("rurality_band")["patients"].agg(["size", "sum"])
    dln = bands.index.map(members.groupby("PCN_CODE")["ICB_CODE"].first()).isin(DLN_ICBS)
    by_band_dln = bands[dln].groupby("rurality_band")["patients"].agg(["size", "sum"])
    report.add(
        "rural_share = patients of member practices classed Rural / patients of member "
        "practices with a class (list sizes April 2025). Bands: "
        + "; ".join(f"{band} below {fmt_pct(upper, 0)}" for upper, band in RURAL_BANDS)
        + f"; {RURAL_TOP_BAND} from {fmt_pct(RURAL_BANDS[-1][0], 0)} (the thresholds of the "
        "Defra 2011 rural-urban classification of local authority districts).",
        "",
        f"- Member practices without a class (left out of their PCN's share): {len(unclassified)} "
        f"({fmt_int(unclassified['TOTAL'].sum())} patients, "
        f"{unclassified['PCN_CODE'].nunique()} PCNs); in DLN: "
        + (
            ", ".join(
                f"{r.PRACTICE_CODE} {r.PRACTICE_NAME} ({r.TOTAL:,}, {r.PCN_CODE})"
                for r in unclassified[unclassified["ICB_CODE"].isin(DLN_ICBS)].itertuples()
            )
            or "none"
        ),
        "- PCNs by band, England: "
        + ", ".join(
            f"{band} {int(r['size'])} ({fmt_int(r['sum'])} patients)"
            for band, r in by_band.iterrows()
        ),
        "- PCNs by band, DLN: "
        + ", ".join(
            f"{band} {int(r['size'])} ({fmt_int(r['sum'])} patients)"
            for band, r in by_band_dln.iterrows()
        ),
    )
    return out


# --------------------------------------------------------------------------------------------
# Activity baselines (modelled)


def practice_acute_weights(
    practices: pd.DataFrame, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """Every October 2025 practice (unallocated ones included) with its apportionment weight.

    weight = April 2025 registered patients x the practice's general and acute (G&A) need per
    head relative to England (G&A WP / Population in the 2025/26 weighted populations, over the
    same ratio for England): the practice-level form of `population x need_ga_eng`. A practice
    without a weighted-population row takes its ICB's ratio.
    """
    wp = inputs["wp"]
    england = wp[NEED_COMPONENTS["ga"]].sum() / wp["Population"].sum()
    ratio = (wp[NEED_COMPONENTS["ga"]] / wp["Population"]).groupby(wp["Practice_Code"]).first()
    frame = practices[["PRACTICE_CODE", "PCN_CODE", "ICB_CODE", "TOTAL"]].copy()
    frame["ga_index"] = frame["PRACTICE_CODE"].map(ratio) / england
    no_wp = frame["ga_index"].isna()
    icb_index = (frame["ga_index"] * frame["TOTAL"]).groupby(frame["ICB_CODE"]).sum() / frame[
        ~no_wp
    ].groupby("ICB_CODE")["TOTAL"].sum()
    frame["ga_index"] = frame["ga_index"].fillna(frame["ICB_CODE"].map(icb_index).astype(float))
    frame["weight"] = frame["TOTAL"] * frame["ga_index"]
    report.add(
        f"- October 2025 practices without a weighted-population row (take their ICB's G&A "
        f"index): {int(no_wp.sum())} ({fmt_int(frame.loc[no_wp, 'TOTAL'].sum())} patients)."
    )
    return frame


def apportion(weights: pd.DataFrame, totals: pd.Series) -> pd.Series:
    """Share each ICB's annual total across its practices by weight (practice index)."""
    share = weights["weight"] / weights.groupby("ICB_CODE")["weight"].transform("sum")
    return share * weights["ICB_CODE"].map(totals)


def ae_resident_totals(inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A&E attendances per ICB, April 2024 - March 2025, by provider system and as residents.

    The sitrep groups hospitals by system, so an ICB's figure counts attendances at its
    providers, whoever they are. `residents` rescales it by the ICB's emergency admissions by
    ICB of responsibility (HES) over its emergency admissions by provider system (same sitrep,
    same months): it assumes that residents' A&E attendances cross ICB borders in the same
    proportion as their emergency admissions.
    """
    ae = inputs["ae"]
    year = ae[(ae["month"] >= AE_FIRST_MONTH) & (ae["month"] <= AE_LAST_MONTH)]
    months = year.groupby("icb_code")["month"].nunique()
    if (months != 12).any():
        raise ValueError(f"{F_AE}: not 12 months for {sorted(months[months != 12].index)}")
    sums = year.groupby("icb_code")[["total_attendances", "total_emergency_admissions"]].sum()
    hes = inputs["hes"].set_index("icb_code")["emergency_admissions"]
    out = pd.DataFrame(
        {
            "provider_attendances": sums["total_attendances"],
            "provider_emergency_admissions": sums["total_emergency_admissions"],
            "resident_emergency_admissions": hes.reindex(sums.index),
        }
    )
    if out.isna().any().any():
        raise ValueError(f"{F_AE} and {F_HES_APC} do not list the same ICBs")
    out["flow_ratio"] = out["resident_emergency_admissions"] / out["provider_emergency_admissions"]
    out["residents"] = out["provider_attendances"] * out["flow_ratio"]
    return out


def pcn_baselines(
    practices: pd.DataFrame, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """Modelled annual activity per PCN in 2024/25 (no growth: none is sourced).

    Emergency admissions: the ICB's HES 2024/25 count (ICB of responsibility) shared across
    all its October 2025 practices by population x G&A need. A&E attendances: the ICB's
    April 2024 - March 2025 sitrep attendances as residents (`ae_resident_totals`), shared the
    same way. Emergency bed days: emergency admissions x England's HES 2024/25 mean length of
    stay. Outpatient attendances: England's 2024/25 consultant-led attended total (Nursing and
    AHP main specialties out) shared across all England's practices by the same weights.
    """
    report.section("Activity baselines per PCN (modelled, 2024/25)")
    weights = practice_acute_weights(practices, inputs, report)
    hes = inputs["hes"].set_index("icb_code")
    england = hes.loc[ENGLAND_CODE]
    icb_hes = hes.drop(index=ENGLAND_CODE)
    missing = sorted(set(weights["ICB_CODE"]) - set(icb_hes.index))
    if missing:
        raise ValueError(f"{F_HES_APC}: no row for ICBs {missing}")
    mean_stay = float(england["mean_length_of_stay_days"])
    ae = ae_resident_totals(inputs)
    op_total = OP_ATTENDED_ENGLAND - OP_NURSING - OP_AHP

    weights["nel"] = apportion(weights, icb_hes["emergency_admissions"])
    weights["ed"] = apportion(weights, ae["residents"])
    weights["bed_days"] = weights["nel"] * mean_stay
    weights["op"] = weights["weight"] / weights["weight"].sum() * op_total
    activities = ["nel", "ed", "bed_days", "op"]
    members = weights[weights["PCN_CODE"] != UNALLOCATED]
    out = members.groupby("PCN_CODE")[activities].sum()
    out.columns = [f"baseline_{a}" for a in activities]
    report_baselines(weights, icb_hes, england, ae, op_total, report)
    return out


def report_baselines(
    weights: pd.DataFrame,
    icb_hes: pd.DataFrame,
    england: pd.Series,
    ae: pd.DataFrame,
    op_total: int,
    report: Report,
) -> None:
    allocated = weights["PCN_CODE"] != UNALLOCATED
    fae, bed_days = float(england["finished_admission_episodes"]), float(england["bed_days"])
    nel_eng = float(england["emergency_admissions"])
    mean_stay = float(england["mean_length_of_stay_days"])
    report.add(
        "- Apportionment key: April 2025 registered patients x the practice's G&A need index "
        "(the practice-level form of population x need_ga_eng), within each ICB for emergency "
        "admissions and A&E, across England for outpatients. Every October 2025 practice "
        "takes its share, unallocated ones included, so the PCNs get the ICB total less the "
        "unallocated practices' share.",
        f"- Emergency admissions ({F_HES_APC}, ICB of responsibility): the 42 ICB rows sum to "
        f"{fmt_int(icb_hes['emergency_admissions'].sum())} against {fmt_int(nel_eng)} for England "
        "(counts rounded to 5 and suppressed values not imputed); the ICB rows are used.",
        f"- Emergency bed days: England's {fmt_int(bed_days)} FCE bed days cover every admission "
        f"method; the file has no emergency bed days and no ICB bed days. Used: England mean "
        f"length of stay {mean_stay:.2f} days per emergency admission (HES length of stay counts "
        "ordinary admissions, day cases excluded; emergency admissions are ordinary "
        "admissions). It is the mean over every admission method, and emergency stays are "
        "usually longer than planned ones, so it probably understates emergency bed days. "
        f"Bounds from the same file: {bed_days / fae:.2f} (bed days per finished admission "
        f"episode, day cases included) to {bed_days / nel_eng:.2f} (every bed day charged to "
        "an emergency admission).",
        f"- A&E attendances ({F_AE}, {AE_FIRST_MONTH} to {AE_LAST_MONTH}): "
        f"{fmt_int(ae['provider_attendances'].sum())} in England, counted by provider system, "
        f"rescaled to residents by each ICB's HES emergency admissions over its sitrep "
        f"emergency admissions (England {fmt_int(ae['resident_emergency_admissions'].sum())} / "
        f"{fmt_int(ae['provider_emergency_admissions'].sum())}); residents' total "
        f"{fmt_int(ae['residents'].sum())}. The ratio runs from "
        f"{ae['flow_ratio'].min():.2f} ({ae['flow_ratio'].idxmin()}) to "
        f"{ae['flow_ratio'].max():.2f} ({ae['flow_ratio'].idxmax()}).",
        f"- Outpatient attendances (LICENCE-NOTES.md section 17, HES 2024-25): "
        f"{fmt_int(OP_ATTENDED_ENGLAND)} attended, less main specialties 950 Nursing "
        f"({fmt_int(OP_NURSING)}) and 960 Allied Health Professional ({fmt_int(OP_AHP)}) = "
        f"{fmt_int(op_total)} consultant-led attendances, first and follow-up together (the "
        "unit of the op_avoided outcome and of seed 001's 'acute' outpatient ambition). No ICB "
        "figure exists in the raw data, so England's total is shared by the key alone.",
        "- No growth to 2026/27-2030/31 is applied: none is sourced.",
        "",
        "Reconciliation (annual counts; PCNs + unallocated practices = the total apportioned):",
        "",
    )
    dln = weights["ICB_CODE"].isin(DLN_ICBS)
    rows = []
    for name, column, total in (
        ("emergency admissions", "nel", icb_hes["emergency_admissions"].sum()),
        ("A&E attendances (residents)", "ed", ae["residents"].sum()),
        ("emergency bed days", "bed_days", icb_hes["emergency_admissions"].sum() * mean_stay),
        ("outpatient attendances (consultant-led)", "op", op_total),
    ):
        rows.append(
            [
                name,
                fmt_int(total),
                fmt_int(weights.loc[allocated, column].sum()),
                fmt_int(weights.loc[~allocated, column].sum()),
                fmt_int(weights.loc[dln & allocated, column].sum()),
            ]
        )
    report.table(
        pd.DataFrame(
            rows,
            columns=[
                "activity",
                "England total",
                "to PCNs",
                "to unallocated practices",
                "DLN PCNs",
            ],
        )
    )
    report.add("", "DLN ICBs:", "")
    rows = []
    for icb in DLN_ICBS:
        sel = weights["ICB_CODE"] == icb
        rows.append(
            [
                icb,
                fmt_int(icb_hes.at[icb, "emergency_admissions"]),
                fmt_int(ae.at[icb, "provider_attendances"]),
                f"{ae.at[icb, 'flow_ratio']:.3f}",
                fmt_int(ae.at[icb, "residents"]),
                fmt_int(weights.loc[sel & allocated, "bed_days"].sum()),
                fmt_int(weights.loc[sel & allocated, "op"].sum()),
            ]
        )
    report.table(
        pd.DataFrame(
            rows,
            columns=[
                "ICB",
                "emergency admissions (HES)",
                "A&E, provider system",
                "HES / sitrep emergency admissions",
                "A&E, residents",
                "bed days to PCNs",
                "outpatients to PCNs",
            ],
        )
    )


# --------------------------------------------------------------------------------------------
# Priorities and higher-need flags


def priorities_table() -> pd.DataFrame:
    return pd.DataFrame([p.__dict__ for p in (*PRIORITIES, *UNFLAGGED_PRIORITIES)])


def need_scores(pcns: pd.DataFrame) -> pd.DataFrame:
    """The per-head need measure of each priority (see priorities.csv), one column each."""
    p = pcns.set_index("pcn_code")
    share = {
        band: p[band] / p["population"]
        for band in ("pop_0_19", "pop_40_64", "pop_75_plus", "pop_85_plus")
    }
    imd_ratio = p["imd_score"] / ((p["imd_score"] * p["population"]).sum() / p["population"].sum())
    scores = pd.DataFrame(
        {
            "cyp_obesity": share["pop_0_19"] * p["need_health_inequalities_eng"],
            "cyp_mental_health": share["pop_0_19"] * p["need_mental_health_eng"],
            "multimorbidity": share["pop_40_64"] * p["need_ga_eng"] * imd_ratio,
            "frailty": share["pop_75_plus"] * p["need_ga_eng"] * imd_ratio,
            "end_of_life": share["pop_85_plus"] * p["need_ga_eng"] * imd_ratio,
            "vaccination_screening": p["need_health_inequalities_eng"],
            "strong_general_practice": p["need_primary_care_eng"] * imd_ratio,
        }
    )
    # Rank on the published (rounded) value so that higher_need.csv is consistent by itself.
    return scores.round(DECIMALS)


def rank_within_icb(scores: pd.DataFrame, icb: pd.Series) -> pd.DataFrame:
    """Rank 1 = highest need in the ICB; ties go to the lower PCN code."""
    long = scores.stack().rename("need_score").reset_index()
    long.columns = ["pcn_code", "priority_id", "need_score"]
    long["icb_code"] = long["pcn_code"].map(icb)
    long = long.sort_values(
        ["icb_code", "priority_id", "need_score", "pcn_code"], ascending=[True, True, False, True]
    )
    long["rank_in_icb"] = long.groupby(["icb_code", "priority_id"]).cumcount() + 1
    long["pcns_in_icb"] = long.groupby(["icb_code", "priority_id"])["pcn_code"].transform("size")
    return long


def seed_matches(
    seed: pd.DataFrame, pcns: pd.DataFrame, nn_profile: pd.DataFrame, report: Report
) -> pd.DataFrame:
    """Map each seed 001 name to a PCN code and check populations."""
    unknown = sorted(set(seed["pcn"]) - set(SEED_NAME_TO_PCN))
    if unknown:
        raise ValueError(f"{F_SEED_DLN}: seed names without a mapping: {unknown}")
    p = pcns.set_index("pcn_code")
    seed = seed.assign(
        pcn_code=seed["pcn"].map(SEED_NAME_TO_PCN), icb_code=seed["icb"].map(SEED_ICB_NAME_TO_CODE)
    )
    wrong_icb = seed[seed["icb_code"] != seed["pcn_code"].map(p["icb_code"])]
    if not wrong_icb.empty:
        raise ValueError(f"seed names mapped to a PCN of another ICB: {wrong_icb['pcn'].tolist()}")
    seed["seed_population"] = (seed["population_k"] * 1000).round().astype(int)
    # Neighbourhoods are compared together, against the whole PCN.
    compare = seed.groupby("pcn_code")["seed_population"].transform("sum")
    seed["pcn_population"] = seed["pcn_code"].map(p["population"]).astype(int)
    seed["difference"] = seed["pcn_population"] / compare - 1
    seed["within_5pct"] = seed["difference"].abs() <= POPULATION_TOLERANCE

    report.section("Seed 001 higher-need PCNs: name to PCN code")
    report.add(
        f"{len(seed)} seed names ({F_SEED_DLN}) map to {seed['pcn_code'].nunique()} PCN codes. "
        "Population check: the PCN's April 2025 registered population against the seed's "
        "population_k (for the two Nottingham West neighbourhoods, against their sum).",
        "",
    )
    table = seed.assign(
        pcn_name=seed["pcn_code"].map(p["pcn_name"]),
        seed_population=seed["seed_population"].map(lambda v: f"{v:,}"),
        pcn_population=seed["pcn_population"].map(lambda v: f"{v:,}"),
        difference=seed["difference"].map(lambda v: f"{100 * v:+.1f}%"),
        within_5pct=np.where(seed["within_5pct"], "yes", "NO"),
        pcn_imd_quintile=seed["pcn_code"].map(p["imd_quintile"]),
    )[
        [
            "icb_code",
            "pcn",
            "pcn_code",
            "pcn_name",
            "seed_population",
            "pcn_population",
            "difference",
            "within_5pct",
            "imd_quintile",
            "pcn_imd_quintile",
        ]
    ]
    report.table(
        table.rename(
            columns={
                "pcn": "seed name",
                "imd_quintile": "seed IMD Q",
                "pcn_imd_quintile": "pcns.csv IMD Q",
            }
        )
    )
    pcn_rows = ~seed["pcn"].isin(NEIGHBOURHOOD_NAMES)
    same_q = int(
        (
            seed.loc[pcn_rows, "imd_quintile"]
            == seed.loc[pcn_rows, "pcn_code"].map(p["imd_quintile"])
        ).sum()
    )
    report.add(
        "",
        f"The seed's IMD quintile equals the national population quintile in pcns.csv "
        f"for {same_q} of the {int(pcn_rows.sum())} whole-PCN rows.",
    )
    stapleford = nn_profile.loc[nn_profile["pcn"] == "Stapleford", "patients"]
    hood = seed[seed["pcn"].isin(NEIGHBOURHOOD_NAMES)]
    hood_sum = int(hood["seed_population"].sum())
    hood_pop = hood.set_index("pcn")["seed_population"]
    pcn_pop = int(p.loc[NEIGHBOURHOOD_PCN, "population"])
    report.add(
        "",
        f"Beeston ({hood_pop['Beeston']:,}) and "
        f"Eastwood/Kimberley ({hood_pop['Eastwood/Kimberley']:,}) "
        f"are neighbourhoods of {p.loc[NEIGHBOURHOOD_PCN, 'pcn_name']} ({NEIGHBOURHOOD_PCN}, "
        f"{pcn_pop:,} patients), not PCNs. Together they hold {hood_sum:,}, "
        f"{fmt_pct(hood_sum / pcn_pop, 1)} of the PCN. The rest is the PCN's third "
        "neighbourhood, Stapleford, which the seed's higher-need table does not name: "
        + (
            f"{int(stapleford.iloc[0]):,} patients in {F_SEED_NN_PROFILE}, and "
            f"{hood_sum:,} + {int(stapleford.iloc[0]):,} = {hood_sum + int(stapleford.iloc[0]):,} "
            f"is within {fmt_pct(abs((hood_sum + int(stapleford.iloc[0])) / pcn_pop - 1), 2)} "
            "of the PCN."
            if not stapleford.empty
            else "not found in the N&N profile table."
        )
        + " The PCN is flagged for the union of the two neighbourhoods' priorities, so the "
        "flag covers the whole PCN though the seed targets two of its three neighbourhoods.",
    )
    bad = seed[~seed["within_5pct"] & ~seed["pcn"].isin(NEIGHBOURHOOD_NAMES)]
    report.add(
        "",
        f"Seed names outside the 5% population tolerance (other than the "
        f"neighbourhoods): {len(bad)}" + (f" ({', '.join(bad['pcn'])})" if len(bad) else ""),
    )
    return seed


def higher_need(
    pcns: pd.DataFrame, inputs: dict[str, pd.DataFrame], report: Report
) -> pd.DataFrame:
    """Long table of higher-need flags: seed 001 in DLN, the 25% rule elsewhere."""
    priority_ids = [p.priority_id for p in PRIORITIES]
    scores = need_scores(pcns)
    icb = pcns.set_index("pcn_code")["icb_code"]
    long = rank_within_icb(scores, icb)
    long["n_flagged"] = long["pcns_in_icb"].map(n_flagged)
    long["higher_need"] = (long["rank_in_icb"] <= long["n_flagged"]).astype(int)
    long["basis"] = "top_quarter_in_icb"
    long["note"] = ""

    seed = seed_matches(inputs["seed_dln"], pcns, inputs["seed_nn_profile"], report)
    seeded = [p for p in priority_ids if p != "cyp_mental_health"]
    if seed["cyp_mental_health"].sum() != 0:
        raise ValueError(f"{F_SEED_DLN}: PS2 flags are now published; update the build")
    per_icb = seed.groupby("icb_code")[seeded].sum()
    expected = pd.DataFrame({p: DLN_FLAGS_PER_PRIORITY for p in seeded}).reindex(per_icb.index)
    if not per_icb.equals(expected.astype(per_icb.dtypes.iloc[0])):
        raise ValueError(
            f"{F_SEED_DLN}: flags per ICB and priority differ from "
            f"{DLN_FLAGS_PER_PRIORITY}:\n{per_icb}"
        )
    seed_flags = seed.groupby("pcn_code")[seeded].max()

    in_dln = long["icb_code"].isin(DLN_ICBS)
    from_seed = in_dln & long["priority_id"].isin(seeded)
    flag = [
        seed_flags.at[c, p] if c in seed_flags.index else 0
        for c, p in zip(
            long.loc[from_seed, "pcn_code"], long.loc[from_seed, "priority_id"], strict=True
        )
    ]
    long.loc[from_seed, "higher_need"] = np.asarray(flag, dtype=int)
    long.loc[from_seed, "basis"] = "seed_001_table"
    hood = from_seed & (long["pcn_code"] == NEIGHBOURHOOD_PCN)
    long.loc[hood, "note"] = NEIGHBOURHOOD_NOTE
    ps2 = in_dln & (long["priority_id"] == "cyp_mental_health")
    long.loc[ps2, "n_flagged"] = long.loc[ps2, "icb_code"].map(DLN_FLAGS_PER_PRIORITY)
    long.loc[ps2, "higher_need"] = (
        long.loc[ps2, "rank_in_icb"] <= long.loc[ps2, "n_flagged"]
    ).astype(int)
    long.loc[ps2, "note"] = PS2_NOTE

    report_higher_need(long, pcns, priority_ids, report)
    order = {p: i for i, p in enumerate(priority_ids)}
    long = long.sort_values(
        ["pcn_code", "priority_id"], key=lambda s: s.map(order) if s.name == "priority_id" else s
    )
    return long[
        ["pcn_code", "priority_id", "higher_need", "basis", "need_score", "rank_in_icb", "note"]
    ].reset_index(drop=True)


def report_higher_need(
    long: pd.DataFrame, pcns: pd.DataFrame, priority_ids: list[str], report: Report
) -> None:
    report.section("Higher-need flags")
    sizes = pcns.groupby("icb_code").size()
    distinct = sorted(sizes.unique())
    report.add(
        "Rule outside DLN (seed 001 footnote L696/L730): in each ICB, for each priority, the "
        "PCNs ranked 1..n by need_score, n = round(0.25 x PCNs in ICB) with halves rounded up "
        "(floor(0.25 x N + 0.5)).",
        "",
        "PCNs per ICB -> PCNs flagged: " + ", ".join(f"{n} -> {n_flagged(n)}" for n in distinct),
        "",
        "Check against the seed's 4/4/7: 14-17 PCNs give 4 (3.5 rounds up to 4). 24 and 25 "
        "PCNs give 6, not 7; 26-29 give 7. No single share and rounding gives 4 for all of "
        "14-17 and 7 for all of 24-29: rounding to nearest needs a share below 26.5% (17 -> 4) "
        "and at least 27.1% (24 -> 7); rounding down needs at least 29.2% (24 -> 7) and below "
        "27.6% (29 -> 7); rounding up needs at most 23.5% (17 -> 4) and above 25% (24 -> 7). "
        "The seed's 7 in Nottingham & Nottinghamshire (24 PCNs) would fit 28 neighbourhood-level "
        "units (Nottingham West and Rushcliffe as three neighbourhoods each, as in "
        "nn_pcn_profile_2023.csv): round(0.25 x 28) = 7. For DLN, the seed's flags are used as "
        "published; the PS2 flags it does not publish use its own counts "
        f"{DLN_FLAGS_PER_PRIORITY}.",
        "",
        "DLN PCNs in the October 2025 map: "
        + ", ".join(f"{c} {int(sizes.get(c, 0))}" for c in DLN_ICBS)
        + f" = {int(sum(sizes.get(c, 0) for c in DLN_ICBS))}.",
        "",
        "PCNs flagged per priority:",
        "",
    )
    dln = long["icb_code"].isin(DLN_ICBS)
    rows = []
    for pid in priority_ids:
        sel = long["priority_id"] == pid
        row = [pid, int(long.loc[sel & ~dln, "higher_need"].sum())]
        row += [int(long.loc[sel & (long["icb_code"] == c), "higher_need"].sum()) for c in DLN_ICBS]
        seed_rows = sel & dln & (long["basis"] == "seed_001_table")
        if seed_rows.any():
            rule = seed_rows & (long["rank_in_icb"] <= long["icb_code"].map(DLN_FLAGS_PER_PRIORITY))
            agree = int((long.loc[rule, "higher_need"] == 1).sum())
            row.append(f"{agree} of {int(long.loc[seed_rows, 'higher_need'].sum())}")
        else:
            row.append("n/a (derived by the rule)")
        rows.append(row)
    report.table(
        pd.DataFrame(
            rows,
            columns=[
                "priority",
                "flagged outside DLN",
                *[f"flagged {c}" for c in DLN_ICBS],
                "DLN seed flags also in this build's top quarter",
            ],
        )
    )
    report.add(
        "",
        "The last column compares the seed's published flags with the PCNs this build's need "
        "measures rank in the top 4/4/7 of each DLN ICB: it shows how far the simple open-data "
        "measures reproduce the seed's local judgement (which also used 'soft' "
        "intelligence, L660).",
    )


# --------------------------------------------------------------------------------------------
# Assembly and writing


PCN_ID_COLUMNS = [
    "pcn_code",
    "pcn_name",
    "icb_code",
    "icb_name",
    "place_code",
    "place_name",
    "place_basis",
    "sub_icb_code",
    "region_code",
    "region_name",
]


def build(inputs: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], Report]:
    report = Report()
    practices = practice_table(inputs, report)
    members = practices[practices["PCN_CODE"] != UNALLOCATED]
    pcn_codes = sorted(members["PCN_CODE"].unique())

    geo = pcn_geography(members, report).set_index("pcn_code")
    places = pcn_places(members, geo.reset_index(), inputs, report)
    population = pcn_population(members)
    practice_scores = practice_imd(members, inputs)
    imd = pcn_imd(practice_scores, inputs, report)
    need = pcn_need(members, practices, geo.reset_index(), inputs, report)
    prevalence = pcn_prevalence(members, practices, geo.reset_index(), inputs, report)
    workforce = pcn_workforce(pcn_codes, geo["icb_code"], inputs, report)
    centroid = pcn_centroid(members, inputs)
    rurality = pcn_rurality(members, inputs, report)
    baselines = pcn_baselines(practices[practices["has_population"]], inputs, report)

    pcns = (
        geo.join(places)
        .join(population)
        .join(imd)
        .join(need)
        .join(prevalence)
        .join(workforce)
        .join(centroid)
        .join(rurality)
        .join(baselines)
        .reindex(pcn_codes)
    )
    pcns.index.name = "pcn_code"
    pcns = pcns.reset_index()
    pcns["imd_quintile"] = imd_quintiles(pcns)
    shares = imd_people_split(practice_scores, pcns, report)
    pcns = pcns.join(shares, on="pcn_code")
    pcns = pcns[
        [
            *PCN_ID_COLUMNS,
            "practices",
            "population",
            *AGE_BANDS,
            "practices_without_population",
            "imd_score",
            "imd_quintile",
            "imd_source",
            *SHARE_COLUMNS,
            *need.columns,
            *prevalence.columns,
            *workforce.columns,
            "latitude",
            "longitude",
            *rurality.columns,
            *baselines.columns,
        ]
    ]
    problems = pcns.columns[pcns.isna().any()].tolist()
    if problems:
        raise ValueError(f"pcns.csv would have empty values in {problems}")
    report_summary(pcns, practices, report)

    higher = higher_need(pcns, inputs, report)
    return {"pcns": pcns, "higher_need": higher, "priorities": priorities_table()}, report


def report_summary(pcns: pd.DataFrame, practices: pd.DataFrame, report: Report) -> None:
    report.section("pcns.csv summary")
    pop = pcns["population"]
    quintiles = pcns.groupby("imd_quintile")["population"].agg(["size", "sum"])
    report.add(
        f"- PCNs: {len(pcns):,} in {pcns['icb_code'].nunique()} ICBs; member practices "
        f"{int(pcns['practices'].sum()):,}; registered patients {fmt_int(pop.sum())}.",
        "- Population-weighted mean of need_overall_eng: "
        f"{(pcns['need_overall_eng'] * pop).sum() / pop.sum():.6f}.",
        "- Population share by IMD quintile (1 = most deprived): "
        + ", ".join(
            f"Q{q} {fmt_pct(r['sum'] / pop.sum(), 1)} ({int(r['size'])} PCNs)"
            for q, r in quintiles.iterrows()
        ),
        f"- PCN population range: {fmt_int(pop.min())} to {fmt_int(pop.max())}.",
    )


def format_for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(DECIMALS)
    return out


def write_outputs(tables: dict[str, pd.DataFrame], report: Report, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        format_for_csv(frame).to_csv(
            out_dir / f"{name}.csv", index=False, lineterminator="\n", float_format=FLOAT_FORMAT
        )
    (out_dir / "build_report.md").write_text(report.text(), encoding="utf-8", newline="\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--raw", type=Path, default=DEFAULT_RAW, help=f"raw data directory (default {DEFAULT_RAW})"
    )
    parser.add_argument(
        "--seed-tables",
        type=Path,
        default=None,
        help="seed table directory (default <raw>/../seed_tables)",
    )
    parser.add_argument(
        "--staff-groups",
        type=Path,
        default=DEFAULT_STAFF_GROUPS,
        help=f"staff group table (default {DEFAULT_STAFF_GROUPS})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed_tables = args.seed_tables or args.raw.parent / "seed_tables"
    try:
        inputs = load_inputs(args.raw, seed_tables, args.staff_groups)
        tables, report = build(inputs)
    except (FileNotFoundError, ValueError) as error:
        print(f"build_data: {error}", file=sys.stderr)
        return 1
    write_outputs(tables, report, args.out)
    pcns = tables["pcns"]
    print(
        f"wrote {len(pcns):,} PCNs ({int(pcns['population'].sum()):,} patients), "
        f"{len(tables['higher_need']):,} higher-need rows and {len(tables['priorities'])} "
        f"priorities to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
