"""Fixtures: the app on SQLite and on a throwaway PostgreSQL, one transaction per test.

Every test that takes `app` (directly or through `client`, `db_session`, `sites`…) runs once per
backend. The schema comes from the migrations, once per session; the base data (two campuses
with their people and learners, a partner, HQ) is committed once; each test then runs inside a
transaction that is rolled back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ["CAMPUSFLOW_ENV"] = "test"
os.environ.setdefault("SECRET_KEY", "test-secret-key")

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from core.app import create_app
from core.extensions import db, limiter
from tests.support import data
from tests.support.postgres import ThrowawayPostgres, postgres_bindir, start_postgres

pytest_plugins = ["tests.support.stripe_server", "tests.support.redis_server",
                  "tests.support.catalogues"]

DOMAIN = "localhost:5000"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """The throwaway server; skipped without PostgreSQL binaries, except in CI (a failure)."""
    bindir = postgres_bindir()
    if bindir is None:
        if IN_CI:
            pytest.fail("CI=true but no PostgreSQL binaries were found (pg_ctl)")
        pytest.skip("PostgreSQL binaries (pg_ctl) not installed; PostgreSQL tests skipped")
    server = start_postgres(bindir)
    yield server
    server.stop()


NO_TRANSLATIONS = tempfile.mkdtemp(prefix="campusflow-no-translations-")


def _make_app(database_url: str, migration_url: str | None = None, **overrides) -> Flask:
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MIGRATION_DATABASE_URI": migration_url,
        "CAMPUSFLOW_DOMAIN": DOMAIN,
        "WTF_CSRF_ENABLED": False,
        # Kept reports are tested on their own (tests/billing/test_report_cache.py); elsewhere
        # each test sees the figures computed afresh.
        "REPORT_CACHE_ROWS": 0,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # A developer's shell must not point the suite at a Stripe account: tests that pay use
        # the `stripe_app` fixture (localstripe on 127.0.0.1).
        "STRIPE_API_KEY": None,
        "STRIPE_PUBLISHABLE_KEY": None,
        "STRIPE_WEBHOOK_SECRET": None,
        "STRIPE_API_BASE": None,
        # The suite asserts behaviour in the catalogue's source language (English): pages of a
        # French or Dutch campus would otherwise read in French or Dutch. The translated pages
        # are tested with catalogues compiled on purpose (tests/core/test_i18n.py) and in the
        # browser (tests/browser).
        "BABEL_TRANSLATION_DIRECTORIES": NO_TRANSLATIONS,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def sqlite_app() -> Iterator[Flask]:
    folder = Path(tempfile.mkdtemp(prefix="campusflow-sqlite-"))
    app = _make_app(f"sqlite:///{folder / 'test.db'}")
    with app.app_context():
        upgrade()
        data.create_base_data()
    yield app


@pytest.fixture(scope="session")
def postgresql_app(postgres: ThrowawayPostgres) -> Iterator[Flask]:
    """The app as PostgreSQL runs it in production: app role, RLS forced, owner migrates."""
    app = _make_app(postgres.app_url, postgres.owner_url)
    with app.app_context():
        upgrade()
        data.create_base_data()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request) -> Flask:
    return request.getfixturevalue(f"{request.param}_app")


@pytest.fixture
def db_session(app: Flask) -> Iterator[scoped_session]:
    """Sessions inside one transaction rolled back after the test.

    No app context stays pushed while the test runs: each request (and each `app.app_context()`
    block in a test) gets its own, hence its own `g` and session, all joined to the outer
    transaction through savepoints.
    """
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    try:
        yield db.session
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        transaction.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    if getattr(limiter, "_storage", None) is not None:  # once an app has been created
        limiter.reset()


@pytest.fixture
def base(app: Flask, db_session) -> data.BaseData:
    """Ids of the base data: campuses `molenbeek` and `antwerp`, their people and learners."""
    with app.app_context():
        return data.load_base_data()


@dataclass
class Site:
    """A test client on one host, with a helper to sign in there."""

    client: FlaskClient
    host: str

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def open(self, method: str, path: str, **kwargs):
        return self.client.open(path, method=method, base_url=self.base_url, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def sign_in(self, email: str, password: str = data.PASSWORD):
        return self.post("/login", data={"email": email, "password": password})

    def token(self, email: str, password: str = data.PASSWORD) -> str:
        response = self.post("/api/v1/auth/token", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]


@pytest.fixture
def site(app: Flask, db_session):
    """`site("molenbeek")` → a fresh client on molenbeek.<domain>; `site(None)` → the apex."""

    def make(subdomain: str | None) -> Site:
        host = f"{subdomain}.{DOMAIN}" if subdomain else DOMAIN
        return Site(app.test_client(), host)

    return make
