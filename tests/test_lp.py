"""The labelled LP container: lazily built labels, product order, names."""

import sys

import numpy as np
import pandas as pd
import pytest

from optimiser.lp import LinearProgram, product


def test_product_matches_pandas_from_product_order():
    years, pcns, prios = [2026, 2027], ["U1", "U2", "U3"], ["a", "b"]
    expected = pd.MultiIndex.from_product([years, pcns, prios],
                                          names=["year", "pcn", "priority"]).to_frame(
        index=False)
    got = pd.DataFrame(product(year=years, pcn=pcns, priority=prios))
    assert got.astype(str).equals(expected.astype(str))
    assert len(got) == 12


def test_lazy_labels_give_the_same_block_as_a_frame():
    lp = LinearProgram()
    a = lp.add_vars("x", {"year": np.array([1, 1, 2]), "pcn": np.array(["P", "Q", "P"])})
    b = lp.add_vars("z", pd.DataFrame({"year": [1, 1, 2], "pcn": ["P", "Q", "P"]},
                                      index=[7, 8, 9]))
    assert (a.size, a.start, b.start, lp.num_col) == (3, 0, 3, 6)
    assert a.names() == ["x(1,P)", "x(1,Q)", "x(2,P)"]
    assert b.names() == ["z(1,P)", "z(1,Q)", "z(2,P)"]
    assert list(b.index.index) == [0, 1, 2]
    rows = lp.add_rows("r", a.labels, np.arange(3), a.positions(), np.ones(3), 0.0, 1.0)
    assert rows.index.equals(a.index) and lp.num_row == 3


def test_labels_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="different lengths"):
        LinearProgram().add_vars("x", {"year": np.arange(3), "pcn": np.array(["P"])})


# ---- rows held as column bounds (optimiser.held: Singletons, Chains) -----------------------


def hand_lp() -> LinearProgram:
    """max 3x - y  s.t.  x + y <= 10,  2x <= 6,  -y <= -1,  x, y >= 0.

    Optimum x = 3, y = 1 (value 8). Shadow prices by hand: the cap 2x <= 6 is worth 3/2 per
    unit of its right-hand side; -y <= -1 is worth 1 (y may fall to 0); x + y <= 10 is slack.
    """
    lp = LinearProgram()
    v = lp.add_vars("v", {"name": np.array(["x", "y"])}, cost=np.array([3.0, -1.0]))
    lp.add_rows("sum", {"name": np.array(["x+y"])}, np.array([0, 0]), v.positions(),
                np.ones(2), upper=10.0)
    lp.add_rows("cap", {"name": np.array(["2x"])}, np.array([0]), np.array([0]),
                np.array([2.0]), upper=6.0)
    lp.add_rows("floor", {"name": np.array(["-y"])}, np.array([0]), np.array([1]),
                np.array([-1.0]), upper=-1.0)
    return lp


def solve_held(lp: LinearProgram):
    from optimiser.held import Singletons
    from optimiser.highs import new_highs, to_highs_lp
    from optimiser.solve import SolveOptions

    singletons = Singletons.of(lp.num_row, lp.entries())
    h = new_highs(SolveOptions())
    held = singletons.held(lp.arrays(), lp.entries()[2])
    h.passModel(to_highs_lp(lp, held, np.nonzero(singletons.keep)[0]))
    h.run()
    sol = h.getSolution()
    row_value, row_dual = np.zeros(lp.num_row), np.zeros(lp.num_row)
    row_value[singletons.keep], row_dual[singletons.keep] = sol.row_value, sol.row_dual
    row_value, row_dual, col_dual = singletons.expand(
        lp.arrays(), lp.entries()[2], np.asarray(sol.col_value), np.asarray(sol.col_dual),
        row_value, row_dual)
    return singletons, h, np.asarray(sol.col_value), row_value, row_dual, col_dual


def test_singleton_rows_become_bounds_and_keep_their_hand_shadow_prices():
    singletons, h, x, row_value, row_dual, col_dual = solve_held(hand_lp())
    assert list(singletons.keep) == [True, False, False]
    assert h.getNumRow() == 1
    assert h.getInfo().objective_function_value == pytest.approx(8.0)
    assert x == pytest.approx([3.0, 1.0])
    assert row_value == pytest.approx([4.0, 6.0, -1.0])
    assert row_dual == pytest.approx([0.0, 1.5, 1.0])
    assert col_dual == pytest.approx([0.0, 0.0])


def test_a_column_bound_tighter_than_its_singleton_row_keeps_its_reduced_cost():
    lp = hand_lp()
    lp.col_upper[0] = np.array([2.0, np.inf])  # x <= 2 is tighter than 2x <= 6
    _, _, x, _, row_dual, col_dual = solve_held(lp)
    assert x == pytest.approx([2.0, 1.0])
    assert row_dual == pytest.approx([0.0, 0.0, 1.0])
    assert col_dual == pytest.approx([3.0, 0.0])


def test_a_singleton_row_at_its_limit_takes_no_dual_that_belongs_to_the_column_bound():
    """min x (max -3x - y) with x >= 3 of its own and the row 2x <= 6 also at its limit: the
    column's own lower bound binds (reduced cost -3), the row does not (dual 0). Before the
    sign check, the row got -3/2, wrong in sign, and the column 0."""
    lp = hand_lp()
    lp.col_cost[0] = np.array([-3.0, -1.0])
    lp.col_lower[0] = np.array([3.0, 0.0])
    _, _, x, _, row_dual, col_dual = solve_held(lp)
    assert x == pytest.approx([3.0, 1.0])
    assert row_dual == pytest.approx([0.0, 0.0, 1.0])
    assert col_dual == pytest.approx([-3.0, 0.0])


def growth_lp(coefficient: float = 1.0) -> LinearProgram:
    """y0 <= 2, y1 - y0 <= 3, y2 - y1 <= 4 (one service's growth rows), each y in [0, 8]."""
    lp = LinearProgram()
    y = lp.add_vars("y", {"year": np.arange(3)}, upper=8.0, cost=np.ones(3))
    lp.add_rows("mobilisation", {"year": np.arange(3)}, np.array([0, 1, 1, 2, 2]),
                y.positions()[[0, 1, 0, 2, 1]], np.array([1.0, coefficient, -1, 1, -1]),
                upper=np.array([2.0, 3.0, 4.0]))
    return lp


def test_growth_chains_sum_the_rows_year_by_year_and_refuse_other_shapes():
    from optimiser.held import Chains

    lp = growth_lp()
    chains = Chains.of(lp, lp.entries(), lp.arrays())
    assert list(chains.prev) == [-1, 0, 1] and list(chains.depth) == [0, 1, 2]
    total, chained = chains.implied(lp.arrays())
    assert list(total) == [2.0, 5.0, 9.0] and list(chained) == [True, True, False]
    assert list(chains.held(lp.arrays())["col_upper"]) == [2.0, 5.0, 8.0]  # 9 > own 8
    # max y0 + y1 + y2 = 2 + 5 + 8: y2's bound is its own, y0's and y1's are the chains'.
    # Shadow prices: row 0 lifts y0 and y1 (2), row 1 lifts y1 (1), row 2 is slack (0)
    x = np.array([2.0, 5.0, 8.0])
    row_dual, col_dual = chains.expand(lp.arrays(), x, np.array([1.0, 1.0, 1.0]), np.zeros(3))
    assert list(row_dual) == [2.0, 1.0, 0.0] and list(col_dual) == [0.0, 0.0, 1.0]
    other = growth_lp(2.0)  # 2 y1 - y0 <= 3 is not a growth row: no chains at all
    assert not len(Chains.of(other, other.entries(), other.arrays()).rows)


def test_dln_solution_satisfies_the_full_lps_optimality_conditions():
    """Every row of the LP has a value and a dual, and c - A'y - d = 0 over the whole LP."""
    from pathlib import Path

    from optimiser import Solver, load_model

    solver = Solver(load_model(Path(__file__).parents[1] / "models" / "dln_base.toml"))
    sol = solver.solve()
    assert sol.optimal and len(solver.strategy.held.singletons.rows) > 1000
    lp = solver.lp
    matrix, arrays = lp.matrix(), lp.arrays()
    assert solver.highs.getNumRow() == lp.num_row - len(solver.strategy.held.singletons.rows)
    assert len(sol.row_value) == len(sol.row_dual) == lp.num_row
    assert np.abs(matrix @ sol.col_value - sol.row_value).max() < 1e-6 * arrays[
        "row_upper"][np.isfinite(arrays["row_upper"])].max()
    residual = arrays["col_cost"] - matrix.T @ sol.row_dual - sol.col_dual
    assert np.abs(residual).max() < 1e-7 * np.abs(arrays["col_cost"]).max()
    floor = lp.rows["universal_core_offer"]
    assert np.abs(sol.row_dual[floor.start:floor.stop]).max() > 0  # some floors bind


@pytest.mark.parametrize("hold_the_rest", [0.0, None])
def test_holding_back_the_cross_year_rows_reaches_the_whole_lps_optimum_on_dln(
        hold_the_rest, monkeypatch):
    """Row generation: HiGHS starts without mobilisation and continuity, rows are added as the
    optimum breaks them, and the answer is the whole LP's optimum with exact duals. Once few
    rows are broken, every waiting row is added (`HOLD_THE_REST`); with that off, some rows
    are never added."""
    from pathlib import Path

    from optimiser import Allocation, Solver, load_model, verify
    from optimiser.highs import DEVEX
    from optimiser.solve import SolveOptions

    if hold_the_rest is not None:  # None: as shipped
        monkeypatch.setattr(sys.modules["optimiser.strategies.rowgen"], "HOLD_THE_REST",
                            hold_the_rest)
    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    whole = Solver(inputs).solve()
    solver = Solver(inputs, SolveOptions(cross_year_rows="lazy"))
    lp = solver.lp
    cross_year = sum(lp.rows[n].stop - lp.rows[n].start for n in ("mobilisation", "continuity"))
    assert solver.highs.getNumRow() < lp.num_row - len(solver.strategy.held.singletons.rows)
    waiting = solver.waiting_rows
    sol = solver.solve()
    assert sol.optimal and whole.optimal
    assert sol.rounds > 1  # the first optimum broke some cross-year rows
    # rounds after the first run of the whole model re-solve from its basis, with Devex
    assert (dual_pricing(solver.highs) == DEVEX) == (sol.rounds > 2)
    if hold_the_rest is None:
        assert solver.waiting_rows == 0  # DLN breaks few rows: the rest were added at once
    else:
        assert 0 < solver.waiting_rows < cross_year  # some were added, some never needed
    assert sol.objective == pytest.approx(whole.objective, rel=1e-9)
    matrix, arrays = lp.matrix(), lp.arrays()
    activity = matrix @ sol.col_value
    scale = 1.0 + np.abs(activity)
    assert np.all(activity >= arrays["row_lower"] - 1e-6 * scale)  # every row holds
    assert np.all(activity <= arrays["row_upper"] + 1e-6 * scale)
    assert np.abs(activity - sol.row_value).max() < 1e-6 * scale.max()
    residual = arrays["col_cost"] - matrix.T @ sol.row_dual - sol.col_dual
    assert np.abs(residual).max() < 1e-7 * np.abs(arrays["col_cost"]).max()
    # complementary slackness: a row with a shadow price is at its limit (rows never added
    # get one only through a growth chain whose bound binds, and are then tight)
    priced = np.abs(sol.row_dual) > 1e-9 * np.abs(sol.row_dual).max()
    gap = np.minimum(np.abs(activity - arrays["row_lower"]), np.abs(activity - arrays["row_upper"]))
    assert np.all(gap[priced] <= 1e-6 * scale[priced])
    held = solver.strategy.held
    assert np.all(sol.row_dual[np.setdiff1d(held.waiting, held.chains.rows)] == 0)
    # and a column with a reduced cost is at one of its own bounds in the LP (not at a bound
    # HiGHS held for a row: those pass their reduced costs back to the rows)
    x = sol.col_value
    off = np.minimum(np.abs(x - arrays["col_lower"]), np.abs(x - arrays["col_upper"]))
    reduced = np.abs(sol.col_dual) > 1e-9 * np.abs(arrays["col_cost"]).max()
    assert np.all(off[reduced] <= 1e-6 * (1.0 + np.abs(x[reduced])))
    report = verify(Allocation(inputs, lp, sol).detail, inputs, sol.objective)
    assert report.ok, str(report)
    # after a budget cut the model is changed in place at this size (rows added so far kept,
    # the waiting ones checked again) and re-solved warm to the changed whole LP's optimum;
    # larger models are rebuilt and solved cold (tests/test_solve.py)
    cut = inputs.with_policy(gbp_per_head=tuple(b * 0.97 for b in inputs.policy.gbp_per_head))
    still_waiting = solver.waiting_rows
    assert solver.update(cut) == "warm" and solver.waiting_rows == still_waiting < waiting
    again, whole = solver.solve(), Solver(cut).solve()
    assert again.warm
    assert again.optimal and again.objective == pytest.approx(whole.objective, rel=1e-9)
    matrix, arrays = solver.lp.matrix(), solver.lp.arrays()
    activity = matrix @ again.col_value
    scale = 1.0 + np.abs(activity)
    assert np.all(activity <= arrays["row_upper"] + 1e-6 * scale)  # every row holds, the
    assert np.all(activity >= arrays["row_lower"] - 1e-6 * scale)  # waiting ones too


def test_auto_holds_every_row_below_the_size_where_row_generation_pays():
    from pathlib import Path

    from optimiser import Solver, load_model

    solver = Solver(load_model(Path(__file__).parents[1] / "models" / "dln_base.toml"))
    assert solver.waiting_rows == 0
    assert solver.highs.getNumRow() == solver.lp.num_row - len(solver.strategy.held.singletons.rows)


def test_a_long_lived_solver_does_not_run_out_of_time():
    """HiGHS counts its time limit over every run of one model (an app session re-solves
    hundreds of times); each solve must get the whole limit again."""
    from pathlib import Path

    from optimiser import Solver, load_model
    from optimiser.solve import SolveOptions

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    limit = 4.0  # a cold solve takes about 1 s, a warm one about 0.2 s
    solver = Solver(inputs, SolveOptions(time_limit=limit))
    for i in range(200):
        factor = 1 + (i % 5) / 50
        solver.update(inputs.with_policy(
            gbp_per_head=tuple(b * factor for b in inputs.policy.gbp_per_head)))
        assert solver.solve().status == "optimal", f"solve {i}"
        if solver.highs.getRunTime() > limit + 1.0:  # more than the limit in all
            break
    assert solver.highs.getRunTime() > limit + 1.0


def dual_pricing(highs) -> int:
    value = highs.getOptionValue("simplex_dual_edge_weight_strategy")
    return value[1] if isinstance(value, tuple) else value  # highspy 1.15: (status, value)


def test_warm_resolves_price_with_devex_from_the_last_basis():
    """A cold solve prices with dual steepest edge; warm re-solves switch to Devex, which
    means clearing HiGHS's solver, so the last basis must be given back: the re-solve after a
    2% budget change takes a small share of the cold solve's iterations and reaches the cold
    optimum."""
    from pathlib import Path

    from optimiser import Solver, load_model
    from optimiser.highs import DEVEX

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    solver = Solver(inputs)
    cold = solver.solve()
    assert dual_pricing(solver.highs) == -1  # HiGHS's default: it chooses (steepest edge)
    changed = inputs.with_policy(gbp_per_head=tuple(b * 1.02 for b in inputs.policy.gbp_per_head))
    assert solver.update(changed) == "warm"
    warm = solver.solve()
    assert dual_pricing(solver.highs) == DEVEX
    assert warm.warm and 0 < warm.iterations < cold.iterations / 5
    assert warm.objective == pytest.approx(Solver(changed).solve().objective, rel=1e-9)


def objective_only_changes(policy) -> dict:
    """A change to each policy field that `reformulate` treats as touching the objective only."""
    from optimiser.formulation import OBJECTIVE_ONLY

    changes = {
        "qaly_gbp": policy.qaly_gbp * 1.25,
        "activity_gbp": {"nel_avoided": 4000.0},
        "cash_releasing_share": policy.cash_releasing_share / 2,
        "priority_weight": {**policy.priority_weight, "frailty": 2.0},
        "quintile_weight": (1.5, 1.3, 1.15, 1.05, 1.0),
        "discount_rate": policy.discount_rate + 0.02,
        "name": "renamed",
        "description": "described",
        "scenario": "another",
        "aims": (),  # reported only: the LP never reads them
    }
    assert set(changes) == OBJECTIVE_ONLY  # a field added to the set needs a change here
    return changes


def assert_same_lp(a: LinearProgram, b: LinearProgram) -> None:
    def sizes(blocks: dict) -> list:
        return [(name, block.size) for name, block in blocks.items()]

    assert sizes(a.columns) == sizes(b.columns) and sizes(a.rows) == sizes(b.rows)
    for name, array in a.arrays().items():
        np.testing.assert_array_equal(array, b.arrays()[name], err_msg=name)
    for x, y in zip(a.entries(), b.entries(), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def rich_dln():
    """DLN with invest-to-save and an activity target, so risk and marginal effects enter rows."""
    from pathlib import Path

    from optimiser import load_model
    from optimiser.policy import ActivityTarget

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml", "invest_to_save")
    return inputs.with_policy(activity_targets=(
        ActivityTarget("nel_avoided", inputs.years[-1], 100.0),))


def test_an_objective_weight_change_keeps_every_row_and_gives_formulates_lp(rich_dln):
    """`reformulate` skips re-building rows only for fields that touch the objective alone:
    for each, its LP must be exactly what `formulate` builds, and only costs may differ."""
    from optimiser.formulation import CASH_VALUES, formulate, reformulate

    base = formulate(rich_dln)
    assert "define_avoided_cash" in base.rows and "activity_target" in base.rows
    for field, value in objective_only_changes(rich_dln.policy).items():
        changed = rich_dln.with_policy(**{field: value})
        quick = reformulate(base, rich_dln, changed)
        # the £ values of activity also set the cash that invest-to-save returns: a row
        assert (quick.rows is base.rows) == (field not in CASH_VALUES), field
        assert_same_lp(quick, formulate(changed))
        if field not in {"name", "description", "scenario", "aims"}:
            assert not np.array_equal(quick.arrays()["col_cost"], base.arrays()["col_cost"])


def test_a_change_that_moves_rows_formulates_again(rich_dln):
    """The risk columns set the objective and also the avoided activity in the invest-to-save
    and activity-target rows: a change there must build the LP again."""
    from optimiser.formulation import formulate, reformulate

    base = formulate(rich_dln)
    changed = rich_dln.with_policy(risk_columns={**rich_dln.policy.risk_columns,
                                                 "nel_avoided": "need_overall_eng"})
    quick = reformulate(base, rich_dln, changed)
    assert quick.rows is not base.rows
    assert_same_lp(quick, formulate(changed))
    assert not np.array_equal(quick.entries()[2], base.entries()[2])  # rows did change


def test_an_objective_change_after_a_workforce_change_keeps_the_rows(rich_dln):
    """The app applies every changed control to the base model, so after a workforce change
    each later change derives the workforce table again: equal tables still count as the
    same, and different ones do not."""
    from optimiser.formulation import formulate, reformulate

    fewer = rich_dln.with_policy(deployable_share=rich_dln.policy.deployable_share * 0.9)
    base = formulate(fewer)
    again = fewer.with_policy(deployable_share=fewer.policy.deployable_share, qaly_gbp=30000.0)
    assert again.workforce_wte is not fewer.workforce_wte  # derived again, equal
    quick = reformulate(base, fewer, again)
    assert quick.rows is base.rows
    assert_same_lp(quick, formulate(again))
    other = fewer.with_policy(deployable_share=0.5, qaly_gbp=30000.0)
    assert reformulate(base, fewer, other).rows is not base.rows


@pytest.mark.parametrize("threads, target", [(1, False), (2, True)])
def test_the_years_solved_apart_in_chains_reach_the_whole_lps_optimum(threads, target):
    """Row generation starts from the years solved apart, each from the basis of the year
    before it in its chain (one chain on one thread; forward and backward on two). A year
    whose LP has another shape (an activity target in the last year only) starts cold."""
    from pathlib import Path

    from optimiser import Solver, load_model
    from optimiser.policy import ActivityTarget
    from optimiser.solve import SolveOptions

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    if target:
        inputs = inputs.with_policy(activity_targets=(
            ActivityTarget("nel_avoided", inputs.years[-1], 100.0),))
    lazy = Solver(inputs, SolveOptions(cross_year_rows="lazy", threads=threads)).solve()
    whole = Solver(inputs).solve()
    assert lazy.optimal and lazy.rounds > 1
    assert lazy.objective == pytest.approx(whole.objective, rel=1e-9)


def test_after_an_infeasible_solve_the_next_starts_cold_with_steepest_edge():
    """An infeasible run leaves no basis to re-solve from: the next solve keeps HiGHS's
    default pricing (a cold solve) and reaches the cold optimum."""
    from pathlib import Path

    from optimiser import Solver, load_model

    inputs = load_model(Path(__file__).parents[1] / "models" / "dln_base.toml")
    short = inputs.with_policy(gbp_per_head=tuple(b * 0.3 for b in inputs.policy.gbp_per_head))
    solver = Solver(short)
    assert solver.solve().status == "infeasible"
    assert solver.update(inputs) == "warm"
    again = solver.solve()
    assert dual_pricing(solver.highs) == -1
    assert again.optimal
    assert again.objective == pytest.approx(Solver(inputs).solve().objective, rel=1e-9)
