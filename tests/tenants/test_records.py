"""The learning record through the JSON API and its services: certification awards, outcomes,
and `fully_certified`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.catalogue.models import Certification, Course
from core.extensions import db
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome, OutcomeKind
from tenants.records.services import fully_certified, fully_certified_learner_ids
from tenants.scoping import all_campuses, campus_scope
from tests.support.data import HQ, MARKERS, manager, staff
from tests.support.queries import count_queries
from tests.tenants.test_enrolments import (
    add_learner,
    bearer,
    campus_today,
    foreign_id,
    foreign_learner,
    sql_engine,
)


def count_everywhere(app, model) -> int:
    """Rows of a campus-owned model at every campus (HQ's read scope)."""
    with app.app_context(), all_campuses(db.session):
        return db.session.scalar(select(func.count()).select_from(model))


def award_rows(app, base, learner_id: int, campus: str = "molenbeek") -> list[tuple]:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return [(a.certification_id, a.awarded_on, a.credential_url) for a in db.session.scalars(
            select(CertificationAward).where(CertificationAward.learner_id == learner_id)
            .order_by(CertificationAward.id))]


def outcome_row(app, base, outcome_id: int, campus: str = "molenbeek") -> tuple:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        o = db.session.get(Outcome, (base.campus_ids[campus], outcome_id))
        return o.kind, o.employer, o.sector, o.occurred_on, o.notes


@pytest.fixture
def codes(app, base):
    with app.app_context():
        return {c.exam_code: c.id for c in db.session.scalars(select(Certification))}


# --- certification awards -------------------------------------------------------------------


def test_manager_records_a_certification_award(app, site, base, codes):
    learner_id = base.learner_ids["molenbeek"][1]
    molenbeek = site("molenbeek")
    day = campus_today() - timedelta(days=1)
    response = molenbeek.post("/api/v1/certification-awards",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"learner_id": learner_id, "certification_id": codes["AZ-500"],
                                    "awarded_on": day.isoformat(),
                                    "credential_url": "https://learn.microsoft.com/c/ABC-123"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["learner"]["id"] == learner_id
    assert body["certification"]["exam_code"] == "AZ-500"
    assert body["awarded_on"] == day.isoformat()
    assert award_rows(app, base, learner_id) == [
        (codes["AZ-500"], day, "https://learn.microsoft.com/c/ABC-123")]


def test_credential_link_is_optional(app, site, base, codes):
    learner_id = base.learner_ids["molenbeek"][2]
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/certification-awards", headers=bearer(molenbeek, HQ),
                              json={"learner_id": learner_id, "certification_id": codes["SC-900"],
                                    "awarded_on": campus_today().isoformat(),
                                    "credential_url": ""})
    assert response.status_code == 201
    assert response.get_json()["credential_url"] is None


def test_the_same_certification_twice_is_409_already_awarded(app, site, base, codes):
    learner_id = base.learner_ids["molenbeek"][0]  # holds SC-900 in the base data
    before = award_rows(app, base, learner_id)
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/certification-awards",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"learner_id": learner_id, "certification_id": codes["SC-900"],
                                    "awarded_on": campus_today().isoformat()})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "already_awarded"
    assert "already holds SC-900" in error["message"]
    assert "certification_id" in error["fields"]
    assert award_rows(app, base, learner_id) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"certification_id": 999_999}, "certification_id"),
    ({"learner_id": 999_999}, "learner_id"),
    ({"awarded_on": "future"}, "awarded_on"),
    ({"awarded_on": "2026-13-01"}, "awarded_on"),
    ({"credential_url": "ftp://example.org/cert"}, "credential_url"),
    ({"credential_url": "javascript:alert(1)"}, "credential_url"),
    ({"credential_url": "not a link"}, "credential_url"),
    ({"credential_url": "https://example.org/" + "x" * 500}, "credential_url"),
    ({"certification_id": None}, "certification_id"),
    ({"learner_id": "one"}, "learner_id"),
    ({"awarded_on": None}, "awarded_on"),
    ({"campus_id": 2}, "campus_id"),
])
def test_bad_award_is_422_naming_the_field_and_stores_nothing(app, site, base, codes, change,
                                                               field):
    body = {"learner_id": base.learner_ids["molenbeek"][1], "certification_id": codes["AZ-500"],
            "awarded_on": campus_today().isoformat()}
    body.update(change)
    if body.get("awarded_on") == "future":
        body["awarded_on"] = (campus_today() + timedelta(days=2)).isoformat()
    before = count_everywhere(app, CertificationAward)
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/certification-awards",
                              headers=bearer(molenbeek, manager("molenbeek")), json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert count_everywhere(app, CertificationAward) == before


def test_another_campus_learner_in_the_body_is_refused_and_nothing_is_created(app, site, base,
                                                                               codes):
    antwerp_learner = foreign_learner(base)
    before = (count_everywhere(app, CertificationAward), count_everywhere(app, Outcome))
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    award = molenbeek.post("/api/v1/certification-awards", headers=auth,
                           json={"learner_id": antwerp_learner,
                                 "certification_id": codes["AZ-500"],
                                 "awarded_on": campus_today().isoformat()})
    outcome = molenbeek.post("/api/v1/outcomes", headers=auth,
                             json={"learner_id": antwerp_learner, "kind": "employed",
                                   "employer": "Proximus",
                                   "occurred_on": campus_today().isoformat()})
    for response in (award, outcome):
        assert response.status_code == 422
        assert response.get_json()["error"]["fields"]["learner_id"] == [
            "No such learner at this campus."]
        assert MARKERS["antwerp"] not in response.get_data(as_text=True)
    assert (count_everywhere(app, CertificationAward), count_everywhere(app, Outcome)) == before


def test_staff_reads_awards_but_may_not_award_or_revoke(app, site, base, codes):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    assert molenbeek.get("/api/v1/certification-awards", headers=auth).status_code == 200
    before = count_everywhere(app, CertificationAward)
    created = molenbeek.post("/api/v1/certification-awards", headers=auth,
                             json={"learner_id": base.learner_ids["molenbeek"][1],
                                   "certification_id": codes["AZ-500"],
                                   "awarded_on": campus_today().isoformat()})
    assert created.status_code == 403
    award_id = base.owned["award"]["molenbeek"][0]
    revoked = molenbeek.open("DELETE", f"/api/v1/certification-awards/{award_id}", headers=auth)
    assert revoked.status_code == 403
    assert count_everywhere(app, CertificationAward) == before


def test_manager_revokes_an_award(app, site, base):
    award_id = base.owned["award"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    response = molenbeek.open("DELETE", f"/api/v1/certification-awards/{award_id}", headers=auth)
    assert response.status_code == 204
    assert molenbeek.get(f"/api/v1/certification-awards/{award_id}",
                         headers=auth).status_code == 404
    assert award_rows(app, base, base.learner_ids["molenbeek"][0]) == []
    again = molenbeek.open("DELETE", f"/api/v1/certification-awards/{award_id}", headers=auth)
    assert again.status_code == 404


def test_another_campus_award_is_404_to_read_and_to_revoke(app, site, base):
    antwerp_award = foreign_id(base, "award")
    before = count_everywhere(app, CertificationAward)
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    assert molenbeek.get(f"/api/v1/certification-awards/{antwerp_award}",
                         headers=auth).status_code == 404
    response = molenbeek.open("DELETE", f"/api/v1/certification-awards/{antwerp_award}",
                              headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert count_everywhere(app, CertificationAward) == before


def test_award_list_filters_by_learner_and_certification(app, site, base, codes):
    learners = base.learner_ids["molenbeek"]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        db.session.add(CertificationAward(learner_id=learners[1],
                                          certification_id=codes["AZ-500"],
                                          awarded_on=date(2026, 9, 1)))
        db.session.commit()
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))

    def pairs(query: str) -> set[tuple[int, str]]:
        response = molenbeek.get(f"/api/v1/certification-awards?{query}", headers=auth)
        assert response.status_code == 200
        return {(item["learner"]["id"], item["certification"]["exam_code"])
                for item in response.get_json()["items"]}

    assert pairs("") == {(learners[0], "SC-900"), (learners[1], "AZ-500")}
    assert pairs(f"learner_id={learners[1]}") == {(learners[1], "AZ-500")}
    assert pairs(f"certification_id={codes['SC-900']}") == {(learners[0], "SC-900")}
    assert pairs(f"learner_id={foreign_learner(base)}") == set()
    bad = molenbeek.get("/api/v1/certification-awards?certification_id=x", headers=auth)
    assert bad.status_code == 422 and "certification_id" in bad.get_json()["error"]["fields"]


def test_award_and_outcome_lists_search_by_text(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))

    def total(path: str, term: str) -> int:
        response = molenbeek.get(path, query_string={"q": term}, headers=auth)
        assert response.status_code == 200
        return response.get_json()["total"]

    assert total("/api/v1/certification-awards", "sc-9") == 1
    assert total("/api/v1/certification-awards", "az-500") == 0
    assert total("/api/v1/certification-awards", MARKERS["molenbeek"]) == 1
    assert total("/api/v1/outcomes", "proxi") == 1
    assert total("/api/v1/outcomes", "_") == 0  # a wildcard is just text


def test_award_list_query_count_does_not_grow_with_rows(app, site, base, codes):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    engine = sql_engine(app)

    def measure() -> tuple[int, int]:
        with count_queries(engine) as statements:
            response = molenbeek.get("/api/v1/certification-awards?per_page=50", headers=auth)
        return len(statements), response.get_json()["total"]

    before, total = measure()
    learner_ids = [add_learner(app, base, f"Certified Person {i}") for i in range(5)]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for learner_id in learner_ids:
            db.session.add(CertificationAward(learner_id=learner_id,
                                              certification_id=codes["AZ-500"],
                                              awarded_on=date(2026, 9, 1)))
        db.session.commit()
    after, more = measure()
    assert more == total + 5
    assert after == before


# --- outcomes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "employer"), [
    ("employed", "Proximus"), ("internship", "KBC"), ("started_business", None),
    ("further_education", None),
])
def test_manager_records_each_kind_of_outcome(app, site, base, kind, employer):
    learner_id = base.learner_ids["molenbeek"][1]
    day = campus_today() - timedelta(days=10)
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/outcomes", headers=bearer(molenbeek, manager("molenbeek")),
                              json={"learner_id": learner_id, "kind": kind, "employer": employer,
                                    "sector": "  Cyber   security ", "occurred_on": day.isoformat(),
                                    "notes": "Found through the job fair."})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["employer"], body["sector"]) == (kind, employer, "Cyber security")
    assert body["learner"]["id"] == learner_id
    assert outcome_row(app, base, body["id"]) == (OutcomeKind(kind), employer, "Cyber security",
                                                  day, "Found through the job fair.")


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "employed", "employer": None}, "employer"),
    ({"kind": "internship", "employer": "   "}, "employer"),
    ({"kind": "retired"}, "kind"),
    ({"kind": None}, "kind"),
    ({"occurred_on": "future"}, "occurred_on"),
    ({"occurred_on": "yesterday"}, "occurred_on"),
    ({"learner_id": 999_999}, "learner_id"),
    ({"employer": "x" * 201}, "employer"),
    ({"notes": "x" * 4001}, "notes"),
    ({"salary": 3000}, "salary"),
])
def test_bad_outcome_is_422_naming_the_field_and_stores_nothing(app, site, base, change, field):
    body = {"learner_id": base.learner_ids["molenbeek"][1], "kind": "employed",
            "employer": "Proximus", "occurred_on": campus_today().isoformat()}
    body.update(change)
    if body.get("occurred_on") == "future":
        body["occurred_on"] = (campus_today() + timedelta(days=2)).isoformat()
    before = count_everywhere(app, Outcome)
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/outcomes", headers=bearer(molenbeek, manager("molenbeek")),
                              json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert count_everywhere(app, Outcome) == before


def test_manager_corrects_an_outcome(app, site, base):
    outcome_id = base.owned["outcome"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/outcomes/{outcome_id}",
                               headers=bearer(molenbeek, manager("molenbeek")),
                               json={"kind": "internship", "sector": "Telecom"})
    assert response.status_code == 200
    assert outcome_row(app, base, outcome_id) == (OutcomeKind.INTERNSHIP, "Proximus", "Telecom",
                                                  date(2026, 10, 15), "")
    to_business = molenbeek.patch(f"/api/v1/outcomes/{outcome_id}",
                                  headers=bearer(molenbeek, manager("molenbeek")),
                                  json={"kind": "started_business", "employer": None})
    assert to_business.status_code == 200
    assert to_business.get_json()["employer"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"employer": None}, "employer"),  # still "employed"
    ({"employer": ""}, "employer"),
    ({"occurred_on": "future"}, "occurred_on"),
    ({"kind": "fired"}, "kind"),
    ({"learner_id": 2}, "learner_id"),  # an outcome never moves to another learner
])
def test_bad_correction_is_422_and_changes_nothing(app, site, base, body, field):
    outcome_id = base.owned["outcome"]["molenbeek"][0]
    if body.get("occurred_on") == "future":
        body = {"occurred_on": (campus_today() + timedelta(days=2)).isoformat()}
    before = outcome_row(app, base, outcome_id)
    molenbeek = site("molenbeek")
    response = molenbeek.patch(f"/api/v1/outcomes/{outcome_id}",
                               headers=bearer(molenbeek, manager("molenbeek")), json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert outcome_row(app, base, outcome_id) == before


def test_another_campus_outcome_is_404_to_read_and_to_correct(app, site, base):
    antwerp_outcome = foreign_id(base, "outcome")
    before = outcome_row(app, base, antwerp_outcome, "antwerp")
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    assert molenbeek.get(f"/api/v1/outcomes/{antwerp_outcome}", headers=auth).status_code == 404
    response = molenbeek.patch(f"/api/v1/outcomes/{antwerp_outcome}", headers=auth,
                               json={"employer": "Hijacked"})
    assert response.status_code == 404
    assert outcome_row(app, base, antwerp_outcome, "antwerp") == before


def test_staff_reads_outcomes_but_may_not_record_or_correct(app, site, base):
    outcome_id = base.owned["outcome"]["molenbeek"][0]
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    assert molenbeek.get(f"/api/v1/outcomes/{outcome_id}", headers=auth).status_code == 200
    before = (count_everywhere(app, Outcome), outcome_row(app, base, outcome_id))
    created = molenbeek.post("/api/v1/outcomes", headers=auth,
                             json={"learner_id": base.learner_ids["molenbeek"][1],
                                   "kind": "further_education",
                                   "occurred_on": campus_today().isoformat()})
    assert created.status_code == 403
    patched = molenbeek.patch(f"/api/v1/outcomes/{outcome_id}", headers=auth,
                              json={"employer": "Other"})
    assert patched.status_code == 403
    assert (count_everywhere(app, Outcome), outcome_row(app, base, outcome_id)) == before


def test_outcome_list_filters_by_learner_and_kind(app, site, base):
    learners = base.learner_ids["molenbeek"]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        extra = Outcome(learner_id=learners[2], kind=OutcomeKind.FURTHER_EDUCATION,
                        occurred_on=date(2026, 9, 1))
        db.session.add(extra)
        db.session.commit()
        extra_id = extra.id
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))

    def ids(query: str) -> set[int]:
        response = molenbeek.get(f"/api/v1/outcomes?{query}", headers=auth)
        assert response.status_code == 200
        assert MARKERS["antwerp"] not in response.get_data(as_text=True)
        return {item["id"] for item in response.get_json()["items"]}

    base_outcome = base.owned["outcome"]["molenbeek"][0]
    assert ids("") == {base_outcome, extra_id}
    assert ids("kind=further_education") == {extra_id}
    assert ids(f"learner_id={learners[0]}") == {base_outcome}
    bad = molenbeek.get("/api/v1/outcomes?kind=retired", headers=auth)
    assert bad.status_code == 422 and "kind" in bad.get_json()["error"]["fields"]


def test_outcome_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    engine = sql_engine(app)

    def measure() -> tuple[int, int]:
        with count_queries(engine) as statements:
            response = molenbeek.get("/api/v1/outcomes?per_page=50", headers=auth)
        return len(statements), response.get_json()["total"]

    before, total = measure()
    learner_ids = [add_learner(app, base, f"Hired Person {i}") for i in range(5)]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for learner_id in learner_ids:
            db.session.add(Outcome(learner_id=learner_id, kind=OutcomeKind.EMPLOYED,
                                   employer="Proximus", occurred_on=date(2026, 9, 1)))
        db.session.commit()
    after, more = measure()
    assert more == total + 5
    assert after == before


# --- fully certified ------------------------------------------------------------------------


def test_fully_certified_needs_every_certification_of_the_course(app, base, db_session, codes):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        course = db.session.get(Course, base.catalogue["course"][0])
        holder = db.session.get(Learner, (base.campus_ids["molenbeek"],
                                          base.learner_ids["molenbeek"][0]))
        assert not fully_certified(holder, course)  # SC-900 only
        db.session.add(CertificationAward(learner_id=holder.id, certification_id=codes["AZ-500"],
                                          awarded_on=date(2026, 10, 2)))
        db.session.flush()
        assert fully_certified(holder, course)
        others = base.learner_ids["molenbeek"][1:]
        assert fully_certified_learner_ids(course) == {holder.id}
        assert fully_certified_learner_ids(course, others) == set()
        bare = Course(code="NOC-001", track_id=course.track_id, hours=10, level=course.level,
                      title_en="No certification")
        db.session.add(bare)
        db.session.flush()
        assert not fully_certified(holder, bare)
        assert fully_certified_learner_ids(bare) == set()
        db.session.rollback()


def test_fully_certified_counts_only_this_campus_awards(app, base, db_session, codes):
    """An antwerp learner with both certifications is not seen from molenbeek's scope."""
    antwerp = base.campus_ids["antwerp"]
    with app.app_context():
        with campus_scope(antwerp, db.session):
            learner_id = base.learner_ids["antwerp"][0]
            db.session.add(CertificationAward(learner_id=learner_id,
                                              certification_id=codes["AZ-500"],
                                              awarded_on=date(2026, 10, 2)))
            db.session.commit()
        with campus_scope(base.campus_ids["molenbeek"], db.session):
            course = db.session.get(Course, base.catalogue["course"][0])
            assert learner_id not in fully_certified_learner_ids(course)
        with campus_scope(antwerp, db.session):
            assert learner_id in fully_certified_learner_ids(course)
