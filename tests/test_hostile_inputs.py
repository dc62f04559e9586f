"""A corpus of hostile inputs, by class: each breaks one thing and names the words a user sees.

Every case is a broken model file, table or command line, run through the command line as a
user runs it (`python -m optimiser VERB ...`, called in this process): it must exit 1, print
the problem in words on stderr, never a traceback, and solve nothing (`Solver.solve` raises
here). The classes are those of issue 13: numbers that are not finite or not possible,
duplicates and references to codes the model does not have, values of the wrong kind, files
the tool cannot read, destinations it cannot write, and sizes that would exhaust the machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from optimiser import InputError, load_model
from optimiser.cli import main
from optimiser.policy import RingFence

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "dln_base.toml"


# ---- the workspace each case breaks ----------------------------------------------------------

@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the shipped data and of models/dln_base.toml cut to one year (fast)."""
    shutil.copytree(ROOT / "data", tmp_path / "data",
                    ignore=shutil.ignore_patterns("*.md", "template.xlsx"))
    (tmp_path / "models").mkdir()
    text = MODEL.read_text()
    text = re.sub(r"^years = \[.*?\]$", 'years = ["2026/27"]', text, count=1, flags=re.M)
    text = re.sub(r"^gbp_per_head = \[.*?\]$", "gbp_per_head = [14.03]", text, count=1,
                  flags=re.M)
    text = text[: text.index("\n[scenarios.")]
    (tmp_path / "models" / "model.toml").write_text(text)
    (tmp_path / "out").mkdir()
    return tmp_path


def model_path(folder: Path) -> Path:
    return folder / "models" / "model.toml"


def replace(old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = model_path(folder)
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
    return change


def append(lines: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = model_path(folder)
        path.write_text(path.read_text() + "\n" + lines + "\n")
    return change


def insert_before(section: str, lines: str) -> Callable[[Path], None]:
    """Top-level keys must come before the first [section] of the file."""
    return replace(section, lines + "\n" + section)


def edit_pcns(column: str, value: str, row: int = 0) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / "data" / "pcns.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.loc[row, column] = value
        frame.to_csv(path, index=False)
    return change


def all_of(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        for one in changes:
            one(folder)
    return change


def no_change(folder: Path) -> None:
    pass


@dataclass(frozen=True)
class Case:
    """One hostile input: how to break the workspace, the command, and the words to see."""

    name: str
    change: Callable[[Path], None]
    words: tuple[str, ...]
    argv: tuple[str, ...] = ("validate", "{model}")


def argv_of(case: Case, folder: Path) -> list[str]:
    return [a.format(model=model_path(folder), out=folder / "out", ws=folder)
            for a in case.argv]


# ---- the corpus -------------------------------------------------------------------------------

NUMBERS = [  # inf, nan and impossible amounts, wherever a number is read
    Case("budget per head inf", replace("gbp_per_head = [14.03]", "gbp_per_head = [inf]"),
         ("'budget.gbp_per_head' must be a finite number",)),
    Case("budget in pounds nan", replace("gbp_per_head = [14.03]", "budget_gbp = [nan]"),
         ("'budget.budget_gbp' must be a finite number",)),
    Case("budget beyond any NHS budget", replace("gbp_per_head = [14.03]",
                                                 "budget_gbp = [1e300]"),
         ("'budget.budget_gbp' is above 1e+12",)),
    Case("budget of 400 digits", replace("gbp_per_head = [14.03]",
                                         "budget_gbp = [1" + "0" * 400 + "]"),
         ("'budget.budget_gbp' must be a finite number",)),
    Case("priority weight inf", replace("frailty = 1.0", "frailty = inf"),
         ("'priority_weights.frailty' must be a finite number",)),
    Case("quintile weight inf", replace("quintile_weights = [1.0, 1.0", "quintile_weights = "
                                        "[inf, 1.0"),
         ("'equity.quintile_weights' must be a finite number",)),
    Case("activity value inf", replace("bed_days_avoided_gbp = 0.0",
                                       "bed_days_avoided_gbp = inf"),
         ("'outcome_weights.bed_days_avoided_gbp' must be a finite number",)),
    Case("activity target minimum nan", append(
        '[[activity_targets]]\noutcome = "nel_avoided"\nyear = "2026/27"\nminimum = nan'),
         ("'activity_targets[1].minimum' must be a finite number",)),
    Case("lock amount nan", append(
        '[[locks]]\npcn = "U99463"\npriority = "frailty"\nspend_gbp = nan'),
         ("'locks[1].spend_gbp' must be a finite number",)),
    Case("available WTE inf", append(
        "[workforce.available_wte.care_coordinator]\nQJ2 = inf"),
         ("workforce.available_wte.care_coordinator.QJ2 must be WTE from 0 to 10,000,000",)),
    Case("time limit below zero", append("[solver]\ntime_limit = -5"),
         ("'solver.time_limit' is below 0.001",)),
    Case("age band larger than the population", edit_pcns("pop_65_plus", "99999999"),
         ("is larger than the whole registered population", "column 'pop_65_plus'")),
    Case("85 and over more than 75 and over", edit_pcns("pop_85_plus", "99999"),
         ("'pop_85_plus' is larger than 'pop_75_plus', which contains it",)),
    Case("age bands that add up to more than the population",
         edit_pcns("pop_0_19", "2000000"),
         ("the age bands 0-19, 20-39, 40-64 and 65+ add up to more than the registered "
          "population",)),
]

REFERENCES = [  # duplicates and codes the model does not have: the unknown and the known
    Case("duplicate years", all_of(
        replace('years = ["2026/27"]', 'years = ["2026/27", "2026/27"]'),
        replace("gbp_per_head = [14.03]", "gbp_per_head = [14.03, 14.03]")),
         ("'model.years' lists 2026/27 more than once",)),
    Case("ring fence on an ICB not in the model", append(
        '[[ring_fences]]\npriority = "frailty"\nicb = "QXX"\nmin_share = 0.1'),
         ("ring fence 1: the ICB 'QXX' is not one of the model's ICBs",
          "The model has: QJ2, QJM, QT1")),
    Case("activity target in an ICB not in the model", append(
        '[[activity_targets]]\noutcome = "nel_avoided"\nyear = "2026/27"\nminimum = 10'
        '\nicb = "QJ9"'),
         ("activity target 1: the ICB 'QJ9' is not one of the model's ICBs",
          "Did you mean 'QJM'? The model has: QJ2, QJM, QT1")),
    Case("lock on a PCN not in the model", append(
        '[[locks]]\npcn = "U00000"\npriority = "frailty"\nspend_gbp = 1000'),
         ("lock 1: the PCN 'U00000' is not among the model's PCNs", "The model has: U", "more")),
    Case("limited staff group not in the data", replace(
        'limited_groups = ["clinical_pharmacist"', 'limited_groups = ["clinical_pharmacists"'),
         ("workforce.limited_groups names an unknown staff group 'clinical_pharmacists'",
          "Did you mean 'clinical_pharmacist'? The model has: gp, nurse")),
]

KINDS = [  # a value of the wrong kind is a listed problem, never silently ignored
    Case("limited groups as one text", replace(
        'limited_groups = ["clinical_pharmacist", "pharmacy_technician", "care_coordinator",\n'
        '                  "personalised_care", "mental_health_practitioner", "allied_health"]',
        'limited_groups = "clinical_pharmacist"'),
         ("'workforce.limited_groups' must be a list of text",)),
    Case("lock years as one text", append(
        '[[locks]]\npcn = "U99463"\npriority = "frailty"\nspend_gbp = 1000\nyears = "2026/27"'),
         ("'locks[1].years' must be a list of text",)),
    Case("ring fences that are not tables", insert_before("[model]", "ring_fences = [1, 2]"),
         ("'ring_fences[1]' must be a table of settings",
          "'ring_fences[2]' must be a table of settings")),
    Case("a section that is a number", all_of(
        replace("[equity]", "[equity_settings]"), insert_before("[model]", "equity = 5")),
         ("'equity' must be a table", "the key 'equity_settings' is not one the tool knows")),
    Case("a scenario that is not a table of overrides", append("[scenarios]\nbad = 5"),
         ("scenario 'bad' must be a table of overrides (found 5). Write it as [scenarios.bad]",)),
    Case("available WTE that is not a table", replace(
        "[workforce]", "[workforce]\navailable_wte = 5"),
         ("'workforce.available_wte' must be a table of named values",)),
    Case("old Excel workbook", all_of(
        lambda folder: (folder / "data" / "template.xls").write_bytes(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
        replace('data = "../data"', 'data = "../data/template.xls"')),
         ("the data is an Excel 97-2003 workbook (.xls), which the tool cannot read",
          "save it as 'Excel Workbook (*.xlsx)'")),
]

COMMAND_LINES = [  # every number a command line takes: finite, in range, the bound stated
    Case("frontier of a billion points", no_change,
         ("--points: the value must be a whole number from 2 to 1,001",),
         ("frontier", "{model}", "--points", "1000000000", "--out", "{out}/f")),
    Case("frontier uplift inf", no_change,
         ("--uplift: the value must be a number from 0 to 100",),
         ("frontier", "{model}", "--points", "2", "--uplift", "inf", "--out", "{out}/f")),
    Case("frontier uplift nan", no_change,
         ("--uplift: the value must be a number from 0 to 100",),
         ("frontier", "{model}", "--points", "2", "--uplift", "nan", "--out", "{out}/f")),
    Case("a hundred million draws", no_change,
         ("--draws: the value must be a whole number from 1 to 10,000",),
         ("uncertainty", "{model}", "--draws", "100000000", "--out", "{out}/u")),
    Case("negative seed", no_change,
         ("--seed: the value must be a whole number from 0 to 4,294,967,295",),
         ("uncertainty", "{model}", "--draws", "2", "--seed", "-1", "--out", "{out}/u")),
    Case("time limit nan", no_change,
         ("--time-limit: the value must be a number of seconds from 0.001 to 604,800",),
         ("run", "{model}", "--time-limit", "nan", "--out", "{out}/r")),
    Case("time limit below zero", no_change,
         ("--time-limit: the value must be a number of seconds",),
         ("frontier", "{model}", "--points", "2", "--time-limit", "-1", "--out", "{out}/f")),
    Case("too many workers", no_change,
         ("--workers: the value must be a whole number from 1 to 64",),
         ("run", "{model}", "--workers", "100000", "--out", "{out}/r")),
]

DESTINATIONS = [  # checked before anything is solved, in one sentence
    Case("run below a file", lambda folder: (folder / "a_file").write_text("x"),
         ("a_file is a file, so no folder can be made below it",),
         ("run", "{model}", "--out", "{ws}/a_file/results")),
    Case("frontier below a file", lambda folder: (folder / "a_file").write_text("x"),
         ("a_file is a file, so no folder can be made below it",),
         ("frontier", "{model}", "--points", "2", "--out", "{ws}/a_file/f")),
    Case("uncertainty below a file", lambda folder: (folder / "a_file").write_text("x"),
         ("a_file is a file, so no folder can be made below it",),
         ("uncertainty", "{model}", "--draws", "2", "--out", "{ws}/a_file/u")),
    Case("export into a missing folder", no_change,
         ("--out: the folder", "nodir does not exist. Create it first"),
         ("export", "{model}", "--out", "{ws}/nodir/model.mps")),
    Case("export below a file", lambda folder: (folder / "a_file").write_text("x"),
         ("a_file is a file, so no folder can be made below it",),
         ("export", "{model}", "--out", "{ws}/a_file/model.mps")),
]

CORPUS = NUMBERS + REFERENCES + KINDS + COMMAND_LINES + DESTINATIONS


@pytest.fixture
def no_solving(monkeypatch):
    """A case must be refused before anything is solved."""
    from optimiser.solve import Solver

    def refuse(self):
        raise AssertionError("a bad input reached the solver")

    monkeypatch.setattr(Solver, "solve", refuse)


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_each_hostile_input_is_one_listed_problem_in_words(case, workspace, capsys, no_solving):
    case.change(workspace)
    code = main(argv_of(case, workspace))
    captured = capsys.readouterr()
    assert code == 1, captured.out + captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "problem" in captured.err and " found in the inputs:" in captured.err
    for words in case.words:
        assert words in captured.err, captured.err
    assert "Wrote" not in captured.out


def test_validate_lists_every_problem_at_once(workspace, capsys):
    """A model with a problem of every class: all are listed in one report, exit 1."""
    cases = [case(name) for name in ("budget per head inf", "activity target minimum nan",
                                     "ring fence on an ICB not in the model",
                                     "limited groups as one text",
                                     "age band larger than the population")]
    all_of(*(c.change for c in cases))(workspace)
    assert main(["validate", str(model_path(workspace))]) == 1
    err = capsys.readouterr().err
    for c in cases:
        assert c.words[0] in err, err
    assert err.startswith("6 problems found in the inputs:"), err  # 65+ is also too many
    assert "Traceback" not in err


def case(name: str) -> Case:
    return next(c for c in CORPUS if c.name == name)


def test_a_ring_fence_whose_minimum_is_above_its_maximum_is_refused_by_the_app_path():
    inputs = load_model(MODEL)
    with pytest.raises(InputError, match=r"min_share \(0.5\) is above max_share \(0.1\)"):
        inputs.with_policy(ring_fences=(RingFence("frailty", min_share=0.5, max_share=0.1),))
    with pytest.raises(InputError, match="'budget_gbp' must be a finite number"):
        inputs.with_policy(budget_gbp=(float("inf"),) * 5, gbp_per_head=None)
    with pytest.raises(InputError, match="'need_gradient' must be a finite number"):
        inputs.with_policy(need_gradient=float("nan"))


def test_a_ring_fence_whose_minimum_is_above_its_maximum_in_a_model_file(workspace, capsys):
    append('[[ring_fences]]\npriority = "frailty"\nmin_share = 0.5\nmax_share = 0.1')(workspace)
    assert main(["validate", str(model_path(workspace))]) == 1
    assert "ring fence 1: min_share (0.5) is above max_share (0.1), so no spend can meet it" \
        in capsys.readouterr().err


# ---- destinations that cannot be written (as a user who may not write there) -----------------

def test_run_into_a_folder_the_user_may_not_write_is_one_sentence(workspace):
    """A real permission refusal: as root (which may write anywhere), the command runs as the
    unprivileged user 'nobody', who may not write to a folder with mode 555."""
    shared = Path(tempfile.mkdtemp(prefix="hostile-"))  # readable by every user, unlike tmp_path
    try:
        shared.chmod(0o755)
        for name in ("models", "data"):
            shutil.copytree(workspace / name, shared / name)
        locked = shared / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        command = [sys.executable, "-m", "optimiser", "run", str(model_path(shared)),
                   "--out", str(locked / "results")]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("root without setpriv: cannot act as a user without rights")
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300,
                                env={**os.environ, "HOME": str(locked),
                                     "MPLCONFIGDIR": str(locked)})
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert f"--out: the folder {locked} cannot be written to. Choose a folder you may " \
               "write to" in result.stderr
        assert not (locked / "results").exists()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# ---- workbooks read within a budget -------------------------------------------------------

def hostile_workbook(path: Path, extra_rows: int) -> None:
    """The shipped tables as a workbook whose pcns sheet has a cell in column XFD on every row,
    and `extra_rows` more rows holding nothing else (0.9 MB on disk for 20,000)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for name in ("pcns", "interventions", "staff_groups", "unit_costs", "higher_need",
                 "priorities"):
        frame = pd.read_csv(ROOT / "data" / f"{name}.csv", dtype=str, keep_default_na=False)
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, list(frame.columns))
        for r, row in enumerate(frame.itertuples(index=False), start=1):
            sheet.write_row(r, 0, list(row))
            if name == "pcns":
                sheet.write_string(r, 16383, "x")
        if name == "pcns":
            for r in range(len(frame) + 1, len(frame) + 1 + extra_rows):
                sheet.write_string(r, 16383, "x")
    book.close()


READ_IN_A_CHILD = """
import resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from optimiser.errors import Problems
from optimiser.inputs import read_tables
problems = Problems()
tables = read_tables(Path(sys.argv[1]), problems)
print({name: list(frame.shape) for name, frame in tables.items()})
print([str(p) for p in problems.items])
"""


def test_a_workbook_whose_rows_reach_column_xfd_is_read_within_a_memory_budget(tmp_path):
    """Such a workbook of 0.9 MB took 2.7 GB to read; read in a child process allowed 1.5 GB
    of address space, it gives the real tables (the cells beyond the header are ignored)."""
    path = tmp_path / "xfd.xlsx"
    hostile_workbook(path, extra_rows=20_000)
    assert path.stat().st_size < 1.5e6
    limit = 1536 * 1024 * 1024
    result = subprocess.run([sys.executable, "-c", READ_IN_A_CHILD.replace("{limit}", str(limit)),
                             str(path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    shapes = eval(result.stdout.splitlines()[0])  # noqa: S307 - our own child's output
    for name in ("pcns", "higher_need"):
        csv = pd.read_csv(ROOT / "data" / f"{name}.csv", dtype=str, keep_default_na=False)
        assert shapes[name] == list(csv.shape), name
    assert result.stdout.splitlines()[1] == "[]"


def test_a_sheet_beyond_the_cell_budget_is_refused_with_the_bound(tmp_path, monkeypatch):
    from optimiser import io
    from optimiser.errors import Problems
    from optimiser.inputs import read_tables

    monkeypatch.setattr(io, "MAX_SHEET_ROWS", 1_000, raising=False)
    problems = Problems()
    read_tables(ROOT / "data" / "template.xlsx", problems)
    text = "\n".join(str(p) for p in problems.items)
    columns = len(pd.read_csv(ROOT / "data" / "pcns.csv", nrows=1).columns)
    assert f"sheet 'pcns': the sheet has more than 1,000 rows of {columns} columns; the most " \
           "the tool reads is 2,000,000 cells and 1,000 rows a sheet" in text
    assert "sheet 'higher_need': the sheet has more than 1,000 rows" in text


def test_an_unzipped_workbook_beyond_the_budget_is_refused_before_reading(tmp_path, monkeypatch):
    from optimiser import io

    monkeypatch.setattr(io, "MAX_WORKBOOK_XML_BYTES", 1024 * 1024, raising=False)
    with pytest.raises(InputError) as caught:
        load_model(_model_reading(tmp_path, ROOT / "data" / "template.xlsx"))
    text = caught.value.report()
    assert "template.xlsx: the workbook holds 5 MB once unzipped; the most the tool reads is " \
           "1 MB" in text
    assert text.startswith("1 problem found")


def _model_reading(folder: Path, data: Path) -> Path:
    path = folder / "model.toml"
    path.write_text(MODEL.read_text().replace('data = "../data"',
                                              f"data = {json.dumps(str(data))}"))
    return path

