"""The efficiency-equity frontier: hand-solved toy sweeps, the DLN model, and the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimiser import load_model
from optimiser.cli import main
from optimiser.frontier import frontier, point_inputs, summary
from optimiser.solve import Solver
from tests.toy import intervention_row, pcn_row, toy_inputs

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"


def two_pcn_toy(floor: float = 0.0, **changes):
    """PCN A (most deprived, need 3) and PCN B (least deprived, need 1, but twice the QALY
    risk, so each person reached there is worth twice as much).

    Fair shares: A 300/400 = 0.75, B 0.25. One core intervention, £1 a person, 1 QALY a
    person at £1,000 a QALY; budget £100; everyone (population) is eligible.
    Without the dial all £100 go to B (worth £2,000 a person). With dial lambda, A must get
    at least 0.75 lambda of the spend, so the best is s_A = 75 lambda, s_B = 100 - 75 lambda:
    weighted outcome = 1,000 x 75 lambda + 2,000 x (100 - 75 lambda) = 200,000 - 75,000 lambda.
    """
    pcns = [pcn_row("A", "X", 100, 1, need_overall_eng=3.0, need_ga_eng=1.0),
            pcn_row("B", "X", 100, 5, need_overall_eng=1.0, need_ga_eng=2.0)]
    interventions = [intervention_row("i", "multimorbidity", "core", cost=1.0, qaly=1.0)]
    return toy_inputs(pcns, interventions, risk_columns={"qaly": "need_ga_eng"},
                      universal_floor=floor, budget_gbp=(100.0,), **changes)


def test_toy_frontier_matches_the_hand_solution():
    frame = frontier(two_pcn_toy(), points=5)
    dial = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    assert frame["need_gradient"].tolist() == pytest.approx(dial)
    assert (frame["status"] == "optimal").all()
    # 1e-6 per £ tie-break on £100 of spend: 1e-4 off the hand value.
    assert frame["weighted_outcome_gbp"].to_numpy() == pytest.approx(
        200_000 - 75_000 * dial, abs=1e-3)
    assert frame["health_given_up_gbp"].to_numpy() == pytest.approx(75_000 * dial, abs=1e-3)
    assert frame["health_given_up_share"].iloc[-1] == pytest.approx(0.375)
    # QALYs: A 75 lambda x 1 + B (100 - 75 lambda) x 2 = 200 - 75 lambda.
    assert frame["qaly"].to_numpy() == pytest.approx(200 - 75 * dial, abs=1e-6)
    assert frame["qaly_given_up"].to_numpy() == pytest.approx(75 * dial, abs=1e-6)
    # Spend per head Q1 : Q5 = 75 lambda / (100 - 75 lambda): 0 at lambda 0, 3 at lambda 1.
    assert frame["spend_per_head_q1_q5_ratio"].iloc[-1] == pytest.approx(3.0)
    assert frame["spend_per_head_q1_q5_ratio"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    # Every inequality column is there, for three aversions.
    for e in ("0.5", "1", "2"):
        assert f"value_per_head_ede_e{e}" in frame and f"qaly_per_head_atkinson_e{e}" in frame
    assert frame["warm"].iloc[1:].all()


def test_after_the_first_infeasible_point_the_rest_are_implied():
    # Floor 0.45: each PCN reaches at least 45 people (£45). With B at its floor, A can have
    # at most £100 - 45 = £55 of the £100, so A's rule 55 >= 0.75 lambda x 100 holds up to
    # lambda = 0.733: the points at 0.75 and 1 are infeasible. Where feasible, the floors
    # already give A £45 >= £75 lambda, so the optimum is A 45, B 55: £45,000 + £110,000.
    frame = frontier(two_pcn_toy(floor=0.45, rules_bend=False), points=5)  # every rule hard
    assert frame["status"].tolist() == ["optimal"] * 3 + ["infeasible"] * 2
    # A's £45 already meets the rule at 0.25 (£18.75) and 0.5 (£37.50): those points keep the
    # optimum of lambda 0 unsolved; 0.75 (£56.25) is solved and found infeasible; 1 is implied.
    assert frame["solved"].tolist() == [True, False, False, True, False]
    assert frame["note"].iloc[-1].startswith("implied")
    assert frame["weighted_outcome_gbp"].iloc[:3].to_numpy() == pytest.approx(155_000, abs=1e-3)
    facts = summary(frame)
    assert facts["first_infeasible_dial"] == 0.75
    assert facts["highest_feasible_dial"] == 0.5


def test_with_the_rules_bending_the_sweep_runs_to_dial_1_with_its_shortfalls_named():
    # The same toy with the rules bending (floor rank 2, gradient rank 4). At 0.75 A needs
    # 0.75 x 0.75 x S: with B held at its floor (£45) and A at £55, A's shortfall
    # 0.5625 x 100 - 55 = £1.25 is the least; at 1, 0.75 x 100 - 55 = £20. The floors hold,
    # and the outcome is A 55 x £1,000 + B 45 x £2,000 = £145,000.
    frame = frontier(two_pcn_toy(floor=0.45), points=5)
    assert (frame["status"] == "optimal").all()
    assert frame["rules_met"].tolist() == [True] * 3 + [False] * 2
    assert frame["shortfall_gbp"].to_numpy() == pytest.approx([0, 0, 0, 1.25, 20.0], abs=1e-6)
    assert frame["rules_short"].iloc[-1] == "the need gradient £20"
    assert frame["weighted_outcome_gbp"].iloc[3:].to_numpy() == pytest.approx(145_000, abs=1e-3)
    facts = summary(frame)
    assert facts["highest_dial_every_rule_met"] == 0.5 and facts["first_dial_short"] == 0.75
    assert facts["first_infeasible_dial"] is None


def test_sweeping_the_uplift_too_keeps_the_curve_from_rising():
    inputs = two_pcn_toy()
    frame = frontier(inputs, points=3, uplift=0.5)
    assert frame["enhanced_uplift"].tolist() == pytest.approx([0.0, 0.25, 0.5])
    values = frame.loc[frame["status"] == "optimal", "weighted_outcome_gbp"].to_numpy()
    assert (np.diff(values) <= 1e-6).all()


@pytest.fixture(scope="module")
def dln():
    return load_model(MODEL)


def test_dln_frontier_never_rises_and_warm_equals_cold(dln):
    frame = frontier(dln, points=4)
    assert (frame["status"] == "optimal").all()  # the rules bend where they cannot be met
    optimal = frame[frame["rules_met"].astype(bool)]
    assert len(optimal) >= 2 and frame["status"].iloc[0] == "optimal"
    values = optimal["weighted_outcome_gbp"].to_numpy()
    assert (np.diff(values) <= 1e-6 * abs(values[0])).all()
    assert (optimal["health_given_up_gbp"] >= -1e-6 * abs(values[0])).all()
    # The point at lambda = 1/3, solved cold on its own, gives the same optimum.
    cold = Solver(point_inputs(dln, 1 / 3, None)).solve()
    assert cold.objective == pytest.approx(frame.loc[1, "weighted_outcome_gbp"], rel=1e-7)
    for column in ("spend_per_head_q1_q5_ratio", "spend_per_head_slope_index",
                   "spend_per_head_concentration_index", "value_per_head_ede_e1"):
        assert np.isfinite(optimal[column]).all()


def test_the_command_line_writes_csv_png_html_and_json(tmp_path, capsys):
    out = tmp_path / "frontier"
    assert main(["frontier", str(MODEL), "--points", "3", "--out", str(out)]) == 0
    for name in ("frontier.csv", "frontier.png", "frontier.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "frontier.html").read_text(encoding="utf-8")
    # plotly.js is embedded (the page opens offline), not fetched from a CDN.
    assert len(html) > 1_000_000 and '<script src="http' not in html
    text = (out / "frontier.csv").read_text()
    assert text.splitlines()[0].startswith("point,need_gradient,enhanced_uplift,status")
    assert len(text.splitlines()) == 4
    assert "Highest dial with every rule met" in capsys.readouterr().out
    # A second run into the same folder needs --force.
    assert main(["frontier", str(MODEL), "--points", "3", "--out", str(out)]) == 1
    assert main(["frontier", str(MODEL), "--points", "1", "--out", str(tmp_path / "x")]) == 1
