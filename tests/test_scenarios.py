"""Every shipped scenario solves, and the independent verifier passes on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimiser import allocate, list_scenarios, load_model, verify

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"


@pytest.fixture(scope="module")
def solved():
    out = {}
    for name in list_scenarios(MODEL):
        inputs = load_model(MODEL, name)
        _, allocation = allocate(inputs)
        out[name] = (inputs, allocation)
    return out


def test_every_scenario_is_optimal_and_verified(solved):
    assert set(solved) >= {"base", "flat_budget", "strong_equity", "efficiency_only"}
    for name, (inputs, allocation) in solved.items():
        assert allocation.status == "optimal", (name, allocation.explanation)
        report = verify(allocation.detail, inputs, allocation.objective, allocation.shortfalls,
                        allocation.contracts)
        assert report.ok, f"{name}:\n{report}"
        # only the worked example of docs/tradeoffs.md asks more than the money allows, and
        # the commissionable plan: no eating-disorder team can start at its minimum size
        # within the first year's growth limit, so that floor falls short
        bends = ("universal_floor_30", "commissionable")
        assert allocation.rules_met == (name not in bends), name


def test_equity_rules_cost_weighted_outcome(solved):
    # efficiency_only drops the uplift and the gradient: its optimum can only be higher
    assert solved["efficiency_only"][1].objective >= solved["base"][1].objective - 1e-6
    # a flat budget buys less than a growing one
    assert solved["flat_budget"][1].objective < solved["base"][1].objective


def test_every_pcn_gets_its_core_offer_and_higher_need_pcns_get_more(solved):
    inputs, allocation = solved["base"]
    spend = allocation.by_pcn
    assert (spend["spend_gbp"] > 0).all()
    # within each ICB, higher-need PCNs spend at least 1.25 x the others per eligible person
    sp = allocation.spend_priority()
    sp["icb"] = sp["pcn_code"].map(inputs.pcns["icb_code"])
    cohort = inputs.priority_cohort.stack().rename("cohort")
    sp = sp.join(cohort, on=["pcn_code", "priority_id"])
    sp["flag"] = [bool(inputs.higher_need.at[p, r])
                  for p, r in zip(sp["pcn_code"], sp["priority_id"], strict=True)]
    checked = 0
    for _, group in sp[sp["cohort"] > 0].groupby(["year", "icb", "priority_id"]):
        needy, other = group[group["flag"]], group[~group["flag"]]
        if len(needy) and len(other):
            ratio = (needy["spend_gbp"].sum() / needy["cohort"].sum()) / (
                other["spend_gbp"].sum() / other["cohort"].sum())
            assert ratio >= 1.25 - 1e-6
            checked += 1
    assert checked >= 3 * 6 * 5  # three ICBs, six flagged priorities or more, five years


def test_shadow_prices_are_said_in_words(solved):
    _, allocation = solved["base"]
    words = allocation.shadow_prices_in_words()
    assert any(w.startswith("One more £1m in 20") for w in words)
    binding = allocation.binding
    assert len(binding) and (binding["in_words"] != "").all()


def test_run_writes_allocation_and_manifest(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "optimiser", "run", str(MODEL), "--out",
                             str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    manifest_path = next(out.rglob("run.json"))  # the batch layout may add a scenario folder
    manifest = json.loads(manifest_path.read_text())
    assert manifest["status"] == "optimal"
    assert manifest["checks_passed"] is True
    assert len(manifest["input_digest"]) == 16
    header = (manifest_path.parent / "allocation.csv").read_text().splitlines()[0]
    assert header.startswith("year,pcn_code,intervention_id,priority_id")


def test_the_verifier_names_a_broken_rule_and_by_how_much(solved):
    """The verifier can fail: a core service below its floor, and one staff group in one ICB
    needing 1 WTE more than is available, are each found (and the WTE by its size)."""
    inputs, allocation = solved["base"]
    detail = allocation.detail

    def failed(tampered):
        return {c.rule.split(":")[0]: c for c in verify(tampered, inputs).failures()}

    core = inputs.interventions.index[inputs.interventions["tier"] == "core"]
    row = detail.index[detail["intervention_id"].isin(core) & (detail["people_reached"] > 0)][0]
    below = detail.copy()
    below.loc[row, "people_reached"] = 0.0
    assert "universal_core_offer" in failed(below)

    year = inputs.years[-1]
    (group, scope), available = next(iter(inputs.workforce_wte.iterrows()))
    per = detail["intervention_id"].map(inputs.wte_per_person[group])
    in_scope = (detail["year"] == year) & detail["pcn_code"].map(inputs.scope_of_pcn).eq(scope)
    used = float((detail.loc[in_scope, "people_reached"] * per[in_scope]).sum())
    row = detail.index[in_scope & (per > 0)][0]
    more = detail.copy()
    more.loc[row, "people_reached"] += (available[year] - used + 1.0) / per[row]
    broken = failed(more)
    assert "workforce_limit" in broken and "universal_core_offer" not in broken
    assert broken["workforce_limit"].worst == pytest.approx(1.0, abs=0.01)
    assert verify(detail, inputs).ok
