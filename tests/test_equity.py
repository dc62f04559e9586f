"""Inequality metrics against values worked out by hand (the working is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from optimiser import equity

# Three areas, most deprived first (IMD score 30, 20, 10), populations 1, 1, 2, values per
# head 6, 4, 2. Population shares 0.25, 0.25, 0.5, so the ridits (midpoints of the cumulative
# shares) are 0.125, 0.375 and 0.75.
SCORE = [30.0, 20.0, 10.0]
WEIGHT = [1.0, 1.0, 2.0]
VALUE = [6.0, 4.0, 2.0]


def test_ridit_is_the_midpoint_of_each_areas_population_share():
    assert equity.ridit(SCORE, WEIGHT) == pytest.approx([0.125, 0.375, 0.75])


def test_ridit_gives_tied_scores_one_shared_rank_whatever_their_order():
    # Two areas tie at score 30: together they hold half the population, midpoint 0.25.
    assert equity.ridit([30.0, 30.0, 10.0], WEIGHT) == pytest.approx([0.25, 0.25, 0.75])
    assert equity.ridit([10.0, 30.0, 30.0], [2.0, 1.0, 1.0]) == pytest.approx([0.75, 0.25, 0.25])


def test_quintile_ratio_and_gap():
    # Q1 30 per head, Q5 10: ratio 3, gap 20. No Q5 value: the ratio is undefined.
    by_quintile = pd.Series({1: 30.0, 2: 20.0, 5: 10.0})
    assert equity.quintile_ratio(by_quintile) == 3.0
    assert equity.quintile_gap(by_quintile) == 20.0
    assert math.isnan(equity.quintile_ratio(pd.Series({1: 30.0, 5: 0.0})))


def test_slope_and_relative_index_by_hand():
    # Weighted least squares of value on ridit (weights 1, 1, 2; total 4):
    #   mean ridit = (0.125 + 0.375 + 2 x 0.75) / 4 = 0.5; mean value = (6 + 4 + 2 x 2) / 4 = 3.5
    #   sum w (x - 0.5)^2 = 0.140625 + 0.015625 + 2 x 0.0625 = 0.28125
    #   sum w (x - 0.5)(y - 3.5) = -0.375 x 2.5 - 0.125 x 0.5 + 2 x 0.25 x (-1.5) = -1.75
    #   slope = -1.75 / 0.28125 = -56/9; intercept = 3.5 + 56/9 x 0.5 = 59.5/9
    # SII = fitted at 0 (most deprived) - fitted at 1 = 56/9 (more where deprivation is greater).
    # RII = fitted at 0 / fitted at 1 = (59.5/9) / (3.5/9) = 17.
    assert equity.slope_index(VALUE, WEIGHT, SCORE) == pytest.approx(56 / 9)
    assert equity.relative_index(VALUE, WEIGHT, SCORE) == pytest.approx(17.0)


def test_concentration_index_by_hand():
    # cov_w(value, ridit) = -1.75 / 4 = -0.4375; CI = 2 x -0.4375 / 3.5 = -0.25 (negative:
    # concentrated among the more deprived). Check by the other form: 2/mean x
    # sum(w y R)/sum w - 1 = 2/3.5 x (0.75 + 1.5 + 3)/4 - 1 = 0.75 - 1 = -0.25.
    assert equity.concentration_index(VALUE, WEIGHT, SCORE) == pytest.approx(-0.25)


def test_equal_values_have_no_inequality():
    flat = [5.0, 5.0, 5.0]
    assert equity.slope_index(flat, WEIGHT, SCORE) == pytest.approx(0.0)
    assert equity.relative_index(flat, WEIGHT, SCORE) == pytest.approx(1.0)
    assert equity.concentration_index(flat, WEIGHT, SCORE) == pytest.approx(0.0)
    for e in (0.5, 1.0, 2.0):
        assert equity.equally_distributed_equivalent(flat, WEIGHT, e) == pytest.approx(5.0)
        assert equity.atkinson_index(flat, WEIGHT, e) == pytest.approx(0.0)


@pytest.mark.parametrize("aversion, ede, index", [
    # Values 1 and 4, equal weights; mean 2.5.
    (0.0, 2.5, 0.0),  # no aversion: the mean
    (0.5, 2.25, 0.1),  # ((sqrt 1 + sqrt 4) / 2)^2 = 1.5^2
    (1.0, 2.0, 0.2),  # geometric mean sqrt(1 x 4)
    (2.0, 1.6, 0.36),  # harmonic mean 1 / ((1 + 1/4) / 2)
])
def test_atkinson_by_hand(aversion, ede, index):
    assert equity.equally_distributed_equivalent([1.0, 4.0], [1.0, 1.0], aversion) == \
        pytest.approx(ede)
    assert equity.atkinson_index([1.0, 4.0], [1.0, 1.0], aversion) == pytest.approx(index)


def test_atkinson_uses_population_weights():
    # Values 1 and 4 with weights 3 and 1 (shares 0.75, 0.25):
    #   e = 0.5: (0.75 x 1 + 0.25 x 2)^2 = 1.5625
    #   e = 1:   1^0.75 x 4^0.25 = sqrt 2
    #   e = 2:   1 / (0.75 + 0.25 / 4) = 16/13
    ede = equity.equally_distributed_equivalent
    assert ede([1.0, 4.0], [3.0, 1.0], 0.5) == pytest.approx(1.5625)
    assert ede([1.0, 4.0], [3.0, 1.0], 1.0) == pytest.approx(math.sqrt(2))
    assert ede([1.0, 4.0], [3.0, 1.0], 2.0) == pytest.approx(16 / 13)


def test_atkinson_with_zeros():
    # Anyone with nothing: the geometric mean and stronger aversions give 0 (index 1);
    # e = 0.5 still counts the others: ((0 + 2) / 2)^2 = 1. A zero with no population is ignored.
    ede = equity.equally_distributed_equivalent
    assert ede([0.0, 4.0], [1.0, 1.0], 1.0) == 0.0
    assert ede([0.0, 4.0], [1.0, 1.0], 2.0) == 0.0
    assert ede([0.0, 4.0], [1.0, 1.0], 0.5) == pytest.approx(1.0)
    assert equity.atkinson_index([0.0, 4.0], [1.0, 1.0], 1.0) == pytest.approx(1.0)
    assert ede([0.0, 4.0], [0.0, 1.0], 2.0) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        ede([-1.0, 4.0], [1.0, 1.0], 1.0)


def test_atkinson_summary_names_each_aversion():
    out = equity.atkinson_summary([1.0, 4.0], [1.0, 1.0], "value_per_head")
    assert out["value_per_head_ede_e0.5"] == pytest.approx(2.25)
    assert out["value_per_head_ede_e1"] == pytest.approx(2.0)
    assert out["value_per_head_atkinson_e2"] == pytest.approx(0.36)


def test_summary_aggregates_quintiles_with_populations():
    # Two Q1 PCNs (population 100 at 10 per head, 300 at 2) and one Q5 (200 at 2), each wholly
    # in its quintile: Q1 per head = (1,000 + 600) / 400 = 4; Q5 = 2; ratio 2, gap 2.
    per_head = pd.DataFrame({"spend_per_head": [10.0, 2.0, 2.0]})
    out = equity.summary(per_head, pd.Series([100.0, 300.0, 200.0]),
                         equity.single_quintile_shares(pd.Series([1, 1, 5])))
    assert out["spend_per_head_q1_q5_ratio"] == pytest.approx(2.0)
    assert out["spend_per_head_q1_q5_gap"] == pytest.approx(2.0)
    assert set(out) == {f"spend_per_head_{m}" for m in (
        "q1_q5_ratio", "q1_q5_gap", "slope_index", "relative_index", "concentration_index")}
    assert np.isfinite(out["spend_per_head_concentration_index"])


# Two PCNs of 100 people. A: £10 a head, 60% of its people in Q1 and 40% in Q5. B: £2 a head,
# all in Q5. Spend per head is the same for everyone in a PCN, so Q1 holds 60 people and £600
# (£10 a head) and Q5 holds 40 + 100 = 140 people and £400 + £200 = £600 (£30/7 = £4.29 a head).
SPLIT_PER_HEAD = pd.DataFrame({"spend_per_head": [10.0, 2.0]})
SPLIT_POPULATION = pd.Series([100.0, 100.0])
SPLIT_SHARES = pd.DataFrame([[0.6, 0.0, 0.0, 0.0, 0.4], [0.0, 0.0, 0.0, 0.0, 1.0]],
                            columns=[1, 2, 3, 4, 5])


def test_split_by_quintile_shares_each_pcns_people_and_spend():
    totals = pd.DataFrame({"population": [100.0, 100.0], "spend": [1000.0, 200.0]})
    split = equity.split_by_quintile(totals, SPLIT_SHARES)
    assert list(split.index) == [1, 2, 3, 4, 5]
    assert split["population"].tolist() == pytest.approx([60.0, 0.0, 0.0, 0.0, 140.0])
    assert split["spend"].tolist() == pytest.approx([600.0, 0.0, 0.0, 0.0, 600.0])
    with pytest.raises(ValueError):
        equity.split_by_quintile(totals, SPLIT_SHARES.iloc[:, :4])


def test_summary_counts_people_by_quintile_not_pcns():
    out = equity.summary(SPLIT_PER_HEAD, SPLIT_POPULATION, SPLIT_SHARES)
    # Q1:Q5 = 10 / (30/7) = 7/3 and the gap 10 - 30/7 = 40/7. With each PCN wholly in one
    # quintile (A in Q1) it would be 10 / 2 = 5.
    assert out["spend_per_head_q1_q5_ratio"] == pytest.approx(7 / 3)
    assert out["spend_per_head_q1_q5_gap"] == pytest.approx(40 / 7)
    whole = equity.summary(SPLIT_PER_HEAD, SPLIT_POPULATION,
                           equity.single_quintile_shares(pd.Series([1, 5])))
    assert whole["spend_per_head_q1_q5_ratio"] == pytest.approx(5.0)
    # SII over the quintile groups: Q1 holds 30% of the people (ridit 0.15), Q5 70% (ridit
    # 0.3 + 0.35 = 0.65). Two points: slope = (30/7 - 10) / 0.5 = -80/7, so SII = 80/7;
    # fitted at 0 = 10 + 0.15 x 80/7 = 82/7, at 1 = 82/7 - 80/7 = 2/7, RII = 41.
    assert out["spend_per_head_slope_index"] == pytest.approx(80 / 7)
    assert out["spend_per_head_relative_index"] == pytest.approx(41.0)
    # Concentration: mean 6 (1,200 / 200), mean ridit 0.5; cov = 0.3 x 4 x (-0.35)
    # + 0.7 x (-12/7) x 0.15 = -0.42 - 0.18 = -0.6; CI = 2 x -0.6 / 6 = -0.2.
    assert out["spend_per_head_concentration_index"] == pytest.approx(-0.2)
