"""Command-line verbs: python -m optimiser VERB MODEL ...

Exit codes: 0 all optimal (or valid), 1 bad input, 2 some scenario not optimal.
No traceback reaches a user: input problems are listed, solver outcomes are reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import io
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
    from .api import allocate
    from .checks import verify

    out = Path(args.out)
    names = list_scenarios(args.model) if args.all_scenarios else (args.scenario or ["base"])
    runs = [(name, load_model(args.model, name)) for name in names]  # all inputs checked first
    prepare_out(out, args.force)
    worst = EXIT_OK
    for name, inputs in runs:
        _, allocation = allocate(inputs)
        folder = out / name if len(runs) > 1 else out
        manifest = allocation.manifest
        if allocation.status == "optimal":
            report = verify(allocation.detail, inputs, allocation.objective)
            manifest["checks_passed"] = report.ok
            io.write_atomic(folder / "allocation.csv", io.csv_bytes(allocation.detail))
        io.write_atomic(folder / "run.json",
                        json.dumps(manifest, indent=2, default=str).encode())
        line = f"{name}: {allocation.status}"
        if allocation.status == "optimal":
            line += (f", weighted outcome {money(allocation.objective)}, "
                     f"{allocation.solution.solve_seconds:.2f}s")
        print(line)
        if allocation.status != "optimal":
            worst = EXIT_NOT_OPTIMAL
            if allocation.explanation is not None:
                print(str(allocation.explanation))
    return worst


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
    r = verbs.add_parser("run", help="solve and write allocation.csv and run.json")
    r.add_argument("model")
    r.add_argument("--scenario", action="append", help="a named scenario (repeatable)")
    r.add_argument("--all-scenarios", action="store_true")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--force", action="store_true", help="replace files in an existing folder")
    r.set_defaults(func=cmd_run)
    e = verbs.add_parser("export", help="write the LP as an MPS or LP file with readable names")
    e.add_argument("model")
    e.add_argument("--scenario")
    e.add_argument("--out", required=True, help="file ending .mps or .lp")
    e.set_defaults(func=cmd_export)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
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
