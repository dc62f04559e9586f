"""The ways `optimiser.solve.Solver` can solve a model, one module each (see `base.Strategy`).

- `whole`: the whole LP in HiGHS from the start, changes applied in place, warm re-solves.
- `rowgen`: the cross-year rows wait until the optimum breaks them (large models).
- `years_apart`: the years solved apart in two chains, row generation's first optimum.
- `held_lp`: the LP as HiGHS holds it, shared by the strategies.
"""
