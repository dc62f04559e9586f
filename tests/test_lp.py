"""The labelled LP container: lazily built labels, product order, names."""

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
