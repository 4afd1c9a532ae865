"""Enrolments after admission, through the JSON API: list, attendance, complete, drop.

The helpers at the top are shared with the other `test_enrolments_*` and `test_records_*`
modules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, manager, staff
from tests.support.queries import count_queries

# --- shared helpers -------------------------------------------------------------------------


def campus_today() -> date:
    """Today at the base campuses (both in Europe/Brussels)."""
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


def bearer(site, email: str) -> dict:
    return {"Authorization": f"Bearer {site.token(email)}"}


def foreign_id(base, kind: str, campus: str = "antwerp", other: str = "molenbeek") -> int:
    """An id of `kind` owned by `campus` that `other` does not also use."""
    ids = [i for i in base.owned[kind][campus] if i not in base.owned[kind][other]]
    assert ids
    return ids[-1]


def foreign_learner(base, campus: str = "antwerp", other: str = "molenbeek") -> int:
    ids = [i for i in base.learner_ids[campus] if i not in base.learner_ids[other]]
    assert ids
    return ids[0]


def add_cohort(app, base, campus: str = "molenbeek", *, starts_on: date | None = None,
               seats: int = 12, status: CohortStatus = CohortStatus.RUNNING) -> int:
    """A cohort of the base course that started 60 days ago (so completion dates are valid)."""
    starts_on = starts_on or campus_today() - timedelta(days=60)
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        cohort = Cohort(course_id=base.catalogue["course"][0], starts_on=starts_on,
                        ends_on=starts_on + timedelta(days=120), seats=seats, language="fr",
                        currency="EUR", status=status)
        db.session.add(cohort)
        db.session.commit()
        return cohort.id


def add_learner(app, base, name: str, campus: str = "molenbeek") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        learner = Learner(full_name=name, email=f"{name.lower().replace(' ', '.')}@m.example")
        db.session.add(learner)
        db.session.commit()
        return learner.id


def enrol(app, base, cohort_id: int, learner_id: int, campus: str = "molenbeek",
          status: EnrolmentStatus = EnrolmentStatus.ENROLLED, **values) -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        enrolment = Enrolment(cohort_id=cohort_id, learner_id=learner_id, status=status, **values)
        db.session.add(enrolment)
        db.session.commit()
        return enrolment.id


def enrolment_state(app, base, enrolment_id: int, campus: str = "molenbeek") -> tuple:
    """(status, attendance_percent, completed_on, dropped_at is set) as stored."""
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        e = db.session.get(Enrolment, (base.campus_ids[campus], enrolment_id))
        return e.status, e.attendance_percent, e.completed_on, e.dropped_at is not None


def running_enrolment(app, base, **values) -> int:
    """An enrolled learner in a cohort that started 60 days ago, at molenbeek."""
    cohort_id = add_cohort(app, base)
    return enrol(app, base, cohort_id, base.learner_ids["molenbeek"][1], **values)


def sql_engine(app):
    with app.app_context():
        return db.engine


ENROLLED = (EnrolmentStatus.ENROLLED, None, None, False)

# --- list and read --------------------------------------------------------------------------


def test_list_shows_own_campus_enrolments_with_learner(site, base):
    molenbeek = site("molenbeek")
    response = molenbeek.get("/api/v1/enrollments", headers=bearer(molenbeek, staff("molenbeek")))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1 and body["page"] == 1
    item = body["items"][0]
    assert item["id"] == base.owned["enrolment"]["molenbeek"][0]
    assert item["cohort_id"] == base.owned["cohort"]["molenbeek"][0]
    assert item["learner"]["id"] == base.learner_ids["molenbeek"][0]
    assert item["learner"]["full_name"].startswith(MARKERS["molenbeek"])
    assert set(item) >= {"id", "cohort_id", "learner", "status", "attendance_percent",
                         "completed_on"}
    assert (item["status"], item["attendance_percent"], item["completed_on"]) == \
        ("enrolled", None, None)
    assert MARKERS["antwerp"] not in response.get_data(as_text=True)


def test_list_filters_by_cohort_status_and_learner(app, site, base):
    cohort_id = add_cohort(app, base)
    learners = base.learner_ids["molenbeek"]
    done = enrol(app, base, cohort_id, learners[1], status=EnrolmentStatus.COMPLETED,
                 completed_on=campus_today() - timedelta(days=1))
    dropped = enrol(app, base, cohort_id, learners[2], status=EnrolmentStatus.DROPPED,
                    dropped_at=datetime.now(UTC))
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))

    def ids(query: str) -> set[int]:
        response = molenbeek.get(f"/api/v1/enrollments?{query}", headers=auth)
        assert response.status_code == 200, response.get_json()
        return {item["id"] for item in response.get_json()["items"]}

    assert ids(f"cohort_id={cohort_id}") == {done, dropped}
    assert ids("status=completed") == {done}
    assert ids(f"status=dropped&cohort_id={cohort_id}") == {dropped}
    assert ids(f"learner_id={learners[0]}") == set(base.owned["enrolment"]["molenbeek"])
    assert ids(f"cohort_id={base.owned['cohort']['antwerp'][0]}") == set()


def test_list_search_matches_the_learner_and_treats_wildcards_as_text(app, site, base):
    cohort_id = add_cohort(app, base)
    found = enrol(app, base, cohort_id, add_learner(app, base, "Nadia Ouali"))
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))

    def ids(term: str) -> set[int]:
        response = molenbeek.get("/api/v1/enrollments", query_string={"q": term}, headers=auth)
        assert response.status_code == 200
        return {item["id"] for item in response.get_json()["items"]}

    assert ids("ouali") == {found}
    assert ids("nadia.ouali@") == {found}
    assert ids("%") == set() and ids("' OR 1=1 --") == set()


@pytest.mark.parametrize(("query", "field"), [
    ("status=finished", "status"), ("cohort_id=abc", "cohort_id"), ("learner_id=0", "learner_id"),
    ("per_page=1000", "per_page"),
])
def test_list_with_bad_filters_is_422_naming_the_field(site, base, query, field):
    molenbeek = site("molenbeek")
    response = molenbeek.get(f"/api/v1/enrollments?{query}",
                             headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    engine = sql_engine(app)

    def measure() -> tuple[int, int]:
        with count_queries(engine) as statements:
            response = molenbeek.get("/api/v1/enrollments?per_page=50", headers=auth)
        assert response.status_code == 200
        return len(statements), response.get_json()["total"]

    before, total = measure()
    cohort_id = add_cohort(app, base)
    for i in range(5):
        enrol(app, base, cohort_id, add_learner(app, base, f"Counted Learner {i}"))
    after, more = measure()
    assert more == total + 5
    assert after == before


def test_one_enrolment_is_readable_and_another_campus_id_is_404(site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    own = base.owned["enrolment"]["molenbeek"][0]
    assert molenbeek.get(f"/api/v1/enrollments/{own}", headers=auth).get_json()["id"] == own
    response = molenbeek.get(f"/api/v1/enrollments/{foreign_id(base, 'enrolment')}",
                             headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("PATCH", "", {"attendance_percent": 10}),
    ("POST", "/complete", {}),
    ("POST", "/drop", None),
])
def test_another_campus_enrolment_cannot_be_changed_from_this_host(app, site, base, method,
                                                                    suffix, body):
    antwerp_enrolment = foreign_id(base, "enrolment")
    before = enrolment_state(app, base, antwerp_enrolment, "antwerp")
    molenbeek = site("molenbeek")
    response = molenbeek.open(method, f"/api/v1/enrollments/{antwerp_enrolment}{suffix}",
                              headers=bearer(molenbeek, HQ), json=body)
    assert response.status_code == 404
    assert enrolment_state(app, base, antwerp_enrolment, "antwerp") == before


# --- attendance -----------------------------------------------------------------------------


def test_staff_records_attendance(app, site, base):
    enrolment_id = base.owned["enrolment"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/enrollments/{enrolment_id}",
                               headers=bearer(molenbeek, staff("molenbeek")),
                               json={"attendance_percent": 85})
    assert response.status_code == 200
    assert response.get_json()["attendance_percent"] == 85
    assert enrolment_state(app, base, enrolment_id)[1] == 85


@pytest.mark.parametrize("body", [
    {"attendance_percent": 101}, {"attendance_percent": -1}, {"attendance_percent": "lots"},
    {"attendance_percent": 50.5}, {"attendance_percent": None}, {},
    {"attendance_percent": 50, "status": "completed"},
])
def test_bad_attendance_is_422_and_changes_nothing(app, site, base, body):
    enrolment_id = base.owned["enrolment"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/enrollments/{enrolment_id}",
                               headers=bearer(molenbeek, staff("molenbeek")), json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) & {"attendance_percent", "status"}
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


def test_attendance_body_must_be_a_json_object(site, base):
    enrolment_id = base.owned["enrolment"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/enrollments/{enrolment_id}", data="85",
                               headers=bearer(molenbeek, staff("molenbeek")))
    assert response.status_code == 422
    assert "_schema" in response.get_json()["error"]["fields"]


# --- complete -------------------------------------------------------------------------------


def test_manager_completes_an_enrolment_on_a_date(app, site, base):
    enrolment_id = running_enrolment(app, base)
    day = campus_today() - timedelta(days=3)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"completed_on": day.isoformat()})
    assert response.status_code == 200
    assert response.get_json()["status"] == "completed"
    assert response.get_json()["completed_on"] == day.isoformat()
    assert enrolment_state(app, base, enrolment_id) == (EnrolmentStatus.COMPLETED, None, day,
                                                        False)


@pytest.mark.parametrize("body", [None, {}, {"completed_on": None}, {"completed_on": ""}])
def test_completion_date_defaults_to_today_at_the_campus(app, site, base, body):
    enrolment_id = running_enrolment(app, base)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, HQ), json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["completed_on"] == campus_today().isoformat()
    assert enrolment_state(app, base, enrolment_id)[0] is EnrolmentStatus.COMPLETED


@pytest.mark.parametrize(("days_from_today", "message"), [
    (2, "future"),  # tomorrow, whatever the time of day in Brussels
    (-61, "cohort starts on"),  # the cohort started 60 days ago
])
def test_completion_date_out_of_range_is_422_and_changes_nothing(app, site, base,
                                                                  days_from_today, message):
    enrolment_id = running_enrolment(app, base)
    day = campus_today() + timedelta(days=days_from_today)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"completed_on": day.isoformat()})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert message in " ".join(fields["completed_on"])
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


@pytest.mark.parametrize("body", [{"completed_on": "31/12/2026"}, {"completed_on": 20261231},
                                  {"when": "2026-01-01"}])
def test_malformed_completion_body_is_422(app, site, base, body):
    enrolment_id = running_enrolment(app, base)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, manager("molenbeek")), json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


def test_completing_before_the_cohort_starts_is_422(app, site, base):
    cohort_id = add_cohort(app, base, starts_on=campus_today() + timedelta(days=10))
    enrolment_id = enrol(app, base, cohort_id, base.learner_ids["molenbeek"][2])
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 422
    assert "completed_on" in response.get_json()["error"]["fields"]
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


@pytest.mark.parametrize(("status", "reason"), [
    (EnrolmentStatus.COMPLETED, "already completed"),
    (EnrolmentStatus.DROPPED, "was dropped"),
])
def test_completing_a_completed_or_dropped_enrolment_is_409(app, site, base, status, reason):
    finished = campus_today() - timedelta(days=5)
    values = ({"completed_on": finished} if status is EnrolmentStatus.COMPLETED
              else {"dropped_at": datetime.now(UTC)})
    enrolment_id = running_enrolment(app, base, status=status, **values)
    before = enrolment_state(app, base, enrolment_id)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"completed_on": campus_today().isoformat()})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition"
    assert reason in error["message"]
    assert enrolment_state(app, base, enrolment_id) == before


def test_completing_in_a_cancelled_cohort_is_409(app, site, base):
    cohort_id = add_cohort(app, base, status=CohortStatus.CANCELLED)
    enrolment_id = enrol(app, base, cohort_id, base.learner_ids["molenbeek"][1])
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/complete",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition" and "cancelled" in error["message"]
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


def test_staff_may_not_complete_or_drop(app, site, base):
    enrolment_id = running_enrolment(app, base)
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    for action in ("complete", "drop"):
        response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/{action}", headers=auth,
                                  json={})
        assert response.status_code == 403, action
    assert enrolment_state(app, base, enrolment_id) == ENROLLED


# --- drop -----------------------------------------------------------------------------------


def test_manager_drops_an_enrolment(app, site, base):
    enrolment_id = running_enrolment(app, base)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/drop",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "dropped" and body["dropped_at"] is not None
    assert body["seat_offered_to_application_id"] is None  # nobody waiting
    assert enrolment_state(app, base, enrolment_id) == (EnrolmentStatus.DROPPED, None, None, True)


@pytest.mark.parametrize(("status", "reason"), [
    (EnrolmentStatus.COMPLETED, "cannot be dropped"),
    (EnrolmentStatus.DROPPED, "already dropped"),
])
def test_dropping_a_completed_or_dropped_enrolment_is_409(app, site, base, status, reason):
    values = ({"completed_on": campus_today() - timedelta(days=5)}
              if status is EnrolmentStatus.COMPLETED else {"dropped_at": datetime.now(UTC)})
    enrolment_id = running_enrolment(app, base, status=status, **values)
    before = enrolment_state(app, base, enrolment_id)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/drop",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"
    assert reason in response.get_json()["error"]["message"]
    assert enrolment_state(app, base, enrolment_id) == before


def add_waitlisted(app, base, cohort_id: int, name: str, minutes_ago: int,
                   campus: str = "molenbeek") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        application = Application(
            cohort_id=cohort_id, full_name=name, email=f"{name.split()[0].lower()}@wait.example",
            motivation="I want to learn.", consent_given_at=datetime.now(UTC),
            status=ApplicationStatus.WAITLISTED,
            waitlisted_at=datetime.now(UTC) - timedelta(minutes=minutes_ago))
        db.session.add(application)
        db.session.commit()
        return application.id


def application_status(app, base, application_id: int, campus: str = "molenbeek"):
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return db.session.get(Application, (base.campus_ids[campus], application_id)).status


def test_dropping_frees_the_seat_for_the_first_waitlisted_applicant(app, site, base):
    cohort_id = add_cohort(app, base, seats=1, status=CohortStatus.OPEN)
    enrolment_id = enrol(app, base, cohort_id, base.learner_ids["molenbeek"][1])
    second = add_waitlisted(app, base, cohort_id, "Second Waiting", minutes_ago=5)
    first = add_waitlisted(app, base, cohort_id, "First Waiting", minutes_ago=50)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/drop",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 200
    assert response.get_json()["seat_offered_to_application_id"] == first
    assert application_status(app, base, first) is ApplicationStatus.ADMITTED
    assert application_status(app, base, second) is ApplicationStatus.WAITLISTED
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        enrolled = db.session.scalars(
            select(Learner.full_name).join(Enrolment, Enrolment.learner_id == Learner.id)
            .where(Enrolment.cohort_id == cohort_id,
                   Enrolment.status == EnrolmentStatus.ENROLLED)).all()
    assert enrolled == ["First Waiting"]


def test_drop_offers_the_seat_after_the_enrolment_is_dropped(app, site, base, monkeypatch):
    """The seat is offered once the drop is flushed, for the enrolment's own cohort."""
    import tenants.applications.services as admissions

    seen = []

    def offer(cohort):
        seen.append((cohort.id, db.session.scalar(
            select(func.count()).select_from(Enrolment)
            .where(Enrolment.cohort_id == cohort.id,
                   Enrolment.status == EnrolmentStatus.ENROLLED))))

    monkeypatch.setattr(admissions, "offer_freed_seat", offer)
    cohort_id = add_cohort(app, base)
    enrolment_id = enrol(app, base, cohort_id, base.learner_ids["molenbeek"][1])
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/drop",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 200
    assert seen == [(cohort_id, 0)]


def test_refused_drop_offers_no_seat(app, site, base, monkeypatch):
    import tenants.applications.services as admissions

    calls = []
    monkeypatch.setattr(admissions, "offer_freed_seat", calls.append)
    enrolment_id = running_enrolment(app, base, status=EnrolmentStatus.DROPPED,
                                     dropped_at=datetime.now(UTC))
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/enrollments/{enrolment_id}/drop",
                              headers=bearer(molenbeek, manager("molenbeek")))
    assert response.status_code == 409
    assert calls == []
