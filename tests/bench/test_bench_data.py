"""bench.data on a throwaway PostgreSQL, at a tiny scale: the counts asked, a ledger that grows
to a total and no further, rollups that equal the entries (for the app's own verifier and report
too), and an app that still works on generated data: sign-in, campus isolation, new rows.

The generated database is its own (`campusflow_bench_test`, migrated by the owner role like the
suite's), on the suite's server; the other tests' base data never mixes with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from psycopg import sql

from bench.data import BenchWorld, Scale, add_entries, generate_world
from billing.currencies.services import to_eur_minor
from billing.ledger.services import verify_rollups
from core.app import create_app
from core.extensions import db
from tenants.rls import role_setup_sql
from tenants.scoping import all_campuses
from tests.support.postgres import APP, APP_PASSWORD, OWNER, OWNER_PASSWORD, ThrowawayPostgres

BENCH_DATABASE = "campusflow_bench_test"
DOMAIN = "localhost:5000"
SCALE = Scale(campuses=3, learners=300, entries=3_000)
STAGES = (1_000, 3_000, 3_000)  # the last one asks for what is already there
CAMPUS_OWNED = ("learners", "cohorts", "applications", "enrolments", "certification_awards",
                "outcomes", "revenue_entries", "revenue_rollups")


@dataclass(frozen=True)
class Generated:
    world: BenchWorld
    added: list[int]
    dsn: str  # as the superuser, for checks in SQL


def _superuser(postgres: ThrowawayPostgres, database: str) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=postgres.port, user="postgres",
                           dbname=database, autocommit=True)


@pytest.fixture(scope="module")
def bench_app(postgres: ThrowawayPostgres) -> Iterator[Flask]:
    """A database of its own, with the suite's roles and grants, migrated by the owner; the app
    on it as the app role (row-level security forced)."""
    with _superuser(postgres, "postgres") as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    with _superuser(postgres, BENCH_DATABASE) as connection:
        for statement in role_setup_sql(BENCH_DATABASE, OWNER, APP, OWNER_PASSWORD,
                                        APP_PASSWORD):
            if not statement.startswith("CREATE ROLE"):  # roles are the server's, made once
                connection.execute(statement)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": postgres.url(APP, APP_PASSWORD, BENCH_DATABASE),
        "MIGRATION_DATABASE_URI": postgres.url(OWNER, OWNER_PASSWORD, BENCH_DATABASE),
        "CAMPUSFLOW_DOMAIN": DOMAIN,
        "WTF_CSRF_ENABLED": False,
        "STRIPE_API_KEY": None, "STRIPE_PUBLISHABLE_KEY": None,
        "STRIPE_WEBHOOK_SECRET": None, "STRIPE_API_BASE": None,
    })
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()
    with _superuser(postgres, "postgres") as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


@pytest.fixture(scope="module")
def generated(postgres: ThrowawayPostgres, bench_app: Flask) -> Generated:
    with _superuser(postgres, BENCH_DATABASE) as connection:
        world = generate_world(connection, SCALE)
        added = [add_entries(connection, world, upto) for upto in STAGES]
        return Generated(world, added, connection.info.dsn)


def _rows(generated: Generated, query: str | sql.Composable, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(generated.dsn, autocommit=True) as connection:
        return connection.execute(query, params).fetchall()


def _value(generated: Generated, query: str | sql.Composable, params: tuple = ()):
    return _rows(generated, query, params)[0][0]


def _host(slug: str) -> str:
    return f"http://{slug}.{DOMAIN}"


def _signed_in(app: Flask, slug: str, email: str, password: str):
    client = app.test_client()
    response = client.post("/login", base_url=_host(slug),
                           data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def test_world_has_the_campuses_people_and_learners_asked(generated):
    world = generated.world
    assert world.campus_slugs == ["campus-01", "campus-02", "campus-03"]
    campuses = _rows(generated, "SELECT slug, currency, timezone, status FROM campuses "
                                "ORDER BY slug")
    assert campuses == [("campus-01", "EUR", "Europe/Brussels", "open"),
                        ("campus-02", "EUR", "Europe/Brussels", "open"),
                        ("campus-03", "MAD", "Africa/Casablanca", "open")]
    users = _rows(generated, "SELECT u.email, u.role, c.slug, u.is_active FROM users u "
                             "LEFT JOIN campuses c ON c.id = u.campus_id ORDER BY u.email")
    assert sorted(users) == sorted(
        [(world.hq_email, "hq_admin", None, True)]
        + [(world.manager_email[slug], "campus_manager", slug, True)
           for slug in world.campus_slugs])
    per_campus = dict(_rows(generated, "SELECT c.slug, count(*) FROM learners l "
                                       "JOIN campuses c ON c.id = l.campus_id GROUP BY c.slug"))
    assert sum(per_campus.values()) == SCALE.learners
    assert all(70 <= per_campus[slug] <= 130 for slug in world.campus_slugs), per_campus


def test_every_learner_was_admitted_to_the_cohort_they_are_enrolled_in(generated):
    assert _value(generated, "SELECT count(*) FROM enrolments") == SCALE.learners
    # The application behind each enrolment: same campus, cohort, learner, and admitted.
    assert _value(generated, """
        SELECT count(*) FROM enrolments e JOIN applications a
          ON a.campus_id = e.campus_id AND a.id = e.application_id
         AND a.cohort_id = e.cohort_id AND a.learner_id = e.learner_id
         AND a.status = 'admitted'""") == SCALE.learners
    statuses = dict(_rows(generated, "SELECT status, count(*) FROM applications "
                                     "WHERE learner_id IS NULL GROUP BY status"))
    assert sum(statuses.values()) >= SCALE.learners // 3
    assert set(statuses) <= {"submitted", "interview", "waitlisted", "rejected", "withdrawn"}
    # Every campus has cohorts to come, open for applications, as its dashboard shows them.
    assert _value(generated, "SELECT count(DISTINCT campus_id) FROM cohorts "
                             "WHERE status = 'open' AND starts_on > current_date") == 3
    assert _value(generated, "SELECT count(*) FROM enrolments WHERE status = 'completed'") > 0


def test_world_is_generated_once(postgres, generated):
    with _superuser(postgres, BENCH_DATABASE) as connection, \
            pytest.raises(RuntimeError, match="already exist"):
        generate_world(connection, SCALE)
    assert _value(generated, "SELECT count(*) FROM campuses") == 3


def test_ledger_grows_to_the_total_asked_and_no_further(generated):
    assert generated.added == [1_000, 2_000, 0]
    assert _value(generated, "SELECT count(*) FROM revenue_entries") == 3_000
    assert _value(generated, "SELECT count(DISTINCT (campus_id, source_key)) "
                             "FROM revenue_entries") == 3_000


def test_entries_spread_over_campuses_months_and_streams(generated):
    world = generated.world
    rows = _rows(generated, "SELECT c.slug, e.occurred_on, e.stream, e.currency, e.amount_minor "
                            "FROM revenue_entries e JOIN campuses c ON c.id = e.campus_id")
    by_campus = Counter(slug for slug, *_ in rows)
    assert set(by_campus) == set(world.campus_slugs)
    assert min(by_campus.values()) > 800
    months = {day.replace(day=1) for _, day, *_ in rows}
    expected, month = set(), world.first_month
    while month <= world.last_month:
        expected.add(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    assert len(expected) == 36
    # The current month may have begun today: a few entries, or by chance none.
    assert expected - {world.last_month} <= months <= expected
    assert max(day for _, day, *_ in rows) <= datetime.now(UTC).date()
    assert {stream for _, _, stream, *_ in rows} == {
        "training", "coworking", "events", "sponsorship", "other"}
    assert {(slug, currency) for slug, _, _, currency, _ in rows} == {
        ("campus-01", "EUR"), ("campus-02", "EUR"), ("campus-03", "MAD")}
    amounts = [amount for *_, amount in rows]
    assert 0 not in amounts
    assert 0.9 < sum(amount > 0 for amount in amounts) / len(amounts) < 1


def test_entries_are_valued_as_the_ledger_service_values_them(generated):
    rows = _rows(generated, """
        SELECT e.amount_minor, e.currency, e.fx_rate, e.amount_eur_minor,
               CASE WHEN e.currency = 'EUR' THEN 1 ELSE
                 (SELECT r.rate FROM fx_rates r WHERE r.currency = e.currency
                   AND r.day <= e.occurred_on ORDER BY r.day DESC LIMIT 1) END
        FROM revenue_entries e""")
    for amount, currency, fx_rate, eur, rate_of_the_day in rows:
        assert fx_rate == rate_of_the_day  # as rate_for finds it
        assert eur == to_eur_minor(amount, currency, fx_rate)
    mad_rates = {fx_rate for _, currency, fx_rate, _, _ in rows if currency == "MAD"}
    assert mad_rates and all(Decimal("10.5") < rate < Decimal("11.2") for rate in mad_rates)


def test_rollups_are_the_sums_of_the_entries(generated):
    differences = _rows(generated, """
        WITH sums AS (
            SELECT campus_id, date_trunc('month', occurred_on)::date AS month, stream, currency,
                   sum(amount_minor) AS amount, sum(amount_eur_minor) AS eur, count(*) AS n
            FROM revenue_entries GROUP BY 1, 2, 3, 4)
        SELECT * FROM sums s FULL JOIN revenue_rollups r USING (campus_id, month, stream, currency)
        WHERE s.amount IS DISTINCT FROM r.amount_minor OR s.eur IS DISTINCT FROM r.amount_eur_minor
           OR s.n IS DISTINCT FROM r.entry_count""")
    assert differences == []
    assert _value(generated, "SELECT count(*) FROM revenue_rollups") > 3 * 36


def test_the_apps_own_verifier_and_hq_report_agree_with_the_entries(generated, bench_app):
    world = generated.world
    with bench_app.app_context(), all_campuses(db.session):
        assert verify_rollups() == []
    expected = {
        (slug, f"{month:%Y-%m}", stream): int(eur) for slug, month, stream, eur in _rows(
            generated, "SELECT c.slug, date_trunc('month', e.occurred_on)::date, e.stream, "
                       "sum(e.amount_eur_minor) FROM revenue_entries e "
                       "JOIN campuses c ON c.id = e.campus_id GROUP BY 1, 2, 3")}
    hq = _signed_in(bench_app, "hq", world.hq_email, world.password)
    response = hq.get(f"/api/v1/reports/revenue?from={world.first_month:%Y-%m}"
                      f"&to={world.last_month:%Y-%m}&group_by=campus,month,stream",
                      base_url=_host("hq"))
    assert response.status_code == 200
    report = response.get_json()
    assert {(r["campus"], r["month"], r["stream"]): r["amount_eur_minor"]
            for r in report["rows"]} == expected
    assert report["total_eur_minor"] == sum(expected.values())


def test_manager_signs_in_on_their_campus_and_sees_the_dashboard(generated, bench_app):
    world = generated.world
    slug = world.campus_slugs[0]
    client = _signed_in(bench_app, slug, world.manager_email[slug], world.password)
    response = client.get("/", base_url=_host(slug))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Brussels" in page  # the campus's dashboard, not the public page
    assert 'href="/learners' in page
    # Not on another campus's site, with the same password.
    other = bench_app.test_client().post("/login", base_url=_host(world.campus_slugs[1]), data={
        "email": world.manager_email[slug], "password": world.password})
    assert other.status_code != 302


def test_manager_gets_404_for_another_campus_learner(generated, bench_app):
    world = generated.world
    own_slug, other_slug = world.campus_slugs[0], world.campus_slugs[1]
    own, other = (_value(generated, "SELECT min(l.id) FROM learners l JOIN campuses c "
                                    "ON c.id = l.campus_id WHERE c.slug = %s", (slug,))
                  for slug in (own_slug, other_slug))
    client = _signed_in(bench_app, own_slug, world.manager_email[own_slug], world.password)
    assert client.get(f"/api/v1/learners/{own}", base_url=_host(own_slug)).status_code == 200
    assert client.get(f"/api/v1/learners/{other}", base_url=_host(own_slug)).status_code == 404
    assert client.get(f"/learners/{other}/edit", base_url=_host(own_slug)).status_code == 404


def test_sequences_continue_after_the_generated_rows(generated):
    for table in CAMPUS_OWNED:
        last_value = _value(generated, "SELECT coalesce(pg_sequence_last_value("
                                       "pg_get_serial_sequence(%s, 'id')::regclass), 0)", (table,))
        highest = _value(generated, sql.SQL("SELECT max(id) FROM {}").format(sql.Identifier(table)))
        assert last_value >= highest, table


def test_app_creates_a_learner_after_the_generated_ones(generated, bench_app):
    world = generated.world
    slug = world.campus_slugs[0]
    client = _signed_in(bench_app, slug, world.manager_email[slug], world.password)
    response = client.post("/api/v1/learners", base_url=_host(slug), json={
        "full_name": "New Learner", "email": "new.learner@example.org", "consent": True})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["id"] > _value(
        generated, "SELECT max(id) FROM learners WHERE email <> 'new.learner@example.org'")
