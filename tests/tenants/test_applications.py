"""Applications on motivation alone: applying in public, the manager's pipeline, the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.applications.services import offer_freed_seat
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import manager, staff
from tests.support.queries import count_queries
from tests.tenants.test_cohorts import bearer, enrol, make_cohort, new_course

S = ApplicationStatus


def applicant(**changes) -> dict:
    body = {"full_name": "Nadia Ouali", "email": "Nadia.Ouali@Example.org",
            "phone": "+32 470 12 34 56", "motivation": "I repair phones and want to learn "
            "how networks are attacked and defended.", "consent": True}
    body.update(changes)
    return body


def make_application(app, base, cohort_id: int, email: str, status: S = S.SUBMITTED,
                     waitlisted_at: datetime | None = None, campus: str = "molenbeek",
                     full_name: str = "Applicant") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        application = Application(
            cohort_id=cohort_id, full_name=full_name, email=email, phone="+32 2 000 00 00",
            motivation="Motivated.", consent_given_at=datetime(2026, 11, 2, tzinfo=UTC),
            status=status, waitlisted_at=waitlisted_at)
        db.session.add(application)
        db.session.commit()
        return application.id


def application_row(app, base, application_id: int, campus: str = "molenbeek") -> Application:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        application = db.session.get(Application, (base.campus_ids[campus], application_id))
        db.session.expunge(application)
        return application


def counts(app, base, campus: str = "molenbeek") -> dict[str, int]:
    """How many applications, learners and active enrolments the campus has."""
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return {
            "applications": db.session.scalar(select(func.count()).select_from(Application)),
            "learners": db.session.scalar(select(func.count()).select_from(Learner)),
            "enrolled": db.session.scalar(select(func.count()).select_from(Enrolment).where(
                Enrolment.status == EnrolmentStatus.ENROLLED)),
        }


def enrolments_of(app, base, cohort_id: int, campus: str = "molenbeek") -> list[tuple]:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return [(e.learner.email, e.status, e.application_id) for e in db.session.scalars(
            select(Enrolment).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id))]


def decide(site_, auth, application_id: int, decision: str, reason: str | None = None):
    return site_.post(f"/api/v1/applications/{application_id}/decision", headers=auth,
                      json={"decision": decision, "reason": reason})


@pytest.fixture
def molenbeek(site):
    return site("molenbeek")


@pytest.fixture
def auth(molenbeek):
    return bearer(molenbeek, manager("molenbeek"))


# --- applying (public) ------------------------------------------------------------------------


def test_anyone_applies_without_signing_in_and_gets_only_id_and_status(app, molenbeek, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications", json=applicant())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "status"} and body["status"] == "submitted"
    stored = application_row(app, base, body["id"])
    assert stored.email == "nadia.ouali@example.org" and stored.cohort_id == cohort_id
    assert stored.consent_given_at is not None and stored.learner_id is None


def test_the_application_asks_for_no_diploma_or_prerequisite(molenbeek, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications",
                              json=applicant(diploma="none"))
    assert response.status_code == 422
    assert "diploma" in response.get_json()["error"]["fields"]  # not a field we know
    without_phone = applicant()
    del without_phone["phone"]
    assert molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications",
                          json=without_phone).status_code == 201


@pytest.mark.parametrize(("changes", "field"), [
    ({"consent": False}, "consent"),
    ({"consent": None}, "consent"),
    ({"consent": "REMOVE"}, "consent"),
    ({"motivation": ""}, "motivation"),
    ({"motivation": "   \n  "}, "motivation"),
    ({"motivation": "x" * 5001}, "motivation"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "REMOVE"}, "email"),
    ({"full_name": ""}, "full_name"),
    ({"full_name": "   "}, "full_name"),
    ({"phone": "call me"}, "phone"),
])
def test_bad_application_is_422_naming_the_field_and_stores_nothing(app, molenbeek, base,
                                                                    changes, field):
    body = applicant(**changes)
    for key, value in changes.items():
        if value == "REMOVE":
            del body[key]
    before = counts(app, base)
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert counts(app, base) == before


@pytest.mark.parametrize("status", [CohortStatus.DRAFT, CohortStatus.RUNNING,
                                    CohortStatus.FINISHED, CohortStatus.CANCELLED])
def test_applying_to_a_cohort_not_open_is_409(app, molenbeek, base, status):
    cohort_id = make_cohort(app, base, status=status)
    before = counts(app, base)
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications", json=applicant())
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_open"
    assert counts(app, base) == before


def test_the_same_email_cannot_apply_twice_while_its_application_is_active(app, molenbeek,
                                                                           base, auth):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    url = f"/api/v1/cohorts/{cohort_id}/applications"
    first = molenbeek.post(url, json=applicant())
    assert first.status_code == 201
    again = molenbeek.post(url, json=applicant(email="nadia.ouali@EXAMPLE.org"))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_applied"
    other_cohort = make_cohort(app, base)
    assert molenbeek.post(f"/api/v1/cohorts/{other_cohort}/applications",
                          json=applicant()).status_code == 201
    assert decide(molenbeek, auth, first.get_json()["id"], "reject", "Not now").status_code == 200
    assert molenbeek.post(url, json=applicant()).status_code == 201  # may try again later


def test_applying_to_another_campus_cohort_through_this_host_is_404(app, molenbeek, base):
    foreign = base.owned["cohort"]["antwerp"][0]
    before = counts(app, base, "antwerp")
    response = molenbeek.post(f"/api/v1/cohorts/{foreign}/applications", json=applicant())
    assert response.status_code == 404
    assert counts(app, base, "antwerp") == before


# --- the manager's pipeline ---------------------------------------------------------------------


def test_interview_then_admission_creates_the_learner_and_the_enrolment(app, molenbeek, base,
                                                                        auth):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    application_id = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications",
                                    json=applicant()).get_json()["id"]
    before = counts(app, base)
    interview = decide(molenbeek, auth, application_id, "interview")
    assert interview.status_code == 200 and interview.get_json()["status"] == "interview"
    admitted = decide(molenbeek, auth, application_id, "admit", "Strong motivation")
    assert admitted.status_code == 200, admitted.get_json()
    body = admitted.get_json()
    assert body["status"] == "admitted" and body["decided_at"] and body["learner_id"]
    assert body["decision_reason"] == "Strong motivation"
    assert counts(app, base) == {**before, "learners": before["learners"] + 1,
                                 "enrolled": before["enrolled"] + 1}
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner = db.session.get(Learner, (base.campus_ids["molenbeek"], body["learner_id"]))
        assert (learner.full_name, learner.email, learner.phone) == (
            "Nadia Ouali", "nadia.ouali@example.org", "+32 470 12 34 56")
        assert learner.consent_given_at is not None
    assert enrolments_of(app, base, cohort_id)[-1] == ("nadia.ouali@example.org",
                                                       EnrolmentStatus.ENROLLED, application_id)


def test_admission_reuses_the_campus_learner_with_that_email(app, molenbeek, base, auth):
    first_cohort = base.owned["cohort"]["molenbeek"][0]
    second_cohort = make_cohort(app, base, course_id=new_course(app, base, "WEB-101"))
    url = "/api/v1/cohorts/{}/applications"
    one = molenbeek.post(url.format(first_cohort), json=applicant()).get_json()["id"]
    two = molenbeek.post(url.format(second_cohort),
                         json=applicant(full_name="Nadia O.")).get_json()["id"]
    before = counts(app, base)
    first = decide(molenbeek, auth, one, "admit").get_json()
    second = decide(molenbeek, auth, two, "admit").get_json()
    assert first["learner_id"] == second["learner_id"]
    assert counts(app, base)["learners"] == before["learners"] + 1
    existing = base.learner_ids["molenbeek"][0]  # learner0@molenbeek.example
    three = molenbeek.post(url.format(second_cohort),
                           json=applicant(email="LEARNER0@molenbeek.example")).get_json()["id"]
    assert decide(molenbeek, auth, three, "admit").get_json()["learner_id"] == existing


def test_the_same_email_at_another_campus_is_another_learner(app, site, base):
    for slug in ("molenbeek", "antwerp"):
        host = site(slug)
        cohort_id = base.owned["cohort"][slug][0]
        application_id = host.post(f"/api/v1/cohorts/{cohort_id}/applications",
                                   json=applicant()).get_json()["id"]
        admitted = decide(host, bearer(host, manager(slug)), application_id, "admit")
        assert admitted.status_code == 200
        with app.app_context(), campus_scope(base.campus_ids[slug], db.session):
            learner = db.session.scalar(select(Learner).where(
                Learner.email == "nadia.ouali@example.org"))
            assert learner.campus_id == base.campus_ids[slug]


def test_rejection_needs_a_reason(app, molenbeek, base, auth):
    application_id = base.owned["application"]["molenbeek"][0]
    refused = decide(molenbeek, auth, application_id, "reject", "  ")
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    assert application_row(app, base, application_id).status is S.SUBMITTED
    rejected = decide(molenbeek, auth, application_id, "reject", "Cohort is for adults")
    assert rejected.status_code == 200
    assert rejected.get_json()["decision_reason"] == "Cohort is for adults"


def test_unknown_decision_is_422(molenbeek, base, auth):
    response = decide(molenbeek, auth, base.owned["application"]["molenbeek"][0], "maybe")
    assert response.status_code == 422 and "decision" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("status", "decision"), [
    (S.INTERVIEW, "interview"),
    (S.WAITLISTED, "interview"),
    (S.WAITLISTED, "waitlist"),
    (S.ADMITTED, "admit"),
    (S.ADMITTED, "reject"),
    (S.REJECTED, "admit"),
    (S.REJECTED, "interview"),
    (S.WITHDRAWN, "admit"),
    (S.WITHDRAWN, "waitlist"),
])
def test_decisions_that_do_not_apply_are_409_and_change_nothing(app, molenbeek, base, auth,
                                                                status, decision):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    application_id = make_application(app, base, cohort_id, "someone@example.org", status)
    before = counts(app, base)
    response = decide(molenbeek, auth, application_id, decision, "A reason")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition" and status.value in error["message"]
    assert application_row(app, base, application_id).status is status
    assert counts(app, base) == before


def test_waitlisting_records_when(app, molenbeek, base, auth):
    application_id = base.owned["application"]["molenbeek"][0]
    response = decide(molenbeek, auth, application_id, "waitlist")
    assert response.status_code == 200 and response.get_json()["waitlisted_at"]
    admitted = decide(molenbeek, auth, application_id, "admit")
    assert admitted.status_code == 200 and admitted.get_json()["status"] == "admitted"


def test_admitting_into_a_full_cohort_is_409_cohort_full_and_changes_nothing(app, molenbeek,
                                                                             base, auth):
    cohort_id = make_cohort(app, base, seats=2)
    enrol(app, base, cohort_id, 2)
    application_id = make_application(app, base, cohort_id, "late@example.org", S.INTERVIEW)
    before = counts(app, base)
    response = decide(molenbeek, auth, application_id, "admit")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "cohort_full" and "full" in error["message"]
    stored = application_row(app, base, application_id)
    assert (stored.status, stored.learner_id, stored.decided_at) == (S.INTERVIEW, None, None)
    assert counts(app, base) == before
    assert decide(molenbeek, auth, application_id, "waitlist").status_code == 200


def test_admission_into_a_cancelled_cohort_is_refused(app, molenbeek, base, auth):
    cohort_id = make_cohort(app, base, status=CohortStatus.CANCELLED)
    application_id = make_application(app, base, cohort_id, "x@example.org")
    response = decide(molenbeek, auth, application_id, "admit")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "cohort_closed"
    assert application_row(app, base, application_id).status is S.SUBMITTED


# --- withdrawal and the waitlist --------------------------------------------------------------


def test_withdrawal_frees_the_seat_for_the_first_waitlisted_applicant(app, molenbeek, base,
                                                                      auth):
    cohort_id = make_cohort(app, base, seats=1)
    admitted = make_application(app, base, cohort_id, "first@example.org")
    assert decide(molenbeek, auth, admitted, "admit").status_code == 200
    # Waitlisted in this order, created in the opposite one: waitlisted_at decides.
    second = make_application(app, base, cohort_id, "second@example.org", S.WAITLISTED,
                              waitlisted_at=datetime(2026, 12, 2, tzinfo=UTC))
    first = make_application(app, base, cohort_id, "first-waiting@example.org", S.WAITLISTED,
                             waitlisted_at=datetime(2026, 12, 1, tzinfo=UTC))
    full = decide(molenbeek, auth, first, "admit")
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "cohort_full"
    response = molenbeek.post(f"/api/v1/applications/{admitted}/withdraw", headers=auth)
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    promoted = application_row(app, base, first)
    assert promoted.status is S.ADMITTED and promoted.learner_id is not None
    assert application_row(app, base, second).status is S.WAITLISTED
    assert enrolments_of(app, base, cohort_id) == [
        ("first@example.org", EnrolmentStatus.DROPPED, admitted),
        ("first-waiting@example.org", EnrolmentStatus.ENROLLED, first),
    ]


def test_withdrawing_before_admission_takes_no_seat_from_anyone(app, molenbeek, base, auth):
    cohort_id = make_cohort(app, base, seats=1)
    enrol(app, base, cohort_id, 1)
    waiting = make_application(app, base, cohort_id, "w@example.org", S.WAITLISTED,
                               waitlisted_at=datetime(2026, 12, 1, tzinfo=UTC))
    response = molenbeek.post(f"/api/v1/applications/{waiting}/withdraw", headers=auth)
    assert response.status_code == 200
    assert application_row(app, base, waiting).status is S.WITHDRAWN
    again = molenbeek.post(f"/api/v1/applications/{waiting}/withdraw", headers=auth)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"


@pytest.mark.parametrize("status", [S.REJECTED, S.WITHDRAWN])
def test_withdrawing_a_closed_application_is_409(app, molenbeek, base, auth, status):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    application_id = make_application(app, base, cohort_id, "c@example.org", status)
    response = molenbeek.post(f"/api/v1/applications/{application_id}/withdraw", headers=auth)
    assert response.status_code == 409
    assert application_row(app, base, application_id).status is status


def test_offer_freed_seat_admits_the_first_waitlisted_only_when_a_seat_is_free(app, base):
    cohort_id = make_cohort(app, base, seats=2)
    enrol(app, base, cohort_id, 2)
    later = make_application(app, base, cohort_id, "later@example.org", S.WAITLISTED,
                             waitlisted_at=datetime(2026, 12, 5, tzinfo=UTC))
    earlier = make_application(app, base, cohort_id, "earlier@example.org", S.WAITLISTED,
                               waitlisted_at=datetime(2026, 12, 1, tzinfo=UTC))
    campus_id = base.campus_ids["molenbeek"]
    with app.app_context(), campus_scope(campus_id, db.session):
        cohort = db.session.get(Cohort, (campus_id, cohort_id))
        assert offer_freed_seat(cohort) is None  # full
        dropped = db.session.scalar(select(Enrolment).where(Enrolment.cohort_id == cohort_id))
        dropped.status = EnrolmentStatus.DROPPED
        db.session.flush()
        promoted = offer_freed_seat(cohort)
        assert promoted is not None and promoted.id == earlier
        assert promoted.status is S.ADMITTED
        assert offer_freed_seat(cohort) is None  # full again
        db.session.commit()
    assert application_row(app, base, later).status is S.WAITLISTED


def test_offer_freed_seat_without_a_waitlist_returns_none(app, base):
    campus_id = base.campus_ids["molenbeek"]
    with app.app_context(), campus_scope(campus_id, db.session):
        cohort = db.session.get(Cohort, (campus_id, base.owned["cohort"]["molenbeek"][0]))
        assert offer_freed_seat(cohort) is None


# --- notes, lists, roles, isolation -----------------------------------------------------------


def test_notes_and_score_are_saved_and_validated(app, molenbeek, base, auth):
    application_id = base.owned["application"]["molenbeek"][0]
    url = f"/api/v1/applications/{application_id}"
    bad = molenbeek.patch(url, headers=auth, json={"score": 101, "notes": "Lost"})
    assert bad.status_code == 422 and "score" in bad.get_json()["error"]["fields"]
    assert application_row(app, base, application_id).notes == ""
    ok = molenbeek.patch(url, headers=auth, json={"score": 80, "notes": "Curious, persistent"})
    assert ok.status_code == 200
    assert (ok.get_json()["score"], ok.get_json()["notes"]) == (80, "Curious, persistent")
    only_notes = molenbeek.patch(url, headers=auth, json={"notes": "Called back"})
    assert only_notes.get_json()["score"] == 80
    cleared = molenbeek.patch(url, headers=auth, json={"score": None})
    assert cleared.get_json()["score"] is None and cleared.get_json()["notes"] == "Called back"


def test_list_filters_by_status_and_cohort(app, molenbeek, base, auth):
    base_cohort = base.owned["cohort"]["molenbeek"][0]
    other = make_cohort(app, base)
    waiting = make_application(app, base, other, "w@example.org", S.WAITLISTED,
                               waitlisted_at=datetime(2026, 12, 1, tzinfo=UTC))
    everything = molenbeek.get("/api/v1/applications", headers=auth).get_json()
    assert everything["total"] == 2
    assert {a["id"] for a in everything["items"]} == {waiting,
                                                      base.owned["application"]["molenbeek"][0]}
    item = everything["items"][0]
    assert item["cohort"]["course"]["code"] == "CYB-101" and "motivation" in item
    by_status = molenbeek.get("/api/v1/applications?status=waitlisted", headers=auth).get_json()
    assert [a["id"] for a in by_status["items"]] == [waiting]
    by_cohort = molenbeek.get(f"/api/v1/applications?cohort_id={base_cohort}",
                              headers=auth).get_json()
    assert [a["id"] for a in by_cohort["items"]] == [base.owned["application"]["molenbeek"][0]]
    foreign = base.owned["cohort"]["antwerp"][0]
    assert molenbeek.get(f"/api/v1/applications?cohort_id={foreign}",
                         headers=auth).get_json()["items"] == []
    assert molenbeek.get("/api/v1/applications?status=maybe", headers=auth).status_code == 422


def test_staff_reads_applications_but_cannot_decide(app, molenbeek, base):
    auth = bearer(molenbeek, staff("molenbeek"))
    application_id = base.owned["application"]["molenbeek"][0]
    assert molenbeek.get("/api/v1/applications", headers=auth).status_code == 200
    assert molenbeek.get(f"/api/v1/applications/{application_id}",
                         headers=auth).status_code == 200
    assert decide(molenbeek, auth, application_id, "admit").status_code == 403
    assert molenbeek.patch(f"/api/v1/applications/{application_id}", headers=auth,
                           json={"score": 5}).status_code == 403
    assert application_row(app, base, application_id).status is S.SUBMITTED


def test_pipeline_needs_sign_in(molenbeek, base):
    assert molenbeek.get("/api/v1/applications").status_code == 401
    application_id = base.owned["application"]["molenbeek"][0]
    assert molenbeek.post(f"/api/v1/applications/{application_id}/decision",
                          json={"decision": "admit"}).status_code == 401


def test_another_campus_application_is_404_on_this_host(app, molenbeek, base, auth):
    foreign = base.owned["application"]["antwerp"][0]
    assert molenbeek.get(f"/api/v1/applications/{foreign}", headers=auth).status_code == 404
    assert decide(molenbeek, auth, foreign, "admit").status_code == 404
    assert molenbeek.patch(f"/api/v1/applications/{foreign}", headers=auth,
                           json={"score": 1}).status_code == 404
    assert molenbeek.post(f"/api/v1/applications/{foreign}/withdraw",
                          headers=auth).status_code == 404
    assert application_row(app, base, foreign, "antwerp").status is S.SUBMITTED


def test_application_list_does_not_query_per_row(app, molenbeek, base, auth):
    def add(count: int, prefix: str) -> None:
        for i in range(count):
            # Each in its own cohort of its own course, so a lazy load per row would show.
            cohort_id = make_cohort(app, base, course_id=new_course(app, base, f"{prefix}-{i}"))
            make_application(app, base, cohort_id, f"{prefix}{i}@example.org")

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            response = molenbeek.get("/api/v1/applications", headers=auth)
        assert response.status_code == 200
        return len(statements)

    add(3, "few")
    few = measure()
    add(5, "more")
    assert measure() == few


# --- throttling of public submissions ---------------------------------------------------------


def test_public_applications_are_throttled_per_address(app, molenbeek, base, monkeypatch):
    monkeypatch.setitem(app.config, "APPLICATION_RATE_LIMIT", "3 per hour")
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    url = f"/api/v1/cohorts/{cohort_id}/applications"
    accepted = [molenbeek.post(url, json=applicant(email=f"a{i}@example.org")).status_code
                for i in range(2)]
    rejected_input = molenbeek.post(url, json=applicant(consent=False)).status_code
    assert accepted == [201, 201] and rejected_input == 422  # bad input counts as well
    before = counts(app, base)
    throttled = molenbeek.post(url, json=applicant(email="a9@example.org"))
    assert throttled.status_code == 429
    assert throttled.get_json()["error"]["code"] == "too_many_requests"
    assert counts(app, base) == before
    # The public form shares the allowance.
    form = molenbeek.post(f"/apply/{cohort_id}", data={**applicant(email="f@example.org"),
                                                        "consent": "on"})
    assert form.status_code == 429
    assert counts(app, base) == before
    # Reading is never throttled.
    assert molenbeek.get(f"/apply/{cohort_id}").status_code == 200


def test_submissions_to_no_cohort_of_this_campus_do_not_use_the_allowance(app, molenbeek, base,
                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "APPLICATION_RATE_LIMIT", "2 per hour")
    foreign = base.owned["cohort"]["antwerp"][0]
    for _ in range(4):
        assert molenbeek.post(f"/api/v1/cohorts/{foreign}/applications",
                              json=applicant()).status_code == 404
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    assert molenbeek.post(f"/api/v1/cohorts/{cohort_id}/applications",
                          json=applicant()).status_code == 201
