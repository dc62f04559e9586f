"""The scenario store: named settings that everyone using the same database can load.

A scenario is the policy changes the app's controls made (a JSON dict of `Policy` fields)
plus the ICBs selected, so loading one re-applies it with `inputs.with_policy(**changes)`.

Where it lives: a SQLite file beside the app by default (`scenarios.db`, WAL mode so readers
never block the one writer), or any SQLAlchemy database URL (a shared PostgreSQL server, say)
from the environment variable `OPTIMISER_STORE_URL` or `scenario_store_url` in
`.streamlit/secrets.toml`.

Saving never loses anyone's work: names are unique in the database, a save that finds its
name taken raises `NameTaken` unless the caller says to overwrite, and two sessions saving
different names at the same moment both keep their scenario.

Each scenario records its owner (who saved it first; None before sign-in existed or when the
app runs on one machine without sign-in). The store, not only the page, keeps the roles: a
caller saving with `any_owner=False` (a viewer) may overwrite or delete only scenarios it
owns, and is refused with `NotYours` otherwise; a facilitator passes `any_owner=True`.

A stored scenario is read back only in the shape this module writes (`BadScenario` with the
reason in words otherwise), so a row edited by hand or written by another program can never
reach the model as something else. This module does not import Streamlit, so it can be used
and tested on its own (tests run it on SQLite and on a PostgreSQL server).
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

from ..policy import ActivityTarget, Commissioning, Lock, Policy, RingFence

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
    sa.Column("owner", sa.String(200), nullable=True),  # who saved it first (see above)
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


class NotYours(Exception):
    """A viewer tried to overwrite or delete a scenario someone else saved."""

    def __init__(self, name: str, owner: str | None):
        self.name, self.owner = name, owner
        who = f"by {owner}" if owner else "before sign-in was set up"
        super().__init__(f"The scenario '{name}' was saved {who}: only its owner or a "
                         "facilitator can change or delete it. Save yours under another name.")


class BadScenario(ValueError):
    """A stored scenario whose contents are not in the shape this app writes."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason
        super().__init__(f"The scenario '{name}' is not in the form this app saves ({reason}), "
                         "so it was not used. Save it again from the app, or ask a facilitator "
                         "to delete it.")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One saved scenario as listed: its name, owner and when it was saved."""

    name: str
    owner: str | None
    saved_at: str


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
    """Create the table unless it exists, and add the owner column to a store made before
    owners were recorded; two sessions starting at once may both try."""
    for attempt in range(5):
        try:
            _metadata.create_all(engine)
            break
        except sa.exc.DBAPIError:
            if sa.inspect(engine).has_table(SCENARIOS.name):
                break  # the other session created it first
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))
    for attempt in range(5):
        columns = {c["name"] for c in sa.inspect(engine).get_columns(SCENARIOS.name)}
        if "owner" in columns:
            return
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE scenarios ADD COLUMN owner VARCHAR(200)"))
            return
        except sa.exc.DBAPIError:
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))  # the other session added it first: look again


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
        return [entry.name for entry in self.entries()]

    def entries(self) -> list[Entry]:
        """Every saved scenario with its owner, in name order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(SCENARIOS.c.name, SCENARIOS.c.owner,
                                          SCENARIOS.c.saved_at).order_by(SCENARIOS.c.name))
            return [Entry(r.name, r.owner, r.saved_at) for r in rows]

    def owner(self, name: str) -> str | None:
        """Who saved the scenario (None: saved before owners were recorded); KeyError if none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(SCENARIOS.c.owner)
                               .where(SCENARIOS.c.name == name)).first()
        if row is None:
            raise KeyError(name)
        return row.owner

    def exists(self, name: str) -> bool:
        with self.engine.connect() as conn:
            query = sa.select(SCENARIOS.c.id).where(SCENARIOS.c.name == name)
            return conn.execute(query).first() is not None

    def save(self, name: str, settings: dict, overwrite: bool = False,
             owner: str | None = None, any_owner: bool = True) -> str:
        """Save under `name`; returns "saved" or "overwritten"; raises NameTaken on a clash,
        and NotYours when `any_owner` is False and the name is someone else's.

        The insert comes first, so the database's unique constraint (not a read beforehand)
        decides a race between two sessions: one of two saves of the same name wins, the
        other is told the name is taken; saves of different names never interfere. An
        overwrite keeps the first owner and changes only rows this caller may change, in one
        statement, so a check and a write cannot be split by another session.
        """
        name = clean_name(name)
        body = json.dumps({"schema": SCHEMA_VERSION, **settings}, sort_keys=True)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(SCENARIOS).values(name=name, settings=body, saved_at=now,
                                                         owner=owner))
            return "saved"
        except IntegrityError:
            if not overwrite:
                raise NameTaken(name) from None
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(SCENARIOS).where(self._mine(name, owner, any_owner))
                                .values(settings=body, saved_at=now)).rowcount
        if not done:
            self._refuse(name)
        return "overwritten"

    @staticmethod
    def _mine(name: str, owner: str | None, any_owner: bool):
        where = SCENARIOS.c.name == name
        if any_owner:
            return where
        return where & (SCENARIOS.c.owner == owner) if owner is not None else where & sa.false()

    def _refuse(self, name: str):
        """After a change that touched no row: NotYours, or KeyError if the name is gone."""
        raise NotYours(name, self.owner(name))

    def load(self, name: str) -> dict:
        """The saved settings: icbs (a list of ICB codes), changes (Policy fields as JSON) and
        what else was saved; KeyError if there is no such scenario, BadScenario if its
        contents are not in the shape `save` writes."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(SCENARIOS.c.settings, SCENARIOS.c.saved_at,
                                         SCENARIOS.c.owner)
                               .where(SCENARIOS.c.name == name)).first()
        if row is None:
            raise KeyError(name)
        settings = parse_settings(name, row.settings)
        settings["saved_at"] = row.saved_at
        settings["owner"] = row.owner
        return settings

    def delete(self, name: str, owner: str | None = None, any_owner: bool = True) -> None:
        """Delete a scenario; NotYours when `any_owner` is False and it is someone else's."""
        with self.engine.begin() as conn:
            done = conn.execute(sa.delete(SCENARIOS)
                                .where(self._mine(name, owner, any_owner))).rowcount
        if not done:
            self._refuse(name)

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
        elif dataclasses.is_dataclass(value):  # [commissioning]
            out[name] = dataclasses.asdict(value)
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return json.loads(json.dumps(out))  # proves it is JSON, copies nested dicts


def parse_settings(name: str, text: str) -> dict:
    """A stored scenario's JSON as a dict of the shape `save` writes, or BadScenario."""
    try:
        settings = json.loads(text)
    except (TypeError, ValueError):
        raise BadScenario(name, "its contents are not readable JSON") from None
    if not isinstance(settings, dict):
        raise BadScenario(name, "its contents are not a set of named settings")
    icbs = settings.get("icbs")
    if not isinstance(icbs, list) or not all(isinstance(i, str) for i in icbs):
        raise BadScenario(name, "its ICBs are not a list of ICB codes")
    if not isinstance(settings.get("changes", {}), dict):
        raise BadScenario(name, "its changed settings are not a set of named settings")
    for key in ("description", "model", "data"):
        if not isinstance(settings.get(key, ""), str):
            raise BadScenario(name, f"its {key} is not text")
    changes_from_json(settings.get("changes", {}), name)  # every record in its shape
    return settings


def changes_from_json(raw: dict, scenario: str = "") -> tuple[dict, list[str]]:
    """JSON back to Policy changes; fields this version does not know are reported, not used.

    A record field (locks, ring-fences, activity targets) that is not a list of records with
    this version's keys raises BadScenario; the values themselves are checked when the
    changes are applied (`ModelInputs.with_policy`), which lists any problem in words.
    """
    changes, ignored = {}, []
    if not isinstance(raw, dict):
        raise BadScenario(scenario, "its changed settings are not a set of named settings")
    for name, value in raw.items():
        if name not in POLICY_FIELDS:
            ignored.append(name)
            continue
        if name in _RECORD_FIELDS:
            changes[name] = _records(name, value, scenario)
        elif name == "commissioning":
            changes[name] = _commissioning(value, scenario)
        elif name in _TUPLE_FIELDS and value is not None:
            if not isinstance(value, list):
                raise BadScenario(scenario, f"its {name} is not a list")
            changes[name] = tuple(value)
        else:
            changes[name] = value
    return changes, ignored


def _commissioning(value, scenario: str) -> Commissioning:
    keys = {f.name for f in dataclasses.fields(Commissioning)}
    if not isinstance(value, dict) or not set(value) <= keys:
        raise BadScenario(scenario, "its commissioning settings are not in the form "
                                    f"{{{', '.join(sorted(keys))}}}")
    value = dict(value)
    value["setup_not_charged"] = tuple(value.get("setup_not_charged") or ())
    return Commissioning(**value)


def _records(name: str, value, scenario: str) -> tuple:
    kind = _RECORD_FIELDS[name]
    keys = {f.name for f in dataclasses.fields(kind)}
    if not isinstance(value, list | None):
        raise BadScenario(scenario, f"its {name} are not a list")
    items = []
    for item in value or []:
        if not isinstance(item, dict) or not set(item) <= keys:
            raise BadScenario(scenario, f"one of its {name} is not in the form "
                                        f"{{{', '.join(sorted(keys))}}}")
        item = dict(item)
        if "years" in item:
            if not isinstance(item["years"], list | None):
                raise BadScenario(scenario, f"the years of one of its {name} are not a list")
            item["years"] = tuple(item["years"] or ())
        try:
            items.append(kind(**item))
        except (TypeError, ValueError) as err:
            raise BadScenario(scenario, f"one of its {name} is missing a value ({err})") \
                from None
    return tuple(items)
