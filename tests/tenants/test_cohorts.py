"""Cohorts: scheduling a catalogue course at a campus, its rules, its status and its pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.catalogue.models import Course, CourseLevel
from core.database import utcnow
from core.extensions import db
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import manager, staff
from tests.support.queries import count_queries

# --- helpers shared with the application tests --------------------------------------------------


def bearer(site, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.token(email)}"}


def make_cohort(app, base, campus: str = "molenbeek", **fields) -> int:
    """A cohort of the base course at `campus`, open with 12 seats unless told otherwise."""
    values = {"course_id": base.catalogue["course"][0], "starts_on": date(2027, 3, 1),
              "ends_on": date(2027, 8, 31), "schedule": "Mon-Fri", "seats": 12,
              "language": "fr", "price_minor": 0, "currency": "EUR", "funding": Funding.FREE,
              "status": CohortStatus.OPEN, **fields}
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        cohort = Cohort(**values)
        db.session.add(cohort)
        db.session.commit()
        return cohort.id


def enrol(app, base, cohort_id: int, count: int, campus: str = "molenbeek",
          prefix: str = "filler") -> None:
    """`count` new learners enrolled in the cohort (they take seats)."""
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        for i in range(count):
            learner = Learner(full_name=f"{prefix} {i}", email=f"{prefix}{i}.{cohort_id}@x.example")
            db.session.add(learner)
            db.session.flush()
            db.session.add(Enrolment(cohort_id=cohort_id, learner_id=learner.id,
                                     status=EnrolmentStatus.ENROLLED))
        db.session.commit()


def cohort_row(app, base, cohort_id: int, campus: str = "molenbeek") -> Cohort:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        cohort = db.session.get(Cohort, (base.campus_ids[campus], cohort_id))
        db.session.expunge(cohort)
        return cohort


def cohort_count(app, base, campus: str = "molenbeek") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return db.session.scalar(select(func.count()).select_from(Cohort))


def new_course(app, base, code: str, retired: bool = False) -> int:
    """Another catalogue course (global), live unless `retired`."""
    with app.app_context():
        live = db.session.get(Course, base.catalogue["course"][0])
        course = Course(code=code, track_id=live.track_id, hours=10,
                        level=CourseLevel.BEGINNER, title_en=f"Course {code}",
                        retired_at=utcnow() if retired else None)
        db.session.add(course)
        db.session.commit()
        return course.id


def retired_course(app, base) -> int:
    return new_course(app, base, "OLD-001", retired=True)


def valid_body(base, **changes) -> dict:
    body = {"course_id": base.catalogue["course"][0], "starts_on": "2027-09-01",
            "ends_on": "2028-02-28", "schedule": "Tue-Thu 18:00-21:00", "seats": 16,
            "language": "nl", "price_minor": 0, "funding": "free"}
    body.update(changes)
    return body


# --- creating and changing cohorts (API) --------------------------------------------------------


def test_manager_creates_a_draft_cohort_priced_in_the_campus_currency(site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    response = molenbeek.post("/api/v1/cohorts", headers=auth,
                              json=valid_body(base, funding="paid", price_minor=150000))
    assert response.status_code == 201, response.get_json()
    cohort = response.get_json()
    assert cohort["status"] == "draft" and cohort["currency"] == "EUR"
    assert cohort["price_minor"] == 150000 and cohort["seats_taken"] == 0
    assert cohort["course"]["code"] == "CYB-101" and cohort["course"]["title"]
    assert set(cohort) == {"id", "course", "starts_on", "ends_on", "schedule", "seats",
                           "seats_taken", "language", "price_minor", "currency", "funding",
                           "sponsor_id", "status"}


def test_currency_is_never_taken_from_input(app, site, base):
    molenbeek = site("molenbeek")
    before = cohort_count(app, base)
    response = molenbeek.post("/api/v1/cohorts", headers=bearer(molenbeek, manager("molenbeek")),
                              json=valid_body(base, currency="USD"))
    assert response.status_code == 422
    assert "currency" in response.get_json()["error"]["fields"]
    assert cohort_count(app, base) == before


def test_sponsored_cohort_names_an_existing_partner(site, base):
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/cohorts", headers=bearer(molenbeek, manager("molenbeek")),
                              json=valid_body(base, funding="sponsored",
                                              sponsor_id=base.partner_id))
    assert response.status_code == 201
    assert response.get_json()["sponsor_id"] == base.partner_id
    assert response.get_json()["funding"] == "sponsored"


@pytest.mark.parametrize(("changes", "field"), [
    ({"ends_on": "2027-08-31"}, "ends_on"),  # before starts_on
    ({"seats": 0}, "seats"),
    ({"seats": -3}, "seats"),
    ({"language": "de"}, "language"),
    ({"price_minor": -1}, "price_minor"),
    ({"funding": "free", "price_minor": 500}, "price_minor"),
    ({"funding": "paid", "price_minor": 0}, "price_minor"),
    ({"funding": "sponsored"}, "sponsor_id"),
    ({"funding": "sponsored", "sponsor_id": 999999}, "sponsor_id"),
    ({"funding": "sponsored", "sponsor_id": "PARTNER", "price_minor": 100}, "price_minor"),
    ({"funding": "free", "sponsor_id": "PARTNER"}, "sponsor_id"),
    ({"funding": "bartered"}, "funding"),
    ({"course_id": 999999}, "course_id"),
    ({"course_id": None}, "course_id"),
    ({"course_id": "RETIRED"}, "course_id"),
    ({"starts_on": "not a date"}, "starts_on"),
])
def test_bad_cohort_input_is_422_naming_the_field_and_stores_nothing(app, site, base, changes,
                                                                     field):
    if changes.get("course_id") == "RETIRED":
        changes = {"course_id": retired_course(app, base)}
    if changes.get("sponsor_id") == "PARTNER":
        changes = {**changes, "sponsor_id": base.partner_id}
    molenbeek = site("molenbeek")
    before = cohort_count(app, base)
    response = molenbeek.post("/api/v1/cohorts", headers=bearer(molenbeek, manager("molenbeek")),
                              json=valid_body(base, **changes))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert field in error["fields"], error
    assert error["message"]
    assert cohort_count(app, base) == before


def test_patch_checks_the_dates_against_the_stored_ones(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/cohorts/{cohort_id}",
                               headers=bearer(molenbeek, manager("molenbeek")),
                               json={"ends_on": "2026-12-31"})  # starts on 2027-01-11
    assert response.status_code == 422
    assert "ends_on" in response.get_json()["error"]["fields"]
    assert cohort_row(app, base, cohort_id).ends_on == date(2027, 6, 30)


def test_patch_changes_an_open_cohort(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/cohorts/{cohort_id}",
                               headers=bearer(molenbeek, manager("molenbeek")),
                               json={"seats": 20, "schedule": "Evenings"})
    assert response.status_code == 200
    assert response.get_json()["seats"] == 20
    row = cohort_row(app, base, cohort_id)
    assert (row.seats, row.schedule) == (20, "Evenings")


def test_seats_cannot_drop_below_the_seats_taken(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]  # one enrolment in the base data
    enrol(app, base, cohort_id, 2)
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    refused = molenbeek.patch(f"/api/v1/cohorts/{cohort_id}", headers=auth, json={"seats": 2})
    assert refused.status_code == 422
    assert "3" in refused.get_json()["error"]["fields"]["seats"][0]
    assert cohort_row(app, base, cohort_id).seats == 12
    accepted = molenbeek.patch(f"/api/v1/cohorts/{cohort_id}", headers=auth, json={"seats": 3})
    assert accepted.status_code == 200 and accepted.get_json()["seats_taken"] == 3


def test_dropped_enrolments_do_not_take_seats(app, site, base):
    cohort_id = make_cohort(app, base, seats=5)
    enrol(app, base, cohort_id, 3)
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        first = db.session.scalar(select(Enrolment).where(Enrolment.cohort_id == cohort_id))
        first.status = EnrolmentStatus.DROPPED
        db.session.commit()
    molenbeek = site("molenbeek")
    shown = molenbeek.get(f"/api/v1/cohorts/{cohort_id}",
                          headers=bearer(molenbeek, manager("molenbeek")))
    assert shown.get_json()["seats_taken"] == 2


def test_a_running_cohort_can_no_longer_be_changed(app, site, base):
    cohort_id = make_cohort(app, base, status=CohortStatus.RUNNING)
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/cohorts/{cohort_id}",
                               headers=bearer(molenbeek, manager("molenbeek")),
                               json={"seats": 30})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "not_editable" and "running" in error["message"]
    assert cohort_row(app, base, cohort_id).seats == 12


def test_the_course_of_an_open_cohort_is_fixed(app, site, base):
    other = retired_course(app, base)
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/cohorts/{cohort_id}",
                               headers=bearer(molenbeek, manager("molenbeek")),
                               json={"course_id": other})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_editable"
    assert cohort_row(app, base, cohort_id).course_id == base.catalogue["course"][0]


def test_staff_reads_cohorts_but_cannot_schedule_or_change_them(site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    assert molenbeek.get("/api/v1/cohorts", headers=auth).status_code == 200
    assert molenbeek.post("/api/v1/cohorts", headers=auth,
                          json=valid_body(base)).status_code == 403
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    assert molenbeek.post(f"/api/v1/cohorts/{cohort_id}/transition", headers=auth,
                          json={"status": "running"}).status_code == 403


# --- status transitions ---------------------------------------------------------------------


@pytest.mark.parametrize(("start", "path"), [
    (CohortStatus.DRAFT, ["open", "running", "finished"]),
    (CohortStatus.DRAFT, ["cancelled"]),
    (CohortStatus.OPEN, ["cancelled"]),
    (CohortStatus.RUNNING, ["cancelled"]),
])
def test_allowed_transitions_move_the_cohort(app, site, base, start, path):
    cohort_id = make_cohort(app, base, status=start)
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    for status in path:
        response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/transition", headers=auth,
                                  json={"status": status})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == status
    assert cohort_row(app, base, cohort_id).status.value == path[-1]


@pytest.mark.parametrize(("start", "target"), [
    (CohortStatus.DRAFT, "running"),
    (CohortStatus.DRAFT, "finished"),
    (CohortStatus.DRAFT, "draft"),
    (CohortStatus.OPEN, "draft"),
    (CohortStatus.OPEN, "finished"),
    (CohortStatus.OPEN, "open"),
    (CohortStatus.RUNNING, "open"),
    (CohortStatus.RUNNING, "draft"),
    (CohortStatus.FINISHED, "running"),
    (CohortStatus.FINISHED, "cancelled"),
    (CohortStatus.CANCELLED, "open"),
    (CohortStatus.CANCELLED, "draft"),
])
def test_other_transitions_are_refused_with_409_and_the_reason(app, site, base, start, target):
    cohort_id = make_cohort(app, base, status=start)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/transition",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"status": target})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition"
    assert start.value in error["message"]
    assert cohort_row(app, base, cohort_id).status is start


def test_unknown_status_is_422(site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/transition",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"status": "paused"})
    assert response.status_code == 422 and "status" in response.get_json()["error"]["fields"]


def test_a_cohort_of_a_course_retired_since_cannot_open(app, site, base):
    cohort_id = make_cohort(app, base, status=CohortStatus.DRAFT,
                            course_id=retired_course(app, base))
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/cohorts/{cohort_id}/transition",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"status": "open"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "course_retired"
    assert cohort_row(app, base, cohort_id).status is CohortStatus.DRAFT


# --- lists and isolation ----------------------------------------------------------------------


def test_list_filters_by_status_and_start_dates(app, site, base):
    draft = make_cohort(app, base, status=CohortStatus.DRAFT, starts_on=date(2028, 1, 10),
                        ends_on=date(2028, 5, 1))
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    drafts = molenbeek.get("/api/v1/cohorts?status=draft", headers=auth).get_json()
    assert [c["id"] for c in drafts["items"]] == [draft]
    window = molenbeek.get("/api/v1/cohorts?from=2027-12-01&to=2028-02-01", headers=auth)
    assert [c["id"] for c in window.get_json()["items"]] == [draft]
    everything = molenbeek.get("/api/v1/cohorts", headers=auth).get_json()
    ids = [c["id"] for c in everything["items"]]
    assert set(ids) == {draft, base.owned["cohort"]["molenbeek"][0]}
    assert base.owned["cohort"]["antwerp"][0] not in ids
    assert molenbeek.get("/api/v1/cohorts?status=paused", headers=auth).status_code == 422
    assert molenbeek.get("/api/v1/cohorts?from=soon", headers=auth).status_code == 422


def test_list_puts_current_and_upcoming_cohorts_first(app, site, base):
    today = date.today()
    past = make_cohort(app, base, status=CohortStatus.FINISHED,
                       starts_on=today - timedelta(days=300), ends_on=today - timedelta(days=30))
    soon = make_cohort(app, base, starts_on=today + timedelta(days=10),
                       ends_on=today + timedelta(days=100))
    molenbeek = site("molenbeek")
    items = molenbeek.get("/api/v1/cohorts", headers=bearer(molenbeek, manager("molenbeek")))
    ids = [c["id"] for c in items.get_json()["items"]]
    assert ids.index(soon) < ids.index(base.owned["cohort"]["molenbeek"][0]) < ids.index(past)


def test_another_campus_cohort_is_404_on_this_host(app, site, base):
    foreign = base.owned["cohort"]["antwerp"][0]
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    assert molenbeek.get(f"/api/v1/cohorts/{foreign}", headers=auth).status_code == 404
    assert molenbeek.patch(f"/api/v1/cohorts/{foreign}", headers=auth,
                           json={"seats": 99}).status_code == 404
    assert molenbeek.post(f"/api/v1/cohorts/{foreign}/transition", headers=auth,
                          json={"status": "running"}).status_code == 404
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get(f"/cohorts/{foreign}").status_code == 404
    assert molenbeek.get(f"/cohorts/{foreign}/edit").status_code == 404
    assert molenbeek.post(f"/cohorts/{foreign}/transition",
                          data={"status": "running"}).status_code == 404
    row = cohort_row(app, base, foreign, "antwerp")
    assert (row.seats, row.status) == (12, CohortStatus.OPEN)


def _count_statements(app, request) -> int:
    with app.app_context(), count_queries(db.engine) as statements:
        response = request()
    assert response.status_code == 200
    return len(statements)


def test_cohort_lists_do_not_query_per_row(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    molenbeek.sign_in(manager("molenbeek"))
    # Each cohort of its own course, so that a lazy load per row would show.
    for i in range(3):
        cohort_id = make_cohort(app, base, course_id=new_course(app, base, f"A-{i}"))
        enrol(app, base, cohort_id, 2, prefix=f"a{i}")

    def measure() -> tuple[int, int]:
        return (_count_statements(app, lambda: molenbeek.get("/api/v1/cohorts", headers=auth)),
                _count_statements(app, lambda: molenbeek.get("/cohorts")))

    few = measure()
    for i in range(5):
        cohort_id = make_cohort(app, base, status=CohortStatus.DRAFT,
                                course_id=new_course(app, base, f"B-{i}"))
        enrol(app, base, cohort_id, 1, prefix=f"b{i}")
    many = measure()
    assert many == few
    page = molenbeek.get("/cohorts").get_data(as_text=True)
    assert page.count("<tr>") == 10  # header + 9 cohorts


# --- HTML pages -------------------------------------------------------------------------------


def form_data(base, **changes) -> dict:
    data = {"course_id": str(base.catalogue["course"][0]), "starts_on": "2027-10-04",
            "ends_on": "2028-03-31", "schedule": "Mon-Fri", "seats": "14", "language": "fr",
            "funding": "paid", "price": "1500,50", "sponsor_id": ""}
    data.update(changes)
    return data


def test_manager_schedules_a_cohort_with_a_decimal_price(app, site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get("/cohorts/new").status_code == 200
    response = molenbeek.post("/cohorts/new", data=form_data(base))
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        cohort = db.session.scalar(select(Cohort).where(Cohort.starts_on == date(2027, 10, 4)))
        assert (cohort.price_minor, cohort.currency, cohort.funding) == (150050, "EUR",
                                                                          Funding.PAID)
        assert cohort.status is CohortStatus.DRAFT
    detail = molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved the cohort" in detail


@pytest.mark.parametrize(("changes", "field"), [
    ({"ends_on": "2027-01-01"}, "ends_on"),
    ({"seats": "0"}, "seats"),
    ({"price": "12.345"}, "price"),
    ({"price": "abc"}, "price"),
    ({"funding": "paid", "price": ""}, "price"),
    ({"funding": "sponsored", "price": ""}, "sponsor_id"),
    ({"course_id": ""}, "course_id"),
])
def test_invalid_cohort_form_shows_the_field_error_keeps_input_and_saves_nothing(
        app, site, base, changes, field):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    before = cohort_count(app, base)
    response = molenbeek.post("/cohorts/new", data=form_data(base, schedule="Kept text",
                                                             **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'aria-describedby="{field}-error"' in page
    assert 'value="Kept text"' in page
    assert cohort_count(app, base) == before


def test_cohort_form_reports_every_problem_at_once(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    response = molenbeek.post("/cohorts/new", data=form_data(
        base, course_id="", ends_on="2027-01-01", seats="0", price="x"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("course_id", "ends_on", "seats", "price"):
        assert f'aria-describedby="{field}-error"' in page
    assert "Choose a course." in page and "cannot be before the start date" in page


def test_manager_edits_an_open_cohort_from_the_form(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get(f"/cohorts/{cohort_id}/edit").status_code == 200
    response = molenbeek.post(f"/cohorts/{cohort_id}/edit", data=form_data(
        base, starts_on="2027-01-11", ends_on="2027-06-30", seats="15", funding="free",
        price=""))
    assert response.status_code == 302
    assert cohort_row(app, base, cohort_id).seats == 15


def test_status_buttons_move_the_cohort_and_refusals_say_why(app, site, base):
    cohort_id = make_cohort(app, base, status=CohortStatus.DRAFT)
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    page = molenbeek.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert 'value="open"' in page and 'value="cancelled"' in page
    assert 'value="finished"' not in page
    moved = molenbeek.post(f"/cohorts/{cohort_id}/transition", data={"status": "open"})
    assert moved.status_code == 302
    refused = molenbeek.post(f"/cohorts/{cohort_id}/transition", data={"status": "finished"})
    assert refused.status_code == 409
    assert "cannot become finished" in refused.get_data(as_text=True)
    assert cohort_row(app, base, cohort_id).status is CohortStatus.OPEN


def test_cohort_list_filters_by_status_shows_fill_rate_and_paginates(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    enrol(app, base, cohort_id, 2)  # 3 of 12 taken
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    page = molenbeek.get("/cohorts").get_data(as_text=True)
    assert "3 / 12" in page and "25 %" in page
    assert "New cohort" not in page  # staff read only
    assert molenbeek.get("/cohorts/new").status_code == 403
    drafts = molenbeek.get("/cohorts?status=draft").get_data(as_text=True)
    assert "No cohort is" in drafts
    for _ in range(26):
        make_cohort(app, base, status=CohortStatus.DRAFT)
    first = molenbeek.get("/cohorts?status=draft").get_data(as_text=True)
    second = molenbeek.get("/cohorts?status=draft&page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert second.count("<tr>") == 2  # header + 1


def test_nav_shows_cohorts_and_applications_to_campus_people(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    page = molenbeek.get("/cohorts").get_data(as_text=True)
    assert 'href="/cohorts"' in page and 'href="/applications"' in page


def test_ids_too_large_for_the_database_are_404_or_422_never_500(site, base):
    huge = 2**70
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    assert molenbeek.get(f"/api/v1/cohorts/{huge}", headers=auth).status_code == 404
    for field in ("course_id", "sponsor_id"):
        body = valid_body(base, **{field: huge})
        if field == "sponsor_id":
            body["funding"] = "sponsored"
        response = molenbeek.post("/api/v1/cohorts", headers=auth, json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert molenbeek.get(f"/api/v1/applications/{huge}", headers=auth).status_code == 404
    assert molenbeek.get(f"/api/v1/applications?cohort_id={huge}",
                         headers=auth).status_code == 422
    assert molenbeek.post(f"/api/v1/cohorts/{huge}/applications",
                          json={"full_name": "A"}).status_code == 404
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get(f"/applications?cohort_id={huge}").status_code == 404
    assert molenbeek.get(f"/apply/{huge}").status_code == 404
