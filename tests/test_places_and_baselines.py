"""The shipped DLN model reads the ICBs' own places and the modelled activity baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser.inputs import load_model
from optimiser.schemas import ACTIVITY_OUTCOMES
from tests.toy import intervention_row, pcn_row, toy_inputs

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"


@pytest.fixture(scope="module")
def dln():
    return load_model(MODEL)


def test_baseline_is_the_activity_each_outcome_avoids_per_pcn_a_year(dln):
    baseline = dln.baseline
    assert list(baseline.columns) == list(ACTIVITY_OUTCOMES)
    assert baseline.index.equals(dln.pcns.index)
    table = pd.read_csv(ROOT / "data" / "pcns.csv").set_index("pcn_code").loc[dln.pcns.index]
    for outcome, column in (("nel_avoided", "baseline_nel"), ("ed_avoided", "baseline_ed"),
                            ("bed_days_avoided", "baseline_bed_days"),
                            ("op_avoided", "baseline_op")):
        assert baseline[outcome].to_numpy() == pytest.approx(table[column].to_numpy())
    # DLN: 365,776 emergency admissions a year (data/README.md, build_report.md).
    assert baseline["nel_avoided"].sum() == pytest.approx(365_776, abs=1)


def test_a_table_without_baselines_has_none():
    inputs = toy_inputs([pcn_row("A", "X", 1000, 1)],
                        [intervention_row("a", "frailty", "core", 10, 0.5)])
    assert list(inputs.baseline.columns) == list(ACTIVITY_OUTCOMES)
    assert np.isnan(inputs.baseline.to_numpy()).all()


def test_the_workforce_limit_by_place_uses_nottinghamshires_four_partnerships(dln):
    by_place = dln.with_policy(workforce_scope="place")
    scopes = set(by_place.workforce_wte.index.get_level_values("scope"))
    qt1 = set(dln.pcns.loc[dln.pcns["icb_code"] == "QT1", "place_code"])
    assert qt1 == {"02Q", "04E_04H", "04K", "04L_04M_04N"}
    assert qt1 <= scopes
    assert scopes == qt1 | {"15M", "71E"}  # Derby and Derbyshire, Lincolnshire: one each
    # Each place's care coordinators are its own PCNs' census FTE x the deployable share.
    wte = by_place.workforce_wte.loc[("care_coordinator", "04K"), :].iloc[0]
    city = dln.pcns[dln.pcns["place_code"] == "04K"]
    assert len(city) == 9
    assert wte == pytest.approx(city["fte_care_coordinator"].sum() * dln.policy.deployable_share)
