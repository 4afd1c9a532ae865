"""Gapless numbering under concurrency, on PostgreSQL as production runs it (app role, RLS).

Threads each get their own app context, hence their own session and pooled connection, and
issue drafts at the same time; one of them rolls an issue back mid-way. The numbers of the year
must come out as 1..N, with no gap and no duplicate. The test commits for real (that is what
racing transactions do), in a year nothing else uses, and removes its rows afterwards as the
superuser.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from billing.entities.services import entity_for_campus_id
from billing.invoices.models import Invoice, InvoiceKind, InvoiceSequence, InvoiceStatus
from billing.invoices.services import LineInput, create_invoice, issue_invoice
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses, campus_scope

YEAR = 2031  # no other test issues in this year
THREADS, PER_THREAD = 8, 5


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg(postgres, postgresql_app) -> Iterator:
    """The PostgreSQL app, and afterwards every row this test committed removed again."""
    yield postgresql_app
    with psycopg.connect(libpq(postgres.superuser_url), autocommit=True) as conn:
        conn.execute("DELETE FROM invoice_lines WHERE invoice_id IN "
                     "(SELECT id FROM invoices WHERE notes = 'concurrency probe')")
        conn.execute("DELETE FROM invoices WHERE notes = 'concurrency probe'")
        conn.execute("DELETE FROM invoice_sequences WHERE year = %s", (YEAR,))
    with postgresql_app.app_context():
        db.engine.dispose()


def _drafts(app, count: int) -> tuple[int, list[int]]:
    with app.app_context():
        campus_id = db.session.scalar(select(Campus.id).where(Campus.slug == "molenbeek"))
        partner = db.session.scalar(select(Partner).where(Partner.slug == "microsoft"))
        with campus_scope(campus_id, db.session):
            issuer = entity_for_campus_id(campus_id)
            ids = [create_invoice(kind=InvoiceKind.PARTNER, issuer=issuer, currency="EUR",
                                  partner=partner, notes="concurrency probe",
                                  lines=[LineInput("Probe", 1, 1000)]).id
                   for _ in range(count)]
            db.session.commit()
        db.session.remove()
    return campus_id, ids


def test_concurrent_issues_number_without_gap_or_duplicate(pg):
    app = pg
    campus_id, ids = _drafts(app, THREADS * PER_THREAD + 1)
    poison, ids = ids[0], ids[1:]  # issued, then rolled back: its number must come back
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(mine: list[int], roll_back_first: bool) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                with campus_scope(campus_id, db.session):
                    if roll_back_first:
                        issue_invoice(db.session.get(Invoice, (campus_id, poison)),
                                      issued_on=date(YEAR, 3, 1))
                        db.session.rollback()
                    for invoice_id in mine:
                        issue_invoice(db.session.get(Invoice, (campus_id, invoice_id)),
                                      issued_on=date(YEAR, 3, 1))
                        db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below, with the thread's own traceback
            errors.append(error)

    threads = [threading.Thread(target=work, args=(ids[i::THREADS], i == 0))
               for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    with app.app_context():
        with all_campuses(db.session):
            rows = db.session.execute(
                select(Invoice.id, Invoice.number, Invoice.sequence, Invoice.status)
                .where(Invoice.notes == "concurrency probe")).all()
        issuer_id = entity_for_campus_id(campus_id).id
        last = db.session.scalar(select(InvoiceSequence.last_number).where(
            InvoiceSequence.issuer_id == issuer_id, InvoiceSequence.year == YEAR))
        db.session.remove()
    issued = [row for row in rows if row.status == InvoiceStatus.ISSUED]
    total = THREADS * PER_THREAD
    assert sorted(row.sequence for row in issued) == list(range(1, total + 1))
    assert sorted(row.number for row in issued) == [f"MOL-{YEAR}-{n:04d}"
                                                   for n in range(1, total + 1)]
    assert last == total
    assert next(row for row in rows if row.id == poison).status == InvoiceStatus.DRAFT
