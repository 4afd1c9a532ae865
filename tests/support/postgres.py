"""A throwaway PostgreSQL server for the suite, started from the installed binaries.

pytest-postgresql's executor runs it; as root it goes through `tests/support/pg_ctl`, which
starts it as the `postgres` system user (initdb refuses root). The server listens on 127.0.0.1
only and disappears with its temporary directory at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pytest_postgresql.executors.proc import PostgreSQLExecutor

from tenants.rls import role_setup_sql

WRAPPER = Path(__file__).with_name("pg_ctl")
DATABASE = "campusflow_test"
OWNER, OWNER_PASSWORD = "campusflow_owner", "owner-secret"
APP, APP_PASSWORD = "campusflow_app", "app-secret"


def postgres_bindir() -> str | None:
    """The newest installed PostgreSQL binaries directory, or None when there are none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(p.split("/")[4]))
    if found:
        return str(Path(found[-1]).parent)
    pg_ctl = shutil.which("pg_ctl")
    return str(Path(pg_ctl).parent) if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayPostgres:
    executor: PostgreSQLExecutor
    port: int
    base: Path

    def url(self, user: str, password: str | None = None, database: str = DATABASE) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    @property
    def superuser_url(self) -> str:
        return self.url("postgres")

    @property
    def owner_url(self) -> str:
        return self.url(OWNER, OWNER_PASSWORD)

    @property
    def app_url(self) -> str:
        return self.url(APP, APP_PASSWORD)

    def stop(self) -> None:
        try:
            self.executor.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _connect_when_ready(port: int, timeout: float = 60.0) -> psycopg.Connection:
    """A connection as soon as the server accepts one: the port opens before recovery ends
    ("the database system is starting up"), especially on a busy machine."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                                   dbname="postgres", autocommit=True, connect_timeout=5)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def start_postgres(bindir: str) -> ThrowawayPostgres:
    """Start a server, create the test database and the owner and app roles."""
    base = Path(tempfile.mkdtemp(prefix="campusflow-pg-"))
    if os.geteuid() == 0:  # the server then runs as the postgres user, who must own its folder
        shutil.chown(base, user="postgres")
    port = _free_port()
    os.environ["PG_BINDIR"] = bindir
    executor = PostgreSQLExecutor(
        executable=str(WRAPPER),
        host="127.0.0.1",
        port=port,
        datadir=str(base / "data"),
        unixsocketdir=str(base),
        logfile=str(base / "server.log"),
        startparams="-w",
        dbname=DATABASE,
        user="postgres",
        postgres_options="-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
    )
    executor.start()
    server = ThrowawayPostgres(executor, port, base)
    with _connect_when_ready(port) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=DATABASE,
                         autocommit=True) as connection:
        for statement in role_setup_sql(DATABASE, OWNER, APP, OWNER_PASSWORD, APP_PASSWORD):
            connection.execute(statement)
    return server
