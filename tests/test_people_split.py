"""IMD by people: a PCN's population shared across quintiles drives the equity weight and every
by-quintile figure. Two PCNs of 1,000 people, one intervention at £10 a person reached; the
budget (£10,000) covers one PCN, so the equity weight alone decides which.

  A: its single quintile is Q1, but by its practices 30% of its people are in Q1, 70% in Q5.
  B: wholly in Q2.
"""

from __future__ import annotations

import pytest

from optimiser import allocate, verify
from optimiser.errors import InputError
from tests.toy import intervention_row, pcn_row, toy_inputs


def shares(*values: float) -> dict:
    return {f"imd_q{q}_share": v for q, v in zip(range(1, 6), values, strict=True)}


A_SPLIT = shares(0.3, 0.0, 0.0, 0.0, 0.7)
B_SPLIT = shares(0.0, 1.0, 0.0, 0.0, 0.0)
IVS = [intervention_row("a", "frailty", "core", 10, 0.5)]


def pcns(split: bool = True) -> list[dict]:
    return [pcn_row("A", "X", 1000, 1, **(A_SPLIT if split else {})),
            pcn_row("B", "X", 1000, 2, **(B_SPLIT if split else {}))]


def solved(inputs):
    _, allocation = allocate(inputs)
    assert allocation.status == "optimal", allocation.explanation
    report = verify(allocation.detail, inputs, allocation.objective)  # recomputes q_p too
    assert report.ok, str(report)
    return allocation


def spend_of(allocation, pcn: str) -> float:
    d = allocation.detail
    return float(d.loc[d["pcn_code"] == pcn, "spend_gbp"].sum())


def test_equity_weight_is_the_mix_of_quintile_weights_by_people():
    weights = (2.0, 1.5, 1.0, 1.0, 1.0)
    inputs = toy_inputs(pcns(), IVS, budget_gbp=(10_000.0,), quintile_weight=weights)
    # q_A = 0.3 x 2.0 + 0.7 x 1.0 = 1.3; q_B = 1.5.
    assert inputs.equity_weight.to_dict() == pytest.approx({"A": 1.3, "B": 1.5})
    assert inputs.quintile_shares.loc["A"].tolist() == pytest.approx([0.3, 0, 0, 0, 0.7])
    # So B, whose people are more deprived on the whole, is funded; by whole PCN it was A.
    allocation = solved(inputs)
    assert spend_of(allocation, "B") == pytest.approx(10_000)
    assert spend_of(allocation, "A") == pytest.approx(0, abs=1e-6)


def test_without_the_split_columns_each_pcn_counts_in_its_own_quintile():
    weights = (2.0, 1.5, 1.0, 1.0, 1.0)
    inputs = toy_inputs(pcns(split=False), IVS, budget_gbp=(10_000.0,), quintile_weight=weights)
    assert inputs.equity_weight.to_dict() == pytest.approx({"A": 2.0, "B": 1.5})
    assert inputs.quintile_shares.loc["A"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    allocation = solved(inputs)
    assert spend_of(allocation, "A") == pytest.approx(10_000)


def test_by_quintile_shares_a_pcns_people_and_spend_across_its_quintiles():
    # Weight Q5 so that A (70% in Q5) is funded: q_A = 0.3 + 0.7 x 3 = 2.4 > q_B = 1.
    inputs = toy_inputs(pcns(), IVS, budget_gbp=(10_000.0,),
                        quintile_weight=(1.0, 1.0, 1.0, 1.0, 3.0))
    allocation = solved(inputs)
    assert spend_of(allocation, "A") == pytest.approx(10_000)
    by_q = allocation.by_quintile.set_index("imd_quintile")
    # A's 1,000 people and £10,000 go 30% to Q1 and 70% to Q5; B's 1,000 people to Q2. Nobody
    # is in Q3 or Q4, so they have no row.
    assert list(by_q.index) == [1, 2, 5]
    assert by_q["population"].tolist() == pytest.approx([300, 1000, 700])
    assert by_q["spend_gbp"].tolist() == pytest.approx([3_000, 0, 7_000], abs=1e-6)
    assert by_q["spend_per_head_gbp"].tolist() == pytest.approx([10, 0, 10], abs=1e-9)
    # Spend per head is the same for everyone in A, so Q1 and Q5 get the same: ratio 1 (by
    # whole PCN, Q1 would be A at £10 a head and Q5 empty).
    metrics = allocation.equity_metrics
    assert metrics["spend_per_head_q1_q5_ratio"] == pytest.approx(1.0)
    # SII over the groups Q1 (15% of people, ridit 0.075, £10), Q2 (50%, 0.4, £0) and Q5
    # (35%, 0.825, £10): weighted mean rank 0.5, mean £5; sum w (x - 0.5)(y - 5) =
    # 0.15 x -0.425 x 5 + 0.5 x -0.1 x -5 + 0.35 x 0.325 x 5 = -0.31875 + 0.25 + 0.56875 = 0.5;
    # sum w (x - 0.5)^2 = 0.15 x 0.180625 + 0.5 x 0.01 + 0.35 x 0.105625 = 0.0690625;
    # slope = 0.5 / 0.0695, SII = -slope.
    assert metrics["spend_per_head_slope_index"] == pytest.approx(-0.5 / 0.0690625)


def test_shares_that_do_not_add_up_to_one_are_reported():
    bad = [pcn_row("A", "X", 1000, 1, **shares(0.3, 0.0, 0.0, 0.0, 0.5)),
           pcn_row("B", "X", 1000, 2, **B_SPLIT)]
    with pytest.raises(InputError) as error:
        toy_inputs(bad, IVS, budget_gbp=(10_000.0,))
    text = str(error.value)
    assert "the IMD quintile shares of a PCN do not add up to 1" in text
    assert "row 2" in text


def test_some_share_columns_without_the_others_are_reported():
    partial = [pcn_row("A", "X", 1000, 1, imd_q1_share=1.0),
               pcn_row("B", "X", 1000, 2, imd_q1_share=0.0)]
    with pytest.raises(InputError) as error:
        toy_inputs(partial, IVS, budget_gbp=(10_000.0,))
    assert "imd_q2_share, imd_q3_share, imd_q4_share, imd_q5_share missing" in str(error.value)
