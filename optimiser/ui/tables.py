"""Tables shaped for the views, from an Allocation (pandas only, no Streamlit).

`styled` gives a table its words for numbers Streamlit's column formats cannot write (a sign
before the £: −£50,920, +£1,204), while the numbers beneath still sort as numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import formats
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
    frame = pcns[["pcn_code", "pcn_name", "icb_code", "icb_name", "place_name", "imd_quintile",
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


def styled(frame: pd.DataFrame, money: tuple[str, ...] = (), signed_money: tuple[str, ...] = (),
           pence: tuple[str, ...] = (), signed_pence: tuple[str, ...] = ()):
    """`frame` as a pandas Styler whose columns show £ with separators and a true sign in
    front (−£50,920; signed: +£1,204; pence: £34.78). Streamlit shows the words and sorts by
    the numbers; leave these columns' format out of the column_config (it would win)."""
    def fmt(decimals: int, signed: bool):
        return lambda v: formats.gbp(float(v), decimals, signed=signed)

    spec = {c: fmt(0, False) for c in money} | {c: fmt(0, True) for c in signed_money}
    spec |= {c: fmt(2, False) for c in pence} | {c: fmt(2, True) for c in signed_pence}
    return frame.style.format({c: f for c, f in spec.items() if c in frame.columns})
