"""Command-line verbs: python -m optimiser VERB MODEL ...

Exit codes: 0 all optimal (or valid), 1 bad input, 2 some scenario not optimal.
No traceback reaches a user: input problems are listed, solver outcomes are reported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import InputError
from .inputs import ModelInputs, list_scenarios, load_model
from .results import money

EXIT_OK, EXIT_INPUT, EXIT_NOT_OPTIMAL = 0, 1, 2


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
    scenarios = args.scenario or [None]
    for scenario in scenarios:
        inputs = load_model(args.model, scenario)
        print(summarise(inputs))
        print("Valid.")
    return EXIT_OK


def cmd_scenarios(args) -> int:
    for name in list_scenarios(args.model):
        print(name)
    return EXIT_OK


def prepare_out(out: Path, force: bool) -> None:
    """Refuse to overwrite an existing output folder unless --force."""
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError([_problem(str(out), "the output folder already has files in it",
                                   "Choose a new folder with --out, or add --force to "
                                   "replace the files")])
    out.mkdir(parents=True, exist_ok=True)


def _problem(where, message, fix):
    from .errors import Problem
    return Problem(where, message, fix)


def cmd_run(args) -> int:
    """Solve each job (scenario x ICB) and write its files; see optimiser/batch.py."""
    from . import batch

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError([_problem(str(out), "--out names a file, not a folder",
                                   "Give a folder for the results")])
    jobs = batch.plan(args.model, args.scenario, args.all_scenarios, args.icb)  # all checked
    runner = batch.make_runner(args.executor, args.workers, args.scheduler, len(jobs))
    try:
        prepare_out(out, args.force)
    except InputError:
        runner.close()
        raise
    return EXIT_OK if batch.run(jobs, out, runner).ok else EXIT_NOT_OPTIMAL


def cmd_export(args) -> int:
    from .solve import Solver

    inputs = load_model(args.model, args.scenario)
    out = Path(args.out)
    if out.suffix not in (".mps", ".lp"):
        raise InputError([_problem(str(out), "the export file must end in .mps or .lp",
                                   "Name it e.g. model.mps")])
    Solver(inputs).write(str(out))
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


def cmd_frontier(args) -> int:
    """Sweep the equity dial; write frontier.csv, frontier.png, frontier.html, frontier.json."""
    import json
    import time

    from . import charts, io
    from .frontier import frontier, summary

    inputs = load_model(args.model, args.scenario)
    if args.points < 2:
        raise InputError([_problem("--points", "a frontier needs at least 2 points",
                                   "e.g. --points 25")])
    if args.uplift is not None and args.uplift < 0:
        raise InputError([_problem("--uplift", "the enhanced uplift cannot be negative",
                                   "e.g. --uplift 0.5 for 50% more per eligible person")])
    out = Path(args.out)
    prepare_out(out, args.force)
    start = time.perf_counter()
    bar = _Progress("Frontier", args.points)
    try:
        frame = frontier(inputs, points=args.points, uplift=args.uplift, progress=bar)
    finally:
        bar.close()
    io.write_atomic(out / "frontier.csv", io.csv_bytes(frame))
    _write_chart(out, "frontier.png", charts.frontier_png, frame)
    _write_chart(out, "frontier.html", charts.frontier_html, frame)
    facts = summary(frame)
    record = {"model": inputs.policy.name, "scenario": inputs.policy.scenario,
              "input_digest": inputs.digest, "uplift_swept_to": args.uplift,
              "seconds": round(time.perf_counter() - start, 2), **facts}
    io.write_atomic(out / "frontier.json", json.dumps(record, indent=2, default=str).encode())
    if frame.loc[0, "status"] != "optimal":
        print(f"The dial at 0 is {frame.loc[0, 'status']}: no frontier to draw.")
        return EXIT_NOT_OPTIMAL
    print(f"{facts['optimal_points']} of {facts['points']} points optimal; "
          f"weighted outcome at dial 0: {money(facts['reference_weighted_outcome_gbp'])}.")
    print(f"Highest feasible dial {facts['highest_feasible_dial']:.2f}: gives up "
          f"{money(facts['health_given_up_at_highest_gbp'])} "
          f"({facts['health_given_up_at_highest_share']:.2%}) of weighted outcome.")
    if facts["first_infeasible_dial"] is not None:
        print(f"From dial {facts['first_infeasible_dial']:.2f} no allocation meets every rule.")
    print(f"Wrote {out}")
    return EXIT_OK


def cmd_uncertainty(args) -> int:
    """Probabilistic sensitivity analysis: CSV tables, charts and uncertainty.json."""
    import json

    from . import charts, io
    from .uncertainty import run_uncertainty

    inputs = load_model(args.model, args.scenario)
    wrong = []
    if args.draws < 1:
        wrong.append(_problem("--draws", "the number of draws must be 1 or more",
                              "e.g. --draws 1000"))
    if args.workers < 1:
        wrong.append(_problem("--workers", "the number of workers must be 1 or more",
                              "e.g. --workers 2"))
    if args.executor == "dask" and not args.scheduler:
        wrong.append(_problem("--executor dask", "a Dask run needs the scheduler's address",
                              "Add --scheduler tcp://HOST:8786"))
    if args.scheduler and args.executor != "dask":
        wrong.append(_problem("--scheduler", "--scheduler is only used with --executor dask",
                              "Add --executor dask, or drop --scheduler"))
    if wrong:
        raise InputError(wrong)
    out = Path(args.out)
    prepare_out(out, args.force)
    bar = _Progress("Solves", args.draws)
    try:
        result = run_uncertainty(inputs, draws=args.draws, seed=args.seed, workers=args.workers,
                                 executor=args.executor, scheduler=args.scheduler,
                                 progress=bar)
    finally:
        bar.close()
    record = {"model": inputs.policy.name, "scenario": inputs.policy.scenario,
              "input_digest": inputs.digest, **result.summary()}
    if result.central_status != "optimal":
        io.write_atomic(out / "uncertainty.json",
                        json.dumps(record, indent=2, default=str).encode())
        print(f"The central model is {result.central_status}: run `python -m optimiser run` "
              "to see why; no draws were solved.")
        return EXIT_NOT_OPTIMAL
    for name, table in result.tables().items():
        io.write_atomic(out / f"{name}.csv", io.csv_bytes(table))
    _write_chart(out, "objective_distribution.png", charts.distribution_png, result.draws,
                 result.central_objective)
    _write_chart(out, "objective_distribution.html", charts.distribution_html, result.draws,
                 result.central_objective)
    _write_chart(out, "tornado.png", charts.tornado_png, result.tornado)
    _write_chart(out, "tornado.html", charts.tornado_html, result.tornado)
    _write_chart(out, "funding_probability.png", charts.funding_png, result.funded_above_floor)
    io.write_atomic(out / "uncertainty.json", json.dumps(record, indent=2, default=str).encode())
    s, choice = result.objective_summary, result.robust_choice
    print(f"{s['optimal_draws']} of {s['draws']} draws can meet every rule.")
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
                   "most one per CPU)")
    _executor_arguments(r)
    _output_folder_arguments(r)
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
    f.add_argument("--points", type=int, default=25, help="points from dial 0 to 1 (25)")
    f.add_argument("--uplift", type=float, metavar="VALUE",
                   help="also sweep the enhanced uplift from 0 to VALUE (e.g. 0.5)")
    _output_folder_arguments(f)
    f.set_defaults(func=cmd_frontier)
    u = verbs.add_parser("uncertainty", help="probabilistic sensitivity analysis: re-solve "
                         "for draws of every uncertain parameter")
    u.add_argument("model")
    u.add_argument("--scenario")
    u.add_argument("--draws", type=int, default=1000, help="number of draws (1000)")
    u.add_argument("--seed", type=int, default=0, help="random seed (0)")
    u.add_argument("--workers", type=int, default=1, help="local processes (1)")
    _executor_arguments(u)
    _output_folder_arguments(u)
    u.set_defaults(func=cmd_uncertainty)
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


if __name__ == "__main__":
    sys.exit(main())
