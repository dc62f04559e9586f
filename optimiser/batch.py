"""Batch runs: named scenarios (and ICBs) solved in parallel, written as files for a finance team.

A job is one model file, one scenario and, optionally, the ICBs to run it for. Each job runs in
a worker (this process, a local process pool, or a Dask cluster): the worker is sent paths, not
tables; it loads the model itself, solves, checks the answer independently and renders its files
in memory. The parent writes them (whole or not at all), prints a line as each job finishes, and
writes the comparison across jobs at the end. A job that fails (infeasible, or an exception in
the worker) is recorded and the others carry on.

Output layout (OUT is --out):

    OUT/batch.json                                  the batch: running, complete or stopped
    OUT/comparison.csv, OUT/comparison.xlsx         one row per job (a complete batch only)
    OUT/<scenario>/allocation.csv, summary.xlsx, run.json, timings.json   the model's ICBs
    OUT/<scenario>/<ICB>/...                        the same, with --icb CODE or --icb all

Two runs of the same inputs write byte-identical files, timings.json (and batch.json's
`seconds`) apart: nothing else depends on the clock.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import io, report, strategy_sheets
from .errors import InputError, Problem, Problems
from .inputs import (
    ModelInputs,
    list_scenarios,
    load_model,
    model_data_source,
    read_model_policy,
    read_tables,
)
from .policy import merge_scenario
from .processes import process_pool, stop_workers
from .results import __version__, money

FILES = ("allocation.csv", "summary.xlsx", "run.json", "timings.json")
RECORD = "batch.json"
COMPARISON_FILES = ("comparison.csv", "comparison.xlsx")
TIMING_KEYS = ("build_seconds", "solve_seconds")  # run.json leaves these to timings.json
DIFF_COLUMNS = ("objective_gbp", "spend_gbp", "people_reached", "qaly", "nel_avoided",
                "ed_avoided", "bed_days_avoided", "op_avoided", "spend_per_head_q1_q5_ratio",
                "higher_need_to_universal_ratio", "spend_per_head_concentration_index")
EQUITY_COLUMNS = tuple(f"{m}_{k}" for m in ("spend_per_head", "value_per_head", "qaly_per_head")
                       for k in ("q1_q5_ratio", "q1_q5_gap", "slope_index", "relative_index",
                                 "concentration_index"))
FIGURE_COLUMNS = (
    "objective_gbp", "budget_gbp", "spend_gbp", "people_reached", "qaly", "nel_avoided",
    "ed_avoided", "bed_days_avoided", "op_avoided", "weighted_value_gbp", "wte_used_final_year",
    "population", *(f"spend_per_head_q{q}_gbp" for q in range(1, 6)), "spend_per_head_all_gbp",
    "higher_need_per_eligible_gbp", "universal_per_eligible_gbp",
    "higher_need_to_universal_ratio", *EQUITY_COLUMNS, "binding_count", "binding_constraints",
    "rules_met", "shortfall_gbp", "rules_short",
    "health_value_gbp", "cash_value_gbp", "cash_released_gbp", "cash_released_per_gbp",
    "health_share", "enhanced_spend_gbp", "unflagged_share", "enhanced_interventions_funded",
    "enhanced_interventions", "higher_need_below_median_pcns",
)
TARGET_COLUMN = re.compile(r"(target|aim)\d+_")  # per target and aim: strategy_sheets.figures


@dataclass(frozen=True)
class Job:
    """One solve: a model file, a scenario and (optionally) the ICBs it is run for."""

    model: str  # absolute path of the model file
    scenario: str
    icbs: tuple[str, ...] | None  # None: the ICBs the model file names
    source: str  # the data folder or workbook the model reads (read once per worker)
    folder: str  # output folder, relative to --out
    hard_rules: bool = False  # every rule hard (--hard-rules), whatever the model's [rules]
    time_limit: float | None = None  # seconds per solve (None: the model file's, or 600)
    threads: int = 0  # threads of one solve (0: the cores); 1 in a batch of several jobs

    @property
    def label(self) -> str:
        return self.scenario + (f" / {' '.join(self.icbs)}" if self.icbs else "")


@dataclass
class JobResult:
    """What a worker sends back: small, picklable, and everything the parent writes."""

    job: Job
    status: str  # optimal, infeasible, unbounded, time_limit, error
    objective: float | None = None
    seconds: float = 0.0
    icbs: str = ""  # the ICBs actually modelled, space-separated
    icb_names: str = ""
    description: str = ""
    digest: str = ""
    checks_passed: bool | None = None
    explanation: str = ""  # why it is not optimal (or the error), in words
    figures: dict = field(default_factory=dict)  # the comparison row (optimal jobs)
    manifest: dict = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # file name -> content

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


# ---- planning and checking every input before any solve ---------------------------------------

def plan(model: str | Path, scenarios: list[str] | None = None, all_scenarios: bool = False,
         icbs: list[str] | None = None, hard_rules: bool = False,
         time_limit: float | None = None) -> list[Job]:
    """The jobs a command asks for, every input checked; raises one InputError listing all."""
    path = Path(model).resolve()
    names = list_scenarios(path) if all_scenarios else list(dict.fromkeys(scenarios or ["base"]))
    selections = _icb_selections(path, names, icbs)
    problems: dict[tuple[str, str], tuple[Problem, list[str]]] = {}
    jobs: list[Job] = []
    taken: set[str] = set()
    for name in names:
        folder = _unique(safe_name(name), taken)
        try:
            source = data_source(path, name)
        except InputError as err:
            _collect(problems, name, err, [])
            continue
        for selection in selections:
            try:
                inputs_for(str(path), name, tuple(selection) if selection else None,
                           str(source))
            except InputError as err:
                _collect(problems, name, err, list(selection or []))
                continue
            sub = f"{folder}/{safe_name(selection[0])}" if selection else folder
            jobs.append(Job(str(path), name, selection, str(source), sub, hard_rules,
                            time_limit))
    if problems:
        raise InputError([_with_context(p, name, where) for (name, _), (p, where)
                          in problems.items()])
    if len(jobs) > 1:  # the workers share the cores: each solve on one thread (row generation
        # solves the years apart on two otherwise; on 2 workers that made each job about 1.7
        # times slower, benchmarks/README.md), in every runner, so that the answers are the
        # same whether the jobs run serially or side by side
        jobs = [dataclasses.replace(job, threads=1) for job in jobs]
    return jobs


def _icb_selections(path: Path, names: list[str], icbs: list[str] | None) -> list:
    """[None] for the model's own ICBs, else one single-ICB selection per code."""
    if not icbs:
        return [None]
    codes = list(dict.fromkeys(c.strip() for c in icbs))
    if "all" in (c.lower() for c in codes):
        if len(codes) > 1:
            raise InputError([Problem("--icb", "'--icb all' cannot be combined with ICB codes",
                                      "Give either --icb all or one --icb CODE per ICB")])
        pcns = tables_for(str(data_source(path, names[0])))["pcns"]
        codes = sorted(pcns["icb_code"].unique())
    return [(code,) for code in codes]


def _collect(problems: dict, scenario: str, err: InputError, icbs: list[str]) -> None:
    for p in err.problems:
        key = (scenario, str(p))
        if key not in problems:
            problems[key] = (p, [])
        problems[key][1].extend(icbs)


def _with_context(p: Problem, scenario: str, icbs: list[str]) -> Problem:
    where = f"{p.where} (scenario '{scenario}'"
    if icbs:
        shown = ", ".join(icbs[:5]) + (f" and {len(icbs) - 5} more" if len(icbs) > 5 else "")
        where += f", ICB {shown}"
    return Problem(where + ")", p.message, p.fix, p.row, p.column, p.value)


def data_source(model: Path, scenario: str) -> Path:
    """The data folder or workbook a scenario of a model file reads."""
    return model_data_source(model, read_model_policy(model, scenario))


def model_notes(model: str | Path, scenario: str) -> dict[str, str]:
    """The `note` and `source` lines of each section of the model file (scenario applied)."""
    problems = Problems()
    raw = io.read_toml(Path(model), problems) or {}
    merged = merge_scenario(raw, scenario, "model file", problems)
    notes = {}
    for section, body in merged.items():
        items = body if isinstance(body, list) else [body]
        texts = [str(item[k]) for item in items if isinstance(item, dict)
                 for k in ("note", "source") if item.get(k)]
        if texts:
            notes[section] = " ".join(dict.fromkeys(texts))
    return notes


def safe_name(name: str) -> str:
    """A folder name that is safe on every file system (letters, digits, . _ -)."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._-")[:80]
    return text or "scenario"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate.lower())
    return candidate


def _stamp(source: Path) -> tuple:
    files = sorted(source.glob("*")) if source.is_dir() else [source]
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file())


@functools.lru_cache(maxsize=4)
def _read_tables(source: str, stamp: tuple) -> dict[str, pd.DataFrame]:
    problems = Problems()
    tables = read_tables(Path(source), problems)
    problems.raise_if_any()
    return tables


def tables_for(source: str) -> dict[str, pd.DataFrame]:
    """The tables of a data source, read once per process (re-read when a file changes)."""
    return _read_tables(source, _stamp(Path(source)))


def inputs_for(model: str, scenario: str, icbs: tuple[str, ...] | None,
               source: str) -> ModelInputs:
    """A job's inputs, loaded once per process: `plan` checks them and a job run in the same
    process uses them (loaded again when the model file or a table file changes)."""
    return _load(model, _stamp(Path(model)), scenario, icbs, source, _stamp(Path(source)))


@functools.lru_cache(maxsize=64)
def _load(model: str, model_stamp: tuple, scenario: str, icbs: tuple[str, ...] | None,
          source: str, stamp: tuple) -> ModelInputs:
    return load_model(model, scenario, list(icbs) if icbs else None, tables=tables_for(source))


# ---- the worker -----------------------------------------------------------------------------

def run_job(job: Job) -> JobResult:
    """Load, solve, verify and render one job. Never raises: a failure becomes status 'error'."""
    from .api import allocate, solve_options
    from .checks import verify

    start = time.perf_counter()
    try:
        inputs = inputs_for(job.model, job.scenario, job.icbs, job.source)
        if job.hard_rules:
            inputs = inputs.with_policy(rules_bend=False)
        options = solve_options(inputs, job.time_limit)
        if job.threads:
            options = dataclasses.replace(options, threads=job.threads)
        _, allocation = allocate(inputs, options)
        result = JobResult(job, allocation.status, allocation.objective,
                           icbs=" ".join(sorted(inputs.pcns["icb_code"].unique())),
                           icb_names="; ".join(inputs.pcns.drop_duplicates("icb_code")
                                               .sort_values("icb_code")["icb_name"]),
                           description=inputs.policy.description, digest=inputs.digest)
        result.figures = {"budget_gbp": float(inputs.budget_gbp.sum()),
                          "population": float(inputs.pcns["population"].sum())}
        checks = None
        if allocation.status == "optimal":
            checks = verify(allocation.detail, inputs, allocation.objective,
                            allocation.shortfalls, allocation.contracts)
            result.checks_passed = checks.ok
            result.files["allocation.csv"] = io.csv_bytes(allocation.detail)
            if allocation.contracts is not None:
                result.files["contracts.csv"] = io.csv_bytes(allocation.contracts)
            result.figures.update(report.figures(allocation))
        elif allocation.explanation is not None:
            result.explanation = str(allocation.explanation)
        else:
            result.explanation = (f"The solver stopped with status '{allocation.status}' "
                                  f"({allocation.solution.solver_status}).")
        result.files["summary.xlsx"] = report.summary_workbook(
            allocation, notes=model_notes(job.model, job.scenario), checks=checks,
            label=f"ICB {' '.join(job.icbs)}" if job.icbs else "")
        result.manifest = dict(allocation.manifest)
        if checks is not None:
            result.manifest["checks_passed"] = checks.ok
            result.manifest["checks_failed"] = [str(c) for c in checks.failures()]
        if allocation.status == "optimal":
            result.manifest["strategy"] = strategy_sheets.record(allocation)
    except Exception as err:  # noqa: BLE001 - one failing job must not stop the batch
        result = failed(job, err)
    result.seconds = time.perf_counter() - start
    return result


def failed(job: Job, err: BaseException) -> JobResult:
    """The result of a job that raised: status 'error', the message kept for run.json."""
    message = err.report() if isinstance(err, InputError) else f"{type(err).__name__}: {err}"
    tail = traceback.format_exception(type(err), err, err.__traceback__)[-6:]
    manifest = {"scenario": job.scenario, "icbs": list(job.icbs or ()), "status": "error",
                "error": message, "traceback": "".join(tail).splitlines(),
                "versions": {"optimiser": __version__, "python": platform.python_version(),
                             "pandas": pd.__version__}}
    return JobResult(job, "error", explanation=message, manifest=manifest)


# ---- where jobs run -------------------------------------------------------------------------

class LocalRunner:
    """Jobs in this process (one worker) or in a pool of local processes."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None
        self.name = f"{workers} local worker{'s' if workers != 1 else ''}"

    def start(self, jobs: list[Job]) -> Iterator[tuple[int, JobResult]]:
        """Submit every job now; iterate (index, result) as they finish."""
        if self.workers <= 1 or len(jobs) <= 1:
            return ((i, run_job(job)) for i, job in enumerate(jobs))
        # workers that end with this process, started from a server that has already
        # imported the optimiser (processes.py)
        self.pool = process_pool(self.workers, ["optimiser.batch", "optimiser.api",
                                                "optimiser.checks", "xlsxwriter"])
        futures = {self.pool.submit(run_job, job): i for i, job in enumerate(jobs)}
        return self._collect(futures, jobs)

    @staticmethod
    def _collect(futures: dict, jobs: list[Job]) -> Iterator[tuple[int, JobResult]]:
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            i = futures[future]
            try:
                yield i, future.result()
            except Exception as err:  # noqa: BLE001 - e.g. a worker process killed
                yield i, failed(jobs[i], err)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def abort(self) -> None:
        """End the workers now, abandoning the runs they hold (Ctrl-C, SIGTERM)."""
        stop_workers(self.pool)


class DaskRunner:
    """Jobs on an existing Dask distributed cluster (the model and data paths must be readable
    by the workers at the same paths)."""

    def __init__(self, address: str, timeout: float = 15.0):
        try:
            from distributed import Client
        except ImportError as err:
            raise InputError([Problem("--executor dask", "Dask is not installed",
                                      "Install the extra: pip install -e '.[dask]'")]) from err
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError([Problem("--scheduler", f"could not connect to the Dask scheduler "
                                      f"at {address} ({err})",
                                      "Check the address (e.g. tcp://10.0.0.5:8786) and that "
                                      "the scheduler is running")]) from err
        workers = len(self.client.scheduler_info().get("workers", {}))
        self.name = f"Dask cluster at {address} ({workers} workers)"

    def start(self, jobs: list[Job]) -> Iterator[tuple[int, JobResult]]:
        futures = self.client.map(run_job, jobs, pure=False)
        self.futures = futures
        index = {f.key: i for i, f in enumerate(futures)}
        return self._collect(futures, index, jobs)

    def _collect(self, futures, index, jobs) -> Iterator[tuple[int, JobResult]]:
        from distributed import as_completed

        for future in as_completed(futures, loop=self.client.loop):
            i = index[future.key]
            try:
                yield i, future.result()
            except Exception as err:  # noqa: BLE001 - e.g. a worker lost
                yield i, failed(jobs[i], err)

    def close(self) -> None:
        self.client.close()

    def abort(self) -> None:
        """Cancel the runs not yet finished and leave the cluster (Ctrl-C, SIGTERM)."""
        try:
            self.client.cancel(getattr(self, "futures", []), force=True)
            self.client.close(timeout=5)
        except Exception:  # noqa: BLE001 - stopping must not fail on a lost cluster
            pass


def make_runner(executor: str, workers: int | None, scheduler: str | None, jobs: int):
    """The runner a command asks for, its options checked (InputError when they are wrong)."""
    if workers is not None and workers < 1:
        raise InputError([Problem("--workers", "the number of workers must be 1 or more",
                                  "e.g. --workers 2", value=workers)])
    if executor == "dask":
        if not scheduler:
            raise InputError([Problem("--executor dask", "a Dask run needs the scheduler's "
                                      "address", "Add --scheduler tcp://HOST:8786")])
        return DaskRunner(scheduler)
    if scheduler:
        raise InputError([Problem("--scheduler", "--scheduler is only used with "
                                  "--executor dask", "Add --executor dask, or drop --scheduler")])
    return LocalRunner(workers or max(1, min(jobs, os.cpu_count() or 1)))


# ---- the parent: writing files and the comparison -------------------------------------------

@dataclass
class BatchReport:
    results: list[JobResult]
    comparison_written: bool = True

    @property
    def ok(self) -> bool:
        """Every job optimal and every file written (exit code 0)."""
        return self.comparison_written and all(r.optimal for r in self.results)


class Record:
    """OUT/batch.json: what the batch is and how far it got, rewritten (whole) as it goes.

    `status` is "running" from before the first solve, "complete" once the comparison is
    written and "stopped" when Ctrl-C or SIGTERM ended it; a batch killed outright (kill -9,
    a power cut) is left saying "running", never "complete". Each run's status is "pending"
    until its files are written.
    """

    def __init__(self, out: Path, jobs: list[Job]):
        self.out, self.jobs = out, jobs
        self.runs = [{"run": job.label, "folder": job.folder, "status": "pending"}
                     for job in jobs]
        self.status, self.extra = "running", {}
        self.error: OSError | None = None  # the last write that failed (a full disk)

    @property
    def written(self) -> int:
        return sum(run["status"] != "pending" for run in self.runs)

    def write(self) -> None:
        record = {"status": self.status, "model_file": self.jobs[0].model if self.jobs else "",
                  "runs_written": self.written, "runs": self.runs, **self.extra}
        try:
            io.write_atomic(self.out / RECORD, json.dumps(record, indent=2, ensure_ascii=False)
                            .encode() + b"\n")
            self.error = None
        except OSError as err:  # the batch goes on; it cannot end "complete" (exit code 2)
            self.error = err

    def start(self) -> None:
        """Before the first solve: this batch is running, and an earlier batch's comparison
        (which would describe other folders) is removed."""
        self.write()
        for name in COMPARISON_FILES:
            (self.out / name).unlink(missing_ok=True)

    def finished(self, i: int, status: str) -> None:
        self.runs[i]["status"] = status
        self.write()

    def stopped(self, number: int) -> None:
        """Ctrl-C or SIGTERM: say so, and clear any temporary file a write left behind."""
        import signal

        self.status = "stopped"
        self.extra = {"stopped_by": "Ctrl-C (SIGINT)" if number == signal.SIGINT
                      else signal.Signals(number).name}
        self.write()
        for stray in self.out.rglob(".*.tmp"):
            stray.unlink(missing_ok=True)


def run(jobs: list[Job], out: Path, runner, echo=print, record: Record | None = None
        ) -> BatchReport:
    """Run every job, write each one's files as it finishes, then the comparison."""
    from tqdm import tqdm

    start = time.perf_counter()
    record = record or Record(out, jobs)
    record.start()
    results: list[JobResult | None] = [None] * len(jobs)
    finished = runner.start(jobs)  # every job is submitted before the progress bar starts
    bar = tqdm(total=len(jobs), file=sys.stderr, unit="run", desc="Solving",
               disable=not sys.stderr.isatty(), dynamic_ncols=True)

    def say(text: str) -> None:
        if bar.disable:
            echo(text)
        else:
            tqdm.write(text, file=sys.stdout)

    width = len(str(len(jobs)))
    try:
        for done, (i, result) in enumerate(finished, start=1):
            write_job(out, result)
            results[i] = result
            record.finished(i, result.status)
            say(f"[{done:>{width}}/{len(jobs)}] {describe(result)} -> "
                f"{out / result.job.folder}")
            if not result.optimal:
                for line in result.explanation.splitlines():
                    say(f"    {line}")
            bar.update()
    finally:
        bar.close()
        runner.close()
    done_results = [r for r in results if r is not None]
    outcome = BatchReport(done_results)
    table = comparison_table(done_results)
    name = next((r.manifest.get("model") for r in done_results if r.manifest.get("model")), "")
    try:
        io.write_atomic(out / "comparison.csv", io.csv_bytes(table))
        io.write_atomic(out / "comparison.xlsx", report.comparison_workbook(
            table, name or Path(jobs[0].model).stem, reference_scenario(jobs)))
        record.status = "complete"
        record.write()
        where = f"Comparison: {out / 'comparison.xlsx'} and comparison.csv"
        if record.error is not None:
            outcome.comparison_written = False
            where += f"; {RECORD.upper()} COULD NOT BE WRITTEN: {record.error}"
    except OSError as err:
        outcome.comparison_written = False
        where = f"THE COMPARISON COULD NOT BE WRITTEN: {err}"
    counts = pd.Series([r.status for r in done_results]).value_counts()
    echo(f"{len(jobs)} run{'s' if len(jobs) != 1 else ''} in "
         f"{time.perf_counter() - start:.1f} s on {runner.name}: "
         + ", ".join(f"{n} {s}" for s, n in counts.items()) + f". {where}")
    return outcome


def describe(result: JobResult) -> str:
    """The line printed when a job finishes: status, objective, time."""
    text = f"{result.job.label}: {result.status}"
    if result.optimal:
        text += (f", weighted outcome {money(result.objective or 0.0)}, spend "
                 f"{money(result.figures.get('spend_gbp', 0.0))}")
        if result.figures.get("rules_met") is False:
            text += f", rules short: {result.figures.get('rules_short', '')}"
        if result.checks_passed is False:
            text += ", INDEPENDENT CHECK FAILED"
    return text + f", {result.seconds:.1f} s"


def write_job(out: Path, result: JobResult) -> None:
    """Write one job's files whole; a file this run did not produce is removed, not left stale.

    run.json holds nothing that depends on the clock (two runs of the same inputs give the
    same bytes); the times are in timings.json.
    """
    folder = out / result.job.folder
    manifest = {k: v for k, v in result.manifest.items() if k not in TIMING_KEYS}
    timings = {"wall_seconds": round(result.seconds, 3),
               **{k: result.manifest[k] for k in TIMING_KEYS if k in result.manifest}}
    manifest.update({
        "run": result.job.label, "folder": result.job.folder, "model_file": result.job.model,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in result.files.items()},
    })
    if not result.optimal:
        manifest["status"] = result.status
        manifest["explanation_text"] = result.explanation  # in words, whatever went wrong
    try:
        for name, data in result.files.items():
            io.write_atomic(folder / name, data)
        io.write_atomic(folder / "timings.json", _json(timings))
        io.write_atomic(folder / "run.json", _json(manifest))
        for name in FILES:
            if name not in ("run.json", "timings.json") and name not in result.files:
                (folder / name).unlink(missing_ok=True)
    except (OSError, ValueError) as err:
        result.status = "error"
        result.explanation = f"the files could not be written: {err}"


def _json(record: dict) -> bytes:
    return json.dumps(record, indent=2, default=str, allow_nan=False,
                      ensure_ascii=False).encode() + b"\n"


def reference_scenario(jobs: list[Job]) -> str:
    names = [j.scenario for j in jobs]
    return "base" if "base" in names else names[0]


def comparison_table(results: list[JobResult]) -> pd.DataFrame:
    """One row per job, in the order asked for; nothing time-dependent (reruns are identical)."""
    rows = []
    targets = list(dict.fromkeys(c for r in results for c in r.figures if TARGET_COLUMN.match(c)))
    for r in results:
        row = {"scenario": r.job.scenario, "icbs": r.icbs or " ".join(r.job.icbs or ()),
               "icb_names": r.icb_names, "description": r.description, "status": r.status,
               "input_digest": r.digest}
        row.update({c: r.figures.get(c, math.nan if c != "binding_constraints" else "")
                    for c in FIGURE_COLUMNS})
        row.update({c: r.figures.get(c, "" if c.endswith(("_ambition", "_in_words"))
                                     else math.nan) for c in targets})
        row["checks_passed"] = "" if r.checks_passed is None else (
            "yes" if r.checks_passed else "no")
        row["explanation"] = " ".join(r.explanation.split())
        rows.append(row)
    table = pd.DataFrame(rows, columns=["scenario", "icbs", "icb_names", "description",
                                        "status", "input_digest", *FIGURE_COLUMNS, *targets,
                                        "checks_passed", "explanation"])
    reference = reference_scenario([r.job for r in results]) if results else "base"
    base = table[(table["scenario"] == reference) & (table["status"] == "optimal")]
    base = base.drop_duplicates("icbs").set_index("icbs")
    for column in DIFF_COLUMNS:
        ref = table["icbs"].map(base[column]) if len(base) else math.nan
        table[f"{column}_vs_base"] = table[column].astype(float) - ref
    table["reference_scenario"] = reference
    return table
