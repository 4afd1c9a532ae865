"""The public apply pages and the campus team's pipeline pages."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.cohorts.models import CohortStatus, Funding
from tenants.scoping import campus_scope
from tests.support.data import manager, staff
from tests.support.queries import count_queries
from tests.tenants.test_applications import (
    application_row,
    counts,
    enrolments_of,
    make_application,
)
from tests.tenants.test_cohorts import enrol, make_cohort, new_course

S = ApplicationStatus


def form(**changes) -> dict:
    data = {"full_name": "Karim Benali", "email": "karim@example.org", "phone": "",
            "motivation": "I want to work in a SOC.", "consent": "on"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- public pages -----------------------------------------------------------------------------


def test_public_list_shows_only_this_campus_cohorts_open_for_applications(app, site, base):
    draft = make_cohort(app, base, status=CohortStatus.DRAFT)
    paid = make_cohort(app, base, funding=Funding.PAID, price_minor=125000, seats=3)
    enrol(app, base, paid, 3)
    page = site("molenbeek").get("/apply")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Analyste en cybersécurité" in body  # the course title in the campus's locale
    own = base.owned["cohort"]["molenbeek"][0]
    assert f'href="/apply/{own}"' in body and f'href="/apply/{paid}"' in body
    assert f'href="/apply/{draft}"' not in body
    assert f'href="/apply/{base.owned["cohort"]["antwerp"][0]}"' not in body
    assert "11 seats left" in body  # 12 seats, one enrolment in the base data
    assert "Free" in body and "250,00\xa0€" in body  # fr_BE format of 1250.00 EUR
    assert "waitlist" in body  # the full one still takes applications


def test_public_list_says_what_to_do_when_nothing_is_open(app, site, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        from tenants.cohorts.models import Cohort

        db.session.get(Cohort, (base.campus_ids["molenbeek"],
                                base.owned["cohort"]["molenbeek"][0])).status = (
            CohortStatus.RUNNING)
        db.session.commit()
    body = site("molenbeek").get("/apply").get_data(as_text=True)
    assert "No cohort is open for applications right now" in body


def test_public_form_asks_motivation_and_consent_but_no_diploma(site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = site("molenbeek").get(f"/apply/{cohort_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True).lower()
    for name in ("full_name", "email", "phone", "motivation", "consent"):
        assert f'name="{name}"' in page
    assert "<textarea" in page and 'type="checkbox"' in page
    assert "diploma" not in page.replace("no diploma", "")
    assert "prerequisite" not in page.replace("no prerequisite", "")


def test_anonymous_visitor_applies_through_the_form(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/apply/{cohort_id}", data=form(email="Karim@Example.org"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/apply/{cohort_id}/received")
    received = molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    assert "We received your application" in received
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        stored = db.session.scalar(select(Application).where(
            Application.email == "karim@example.org"))
        assert stored.status is S.SUBMITTED and stored.phone is None


def test_invalid_public_form_marks_the_fields_keeps_input_and_stores_nothing(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    before = counts(app, base)
    response = site("molenbeek").post(f"/apply/{cohort_id}", data=form(
        email="nope", motivation="   ", consent=None, full_name="Kept Name"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("email", "motivation", "consent"):
        assert f'aria-describedby="{field}-error"' in page
    assert 'value="Kept Name"' in page
    assert counts(app, base) == before


def test_a_second_active_application_is_refused_on_the_form(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    assert molenbeek.post(f"/apply/{cohort_id}", data=form()).status_code == 302
    again = molenbeek.post(f"/apply/{cohort_id}", data=form())
    assert again.status_code == 409
    assert "Already applied to this cohort." in again.get_data(as_text=True)


def test_public_form_of_a_cohort_not_open_is_409(app, site, base):
    draft = make_cohort(app, base, status=CohortStatus.DRAFT)
    molenbeek = site("molenbeek")
    assert molenbeek.get(f"/apply/{draft}").status_code == 409
    before = counts(app, base)
    assert molenbeek.post(f"/apply/{draft}", data=form()).status_code == 409
    assert counts(app, base) == before


def test_another_campus_cohort_on_this_host_is_404_on_the_public_pages(app, site, base):
    foreign = base.owned["cohort"]["antwerp"][0]
    molenbeek = site("molenbeek")
    before = counts(app, base, "antwerp")
    assert molenbeek.get(f"/apply/{foreign}").status_code == 404
    assert molenbeek.post(f"/apply/{foreign}", data=form()).status_code == 404
    assert molenbeek.get(f"/apply/{foreign}/received").status_code == 404
    assert counts(app, base, "antwerp") == before


def test_apply_pages_exist_on_campus_sites_only(site, base):
    for subdomain in (None, "hq", "partners"):
        assert site(subdomain).get("/apply").status_code == 404


def test_public_list_does_not_query_per_row(app, site, base):
    molenbeek = site("molenbeek")

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert molenbeek.get("/apply").status_code == 200
        return len(statements)

    for i in range(2):
        make_cohort(app, base, course_id=new_course(app, base, f"P-{i}"))
    few = measure()
    for i in range(5):
        make_cohort(app, base, course_id=new_course(app, base, f"Q-{i}"))
    assert measure() == few


# --- the pipeline pages -----------------------------------------------------------------------


def test_pipeline_counts_filters_and_shows_each_application(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    make_application(app, base, cohort_id, "w@example.org", S.WAITLISTED,
                     waitlisted_at=datetime(2026, 12, 1, tzinfo=UTC), full_name="Wanda Waits")
    other = make_cohort(app, base)
    make_application(app, base, other, "o@example.org", full_name="Omar Other")
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    everything = molenbeek.get("/applications").get_data(as_text=True)
    assert "Wanda Waits" in everything and "Omar Other" in everything
    assert "Submitted</a>: 2" in everything and "Waitlisted</a>: 1" in everything
    waiting = molenbeek.get("/applications?status=waitlisted").get_data(as_text=True)
    assert "Wanda Waits" in waiting and "Omar Other" not in waiting
    per_cohort = molenbeek.get(f"/applications?cohort_id={other}").get_data(as_text=True)
    assert "Omar Other" in per_cohort and "Wanda Waits" not in per_cohort
    assert "Submitted</a>: 1" in per_cohort
    foreign = base.owned["cohort"]["antwerp"][0]
    assert molenbeek.get(f"/applications?cohort_id={foreign}").status_code == 404


def test_staff_sees_an_application_without_decision_forms(site, base):
    application_id = base.owned["application"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    page = molenbeek.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "I want to learn." in page
    assert 'name="decision"' not in page
    assert molenbeek.post(f"/applications/{application_id}/decision",
                          data={"decision": "admit"}).status_code == 403


def test_manager_decides_from_the_page(app, site, base):
    application_id = base.owned["application"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    page = molenbeek.get(f"/applications/{application_id}").get_data(as_text=True)
    assert 'value="interview"' in page and 'value="admit"' in page
    response = molenbeek.post(f"/applications/{application_id}/decision",
                              data={"decision": "interview", "reason": ""})
    assert response.status_code == 302
    assert application_row(app, base, application_id).status is S.INTERVIEW
    shown = molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    assert "Decision recorded." in shown
    assert 'value="interview"' not in shown  # no longer offered


def test_rejecting_without_a_reason_marks_the_reason_field(app, site, base):
    application_id = base.owned["application"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    response = molenbeek.post(f"/applications/{application_id}/decision",
                              data={"decision": "reject", "reason": ""})
    assert response.status_code == 422
    assert 'aria-describedby="reason-error"' in response.get_data(as_text=True)
    assert application_row(app, base, application_id).status is S.SUBMITTED


def test_admitting_into_a_full_cohort_from_the_page_is_409_with_the_reason(app, site, base):
    cohort_id = make_cohort(app, base, seats=1)
    enrol(app, base, cohort_id, 1)
    application_id = make_application(app, base, cohort_id, "late@example.org")
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    before = counts(app, base)
    response = molenbeek.post(f"/applications/{application_id}/decision",
                              data={"decision": "admit"})
    assert response.status_code == 409
    assert "The cohort is full" in response.get_data(as_text=True)
    assert counts(app, base) == before


def test_notes_form_validates_the_score(app, site, base):
    application_id = base.owned["application"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    bad = molenbeek.post(f"/applications/{application_id}/notes",
                         data={"notes": "Keep me", "score": "140"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'aria-describedby="score-error"' in page and "Keep me" in page
    assert application_row(app, base, application_id).notes == ""
    ok = molenbeek.post(f"/applications/{application_id}/notes",
                        data={"notes": "Good call", "score": "75"})
    assert ok.status_code == 302
    stored = application_row(app, base, application_id)
    assert (stored.notes, stored.score) == ("Good call", 75)


def test_withdrawing_from_the_page_offers_the_seat_to_the_waitlist(app, site, base):
    cohort_id = make_cohort(app, base, seats=1)
    admitted = make_application(app, base, cohort_id, "in@example.org", full_name="In Seat")
    waiting = make_application(app, base, cohort_id, "next@example.org", S.WAITLISTED,
                               waitlisted_at=datetime(2026, 12, 1, tzinfo=UTC),
                               full_name="Next Inline")
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.post(f"/applications/{admitted}/decision",
                          data={"decision": "admit"}).status_code == 302
    response = molenbeek.post(f"/applications/{admitted}/withdraw")
    assert response.status_code == 302
    page = molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    assert "The freed seat went to Next Inline" in page
    assert application_row(app, base, waiting).status is S.ADMITTED
    assert [e[0] for e in enrolments_of(app, base, cohort_id)] == ["in@example.org",
                                                                   "next@example.org"]


def test_another_campus_application_is_404_on_the_pages(app, site, base):
    foreign = base.owned["application"]["antwerp"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get(f"/applications/{foreign}").status_code == 404
    assert molenbeek.post(f"/applications/{foreign}/decision",
                          data={"decision": "admit"}).status_code == 404
    assert molenbeek.post(f"/applications/{foreign}/withdraw").status_code == 404
    assert application_row(app, base, foreign, "antwerp").status is S.SUBMITTED


def test_pipeline_page_does_not_query_per_row(app, site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))

    def add(count: int, prefix: str) -> None:
        for i in range(count):
            cohort_id = make_cohort(app, base, course_id=new_course(app, base, f"{prefix}-{i}"))
            make_application(app, base, cohort_id, f"{prefix}{i}@example.org")

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert molenbeek.get("/applications").status_code == 200
        return len(statements)

    add(2, "few")
    few = measure()
    add(5, "more")
    assert measure() == few


def test_received_page_does_not_reveal_a_draft_cohort(app, site, base):
    draft = make_cohort(app, base, status=CohortStatus.DRAFT)
    assert site("molenbeek").get(f"/apply/{draft}/received").status_code == 404
