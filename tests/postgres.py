"""The database tests again, on PostgreSQL: production runs it, SQLite forgives what it does
not (types, constraints, the append-only triggers' own SQL).

`python -m tests.postgres [pytest args]` (the last step of `make test`) runs the database
tests (marker `database`; those that need Redis start their own as always) with
DATABASE_URL pointing at the PostgreSQL of WDASH_TEST_POSTGRES_URL (default: the machine's
own at 127.0.0.1:5432, user postgres). The tests run in a database of their own, created and
dropped by the run (tests/settings.py names it after the process), never in the server's
existing databases. Where no PostgreSQL answers it says so and passes: the same tests have
run on SQLite.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def _where(url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}"


def answers(url: str) -> bool:
    """True when a PostgreSQL takes our login at `url`; False when nothing listens there.
    A server that answers but refuses the login raises: that is a setup to fix, not a
    reason to test on SQLite alone."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as error:
        if "Connection refused" in str(error) or "timeout expired" in str(error):
            return False
        raise
    return True


def main(argv: list[str]) -> int:
    url = os.environ.get("WDASH_TEST_POSTGRES_URL", DEFAULT_URL)
    try:
        up = answers(url)
    except psycopg.OperationalError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"PostgreSQL at {_where(url)} refused the test login ({first}); "
              "set WDASH_TEST_POSTGRES_URL to a user that may create databases.")
        return 1
    if not up:
        print(f"No PostgreSQL answers at {_where(url)}: the database tests ran on SQLite only.")
        return 0
    print(f"The database tests again, on PostgreSQL at {_where(url)}:", flush=True)
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "pytest", "-m", "database", *argv]
    return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
