"""Table schemas: every column the tool reads, with its type, unit and meaning, in one place.

A schema is used twice: to validate a user's table (every problem reported at once) and to
document it (the data dictionary in data/README.md names the same columns).
"""

from __future__ import annotations

from dataclasses import dataclass

OUTCOMES = ("qaly", "nel_avoided", "ed_avoided", "bed_days_avoided", "op_avoided")
ACTIVITY_OUTCOMES = OUTCOMES[1:]
OUTCOME_LABELS = {
    "qaly": "QALYs gained",
    "nel_avoided": "emergency admissions avoided",
    "ed_avoided": "A&E attendances avoided",
    "bed_days_avoided": "hospital bed days avoided",
    "op_avoided": "outpatient attendances avoided",
}
STAFF_SHORT = {  # staff groups in the words of a sentence ("one more WTE of ...")
    "gp": "GPs", "nurse": "nurses", "clinical_pharmacist": "clinical pharmacists",
    "pharmacy_technician": "pharmacy technicians", "care_coordinator": "care coordinators",
    "personalised_care": "social prescribers and health coaches",
    "mental_health_practitioner": "PCN mental health practitioners",
    "allied_health": "allied health professionals", "support_worker": "HCAs and support workers",
    "community_nursing": "community nurses",
    "specialist_mental_health": "specialist mental health staff",
    "specialist_medical": "hospital specialists",
}


def staff_short(group: str) -> str:
    """A staff group's short plural name (its id in words when it has none)."""
    return STAFF_SHORT.get(group, group.replace("_", " "))


PRIORITY_SHORT = {  # the shipped priorities, short enough for a chart axis or a table
    "cyp_obesity": "CYP obesity",
    "cyp_mental_health": "CYP mental health",
    "multimorbidity": "Multimorbidity",
    "frailty": "Frailty",
    "end_of_life": "End of life",
    "vaccination_screening": "Vaccination & screening",
    "strong_general_practice": "General practice",
    "outpatient_redesign": "Outpatient redesign",
}


def priority_short(priority_id: str) -> str:
    """A priority's short name (CYP: children and young people); its id in words when it has
    none."""
    return PRIORITY_SHORT.get(priority_id, priority_id.replace("_", " ").capitalize())


TIERS = ("core", "enhanced")
LEVERS = ("reach", "access", "intensity", "coordination", "enablement")
# Who holds the contract for an intervention (issue 17): a PCN, a place, or the whole ICB.
DELIVERY_LEVELS = ("pcn", "place", "icb")
# The kinds of proactive care an intervention counts towards (seed 001 L639-640): people
# case-managed and people condition-managed (data/INTERVENTIONS.md, section 13).
MANAGEMENT_KINDS = ("case", "condition")
# The unit of a minimum viable size: a team (WTE), a clinic or cohort (people reached a
# year), or a contract worth tendering (£ a year).
MIN_SIZE_UNITS = ("wte", "people", "gbp")
# Commissioning facts: each figure, when given, needs the column after it saying where it
# comes from (data/INTERVENTIONS.md, section 11).
COMMISSIONING_BASIS = {
    "delivery_level": "delivery_level_basis",
    "min_size": "min_size_basis",
    "setup_cost_gbp": "setup_cost_basis",
}
POPULATION_COLUMNS = (
    "population",
    "pop_0_19",
    "pop_20_39",
    "pop_40_64",
    "pop_50_64",
    "pop_65_plus",
    "pop_75_plus",
    "pop_85_plus",
)
PREVALENCE_COLUMNS = (
    "prev_hypertension",
    "prev_chd",
    "prev_af",
    "prev_heart_failure",
    "prev_stroke_tia",
    "prev_smoking",
)
NEED_DOMAINS = (
    "ga",
    "community",
    "mental_health",
    "maternity",
    "health_inequalities",
    "prescribing",
    "primary_care",
    "overall",
)
NEED_COLUMNS = tuple(f"need_{d}_{rel}" for d in NEED_DOMAINS for rel in ("eng", "icb"))
# The share of a PCN's people in each national IMD quintile (1 = most deprived): the people
# split used by every by-quintile figure and the equity weight. Optional: without them a PCN
# counts wholly in its imd_quintile.
QUINTILE_SHARE_COLUMNS = tuple(f"imd_q{q}_share" for q in range(1, 6))
# Modelled annual activity per PCN (2024/25, no growth) behind each avoided-activity outcome.
# Optional: a table without them has no baselines to report against.
BASELINE_COLUMNS = {
    "nel_avoided": "baseline_nel",
    "ed_avoided": "baseline_ed",
    "bed_days_avoided": "baseline_bed_days",
    "op_avoided": "baseline_op",
}
RURALITY_BANDS = ("urban", "mixed", "rural")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text", "int", "float", "bool"
    unit: str = ""
    meaning: str = ""
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False  # strictly greater than zero
    choices: tuple[str, ...] | None = None
    may_be_blank: bool = False


@dataclass(frozen=True)
class TableSchema:
    name: str  # file stem and workbook sheet name
    key: str | tuple[str, ...]
    columns: tuple[Column, ...]
    prefixes: tuple[Column, ...] = ()  # column families, e.g. fte_<staff group>

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        for fam in self.prefixes:
            if name.startswith(fam.name):
                return fam
        return None


def _share(name: str, meaning: str, required: bool = True) -> Column:
    return Column(name, "float", "share 0-1", meaning, required, minimum=0.0, maximum=1.0)


PCNS = TableSchema(
    "pcns",
    "pcn_code",
    (
        Column("pcn_code", "text", "", "PCN code (ODS)"),
        Column("pcn_name", "text", "", "PCN name"),
        Column("icb_code", "text", "", "ICB code, e.g. QJ2"),
        Column("icb_name", "text", "", "ICB name"),
        Column("place_code", "text", "", "the place: the ICB's own place (a Place-Based "
               "Partnership) where the ICB defines one, else the sub-ICB location code"),
        Column("place_name", "text", "", "the place's name"),
        Column("place_basis", "text", "", "where the place comes from", required=False,
               choices=("place_partnership", "sub_icb")),
        Column("sub_icb_code", "text", "", "sub-ICB location code", required=False),
        Column("region_code", "text", "", "NHS England region code", required=False),
        Column("region_name", "text", "", "NHS England region name", required=False),
        Column("practices", "int", "practices", "member GP practices", False, minimum=0),
        Column("practices_without_population", "int", "practices", "", False, minimum=0),
        Column("population", "int", "people", "registered population", positive=True),
        *(
            Column(c, "int", "people", f"registered population aged {c[4:]}", minimum=0)
            for c in POPULATION_COLUMNS[1:]
        ),
        Column("imd_score", "float", "IMD 2019 score", "population-weighted", minimum=0),
        Column("imd_quintile", "int", "1-5", "national IMD quintile, 1 = most deprived",
               minimum=1, maximum=5),
        Column("imd_source", "text", "", "how the IMD score was derived", required=False),
        *(_share(c, f"share of the PCN's people in national IMD quintile {c[5]} (by its "
                 "practices' quintiles); the five sum to 1", required=False)
          for c in QUINTILE_SHARE_COLUMNS),
        *(Column(c, "float", "index", "need index", minimum=0, positive=True)
          for c in NEED_COLUMNS),
        *(_share(c, "prevalence") for c in PREVALENCE_COLUMNS),
        Column("workforce_in_census", "bool", "", "PCN found in the workforce census", False),
        Column("latitude", "float", "degrees", "population-weighted centroid",
               minimum=49.0, maximum=61.0),
        Column("longitude", "float", "degrees", "population-weighted centroid",
               minimum=-8.0, maximum=2.5),
        _share("rural_share", "share of the PCN's patients in practices classed Rural",
               required=False),
        Column("rurality_band", "text", "", "urban, mixed or rural (by rural_share)",
               required=False, choices=RURALITY_BANDS),
        *(Column(c, "float", f"{OUTCOME_LABELS[o].removesuffix(' avoided')} a year",
                 "modelled 2024/25 baseline (data/README.md)", required=False, minimum=0)
          for o, c in BASELINE_COLUMNS.items()),
    ),
    prefixes=(Column("fte_", "float", "FTE", "PCN workforce census FTE", False, minimum=0),),
)

_RANGED = ("cohort_share", "max_uptake", "cost_gbp", *OUTCOMES)

INTERVENTIONS = TableSchema(
    "interventions",
    "intervention_id",
    (
        Column("intervention_id", "text", "", "unique id"),
        Column("priority_id", "text", "", "priority (a priority_id of the priorities table)"),
        Column("name", "text", "", "intervention name"),
        Column("evidence_row", "text", "", "row of the evidence memo", False, may_be_blank=True),
        Column("seed_line", "text", "", "line of seed 001", False, may_be_blank=True),
        Column("tier", "text", "", "core or enhanced", choices=TIERS),
        Column("lever", "text", "", "proportionate-universalism lever", choices=LEVERS),
        Column("cohort_population", "text", "", "population column", choices=POPULATION_COLUMNS),
        Column("cohort_prevalence", "text", "", "prevalence column or blank",
               choices=PREVALENCE_COLUMNS, may_be_blank=True),
        *(
            c
            for base in ("cohort_share", "max_uptake")
            for c in (_share(base, base), _share(f"{base}_low", base), _share(f"{base}_high", base))
        ),
        *(
            Column(n, "float", "GBP 2024/25 per person reached", "cost", positive=True)
            for n in ("cost_gbp", "cost_gbp_low", "cost_gbp_high")
        ),
        Column("wte_scale_low", "float", "multiplier", "low WTE multiplier", minimum=0),
        Column("wte_scale_high", "float", "multiplier", "high WTE multiplier", minimum=0),
        *(
            Column(f"{o}{s}", "float", "per person reached", f"{o} per person reached")
            for o in OUTCOMES
            for s in ("", "_low", "_high")
        ),
        Column("outcome_horizon", "text", "", "annual or lifetime", False,
               choices=("annual", "lifetime")),
        Column("price_year", "text", "", "price year", False),
        Column("sources", "text", "", "sources"),
        Column("confidence", "text", "", "confidence grade"),
        Column("notes", "text", "", "derivation", False, may_be_blank=True),
        # Commissioning facts (issue 17). Optional columns, so a workbook made before them
        # still loads; inputs.check_commissioning_facts checks them against each other.
        Column("delivery_level", "text", "", "who holds the contract: pcn, place or icb",
               False, choices=DELIVERY_LEVELS, may_be_blank=True),
        Column("delivery_level_basis", "text", "", "source or stated assumption of the level",
               False, may_be_blank=True),
        Column("min_size", "float", "min_size_unit a year", "minimum viable size, or blank",
               False, positive=True, may_be_blank=True),
        Column("min_size_unit", "text", "", "wte, people or gbp", False,
               choices=MIN_SIZE_UNITS, may_be_blank=True),
        Column("min_size_basis", "text", "", "source or stated assumption of the size", False,
               may_be_blank=True),
        Column("setup_cost_gbp", "float", "GBP 2024/25, one-off", "set-up cost, or blank", False,
               minimum=0, may_be_blank=True),
        Column("setup_cost_basis", "text", "", "source or stated assumption of the set-up cost",
               False, may_be_blank=True),
        Column("commissioning_confidence", "text", "",
               "confidence in the level, size and set-up cost", False, may_be_blank=True),
        # Which of seed 001's proactive-care ambitions (L639-640) the people reached count
        # towards (issue 16): case or condition management, blank for neither. Optional.
        Column("management", "text", "", "case, condition or blank", False,
               choices=MANAGEMENT_KINDS, may_be_blank=True),
        Column("management_basis", "text", "", "why the row is case or condition management",
               False, may_be_blank=True),
    ),
    prefixes=(
        Column("wte_per_1000_", "float", "WTE per 1,000 reached", "workforce", False, minimum=0),
    ),
)

STAFF_GROUPS = TableSchema(
    "staff_groups",
    "staff_group",
    (
        Column("staff_group", "text", "", "staff group id"),
        Column("name", "text", "", "staff group name"),
        Column("census_roles", "text", "", "census roles mapped", False, may_be_blank=True),
        Column("in_pcn_census", "bool", "", "counted in the PCN workforce census"),
        Column("afc_band", "text", "", "Agenda for Change band", False, may_be_blank=True),
        Column("annual_cost_gbp", "float", "GBP 2024/25 per WTE", "annual cost", False,
               positive=True),
        Column("hours_per_wte", "float", "hours a year", "working hours", False, positive=True),
        Column("price_year", "text", "", "price year", False),
        Column("source", "text", "", "source", False),
        Column("confidence", "text", "", "confidence", False),
    ),
)

UNIT_COSTS = TableSchema(
    "unit_costs",
    "outcome",
    (
        Column("outcome", "text", "", "outcome id", choices=OUTCOMES),
        Column("name", "text", "", "name", False),
        Column("unit", "text", "", "unit", False),
        Column("unit_cost_gbp", "float", "GBP 2024/25", "unit cost", positive=True),
        Column("unit_cost_gbp_low", "float", "GBP 2024/25", "low", False, positive=True),
        Column("unit_cost_gbp_high", "float", "GBP 2024/25", "high", False, positive=True),
        Column("price_year", "text", "", "price year", False),
        Column("source", "text", "", "source", False),
        Column("confidence", "text", "", "confidence", False),
        Column("note", "text", "", "note", False, may_be_blank=True),
    ),
)

HIGHER_NEED = TableSchema(
    "higher_need",
    ("pcn_code", "priority_id"),
    (
        Column("pcn_code", "text", "", "PCN code"),
        Column("priority_id", "text", "", "priority (a priority_id of the priorities table)"),
        Column("higher_need", "int", "0/1", "flagged for enhanced support", minimum=0, maximum=1),
        Column("basis", "text", "", "where the flag comes from", False),
        Column("need_score", "float", "", "need measure", False),
        Column("rank_in_icb", "int", "", "rank within ICB", False),
        Column("note", "text", "", "note", False, may_be_blank=True),
    ),
)

PRIORITIES_TABLE = TableSchema(
    "priorities",
    "priority_id",
    (
        Column("priority_id", "text", "", "priority id"),
        Column("code", "text", "", "seed code, e.g. PS1"),
        Column("name", "text", "", "priority name"),
        Column("segment", "text", "", "population segment", False, may_be_blank=True),
        Column("higher_need_measure", "text", "", "need measure", False, may_be_blank=True),
        Column("notes", "text", "", "notes", False, may_be_blank=True),
    ),
)

TABLES = (PCNS, INTERVENTIONS, STAFF_GROUPS, UNIT_COSTS, HIGHER_NEED, PRIORITIES_TABLE)
RANGED_FIGURES = _RANGED
