"""Inequality metrics, computed on the optimiser's own output.

Every function takes per-area values (e.g. spend per head per PCN) with population weights and
an order by deprivation. Conventions, stated once:

* Rank: areas are ordered from most deprived (rank near 0) to least deprived (rank near 1); an
  area's rank is the midpoint of its population's cumulative share (its "ridit"). Areas with
  the same deprivation score share one rank, the midpoint of their combined population.
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


def summary(per_head: pd.DataFrame, population: pd.Series, imd_score: pd.Series,
            quintile: pd.Series) -> dict[str, float]:
    """Equity metrics for each column of `per_head` (values per head per PCN)."""
    out: dict[str, float] = {}
    w = population.to_numpy(dtype=float)
    for column in per_head.columns:
        y = per_head[column].to_numpy(dtype=float)
        totals = pd.Series(y * w).groupby(quintile.to_numpy()).sum()
        pops = pd.Series(w).groupby(quintile.to_numpy()).sum()
        by_q = totals / pops
        out[f"{column}_q1_q5_ratio"] = quintile_ratio(by_q)
        out[f"{column}_q1_q5_gap"] = quintile_gap(by_q)
        out[f"{column}_slope_index"] = slope_index(y, w, imd_score)
        out[f"{column}_relative_index"] = relative_index(y, w, imd_score)
        out[f"{column}_concentration_index"] = concentration_index(y, w, imd_score)
    return out
