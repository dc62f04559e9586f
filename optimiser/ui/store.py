"""The scenario store: named settings that everyone using the same database can load.

A scenario is the policy changes the app's controls made (a JSON dict of `Policy` fields)
plus the ICBs selected, so loading one re-applies it with `inputs.with_policy(**changes)`.

Where it lives: a SQLite file beside the app by default (`scenarios.db`, WAL mode so readers
never block the one writer), or any SQLAlchemy database URL (a shared PostgreSQL server, say)
from the environment variable `OPTIMISER_STORE_URL` or `scenario_store_url` in
`.streamlit/secrets.toml`.

Saving never loses anyone's work: names are unique in the database, a save that finds its
name taken raises `NameTaken` unless the caller says to overwrite, and two sessions saving
different names at the same moment both keep their scenario. This module does not import
Streamlit, so it can be used and tested on its own.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from ..policy import ActivityTarget, Lock, Policy, RingFence

STORE_URL_VARIABLE = "OPTIMISER_STORE_URL"
DEFAULT_FILE = "scenarios.db"
SCHEMA_VERSION = 1

_metadata = sa.MetaData()
SCENARIOS = sa.Table(
    "scenarios",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("settings", sa.Text, nullable=False),  # JSON: icbs, changes, schema version
    sa.Column("saved_at", sa.String(32), nullable=False),  # ISO 8601, UTC
)

# Policy fields whose values are tuples of numbers or text, and those holding records.
_TUPLE_FIELDS = {"budget_gbp", "gbp_per_head", "quintile_weight", "tranche_shares",
                 "marginal_effect", "years", "icbs", "limited_groups"}
_RECORD_FIELDS = {"locks": Lock, "ring_fences": RingFence, "activity_targets": ActivityTarget}
POLICY_FIELDS = {f.name for f in dataclasses.fields(Policy)}


class NameTaken(Exception):
    """A scenario of this name is already saved; ask before overwriting it."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"A scenario called '{name}' is already saved.")


class StoreError(Exception):
    """The store could not be reached or read, in words for the user."""


# ---- where the store lives -----------------------------------------------------------------


def store_url(app_dir: Path, secrets: Mapping | None = None,
              environ: Mapping[str, str] | None = None) -> str:
    """The database URL: the environment variable, then secrets, then SQLite beside the app."""
    environ = os.environ if environ is None else environ
    if environ.get(STORE_URL_VARIABLE):
        return environ[STORE_URL_VARIABLE]
    if secrets and secrets.get("scenario_store_url"):
        return str(secrets["scenario_store_url"])
    return f"sqlite:///{(Path(app_dir) / DEFAULT_FILE).resolve()}"


def describe_url(url: str) -> str:
    """The URL without its password, safe to show on a projector."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as the driver name only
        return url.split(":", 1)[0]


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):  # readers never wait for a writer
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _create_table(engine: sa.Engine) -> None:
    """Create the table unless it exists; two sessions starting at once may both try."""
    for attempt in range(5):
        try:
            _metadata.create_all(engine)
            return
        except sa.exc.DBAPIError:
            if sa.inspect(engine).has_table(SCENARIOS.name):
                return  # the other session created it first
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))


# ---- the store ------------------------------------------------------------------------------


class ScenarioStore:
    """Save, list, load and delete named scenarios in one database."""

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine = _engine(url)
            _create_table(self.engine)
        except Exception as err:  # noqa: BLE001 - any driver error becomes words
            raise StoreError(f"The scenario store at {describe_url(url)} cannot be opened "
                             f"({type(err).__name__}). Check {STORE_URL_VARIABLE}.") from err

    def names(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(SCENARIOS.c.name).order_by(SCENARIOS.c.name))
            return [r.name for r in rows]

    def exists(self, name: str) -> bool:
        with self.engine.connect() as conn:
            query = sa.select(SCENARIOS.c.id).where(SCENARIOS.c.name == name)
            return conn.execute(query).first() is not None

    def save(self, name: str, settings: dict, overwrite: bool = False) -> str:
        """Save under `name`; returns "saved" or "overwritten"; raises NameTaken on a clash.

        The insert comes first, so the database's unique constraint (not a read beforehand)
        decides a race between two sessions: one of two saves of the same name wins, the
        other is told the name is taken; saves of different names never interfere.
        """
        name = clean_name(name)
        body = json.dumps({"schema": SCHEMA_VERSION, **settings}, sort_keys=True)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(SCENARIOS).values(name=name, settings=body, saved_at=now))
            return "saved"
        except IntegrityError:
            if not overwrite:
                raise NameTaken(name) from None
        with self.engine.begin() as conn:
            conn.execute(sa.update(SCENARIOS).where(SCENARIOS.c.name == name)
                         .values(settings=body, saved_at=now))
        return "overwritten"

    def load(self, name: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(SCENARIOS.c.settings, SCENARIOS.c.saved_at)
                               .where(SCENARIOS.c.name == name)).first()
        if row is None:
            raise KeyError(name)
        settings = json.loads(row.settings)
        settings["saved_at"] = row.saved_at
        return settings

    def delete(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(SCENARIOS).where(SCENARIOS.c.name == name))

    def dispose(self) -> None:
        self.engine.dispose()


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ValueError("Give the scenario a name.")
    if len(name) > 200:
        raise ValueError("Scenario names are at most 200 characters.")
    return name


def is_locked_error(err: Exception) -> bool:
    return isinstance(err, OperationalError) and "locked" in str(err).lower()


# ---- policy changes as JSON ----------------------------------------------------------------


def changes_to_json(changes: dict) -> dict:
    """Policy changes (tuples, Lock, RingFence, ...) as plain JSON values."""
    out = {}
    for name, value in changes.items():
        if name in _RECORD_FIELDS:
            out[name] = [dataclasses.asdict(item) for item in value]
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return json.loads(json.dumps(out))  # proves it is JSON, copies nested dicts


def changes_from_json(raw: dict) -> tuple[dict, list[str]]:
    """JSON back to Policy changes; fields this version does not know are reported, not used."""
    changes, ignored = {}, []
    for name, value in (raw or {}).items():
        if name not in POLICY_FIELDS:
            ignored.append(name)
            continue
        if name in _RECORD_FIELDS:
            kind = _RECORD_FIELDS[name]
            items = []
            for item in value or []:
                item = dict(item)
                if "years" in item:
                    item["years"] = tuple(item["years"] or ())
                items.append(kind(**item))
            changes[name] = tuple(items)
        elif name in _TUPLE_FIELDS and value is not None:
            changes[name] = tuple(value)
        else:
            changes[name] = value
    return changes, ignored
