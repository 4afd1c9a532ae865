"""A learner's personal data (GDPR): the export, erasure that keeps every figure, consent with
its date, and partners who never see a person.

`person` gives Molenbeek's first learner a life touching every kind of record the export and the
erasure cover, each personal value carrying a recognisable text (PRIVATE_VALUES).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from billing.entities.models import PaymentProvider
from billing.impact.services import impact_funnel
from billing.invoices.models import Invoice
from billing.ledger.models import RevenueEntry, RevenueRollup
from billing.ledger.services import verify_rollups
from billing.payments.models import Order, OrderPurpose
from core.catalogue.models import Certification
from core.extensions import db
from core.sites import SiteKind
from tenants.applications.models import Application, ApplicationStatus
from tenants.applications.services import status_counts
from tenants.audit.models import AuditEntry
from tenants.coworking.models import CoachingSession, Membership
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.events.models import EventRegistration
from tenants.learners.models import Learner
from tenants.learners.privacy import ERASED_NAME, erased_email
from tenants.records.models import CertificationAward, Outcome
from tenants.scoping import all_campuses, campus_scope
from tests.billing.test_portal import PERSONAL, build_programmes
from tests.support.data import HQ, INVOICES, MARKERS, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries

CONSENT = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
LEARNER_NAME = f"{MARKERS['molenbeek']} 0"
LEARNER_EMAIL = "learner0@molenbeek.example"
PHONE = "+32 2 555 01 0"
# Every personal value of the person, in their rows of every kind (orders included).
PRIVATE_VALUES = (LEARNER_NAME, LEARNER_EMAIL, PHONE, f"{MARKERS['molenbeek']} member",
                  "member@molenbeek.example", "PRIVATE-MOTIVATION", "PRIVATE-SECOND-MOTIVATION",
                  "PRIVATE-APPLICATION-NOTE", "PRIVATE-DECISION", "PRIVATE-OUTCOME-NOTE",
                  "Proximus", "PRIVATE-COACHING-NOTE", "credly.example/PRIVATE")
# The other people of the base data, at Molenbeek and Antwerp.
OTHERS = (f"{MARKERS['molenbeek']} 1", "learner1@molenbeek.example",
          f"{MARKERS['molenbeek']} applicant", f"{MARKERS['molenbeek']} guest",
          "guest@molenbeek.example", MARKERS["antwerp"], "antwerp.example")


@dataclass(frozen=True)
class Person:
    campus_id: int
    learner_id: int
    application_ids: list[int]
    registration_id: int
    order_ids: list[int]


def foreign_learner(base) -> int:
    """An Antwerp learner id that is no Molenbeek learner's id."""
    return next(i for i in base.learner_ids["antwerp"] if i not in base.learner_ids["molenbeek"])


def _row(model, campus_id: int, row_id: int):
    return db.session.get(model, (campus_id, row_id))


@pytest.fixture
def person(app, base) -> Person:
    campus_id = base.campus_ids["molenbeek"]
    learner_id = base.learner_ids["molenbeek"][0]
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    with app.app_context(), campus_scope(campus_id, db.session):
        learner = _row(Learner, campus_id, learner_id)
        learner.consent_given_at = CONSENT
        linked = Application(
            cohort_id=cohort_id, learner_id=learner_id, full_name=LEARNER_NAME,
            email=LEARNER_EMAIL, phone=PHONE, motivation="PRIVATE-MOTIVATION",
            consent_given_at=CONSENT, status=ApplicationStatus.ADMITTED,
            decision_reason="PRIVATE-DECISION", notes="PRIVATE-APPLICATION-NOTE", score=80,
            decided_at=datetime(2026, 9, 5, tzinfo=UTC))
        unlinked = Application(  # applied again later, not (yet) linked to the learner
            cohort_id=cohort_id, full_name=LEARNER_NAME, email=LEARNER_EMAIL,
            motivation="PRIVATE-SECOND-MOTIVATION", consent_given_at=CONSENT,
            status=ApplicationStatus.WITHDRAWN)
        db.session.add_all([linked, unlinked])
        db.session.flush()
        enrolment = _row(Enrolment, campus_id, base.owned["enrolment"]["molenbeek"][0])
        enrolment.status, enrolment.completed_on = EnrolmentStatus.COMPLETED, date(2026, 10, 30)
        enrolment.application_id = linked.id
        award = _row(CertificationAward, campus_id, base.owned["award"]["molenbeek"][0])
        award.credential_url = "https://credly.example/PRIVATE/badge"
        az500 = db.session.scalar(select(Certification.id).where(
            Certification.exam_code == "AZ-500"))
        db.session.add(CertificationAward(learner_id=learner_id, certification_id=az500,
                                          awarded_on=date(2026, 11, 1)))
        _row(Outcome, campus_id, base.owned["outcome"]["molenbeek"][0]).notes = (
            "PRIVATE-OUTCOME-NOTE")
        _row(CoachingSession, campus_id, base.owned["session"]["molenbeek"][0]).notes = (
            "PRIVATE-COACHING-NOTE")
        registration = EventRegistration(event_id=base.owned["event"]["molenbeek"][0],
                                         full_name=LEARNER_NAME, email=LEARNER_EMAIL)
        db.session.add(registration)
        db.session.flush()
        fee = Order(purpose=OrderPurpose.COHORT_FEE, provider=PaymentProvider.MANUAL,
                    enrolment_id=enrolment.id, description="Course fee: CYB-101",
                    payer_name=LEARNER_NAME, payer_email=LEARNER_EMAIL, amount_minor=50000,
                    currency="EUR")
        ticket = Order(purpose=OrderPurpose.EVENT_TICKET, provider=PaymentProvider.MANUAL,
                       registration_id=registration.id, description="Ticket: meetup",
                       payer_name=LEARNER_NAME, payer_email=LEARNER_EMAIL, amount_minor=1500,
                       currency="EUR")
        db.session.add_all([fee, ticket])
        db.session.commit()
        membership_order = base.owned["order"]["molenbeek"][0]  # the base membership's order
        return Person(campus_id, learner_id, [linked.id, unlinked.id], registration.id,
                      [membership_order, fee.id, ticket.id])


@pytest.fixture
def molenbeek(site):
    client = site("molenbeek")
    assert client.sign_in(manager("molenbeek")).status_code == 302
    return client


def export(client, learner_id: int):
    return client.get(f"/api/v1/learners/{learner_id}/export")


def erase(client, learner_id: int):
    return client.post(f"/api/v1/learners/{learner_id}/erase")


# --- export -----------------------------------------------------------------------------------


def test_export_contains_the_persons_records_and_nothing_of_another_learner_or_campus(
        molenbeek, person):
    response = export(molenbeek, person.learner_id)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    data = response.get_json()
    assert data["format"] == "campusflow.personal-data.v1"
    assert data["campus"]["slug"] == "molenbeek"
    assert data["learner"].items() >= {"id": person.learner_id, "full_name": LEARNER_NAME,
                                    "email": LEARNER_EMAIL, "phone": PHONE, "erased": False}.items()
    assert data["consent"]["given"] is True
    assert data["consent"]["given_at"].startswith("2026-09-01T08:30")
    assert sorted(a["id"] for a in data["applications"]) == sorted(person.application_ids)
    assert {a["motivation"] for a in data["applications"]} == {
        "PRIVATE-MOTIVATION", "PRIVATE-SECOND-MOTIVATION"}
    assert all(a["consent_given_at"].startswith("2026-09-01") for a in data["applications"])
    assert [e["status"] for e in data["enrolments"]] == ["completed"]
    assert data["enrolments"][0]["cohort"]["course"]["code"] == "CYB-101"
    assert sorted(a["certification"]["exam_code"] for a in data["certification_awards"]) == [
        "AZ-500", "SC-900"]
    assert [o["employer"] for o in data["outcomes"]] == ["Proximus"]
    assert [m["member_email"] for m in data["coworking_memberships"]] == [
        "member@molenbeek.example"]
    assert [s["notes"] for s in data["coaching_sessions"]] == ["PRIVATE-COACHING-NOTE"]
    assert [r["id"] for r in data["event_registrations"]] == [person.registration_id]
    assert data["event_registrations"][0]["event"]["title"] == "Molenbeek tech meetup"
    # billing's orders, through the registry (tenants never imports billing)
    assert sorted(o["id"] for o in data["orders"]) == sorted(person.order_ids)
    assert {o["amount_minor"] for o in data["orders"]} == {9900, 50000, 1500}
    assert all("payment_url" not in o for o in data["orders"])
    body = response.get_data(as_text=True)
    assert [other for other in OTHERS if other in body] == []


def test_learner_without_records_exports_empty_sections_and_no_consent(molenbeek, base):
    response = export(molenbeek, base.learner_ids["molenbeek"][2])
    data = response.get_json()
    assert response.status_code == 200
    assert data["consent"] == {"given": False, "given_at": None}
    for section in ("applications", "enrolments", "certification_awards", "outcomes",
                    "coworking_memberships", "coaching_sessions", "event_registrations",
                    "orders"):
        assert data[section] == [], section


def test_download_from_the_learner_page_is_a_json_attachment_not_kept_in_caches(
        molenbeek, person):
    page = molenbeek.get(f"/learners/{person.learner_id}").get_data(as_text=True)
    link = f"/learners/{person.learner_id}/personal-data"
    assert "Download personal data (JSON)" in page and f'href="{link}"' in page
    response = molenbeek.get(link)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"personal-data-molenbeek-learner-{person.learner_id}.json" in disposition
    assert MARKERS["molenbeek"] not in disposition  # no name in a file name
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["learner"]["email"] == LEARNER_EMAIL
    assert sorted(o["id"] for o in data["orders"]) == sorted(person.order_ids)


def test_export_runs_a_fixed_number_of_queries(app, molenbeek, person, base):
    def queries() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert export(molenbeek, person.learner_id).status_code == 200
        return len(statements)

    before = queries()
    with app.app_context(), campus_scope(person.campus_id, db.session):
        for i in range(5):
            db.session.add(Application(
                cohort_id=base.owned["cohort"]["molenbeek"][0], learner_id=person.learner_id,
                full_name=LEARNER_NAME, email=LEARNER_EMAIL, motivation=f"Again {i}",
                consent_given_at=CONSENT, status=ApplicationStatus.WITHDRAWN))
            db.session.add(CoachingSession(
                membership_id=base.owned["membership"]["molenbeek"][0],
                coach_id=db.session.get(CoachingSession, (
                    person.campus_id, base.owned["session"]["molenbeek"][0])).coach_id,
                held_on=date(2026, 11, 11 + i), duration_minutes=30))
        db.session.commit()
    assert queries() == before


# --- who may, and where -----------------------------------------------------------------------


@pytest.mark.parametrize("request_of", [
    lambda client, learner_id: client.get(f"/api/v1/learners/{learner_id}/export"),
    lambda client, learner_id: client.post(f"/api/v1/learners/{learner_id}/erase"),
    lambda client, learner_id: client.get(f"/learners/{learner_id}/personal-data"),
    lambda client, learner_id: client.post(f"/learners/{learner_id}/erase",
                                           data={"confirm": "on"}),
    lambda client, learner_id: client.get(f"/learners/{learner_id}"),
], ids=["api export", "api erase", "download", "erase form", "learner page"])
def test_another_campus_learner_is_not_found_for_export_and_erase(app, molenbeek, base,
                                                                  request_of):
    foreign = foreign_learner(base)
    response = request_of(molenbeek, foreign)
    assert response.status_code == 404
    assert MARKERS["antwerp"] not in response.get_data(as_text=True)
    with app.app_context(), campus_scope(base.campus_ids["antwerp"], db.session):
        learner = db.session.get(Learner, (base.campus_ids["antwerp"], foreign))
        assert learner.full_name.startswith(MARKERS["antwerp"])


@pytest.mark.parametrize("request_of", [
    lambda client, learner_id: client.get(f"/api/v1/learners/{learner_id}/export"),
    lambda client, learner_id: client.post(f"/api/v1/learners/{learner_id}/erase"),
    lambda client, learner_id: client.get(f"/learners/{learner_id}/personal-data"),
    lambda client, learner_id: client.post(f"/learners/{learner_id}/erase",
                                           data={"confirm": "on"}),
], ids=["api export", "api erase", "download", "erase form"])
def test_staff_cannot_export_or_erase_personal_data(app, site, person, request_of):
    client = site("molenbeek")
    client.sign_in(staff("molenbeek"))
    assert request_of(client, person.learner_id).status_code == 403
    with app.app_context(), campus_scope(person.campus_id, db.session):
        assert _row(Learner, person.campus_id, person.learner_id).full_name == LEARNER_NAME


def test_staff_see_the_learner_page_and_consent_date_without_the_privacy_actions(site, person):
    client = site("molenbeek")
    client.sign_in(staff("molenbeek"))
    page = client.get(f"/learners/{person.learner_id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert LEARNER_NAME in body and "given on" in body and "2026" in body
    assert "Download personal data" not in body and "/erase" not in body


def test_hq_may_export_and_erase_on_a_campus_site(app, site, person):
    client = site("molenbeek")
    assert client.sign_in(HQ).status_code == 302
    assert export(client, person.learner_id).get_json()["learner"]["email"] == LEARNER_EMAIL
    assert erase(client, person.learner_id).status_code == 200


# --- consent ------------------------------------------------------------------------------


def test_learner_page_shows_consent_with_its_date(molenbeek, person, base):
    given = molenbeek.get(f"/learners/{person.learner_id}").get_data(as_text=True)
    assert "Consent to the processing of personal data" in given
    assert "given on 1 sept. 2026" in given  # fr_BE, the campus's locale
    missing = molenbeek.get(f"/learners/{base.learner_ids['molenbeek'][2]}")
    assert "not given" in missing.get_data(as_text=True)
    listing = molenbeek.get("/learners").get_data(as_text=True)
    assert "2026-09-01" in listing and f'href="/learners/{person.learner_id}"' in listing


def test_public_application_consent_date_reaches_the_learner_and_the_export(app, site, base,
                                                                           molenbeek):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    sent = site("molenbeek").post(f"/apply/{cohort_id}", data={
        "full_name": "Karim Benali", "email": "karim@example.org",
        "motivation": "I want to work in a SOC.", "consent": "on"})
    assert sent.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        application = db.session.scalar(select(Application).where(
            Application.email == "karim@example.org"))
        consent_at = application.consent_given_at
    assert consent_at is not None
    admitted = molenbeek.post(f"/api/v1/applications/{application.id}/decision",
                              json={"decision": "admit"})
    assert admitted.status_code == 200, admitted.get_json()
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner = db.session.scalar(select(Learner).where(Learner.email == "karim@example.org"))
        assert learner.consent_given_at == consent_at
    data = export(molenbeek, learner.id).get_json()
    assert data["consent"]["given_at"][:19] == consent_at.isoformat()[:19]
    assert data["applications"][0]["consent_given_at"][:19] == consent_at.isoformat()[:19]


# --- erasure ------------------------------------------------------------------------------


def figures(app) -> dict:
    """Counts per campus, application statuses, the impact funnel, the ledger, the rollups,
    invoices and order amounts: everything erasure must leave as it was."""
    kinds = (Learner, Application, Enrolment, CertificationAward, Outcome, Membership,
             CoachingSession, EventRegistration, Order, RevenueEntry, Invoice)
    with app.app_context():
        with all_campuses(db.session):
            result: dict = {
                model.__tablename__: sorted(db.session.execute(
                    select(model.campus_id, func.count()).group_by(model.campus_id)).all())
                for model in kinds}
            result["enrolment statuses"] = sorted(db.session.execute(
                select(Enrolment.campus_id, Enrolment.status, func.count())
                .group_by(Enrolment.campus_id, Enrolment.status)).all())
            result["ledger"] = sorted(db.session.execute(select(
                RevenueEntry.id, RevenueEntry.amount_minor, RevenueEntry.amount_eur_minor,
                RevenueEntry.memo, RevenueEntry.source_key)).all())
            result["rollups"] = sorted(db.session.execute(select(
                RevenueRollup.campus_id, RevenueRollup.month, RevenueRollup.stream,
                RevenueRollup.amount_minor, RevenueRollup.amount_eur_minor,
                RevenueRollup.entry_count)).all())
            result["invoices"] = sorted(
                (i.number, i.status.value, i.total_minor, json.dumps(i.recipient_details),
                 i.updated_at) for i in db.session.scalars(select(Invoice)))
            result["orders"] = sorted(db.session.execute(select(
                Order.id, Order.amount_minor, Order.status, Order.entry_id)).all())
            result["rollups verified"] = verify_rollups()
        funnel = impact_funnel()
        result["impact"] = (funnel.funnel, sorted(
            (str(g.key), g.cohorts, g.funnel) for g in funnel.groups))
        for campus_id, _count in result["learners"]:
            with campus_scope(campus_id, db.session):
                result[f"application statuses {campus_id}"] = status_counts()
    return result


def personal_rows(app, person: Person) -> list:
    """Every personal value left in the person's rows (orders included)."""
    with app.app_context(), campus_scope(person.campus_id, db.session):
        learner = _row(Learner, person.campus_id, person.learner_id)
        rows = [(learner.full_name, learner.email, learner.phone)]
        rows += [(a.full_name, a.email, a.phone, a.motivation, a.notes, a.decision_reason)
                 for a in db.session.scalars(select(Application).where(
                     Application.id.in_(person.application_ids)))]
        rows += [(a.credential_url,) for a in db.session.scalars(select(CertificationAward).where(
            CertificationAward.learner_id == person.learner_id))]
        rows += [(o.employer, o.notes) for o in db.session.scalars(select(Outcome).where(
            Outcome.learner_id == person.learner_id))]
        memberships = list(db.session.scalars(select(Membership).where(
            Membership.learner_id == person.learner_id)))
        rows += [(m.member_name, m.member_email) for m in memberships]
        rows += [(s.notes,) for s in db.session.scalars(select(CoachingSession).where(
            CoachingSession.membership_id.in_([m.id for m in memberships])))]
        registration = _row(EventRegistration, person.campus_id, person.registration_id)
        rows += [(registration.full_name, registration.email)]
        rows += [(o.payer_name, o.payer_email) for o in db.session.scalars(
            select(Order).where(Order.id.in_(person.order_ids)))]
    text = json.dumps(rows)
    return [value for value in PRIVATE_VALUES if value in text]


def test_erasure_anonymises_every_personal_field(app, molenbeek, person):
    assert personal_rows(app, person) == list(PRIVATE_VALUES)  # the control
    response = erase(molenbeek, person.learner_id)
    assert response.status_code == 200
    body = response.get_json()
    assert body["already_erased"] is False
    assert body["learner"].items() >= {"full_name": ERASED_NAME, "phone": None, "erased": True,
                                    "email": erased_email(person.learner_id)}.items()
    anonymised = dict(body["anonymised"])
    assert anonymised.pop("audit_log") > 0  # the person's earlier audit entries, blanked
    assert anonymised == {"learner": 1, "applications": 2, "event_registrations": 1,
                          "coworking_memberships": 1, "coaching_sessions": 1,
                          "certification_awards": 1, "outcomes": 1, "orders": 3}
    assert personal_rows(app, person) == []
    data = export(molenbeek, person.learner_id).get_json()
    assert data["learner"]["erased"] is True
    assert data["consent"]["given_at"].startswith("2026-09-01")  # kept: it identifies no one
    assert len(data["applications"]) == 2 and len(data["orders"]) == 3  # still the person's
    assert [v for v in PRIVATE_VALUES if v in json.dumps(data)] == []
    with app.app_context(), campus_scope(person.campus_id, db.session):
        outcome = db.session.scalar(select(Outcome).where(
            Outcome.learner_id == person.learner_id))
        assert outcome.kind.value == "employed"  # what the figures count stays


def test_erasure_keeps_counts_impact_ledger_and_invoices_identical(app, molenbeek, person):
    before = figures(app)
    assert before["impact"][0].completed >= 1 and before["impact"][0].positive_outcome >= 1
    assert before["rollups verified"] == []
    assert erase(molenbeek, person.learner_id).status_code == 200
    assert figures(app) == before


def test_erasure_is_idempotent(app, molenbeek, person):
    first = erase(molenbeek, person.learner_id)
    after_first = figures(app), personal_rows(app, person)
    again = erase(molenbeek, person.learner_id)
    assert again.status_code == 200
    body = again.get_json()
    assert body["already_erased"] is True
    assert set(body["anonymised"].values()) == {0}
    assert body["learner"] == first.get_json()["learner"]
    assert (figures(app), personal_rows(app, person)) == after_first


def test_erase_form_needs_the_confirmation_and_then_erases(app, molenbeek, person):
    refused = molenbeek.post(f"/learners/{person.learner_id}/erase", data={})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'aria-describedby="confirm-error"' in page and "Nothing was erased" in page
    assert personal_rows(app, person) == list(PRIVATE_VALUES)  # nothing changed
    done = molenbeek.post(f"/learners/{person.learner_id}/erase", data={"confirm": "on"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/learners/{person.learner_id}")
    assert personal_rows(app, person) == []
    page = molenbeek.get(f"/learners/{person.learner_id}").get_data(as_text=True)
    assert "personal data erased" in page and 'name="confirm"' not in page
    again = molenbeek.post(f"/learners/{person.learner_id}/erase", data={"confirm": "on"})
    assert again.status_code == 302
    assert "already been erased" in molenbeek.get(again.headers["Location"]).get_data(
        as_text=True)


def test_erased_email_is_free_for_a_new_learner(app, molenbeek, person):
    erase(molenbeek, person.learner_id)
    created = molenbeek.post("/api/v1/learners", json={"full_name": "Back Again",
                                                       "email": LEARNER_EMAIL, "consent": True})
    assert created.status_code == 201, created.get_json()
    new = created.get_json()
    assert new["id"] != person.learner_id and new["erased"] is False
    data = export(molenbeek, new["id"]).get_json()  # the new person owns none of the old rows
    assert all(data[s] == [] for s in ("applications", "event_registrations", "orders",
                                       "enrolments", "coworking_memberships"))


def test_erased_learner_cannot_be_found_by_name_email_or_phone(molenbeek, person):
    erase(molenbeek, person.learner_id)
    for term in (LEARNER_NAME, LEARNER_EMAIL, "555 01", "learner0"):
        found = molenbeek.get("/api/v1/learners", query_string={"q": term}).get_json()
        assert person.learner_id not in [item["id"] for item in found["items"]], term
        page = molenbeek.get("/learners", query_string={"q": term}).get_data(as_text=True)
        assert f'href="/learners/{person.learner_id}"' not in page, term
    listed = molenbeek.get("/api/v1/learners").get_json()["items"]
    [erased] = [item for item in listed if item["id"] == person.learner_id]
    assert erased.items() >= {"full_name": ERASED_NAME, "phone": None, "erased": True}.items()
    for term in (LEARNER_NAME, LEARNER_EMAIL):
        orders = molenbeek.get("/api/v1/orders", query_string={"q": term})
        assert orders.status_code == 200 and orders.get_json()["total"] == 0, term


def test_erased_learner_cannot_be_edited_back(app, molenbeek, person):
    erase(molenbeek, person.learner_id)
    patched = molenbeek.patch(f"/api/v1/learners/{person.learner_id}",
                              json={"full_name": LEARNER_NAME, "email": LEARNER_EMAIL})
    assert patched.status_code == 409
    assert patched.get_json()["error"]["code"] == "learner_erased"
    assert molenbeek.get(f"/learners/{person.learner_id}/edit").status_code == 409
    assert molenbeek.post(f"/learners/{person.learner_id}/edit",
                          data={"full_name": LEARNER_NAME, "email": LEARNER_EMAIL}
                          ).status_code == 409
    assert personal_rows(app, person) == []


def test_erasure_leaves_no_personal_value_in_the_audit_log(app, base, molenbeek, person):
    assert erase(molenbeek, person.learner_id).status_code == 200
    owned = {kind: base.owned[kind]["molenbeek"][:1] for kind in (
        "outcome", "membership", "session")}
    objects = {("learners", person.learner_id), ("event_registrations", person.registration_id),
               ("outcomes", owned["outcome"][0]), ("memberships", owned["membership"][0]),
               ("coaching_sessions", owned["session"][0]),
               *(("applications", i) for i in person.application_ids),
               *(("orders", i) for i in person.order_ids)}
    with app.app_context(), campus_scope(person.campus_id, db.session):
        awards = db.session.scalars(select(CertificationAward.id).where(
            CertificationAward.learner_id == person.learner_id))
        objects |= {("certification_awards", i) for i in awards}
        entries = [(e.before, e.after) for e in db.session.scalars(select(AuditEntry))
                   if (e.object_type, int(e.object_id)) in objects]
    assert entries  # the control: the log recorded the person's rows
    assert [value for value in PRIVATE_VALUES if value in json.dumps(entries)] == []


# --- partners -----------------------------------------------------------------------------


def test_no_partner_endpoint_returns_a_learners_name_or_email(app, base, site, person):
    """Every GET route of the partner site, from the URL map, with the Microsoft contact signed
    in, after learners of sponsored programmes exist: none shows a name or an e-mail."""
    programmes = build_programmes(app, base)
    own = {"number": INVOICES["molenbeek"], "agreement_id": programmes.microsoft_agreement_id}
    portal = site("partners")
    assert portal.sign_in(PARTNER_CONTACT).status_code == 302
    adapter = app.url_map.bind("localhost")
    leaks, walked = [], []
    for rule in app.url_map.iter_rules():
        kinds = getattr(app.view_functions[rule.endpoint], "site_kinds", None)
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if kinds is not None and SiteKind.PARTNERS not in kinds:
            continue
        if not rule.arguments <= own.keys():
            continue
        path = adapter.build(rule.endpoint, {name: own[name] for name in rule.arguments})
        response = portal.get(path)
        assert response.status_code < 500, path
        walked.append((path, response.status_code))
        body = response.get_data().decode("utf-8", errors="replace")
        leaks += [(path, marker) for marker in (*PERSONAL, *PRIVATE_VALUES) if marker in body]
    assert leaks == []
    ok = {path for path, status in walked if status == 200}
    assert {"/", "/impact", "/api/v1/partner/impact", "/api/v1/partner/agreements"} <= ok
    impact = portal.get("/api/v1/partner/impact").get_json()
    assert impact["funnel"]["applied"] >= 1  # the learners' data is there, as counts
