"""Probabilistic sensitivity analysis: sampling, reproducibility, workers, Dask, robust choice."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser import allocate, load_model
from optimiser.uncertainty import (
    apply_parameters,
    parameter_table,
    pert,
    run_uncertainty,
    sample,
    triangular,
)
from tests.toy import intervention_row, pcn_row, toy_inputs

MODEL = Path(__file__).resolve().parents[1] / "models" / "dln_base.toml"
QUIET = {"tornado_top": 0, "tornado_kinds": False}


def ranged(iid, priority, tier, cost, qaly, cost_range, qaly_range, share=1.0,
           share_range=None, wte=0.0):
    """A toy intervention with low/high ranges on cost, QALYs and the cohort share."""
    share_low, share_high = share_range or (share, share)
    return intervention_row(iid, priority, tier, cost=cost, qaly=qaly, share=share, wte=wte,
                            cost_gbp_low=cost_range[0], cost_gbp_high=cost_range[1],
                            qaly_low=qaly_range[0], qaly_high=qaly_range[1],
                            cohort_share_low=share_low, cohort_share_high=share_high,
                            wte_scale_low=0.5 if wte else 1.0, wte_scale_high=1.5 if wte else 1.0)


def toy_psa():
    """Two PCNs, a core and an enhanced intervention, a budget that binds, one staff group."""
    pcns = [pcn_row("A", "X", 100, 1), pcn_row("B", "X", 100, 5)]
    interventions = [
        ranged("core", "multimorbidity", "core", 1.0, 1.0, (0.5, 2.0), (0.5, 1.5), share=0.5,
               share_range=(0.4, 0.6), wte=1.0),
        ranged("extra", "multimorbidity", "enhanced", 2.0, 3.0, (1.0, 3.0), (0.0, 4.0)),
    ]
    return toy_inputs(pcns, interventions, budget_gbp=(150.0,), universal_floor=0.2)


# ---- sampling ------------------------------------------------------------------------------


def test_pert_stays_in_range_with_the_pert_mean():
    rng = np.random.default_rng(7)
    n = 40_000
    values = pert(rng, np.full(n, 1.0), np.full(n, 2.0), np.full(n, 6.0))
    assert values.min() >= 1.0 and values.max() <= 6.0
    # PERT mean (low + 4 mode + high) / 6 = (1 + 8 + 6) / 6 = 2.5; sd of the mean ~0.005.
    assert values.mean() == pytest.approx(2.5, abs=0.02)
    tri = triangular(rng, np.full(n, 1.0), np.full(n, 2.0), np.full(n, 6.0))
    assert tri.min() >= 1.0 and tri.max() <= 6.0
    assert tri.mean() == pytest.approx(3.0, abs=0.03)  # (1 + 2 + 6) / 3


def test_zero_width_ranges_give_the_central_value_exactly():
    rng = np.random.default_rng(1)
    central = np.array([0.1, 3.0, 1e-9])
    assert np.array_equal(pert(rng, central, central, central), central)
    assert np.array_equal(triangular(rng, central, central, central), central)


def test_draws_depend_only_on_the_seed_and_the_draw_number():
    table = parameter_table(toy_psa())
    assert set(table["kind"]) == {"cost_gbp", "qaly", "cohort_share", "wte_scale"}
    first = sample(table, 6, seed=11)
    assert np.array_equal(first, sample(table, 6, seed=11))
    assert np.array_equal(first[2:], sample(table, 4, seed=11, first=2))  # any chunking
    assert not np.array_equal(first, sample(table, 6, seed=12))
    assert ((first >= table["low"].to_numpy()) & (first <= table["high"].to_numpy())).all()


def test_applying_parameters_changes_only_the_intervention_table():
    inputs = toy_psa()
    table = parameter_table(inputs)
    values = table["high"].to_numpy()
    drawn = apply_parameters(inputs, table, values)
    iv = drawn.interventions
    assert iv.at["core", "cost_gbp"] == 2.0 and iv.at["extra", "qaly"] == 4.0
    assert iv.at["core", "wte_per_1000_nurse"] == 1.5  # 1 WTE per 1,000 x scale 1.5
    assert drawn.eligible.at["A", "core"] == pytest.approx(60.0)  # 100 x share 0.6
    assert inputs.interventions.at["core", "cost_gbp"] == 1.0  # the original is untouched
    same = apply_parameters(inputs, table, table["central"].to_numpy())
    pd.testing.assert_frame_equal(same.interventions, inputs.interventions, check_exact=True)


# ---- the analysis on a toy -----------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_result():
    return run_uncertainty(toy_psa(), draws=16, seed=5, tornado_top=3)


def test_toy_result_has_every_table(toy_result):
    r = toy_result
    assert r.central_status == "optimal" and len(r.draws) == 16
    s = r.objective_summary
    assert s["optimal_draws"] + s["not_optimal_draws"] == 16
    assert s["p5_gbp"] <= s["p10_gbp"] <= s["p50_gbp"] <= s["p90_gbp"] <= s["p95_gbp"]
    assert set(r.funded_above_floor["pcn_code"]) == {"A", "B"}
    assert r.funded_above_floor["probability_above_floor"].between(0, 1).all()
    use = r.intervention_use.set_index("intervention_id")
    assert use.at["core", "probability_used"] == 1.0  # the floor always reaches people
    # The tornado: a bar per kind of parameter and the three single parameters asked for.
    assert (r.tornado["group"] == "kind").sum() == 4
    assert (r.tornado["group"] == "parameter").sum() == 3
    assert (r.tornado["swing_gbp"].dropna() >= 0).all()
    cost_bar = r.tornado.set_index("parameter").loc["cost_gbp"]
    assert cost_bar["objective_low_gbp"] > cost_bar["objective_high_gbp"]  # dearer, worse
    assert set(r.tables()) >= {"draws", "funded_above_floor", "intervention_use", "tornado",
                               "robust", "sensitivity", "parameters"}


def test_robust_choice_is_named_and_consistent(toy_result):
    r = toy_result
    robust = r.robust.set_index("candidate")
    assert "central" in robust.index and len(robust) >= 2
    assert robust["best_mean"].sum() == 1 and robust["best_p10"].sum() == 1
    assert r.robust_choice["best_mean"] == robust["mean_gbp"].idxmax()
    assert r.robust_choice["best_p10"] == robust["p10_gbp"].idxmax()
    # No fixed allocation beats each draw's own optimum on average (regret >= 0).
    assert (robust["mean_regret_gbp"] >= -1e-6).all()


def test_fixed_spend_valued_under_the_central_parameters_is_the_central_objective():
    # The robust evaluation (spend fixed, people = spend / cost, tranches filled in order)
    # reproduces the LP's objective for the allocation it came from.
    from optimiser.formulation import Layout
    from optimiser.uncertainty import _draw_model, evaluate_spend

    inputs = toy_psa()
    central = allocate(inputs)[1]
    lay = Layout(inputs)
    pair = {(p, i): m for m, (p, i) in enumerate(zip(
        inputs.pcns.index[lay.pcn_pos], inputs.interventions.index[lay.iv_pos], strict=True))}
    spend = np.zeros((1, lay.T, lay.M))
    for row in central.detail.itertuples():
        spend[0, 0, pair[(row.pcn_code, row.intervention_id)]] = row.spend_gbp
    value, people = evaluate_spend(spend, _draw_model(inputs, lay, []), lay, inputs)
    assert value[0] == pytest.approx(central.objective, rel=1e-9)
    # At twice the cost the same money reaches half the people.
    table = parameter_table(inputs)
    dearer = table["central"].to_numpy().copy()
    dearer[(table["parameter"] == "core.cost_gbp").to_numpy()] = 2.0
    drawn = apply_parameters(inputs, table, dearer)
    _, fewer = evaluate_spend(spend, _draw_model(drawn, lay, []), lay, drawn)
    core = inputs.interventions.index[lay.iv_pos] == "core"
    assert fewer[0, 0, core] == pytest.approx(people[0, 0, core] / 2)


def test_seeded_runs_repeat_and_seeds_differ(toy_result):
    again = run_uncertainty(toy_psa(), draws=16, seed=5, tornado_top=3)
    pd.testing.assert_frame_equal(again.draws.drop(columns="seconds"),
                                  toy_result.draws.drop(columns="seconds"), check_exact=True)
    pd.testing.assert_frame_equal(again.robust, toy_result.robust, check_exact=True)
    other = run_uncertainty(toy_psa(), draws=16, seed=6, **QUIET)
    assert not np.allclose(other.draws["objective_gbp"].fillna(0),
                           toy_result.draws["objective_gbp"].fillna(0))


def test_starting_from_the_central_basis_reaches_the_same_optima(toy_result):
    warm = run_uncertainty(toy_psa(), draws=16, seed=5, start="central", **QUIET)
    assert warm.draws["status"].tolist() == toy_result.draws["status"].tolist()
    assert warm.draws["objective_gbp"].to_numpy() == pytest.approx(
        toy_result.draws["objective_gbp"].to_numpy(), rel=1e-9, nan_ok=True)


def _same(a, b):
    for name, table in a.tables().items():
        left = table.drop(columns=[c for c in ("seconds",) if c in table])
        right = b.tables()[name].drop(columns=[c for c in ("seconds",) if c in table])
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=name)
    assert a.robust_choice == b.robust_choice


def test_dask_local_cluster_equals_the_local_run(toy_result):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=":0") as cluster:
        remote = run_uncertainty(toy_psa(), draws=16, seed=5, tornado_top=3,
                                 executor="dask", scheduler=cluster.scheduler_address)
    assert remote.executor == "dask" and remote.workers == 2
    _same(remote, toy_result)


# ---- the DLN model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dln():
    return load_model(MODEL)


def test_dln_zero_width_ranges_give_exactly_the_deterministic_solve(dln):
    iv = dln.interventions.copy()
    for base in ("cohort_share", "max_uptake", "cost_gbp", "qaly", "nel_avoided",
                 "ed_avoided", "bed_days_avoided", "op_avoided"):
        iv[f"{base}_low"] = iv[base]
        iv[f"{base}_high"] = iv[base]
    iv["wte_scale_low"] = iv["wte_scale_high"] = 1.0
    flat = dataclasses.replace(dln, interventions=iv)
    result = run_uncertainty(flat, draws=3, seed=1, candidates=2, **QUIET)
    deterministic = allocate(dln)[1]
    assert result.parameters.empty
    assert result.central_objective == pytest.approx(deterministic.objective, rel=1e-12)
    assert (result.draws["status"] == "optimal").all()
    # Each draw is the same LP solved the same way (cold): the same optimum to the last bit.
    assert (result.draws["objective_gbp"] == deterministic.objective).all()
    assert (result.draws["spend_moved_share"] == 0.0).all()
    funded = result.funded_above_floor
    assert (funded["probability_above_floor"] == funded["central_above_floor"]).all()
    robust = result.robust.set_index("candidate")
    assert robust.at["central", "sd_gbp"] == pytest.approx(0.0, abs=1e-3)


def test_dln_one_and_two_workers_agree(dln):
    serial = run_uncertainty(dln, draws=4, seed=3, candidates=2, **QUIET)
    parallel = run_uncertainty(dln, draws=4, seed=3, workers=2, candidates=2, **QUIET)
    assert parallel.workers == 2
    _same(serial, parallel)
    assert serial.central_status == "optimal"


def test_the_command_line_writes_tables_charts_and_summary(tmp_path, monkeypatch, capsys):
    import json

    import optimiser.uncertainty as uncertainty
    from optimiser.cli import main

    full = uncertainty.run_uncertainty

    def small(*args, **kwargs):  # one tornado bar instead of ~25, to keep the test short
        return full(*args, **{**kwargs, "tornado_top": 1, "tornado_kinds": False})

    monkeypatch.setattr(uncertainty, "run_uncertainty", small)
    out = tmp_path / "psa"
    assert main(["uncertainty", str(MODEL), "--draws", "2", "--seed", "4",
                 "--out", str(out)]) == 0
    for name in ("draws.csv", "parameters.csv", "funded_above_floor.csv", "tornado.csv",
                 "intervention_use.csv", "sensitivity.csv", "robust.csv", "tornado.png",
                 "objective_distribution.png", "funding_probability.png", "uncertainty.json"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "uncertainty.json").read_text())
    assert summary["seed"] == 4 and summary["draws"] == 2
    assert summary["robust_choice"]["best_mean"]
    assert "draws can meet every rule" in capsys.readouterr().out
    # Wrong options are reported, not raised.
    assert main(["uncertainty", str(MODEL), "--workers", "0", "--out",
                 str(tmp_path / "a")]) == 1
    assert main(["uncertainty", str(MODEL), "--executor", "dask", "--out",
                 str(tmp_path / "b")]) == 1
    assert "scheduler" in capsys.readouterr().err
