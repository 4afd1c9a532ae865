"""Each database-side isolation layer tested alone, on PostgreSQL (DESIGN.md, "Tenancy").

* ORM layer with row-level security off: an ORM session connected as the superuser, which
  bypasses RLS, so whatever confines it is the `do_orm_execute` / `before_flush` hooks alone.
* RLS with the ORM hook off: raw SQL over psycopg as the app role, no SQLAlchemy session at all.
* The pool: one pooled connection serving campus A, then campus B, then nobody.
* The start-up check, and what the app role may not do.

Everything runs in transactions that are rolled back and every engine made here is disposed; the
module checks at the end that the base data is as it found it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from flask import Flask
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, aliased

from core.app import create_app
from core.extensions import db
from tenants import campus_owned_tables, database_security_problems
from tenants.learners.models import Learner
from tenants.scoping import (
    CrossCampusWriteError,
    UnscopedQueryError,
    all_campuses,
    campus_scope,
)
from tests.support.data import MARKERS

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = select(Learner.__table__.c.campus_id, Learner.__table__.c.id)  # Core, not ORM
INSERT = ("INSERT INTO learners (campus_id, full_name, email, created_at, updated_at) "
          "VALUES (%s, %s, %s, now(), now())")


def libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Snapshot:
    """The committed learners, read as the superuser: the truth every test compares with."""

    campus_ids: dict[str, int]
    rows: frozenset[tuple[int, int, str]]  # (campus_id, id, full_name)

    @property
    def molenbeek(self) -> int:
        return self.campus_ids["molenbeek"]

    @property
    def antwerp(self) -> int:
        return self.campus_ids["antwerp"]

    def ids(self, slug: str) -> set[int]:
        return {i for c, i, _ in self.rows if c == self.campus_ids[slug]}

    def names(self, slug: str) -> set[str]:
        return {n for c, _, n in self.rows if c == self.campus_ids[slug]}


def _read_snapshot(url: str) -> Snapshot:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        campuses = dict(conn.execute("SELECT slug, id FROM campuses").fetchall())
        rows = conn.execute("SELECT campus_id, id, full_name FROM learners").fetchall()
    return Snapshot(campuses, frozenset(rows))


@pytest.fixture(scope="module")
def snap(postgres, postgresql_app) -> Iterator[Snapshot]:
    before = _read_snapshot(postgres.superuser_url)
    for slug in ("molenbeek", "antwerp"):
        assert before.ids(slug), f"base data has no learner in {slug}"
        assert all(MARKERS[slug] in name for name in before.names(slug))
    yield before
    assert _read_snapshot(postgres.superuser_url) == before, "the base data was changed"


@pytest.fixture(scope="module")
def superuser_engine(postgres) -> Iterator[Engine]:
    engine = create_engine(postgres.superuser_url)
    yield engine
    engine.dispose()


# --- ORM layer alone: superuser connection, so row-level security does not apply -------------


@pytest.fixture
def orm_session(postgresql_app: Flask, superuser_engine: Engine, snap) -> Iterator[Session]:
    with postgresql_app.app_context(), Session(superuser_engine) as session:
        try:
            yield session
        finally:
            session.rollback()


def _tuples(result) -> set[tuple]:
    return {tuple(row) for row in result}


def _raw_rows(session: Session) -> set[tuple[int, int, str]]:
    """Every learner as the database has it: raw SQL, which the ORM hook does not filter."""
    return _tuples(session.execute(text("SELECT campus_id, id, full_name FROM learners")))


def test_orm_layer_tests_run_with_row_level_security_off(orm_session, snap):
    # What confines the ORM tests below is the ORM hook alone: raw SQL and Core statements
    # (the ORM layer's known holes) see every campus on this connection.
    with campus_scope(snap.molenbeek, orm_session):
        assert orm_session.scalar(text("SHOW is_superuser")) == "on"
        assert _raw_rows(orm_session) == snap.rows
        assert {c for c, _ in orm_session.execute(LEARNERS)} >= {snap.molenbeek, snap.antwerp}


def test_orm_select_sees_only_the_bound_campus(orm_session, snap):
    with campus_scope(snap.molenbeek, orm_session):
        learners = orm_session.scalars(select(Learner)).all()
        count = orm_session.scalar(select(func.count()).select_from(Learner))
        count_column = orm_session.scalar(select(func.count(Learner.id)))
        alias = aliased(Learner)
        aliased_ids = set(orm_session.scalars(select(alias.id)))
        in_subquery = orm_session.scalar(
            select(func.count()).select_from(select(Learner.id).subquery()))
        asked_for_antwerp = orm_session.scalars(
            select(Learner).where(Learner.campus_id == snap.antwerp)).all()
    assert {learner.campus_id for learner in learners} == {snap.molenbeek}
    assert {learner.id for learner in learners} == snap.ids("molenbeek")
    assert {learner.full_name for learner in learners} == snap.names("molenbeek")
    assert count == count_column == in_subquery == len(snap.ids("molenbeek"))
    assert aliased_ids == snap.ids("molenbeek")
    assert asked_for_antwerp == []


def test_orm_get_of_another_campus_row_is_none(orm_session, snap):
    with campus_scope(snap.molenbeek, orm_session):
        assert orm_session.get(Learner, (snap.antwerp, min(snap.ids("antwerp")))) is None
        own = orm_session.get(Learner, (snap.molenbeek, min(snap.ids("molenbeek"))))
    assert own is not None


def test_orm_update_and_delete_touch_only_the_bound_campus(orm_session, snap):
    mine, theirs = snap.ids("molenbeek"), snap.ids("antwerp")
    anchors = [min(mine), min(theirs)]
    with campus_scope(snap.molenbeek, orm_session):
        everything = orm_session.execute(update(Learner).values(full_name="Overwritten"))
        by_campus = orm_session.execute(
            update(Learner).where(Learner.campus_id == snap.antwerp).values(full_name="X"))
        by_id = orm_session.execute(
            update(Learner).where(Learner.id.in_(theirs)).values(full_name="X"))
        after_update = _raw_rows(orm_session)
        deleted_by_id = orm_session.execute(delete(Learner).where(Learner.id.in_(theirs)))
        # Each campus's first learner has enrolments and more (foreign keys): it stays.
        deleted = orm_session.execute(delete(Learner).where(Learner.id.notin_(anchors)))
        after_delete = _raw_rows(orm_session)
    orm_session.rollback()

    assert everything.rowcount == len(mine)
    assert by_campus.rowcount == by_id.rowcount == deleted_by_id.rowcount == 0
    assert {(c, i) for c, i, n in after_update if n == "Overwritten"} == {
        (snap.molenbeek, i) for i in mine}
    assert {r for r in after_update if r[0] == snap.antwerp} == {
        r for r in snap.rows if r[0] == snap.antwerp}
    assert deleted.rowcount == len(mine) - 1
    assert {i for c, i, _ in after_delete if c == snap.molenbeek} == {min(mine)}
    assert {i for c, i, _ in after_delete if c == snap.antwerp} == theirs


def test_orm_refuses_rows_for_another_campus(orm_session, snap):
    with campus_scope(snap.molenbeek, orm_session):
        stamped = Learner(full_name="New", email="new@molenbeek.example")
        orm_session.add(stamped)
        orm_session.flush()
        assert stamped.campus_id == snap.molenbeek

        intruder = Learner(campus_id=snap.antwerp, full_name="Intruder",
                           email="intruder@antwerp.example")
        orm_session.add(intruder)
        with pytest.raises(CrossCampusWriteError):
            orm_session.flush()
        orm_session.expunge(intruder)

        moved = orm_session.get(Learner, (snap.molenbeek, min(snap.ids("molenbeek"))))
        moved.campus_id = snap.antwerp
        with pytest.raises(CrossCampusWriteError):
            orm_session.flush()


@pytest.mark.parametrize(
    "statement",
    [
        select(Learner),
        select(Learner.email),
        select(func.count()).select_from(Learner),
        select(func.count()).select_from(select(Learner.id).subquery()),
        LEARNERS,
        update(Learner).values(full_name="X"),
        delete(Learner),
    ],
    ids=["entity", "column", "count", "subquery", "core", "update", "delete"],
)
def test_orm_unbound_statement_raises(orm_session, statement):
    with pytest.raises(UnscopedQueryError):
        orm_session.execute(statement)


def test_orm_unbound_get_and_write_raise(orm_session, snap):
    with pytest.raises(UnscopedQueryError):
        orm_session.get(Learner, (snap.molenbeek, min(snap.ids("molenbeek"))))
    orm_session.add(Learner(campus_id=snap.molenbeek, full_name="N", email="n@m.example"))
    with pytest.raises(UnscopedQueryError):
        orm_session.flush()


def test_all_campuses_reads_every_campus_and_writes_nothing(orm_session, snap):
    with all_campuses(orm_session):
        rows = set(orm_session.execute(select(Learner.campus_id, Learner.id, Learner.full_name)))
        with pytest.raises(UnscopedQueryError):
            orm_session.execute(update(Learner).values(full_name="X"))
        orm_session.add(Learner(campus_id=snap.molenbeek, full_name="N", email="n@m.example"))
        with pytest.raises(UnscopedQueryError):
            orm_session.flush()
    assert rows == snap.rows
    assert {c for c, _, _ in rows} >= {snap.molenbeek, snap.antwerp}


# --- Row-level security alone: raw SQL as the app role, no ORM session, no hook --------------


@pytest.fixture
def app_role(postgres, snap) -> Iterator[psycopg.Connection]:
    """A raw connection as the app role, inside a transaction that is always rolled back."""
    with (psycopg.connect(libpq(postgres.app_url), autocommit=True) as conn,
          conn.transaction(force_rollback=True)):
        yield conn


def _set(conn: psycopg.Connection, campus_id: int | None = None, hq: bool = False) -> None:
    conn.execute("SELECT set_config('app.campus_id', %s, true), "
                 "set_config('app.all_campuses', %s, true)",
                 ("" if campus_id is None else str(campus_id), "on" if hq else ""))


def _count(conn: psycopg.Connection, where: str = "true", params=()) -> int:
    return conn.execute(f"SELECT count(*) FROM learners WHERE {where}", params).fetchone()[0]  # noqa: S608


def _rowcount(conn: psycopg.Connection, sql: str, params=()) -> int:
    with conn.transaction(force_rollback=True):  # a savepoint: the change does not stay
        return conn.execute(sql, params).rowcount


@contextmanager
def _refused_by_policy(conn: psycopg.Connection) -> Iterator[None]:
    with (pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
          conn.transaction()):
        yield


def test_rls_without_a_setting_shows_no_rows(app_role, snap):
    assert app_role.execute("SELECT current_setting('app.campus_id', true)").fetchone()[0] in (
        None, "")
    assert _count(app_role) == 0
    assert _count(app_role, "campus_id = %s", (snap.molenbeek,)) == 0
    _set(app_role, None)
    assert _count(app_role) == 0
    with _refused_by_policy(app_role):
        app_role.execute(INSERT, (snap.molenbeek, "N", "n@m.example"))


def test_rls_with_a_campus_shows_only_its_rows(app_role, snap):
    _set(app_role, snap.molenbeek)
    rows = set(app_role.execute("SELECT campus_id, id, full_name FROM learners").fetchall())
    assert rows == {r for r in snap.rows if r[0] == snap.molenbeek}
    assert _count(app_role, "campus_id = %s", (snap.antwerp,)) == 0
    assert _count(app_role, "id = ANY(%s)", (list(snap.ids("antwerp")),)) == 0
    _set(app_role, snap.antwerp)  # a new setting in the same transaction moves the window
    assert {r[0] for r in app_role.execute("SELECT id FROM learners")} == snap.ids("antwerp")


def test_rls_update_and_delete_cannot_reach_another_campus(app_role, snap):
    theirs = list(snap.ids("antwerp"))
    _set(app_role, snap.molenbeek)
    assert _rowcount(app_role, "UPDATE learners SET full_name = 'x' WHERE campus_id = %s",
                     (snap.antwerp,)) == 0
    assert _rowcount(app_role, "UPDATE learners SET full_name = 'x' WHERE id = ANY(%s)",
                     (theirs,)) == 0
    assert _rowcount(app_role, "DELETE FROM learners WHERE campus_id = %s", (snap.antwerp,)) == 0
    assert _rowcount(app_role, "DELETE FROM learners WHERE id = ANY(%s)", (theirs,)) == 0
    # Positive control: the same statements do reach this campus's rows.
    mine = len(snap.ids("molenbeek"))
    assert _rowcount(app_role, "UPDATE learners SET full_name = 'x'") == mine
    # Each campus's first learner has enrolments and more (foreign keys): it stays.
    anchors = [min(snap.ids("molenbeek")), min(snap.ids("antwerp"))]
    assert _rowcount(app_role, "DELETE FROM learners WHERE id <> ALL(%s)", (anchors,)) == mine - 1
    # WITH CHECK: a row of this campus cannot be moved to another one.
    with _refused_by_policy(app_role):
        app_role.execute("UPDATE learners SET campus_id = %s WHERE id = %s",
                         (snap.antwerp, min(snap.ids("molenbeek"))))


def test_rls_insert_for_another_campus_is_refused(app_role, snap):
    _set(app_role, snap.molenbeek)
    with _refused_by_policy(app_role):
        app_role.execute(INSERT, (snap.antwerp, "Intruder", "intruder@antwerp.example"))
    assert _rowcount(app_role, INSERT, (snap.molenbeek, "New", "new@molenbeek.example")) == 1


def test_rls_hq_setting_reads_every_campus_but_writes_nothing(app_role, snap):
    _set(app_role, None, hq=True)
    rows = set(app_role.execute("SELECT campus_id, id, full_name FROM learners").fetchall())
    assert rows == snap.rows
    for campus_id in (snap.molenbeek, snap.antwerp):
        with _refused_by_policy(app_role):
            app_role.execute(INSERT, (campus_id, "HQ", "hq@learner.example"))
    assert _rowcount(app_role, "UPDATE learners SET full_name = 'x'") == 0
    assert _rowcount(app_role, "DELETE FROM learners") == 0


def test_raw_sql_through_the_app_session_is_confined_by_rls(postgresql_app, snap):
    # text() and Core statements are the ORM layer's known holes (see the sanity test above):
    # on the app role, the database still confines them.
    with postgresql_app.app_context():
        try:
            with campus_scope(snap.molenbeek, db.session):
                names = set(db.session.scalars(text("SELECT full_name FROM learners")))
                core = _tuples(db.session.execute(LEARNERS))
            db.session.rollback()
            unbound = db.session.scalar(text("SELECT count(*) FROM learners"))
        finally:
            db.session.rollback()
    assert names == snap.names("molenbeek")
    assert core == {(snap.molenbeek, i) for i in snap.ids("molenbeek")}
    assert unbound == 0


# --- The pool: one connection, campus A then campus B then nobody -----------------------------


@pytest.fixture
def one_connection_engine(postgres, postgresql_app, snap) -> Iterator[Engine]:
    engine = create_engine(postgres.app_url, pool_size=1, max_overflow=0, pool_timeout=5)
    with postgresql_app.app_context():
        yield engine
    engine.dispose()


def _pid(connection) -> int:
    return connection.scalar(text("SELECT pg_backend_pid()"))


def test_pooled_connection_carries_no_campus_between_transactions(one_connection_engine, snap):
    engine = one_connection_engine
    with Session(engine) as session:
        with campus_scope(snap.molenbeek, session):
            first_pid = _pid(session)
            first = _tuples(session.execute(select(Learner.campus_id, Learner.id)))
            session.commit()
        with campus_scope(snap.antwerp, session):
            second_pid = _pid(session)
            second = _tuples(session.execute(select(Learner.campus_id, Learner.id)))
            second_raw = set(session.scalars(text("SELECT id FROM learners")))
            session.commit()
    with engine.connect() as connection:  # Core: no session, so no hook sets anything
        third_pid = _pid(connection)
        setting = connection.scalar(text("SELECT current_setting('app.campus_id', true)"))
        unbound = connection.scalar(text("SELECT count(*) FROM learners"))
        connection.rollback()

    assert first_pid == second_pid == third_pid
    assert first == {(snap.molenbeek, i) for i in snap.ids("molenbeek")}
    assert second == {(snap.antwerp, i) for i in snap.ids("antwerp")}
    assert second_raw == snap.ids("antwerp")
    assert setting in (None, "")
    assert unbound == 0


def test_pool_check_would_catch_a_session_level_setting(one_connection_engine, snap):
    # Negative control: had the hook used set_config(..., false), the next checkout of the same
    # connection would still see the campus. The engine is disposed afterwards.
    engine = one_connection_engine
    with engine.connect() as connection:
        connection.execute(text("SELECT set_config('app.campus_id', :c, false)"),
                           {"c": str(snap.molenbeek)})
        connection.commit()
    with engine.connect() as connection:
        leaked = connection.scalar(text("SELECT count(*) FROM learners"))
        connection.rollback()
    assert leaked == len(snap.ids("molenbeek"))


def test_rebinding_inside_a_transaction_moves_the_database_setting(one_connection_engine, snap):
    with Session(one_connection_engine) as session, campus_scope(snap.molenbeek, session):
        before = set(session.scalars(text("SELECT id FROM learners")))
        with campus_scope(snap.antwerp, session):
            inside = set(session.scalars(text("SELECT id FROM learners")))
        after = set(session.scalars(text("SELECT id FROM learners")))
        session.rollback()
    assert before == after == snap.ids("molenbeek")
    assert inside == snap.ids("antwerp")


# --- Start-up check ----------------------------------------------------------------------------


@contextmanager
def _app_on(url: str, domain: str) -> Iterator[Flask]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CAMPUSFLOW_DOMAIN": domain,
                      "WTF_CSRF_ENABLED": False})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def _check_database(app: Flask):
    return app.test_cli_runner().invoke(args=["tenancy", "check-database"])


def test_app_role_passes_the_start_up_check(postgresql_app):
    with postgresql_app.app_context():
        assert database_security_problems() == []
    result = _check_database(postgresql_app)
    assert result.exit_code == 0, result.output
    assert "UNSAFE" not in result.output


def test_owner_role_is_refused(postgres, postgresql_app):
    domain = postgresql_app.config["CAMPUSFLOW_DOMAIN"]
    with _app_on(postgres.owner_url, domain) as app:
        with app.app_context():
            problems = database_security_problems()
        result = _check_database(app)
        response = app.test_client().get("/", base_url=f"http://molenbeek.{domain}")
    assert any("owns tables" in p and "learners" in p for p in problems), problems
    assert not any("superuser" in p or "BYPASSRLS" in p for p in problems), problems
    assert result.exit_code == 1
    assert "UNSAFE: role campusflow_owner owns tables" in result.output
    assert response.status_code == 503


def test_superuser_is_refused(postgres, postgresql_app):
    domain = postgresql_app.config["CAMPUSFLOW_DOMAIN"]
    with _app_on(postgres.superuser_url, domain) as app:
        with app.app_context():
            problems = database_security_problems()
        result = _check_database(app)
        response = app.test_client().get("/", base_url=f"http://molenbeek.{domain}")
    assert any("is a superuser" in p for p in problems), problems
    assert any("BYPASSRLS" in p for p in problems), problems
    assert result.exit_code == 1
    assert response.status_code == 503


def test_gunicorn_refuses_to_start_on_an_unsafe_database(postgres, postgresql_app, monkeypatch):
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    gunicorn_conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gunicorn_conf)
    logged: list[str] = []
    server = SimpleNamespace(log=SimpleNamespace(critical=lambda msg, *a: logged.append(msg % a)))
    monkeypatch.setenv("CAMPUSFLOW_DOMAIN", postgresql_app.config["CAMPUSFLOW_DOMAIN"])

    monkeypatch.setenv("DATABASE_URL", postgres.owner_url)
    with pytest.raises(SystemExit) as refused:
        gunicorn_conf.on_starting(server)
    assert refused.value.code == 1
    assert any("owns tables" in line for line in logged), logged

    logged.clear()
    monkeypatch.setenv("DATABASE_URL", postgres.app_url)
    gunicorn_conf.on_starting(server)
    assert logged == []


# --- What the app role may not do -------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE learners DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE learners NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY campus_isolation ON learners",
        "CREATE POLICY open_door ON learners USING (true)",
        "DROP TABLE learners",
        "TRUNCATE learners",
        "CREATE TABLE intruder (id int)",
        "SET ROLE campusflow_owner",
        "ALTER ROLE CURRENT_USER BYPASSRLS",
    ],
)
def test_app_role_cannot_change_the_rules(app_role, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_role.transaction():
        app_role.execute(statement)


def test_every_campus_owned_table_is_under_forced_row_level_security(postgres, postgresql_app):
    with postgresql_app.app_context():
        tables = campus_owned_tables()
    assert "learners" in tables
    with psycopg.connect(libpq(postgres.superuser_url), autocommit=True) as conn:
        flags = {row[0]: row[1:] for row in conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relname = ANY(%s)", (tables,))}
        policies = conn.execute(
            "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public' AND permissive = 'PERMISSIVE' "
            "AND tablename = ANY(%s)", (tables,)).fetchall()
    for table in tables:
        assert flags.get(table) == (True, True), f"{table}: RLS not enabled and forced"
        own = {name: (cmd, qual, check) for t, name, cmd, qual, check in policies if t == table}
        # Permissive policies widen access: exactly these two, HQ's for reading only.
        assert set(own) == {"campus_isolation", "hq_read"}, (table, own)
        cmd, qual, check = own["campus_isolation"]
        assert cmd == "ALL" and "app.campus_id" in qual and "app.campus_id" in check
        cmd, qual, check = own["hq_read"]
        assert cmd == "SELECT" and "app.all_campuses" in qual and check is None


def test_a_failed_flush_inside_a_campus_scope_surfaces_its_own_error(app, db_session, base):
    """Leaving the scope must not replace the real error with a PendingRollbackError."""
    from sqlalchemy.exc import IntegrityError

    molenbeek = base.campus_ids["molenbeek"]
    with app.app_context():
        with campus_scope(molenbeek, db.session):
            taken = db.session.scalars(select(Learner.email).limit(1)).one()
        with pytest.raises(IntegrityError), campus_scope(molenbeek, db.session):
            db.session.add(Learner(full_name="Twin", email=taken))
            db.session.flush()
        db.session.rollback()


def test_a_connection_lost_before_the_campus_setting_is_an_outage_not_a_bug(postgres):
    """The setting goes straight to psycopg with the BEGIN; when the server has gone, SQLAlchemy
    still gets its own error (so the app answers 503) and the dead connection leaves the pool."""
    from sqlalchemy.exc import DBAPIError

    from core.errors import database_unreachable
    from tenants.scoping import Scope, _apply_database_setting

    engine = create_engine(postgres.app_url)
    try:
        with engine.connect() as connection:
            pid = connection.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(postgres.superuser_url.replace("+psycopg", ""),
                                 autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(DBAPIError) as raised:
                _apply_database_setting(connection, Scope(campus_id=1))
            assert database_unreachable(raised.value)
            assert connection.invalidated
    finally:
        engine.dispose()
