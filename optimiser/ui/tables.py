"""Tables shaped for the views, from an Allocation (pandas only, no Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..results import Allocation
from .glossary import short_priority


def pcn_frame(allocation: Allocation, year: str | None) -> pd.DataFrame:
    """One row per PCN for the year in view (None: a typical year, the mean of all years).

    Built from the detail table with vectorised sums; the same figures as Allocation.by_pcn
    and by_pcn_year (tests/test_app.py checks it), faster for a rerun.
    """
    inputs = allocation.inputs
    detail = allocation.detail
    if year is not None:
        detail = detail[detail["year"] == year]
    years = 1 if year is not None else len(inputs.years)
    sums = detail.groupby("pcn_code")[["people_reached", "spend_gbp", "qaly", "nel_avoided",
                                       "weighted_value_gbp"]].sum() / years
    pcns = inputs.pcns
    frame = pcns[["pcn_code", "pcn_name", "icb_code", "place_name", "imd_quintile",
                  "imd_score", "population"]].copy()
    frame = frame.join(sums).fillna({c: 0.0 for c in sums.columns})
    population = frame["population"].astype(float)
    eligible = inputs.priority_cohort.sum(axis=1).reindex(pcns.index)
    frame["spend_per_head_gbp"] = frame["spend_gbp"] / population
    frame["spend_per_eligible_gbp"] = frame["spend_gbp"] / eligible.replace(0, np.nan)
    flags = inputs.higher_need.reindex(index=pcns.index, columns=list(inputs.priority_ids),
                                       fill_value=False).to_numpy()
    frame["higher_need_count"] = flags.sum(axis=1).astype(int)
    labels = np.array([short_priority(r) for r in inputs.priority_ids])
    frame["higher_need_priorities"] = [", ".join(labels[row]) for row in flags]
    frame["imd_quintile"] = frame["imd_quintile"].astype(int)
    return frame.reset_index(drop=True)
