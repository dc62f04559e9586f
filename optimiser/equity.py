"""Inequality metrics, computed on the optimiser's own output.

Every function takes per-area values (e.g. spend per head per PCN) with population weights and
an order by deprivation. Conventions, stated once:

* People, not areas, are counted by quintile: each area's (PCN's) population is split across
  the national IMD quintiles by `shares` (the share of its people in each; a PCN with no split
  has share 1 in its own quintile), and a value per head is taken as the same for everyone in
  the area. So quintile q gets sum_a pop_a s_aq people and sum_a y_a pop_a s_aq of the value.
* Rank: areas are ordered from most deprived (rank near 0) to least deprived (rank near 1); an
  area's rank is the midpoint of its population's cumulative share (its "ridit"). Areas with
  the same deprivation score share one rank, the midpoint of their combined population. In
  `summary` the groups ranked are the five quintiles (people in one quintile share a rank).
* Q1:Q5 ratio: value per head in IMD quintile 1 (most deprived) over quintile 5. Above 1 means
  more per head where deprivation is greatest (pro-deprived).
* Slope index of inequality (SII): the fitted value at the most deprived end minus the fitted
  value at the least deprived end (population-weighted least squares of value on rank).
  Positive means pro-deprived. Relative index (RII) = fitted most-deprived end over fitted
  least-deprived end.
* Concentration index: 2 cov(value, rank) / mean(value), population-weighted, in [-1, 1].
  Negative means the value is concentrated among the more deprived.
* Atkinson index with inequality aversion e: 1 - EDE/mean, where the equally distributed
  equivalent EDE = (sum w y^(1-e) / sum w)^(1/(1-e)), and the geometric mean when e = 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ATKINSON_AVERSIONS = (0.5, 1.0, 2.0)  # mild, moderate (geometric mean) and strong aversion


def _arrays(values, weights) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if y.shape != w.shape:
        raise ValueError("values and weights must have the same length")
    return y, w


def ridit(deprivation_score, weights) -> np.ndarray:
    """Rank 0 (most deprived) to 1 (least deprived), population midpoints.

    `deprivation_score`: higher means more deprived (e.g. IMD score).
    """
    score, w = _arrays(deprivation_score, weights)
    levels, group = np.unique(-score, return_inverse=True)  # most deprived level first
    share = np.bincount(group, weights=w, minlength=len(levels)) / w.sum()
    mid = np.cumsum(share) - share / 2.0
    return mid[group]


def quintile_ratio(per_head_by_quintile: pd.Series) -> float:
    """Q1 over Q5 of a value per head; NaN when Q5 is zero."""
    q1, q5 = per_head_by_quintile.get(1, np.nan), per_head_by_quintile.get(5, np.nan)
    return float(q1 / q5) if q5 else float("nan")


def quintile_gap(per_head_by_quintile: pd.Series) -> float:
    """Q1 minus Q5 of a value per head (absolute gap)."""
    return float(per_head_by_quintile.get(1, np.nan) - per_head_by_quintile.get(5, np.nan))


def _weighted_fit(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of weighted least squares y ~ a + b x."""
    sw = w.sum()
    xm, ym = (w * x).sum() / sw, (w * y).sum() / sw
    var = (w * (x - xm) ** 2).sum()
    slope = (w * (x - xm) * (y - ym)).sum() / var if var > 0 else 0.0
    return ym - slope * xm, slope


def slope_index(values, weights, deprivation_score) -> float:
    """SII: fitted value at the most deprived end minus at the least deprived end."""
    y, w = _arrays(values, weights)
    rank = ridit(deprivation_score, w)
    _, slope = _weighted_fit(y, rank, w)
    return float(-slope)


def relative_index(values, weights, deprivation_score) -> float:
    """RII: fitted value at the most deprived end over the fitted value at the least deprived."""
    y, w = _arrays(values, weights)
    rank = ridit(deprivation_score, w)
    intercept, slope = _weighted_fit(y, rank, w)
    least = intercept + slope
    return float(intercept / least) if least else float("nan")


def concentration_index(values, weights, deprivation_score) -> float:
    """2 cov_w(y, rank) / mean_w(y); negative = concentrated among the more deprived."""
    y, w = _arrays(values, weights)
    rank = ridit(deprivation_score, w)
    sw = w.sum()
    mean = (w * y).sum() / sw
    if mean == 0:
        return float("nan")
    cov = (w * (y - mean) * (rank - (w * rank).sum() / sw)).sum() / sw
    return float(2.0 * cov / mean)


def equally_distributed_equivalent(values, weights, aversion: float) -> float:
    """Atkinson's EDE of a non-negative value per head."""
    y, w = _arrays(values, weights)
    if (y < 0).any():
        raise ValueError("the Atkinson measures need values of 0 or more")
    if aversion < 0:
        raise ValueError("inequality aversion must be 0 or more")
    keep = w > 0
    y, p = y[keep], w[keep] / w[keep].sum()
    if aversion == 0:
        return float((p * y).sum())
    if aversion >= 1 and (y == 0).any():
        return 0.0  # the geometric mean, and every stronger aversion, is 0 when anyone has 0
    if aversion == 1:
        return float(np.exp((p * np.log(y)).sum()))
    return float(((p * y ** (1.0 - aversion)).sum()) ** (1.0 / (1.0 - aversion)))


def atkinson_index(values, weights, aversion: float) -> float:
    """1 - EDE / mean: the share of the mean that could be given up for perfect equality."""
    y, w = _arrays(values, weights)
    mean = (w * y).sum() / w.sum()
    if mean == 0:
        return float("nan")
    return float(1.0 - equally_distributed_equivalent(y, w, aversion) / mean)


def atkinson_summary(values, weights, name: str,
                     aversions: tuple[float, ...] = ATKINSON_AVERSIONS) -> dict[str, float]:
    """EDE and Atkinson index of one value per head for each inequality aversion.

    Keys `{name}_ede_e{aversion}` and `{name}_atkinson_e{aversion}` (e.g. value_per_head_ede_e1).
    """
    out = {}
    for e in aversions:
        out[f"{name}_ede_e{e:g}"] = equally_distributed_equivalent(values, weights, e)
        out[f"{name}_atkinson_e{e:g}"] = atkinson_index(values, weights, e)
    return out


QUINTILES = (1, 2, 3, 4, 5)


def single_quintile_shares(quintile) -> pd.DataFrame:
    """Shares (area x quintiles 1-5) for areas that are each wholly in one quintile."""
    q = np.asarray(quintile, dtype=int)
    index = quintile.index if isinstance(quintile, pd.Series) else None
    return pd.DataFrame((q[:, None] == np.array(QUINTILES)[None, :]).astype(float),
                        index=index, columns=list(QUINTILES))


def split_by_quintile(totals: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Area totals shared across quintiles by the share of each area's people in each.

    `totals` (area x measure: population, £, outcomes) and `shares` (area x quintiles 1-5, rows
    summing to 1) in the same area order; returns quintile x measure, every quintile listed.
    A total is shared like the population, so its value per head is the same in every quintile
    an area reaches.
    """
    s = np.asarray(shares, dtype=float)
    if s.shape != (len(totals), len(QUINTILES)):
        raise ValueError("shares need one row per area and one column per quintile (1 to 5)")
    values = s.T @ totals.to_numpy(dtype=float)
    return pd.DataFrame(values, index=pd.Index(QUINTILES, name="imd_quintile"),
                        columns=totals.columns)


def summary(per_head: pd.DataFrame, population: pd.Series,
            shares: pd.DataFrame) -> dict[str, float]:
    """Equity metrics for each column of `per_head` (values per head per area, e.g. PCN).

    `shares` (area x quintiles 1-5) splits each area's people across the IMD quintiles (see the
    module docstring). The Q1:Q5 ratio and gap compare the quintiles' values per head; the
    slope and relative indices and the concentration index are taken over the five quintile
    groups, each ranked at the midpoint of its population share, quintile 1 first: the same as
    ranking every person by quintile, people of one quintile sharing a rank. Quintiles with no
    people are left out.
    """
    out: dict[str, float] = {}
    w = population.to_numpy(dtype=float)
    values = per_head.mul(w, axis=0).reset_index(drop=True)
    values.insert(0, "_population", w)
    by_q = split_by_quintile(values, shares)
    by_q = by_q[by_q["_population"] > 0]
    pop = by_q["_population"].to_numpy()
    score = 6.0 - by_q.index.to_numpy(dtype=float)  # higher = more deprived, for the ridit
    for column in per_head.columns:
        per_q = by_q[column] / by_q["_population"]
        y = per_q.to_numpy()
        out[f"{column}_q1_q5_ratio"] = quintile_ratio(per_q)
        out[f"{column}_q1_q5_gap"] = quintile_gap(per_q)
        out[f"{column}_slope_index"] = slope_index(y, pop, score)
        out[f"{column}_relative_index"] = relative_index(y, pop, score)
        out[f"{column}_concentration_index"] = concentration_index(y, pop, score)
    return out
