"""Every bad input gives a clear message naming the file, row, column and fix; never a traceback.

Each test copies the shipped data and base model into a temporary folder, breaks one thing,
and asserts on the words a finance lead would see.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from optimiser import InputError, load_model

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data",
                    ignore=shutil.ignore_patterns("*.md", "template.xlsx"))
    (tmp_path / "models").mkdir()
    shutil.copy(MODEL, tmp_path / "models" / "model.toml")
    return tmp_path


def problems_of(path: Path, scenario: str | None = None) -> str:
    with pytest.raises(InputError) as caught:
        load_model(path, scenario)
    return caught.value.report()


def edit_csv(folder: Path, name: str, change) -> None:
    path = folder / "data" / f"{name}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = change(frame)
    frame.to_csv(path, index=False)


def edit_model(folder: Path, old: str, new: str) -> Path:
    path = folder / "models" / "model.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def model(folder: Path) -> Path:
    return folder / "models" / "model.toml"


def test_the_base_model_loads():
    inputs = load_model(MODEL)
    assert len(inputs.pcns) == 55
    assert set(inputs.pcns["icb_code"]) == {"QJ2", "QJM", "QT1"}


def test_missing_file(workspace):
    (workspace / "data" / "unit_costs.csv").unlink()
    text = problems_of(model(workspace))
    assert "unit_costs.csv: the file is missing" in text


def test_missing_and_misspelt_columns_are_named_with_a_suggestion(workspace):
    edit_csv(workspace, "interventions", lambda f: f.rename(columns={"cost_gbp": "cost_gpb"}))
    text = problems_of(model(workspace))
    assert "the column 'cost_gbp' is missing. Did you mean 'cost_gpb'?" in text


def test_extra_column_is_reported(workspace):
    edit_csv(workspace, "pcns", lambda f: f.assign(favourite_colour="blue"))
    text = problems_of(model(workspace))
    assert "the column 'favourite_colour' is not one the tool knows" in text


def test_wrong_type_names_row_column_and_value(workspace):
    def change(f):
        f.loc[2, "cost_gbp"] = "about fifty"
        return f
    edit_csv(workspace, "interventions", change)
    text = problems_of(model(workspace))
    assert "interventions.csv, row 4, column 'cost_gbp': the value is not a number " \
           "(found 'about fifty')" in text


@pytest.mark.parametrize("table, column, value, words", [
    ("pcns", "population", "-5", "the value must be greater than zero"),
    ("interventions", "cost_gbp", "0", "the value must be greater than zero"),
    ("pcns", "need_ga_eng", "", "the value is blank or not a number"),
    ("interventions", "max_uptake", "1.4", "the value is above the maximum of 1"),
    ("pcns", "prev_hypertension", "NaN", "the value is blank or not a number"),
])
def test_bad_values(workspace, table, column, value, words):
    def change(f):
        f.loc[0, column] = value
        return f
    edit_csv(workspace, table, change)
    text = problems_of(model(workspace))
    assert f"{table}.csv, row 2, column '{column}': {words}" in text


def test_every_problem_is_reported_at_once(workspace):
    def change(f):
        f.loc[0, "cost_gbp"] = "-1"
        f.loc[1, "tier"] = "gold"
        return f
    edit_csv(workspace, "interventions", change)
    (workspace / "data" / "unit_costs.csv").unlink()
    text = problems_of(model(workspace))
    assert "cost_gbp" in text and "'tier'" in text and "unit_costs.csv" in text
    assert text.startswith("3 problems found")


def test_unknown_priority_code_gets_a_suggestion(workspace):
    def change(f):
        f.loc[0, "priority_id"] = "fraility"
        return f
    edit_csv(workspace, "interventions", change)
    text = problems_of(model(workspace))
    assert "interventions.csv, row 2, column 'priority_id': the priority 'fraility' is not in " \
        "the priorities table" in text and "Did you mean 'frailty'?" in text


def test_model_file_names_a_priority_the_data_lacks(workspace):
    """Priority weights, ring fences and locks name priorities of the priorities table."""
    path = edit_model(workspace, "frailty = 1.0", "fraility = 1.0")
    path.write_text(path.read_text().replace(
        "# ---- named scenarios",
        '[[ring_fences]]\npriority = "dementia"\nmin_share = 0.1\n\n'
        '[[locks]]\npcn = "U99463"\npriority = "cyp_obesty"\nspend_gbp = 10\n\n'
        "# ---- named scenarios"))
    text = problems_of(path)
    assert "priority_weights.fraility: the priority 'fraility' is not in the priorities " \
        "table. Did you mean 'frailty'?" in text
    assert "ring fence 1: the priority 'dementia' is not in the priorities table" in text
    assert "lock 1: the priority 'cyp_obesty' is not in the priorities table" in text
    assert text.startswith("3 problems found")


def test_unknown_staff_group_column(workspace):
    edit_csv(workspace, "interventions",
             lambda f: f.rename(columns={"wte_per_1000_nurse": "wte_per_1000_nurses"}))
    text = problems_of(model(workspace))
    assert "the staff group 'nurses' is not in staff_groups" in text


def test_duplicate_ids(workspace):
    edit_csv(workspace, "interventions", lambda f: pd.concat([f, f.iloc[[0]]]))
    text = problems_of(model(workspace))
    assert "appears more than once" in text and "intervention_id" in text


def test_empty_table(workspace):
    edit_csv(workspace, "unit_costs", lambda f: f.iloc[0:0])
    text = problems_of(model(workspace))
    assert "unit_costs.csv: the table has a header but no rows" in text


def test_file_that_is_not_utf8(workspace):
    path = workspace / "data" / "priorities.csv"
    path.write_bytes(path.read_bytes() + "Caf\xe9 row\n".encode("latin-1"))
    text = problems_of(model(workspace))
    assert "priorities.csv: the file is not UTF-8 text" in text
    assert "CSV UTF-8" in text


def test_workbook_that_is_not_a_real_workbook(workspace):
    (workspace / "data" / "fake.xlsx").write_text("this is not a spreadsheet")
    path = edit_model(workspace, 'data = "../data"', 'data = "../data/fake.xlsx"')
    text = problems_of(path)
    assert "fake.xlsx: the file is not a real Excel workbook (.xlsx)" in text


def test_workbook_missing_a_sheet(workspace, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(ROOT / "data" / "template.xlsx")
    del book["unit_costs"]
    book.save(workspace / "data" / "mine.xlsx")
    path = edit_model(workspace, 'data = "../data"', 'data = "../data/mine.xlsx"')
    text = problems_of(path)
    assert "mine.xlsx: the sheet 'unit_costs' is missing" in text


def test_the_template_workbook_gives_the_same_inputs_as_the_csv_files(workspace):
    shutil.copy(ROOT / "data" / "template.xlsx", workspace / "data" / "template.xlsx")
    path = edit_model(workspace, 'data = "../data"', 'data = "../data/template.xlsx"')
    from_book = load_model(path)
    from_csv = load_model(MODEL)
    pd.testing.assert_frame_equal(from_book.eligible, from_csv.eligible)
    assert from_book.budget_gbp.tolist() == from_csv.budget_gbp.tolist()
    pd.testing.assert_frame_equal(from_book.workforce_wte, from_csv.workforce_wte)


def test_unknown_model_key_gets_a_suggestion(workspace):
    path = edit_model(workspace, "universal_floor = 0.20", "universal_flor = 0.20")
    text = problems_of(path)
    assert "the key 'equity.universal_flor' is not one the tool knows. " \
           "Did you mean 'universal_floor'?" in text


def test_typo_in_scenario_name(workspace):
    text = problems_of(model(workspace), "flat_budgett")
    assert "there is no scenario called 'flat_budgett'. Did you mean 'flat_budget'?" in text


def test_unknown_icb(workspace):
    path = edit_model(workspace, '"QT1"]', '"QT9"]')
    text = problems_of(path)
    assert "the ICB code 'QT9' is not in the PCN table" in text


@pytest.mark.parametrize("old, new, words", [
    ("gbp_per_head = [14.03,", "gbp_per_head = [-14.03,", "A budget per head cannot be negative"),
    ("enhanced_uplift = 0.25", "enhanced_uplift = -1.5", "'equity.enhanced_uplift' is below -1"),
    ("universal_floor = 0.20", "universal_floor = 1.2", "'equity.universal_floor' is above 1"),
    ("need_gradient = 0.5", "need_gradient = \"high\"", "'equity.need_gradient' must be a number"),
])
def test_bad_policy_values(workspace, old, new, words):
    text = problems_of(edit_model(workspace, old, new))
    assert words in text


def test_lock_above_the_cap(workspace):
    path = model(workspace)
    path.write_text(path.read_text().replace(
        "# ---- named scenarios",
        '[[locks]]\npcn = "U99463"\npriority = "frailty"\nspend_gbp = 1e12\n\n'
        "# ---- named scenarios"))
    text = problems_of(path)
    assert "the lock on frailty in U99463" in text and "is above the most that PCN can spend" \
        in text


def test_floor_above_first_year_growth_is_caught_before_solving(workspace):
    # only when the floor is hard: a floor that may bend falls short in the first year
    edit_model(workspace, "universal_core_offer = 2", 'universal_core_offer = "hard"')
    text = problems_of(edit_model(workspace, "universal_floor = 0.20", "universal_floor = 0.5"))
    assert "the universal floor (50%) is above the most a new service can grow" in text


def test_with_policy_checks_values_too():
    inputs = load_model(MODEL)
    with pytest.raises(InputError, match="cannot be below -1"):
        inputs.with_policy(enhanced_uplift=-2.0)
    with pytest.raises(InputError, match="cannot be negative"):
        inputs.with_policy(budget_gbp=(-1.0,) * 5, gbp_per_head=None)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optimiser", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_command_line_validate_prints_the_dln_summary():
    result = run_cli("validate", "models/dln_base.toml")
    assert result.returncode == 0, result.stderr
    assert "PCNs: 55" in result.stdout
    assert "QJ2" in result.stdout and "QJM" in result.stdout and "QT1" in result.stdout
    assert "Budget per year: 2026/27 £45.3m" in result.stdout


def test_command_line_bad_input_lists_problems_and_exits_1(workspace):
    path = edit_model(workspace, "universal_floor = 0.20", "universal_flor = 0.20")
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert "Did you mean 'universal_floor'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_command_line_missing_model_file():
    result = run_cli("validate", "models/nowhere.toml")
    assert result.returncode == 1
    assert "the model file does not exist" in result.stderr


def test_command_line_help_lists_the_verbs():
    result = run_cli("--help")
    assert result.returncode == 0
    for verb in ("validate", "run", "export", "scenarios"):
        assert verb in result.stdout
