"""While the database is unreachable (restart, fail-over) requests get 503 with Retry-After, not a
500 with a traceback; other database errors stay 500. `make soak` restarts a real PostgreSQL
under load; here the server is simply not there."""

from __future__ import annotations

import socket

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from core.errors import database_unreachable
from tests.conftest import DOMAIN, _make_app


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="unreachable")
def unreachable_fixture():
    app = _make_app(f"postgresql+psycopg://campusflow_app:x@127.0.0.1:{_closed_port()}/nowhere",
                    SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True,
                                               "connect_args": {"connect_timeout": 2}})
    return app.test_client()


def test_an_api_call_without_a_database_gets_503_unavailable_and_retry_after(unreachable):
    response = unreachable.get("/api/v1/learners", base_url=f"http://molenbeek.{DOMAIN}",
                               headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "1"


def test_a_page_without_a_database_gets_the_503_page(unreachable):
    response = unreachable.get("/", base_url=f"http://molenbeek.{DOMAIN}")
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_readiness_says_down_while_liveness_stays_up(unreachable):
    assert unreachable.get("/readyz").status_code == 503
    assert unreachable.get("/healthz").status_code == 200


@pytest.mark.parametrize(("error", "outage"), [
    (OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown()), True),
    (OperationalError("SELECT 1", {}, psycopg.errors.CannotConnectNow()), True),
    (OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")), True),
    (IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation()), False),
    (ProgrammingError("SELECT", {}, psycopg.errors.UndefinedColumn()), False),
])
def test_only_a_lost_connection_counts_as_an_outage(error, outage):
    assert database_unreachable(error) is outage


def test_a_database_gone_at_commit_answers_503_without_touching_it_again(postgres,
                                                                          postgresql_app):
    """What fails in the request's COMMIT (after the view) never reaches the error handlers;
    the transaction boundary answers 503 itself, and the answer reads nothing from the
    database (a signed-in user's expired row would otherwise reload from a server that is
    gone)."""
    from flask import Response
    from flask_login import login_user
    from sqlalchemy import select, text

    from core.auth.models import User
    from core.extensions import db
    from tests.support.data import manager
    from tests.support.queries import count_queries

    commit = next(f for f in postgresql_app.after_request_funcs[None]
                  if getattr(f, "__name__", "") == "commit_or_roll_back")
    with postgresql_app.test_request_context("/", base_url=f"http://molenbeek.{DOMAIN}"):
        postgresql_app.preprocess_request()
        login_user(db.session.scalars(select(User).where(
            User.email == manager("molenbeek"))).one())
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(postgres.superuser_url.replace("+psycopg", ""),
                             autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with count_queries(db.engine) as statements:
            response = commit(Response("done"))
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert "briefly unavailable" in response.get_data(as_text=True)
        assert statements == []
        db.session.remove()
