"""Shared fixtures: a throwaway PostgreSQL server for the scenario store's tests."""

from __future__ import annotations

import os
import tempfile

import pytest

from tests import postgres_support

# the tables' cache (optimiser/io.py) in a folder of this test run, not the user's cache
os.environ.setdefault("OPTIMISER_CACHE_DIR", tempfile.mkdtemp(prefix="optimiser-cache-"))


def require(reason: str) -> None:
    """Fail on CI (CI is set, where `make test` installs what is missing), skip elsewhere."""
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"cannot run on CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole test run: the URL of its database."""
    require(postgres_support.missing())
    with postgres_support.cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server):
    """The server's database, emptied of scenarios for each test."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_server)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS scenarios"))
    engine.dispose()
    return postgres_server
