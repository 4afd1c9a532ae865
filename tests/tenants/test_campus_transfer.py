"""`flask campus export` / `flask campus import`: Molenbeek moved to another database.

The target is a database of its own, migrated like the suite's (on PostgreSQL: the owner migrates,
the app role imports under row-level security). It already holds HQ's side of the network (the
catalogue, partners, the agreement, HQ's user and billing entity), created in another order so
every id differs, and a campus of its own (Casablanca) that an import must leave alone.
"""

from __future__ import annotations

import itertools
import json
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Table, func, select, text

from billing.agreements.models import Agreement
from billing.currencies.services import set_rate
from billing.entities.models import BillingEntity, PaymentProvider
from billing.impact.models import ImpactTarget
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.invoices.services import (
    LineInput,
    create_invoice,
    credit_invoice,
    issue_invoice,
    mark_invoice_paid,
)
from billing.ledger.models import EntrySource, RevenueEntry, RevenueStream
from billing.ledger.services import record_entry, verify_rollups
from billing.payments.models import Order, StripeEvent
from billing.payments.services import record_manual_payment, refund_order
from core.app import create_app
from core.auth.models import Role, User
from core.auth.services import create_user
from core.catalogue.models import Certification, Course, CourseLevel, Track
from core.extensions import db
from core.partners.models import Partner
from tenants.audit.models import AUDIT_TABLES, AuditAction, GlobalAuditEntry
from tenants.campuses import transfer
from tenants.campuses.models import Campus
from tenants.campuses.services import create_campus
from tenants.learners.models import Learner
from tenants.rls import role_setup_sql
from tenants.scoping import all_campuses, campus_scope
from tests.support import data
from tests.support.postgres import APP, APP_PASSWORD, OWNER, OWNER_PASSWORD

DOMAIN = "localhost:5000"
TEMPLATE_DATABASE = "campusflow_transfer_template"
# Columns that name a global row in any database, to compare what rows point at.
NATURAL = {"users": "email", "courses": "code", "certifications": "exam_code",
           "partners": "slug", "tracks": "slug", "billing_entities": "code",
           "agreements": "title"}
_numbers = itertools.count(1)


# ---- the target database ------------------------------------------------------------------------


@contextmanager
def on(app: Flask) -> Iterator[None]:
    """An app context on `app` with a database session of its own: the suite's `db_session`
    fixture points `db.session` at the source database's test transaction."""
    saved = db.session
    db.session = db._make_scoped_session({})
    try:
        with app.app_context():
            yield
    finally:
        db.session = saved


def _make_app(url: str, migration_url: str | None = None) -> Flask:
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "MIGRATION_DATABASE_URI": migration_url,
        "CAMPUSFLOW_DOMAIN": DOMAIN, "WTF_CSRF_ENABLED": False, "REPORT_CACHE_ROWS": 0,
        "STRIPE_API_KEY": None, "STRIPE_PUBLISHABLE_KEY": None,
        "STRIPE_WEBHOOK_SECRET": None, "STRIPE_API_BASE": None,
    })


def seed_headquarters() -> None:
    """HQ's side of the network as the source has it, plus a campus of the target's own. Rows
    the source lacks come first, so that the same rows get other ids here."""
    aws = Partner(slug="aws", name="AWS", country="IE", address="Dublin")
    cloud = Track(slug="cloud", name="Cloud")
    db.session.add_all([aws, cloud, Course(
        code="CLD-100", track=cloud, hours=120, level=CourseLevel.BEGINNER,
        title_en="Cloud basics", description_en="Clouds.", certifications=[
            Certification(issuer="AWS", exam_code="CLF-C02", name="Cloud Practitioner")])])
    casablanca = create_campus(slug="casablanca", name="Casablanca", city="Casablanca",
                               country="MA", currency="MAD", timezone="Africa/Casablanca",
                               locale="fr_MA", status="open")
    create_user("manager@casablanca.campusflow.test", Role.CAMPUS_MANAGER, data.PASSWORD,
                campus_id=casablanca.id)
    db.session.add(BillingEntity(campus_id=casablanca.id, code="CAS", legal_name="Campusflow "
                                 "Casablanca SARL", country="MA", vat_rate=Decimal("20"),
                                 payment_provider=PaymentProvider.MANUAL))
    set_rate(date(2024, 1, 1), "MAD", Decimal("10.80"))
    with campus_scope(casablanca.id, db.session):
        db.session.add_all([Learner(full_name=f"Casablanca learner {i}",
                                    email=f"learner{i}@casablanca.example") for i in range(2)])
        db.session.flush()
        record_entry(occurred_on=date(2026, 11, 4), stream=RevenueStream.EVENTS,
                     amount_minor=54000, currency="MAD", source=EntrySource.MANUAL)
    microsoft = Partner(slug="microsoft", name="Microsoft", country="IE",
                        vat_number="IE8256796U", address="One Microsoft Place, Dublin 18",
                        billing_email="ap@microsoft.test")
    google = Partner(slug="google", name="Google", country="IE", vat_number="IE6388047V",
                     address="Gordon House, Barrow Street, Dublin 4")
    db.session.add_all([microsoft, google])
    db.session.flush()
    course = data.create_catalogue()
    db.session.add(BillingEntity(code="HQ", legal_name="Campusflow HQ SRL",
                                 address="Rue de Ribaucourt 27, 1080 Brussels", country="BE",
                                 vat_number="BE0123456749", vat_rate=Decimal("21"),
                                 iban="BE71096123456769", bic="GKCCBEBB"))
    create_user(data.HQ, Role.HQ_ADMIN, data.PASSWORD, full_name="HQ Admin")
    db.session.add(Agreement(
        title="Microsoft cybersecurity programme", partner_id=microsoft.id,
        track_id=course.track_id, currency="EUR", starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), fixed_fee_minor=1200000, instalments=12,
        per_admitted_minor=10000, per_completion_minor=30000, per_certified_minor=50000,
        trained_target=150, certified_target=60))
    db.session.commit()


def _superuser(postgres, database: str) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=postgres.port, user="postgres",
                           dbname=database, autocommit=True)


def _grant(postgres, database: str) -> None:
    with _superuser(postgres, database) as connection:
        for statement in role_setup_sql(database, OWNER, APP, OWNER_PASSWORD, APP_PASSWORD):
            if not statement.startswith("CREATE ROLE"):  # the server's roles, made once
                connection.execute(statement)


@pytest.fixture(scope="module")
def templates(request, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Migrated, seeded target databases to copy, one per backend, made on first use."""
    made: dict[str, Any] = {}

    def template(backend: str) -> Any:
        if backend in made:
            return made[backend]
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("transfer") / "template.db"
            app = _make_app(f"sqlite:///{path}")
        else:
            postgres = request.getfixturevalue("postgres")
            with _superuser(postgres, "postgres") as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DATABASE}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
            _grant(postgres, TEMPLATE_DATABASE)
            app = _make_app(postgres.url(APP, APP_PASSWORD, TEMPLATE_DATABASE),
                            postgres.url(OWNER, OWNER_PASSWORD, TEMPLATE_DATABASE))
            path = postgres
        with on(app):
            upgrade()
            seed_headquarters()
            db.engine.dispose()  # a template database takes no connection while copied
        made[backend] = path
        return path

    yield template
    if "postgresql" in made:
        with _superuser(made["postgresql"], "postgres") as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DATABASE}" WITH (FORCE)')


def backend_of(app: Flask) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") \
        else "sqlite"


@pytest.fixture
def target(app, templates, tmp_path) -> Iterator[Flask]:
    """A fresh copy of the target database of `app`'s backend, and the app on it."""
    backend = backend_of(app)
    template = templates(backend)
    if backend == "sqlite":
        shutil.copy(template, tmp_path / "target.db")
        target_app = _make_app(f"sqlite:///{tmp_path / 'target.db'}")
        yield target_app
        with on(target_app):
            db.engine.dispose()
        return
    postgres, name = template, f"campusflow_transfer_{next(_numbers)}"
    with _superuser(postgres, "postgres") as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    _grant(postgres, name)
    target_app = _make_app(postgres.url(APP, APP_PASSWORD, name),
                           postgres.url(OWNER, OWNER_PASSWORD, name))
    yield target_app
    with on(target_app):
        db.engine.dispose()
    with _superuser(postgres, "postgres") as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- the source: Molenbeek with money in every shape ------------------------------------------


def _user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


@pytest.fixture
def molenbeek(app, db_session, base) -> int:
    """Base data plus: a paid then credited partner invoice (payment entry, credit note, its
    reversal), a cash membership order paid then refunded, a MAD entry recorded by HQ, a
    royalty statement from HQ, an impact target of the campus and a Stripe event."""
    campus_id = base.campus_ids["molenbeek"]
    with app.app_context(), campus_scope(campus_id, db.session):
        hq, manager = _user_id(data.HQ), _user_id(data.manager("molenbeek"))
        invoice = db.session.scalar(select(Invoice).where(
            Invoice.number == data.INVOICES["molenbeek"]))
        mark_invoice_paid(invoice, paid_on=date(2026, 11, 10), actor_id=hq, reference="TRF 1")
        credit_invoice(invoice, issued_on=date(2026, 11, 12), reason="Wrong period",
                       actor_id=manager)
        order = db.session.scalar(select(Order))
        record_manual_payment(order, reference="cash 42", actor_id=manager,
                              paid_on=date(2026, 11, 6))
        refund_order(order, actor_id=manager)
        record_entry(occurred_on=date(2026, 11, 5), stream=RevenueStream.EVENTS,
                     amount_minor=10850, currency="MAD", source=EntrySource.MANUAL,
                     memo="Dirham tickets", actor_id=hq)
        headquarters = db.session.scalar(select(BillingEntity).where(BillingEntity.code == "HQ"))
        royalty = create_invoice(kind=InvoiceKind.ROYALTY, issuer=headquarters, currency="EUR",
                                 lines=[LineInput("Royalties, October 2026", 1, 123456)],
                                 period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                                 actor_id=hq)
        issue_invoice(royalty, issued_on=date(2026, 11, 3), actor_id=hq)
        partner = db.session.scalar(select(Partner).where(Partner.slug == "microsoft"))
        db.session.add_all([
            ImpactTarget(label="Molenbeek cyber", partner_id=partner.id, campus_id=campus_id,
                         track_id=base.catalogue["track"][0], trained_target=40,
                         certified_target=20, starts_on=date(2026, 1, 1)),
            StripeEvent(id="evt_molenbeek_1", type="payment_intent.succeeded",
                        campus_id=campus_id, outcome="applied",
                        received_at=datetime(2026, 11, 6, 10, 30, tzinfo=UTC)),
        ])
        db.session.commit()
    return campus_id


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def export_file(app: Flask, path: Path, slug: str = "molenbeek") -> dict[str, Any]:
    result = run(app, "campus", "export", "--slug", slug, str(path))
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text(encoding="utf-8"))


# ---- reading both databases ---------------------------------------------------------------------


def owned_tables() -> list[Table]:
    return transfer.schema().owned


def campus_rows(campus_id: int) -> dict[str, dict[int, dict[str, Any]]]:
    """Every campus-owned row of `campus_id`, per table and id, read in its scope."""
    rows = {}
    with campus_scope(campus_id, db.session):
        for table in owned_tables():
            rows[table.name] = {row.id: row._asdict() for row in db.session.execute(
                select(table).where(table.c.campus_id == campus_id))}
    return rows


def natural_names() -> dict[str, dict[int, Any]]:
    return {name: dict(db.session.execute(select(db.metadata.tables[name].c.id,
                                                 db.metadata.tables[name].c[column])).all())
            for name, column in NATURAL.items()}


def snapshot() -> dict[str, set[str]]:
    """Every row of every table, read as HQ reads (row-level security lets it)."""
    with all_campuses(db.session):
        return {table.name: {repr(tuple(row)) for row in db.session.execute(select(table))}
                for table in db.metadata.sorted_tables}


def added_rows(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, int]:
    for name, rows in before.items():
        assert rows <= after[name], f"{name}: rows changed or went"
    return {name: len(after[name] - rows) for name, rows in before.items()
            if after[name] - rows}


def foreign_targets(table: Table) -> dict[str, Table]:
    """Column → table it points at, leaving out the campus half of keys between campus rows."""
    return {element.parent.name: element.column.table
            for constraint in table.foreign_key_constraints for element in constraint.elements
            if element.parent.name != "campus_id"}


# ---- the round trip -----------------------------------------------------------------------------


def test_round_trip_moves_every_row_under_new_ids(app, molenbeek, base, target, tmp_path):
    antwerp = base.campus_ids["antwerp"]
    with app.app_context():
        antwerp_before, source = campus_rows(antwerp), campus_rows(molenbeek)
        source_names = natural_names()
        global_history = db.session.scalar(select(func.count()).select_from(GlobalAuditEntry)
                                           .where(GlobalAuditEntry.campus_id == molenbeek))
    document = export_file(app, tmp_path / "molenbeek.json")

    with on(target):
        before = snapshot()
        result = transfer.import_campus(document)
        db.session.commit()
        new_id = result.campus.id
        moved, target_names, after = campus_rows(new_id), natural_names(), snapshot()
        if backend_of(app) == "postgresql":  # imported as the app role, under RLS
            assert db.session.scalar(text("SELECT current_user")) == APP
    assert new_id != molenbeek

    # Every campus-owned row, field by field, ids mapped.
    maps = result.id_maps
    owned = set(owned_tables())
    trail: dict[str, dict[int, dict[str, Any]]] = {}
    for table in owned_tables():
        rows, mapping = source[table.name], maps.get(table.name, {})
        assert sorted(mapping) == sorted(rows), table.name
        copies = {new: moved[table.name][new] for new in mapping.values()}
        trail[table.name] = {i: r for i, r in moved[table.name].items() if i not in copies}
        assert not trail[table.name] or table.name in AUDIT_TABLES, table.name
        pointers = foreign_targets(table)
        for old_id, row in rows.items():
            copy = copies[mapping[old_id]]
            assert copy["campus_id"] == new_id
            for name, value in row.items():
                if name in ("id", "campus_id"):
                    continue
                if value is None or name not in pointers:
                    assert copy[name] == value, (table.name, name)
                elif pointers[name] in owned:
                    assert copy[name] == maps[pointers[name].name][value], (table.name, name)
                else:
                    other = pointers[name].name
                    assert target_names[other][copy[name]] == source_names[other][value], \
                        (table.name, name)
    assert len(source["revenue_entries"]) == 6 and len(source["invoices"]) == 4
    assert source["audit_entries"], "the campus's audit history travels too"

    # The import is in the target's audit log: one entry per row it created, new ids.
    entries = trail["audit_entries"].values()
    created = {(e["object_type"], e["object_id"]) for e in entries}
    assert len(created) == len(entries) and {e["action"] for e in entries} == {AuditAction.CREATE}
    assert created <= {(name, str(new)) for name, mapping in maps.items()
                       for new in mapping.values()}
    assert {("learners", str(maps["learners"][old])) for old in source["learners"]} <= created

    # Money and dates exactly; the moved campus keeps its invoice numbers.
    by_memo = {row["memo"]: row for row in moved["revenue_entries"].values()}
    assert by_memo["Dirham tickets"]["fx_rate"] == Decimal("10.85")
    assert by_memo["Dirham tickets"]["amount_eur_minor"] == 1000
    numbers = {row["number"] for row in moved["invoices"].values()}
    assert numbers == {"MOL-2026-0001", "MOL-2026-0002", "MOL-2026-0003", "HQ-2026-0001"}

    # Global rows that belong to the campus came along; nothing else was written.
    attached = {"users": 2, "billing_entities": 1, "royalty_rates": 2, "invoice_sequences": 1,
                "agreement_campuses": 1, "impact_targets": 1, "stripe_events": 1,
                "global_audit_entries": global_history}
    assert result.counts == {**{t: len(r) for t, r in source.items()}, **attached}
    added = added_rows(before, after)
    assert added.pop("audit_entries") == len(source["audit_entries"]) + len(entries)
    global_trail = added.pop("global_audit_entries") - global_history
    assert global_trail >= 1 + 2 + 1  # the campus, its staff, its billing entity…
    del attached["global_audit_entries"]
    assert added == {"campuses": 1, **attached,
                     **{t: len(r) for t, r in source.items() if r and t != "audit_entries"}}
    # Antwerp's rows in the source are as they were.
    with app.app_context():
        assert campus_rows(antwerp) == antwerp_before


def test_moved_campus_works_in_its_new_database(app, molenbeek, target, tmp_path):
    document = export_file(app, tmp_path / "molenbeek.json")
    with app.app_context():
        password_hash = db.session.scalar(select(User.password_hash).where(
            User.email == data.manager("molenbeek")))
    with on(target):
        result = transfer.import_campus(document)
        db.session.commit()
        campus_id = result.campus.id
        manager = db.session.scalar(select(User).where(User.email == data.manager("molenbeek")))
        assert (manager.campus_id, manager.password_hash) == (campus_id, password_hash)
        with all_campuses(db.session):
            assert verify_rollups() == []
        # Numbering goes on after the moved invoices, without a gap.
        with campus_scope(campus_id, db.session):
            entity = db.session.scalar(select(BillingEntity).where(BillingEntity.code == "MOL"))
            assert entity.campus_id == campus_id
            partner = db.session.scalar(select(Partner).where(Partner.slug == "google"))
            invoice = create_invoice(kind=InvoiceKind.PARTNER, issuer=entity, currency="EUR",
                                     partner=partner, lines=[LineInput("Workshop", 1, 50000)])
            assert issue_invoice(invoice, issued_on=date(2026, 12, 1)).number == "MOL-2026-0004"
            db.session.rollback()
    # Staff sign in with the password they had, on the campus's site, and see its learners.
    client = target.test_client()
    with on(target):
        response = client.post("/login", base_url=f"http://molenbeek.{DOMAIN}", data={
            "email": data.manager("molenbeek"), "password": data.PASSWORD})
        assert response.status_code == 302
        page = client.get("/learners", base_url=f"http://molenbeek.{DOMAIN}")
        assert data.MARKERS["molenbeek"] in page.get_data(as_text=True)
        assert data.MARKERS["antwerp"] not in page.get_data(as_text=True)


def test_export_writes_one_campus_in_the_versioned_format(app, molenbeek, tmp_path):
    path = tmp_path / "molenbeek.json"
    result = run(app, "campus", "export", "--slug", "molenbeek", str(path))
    assert result.exit_code == 0, result.output
    assert "Campus molenbeek exported" in result.output and "revenue_entries" in result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text(encoding="utf-8")
    assert data.MARKERS["antwerp"] not in content and "antwerp" not in content
    document = json.loads(content)
    assert (document["format"], document["version"]) == ("campusflow-campus", 1)
    with app.app_context():
        assert document["schema_revision"] == transfer.schema_revision()
    assert document["campus"]["slug"] == "molenbeek"
    assert set(document["tables"]) == {t.name for t in owned_tables()}
    entry = next(r for r in document["tables"]["revenue_entries"]
                 if r["memo"] == "Dirham tickets")
    assert (entry["fx_rate"], entry["occurred_on"], entry["stream"], entry["amount_minor"]) == (
        str(entry["fx_rate"]), "2026-11-05", "events", 10850)
    assert Decimal(entry["fx_rate"]) == Decimal("10.85")
    assert "campus_id" not in entry
    # Global rows pointed at travel by natural key; the campus's own staff travel whole.
    references = {table: [e["key"] for e in entries]
                  for table, entries in document["references"].items()}
    assert references["users"] == [{"email": data.HQ}]
    assert references["courses"] == [{"code": "CYB-101"}]
    assert references["billing_entities"] == [{"code": "HQ"}]
    assert {"slug": "microsoft"} in references["partners"]
    assert references["agreements"][0]["title"] == "Microsoft cybersecurity programme"
    assert {u["email"] for u in document["attached"]["users"]} == {
        data.manager("molenbeek"), data.staff("molenbeek")}
    assert {e["code"] for e in document["attached"]["billing_entities"]} == {"MOL"}

    missing = run(app, "campus", "export", "--slug", "nowhere", str(tmp_path / "x.json"))
    assert missing.exit_code == 2 and "No campus with slug nowhere" in missing.output
    assert not (tmp_path / "x.json").exists()


# ---- refusals -----------------------------------------------------------------------------------


def test_import_twice_is_refused_and_writes_nothing(app, molenbeek, target, tmp_path):
    path = tmp_path / "molenbeek.json"
    export_file(app, path)
    with on(target):
        before = snapshot()
        dry = run(target, "campus", "import", str(path), "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "nothing was written" in dry.output and snapshot() == before

        first = run(target, "campus", "import", str(path))
        assert first.exit_code == 0, first.output
        assert "Campus molenbeek imported" in first.output
        assert "revenue_entries" in first.output and "learners" in first.output
        imported = snapshot()
        assert added_rows(before, imported)["campuses"] == 1

        again = run(target, "campus", "import", str(path))
        assert again.exit_code == 2
        assert "A campus with slug molenbeek already exists" in again.output
        # Under another slug its staff's e-mails and its entity's code are still taken.
        renamed = run(target, "campus", "import", str(path), "--as-slug", "molenbeek-bis")
        assert renamed.exit_code == 2
        assert f"users (email={data.manager('molenbeek')})" in renamed.output
        assert "billing_entities (code=MOL)" in renamed.output
        assert snapshot() == imported


def test_import_under_another_slug(app, molenbeek, target, tmp_path):
    path = tmp_path / "molenbeek.json"
    export_file(app, path)
    with on(target):
        refused = run(target, "campus", "import", str(path), "--as-slug", "casablanca")
        assert refused.exit_code == 2 and "casablanca already exists" in refused.output
        reserved = run(target, "campus", "import", str(path), "--as-slug", "hq")
        assert reserved.exit_code == 2 and "hq is reserved" in reserved.output
        result = run(target, "campus", "import", str(path), "--as-slug", "brussels")
        assert result.exit_code == 0, result.output
        slugs = set(db.session.scalars(select(Campus.slug)))
    assert slugs == {"casablanca", "brussels"}


def test_import_names_every_missing_reference_and_writes_nothing(app, molenbeek, target,
                                                                 tmp_path):
    document = export_file(app, tmp_path / "molenbeek.json")
    for entry in document["references"]["courses"]:
        entry["key"]["code"] = "GONE-101"
    for entry in document["references"]["users"]:
        entry["key"]["email"] = "ghost@campusflow.test"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with on(target):
        before = snapshot()
        result = run(target, "campus", "import", str(path))
        assert result.exit_code == 2
        assert "not in this database" in result.output
        assert "courses (code=GONE-101)" in result.output
        assert "users (email=ghost@campusflow.test)" in result.output
        assert snapshot() == before


def _set(section: str, table: str, column: str, value: Any) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document[section][table][0][column] = value
    return change


def _duplicate_learner(document: dict) -> None:
    learners = document["tables"]["learners"]
    learners.append({**learners[0], "id": max(r["id"] for r in learners) + 1})


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d.update(format="something-else"), "not a Campusflow campus export"),
    (lambda d: d.update(version=2), "version 2 is not supported"),
    (lambda d: d.update(schema_revision="0001_foundation"), "schema revision 0001_foundation"),
    (lambda d: d["tables"].pop("learners"), "are not this schema's"),
    (lambda d: d["tables"]["learners"][0].pop("email"), "Row 1 of learners"),
    # Found only while inserting: the campus and earlier tables were written, then rolled back.
    (_set("tables", "enrolments", "cohort_id", 987654), "cohort_id = 987654 points at no"),
    (_set("tables", "outcomes", "occurred_on", "yesterday"), "outcomes.occurred_on holds"),
    (_set("tables", "revenue_entries", "stream", "lottery"), "revenue_entries.stream holds"),
    (_duplicate_learner, "do not fit this database"),
])
def test_damaged_file_is_refused_and_nothing_is_written(app, molenbeek, target, tmp_path,
                                                        damage, message):
    document = export_file(app, tmp_path / "molenbeek.json")
    damage(document)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with on(target):
        before = snapshot()
        result = run(target, "campus", "import", str(path))
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert snapshot() == before


def test_a_file_that_is_not_json_is_refused(target, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("molenbeek, learners, …", encoding="utf-8")
    with on(target):
        result = run(target, "campus", "import", str(path))
    assert result.exit_code == 2 and "is not a campus export (not JSON" in result.output


def test_rows_pointing_at_rows_of_their_own_table_load_in_any_order(app, molenbeek, target,
                                                                    tmp_path):
    document = export_file(app, tmp_path / "molenbeek.json")
    for table in ("revenue_entries", "invoices"):
        document["tables"][table].reverse()  # reversals and credit notes before what they undo
    with on(target):
        result = transfer.import_campus(document)
        with campus_scope(result.campus.id, db.session):
            reversals = db.session.execute(
                select(RevenueEntry.amount_minor, RevenueEntry.reverses_id)
                .where(RevenueEntry.reverses_id.is_not(None))).all()
            amounts = dict(db.session.execute(
                select(RevenueEntry.id, RevenueEntry.amount_minor)).all())
            note = db.session.scalar(select(Invoice).where(
                Invoice.kind == InvoiceKind.CREDIT_NOTE))
            credited = db.session.get(Invoice, (result.campus.id, note.credits_invoice_id))
            credited = (credited.number, credited.status)
        db.session.rollback()
    assert len(reversals) == 2
    assert all(amounts[original] == -amount for amount, original in reversals)
    assert credited == ("MOL-2026-0001", InvoiceStatus.VOID)
