"""Figures measured inside one process, against the bench database as the app's own role:
the HQ report's server-side time and the cost of tenant scoping.

No network and no client: what is timed is the app's request handling (Flask's test client
calls the WSGI app directly) or the query itself.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from core.extensions import db
from tenants import scoping
from tenants.learners.models import Learner
from tenants.learners.services import learners_query

PAGE_SIZE = 25


def report_path(first_month: str, last_month: str) -> str:
    """HQ's three-year consolidated report: campus x month x stream, in EUR."""
    return (f"/api/v1/reports/revenue?from={first_month}&to={last_month}"
            "&group_by=campus,month,stream")


def server_side_ms(app: Flask, host: str, headers: dict[str, str], path: str,
                   repeat: int = 200) -> dict[str, float]:
    """p50 and p99 of `repeat` requests handled by the app in this process (after 10 warm-ups
    that fill the connection pool and SQLAlchemy's statement cache)."""
    client = app.test_client()
    timings = []
    for round_ in range(repeat + 10):
        started = time.perf_counter()
        response = client.get(path, base_url=f"http://{host}", headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
        if round_ >= 10:
            timings.append(elapsed)
    cuts = statistics.quantiles(timings, n=100)
    return {"p50_ms": round(statistics.median(timings), 2), "p99_ms": round(cuts[98], 2)}


def _rate(work: Callable[[], Any], seconds: float) -> float:
    """How many times per second `work` runs, over about `seconds`."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        work()
        done += 1
    return done / elapsed


@contextmanager
def _without_scoping() -> Any:
    """The ORM without the scoping hooks: no campus criteria, no per-transaction setting."""
    hooks = [(Session, "do_orm_execute", scoping._scope_orm_statement),
             (Session, "after_begin", scoping._set_database_scope),
             (Session, "before_flush", scoping._stamp_and_check_campus)]
    for target, name, hook in hooks:
        event.remove(target, name, hook)
    try:
        yield
    finally:
        for target, name, hook in hooks:
            event.listen(target, name, hook)


def scoping_overhead(app: Flask, superuser_url: str, campus_id: int,
                     seconds: float = 4.0, rounds: int = 3) -> dict[str, float]:
    """The learners list query (count + first page, one transaction), scoped versus unscoped.

    Scoped is the app as it runs: the app role under row-level security, the campus bound
    (ORM criteria plus the transaction's `app.campus_id`). Unscoped is the same query with
    `campus_id = …` written by hand, on a role that bypasses row-level security, with the
    scoping hooks removed. Rounds alternate so that a busy moment hits both sides.
    """
    def page(session: Session, statement) -> None:
        with session.begin():
            total = session.scalar(statement.with_only_columns(
                db.func.count()).order_by(None))
            rows = session.scalars(statement.limit(PAGE_SIZE)).all()
        if total == 0 or not rows:
            raise RuntimeError("the measured campus has no learners")

    raw_engine = create_engine(superuser_url, pool_size=1)
    scoped_rates, unscoped_rates = [], []
    try:
        with app.app_context():
            scoped_session = Session(db.engine)
            raw_session = Session(raw_engine)

            def scoped() -> None:
                with scoping.campus_scope(campus_id):
                    page(scoped_session, learners_query(""))

            def unscoped() -> None:
                page(raw_session, learners_query("").where(Learner.campus_id == campus_id))

            for _ in range(rounds):
                scoped_rates.append(_rate(scoped, seconds))
                with _without_scoping():
                    unscoped_rates.append(_rate(unscoped, seconds))
            scoped_session.close()
            raw_session.close()
    finally:
        raw_engine.dispose()
    scoped_rate, unscoped_rate = (statistics.median(scoped_rates),
                                  statistics.median(unscoped_rates))
    return {"scoped_per_s": round(scoped_rate, 1), "unscoped_per_s": round(unscoped_rate, 1),
            "ratio": round(scoped_rate / unscoped_rate, 3),
            "overhead_percent": round((1 - scoped_rate / unscoped_rate) * 100, 1)}
