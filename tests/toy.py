"""Tiny hand-checkable models built in code: two PCNs, two interventions, one staff group.

Every number is chosen so the optimum can be worked out by hand before the test runs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optimiser.errors import Problems
from optimiser.inputs import build_inputs
from optimiser.policy import CONSTRAINTS, OFF_UNLESS_SET, Policy
from optimiser.schemas import (
    NEED_COLUMNS,
    OUTCOMES,
    POPULATION_COLUMNS,
    PREVALENCE_COLUMNS,
)

# The seven priorities of seed 001 with higher-need PCNs (the shipped priorities table has these
# ids and CC3 outpatient_redesign, which the toy models do not need)
PRIORITIES = ("cyp_obesity", "cyp_mental_health", "multimorbidity", "frailty", "end_of_life",
              "vaccination_screening", "strong_general_practice")


def pcn_row(code: str, icb: str, population: int, quintile: int, **extra) -> dict:
    row = {
        "pcn_code": code, "pcn_name": f"{code} PCN", "icb_code": icb, "icb_name": f"{icb} ICB",
        "place_code": f"{icb}P", "place_name": f"{icb} place", "population": population,
        # every age band as large as it may be: all the PCN's people are 65 and over
        **{c: (population if c in ("pop_65_plus", "pop_75_plus", "pop_85_plus") else 0)
           for c in POPULATION_COLUMNS[1:]},
        "imd_score": 10.0 * (6 - quintile), "imd_quintile": quintile,
        **{c: 1.0 for c in NEED_COLUMNS},
        **{c: 0.1 for c in PREVALENCE_COLUMNS},
        "fte_nurse": 10.0,
        "latitude": 52.9, "longitude": -1.2,
    }
    row.update(extra)
    return row


def intervention_row(iid: str, priority: str, tier: str, cost: float, qaly: float,
                     share: float = 1.0, wte: float = 0.0, **extra) -> dict:
    row = {
        "intervention_id": iid, "priority_id": priority, "name": iid, "tier": tier,
        "lever": "reach", "cohort_population": "population", "cohort_prevalence": "",
        "cohort_share": share, "cohort_share_low": share, "cohort_share_high": share,
        "max_uptake": 1.0, "max_uptake_low": 1.0, "max_uptake_high": 1.0,
        "cost_gbp": cost, "cost_gbp_low": cost, "cost_gbp_high": cost,
        "wte_per_1000_nurse": wte, "wte_scale_low": 1.0, "wte_scale_high": 1.0,
        "sources": "toy", "confidence": "toy",
    }
    for o in OUTCOMES:
        v = qaly if o == "qaly" else 0.0
        row.update({o: v, f"{o}_low": v, f"{o}_high": v})
    row.update(extra)
    return row


def toy_tables(pcns: list[dict], interventions: list[dict], higher_need: dict | None = None,
               priorities: tuple[str, ...] = PRIORITIES):
    pcn_frame = pd.DataFrame(pcns)
    flags = []
    for p in pcn_frame["pcn_code"]:
        for r in priorities:
            flags.append({"pcn_code": p, "priority_id": r,
                          "higher_need": int(r in (higher_need or {}).get(p, ()))})
    return {
        "pcns": pcn_frame,
        "interventions": pd.DataFrame(interventions),
        "staff_groups": pd.DataFrame([{"staff_group": "nurse", "name": "Nurses",
                                       "census_roles": "", "in_pcn_census": True}]),
        "unit_costs": pd.DataFrame([
            {"outcome": o, "unit_cost_gbp": 100.0} for o in OUTCOMES
        ]),
        "higher_need": pd.DataFrame(flags),
        "priorities": pd.DataFrame([{"priority_id": r, "code": r, "name": r}
                                    for r in priorities]),
    }


def toy_policy(**changes) -> Policy:
    base = dict(
        name="toy", description="", icbs=("all",), years=("2026/27",), data="",
        discount_rate=0.0, budget_gbp=(1000.0,), gbp_per_head=None,
        workforce_scope="icb", deployable_share=1.0, annual_growth=0.0, limited_groups=(),
        qaly_gbp=1000.0, cash_releasing_share=1.0,
        priority_weight={},
        constraints={c: c not in OFF_UNLESS_SET for c in CONSTRAINTS},
        mobilisation_max_growth=1.0, continuity_max_fall=1.0,
    )
    base.update(changes)
    return Policy(**base)


def toy_inputs(pcns, interventions, higher_need=None, priorities=PRIORITIES,
               **policy_changes):
    return build_inputs(toy_policy(**policy_changes), Path("."), Problems(),
                        tables=toy_tables(pcns, interventions, higher_need, priorities))
