"""The enrolment list page: filters, attendance, complete and drop forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tenants.applications.models import ApplicationStatus
from tenants.cohorts.models import CohortStatus
from tenants.enrolments.models import EnrolmentStatus
from tests.support.data import MARKERS, manager, staff
from tests.support.queries import count_queries
from tests.tenants.test_enrolments import (
    ENROLLED,
    add_cohort,
    add_learner,
    add_waitlisted,
    application_status,
    campus_today,
    enrol,
    enrolment_state,
    foreign_id,
    running_enrolment,
    sql_engine,
)


def signed_in(site, email: str, slug: str = "molenbeek"):
    client = site(slug)
    assert client.sign_in(email).status_code == 302
    return client


def test_list_page_shows_own_campus_enrolments_with_forms(app, site, base):
    enrolment_id = running_enrolment(app, base)
    page = signed_in(site, manager("molenbeek")).get("/enrolments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert MARKERS["molenbeek"] in html and MARKERS["antwerp"] not in html
    for action in ("attendance", "complete", "drop"):
        assert f'action="/enrolments/{enrolment_id}/{action}' in html
    # The page's own forms: the header's language switcher is checked by its Origin instead
    # (core/i18n.py, tests/core/test_i18n.py).
    main = html[html.index("<main"):]
    forms = re.findall(r"<form method=\"post\".*?</form>", main, re.S)
    assert forms and all('name="csrf_token"' in form for form in forms)
    assert f'href="/learners/{base.learner_ids["molenbeek"][0]}/record"' in html


def test_no_complete_form_before_the_cohort_starts(app, site, base):
    cohort_id = add_cohort(app, base, starts_on=campus_today() + timedelta(days=20))
    enrolment_id = enrol(app, base, cohort_id, base.learner_ids["molenbeek"][1])
    html = signed_in(site, manager("molenbeek")).get("/enrolments").get_data(as_text=True)
    assert f"/enrolments/{enrolment_id}/complete" not in html
    assert f"/enrolments/{enrolment_id}/drop" in html
    assert "Can be completed from" in html


def test_enrolments_link_is_in_the_campus_navigation(site, base):
    html = signed_in(site, staff("molenbeek")).get("/").get_data(as_text=True)
    assert 'href="/enrolments"' in html


def test_staff_sees_the_attendance_form_but_no_complete_or_drop(site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    html = molenbeek.get("/enrolments").get_data(as_text=True)
    enrolment_id = base.owned["enrolment"]["molenbeek"][0]
    assert f"/enrolments/{enrolment_id}/attendance" in html
    assert "/complete" not in html and "/drop" not in html
    assert molenbeek.post(f"/enrolments/{enrolment_id}/complete", data={}).status_code == 403
    assert molenbeek.post(f"/enrolments/{enrolment_id}/drop").status_code == 403


def test_list_page_filters_by_cohort_and_status(app, site, base):
    cohort_id = add_cohort(app, base)
    learner_id = add_learner(app, base, "Filtered Person")
    enrol(app, base, cohort_id, learner_id, status=EnrolmentStatus.COMPLETED,
          completed_on=campus_today() - timedelta(days=1))
    molenbeek = signed_in(site, manager("molenbeek"))
    by_cohort = molenbeek.get(f"/enrolments?cohort_id={cohort_id}").get_data(as_text=True)
    assert "Filtered Person" in by_cohort and MARKERS["molenbeek"] not in by_cohort
    enrolled = molenbeek.get("/enrolments?status=enrolled").get_data(as_text=True)
    assert "Filtered Person" not in enrolled and MARKERS["molenbeek"] in enrolled
    empty = molenbeek.get(f"/enrolments?cohort_id={cohort_id}&status=dropped")
    assert "No enrolment matches these filters." in empty.get_data(as_text=True)


def test_list_page_searches_and_paginates_keeping_the_filters(app, site, base):
    cohort_id = add_cohort(app, base)
    for i in range(27):
        enrol(app, base, cohort_id, add_learner(app, base, f"Paged Person {i:02d}"))
    molenbeek = signed_in(site, manager("molenbeek"))
    first = molenbeek.get(f"/enrolments?cohort_id={cohort_id}").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count('<tr id="enrolment-') == 25
    assert f"/enrolments?page=2&amp;cohort_id={cohort_id}" in first
    second = molenbeek.get(f"/enrolments?cohort_id={cohort_id}&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and second.count('<tr id="enrolment-') == 2
    found = molenbeek.get("/enrolments?q=person 07").get_data(as_text=True)
    assert found.count('<tr id="enrolment-') == 1 and "Paged Person 07" in found
    assert "No enrolment matches" in molenbeek.get("/enrolments?q=%25").get_data(as_text=True)


def test_bad_filter_is_shown_on_its_input(site, base):
    response = signed_in(site, manager("molenbeek")).get("/enrolments?status=finished")
    assert response.status_code == 422
    assert 'aria-describedby="filter-status-error"' in response.get_data(as_text=True)


def test_list_page_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    engine = sql_engine(app)

    def measure() -> int:
        with count_queries(engine) as statements:
            assert molenbeek.get("/enrolments").status_code == 200
        return len(statements)

    before = measure()
    cohort_id = add_cohort(app, base)
    for i in range(5):
        enrol(app, base, cohort_id, add_learner(app, base, f"Paged Learner {i}"))
    assert measure() == before


def test_staff_records_attendance_from_the_list(app, site, base):
    enrolment_id = base.owned["enrolment"]["molenbeek"][0]
    molenbeek = signed_in(site, staff("molenbeek"))
    response = molenbeek.post(f"/enrolments/{enrolment_id}/attendance?status=enrolled",
                              data={"attendance_percent": "70"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/enrolments?status=enrolled")
    assert enrolment_state(app, base, enrolment_id)[1] == 70
    assert "Attendance of" in molenbeek.get("/enrolments").get_data(as_text=True)


def test_bad_attendance_on_the_form_is_422_keeps_the_value_and_saves_nothing(app, site, base):
    enrolment_id = base.owned["enrolment"]["molenbeek"][0]
    molenbeek = signed_in(site, staff("molenbeek"))
    response = molenbeek.post(f"/enrolments/{enrolment_id}/attendance",
                              data={"attendance_percent": "140"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'aria-describedby="attendance-{enrolment_id}-attendance_percent-error"' in html
    assert 'value="140"' in html
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


def test_manager_completes_from_the_list(app, site, base):
    enrolment_id = running_enrolment(app, base)
    day = campus_today() - timedelta(days=2)
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/enrolments/{enrolment_id}/complete",
                              data={"completed_on": day.isoformat()})
    assert response.status_code == 302
    assert enrolment_state(app, base, enrolment_id)[:3] == (EnrolmentStatus.COMPLETED, None, day)
    assert "completed the course" in molenbeek.get("/enrolments").get_data(as_text=True)


def test_future_completion_date_on_the_form_is_422_on_the_row(app, site, base):
    enrolment_id = running_enrolment(app, base)
    day = (campus_today() + timedelta(days=2)).isoformat()
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/enrolments/{enrolment_id}/complete", data={"completed_on": day})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'aria-describedby="complete-{enrolment_id}-completed_on-error"' in html
    assert f'value="{day}"' in html and "cannot be in the future" in html
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


def test_completing_a_dropped_enrolment_on_the_form_is_409_with_the_reason(app, site, base):
    enrolment_id = running_enrolment(app, base, status=EnrolmentStatus.DROPPED,
                                     dropped_at=datetime.now(UTC))
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/enrolments/{enrolment_id}/complete", data={"completed_on": ""})
    assert response.status_code == 409
    assert "was dropped, so it cannot be completed" in response.get_data(as_text=True)
    assert enrolment_state(app, base, enrolment_id)[0] is EnrolmentStatus.DROPPED


def test_manager_drops_from_the_list_and_the_waitlist_gets_the_seat(app, site, base):
    cohort_id = add_cohort(app, base, seats=1, status=CohortStatus.OPEN)
    enrolment_id = enrol(app, base, cohort_id, base.learner_ids["molenbeek"][2])
    waiting = add_waitlisted(app, base, cohort_id, "Waiting Person", minutes_ago=10)
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/enrolments/{enrolment_id}/drop")
    assert response.status_code == 302
    assert enrolment_state(app, base, enrolment_id)[0] is EnrolmentStatus.DROPPED
    assert application_status(app, base, waiting) is ApplicationStatus.ADMITTED
    html = molenbeek.get("/enrolments").get_data(as_text=True)
    assert "was dropped from the cohort" in html
    assert "The freed seat was offered to Waiting Person" in html


def test_another_campus_enrolment_is_404_on_every_form(app, site, base):
    antwerp_enrolment = foreign_id(base, "enrolment")
    before = enrolment_state(app, base, antwerp_enrolment, "antwerp")
    molenbeek = signed_in(site, manager("molenbeek"))
    for action, data in (("attendance", {"attendance_percent": "5"}), ("complete", {}),
                         ("drop", {})):
        assert molenbeek.post(f"/enrolments/{antwerp_enrolment}/{action}",
                              data=data).status_code == 404
    assert enrolment_state(app, base, antwerp_enrolment, "antwerp") == before
