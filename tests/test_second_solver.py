"""A second solver agrees with HiGHS, and the Pyomo model is the same model.

1. The exported MPS file, read by PuLP and solved by CBC (bundled with PuLP), gives the HiGHS
   optimum to 1e-6 relative: the file a user can take to another solver is the model we solve.
2. `optimiser.pyomo_model.build_pyomo`, written separately from `formulation.py`, has the same
   variable blocks and constraint families with the same number of rows, and solves to the same
   optimum, on toy models that between them switch on every constraint family, and on the
   DLN base model when its data are in place.

PuLP's MPS reader ignores the OBJSENSE section (it takes the sense as an argument) and does not
read a RANGES section at all; `read_mps_into_pulp` handles both (see its docstring).
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pulp
import pytest
from hypothesis import HealthCheck, given, settings

from optimiser import Solver
from optimiser.policy import ActivityTarget, Lock, RingFence
from tests.test_properties import toy_models
from tests.toy import intervention_row, pcn_row, toy_inputs

REPO = Path(__file__).resolve().parents[1]
DLN_MODEL = REPO / "models" / "dln_base.toml"
REL_TOL = 1e-6


# ---- toy models that between them use every constraint family -------------------------------


def with_effects(row: dict, **effects: float) -> dict:
    """An intervention row with extra outcomes per person (central, low and high alike)."""
    for outcome, value in effects.items():
        row.update({outcome: value, f"{outcome}_low": value, f"{outcome}_high": value})
    return row


PCNS = [
    pcn_row("A", "X", 1000, 1, need_overall_eng=1.4, need_ga_eng=1.3),
    pcn_row("B", "X", 2000, 3, need_overall_eng=1.0, need_ga_eng=1.0),
    pcn_row("C", "Y", 1500, 5, need_overall_eng=0.8, need_ga_eng=0.7),
    pcn_row("D", "Y", 1200, 2, need_overall_eng=1.2, need_ga_eng=1.5),
]
INTERVENTIONS = [
    with_effects(intervention_row("f_core", "frailty", "core", 10, 0.01, wte=0.5),
                 nel_avoided=0.002),
    with_effects(intervention_row("f_enh", "frailty", "enhanced", 40, 0.06, wte=2.0),
                 nel_avoided=0.02, bed_days_avoided=0.1),
    with_effects(intervention_row("e_core", "end_of_life", "core", 25, 0.03, share=0.2),
                 nel_avoided=0.05, bed_days_avoided=0.3, ed_avoided=0.04),
    intervention_row("m_core", "multimorbidity", "core", 15, 0.015, share=0.5,
                     cohort_prevalence="prev_hypertension"),
    # the least value per £: reached only when a rule (the outpatient target) asks for it
    with_effects(intervention_row("m_enh", "multimorbidity", "enhanced", 60, 0.01, share=0.3),
                 op_avoided=0.3),
]
HIGHER_NEED = {"A": ("frailty", "end_of_life"), "D": ("frailty",)}
THREE_YEARS = ("2026/27", "2027/28", "2028/29")

# name -> the policy changes of tests.toy.toy_policy; each model is feasible by construction
CASES: dict[str, dict] = {
    "budget": dict(budget_gbp=(60_000.0,)),
    "workforce": dict(budget_gbp=(200_000.0,), available_wte={"nurse": {"X": 1.0, "Y": 0.5}}),
    "floor": dict(budget_gbp=(60_000.0,), universal_floor=0.3),
    "uplift": dict(budget_gbp=(60_000.0,), enhanced_uplift=0.5, higher_need=HIGHER_NEED),
    "need_gradient": dict(budget_gbp=(60_000.0,), need_gradient=0.9,
                          quintile_weight=(1.5, 1.3, 1.15, 1.05, 1.0)),
    "mobilisation_continuity": dict(
        years=THREE_YEARS, budget_gbp=(40_000.0, 90_000.0, 30_000.0), discount_rate=0.035,
        mobilisation_max_growth=0.3, continuity_max_fall=0.2, universal_floor=0.1),
    "invest_to_save": dict(years=THREE_YEARS, budget_gbp=(30_000.0,) * 3,
                           invest_to_save_share=0.5, cash_releasing_share=0.5),
    "activity_target": dict(
        years=THREE_YEARS[:2], budget_gbp=(60_000.0, 60_000.0),
        activity_targets=(ActivityTarget("op_avoided", "2027/28", 100.0, "Y"),
                          ActivityTarget("op_avoided", "2026/27", 60.0))),
    "lock": dict(budget_gbp=(60_000.0,),
                 locks=(Lock("B", "end_of_life", 3_000.0), Lock("C", "frailty", 0.0))),
    "ring_fence": dict(
        budget_gbp=(60_000.0,),
        ring_fences=(RingFence(priority="end_of_life", min_share=0.2, max_share=0.4),
                     RingFence(priority="frailty", min_share=0.05, max_share=0.3),
                     RingFence(priority="frailty", tier="core", min_share=0.1, max_share=0.9),
                     RingFence(tier="enhanced", icb="X", max_share=0.3))),
    "tranches": dict(budget_gbp=(60_000.0,), tranche_shares=(0.5, 0.3, 0.2),
                     marginal_effect=(1.0, 0.6, 0.3), discount_rate=0.035,
                     priority_weight={"frailty": 1.5, "end_of_life": 1.0,
                                      "multimorbidity": 0.8}),
    "everything": dict(
        years=THREE_YEARS[:2], budget_gbp=(70_000.0, 90_000.0), discount_rate=0.035,
        workforce_scope="place", available_wte={"nurse": {"XP": 2.0, "YP": 1.0}},
        universal_floor=0.1, enhanced_uplift=0.25, higher_need=HIGHER_NEED, need_gradient=0.6,
        quintile_weight=(1.3, 1.2, 1.1, 1.0, 1.0), tranche_shares=(0.6, 0.4),
        marginal_effect=(1.0, 0.5), mobilisation_max_growth=0.5, continuity_max_fall=0.3,
        invest_to_save_share=0.25,
        ring_fences=(RingFence(priority="frailty", min_share=0.3, max_share=0.8),),
        activity_targets=(ActivityTarget("nel_avoided", "2027/28", 10.0),),
        locks=(Lock("D", "multimorbidity", 300.0, ("2026/27",)),)),
}


def toy_case(name: str):
    changes = dict(CASES[name])
    higher_need = changes.pop("higher_need", None)
    return toy_inputs(PCNS, INTERVENTIONS, higher_need, **changes)


@pytest.fixture(scope="module")
def dln():
    """The DLN base model solved by HiGHS (inputs, solver, objective), or a skip while its data
    are not yet in place."""
    from optimiser import InputError, load_model

    if not (REPO / "data" / "interventions.csv").exists():
        pytest.skip("data/interventions.csv is not there yet")
    try:
        inputs = load_model(DLN_MODEL)
    except InputError as error:
        pytest.skip(f"models/dln_base.toml does not load yet: {str(error).splitlines()[0]}")
    return inputs, *highs_optimum(inputs)


def highs_optimum(inputs) -> tuple[Solver, float]:
    solver = Solver(inputs)
    solution = solver.solve()
    assert solution.status == "optimal", solution.solver_status
    return solver, solution.objective


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL)


# ---- the exported MPS, solved by CBC through PuLP ---------------------------------------------


def read_mps_into_pulp(path: Path, tmp_dir: Path) -> pulp.LpProblem:
    """Read an MPS file with PuLP, handling what `LpProblem.fromMPS` does not.

    - OBJSENSE: PuLP's reader skips the section and takes the sense as an argument (minimise by
      default), so the sense is read here and passed on. HiGHS writes `OBJSENSE` / `    MAX`.
    - RANGES: PuLP's reader has no RANGES section (it would read the entries as right-hand
      sides). HiGHS writes a row l <= a'x <= u with both bounds finite as one row with a range,
      so each ranged row is rewritten as two rows, `name` (one side) and `name__range` (the other),
      with the same coefficients, in a copy of the file.
    """
    lines = path.read_text().splitlines()
    section, sense = "", pulp.LpMinimize
    row_type, rhs, ranges, objective_row = {}, {}, {}, None
    for line in lines:
        tokens = line.split()
        if not tokens:
            continue
        if not line[0].isspace():
            section = tokens[0]
            if section == "OBJSENSE" and len(tokens) > 1:
                sense = pulp.LpMaximize if tokens[1].upper().startswith("MAX") else sense
            continue
        if section == "OBJSENSE":
            sense = pulp.LpMaximize if tokens[0].upper().startswith("MAX") else sense
        elif section == "ROWS":
            if tokens[0] == "N":
                objective_row = tokens[1]
            else:
                row_type[tokens[1]] = tokens[0]
        elif section in ("RHS", "RANGES"):
            target = rhs if section == "RHS" else ranges
            for name, value in zip(tokens[1::2], tokens[2::2], strict=True):
                target[name] = float(value)
    assert objective_row not in rhs, "an objective constant would need handling too"
    if not ranges:
        _, problem = pulp.LpProblem.fromMPS(str(path), sense=sense)
        return problem

    # each ranged row: (its own new type and rhs, the twin's type and rhs), MPS rules
    twins = {}
    for name, r in ranges.items():
        b, kind = rhs.get(name, 0.0), row_type[name]
        if kind == "L":
            twins[name] = (("L", b), ("G", b - abs(r)))
        elif kind == "G":
            twins[name] = (("G", b), ("L", b + abs(r)))
        else:  # E: [b, b + r] when r > 0, [b + r, b] when r < 0
            twins[name] = (("G", b), ("L", b + r)) if r > 0 else (("L", b), ("G", b + r))

    sections: list[tuple[str, list[str]]] = []  # (header line, body lines), in file order
    for line in lines:
        if line.strip() and not line[0].isspace():
            sections.append((line, []))
        elif line.strip():
            sections[-1][1].append(line)
    names = [header.split()[0] for header, _ in sections]
    if twins and "RHS" not in names:  # ranges but no right-hand sides: add an empty section
        sections.insert(names.index("RANGES"), ("RHS", []))
    out = []
    for header, body in sections:
        kind = header.split()[0]
        if kind == "RANGES":
            continue
        out.append(header)
        for line in body:
            tokens = line.split()
            if kind == "ROWS" and tokens[1] in twins:
                (own, _), (twin, _) = twins[tokens[1]]
                out += [f" {own}  {tokens[1]}", f" {twin}  {tokens[1]}__range"]
            elif kind == "RHS" and tokens[1] in twins:
                continue  # written below with the twins
            else:
                out.append(line)
            if kind == "COLUMNS" and tokens[1] != "'MARKER'":
                out += [f"    {tokens[0]}  {row}__range  {value}"
                        for row, value in zip(tokens[1::2], tokens[2::2], strict=True)
                        if row in twins]
        if kind == "RHS":
            for name, ((_, b1), (_, b2)) in twins.items():
                out += [f"    RHS_V  {name}  {b1!r}", f"    RHS_V  {name}__range  {b2!r}"]
    rewritten = tmp_dir / (path.stem + "_for_pulp.mps")
    rewritten.write_text("\n".join(out) + "\n")
    _, problem = pulp.LpProblem.fromMPS(str(rewritten), sense=sense)
    return problem


def cbc_optimum(solver: Solver, tmp_path: Path) -> float:
    path = tmp_path / "model.mps"
    solver.write(path)
    problem = read_mps_into_pulp(path, tmp_path)
    # every variable and row of the LP made it through, none merged by PuLP's renaming
    assert len(problem.variables()) == solver.lp.num_col
    twins = sum(1 for c in problem.constraints() if c.name.endswith("__range"))
    assert problem.numConstraints() == solver.lp.num_row + twins
    with warnings.catch_warnings():  # PuLP 3.3 announces that 4.0 unbundles CBC
        warnings.simplefilter("ignore", DeprecationWarning)
        cbc = pulp.PULP_CBC_CMD(msg=False)
    status = problem.solve(cbc)
    assert pulp.LpStatus[status] == "Optimal"
    return float(pulp.value(problem.objective))


@pytest.mark.parametrize("case", list(CASES))
def test_cbc_on_the_exported_mps_matches_highs(case, tmp_path):
    solver, highs = highs_optimum(toy_case(case))
    assert close(cbc_optimum(solver, tmp_path), highs)


@pytest.mark.slow
def test_cbc_on_the_dln_base_model_matches_highs(dln, tmp_path):
    _, solver, highs = dln
    assert close(cbc_optimum(solver, tmp_path), highs)


def test_the_mps_names_are_the_models_labels(tmp_path):
    solver, _ = highs_optimum(toy_case("everything"))
    path = tmp_path / "model.mps"
    solver.write(path)
    text = path.read_text()
    for name in ("reached(2026_27,A,f_core,1)", "budget_limit(2027_28)",
                 "enhanced_support_uplift(2026_27,A,frailty)", "ring_fence(2026_27,frailty)",
                 "workforce_limit(2026_27,nurse,XP)", "avoided_cash(2026_27)"):
        assert name in text
    assert "RANGES" in text  # the ring fence is a ranged row: the case the reader must handle


# ---- the Pyomo model -------------------------------------------------------------------------


def pyomo_structure(model) -> tuple[Counter, Counter]:
    import pyomo.environ as pyo

    variables = Counter({v.local_name: len(v) for v in model.component_objects(pyo.Var)})
    rows = Counter({c.local_name: len(c) for c in model.component_objects(pyo.Constraint)})
    return variables, rows


def lp_structure(lp) -> tuple[Counter, Counter]:
    return (Counter({name: b.size for name, b in lp.columns.items()}),
            Counter({name: b.size for name, b in lp.rows.items()}))


@pytest.mark.parametrize("case", list(CASES))
def test_pyomo_model_has_the_same_blocks_and_optimum(case):
    from optimiser.pyomo_model import build_pyomo, solve_pyomo

    inputs = toy_case(case)
    solver, highs = highs_optimum(inputs)
    assert pyomo_structure(build_pyomo(inputs)) == lp_structure(solver.lp)
    assert close(solve_pyomo(inputs), highs)


def test_every_constraint_family_binds_in_some_case():
    """So that the comparisons above would notice a family written differently."""
    from optimiser import allocate
    from optimiser.results import CONSTRAINT_FAMILIES

    families, binding, optimum = set(), set(), {}
    for case in CASES:
        _, allocation = allocate(toy_case(case))
        families |= set(allocation.lp.rows)
        binding |= set(allocation.binding["constraint"])
        optimum[case] = allocation.objective
    assert set(CONSTRAINT_FAMILIES) <= binding
    assert {"define_avoided_cash", "define_others_spend_per_eligible"} <= families
    assert optimum["lock"] < optimum["budget"]  # the locks (bounds, not rows) bite too


def test_pyomo_through_the_newer_highs_interface():
    from optimiser.pyomo_model import solve_pyomo

    inputs = toy_case("everything")
    _, highs = highs_optimum(inputs)
    assert close(solve_pyomo(inputs, solver="highs"), highs)


def test_pyomo_reports_an_infeasible_model_as_none():
    from optimiser.pyomo_model import solve_pyomo

    inputs = toy_case("floor").with_policy(budget_gbp=(1_000.0,))
    assert Solver(inputs).solve().status == "infeasible"
    assert solve_pyomo(inputs) is None


def test_an_analyst_can_add_a_rule_of_their_own():
    import pyomo.environ as pyo

    from optimiser.pyomo_model import build_pyomo

    inputs = toy_case("budget")
    model = build_pyomo(inputs)
    # "no more than £5,000 in PCN B": the same as a lock-free cap, so the optimum falls
    model.cap_on_b = pyo.Constraint(expr=model.spend_pcn["2026/27", "B"] <= 5_000)
    pyo.SolverFactory("appsi_highs").solve(model)
    _, highs = highs_optimum(inputs)
    assert pyo.value(model.spend_pcn["2026/27", "B"]) <= 5_000 + 1e-6
    assert pyo.value(model.objective) < highs


@pytest.mark.slow
def test_pyomo_on_the_dln_base_model_matches_highs(dln):
    import pyomo.environ as pyo

    from optimiser.pyomo_model import build_pyomo

    inputs, solver, highs = dln
    model = build_pyomo(inputs)
    assert pyomo_structure(model) == lp_structure(solver.lp)
    pyo.SolverFactory("appsi_highs").solve(model)
    assert close(pyo.value(model.objective), highs)


def test_importing_optimiser_does_not_import_pyomo():
    code = "import sys, optimiser, optimiser.pyomo_model; assert 'pyomo' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_the_lp_file_keeps_the_models_labels(tmp_path):
    solver, _ = highs_optimum(toy_case("budget"))
    path = tmp_path / "model.lp"
    solver.write(path)
    text = path.read_text()
    assert "budget_limit" in text and "reached" in text


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toy_models())
def test_pyomo_matches_highs_on_random_models(model):
    """The random toy models of test_properties: uplift groups, workforce scopes, tranches and
    years in combinations the fixed cases above do not reach."""
    from optimiser.pyomo_model import build_pyomo, solve_pyomo

    inputs = model.inputs()
    solver = Solver(inputs)
    solution = solver.solve()
    assert pyomo_structure(build_pyomo(inputs)) == lp_structure(solver.lp)
    pyomo = solve_pyomo(inputs)
    if solution.optimal:
        assert pyomo is not None and close(pyomo, solution.objective)
    else:
        assert pyomo is None
