"""The audit log's capture and storage: every change by a person, a command or the system is one
entry (who, campus, action, object, the changed fields before and after), written in the same
transaction as the change, never changed or deleted, secrets never stored.

The webhook's entries are in tests/billing/test_audit_webhook.py, the pages and API in
test_audit_pages.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from billing.ledger.models import EntrySource, RevenueStream
from billing.ledger.services import record_entry
from core.auth.models import Role, User
from core.auth.services import create_user
from core.catalogue.models import Certification, Course
from core.errors import Conflict
from core.extensions import db
from tenants.audit import acting_as
from tenants.audit.capture import REDACTED
from tenants.audit.models import (
    ActorKind,
    AuditAction,
    AuditEntry,
    AuditLogIsAppendOnly,
    GlobalAuditEntry,
)
from tenants.learners import views as learner_views
from tenants.learners.models import Learner
from tenants.learners.services import create_learner
from tenants.records.models import CertificationAward
from tenants.scoping import all_campuses, campus_scope
from tests.support.data import PASSWORD, manager
from tests.support.queries import count_queries


def campus_entries(app, base, campus: str = "molenbeek", **where) -> list[AuditEntry]:
    """The campus's entries matching `where` (column = value), oldest first (detached)."""
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        statement = select(AuditEntry).order_by(AuditEntry.id)
        for column, value in where.items():
            statement = statement.where(getattr(AuditEntry, column) == value)
        found = list(db.session.scalars(statement))
        db.session.expunge_all()
        return found


def global_entries(app, **where) -> list[GlobalAuditEntry]:
    with app.app_context():
        statement = select(GlobalAuditEntry).order_by(GlobalAuditEntry.id)
        for column, value in where.items():
            statement = statement.where(getattr(GlobalAuditEntry, column) == value)
        found = list(db.session.scalars(statement))
        db.session.expunge_all()
        return found


def signed_in(site, email: str, campus: str = "molenbeek"):
    client = site(campus)
    assert client.sign_in(email).status_code == 302
    return client


def learner_id_by_email(app, base, email: str, campus: str = "molenbeek") -> int | None:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return db.session.scalar(select(Learner.id).where(Learner.email == email))


# ---- what a person does on the pages ---------------------------------------------------------


def test_learner_created_then_edited_on_the_pages_is_recorded_with_actor_and_before_after(
        app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    created = molenbeek.post("/learners/new", data={"full_name": "Nadia Ouali",
                                                     "email": "nadia@example.org",
                                                     "phone": ""})
    assert created.status_code == 302
    learner_id = learner_id_by_email(app, base, "nadia@example.org")
    edited = molenbeek.post(f"/learners/{learner_id}/edit", data={
        "full_name": "Nadia Ouali-Benali", "email": "nadia@example.org",
        "phone": "+32 2 555 11 22"})
    assert edited.status_code == 302

    create, update_ = campus_entries(app, base, object_type="learners", object_id=str(learner_id))
    with app.app_context():
        manager_id = db.session.scalar(select(User.id).where(User.email == manager("molenbeek")))
    for entry in (create, update_):
        assert (entry.actor_kind, entry.actor, entry.actor_user_id) == (
            ActorKind.USER, manager("molenbeek"), manager_id)
        assert entry.campus_id == base.campus_ids["molenbeek"]
        assert entry.ip == "127.0.0.1" and entry.request_id
    assert create.action is AuditAction.CREATE and create.before is None
    assert create.after == {"full_name": "Nadia Ouali", "email": "nadia@example.org"}
    assert update_.action is AuditAction.UPDATE
    # Only what changed, before and after; the e-mail sent again unchanged is not in it.
    assert update_.before == {"full_name": "Nadia Ouali", "phone": None}
    assert update_.after == {"full_name": "Nadia Ouali-Benali", "phone": "+32 2 555 11 22"}
    assert create.request_id != update_.request_id


def test_award_revoked_on_the_record_page_is_recorded_as_a_delete_with_its_values(app, site,
                                                                                  base):
    award_id = base.owned["award"]["molenbeek"][0]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        certification_id = db.session.get(
            CertificationAward, (base.campus_ids["molenbeek"], award_id)).certification_id
    molenbeek = signed_in(site, manager("molenbeek"))
    assert molenbeek.post(f"/certification-awards/{award_id}/revoke").status_code == 302
    [entry] = campus_entries(app, base, object_type="certification_awards",
                             action=AuditAction.DELETE)
    assert entry.object_id == str(award_id) and entry.after is None
    assert entry.actor == manager("molenbeek")
    assert entry.before["learner_id"] == base.learner_ids["molenbeek"][0]
    assert entry.before["certification_id"] == certification_id
    assert entry.before["awarded_on"] == "2026-10-01"


def test_signing_in_records_nothing(app, site, base):
    before = len(global_entries(app, object_type="users"))
    signed_in(site, manager("molenbeek"))  # sets users.last_signed_in_at: bookkeeping
    assert len(global_entries(app, object_type="users")) == before


# ---- the same transaction --------------------------------------------------------------------


def test_rolled_back_request_leaves_no_audit_row(app, site, base, monkeypatch):
    flushed: list[int] = []

    def create_then_fail(data):
        learner = create_learner(data)  # flushed: its entry is written by now
        flushed.append(learner.id)
        raise Conflict("Refused after the flush.")

    monkeypatch.setattr(learner_views, "create_learner", create_then_fail)
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post("/learners/new", data={"full_name": "Rolled Back",
                                                      "email": "rolled.back@example.org"})
    assert response.status_code == 409 and flushed
    assert learner_id_by_email(app, base, "rolled.back@example.org") is None
    assert not [e for e in campus_entries(app, base, object_type="learners")
                if (e.after or {}).get("email") == "rolled.back@example.org"]


def test_a_change_rolled_back_in_code_takes_its_entry_with_it(app, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner = create_learner({"full_name": "Savepoint", "email": "savepoint@example.org"})
        assert db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.object_type == "learners",
            AuditEntry.object_id == str(learner.id))) is not None
        learner_id = learner.id
        db.session.rollback()
    assert campus_entries(app, base, object_type="learners", object_id=str(learner_id)) == []


# ---- append-only -------------------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_an_entry(app, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        entry = db.session.scalar(select(AuditEntry).limit(1))
        entry.actor = "someone else"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(select(AuditEntry).limit(1)))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(update(AuditEntry).values(actor="bulk"))
    with app.app_context():
        global_entry = db.session.scalar(select(GlobalAuditEntry).limit(1))
        global_entry.after = {}
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("model", [AuditEntry, GlobalAuditEntry])
@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
def test_the_database_refuses_to_change_or_delete_an_entry(app, base, model, verb):
    """A trigger on both tables, on PostgreSQL and on SQLite alike."""
    table = model.__table__
    statement = update(table).values(actor="forged") if verb == "UPDATE" else delete(table)
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        rows = db.session.scalar(select(func.count()).select_from(table))
        assert rows > 0
        nested = db.session.begin_nested()
        with pytest.raises(Exception, match="append-only"):
            db.session.connection().execute(statement)  # Core: no ORM guard on the way
        nested.rollback()
        assert db.session.scalar(select(func.count()).select_from(table)) == rows
        assert db.session.scalar(select(func.count()).select_from(table)
                                 .where(table.c.actor == "forged")) == 0


# ---- what is stored ---------------------------------------------------------------------------


def test_secrets_are_redacted(app, base):
    with app.app_context():
        user = create_user("new.coach@campusflow.test", Role.CAMPUS_STAFF, PASSWORD,
                           campus_id=base.campus_ids["antwerp"])
        user.password_hash = "$argon2id$v=19$changed"
        db.session.flush()
        user_id = user.id
        db.session.commit()
    create, change = global_entries(app, object_type="users", object_id=str(user_id))
    assert create.after["password_hash"] == REDACTED
    assert create.after["email"] == "new.coach@campusflow.test"
    assert create.campus_id == base.campus_ids["antwerp"]  # the campus the user belongs to
    assert (change.before, change.after) == ({"password_hash": REDACTED},
                                             {"password_hash": REDACTED})


def test_api_token_digest_is_redacted(app, site, base):
    site("molenbeek").token(manager("molenbeek"))
    entry = global_entries(app, object_type="api_tokens")[-1]
    assert entry.action is AuditAction.CREATE and entry.after["token_hash"] == REDACTED
    assert entry.after["site_key"] == f"campus:{base.campus_ids['molenbeek']}"


def test_one_entry_per_changed_object_per_flush_not_per_field(app, base):
    campus_id = base.campus_ids["molenbeek"]
    with app.app_context(), campus_scope(campus_id, db.session):
        learners = [Learner(full_name=f"Bulk {i}", email=f"bulk{i}@example.org")
                    for i in range(5)]
        db.session.add_all(learners)
        with count_queries(db.engine) as statements:
            db.session.flush()
        inserts = [s for s in statements if "INSERT INTO audit_entries" in s]
        assert len(inserts) == 1  # the five entries in one statement
        learner = learners[0]
        learner.full_name, learner.email, learner.phone = "Renamed", "renamed@example.org", "+3225"
        db.session.flush()
        db.session.commit()
        ids = [str(learner.id) for learner in learners]
    entries = [e for e in campus_entries(app, base, object_type="learners") if e.object_id in ids]
    assert [e.action for e in entries].count(AuditAction.CREATE) == 5
    [change] = [e for e in entries if e.action is AuditAction.UPDATE]
    assert sorted(change.after) == ["email", "full_name", "phone"]


def test_old_value_of_a_field_set_without_loading_it_is_read_from_the_database(app, base):
    campus_id, learner_id = base.campus_ids["molenbeek"], base.learner_ids["molenbeek"][1]
    with app.app_context(), campus_scope(campus_id, db.session):
        learner = db.session.get(Learner, (campus_id, learner_id))
        old_name = learner.full_name
        db.session.expire(learner)  # as after a commit: nothing loaded
        learner.full_name = "Set Blind"
        db.session.commit()
    [entry] = campus_entries(app, base, object_type="learners", object_id=str(learner_id),
                             action=AuditAction.UPDATE)
    assert (entry.before, entry.after) == ({"full_name": old_name}, {"full_name": "Set Blind"})


def test_a_course_certification_change_is_recorded_on_the_course(app, base):
    course_id = base.catalogue["course"][0]
    with app.app_context():
        course = db.session.get(Course, course_id)
        before = sorted(c.id for c in course.certifications)
        added = Certification(issuer="Microsoft", exam_code="SC-200", name="Security Operations")
        course.certifications.append(added)
        db.session.commit()
        after = sorted([*before, added.id])
    change = global_entries(app, object_type="courses", object_id=str(course_id))[-1]
    assert change.action is AuditAction.UPDATE
    assert (change.before, change.after) == ({"certifications": before},
                                             {"certifications": after})


def test_values_are_stored_as_json_text_and_numbers(app, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        entry = record_entry(occurred_on=date(2026, 11, 5), stream=RevenueStream.OTHER,
                             amount_minor=4200, currency="EUR", source=EntrySource.MANUAL,
                             memo="Audit probe")
        entry_id = entry.id
        db.session.commit()
    [created] = campus_entries(app, base, object_type="revenue_entries",
                               object_id=str(entry_id))
    assert created.after["occurred_on"] == "2026-11-05" and created.after["stream"] == "other"
    assert created.after["amount_minor"] == 4200
    assert Decimal(created.after["fx_rate"]) == 1
    # The rollup kept with the entry is derived: not recorded.
    assert campus_entries(app, base, object_type="revenue_rollups") == []


def test_a_campus_row_goes_to_its_campus_and_a_global_row_to_the_global_log(app, base):
    with app.app_context(), campus_scope(base.campus_ids["antwerp"], db.session):
        learner_id = create_learner({"full_name": "Antwerp Only",
                                     "email": "only@antwerp.example"}).id
        db.session.commit()
    assert campus_entries(app, base, "antwerp", object_type="learners",
                          object_id=str(learner_id))
    assert not [e for e in campus_entries(app, base, "molenbeek", object_type="learners")
                if (e.after or {}).get("email") == "only@antwerp.example"]
    assert global_entries(app, object_type="learners") == []
    with app.app_context(), all_campuses(db.session):
        assert db.session.scalar(select(AuditEntry.campus_id).where(
            AuditEntry.object_type == "learners",
            AuditEntry.object_id == str(learner_id))) == base.campus_ids["antwerp"]


# ---- who --------------------------------------------------------------------------------------


def test_a_command_is_the_actor_of_its_changes(app, base):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "cli.made@campusflow.test", "--role", "hq_admin",
        "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    [entry] = global_entries(app, object_type="users", action=AuditAction.CREATE,
                             actor_kind=ActorKind.CLI)[-1:]
    assert entry.actor.endswith("users create")
    assert entry.after["email"] == "cli.made@campusflow.test"


def test_code_outside_a_request_names_its_actor_or_is_the_system(app, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        plain = create_learner({"full_name": "By System", "email": "system@example.org"}).id
        with acting_as("webhook:partner-sync"):
            named = create_learner({"full_name": "By Job", "email": "job@example.org"}).id
        db.session.commit()
    [system] = campus_entries(app, base, object_type="learners", object_id=str(plain))
    [job] = campus_entries(app, base, object_type="learners", object_id=str(named))
    assert (system.actor_kind, system.actor) == (ActorKind.SYSTEM, "system")
    assert (job.actor_kind, job.actor) == (ActorKind.WEBHOOK, "webhook:partner-sync")

