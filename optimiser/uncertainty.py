r"""Probabilistic sensitivity analysis: how sure is the allocation?

`run_uncertainty(inputs, draws, seed, workers=1) -> UncertaintyResult` draws every uncertain
parameter of the intervention table from its low, central and high values, re-solves the
allocation for each draw (warm, one Solver per worker) and summarises what changes.

Parameters (data/interventions.csv, one per intervention and kind, when low < high)
    cohort_share, max_uptake    who is eligible: they change the caps on people reached
    cost_gbp                    £ per person reached: they change the spend coefficients
    qaly, nel_avoided, ed_avoided, bed_days_avoided, op_avoided    effects per person reached
    wte_scale                   multiplies every wte_per_1000_* of the row (central 1,
                                range wte_scale_low to wte_scale_high)

Sampling
    Each parameter ~ PERT(low, mode = central, high): low + (high - low) Beta(a, b) with
    a = 1 + 4 (central - low) / (high - low), b = 1 + 4 (high - central) / (high - low), so its
    mean is (low + 4 central + high) / 6; or triangular(low, central, high). A zero-width
    range gives the central value exactly. Draw n uses `numpy.random.default_rng([seed, n])`,
    so the draws are the same whatever the number of workers or how the draws are chunked.

Solving
    A draw is a new ModelInputs (`dataclasses.replace(inputs, interventions=...)`) with the
    same structure as the central model, solved in a fresh HiGHS model (see `solve_chunk` for
    why not in place), so each draw's answer is the same whichever worker solves it and
    whatever it solved before. By default each draw is solved cold, with presolve: a draw moves
    costs, caps, effects and staff time across every intervention at once, and at DLN scale a
    warm start from the central optimum's basis (which skips presolve) has measured no faster
    (benchmarks/frontier_uncertainty_results.md compares the two) and a start from the
    previous draw's basis slower. `start="central"` warm starts from the central basis. Draws
    run in-process (workers=1), across local processes (workers=N; a script that calls this
    with N > 1 needs the usual `if __name__ == "__main__":` guard, as processes are spawned,
    not forked) or on an existing Dask distributed cluster (executor="dask").

Rules that cannot all be met
    Each draw is solved with the rules bending in the model's order (optimiser/ordered.py),
    so a draw whose costs leave the floor unaffordable is still a plan: the draws table says
    which rules fell short and by how much (`rules_met`, `shortfall_gbp`, `rules_short`),
    instead of dropping the draw as infeasible (`rules.bend = false` restores that).

What is reported (UncertaintyResult)
    draws              each draw's status, objective (£ weighted outcome), QALYs, the share
                       of spend that moves from the central allocation, and its shortfalls
    objective_summary  mean, sd and 5th/10th/50th/90th/95th percentiles of the objective
    funded_above_floor for each PCN and priority, the probability that its spend is above
                       what the universal floor alone requires (floor x eligible x cost of
                       the priority's core interventions)
    intervention_use   the probability each intervention is used at all (more than one
                       person reached in some PCN and year) and used beyond its floor
    sensitivity        each parameter's rank correlation with the objective and with the
                       share of spend moved, across the draws
    tornado            one at a time (others central), the objective and the share of spend
                       moved at each parameter's low and high value: for each kind of
                       parameter across all interventions, and for the parameters most
                       correlated with the objective
    robust, robust_choice
                       candidate allocations (the central one and the first draws' optima)
                       evaluated across every draw: each candidate's £ per PCN,
                       intervention and year is held fixed, and under a draw's parameters
                       reaches spend / cost people, clipped at that draw's eligible cohort,
                       valued with that draw's effects. The candidate with the best mean and
                       the one with the best 10th percentile are named. (Spend, not people,
                       is held fixed so that every candidate stays within the budget under
                       every draw.)
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .formulation import TIE_BREAK_PER_GBP, Layout, discount, outcome_value_per_person
from .highs import basis_of, status_arrays
from .inputs import ModelInputs
from .ordered import OrderedSolver
from .results import RULE_WORDS, Allocation, money_up
from .schemas import OUTCOME_LABELS, OUTCOMES
from .solve import SolveOptions

KINDS = ("cohort_share", "max_uptake", "cost_gbp", *OUTCOMES, "wte_scale")
KIND_LABELS = {
    "cohort_share": "share of the population in the cohort",
    "max_uptake": "most who take it up",
    "cost_gbp": "cost per person reached",
    **{o: f"effect: {OUTCOME_LABELS[o]}" for o in OUTCOMES},
    "wte_scale": "staff time per person",
}
PEOPLE_TOLERANCE = 1.0  # "used" means more than one person reached
SPEND_TOLERANCE_GBP = 1.0
Progress = Callable[[int, int], None]


# ---- parameters and sampling -------------------------------------------------------------


def parameter_table(inputs: ModelInputs) -> pd.DataFrame:
    """Every uncertain parameter (low < high): name, intervention, kind, low, central, high."""
    iv = inputs.interventions
    wte_cols = [c for c in iv.columns if c.startswith("wte_per_1000_")]
    uses_staff = iv[wte_cols].fillna(0.0).gt(0).any(axis=1) if wte_cols else iv.index == ""
    rows = []
    for iid in iv.index:
        for kind in KINDS:
            if kind == "wte_scale":
                if not uses_staff[iid]:
                    continue
                low, central, high = iv.at[iid, "wte_scale_low"], 1.0, iv.at[iid, "wte_scale_high"]
            else:
                low, central, high = (iv.at[iid, f"{kind}{s}"] for s in ("_low", "", "_high"))
            if not high > low:
                continue
            rows.append({"parameter": f"{iid}.{kind}", "intervention_id": iid,
                         "priority_id": iv.at[iid, "priority_id"], "kind": kind,
                         "label": f"{iv.at[iid, 'name']}: {KIND_LABELS[kind]}",
                         "intervention_name": iv.at[iid, "name"],
                         "kind_label": KIND_LABELS[kind],
                         "low": float(low), "central": float(central), "high": float(high)})
    columns = ["parameter", "intervention_id", "priority_id", "kind", "label",
               "intervention_name", "kind_label", "low", "central", "high"]
    return pd.DataFrame(rows, columns=columns)


def pert(rng: np.random.Generator, low, mode, high, shape: float = 4.0) -> np.ndarray:
    """One PERT draw per element; exactly `mode` where low == high."""
    low, mode, high = (np.asarray(a, dtype=float) for a in (low, mode, high))
    width = high - low
    wide = width > 0
    safe = np.where(wide, width, 1.0)
    a = 1.0 + shape * np.where(wide, (mode - low) / safe, 0.5)
    b = 1.0 + shape * np.where(wide, (high - mode) / safe, 0.5)
    return np.where(wide, low + rng.beta(a, b) * safe, mode)


def triangular(rng: np.random.Generator, low, mode, high) -> np.ndarray:
    """One triangular draw per element; exactly `mode` where low == high."""
    low, mode, high = (np.asarray(a, dtype=float) for a in (low, mode, high))
    wide = high > low
    u = rng.random(low.shape)
    width = np.where(wide, high - low, 1.0)
    cut = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1.0 - u) * width * (high - mode))
    return np.where(wide, np.where(u < cut, left, right), mode)


SAMPLERS = {"pert": pert, "triangular": triangular}


def sample(table: pd.DataFrame, draws: int, seed: int, distribution: str = "pert",
           first: int = 0) -> np.ndarray:
    """Draws x parameters; draw n comes from default_rng([seed, n]) alone."""
    sampler = SAMPLERS[distribution]
    low, mode, high = (table[c].to_numpy(dtype=float) for c in ("low", "central", "high"))
    out = np.empty((draws, len(table)))
    for row, n in enumerate(range(first, first + draws)):
        out[row] = sampler(np.random.default_rng([int(seed), n]), low, mode, high)
    return out


def apply_parameters(inputs: ModelInputs, table: pd.DataFrame, values) -> ModelInputs:
    """The inputs with these parameter values in the intervention table (a new object)."""
    values = np.asarray(values, dtype=float)
    iv = inputs.interventions.copy()
    kinds = table["kind"].to_numpy()
    ids = table["intervention_id"].to_numpy()
    for kind in np.unique(kinds):
        pick = kinds == kind
        if kind == "wte_scale":
            wte_cols = [c for c in iv.columns if c.startswith("wte_per_1000_")]
            scale = pd.Series(values[pick], index=ids[pick])
            iv.loc[scale.index, wte_cols] = iv.loc[scale.index, wte_cols].mul(scale, axis=0)
        else:
            iv.loc[ids[pick], kind] = values[pick]
    return dataclasses.replace(inputs, interventions=iv)


# ---- solving draws (in any process) --------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """What a worker needs: the base inputs, the parameters, and the central basis when draws
    start from it (empty arrays when they start cold)."""

    inputs: ModelInputs
    table: pd.DataFrame
    col_status: np.ndarray
    row_status: np.ndarray
    options: SolveOptions


def solve_chunk(payload: Payload, jobs: list[tuple[object, np.ndarray, bool]]) -> list[dict]:
    """Solve each job (key, parameter values, keep the detailed spend?); one dict each.

    Each job gets a fresh HiGHS model of its inputs (solved cold, or from the central
    optimum's basis when the payload carries one). A model changed in place after earlier
    solves can land on a different vertex of a tied optimum, so results would depend on how
    draws were shared among workers; a fresh model gives the same answer wherever it runs,
    and measured no slower than `Solver.update` at DLN scale (both re-run the formulation).
    """
    basis = basis_of(payload.col_status, payload.row_status) if len(payload.col_status) else None
    out = []
    for key, values, keep in jobs:
        start = time.perf_counter()
        solver = OrderedSolver(apply_parameters(payload.inputs, payload.table, values),
                               payload.options)
        if basis is not None and solver.highs.getNumCol() == len(payload.col_status) and \
                solver.highs.getNumRow() == len(payload.row_status):
            solver.highs.setBasis(basis)
        solution = solver.solve()
        result = {"key": key, "status": solution.status, "objective": solution.objective,
                  "iterations": solution.iterations}
        if solution.optimal:
            result.update(_draw_outcomes(solver, solution.col_value, keep))
            result.update(_draw_shortfalls(solver, solution))
        result["seconds"] = time.perf_counter() - start
        out.append(result)
    return out


def _draw_shortfalls(solver: OrderedSolver, solution) -> dict:
    """Which rules one draw's plan falls short of: £ per rule (none when every rule is met)."""
    if not solver.bent:
        return {"shortfall_by_rule": {}}
    table = Allocation(solver.inputs, solver.lp, solution).shortfall_by_rule
    return {"shortfall_by_rule": table.groupby("rule", sort=False)["shortfall_gbp"].sum()
            .to_dict()}


def _draw_outcomes(solver: OrderedSolver, col_value: np.ndarray, keep: bool) -> dict:
    """From one optimal solve: spend by PCN and priority, floors, use, QALYs."""
    inputs = solver.inputs
    lay = Layout(inputs)
    block = solver.lp.columns["reached"]
    x = col_value[block.start:block.stop].reshape(lay.T, lay.M, lay.K)
    people = x.sum(axis=2)  # T x M
    spend = people * lay.cost
    P, R, n_iv = lay.n_pcn, lay.n_prio, len(inputs.interventions)
    spend_pr = np.zeros((P, R))
    np.add.at(spend_pr, (lay.pcn_pos, lay.prio_pos), spend.sum(axis=0))
    floor = inputs.policy.universal_floor if inputs.policy.on("universal_core_offer") else 0.0
    floor_people = np.where(lay.core, floor * lay.E, 0.0)  # a year, per pair
    floor_pr = np.zeros((P, R))
    np.add.at(floor_pr, (lay.pcn_pos, lay.prio_pos), lay.T * floor_people * lay.cost)
    used = np.zeros(n_iv, dtype=bool)
    np.logical_or.at(used, lay.iv_pos, (people > PEOPLE_TOLERANCE).any(axis=0))
    beyond = np.zeros(n_iv)
    np.add.at(beyond, lay.iv_pos, people.sum(axis=0) - lay.T * floor_people)
    marginal = np.asarray(inputs.policy.marginal_effect)
    effective = (x * marginal).sum(axis=2)
    qaly_each = (inputs.interventions["qaly"].to_numpy(dtype=float)[lay.iv_pos]
                 * inputs.risk["qaly"].to_numpy()[lay.pcn_pos])
    out = {"spend_pr": spend_pr, "floor_pr": floor_pr, "used": used,
           "beyond_floor": beyond > PEOPLE_TOLERANCE,
           "qaly": float((effective * qaly_each).sum())}
    if keep:
        out["spend_tm"] = spend
    return out


# ---- running many jobs ---------------------------------------------------------------------


def _chunks(jobs: list, workers: int, largest: int = 25) -> list[list]:
    size = max(1, min(largest, math.ceil(len(jobs) / max(1, 4 * workers))))
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


def dask_client(address: str | None, timeout: float = 15.0):
    """A client of the Dask cluster at `address` (InputError when it cannot be reached)."""
    from .errors import InputError, Problem

    if not address:
        raise InputError([Problem("--executor dask", "a Dask run needs the scheduler's address",
                                  "Add --scheduler tcp://HOST:8786")])
    try:
        from distributed import Client
    except ImportError as err:
        raise InputError([Problem("--executor dask", "Dask is not installed",
                                  "Install the extra: pip install -e '.[dask]'")]) from err
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError([Problem("--scheduler", f"could not connect to the Dask scheduler at "
                                  f"{address} ({err})", "Check the address (e.g. "
                                  "tcp://10.0.0.5:8786) and that the scheduler is running")]
                         ) from err


class _Runner:
    """Runs jobs in-process, on local processes or on a Dask cluster; reports progress."""

    def __init__(self, payload: Payload, workers: int, executor: str, scheduler: str | None,
                 progress: Progress | None):
        self.payload, self.workers, self.executor = payload, max(1, int(workers)), executor
        self.scheduler, self.progress = scheduler, progress
        self.done, self.total = 0, 0
        self._pool = self._client = self._remote = None

    def __enter__(self):
        if self.executor == "dask":
            self._client = dask_client(self.scheduler)
            self._remote = self._client.scatter(self.payload, broadcast=True)
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        elif self.workers > 1:
            from .processes import process_pool

            # workers that end with this process, never forked from it (processes.py)
            self._pool = process_pool(self.workers, ["optimiser.uncertainty"])
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def run(self, jobs: list) -> dict:
        """Results keyed by job key (the order of completion does not matter)."""
        chunks = _chunks(jobs, self.workers)
        results: dict = {}

        def collect(part):
            for item in part:
                results[item["key"]] = item
            self.done += len(part)
            if self.progress:
                self.progress(self.done, self.total)

        if self._client is not None:
            from distributed import as_completed

            futures = [self._client.submit(solve_chunk, self._remote, c, pure=False)
                       for c in chunks]
            for future in as_completed(futures, loop=self._client.loop):
                collect(future.result())
        elif self._pool is not None:
            from concurrent.futures import as_completed

            futures = [self._pool.submit(solve_chunk, self.payload, c) for c in chunks]
            for future in as_completed(futures):
                collect(future.result())
        else:
            for c in chunks:
                collect(solve_chunk(self.payload, c))
        return results


# ---- the result --------------------------------------------------------------------------


@dataclass
class UncertaintyResult:
    """Everything the PSA reports; tables are pandas DataFrames (see the module docstring)."""

    central_status: str
    central_objective: float | None
    seed: int
    distribution: str
    parameters: pd.DataFrame
    samples: pd.DataFrame = field(repr=False)
    draws: pd.DataFrame = field(repr=False)
    objective_summary: dict = field(default_factory=dict)
    funded_above_floor: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    intervention_use: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    tornado: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    robust: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    robust_choice: dict = field(default_factory=dict)
    workers: int = 1
    executor: str = "local"
    seconds: float = 0.0

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to write, by file stem."""
        return {"draws": self.draws, "parameters": self.parameters,
                "funded_above_floor": self.funded_above_floor,
                "intervention_use": self.intervention_use, "sensitivity": self.sensitivity,
                "tornado": self.tornado, "robust": self.robust}

    def summary(self) -> dict:
        """A JSON-ready summary: the objective distribution and the robust choice."""
        return {"central_status": self.central_status,
                "central_objective_gbp": self.central_objective, "seed": self.seed,
                "distribution": self.distribution, "draws": int(len(self.draws)),
                "uncertain_parameters": int(len(self.parameters)),
                "objective": self.objective_summary, "robust_choice": self.robust_choice,
                "workers": self.workers, "executor": self.executor,
                "seconds": round(self.seconds, 2)}


def run_uncertainty(inputs: ModelInputs, draws: int = 1000, seed: int = 0, workers: int = 1,
                    *, executor: str = "local", scheduler: str | None = None,
                    distribution: str = "pert", candidates: int = 20, tornado_top: int = 15,
                    tornado_kinds: bool = True, start: str = "cold",
                    options: SolveOptions | None = None,
                    progress: Progress | None = None) -> UncertaintyResult:
    """Draw the uncertain parameters `draws` times, re-solve each, and summarise.

    `workers`: local processes (1 = in this process). `executor="dask"` with `scheduler`
    (e.g. "tcp://10.0.0.5:8786") runs on an existing Dask cluster instead. `candidates`:
    how many draws' optima compete with the central allocation for the robust choice.
    `tornado_top`: how many single parameters get a one-at-a-time bar (0 for none);
    `tornado_kinds`: a bar per kind of parameter across all interventions too.
    `start`: "cold" (each draw from scratch, with presolve) or "central" (each draw warm from
    the central optimum's basis); the answers agree, the time differs (module docstring).
    `progress(done, total)` is called as solves finish.
    """
    if start not in ("cold", "central"):
        raise ValueError("start must be 'cold' or 'central'")
    if distribution not in SAMPLERS:
        raise ValueError(f"distribution must be one of {sorted(SAMPLERS)}")
    if executor not in ("local", "dask"):
        raise ValueError("executor must be 'local' or 'dask'")
    if draws < 1:
        raise ValueError("draws must be 1 or more")
    began = time.perf_counter()
    options = options or SolveOptions()
    table = parameter_table(inputs)
    central = OrderedSolver(inputs, options)
    central_solution = central.solve()
    samples = sample(table, draws, seed, distribution)
    samples_frame = pd.DataFrame(samples, columns=table["parameter"].tolist())
    samples_frame.insert(0, "draw", np.arange(draws))
    result = UncertaintyResult(central_solution.status, central_solution.objective, int(seed),
                               distribution, table, samples_frame, pd.DataFrame(),
                               workers=int(workers), executor=executor)
    if not central_solution.optimal:
        result.seconds = time.perf_counter() - began
        return result
    col_status = row_status = np.zeros(0, dtype=np.int8)
    if start == "central":
        col_status, row_status = status_arrays(central.highs.getBasis())
    payload = Payload(inputs, table, col_status, row_status, options)
    central_out = _draw_outcomes(central, central_solution.col_value, keep=True)
    n_candidates = min(int(candidates), draws)
    jobs = [(("draw", n), samples[n], n < n_candidates) for n in range(draws)]
    kind_jobs = _kind_jobs(table) if tornado_kinds else []
    with _Runner(payload, workers, executor, scheduler, progress) as runner:
        runner.total = len(jobs) + len(kind_jobs) + 2 * max(0, int(tornado_top))
        solved = runner.run(jobs + kind_jobs)
        result.workers = runner.workers
        draws_frame = _draws_table(solved, draws, central_out)
        result.sensitivity = _sensitivity(table, samples, draws_frame)
        top = _top_parameters(result.sensitivity, int(tornado_top))
        runner.total = len(jobs) + len(kind_jobs) + 2 * len(top)
        single_jobs = _single_jobs(table, top)
        solved.update(runner.run(single_jobs) if single_jobs else {})
    result.draws = draws_frame
    result.objective_summary = _objective_summary(draws_frame, central_solution.objective)
    result.funded_above_floor = _funded_above_floor(inputs, solved, draws, central_out)
    result.intervention_use = _intervention_use(inputs, solved, draws, central_out)
    result.tornado = _tornado(table, solved, central_solution.objective, central_out, top,
                              tornado_kinds)
    result.robust, result.robust_choice = _robust(inputs, table, samples, solved,
                                                  n_candidates, central_out)
    result.seconds = time.perf_counter() - began
    return result


# ---- one-at-a-time jobs --------------------------------------------------------------------


def _kind_jobs(table: pd.DataFrame) -> list:
    central = table["central"].to_numpy()
    jobs = []
    for kind in KINDS:
        pick = (table["kind"] == kind).to_numpy()
        if not pick.any():
            continue
        for end in ("low", "high"):
            values = central.copy()
            values[pick] = table.loc[pick, end].to_numpy()
            jobs.append((("kind", kind, end), values, False))
    return jobs


def _top_parameters(sensitivity: pd.DataFrame, top: int) -> list[str]:
    if top <= 0 or sensitivity.empty:
        return []
    order = sensitivity["objective_rank_correlation"].abs().fillna(0.0)
    order = order.sort_values(ascending=False, kind="stable")
    return sensitivity.loc[order.index, "parameter"].head(top).tolist()


def _single_jobs(table: pd.DataFrame, names: list[str]) -> list:
    central = table["central"].to_numpy()
    position = {name: j for j, name in enumerate(table["parameter"])}
    jobs = []
    for name in names:
        j = position[name]
        for end in ("low", "high"):
            values = central.copy()
            values[j] = table.at[j, end]
            jobs.append((("single", name, end), values, False))
    return jobs


# ---- summaries -----------------------------------------------------------------------------


def _moved(spend_pr: np.ndarray, central_pr: np.ndarray) -> float:
    """Share of spend that sits elsewhere than in the central allocation (0 same, 1 disjoint)."""
    total = spend_pr.sum() + central_pr.sum()
    return float(np.abs(spend_pr - central_pr).sum() / total) if total > 0 else 0.0


def _draws_table(solved: dict, draws: int, central_out: dict) -> pd.DataFrame:
    rows = []
    for n in range(draws):
        r = solved[("draw", n)]
        optimal = r["status"] == "optimal"
        short = r.get("shortfall_by_rule", {})
        rows.append({"draw": n, "status": r["status"],
                     "rules_met": not short if optimal else np.nan,
                     "shortfall_gbp": float(sum(short.values())) if optimal else np.nan,
                     "rules_short": "; ".join(f"{RULE_WORDS.get(k, k)} {money_up(v)}"
                                              for k, v in short.items()),
                     "objective_gbp": r["objective"] if optimal else np.nan,
                     "qaly": r["qaly"] if optimal else np.nan,
                     "spend_moved_share": _moved(r["spend_pr"], central_out["spend_pr"])
                     if optimal else np.nan,
                     **{f"short_{k}_gbp": v for k, v in short.items()},
                     "iterations": r["iterations"], "seconds": r["seconds"]})
    frame = pd.DataFrame(rows)
    short_columns = [c for c in frame.columns if c.startswith("short_")]
    frame[short_columns] = frame[short_columns].fillna(0.0)
    return frame


def _objective_summary(draws: pd.DataFrame, central: float) -> dict:
    values = draws["objective_gbp"].dropna().to_numpy()
    met = draws["rules_met"].eq(True) if "rules_met" in draws else draws["status"] == "optimal"
    out = {"central_gbp": central, "draws": int(len(draws)),
           "optimal_draws": int(len(values)),
           "not_optimal_draws": int(len(draws) - len(values)),
           "draws_every_rule_met": int(met.sum()),
           "draws_with_shortfall": int((draws["status"].eq("optimal") & ~met).sum())}
    short = draws.loc[draws["status"].eq("optimal") & ~met]
    if len(short):
        out["shortfall_median_gbp"] = float(short["shortfall_gbp"].median())
        out["shortfall_by_rule_share_of_draws"] = {
            c[len("short_"):-len("_gbp")]: float((draws[c] > 0).mean())
            for c in draws.columns if c.startswith("short_")}
    if len(values):
        out.update({"mean_gbp": float(values.mean()),
                    "sd_gbp": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    **{f"p{q}_gbp": float(np.percentile(values, q))
                       for q in (5, 10, 50, 90, 95)},
                    "min_gbp": float(values.min()), "max_gbp": float(values.max())})
    return out


def _optimal(solved: dict, draws: int) -> list[dict]:
    return [solved[("draw", n)] for n in range(draws)
            if solved[("draw", n)]["status"] == "optimal"]


def _funded_above_floor(inputs: ModelInputs, solved: dict, draws: int,
                        central_out: dict) -> pd.DataFrame:
    runs = _optimal(solved, draws)

    def above(r):
        return r["spend_pr"] > r["floor_pr"] * (1 + 1e-6) + SPEND_TOLERANCE_GBP

    years = len(inputs.years)
    p = np.mean([above(r) for r in runs], axis=0) if runs else np.full(
        central_out["spend_pr"].shape, np.nan)
    mean_spend = (np.mean([r["spend_pr"] for r in runs], axis=0) / years if runs
                  else np.full(p.shape, np.nan))
    pcns = inputs.pcns
    frame = pd.DataFrame({
        "pcn_code": np.repeat(pcns.index.to_numpy(), len(inputs.priority_ids)),
        "priority_id": np.tile(np.array(inputs.priority_ids), len(pcns)),
        "probability_above_floor": p.reshape(-1),
        "central_above_floor": above(central_out).reshape(-1),
        "central_spend_per_year_gbp": central_out["spend_pr"].reshape(-1) / years,
        "mean_spend_per_year_gbp": mean_spend.reshape(-1),
        "floor_spend_per_year_gbp": central_out["floor_pr"].reshape(-1) / years,
    })
    info = pcns[["pcn_name", "icb_code", "imd_quintile"]]
    frame = frame.merge(info, left_on="pcn_code", right_index=True, how="left")
    frame["higher_need"] = [bool(inputs.higher_need.at[pc, r]) for pc, r in
                            zip(frame["pcn_code"], frame["priority_id"], strict=True)]
    cohort = inputs.priority_cohort
    frame = frame[[cohort.at[pc, r] > 0 for pc, r in
                   zip(frame["pcn_code"], frame["priority_id"], strict=True)]]
    first = ["pcn_code", "pcn_name", "icb_code", "imd_quintile", "priority_id", "higher_need"]
    return frame[first + [c for c in frame.columns if c not in first]].reset_index(drop=True)


def _intervention_use(inputs: ModelInputs, solved: dict, draws: int,
                      central_out: dict) -> pd.DataFrame:
    runs = _optimal(solved, draws)
    iv = inputs.interventions
    n = len(iv)
    return pd.DataFrame({
        "intervention_id": iv.index, "name": iv["name"].to_numpy(),
        "priority_id": iv["priority_id"].to_numpy(), "tier": iv["tier"].to_numpy(),
        "probability_used": np.mean([r["used"] for r in runs], axis=0) if runs
        else np.full(n, np.nan),
        "probability_beyond_floor": np.mean([r["beyond_floor"] for r in runs], axis=0)
        if runs else np.full(n, np.nan),
        "central_used": central_out["used"], "central_beyond_floor": central_out["beyond_floor"],
    })


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    rx = pd.Series(x[ok]).rank().to_numpy()
    ry = pd.Series(y[ok]).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _sensitivity(table: pd.DataFrame, samples: np.ndarray, draws: pd.DataFrame) -> pd.DataFrame:
    objective = draws["objective_gbp"].to_numpy(dtype=float)
    moved = draws["spend_moved_share"].to_numpy(dtype=float)
    frame = table[["parameter", "intervention_id", "priority_id", "kind", "label", "low",
                   "central", "high"]].copy()
    frame["objective_rank_correlation"] = [_rank_correlation(samples[:, j], objective)
                                           for j in range(len(table))]
    frame["moved_rank_correlation"] = [_rank_correlation(samples[:, j], moved)
                                       for j in range(len(table))]
    order = frame["objective_rank_correlation"].abs().fillna(-1.0)
    return frame.loc[order.sort_values(ascending=False, kind="stable").index].reset_index(
        drop=True)


def _tornado(table: pd.DataFrame, solved: dict, central: float, central_out: dict,
             top: list[str], kinds: bool) -> pd.DataFrame:
    rows = []

    def ends(key_low, key_high):
        out = {}
        for end, key in (("low", key_low), ("high", key_high)):
            r = solved[key]
            ok = r["status"] == "optimal"
            out[f"objective_{end}_gbp"] = r["objective"] if ok else np.nan
            out[f"moved_{end}_share"] = _moved(r["spend_pr"], central_out["spend_pr"]) \
                if ok else np.nan
            out[f"status_{end}"] = r["status"]
        return out

    if kinds:
        for kind in KINDS:
            pick = table["kind"] == kind
            if not pick.any():
                continue
            rows.append({"group": "kind", "parameter": kind, "intervention_id": "",
                         "label": f"All interventions: {KIND_LABELS[kind]}",
                         "intervention_name": "All interventions",
                         "kind_label": KIND_LABELS[kind],
                         "low": np.nan, "high": np.nan,
                         **ends(("kind", kind, "low"), ("kind", kind, "high"))})
    by_name = table.set_index("parameter")
    for name in top:
        rows.append({"group": "parameter", "parameter": name,
                     "intervention_id": by_name.at[name, "intervention_id"],
                     "label": by_name.at[name, "label"],
                     "intervention_name": by_name.at[name, "intervention_name"],
                     "kind_label": by_name.at[name, "kind_label"],
                     "low": by_name.at[name, "low"],
                     "high": by_name.at[name, "high"],
                     **ends(("single", name, "low"), ("single", name, "high"))})
    columns = ["group", "parameter", "intervention_id", "label", "intervention_name",
               "kind_label", "low", "high",
               "objective_low_gbp", "objective_high_gbp", "moved_low_share",
               "moved_high_share", "status_low", "status_high"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["central_gbp"] = central
    frame["swing_gbp"] = (frame["objective_high_gbp"] - frame["objective_low_gbp"]).abs()
    frame["largest_move_share"] = frame[["moved_low_share", "moved_high_share"]].max(axis=1)
    frame["_group"] = frame["group"].map({"kind": 0, "parameter": 1})
    frame = frame.sort_values(["_group", "swing_gbp"], ascending=[True, False], kind="stable")
    return frame.drop(columns="_group").reset_index(drop=True)


# ---- the robust choice ------------------------------------------------------------------------


@dataclass(frozen=True)
class _DrawModel:
    """What valuing a fixed spend needs under one draw (per eligible pair m)."""

    cost: np.ndarray  # M
    eligible: np.ndarray  # M
    value: np.ndarray  # M: £ weighted value per effective person, before discount
    wte: np.ndarray  # M x S (limited groups)


def _draw_model(inputs: ModelInputs, lay: Layout, groups: list[str]) -> _DrawModel:
    value = outcome_value_per_person(inputs).to_numpy()[lay.pcn_pos, lay.iv_pos]
    eligible = inputs.eligible.to_numpy()[lay.pcn_pos, lay.iv_pos]
    cost = inputs.interventions["cost_gbp"].to_numpy(dtype=float)[lay.iv_pos]
    wte = inputs.wte_per_person.reindex(columns=groups).to_numpy()[lay.iv_pos]
    return _DrawModel(cost, eligible, value, wte)


def evaluate_spend(spend_tm: np.ndarray, model: _DrawModel, lay: Layout,
                   inputs: ModelInputs) -> tuple[np.ndarray, np.ndarray]:
    """Objective and people reached (C x T x M) of fixed spends under one draw.

    people = min(spend / cost, eligible); the tranches fill in order (the best people first,
    as the LP would), each with its marginal effect; value discounted as in the objective.
    """
    people = np.minimum(spend_tm / model.cost, model.eligible)
    shares = np.asarray(inputs.policy.tranche_shares)
    marginal = np.asarray(inputs.policy.marginal_effect)
    effective = np.zeros_like(people)
    filled = np.zeros_like(people)
    for share, effect in zip(shares, marginal, strict=True):
        part = np.clip(people - filled, 0.0, share * model.eligible)
        effective += effect * part
        filled += part
    per_year = (effective * model.value).sum(axis=-1) - TIE_BREAK_PER_GBP * (
        people * model.cost).sum(axis=-1)
    return per_year @ discount(inputs), people


def _robust(inputs: ModelInputs, table: pd.DataFrame, samples: np.ndarray, solved: dict,
            n_candidates: int, central_out: dict) -> tuple[pd.DataFrame, dict]:
    names = ["central"]
    spends = [central_out["spend_tm"]]
    for n in range(n_candidates):
        r = solved[("draw", n)]
        if r["status"] == "optimal":
            names.append(f"draw {n}")
            spends.append(r["spend_tm"])
    spend = np.stack(spends)  # C x T x M
    lay = Layout(inputs)
    available = inputs.workforce_wte
    groups = sorted(set(available.index.get_level_values(0))) if len(available) else []
    scopes = inputs.scope_of_pcn.to_numpy()[lay.pcn_pos]
    scope_codes = sorted(set(scopes))
    in_scope = (scopes[:, None] == np.array(scope_codes)[None, :]).astype(float)  # M x Z
    limit = np.full((lay.T, len(groups), len(scope_codes)), np.inf)
    for (g, s), row in available.iterrows():
        limit[:, groups.index(g), scope_codes.index(s)] = row.to_numpy(dtype=float)
    draws = len(samples)
    values = np.empty((len(names), draws))
    within = np.empty((len(names), draws), dtype=bool)
    own = np.full(draws, np.nan)
    for n in range(draws):
        draw_inputs = apply_parameters(inputs, table, samples[n])
        model = _draw_model(draw_inputs, lay, groups)
        values[:, n], people = evaluate_spend(spend, model, lay, draw_inputs)
        if groups:
            need = np.einsum("ctm,mg,mz->ctgz", people, model.wte, in_scope, optimize=True)
            within[:, n] = (need <= limit * (1 + 1e-6) + 1e-6).all(axis=(1, 2, 3))
        else:
            within[:, n] = True
        r = solved[("draw", n)]
        if r["status"] == "optimal":
            own[n] = r["objective"]
    regret = own[None, :] - values
    frame = pd.DataFrame({
        "candidate": names,
        "mean_gbp": values.mean(axis=1),
        "sd_gbp": values.std(axis=1, ddof=1) if draws > 1 else np.zeros(len(names)),
        "p10_gbp": np.percentile(values, 10, axis=1),
        "p50_gbp": np.percentile(values, 50, axis=1),
        "p90_gbp": np.percentile(values, 90, axis=1),
        "min_gbp": values.min(axis=1),
        "mean_regret_gbp": np.nanmean(regret, axis=1) if np.isfinite(own).any()
        else np.full(len(names), np.nan),
        "share_within_workforce": within.mean(axis=1),
    })
    best_mean = int(np.argmax(frame["mean_gbp"].to_numpy()))
    best_p10 = int(np.argmax(frame["p10_gbp"].to_numpy()))
    frame["best_mean"] = np.arange(len(frame)) == best_mean
    frame["best_p10"] = np.arange(len(frame)) == best_p10
    choice = {
        "candidates": len(names),
        "best_mean": names[best_mean], "best_mean_gbp": float(frame.at[best_mean, "mean_gbp"]),
        "best_p10": names[best_p10], "best_p10_gbp": float(frame.at[best_p10, "p10_gbp"]),
        "central_mean_gbp": float(frame.at[0, "mean_gbp"]),
        "central_p10_gbp": float(frame.at[0, "p10_gbp"]),
    }
    return frame, choice
