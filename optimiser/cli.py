"""Command-line verbs: python -m optimiser VERB MODEL ...

Exit codes: 0 all optimal (or valid), 1 bad input, 2 some scenario not optimal, 130 or 143
stopped by Ctrl-C or SIGTERM (128 + the signal). No traceback reaches a user: input problems
are listed, solver outcomes are reported. Every flag is checked (finite, in its range, with
the bound stated) and every destination is checked before anything is solved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .errors import InputError, Problem
from .inputs import ModelInputs, list_scenarios, load_model
from .policy import MAX_TIME_LIMIT_SECONDS, is_finite_number
from .processes import StopOnSignal
from .results import money

EXIT_OK, EXIT_INPUT, EXIT_NOT_OPTIMAL = 0, 1, 2
EXIT_STOPPED = 128 + 2  # Ctrl-C (SIGINT), as a shell expects
# Bounds on what a command line may ask for, so that no request exhausts the machine
MAX_POINTS = 1_001  # frontier points: the dial in steps of 0.001
MAX_DRAWS = 10_000  # uncertainty draws: each keeps its spend per PCN and priority
MAX_WORKERS = 64  # local processes
MAX_SEED = 2**32 - 1
MAX_UPLIFT = 100.0  # the model file's bound on equity.enhanced_uplift


def summarise(inputs: ModelInputs) -> str:
    """The short summary that `validate` prints."""
    pcns = inputs.pcns
    p = inputs.policy
    lines = [
        f"Model: {p.name} (scenario: {p.scenario})",
        f"ICBs: {pcns['icb_code'].nunique()} "
        + "; ".join(f"{code} {name} ({n} PCNs)" for (code, name), n in
                    pcns.groupby(['icb_code', 'icb_name']).size().items()),
        f"PCNs: {len(pcns)}; registered population: {int(pcns['population'].sum()):,}",
        f"Interventions: {len(inputs.interventions)} across "
        f"{inputs.interventions['priority_id'].nunique()} priorities "
        f"({(inputs.interventions['tier'] == 'core').sum()} core offer, "
        f"{(inputs.interventions['tier'] == 'enhanced').sum()} enhanced)",
        "Budget per year: " + ", ".join(f"{y} {money(b)}" for y, b in
                                        zip(p.years, inputs.budget_gbp, strict=True)),
    ]
    wte = inputs.workforce_wte
    if len(wte):
        first = wte.groupby(level="staff_group")[p.years[0]].sum()
        lines.append(f"WTE available in {p.years[0]} (by {p.workforce_scope}, summed): "
                     + ", ".join(f"{g} {v:,.1f}" for g, v in first.items()))
        unlimited = [g for g in inputs.staff_groups.index if g not in first.index]
        if unlimited:
            lines.append("Not limited by the model: " + ", ".join(unlimited))
    lines.append(f"Equity: universal floor {p.universal_floor:.0%}, enhanced uplift "
                 f"{p.enhanced_uplift:.0%}, need gradient {p.need_gradient:.2f}")
    return "\n".join(lines)


def cmd_validate(args) -> int:
    """Every scenario asked for is checked; the problems of all of them are listed at once."""
    problems: list[Problem] = []
    for scenario in args.scenario or [None]:
        try:
            inputs = load_model(args.model, scenario)
        except InputError as err:
            where = f" (scenario '{scenario}')" if scenario else ""
            problems += [Problem(p.where + where, p.message, p.fix, p.row, p.column, p.value)
                         for p in err.problems]
            continue
        print(summarise(inputs))
        print("Valid.")
    if problems:
        raise InputError(problems)
    return EXIT_OK


def cmd_scenarios(args) -> int:
    for name in list_scenarios(args.model):
        print(name)
    return EXIT_OK


def output_problems(out: Path, kind: str = "folder") -> list[Problem]:
    """Can the results be written at `out` (a folder, or for `export` a file)? One problem,
    in words, if not; checked before anything is solved."""
    flag = "--out"
    if kind == "file":
        if out.is_dir():
            return [Problem(flag, f"{out} is a folder, not a file", "Name a file, e.g. "
                            f"{out / 'model.mps'}")]
        folder = out.parent
        if not folder.exists():
            return [Problem(flag, f"the folder {folder} does not exist",
                            "Create it first, or choose a file in an existing folder")]
    else:
        if out.exists() and not out.is_dir():
            return [Problem(flag, f"{out} is a file, not a folder", "Give a folder for the "
                            "results")]
        folder = out
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return [Problem(flag, f"{existing} is a file, so no folder can be made below it",
                        "Choose a folder that is not inside a file's name")]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Problem(flag, f"the folder {existing} cannot be written to",
                        "Choose a folder you may write to")]
    return []


def prepare_out(out: Path, force: bool, stale: tuple[str, ...] = ()) -> None:
    """Make the output folder and prove it can be written, before anything is solved; refuse
    an existing folder with files in it unless --force, and with --force remove the earlier
    run's files of the names in `stale`, so none is left beside new ones."""
    wrong = output_problems(out)
    if wrong:
        raise InputError(wrong)
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError([Problem(str(out), "the output folder already has files in it",
                                  "Choose a new folder with --out, or add --force to replace "
                                  "the files")])
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
        for name in stale:
            (out / name).unlink(missing_ok=True)
    except OSError as err:
        raise InputError([Problem("--out", f"the folder {out} cannot be written to "
                                  f"({err.strerror or err})", "Choose a folder you may write "
                                  "to")]) from None


def _number_problems(args) -> list[Problem]:
    """Every number a verb reads from its command line: finite and within its bound."""
    wrong = []

    def check(flag: str, value, low, high, words: str, example: str) -> None:
        if value is None:
            return
        if not is_finite_number(value) or not low <= value <= high:
            wrong.append(Problem(flag, f"the value must be {words}", example, value=value))

    check("--points", getattr(args, "points", None), 2, MAX_POINTS,
          f"a whole number from 2 to {MAX_POINTS:,}", "e.g. --points 25")
    check("--uplift", getattr(args, "uplift", None), 0.0, MAX_UPLIFT,
          f"a number from 0 to {MAX_UPLIFT:g} (a share above the others' average)",
          "e.g. --uplift 0.5 for 50% more per eligible person")
    check("--draws", getattr(args, "draws", None), 1, MAX_DRAWS,
          f"a whole number from 1 to {MAX_DRAWS:,}", "e.g. --draws 1000")
    check("--seed", getattr(args, "seed", None), 0, MAX_SEED,
          f"a whole number from 0 to {MAX_SEED:,}", "e.g. --seed 0")
    check("--workers", getattr(args, "workers", None), 1, MAX_WORKERS,
          f"a whole number from 1 to {MAX_WORKERS}", "e.g. --workers 2")
    check("--time-limit", getattr(args, "time_limit", None), 1e-3, MAX_TIME_LIMIT_SECONDS,
          f"a number of seconds from 0.001 to {MAX_TIME_LIMIT_SECONDS:,.0f} (a week)",
          "e.g. --time-limit 600")
    return wrong


def _load(args, problems: list[Problem]) -> ModelInputs:
    """The model, with the command line's problems listed beside the model's, all at once."""
    try:
        inputs = load_model(args.model, args.scenario)
    except InputError as err:
        raise InputError([*problems, *err.problems]) from None
    if problems:
        raise InputError(problems)
    return inputs


def cmd_run(args) -> int:
    """Solve each job (scenario x ICB) and write its files; see optimiser/batch.py."""
    from . import batch

    out = Path(args.out)
    wrong = _number_problems(args) + output_problems(out)
    try:
        jobs = batch.plan(args.model, args.scenario, args.all_scenarios, args.icb,
                          hard_rules=args.hard_rules,
                          time_limit=args.time_limit)  # every input checked
    except InputError as err:
        raise InputError([*wrong, *err.problems]) from None
    if wrong:
        raise InputError(wrong)
    runner = batch.make_runner(args.executor, args.workers, args.scheduler, len(jobs))
    try:
        prepare_out(out, args.force)
    except InputError:
        runner.close()
        raise
    record = batch.Record(out, jobs)

    def stop(number: int) -> None:
        runner.abort()
        record.stopped(number)
        print(f"{record.written} of {len(jobs)} runs were written; {out / batch.RECORD} marks "
              "the batch stopped, and no comparison was written.", flush=True)

    with StopOnSignal(stop):
        report = batch.run(jobs, out, runner, record=record)
    return EXIT_OK if report.ok else EXIT_NOT_OPTIMAL


def cmd_export(args) -> int:
    from . import io
    from .solve import Solver

    out = Path(args.out)
    wrong = output_problems(out, kind="file")
    if out.suffix not in (".mps", ".lp"):
        wrong.append(Problem(str(out), "the export file must end in .mps or .lp",
                             "Name it e.g. model.mps"))
    inputs = _load(args, wrong)
    try:
        io.write_model(out, Solver(inputs).write)
    except OSError as err:
        raise InputError([Problem("--out", f"{out} could not be written "
                                  f"({err.strerror or err})", "Choose a file in a folder you "
                                  "may write to")]) from None
    print(f"Wrote {out}")
    return EXIT_OK


class _Progress:
    """A progress bar on stderr (tqdm); plain lines every tenth when stderr is not a terminal."""

    def __init__(self, label: str, total: int):
        from tqdm import tqdm

        self.label, self.tty, self.shown = label, sys.stderr.isatty(), -1
        self.bar = tqdm(total=total, desc=label, file=sys.stderr, dynamic_ncols=True,
                        disable=not self.tty)

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        tenth = 10 * done // max(1, total)
        if tenth > self.shown:
            self.shown = tenth
            print(f"{self.label}: {done}/{total}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def _write_chart(out: Path, name: str, make, *data) -> None:
    """Write one chart; an HTML chart is skipped (with a note) when plotly is missing."""
    from . import io

    if name.endswith(".html"):
        from .charts import plotly_available

        if not plotly_available():
            print(f"No {name}: plotly is not installed (pip install -e '.[app]').",
                  file=sys.stderr)
            return
        io.write_atomic(out / name, make(*data).encode("utf-8"))
    else:
        io.write_atomic(out / name, make(*data))


def _write_json(path: Path, record: dict) -> None:
    from . import io

    io.write_atomic(path, json.dumps(record, indent=2, default=str).encode() + b"\n")


FRONTIER_FILES = ("frontier.csv", "frontier.png", "frontier.html", "frontier.json",
                  "timings.json")
UNCERTAINTY_FILES = ("uncertainty.json", "timings.json", "draws.csv", "parameters.csv",
                     "funded_above_floor.csv", "intervention_use.csv", "sensitivity.csv",
                     "tornado.csv", "robust.csv", "objective_distribution.png",
                     "objective_distribution.html", "tornado.png", "tornado.html",
                     "funding_probability.png")


def cmd_frontier(args) -> int:
    """Sweep the equity dial; write frontier.csv, frontier.png, frontier.html, frontier.json
    (and timings.json: the only file that differs between two runs of the same inputs)."""
    import time

    from . import charts, io
    from .api import solve_options
    from .frontier import frontier, summary

    out = Path(args.out)
    inputs = _rules(_load(args, _number_problems(args) + output_problems(out)), args)
    prepare_out(out, args.force, stale=FRONTIER_FILES)
    start = time.perf_counter()
    bar = _Progress("Frontier", args.points)
    try:
        with StopOnSignal(lambda number: None):
            frame = frontier(inputs, points=args.points, uplift=args.uplift, progress=bar,
                             options=solve_options(inputs, args.time_limit))
    finally:
        bar.close()
    io.write_atomic(out / "frontier.csv", io.csv_bytes(frame.drop(columns="seconds")))
    _write_chart(out, "frontier.png", charts.frontier_png, frame)
    _write_chart(out, "frontier.html", charts.frontier_html, frame)
    facts = summary(frame)
    record = {"model": inputs.policy.name, "scenario": inputs.policy.scenario,
              "input_digest": inputs.digest, "uplift_swept_to": args.uplift, **facts}
    _write_json(out / "timings.json", {"seconds": round(time.perf_counter() - start, 3),
                                       "point_seconds": frame["seconds"].round(4).tolist()})
    _write_json(out / "frontier.json", record)  # last: its presence says the set is whole
    if frame.loc[0, "status"] != "optimal":
        print(f"The dial at 0 is {frame.loc[0, 'status']}: no frontier to draw.")
        return EXIT_NOT_OPTIMAL
    print(f"{facts['optimal_points']} of {facts['points']} points have a plan; "
          f"weighted outcome at dial 0: {money(facts['reference_weighted_outcome_gbp'])}.")
    if facts["highest_dial_every_rule_met"] is not None:
        print(f"Highest dial with every rule met {facts['highest_dial_every_rule_met']:.2f}: "
              f"gives up {money(facts['health_given_up_at_highest_met_gbp'])} "
              f"({facts['health_given_up_at_highest_met_share']:.2%}) of weighted outcome.")
    if facts["first_dial_short"] is not None:
        print(f"From dial {facts['first_dial_short']:.2f} the rules bend in the model's order; "
              f"at the highest: {facts['rules_short_at_highest']} short.")
    if facts["first_infeasible_dial"] is not None:
        print(f"From dial {facts['first_infeasible_dial']:.2f} no allocation meets every rule.")
    print(f"Wrote {out}")
    return EXIT_OK


def cmd_uncertainty(args) -> int:
    """Probabilistic sensitivity analysis: CSV tables, charts and uncertainty.json (and
    timings.json)."""

    from . import charts, io
    from .api import solve_options
    from .uncertainty import run_uncertainty

    out = Path(args.out)
    wrong = _number_problems(args) + output_problems(out)
    if args.executor == "dask" and not args.scheduler:
        wrong.append(Problem("--executor dask", "a Dask run needs the scheduler's address",
                              "Add --scheduler tcp://HOST:8786"))
    if args.scheduler and args.executor != "dask":
        wrong.append(Problem("--scheduler", "--scheduler is only used with --executor dask",
                              "Add --executor dask, or drop --scheduler"))
    inputs = _rules(_load(args, wrong), args)
    prepare_out(out, args.force, stale=UNCERTAINTY_FILES)
    bar = _Progress("Solves", args.draws)
    try:
        with StopOnSignal(lambda number: None):
            result = run_uncertainty(inputs, draws=args.draws, seed=args.seed,
                                     workers=args.workers, executor=args.executor,
                                     scheduler=args.scheduler, progress=bar,
                                     options=solve_options(inputs, args.time_limit))
    finally:
        bar.close()
    summary = result.summary()
    timings = {"seconds": summary.pop("seconds"),
               "draw_seconds": result.draws["seconds"].round(4).tolist()
               if "seconds" in result.draws else []}
    record = {"model": inputs.policy.name, "scenario": inputs.policy.scenario,
              "input_digest": inputs.digest, **summary}
    _write_json(out / "timings.json", timings)
    if result.central_status != "optimal":
        _write_json(out / "uncertainty.json", record)
        print(f"The central model is {result.central_status}: run `python -m optimiser run` "
              "to see why; no draws were solved.")
        return EXIT_NOT_OPTIMAL
    for name, table in result.tables().items():  # timings are in timings.json
        table = table.drop(columns=[c for c in ("seconds",) if c in table.columns])
        io.write_atomic(out / f"{name}.csv", io.csv_bytes(table))
    _write_chart(out, "objective_distribution.png", charts.distribution_png, result.draws,
                 result.central_objective)
    _write_chart(out, "objective_distribution.html", charts.distribution_html, result.draws,
                 result.central_objective)
    _write_chart(out, "tornado.png", charts.tornado_png, result.tornado)
    _write_chart(out, "tornado.html", charts.tornado_html, result.tornado)
    _write_chart(out, "funding_probability.png", charts.funding_png, result.funded_above_floor)
    _write_json(out / "uncertainty.json", record)  # last: its presence says the set is whole
    s, choice = result.objective_summary, result.robust_choice
    print(f"{s['draws_every_rule_met']} of {s['draws']} draws can meet every rule; "
          f"{s['draws_with_shortfall']} bend the rules in the model's order"
          + (f" (median shortfall {money(s['shortfall_median_gbp'])})"
             if s["draws_with_shortfall"] else "") + ".")
    if s["optimal_draws"]:
        print(f"Weighted outcome: central {money(s['central_gbp'])}; across draws mean "
              f"{money(s['mean_gbp'])}, 10th to 90th percentile {money(s['p10_gbp'])} to "
              f"{money(s['p90_gbp'])}.")
        print(f"Robust choice: best mean {choice['best_mean']} ({money(choice['best_mean_gbp'])}"
              f"), best 10th percentile {choice['best_p10']} "
              f"({money(choice['best_p10_gbp'])}); the central allocation "
              f"{money(choice['central_mean_gbp'])} and {money(choice['central_p10_gbp'])}.")
    print(f"Wrote {out}")
    return EXIT_OK


def _rules(inputs: ModelInputs, args) -> ModelInputs:
    """The inputs with every rule hard when --hard-rules is given."""
    return inputs.with_policy(rules_bend=False) if args.hard_rules else inputs


def cmd_target(args) -> int:
    """The least budget (or WTE of a staff group) that meets the aims: words, and with --out
    the allocation at it (allocation.csv, summary.xlsx, run.json), as `run` writes them."""
    import json

    from . import io, report
    from .api import solve_options
    from .batch import model_notes
    from .checks import verify
    from .target import least_resource, parse_aim

    out = Path(args.out) if args.out else None
    wrong = _number_problems(args) + (output_problems(out) if out is not None else [])
    resource = args.minimise
    if resource != "budget" and not resource.startswith("wte:"):
        wrong.append(Problem("--minimise", f"'{resource}' is not a resource the tool can "
                             "minimise", "Use budget, or wte:GROUP (e.g. wte:care_coordinator)"))
    inputs = _load(args, wrong)
    aims = tuple(parse_aim(text, inputs) for text in args.meet)
    if out is not None:
        prepare_out(out, args.force)
    target = least_resource(inputs, resource, aims, per_year=args.per_year,
                            options=solve_options(inputs, args.time_limit))
    for line in target.words:
        print(line)
    allocation = target.allocation
    if out is None or allocation is None:
        return EXIT_OK if target.status == "optimal" else EXIT_NOT_OPTIMAL
    checks = verify(allocation.detail, allocation.inputs, allocation.objective,
                    allocation.shortfalls, allocation.contracts) \
        if allocation.status == "optimal" else None
    io.write_atomic(out / "allocation.csv", io.csv_bytes(allocation.detail))
    io.write_atomic(out / "summary.xlsx", report.summary_workbook(
        allocation, notes=model_notes(args.model, args.scenario or "base"), checks=checks,
        label=f"least {resource} for " + ", ".join(str(a) for a in aims)))
    manifest = {**allocation.manifest, "target": target.record(),
                "checks_passed": None if checks is None else checks.ok}
    io.write_atomic(out / "run.json", json.dumps(manifest, indent=2, default=str).encode())
    print(f"Wrote {out}")
    return EXIT_OK if allocation.status == "optimal" else EXIT_NOT_OPTIMAL


def _hard_rules_argument(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("--hard-rules", action="store_true",
                      help="every rule hard (no plan when they cannot all be met, explained), "
                           "instead of bending in the model's [rules] order")


def cmd_passcode(args) -> int:
    """Ask for a workshop passcode (twice at a terminal; one line from a pipe) and print the
    salted hash to put in .streamlit/secrets.toml; the passcode itself is never stored."""
    import getpass

    from .ui.passcode import hash_passcode, problem, secrets_lines

    if sys.stdin.isatty():
        passcode = getpass.getpass(f"Passcode for the {args.role}s: ")
        if getpass.getpass("The same again: ") != passcode:
            print("The two passcodes differ: nothing was made.", file=sys.stderr)
            return EXIT_INPUT
    else:
        passcode = sys.stdin.readline().rstrip("\r\n")
    weak = problem(passcode)
    if weak:
        print(weak, file=sys.stderr)
        return EXIT_INPUT
    print("# Put these lines in .streamlit/secrets.toml (docs/app.md, 'Serving the app to a "
          "workshop'):")
    print(secrets_lines(args.role, hash_passcode(passcode)), end="")
    return EXIT_OK


def _executor_arguments(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("--executor", choices=("local", "dask"), default="local")
    verb.add_argument("--scheduler", metavar="ADDRESS",
                      help="the Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --executor dask)")


def _time_limit_argument(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("--time-limit", type=float, metavar="SECONDS",
                      help="the most seconds each solve may take (default: the model file's "
                           "[solver] time_limit, else 600)")


def _output_folder_arguments(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("--out", required=True, help="output folder")
    verb.add_argument("--force", action="store_true", help="replace files in an existing folder")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m optimiser",
        description="Allocate an ICB's budget and workforce across PCNs and interventions "
                    "under proportionate universalism.")
    verbs = top.add_subparsers(dest="verb", metavar="VERB")
    v = verbs.add_parser("validate", help="check a model file and its data; print a summary")
    v.add_argument("model")
    v.add_argument("--scenario", action="append", help="a named scenario (repeatable)")
    v.set_defaults(func=cmd_validate)
    s = verbs.add_parser("scenarios", help="list a model file's scenarios")
    s.add_argument("model")
    s.set_defaults(func=cmd_scenarios)
    r = verbs.add_parser("run", help="solve scenarios (and ICBs) in parallel; write "
                         "allocation.csv, summary.xlsx, run.json and comparison.xlsx/.csv")
    r.add_argument("model")
    r.add_argument("--scenario", action="append", help="a named scenario (repeatable)")
    r.add_argument("--all-scenarios", action="store_true")
    r.add_argument("--icb", action="append", metavar="CODE",
                   help="run for this ICB alone (repeatable), or 'all': each ICB in England "
                        "separately")
    r.add_argument("--workers", type=int, help="local processes (default: one per job, at "
                   f"most one per CPU; at most {MAX_WORKERS})")
    _executor_arguments(r)
    _time_limit_argument(r)
    _output_folder_arguments(r)
    _hard_rules_argument(r)
    r.set_defaults(func=cmd_run)
    e = verbs.add_parser("export", help="write the LP as an MPS or LP file with readable names")
    e.add_argument("model")
    e.add_argument("--scenario")
    e.add_argument("--out", required=True, help="file ending .mps or .lp")
    e.set_defaults(func=cmd_export)
    f = verbs.add_parser("frontier", help="sweep the equity dial 0 to 1: what equity costs "
                         "in health (frontier.csv, .png, .html, .json)")
    f.add_argument("model")
    f.add_argument("--scenario")
    f.add_argument("--points", type=int, default=25,
                   help=f"points from dial 0 to 1 (25; at most {MAX_POINTS:,})")
    f.add_argument("--uplift", type=float, metavar="VALUE",
                   help="also sweep the enhanced uplift from 0 to VALUE (e.g. 0.5)")
    _time_limit_argument(f)
    _output_folder_arguments(f)
    _hard_rules_argument(f)
    f.set_defaults(func=cmd_frontier)
    u = verbs.add_parser("uncertainty", help="probabilistic sensitivity analysis: re-solve "
                         "for draws of every uncertain parameter")
    u.add_argument("model")
    u.add_argument("--scenario")
    u.add_argument("--draws", type=int, default=1000,
                   help=f"number of draws (1000; at most {MAX_DRAWS:,})")
    u.add_argument("--seed", type=int, default=0, help=f"random seed (0; 0 to {MAX_SEED:,})")
    u.add_argument("--workers", type=int, default=1,
                   help=f"local processes (1; at most {MAX_WORKERS})")
    _executor_arguments(u)
    _time_limit_argument(u)
    _output_folder_arguments(u)
    _hard_rules_argument(u)
    u.set_defaults(func=cmd_uncertainty)
    t = verbs.add_parser("target", help="the least budget, or WTE of a staff group, that meets "
                         "stated aims with every rule of the model (an exact LP)")
    t.add_argument("model")
    t.add_argument("--scenario")
    t.add_argument("--minimise", required=True, metavar="RESOURCE",
                   help="budget, or wte:GROUP (e.g. wte:care_coordinator)")
    t.add_argument("--meet", action="append", required=True, metavar="AIM",
                   help="an aim, repeatable: q1_q5_spend_ratio>=1.5, universal_floor>=0.3, "
                        "need_gradient>=0.8, enhanced_uplift>=0.4, nel_avoided@2030/31>=500")
    t.add_argument("--per-year", action="store_true",
                   help="each year (and, for WTE, each ICB or place) free; default: one scale "
                        "on the model's amounts")
    t.add_argument("--out", help="write the allocation at the answer here (as run does)")
    t.add_argument("--force", action="store_true", help="replace files in an existing folder")
    _time_limit_argument(t)
    t.set_defaults(func=cmd_target)
    c = verbs.add_parser("passcode", help="make the hash of a workshop passcode for the app's "
                         ".streamlit/secrets.toml")
    c.add_argument("--role", choices=("facilitator", "viewer"), default="facilitator",
                   help="who signs in with it: a facilitator saves, overwrites and deletes any "
                        "scenario; a viewer saves under their own name (facilitator)")
    c.set_defaults(func=cmd_passcode)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:  # argparse: --help exits 0; a usage error is bad input (1)
        return EXIT_INPUT if stop.code == 2 else int(stop.code or 0)
    if not getattr(args, "func", None):
        parser().print_help()
        return EXIT_OK
    try:
        return args.func(args)
    except InputError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:  # Ctrl-C before a run began (while reading and checking)
        print("Stopped by Ctrl-C: nothing was solved.", file=sys.stderr)
        return EXIT_STOPPED


if __name__ == "__main__":
    sys.exit(main())
