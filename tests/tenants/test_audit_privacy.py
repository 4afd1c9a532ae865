"""The audit log and a learner's personal data: the export includes the changes recorded on the
person's rows; an erasure blanks the person's values in the log (the erasure's own entries
included), keeps who, when, what and which, records that it did, and leaves other people's
entries alone. The database accepts no other change to an entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update

from core.extensions import db
from tenants.audit.models import ActorKind, AuditAction, AuditEntry
from tenants.audit.privacy import ERASED, _values_may_be_redacted
from tenants.learners.models import Learner
from tenants.learners.privacy import ERASED_NAME, erased_email
from tenants.scoping import campus_scope
from tests.support.data import MARKERS, manager

NAME, EMAIL, PHONE = "Private Person", "private.person@example.org", "+32 2 555 77 88"


def signed_in(site):
    client = site("molenbeek")
    assert client.sign_in(manager("molenbeek")).status_code == 302
    return client


def learner_entries(app, base, learner_id: int) -> list[AuditEntry]:
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        found = list(db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "learners", AuditEntry.object_id == str(learner_id))
            .order_by(AuditEntry.id)))
        db.session.expunge_all()
        return found


@pytest.fixture
def person(app, base, site) -> int:
    """A learner made and edited on the pages, then given a coworking membership by e-mail."""
    molenbeek = signed_in(site)
    assert molenbeek.post("/learners/new", data={"full_name": "Private Persn", "email": EMAIL,
                                                 "phone": ""}).status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner_id = db.session.scalar(select(Learner.id).where(Learner.email == EMAIL))
    assert molenbeek.post(f"/learners/{learner_id}/edit", data={
        "full_name": NAME, "email": EMAIL, "phone": PHONE}).status_code == 302
    return learner_id


def test_export_includes_the_changes_recorded_on_the_persons_rows(app, site, base, person):
    data = signed_in(site).get(f"/api/v1/learners/{person}/export").get_json()
    changes = [entry for entry in data["audit_log"] if entry["object_type"] == "learners"]
    assert [entry["action"] for entry in changes] == ["create", "update"]
    assert changes[1]["after"] == {"full_name": NAME, "phone": PHONE}
    assert "actor" not in changes[0] and changes[0]["actor_kind"] == "user"  # staff unnamed
    assert MARKERS["molenbeek"] not in json.dumps(data["audit_log"])  # nobody else's


def test_erasure_blanks_the_persons_values_in_the_log_and_records_it(app, site, base, person):
    molenbeek = signed_in(site)
    assert molenbeek.post(f"/api/v1/learners/{person}/erase").status_code == 200
    entries = learner_entries(app, base, person)
    dumped = json.dumps([(e.before, e.after) for e in entries])
    assert NAME not in dumped and EMAIL not in dumped and PHONE not in dumped
    assert "Private Persn" not in dumped
    create, edit, erasure, redaction = entries
    assert create.after == {"full_name": ERASED, "email": ERASED}
    assert (edit.before, edit.after) == ({"full_name": ERASED, "phone": None},
                                         {"full_name": ERASED, "phone": ERASED})
    # The erasure's own entry: what it cleared is blanked, the placeholders it wrote stay.
    assert erasure.before == {"full_name": ERASED, "email": ERASED, "phone": ERASED}
    assert erasure.after == {"full_name": ERASED_NAME, "email": erased_email(person),
                             "phone": None}
    # Who, when and what stay; the redaction itself is an entry.
    assert [e.actor for e in entries] == [manager("molenbeek")] * 4
    assert [e.action for e in entries] == [AuditAction.CREATE, AuditAction.UPDATE,
                                           AuditAction.UPDATE, AuditAction.REDACT]
    assert redaction.after == {"entries": 3} and redaction.actor_kind is ActorKind.USER


def test_erasure_leaves_other_peoples_entries_alone(app, site, base, person):
    other = base.learner_ids["molenbeek"][1]
    before = [(e.before, e.after) for e in learner_entries(app, base, other)]
    assert signed_in(site).post(f"/api/v1/learners/{person}/erase").status_code == 200
    assert [(e.before, e.after) for e in learner_entries(app, base, other)] == before
    assert f"{MARKERS['molenbeek']} 1" in json.dumps(before)


def test_erasing_twice_redacts_nothing_more(app, site, base, person):
    molenbeek = signed_in(site)
    molenbeek.post(f"/api/v1/learners/{person}/erase")
    count = len(learner_entries(app, base, person))
    assert molenbeek.post(f"/api/v1/learners/{person}/erase").status_code == 200
    assert len(learner_entries(app, base, person)) == count  # no new change, no new redaction


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # SQLite has no setting
def test_postgresql_accepts_no_change_to_the_values_outside_a_redaction(app, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        table = AuditEntry.__table__
        entry_id = db.session.scalar(select(AuditEntry.id).limit(1))
        values_only = update(table).where(table.c.id == entry_id).values(after={"x": 1})
        forged = update(table).where(table.c.id == entry_id).values(after={"x": 1},
                                                                      actor="forged")
        for statement, redacting in ((values_only, False), (forged, True)):
            nested = db.session.begin_nested()
            connection = db.session.connection()  # the savepoint is taken here
            with pytest.raises(Exception, match="append-only"):
                if redacting:
                    with _values_may_be_redacted(connection):
                        connection.execute(statement)
                else:
                    connection.execute(statement)
            nested.rollback()
        connection = db.session.connection()
        with _values_may_be_redacted(connection):
            assert connection.execute(values_only).rowcount == 1
        assert connection.execute(text(
            "SELECT current_setting('app.audit_redaction', true)")).scalar() == ""
        db.session.rollback()
