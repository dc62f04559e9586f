"""A throwaway PostgreSQL server for the tests: Debian's initdb and pg_ctl on a free port.

`make test` installs Debian's postgresql when it is missing (as root); without it these tests
fail on CI (CI is set) and are skipped elsewhere. The cluster lives in a new folder under the
system's temporary folder, listens on 127.0.0.1 only, trusts local connections (nothing else
can reach it) and is removed when the tests end. PostgreSQL refuses to run as root, so as
root the cluster belongs to Debian's `postgres` user (made by the package) and its programs
run through `runuser`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.browser_support import free_port

USER = "postgres"  # Debian's service account: the cluster's owner when the tests run as root
DATABASE = "optimiser"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them off the PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def missing() -> str:
    """Why the PostgreSQL tests cannot run here, or "" when they can."""
    if bin_dir() is None:
        return ("PostgreSQL is missing (make test installs it: apt-get install -y postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"running as root and there is no '{USER}' user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is missing (pip install -e '.[app]')"
    return ""


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Start a new PostgreSQL server; yield a SQLAlchemy URL to an empty database on it."""
    programs = bin_dir()
    # as root, in /tmp: the postgres user must reach it (TMPDIR may be root's own folder)
    root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="optimiser-pg-",
                                   dir="/tmp" if root and os.path.isdir("/tmp") else None))
    data, log = folder / "data", folder / "server.log"
    if root:
        owner = pwd.getpwnam(USER)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port = free_port()
    # cwd: a folder the postgres user may enter (the checkout may be in root's home)
    run = dict(check=True, capture_output=True, text=True, timeout=120, cwd=folder)
    try:
        subprocess.run(_as_owner([str(programs / "initdb"), "-D", str(data), "-U", "optimiser",
                                  "--auth=trust", "-E", "UTF8", "--no-instructions"]), **run)
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off"
        subprocess.run(_as_owner([str(programs / "pg_ctl"), "-D", str(data), "-l", str(log),
                                  "-o", options, "-w", "-t", "60", "start"]), **run)
        url = f"postgresql+psycopg://optimiser@127.0.0.1:{port}"
        import sqlalchemy as sa

        engine = sa.create_engine(f"{url}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
        engine.dispose()
        yield f"{url}/{DATABASE}"
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"PostgreSQL did not start: {err.stderr or err.stdout}\n"
                           f"{log.read_text() if log.exists() else ''}") from err
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(programs / "pg_ctl"), "-D", str(data), "-m",
                                      "immediate", "-w", "stop"]),
                           capture_output=True, timeout=60, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)
