"""The shared catalogue: services and JSON API (HQ edits on `hq.`, everyone reads everywhere)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.catalogue import services
from core.catalogue.models import Certification, Course, CourseLevel, Track
from core.catalogue.services import (
    create_certification,
    create_course,
    create_track,
    retire_course,
    schedulable_course,
)
from core.errors import Conflict, InvalidInput
from core.extensions import db
from tests.support.data import HQ, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries

COURSES = "/api/v1/catalogue/courses"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def hq(site, base):
    """A client on hq. with HQ's bearer token in `.auth`."""
    client = site("hq")
    client.auth = bearer(client.token(HQ))
    return client


def course_body(**changes) -> dict:
    body = {"code": "WEB-101", "track_id": None, "hours": 700, "level": "beginner",
            "title_en": "Full-stack web developer", "title_fr": "Développeur web full-stack",
            "description_en": "HTML, CSS, JavaScript and a back end.",
            "certification_ids": []}
    body.update(changes)
    return body


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def add_courses(app, prefix: str, n: int, *, retired: bool = False) -> list[int]:
    """`n` courses with a track and two certifications of their own (committed savepoint)."""
    with app.app_context():
        track = create_track({"slug": f"track-{prefix.lower()}", "name": f"Track {prefix}"})
        certs = [create_certification({"issuer": "AWS", "exam_code": f"{prefix}-C{i}",
                                       "name": f"Cert {prefix} {i}"}) for i in range(2)]
        ids = []
        for i in range(n):
            course = create_course({
                "code": f"{prefix}-{i:03d}", "track_id": track.id, "hours": 10 + i,
                "level": CourseLevel.INTERMEDIATE, "title_en": f"{prefix} course {i}",
                "description_en": "Described.", "certification_ids": [c.id for c in certs]})
            if retired:
                retire_course(course)
            ids.append(course.id)
        db.session.commit()
    return ids


# --- creating courses ------------------------------------------------------------------------

def test_hq_creates_a_course_in_four_languages_with_its_certifications(app, hq, base):
    track_id = base.catalogue["track"][0]
    certification_ids = base.catalogue["certification"]
    response = hq.post(COURSES, headers=hq.auth, json=course_body(
        code="web-101", track_id=track_id, title_nl="Full-stack webontwikkelaar",
        title_it="Sviluppatore web full-stack", description_it="HTML e CSS.",
        certification_ids=certification_ids))
    assert response.status_code == 201, response.get_json()
    course = response.get_json()
    assert course["code"] == "WEB-101"  # codes are stored in capitals
    assert course["titles"] == {"en": "Full-stack web developer",
                                "fr": "Développeur web full-stack",
                                "nl": "Full-stack webontwikkelaar",
                                "it": "Sviluppatore web full-stack"}
    assert course["track"] == {"id": track_id, "slug": "cybersecurity", "name": "Cybersecurity"}
    assert {c["exam_code"] for c in course["certifications"]} == {"SC-900", "AZ-500"}
    assert set(course["certifications"][0]) == {"id", "issuer", "exam_code", "name"}
    assert course["level"] == "beginner" and course["hours"] == 700
    assert course["retired"] is False
    with app.app_context():
        stored = db.session.get(Course, course["id"])
        assert stored.description_it == "HTML e CSS." and stored.description_fr is None


def test_duplicate_course_code_is_409_and_creates_nothing(app, hq, base):
    before = count(app, Course)
    response = hq.post(COURSES, headers=hq.auth, json=course_body(
        code="cyb-101", track_id=base.catalogue["track"][0]))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_code" and "code" in error["fields"]
    assert count(app, Course) == before


@pytest.mark.parametrize("hours", [0, -5, "many", None, 10_001, 2.5])
def test_bad_hours_are_422_and_create_nothing(app, hq, base, hours):
    before = count(app, Course)
    response = hq.post(COURSES, headers=hq.auth,
                       json=course_body(track_id=base.catalogue["track"][0], hours=hours))
    assert response.status_code == 422
    assert "hours" in response.get_json()["error"]["fields"]
    assert count(app, Course) == before


def test_unknown_track_is_422_and_creates_nothing(app, hq, base):
    before = count(app, Course)
    response = hq.post(COURSES, headers=hq.auth, json=course_body(track_id=987654))
    assert response.status_code == 422
    assert "track_id" in response.get_json()["error"]["fields"]
    huge = hq.post(COURSES, headers=hq.auth, json=course_body(track_id=2**70))
    assert huge.status_code == 422
    assert count(app, Course) == before


def test_unknown_certification_is_422_and_creates_nothing(app, hq, base):
    before = count(app, Course)
    response = hq.post(COURSES, headers=hq.auth, json=course_body(
        track_id=base.catalogue["track"][0],
        certification_ids=[base.catalogue["certification"][0], 987654]))
    assert response.status_code == 422
    assert "987654" in response.get_json()["error"]["fields"]["certification_ids"][0]
    assert count(app, Course) == before


@pytest.mark.parametrize(("field", "value"), [
    ("title_en", ""), ("title_en", "   "), ("description_en", ""), ("code", "C"),
    ("code", "CYB 101"), ("code", "X" * 33), ("level", "expert"),
])
def test_missing_english_text_bad_code_or_level_is_422(app, hq, base, field, value):
    before = count(app, Course)
    response = hq.post(COURSES, headers=hq.auth,
                       json=course_body(track_id=base.catalogue["track"][0], **{field: value}))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert count(app, Course) == before


def test_other_languages_are_optional_and_blank_means_none(app, hq, base):
    response = hq.post(COURSES, headers=hq.auth, json=course_body(
        track_id=base.catalogue["track"][0], title_fr="  ", title_nl=None))
    assert response.status_code == 201
    assert response.get_json()["titles"] == {"en": "Full-stack web developer", "fr": None,
                                             "nl": None, "it": None}


def test_service_refuses_what_the_schema_would_also_refuse(app, base):
    """The rules hold for every caller (CLI, other services), not only behind the schema."""
    with app.app_context():
        track_id = base.catalogue["track"][0]
        for bad in ({"hours": 0}, {"hours": True}, {"code": "bad code"}, {"track_id": 987654},
                    {"title_en": ""}, {"level": "expert"}):
            data = {"code": "SRV-1", "track_id": track_id, "hours": 3, "level": "beginner",
                    "title_en": "T", "description_en": "D", **bad}
            with pytest.raises(InvalidInput) as raised:
                create_course(data)
            assert set(bad) <= set(raised.value.fields), bad
        with pytest.raises(InvalidInput) as raised:
            create_course({"code": "SRV-2"})
        assert {"track_id", "hours", "level", "title_en", "description_en"} <= set(
            raised.value.fields)
        assert db.session.scalar(select(Course).where(Course.code.like("SRV-%"))) is None


def test_a_code_taken_by_a_concurrent_request_is_still_a_409(app, base, monkeypatch):
    """The pre-check can lose a race; the unique key then answers, as a Conflict, not a 500."""
    monkeypatch.setattr(services, "_taken", lambda *_args: False)
    with app.app_context():
        with pytest.raises(Conflict) as raised:
            create_course({"code": "CYB-101", "track_id": base.catalogue["track"][0],
                           "hours": 3, "level": "beginner", "title_en": "T",
                           "description_en": "D"})
        assert raised.value.code == "duplicate_code"
        assert db.session.scalar(select(func.count()).select_from(Course)
                                 .where(Course.code == "CYB-101")) == 1


# --- changing courses ------------------------------------------------------------------------

def test_patch_changes_given_fields_and_replaces_certifications(app, hq, base):
    course_id = base.catalogue["course"][0]
    sc900 = min(base.catalogue["certification"])
    response = hq.patch(f"{COURSES}/{course_id}", headers=hq.auth,
                        json={"hours": 400, "title_nl": "Cybersecurity-analist",
                              "certification_ids": [sc900]})
    assert response.status_code == 200, response.get_json()
    course = response.get_json()
    assert course["hours"] == 400 and course["titles"]["nl"] == "Cybersecurity-analist"
    assert course["titles"]["fr"] == "Analyste en cybersécurité"  # untouched
    assert [c["id"] for c in course["certifications"]] == [sc900]


def test_patch_to_a_taken_code_is_409_and_changes_nothing(app, hq, base):
    other_id = add_courses(app, "DUP", 1)[0]
    response = hq.patch(f"{COURSES}/{other_id}", headers=hq.auth,
                        json={"code": "CYB-101", "hours": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate_code"
    with app.app_context():
        course = db.session.get(Course, other_id)
        assert (course.code, course.hours) == ("DUP-000", 10)


def test_patch_with_bad_input_changes_nothing(app, hq, base):
    course_id = base.catalogue["course"][0]
    for body in ({"hours": 0}, {"track_id": 987654}, {"certification_ids": [987654]},
                 {"title_en": ""}, {"unknown": 1}):
        response = hq.patch(f"{COURSES}/{course_id}", headers=hq.auth, json=body)
        assert response.status_code == 422, body
    with app.app_context():
        course = db.session.get(Course, course_id)
        assert course.hours == 420 and course.title_en == "Cybersecurity analyst"
        assert len(course.certifications) == 2


def test_unknown_course_is_404(hq, base, site):
    assert hq.patch(f"{COURSES}/987654", headers=hq.auth, json={"hours": 3}).status_code == 404
    assert site("molenbeek").get(f"{COURSES}/987654").status_code == 404
    assert site(None).get(f"{COURSES}/{2**70}").status_code == 404


# --- retiring --------------------------------------------------------------------------------

def test_retired_course_leaves_the_public_list_but_stays_readable(app, hq, base, site):
    course_id = base.catalogue["course"][0]
    response = hq.post(f"{COURSES}/{course_id}/retire", headers=hq.auth)
    assert response.status_code == 200
    assert response.get_json()["retired"] is True and response.get_json()["retired_at"]
    for subdomain in ("molenbeek", None):
        public = site(subdomain)
        listed = public.get(COURSES).get_json()
        assert course_id not in [c["id"] for c in listed["items"]]
        everything = public.get(f"{COURSES}?include_retired=true").get_json()
        assert course_id in [c["id"] for c in everything["items"]]
        one = public.get(f"{COURSES}/{course_id}")
        assert one.status_code == 200 and one.get_json()["retired"] is True
    with app.app_context(), pytest.raises(InvalidInput) as raised:
        schedulable_course(course_id)
    assert "course_id" in raised.value.fields


def test_retiring_twice_is_409_already_retired(app, hq, base):
    course_id = base.catalogue["course"][0]
    assert hq.post(f"{COURSES}/{course_id}/retire", headers=hq.auth).status_code == 200
    with app.app_context():
        first = db.session.get(Course, course_id).retired_at
    again = hq.post(f"{COURSES}/{course_id}/retire", headers=hq.auth)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_retired"
    with app.app_context():
        assert db.session.get(Course, course_id).retired_at == first


def test_schedulable_course_accepts_an_active_course_and_refuses_a_missing_one(app, base):
    with app.app_context():
        assert schedulable_course(base.catalogue["course"][0]).code == "CYB-101"
        for missing in (987654, None, 2**70, -1):
            with pytest.raises(InvalidInput) as raised:
                schedulable_course(missing)
            assert list(raised.value.fields) == ["course_id"]


def test_a_retired_course_can_still_be_corrected(hq, base):
    course_id = base.catalogue["course"][0]
    hq.post(f"{COURSES}/{course_id}/retire", headers=hq.auth)
    response = hq.patch(f"{COURSES}/{course_id}", headers=hq.auth, json={"title_it": "Analista"})
    assert response.status_code == 200
    assert response.get_json()["retired"] is True


# --- languages -------------------------------------------------------------------------------

def test_title_and_description_fall_back_to_english(app, base):
    with app.app_context():
        course = db.session.get(Course, base.catalogue["course"][0])
        assert course.title("fr_BE") == "Analyste en cybersécurité"
        assert course.title("nl") == "Cybersecurity analyst"  # no Dutch title
        assert course.description("fr") == "From networks to the SOC."


def test_api_title_follows_the_site_locale_or_lang(site, base):
    course_id = base.catalogue["course"][0]
    molenbeek = site("molenbeek").get(f"{COURSES}/{course_id}").get_json()  # fr_BE campus
    assert molenbeek["title"] == "Analyste en cybersécurité"
    antwerp = site("antwerp").get(f"{COURSES}/{course_id}").get_json()  # nl_BE: not translated
    assert antwerp["title"] == "Cybersecurity analyst"
    apex = site(None).get(f"{COURSES}/{course_id}", headers={"Accept-Language": "fr"}).get_json()
    assert apex["title"] == "Analyste en cybersécurité"
    chosen = site("molenbeek").get(f"{COURSES}?lang=en").get_json()["items"]
    assert [c["title"] for c in chosen if c["id"] == course_id] == ["Cybersecurity analyst"]
    assert site(None).get(f"{COURSES}?lang=de").status_code == 422


# --- reading everywhere, writing on hq. only -------------------------------------------------

@pytest.mark.parametrize("subdomain", ["molenbeek", "antwerp", "hq", "partners", None])
def test_course_list_and_detail_are_public_on_every_host(site, base, subdomain):
    client = site(subdomain)
    listed = client.get(COURSES)
    assert listed.status_code == 200
    page = listed.get_json()
    assert set(page) == {"items", "page", "per_page", "total"}
    assert [c["code"] for c in page["items"]] == ["CYB-101"]
    course_id = base.catalogue["course"][0]
    assert client.get(f"{COURSES}/{course_id}").get_json()["code"] == "CYB-101"


WRITES = [
    ("POST", COURSES, course_body(code="NEW-1", track_id=1)),
    ("PATCH", COURSES + "/{course}", {"hours": 1}),
    ("POST", COURSES + "/{course}/retire", None),
    ("POST", "/api/v1/catalogue/tracks", {"slug": "new-track", "name": "New"}),
    ("PATCH", "/api/v1/catalogue/tracks/{track}", {"name": "Renamed"}),
    ("POST", "/api/v1/catalogue/certifications",
     {"issuer": "AWS", "exam_code": "NEW-1", "name": "New"}),
    ("PATCH", "/api/v1/catalogue/certifications/{certification}", {"name": "Renamed"}),
]


def _write(client, method, path, body, base, headers=None):
    path = path.format(course=base.catalogue["course"][0], track=base.catalogue["track"][0],
                       certification=base.catalogue["certification"][0])
    return client.open(method, path, json=body, headers=headers or {})


def _catalogue_unchanged(app) -> bool:
    with app.app_context():
        course = db.session.scalar(select(Course))
        return (count(app, Course), count(app, Track), count(app, Certification),
                course.hours, course.retired_at) == (1, 1, 2, 420, None)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_writes_on_campus_hosts_are_404_even_for_hq(app, site, base, method, path, body):
    for subdomain, email in (("molenbeek", manager("molenbeek")), ("antwerp", HQ),
                             ("molenbeek", staff("molenbeek"))):
        client = site(subdomain)
        response = _write(client, method, path, body, base, bearer(client.token(email)))
        assert response.status_code == 404, (subdomain, email)
    partners = site("partners")
    response = _write(partners, method, path, body, base, bearer(partners.token(PARTNER_CONTACT)))
    assert response.status_code == 404
    assert _write(site(None), method, path, body, base).status_code == 404
    assert _catalogue_unchanged(app)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_only_hq_may_write_on_hq(app, site, base, method, path, body):
    hq_site = site("hq")
    # A campus manager cannot sign in on hq., and their campus token is not valid there.
    assert hq_site.sign_in(manager("molenbeek")).status_code == 200
    token = site("molenbeek").token(manager("molenbeek"))
    assert _write(hq_site, method, path, body, base, bearer(token)).status_code == 401
    assert _write(hq_site, method, path, body, base).status_code == 401
    assert _catalogue_unchanged(app)


def test_hq_reads_tracks_and_certifications_on_hq_only(hq, site, base):
    tracks = hq.get("/api/v1/catalogue/tracks?q=cyber", headers=hq.auth).get_json()
    assert [t["slug"] for t in tracks["items"]] == ["cybersecurity"]
    certifications = hq.get("/api/v1/catalogue/certifications?q=az-", headers=hq.auth).get_json()
    assert [c["exam_code"] for c in certifications["items"]] == ["AZ-500"]
    assert site("hq").get("/api/v1/catalogue/tracks").status_code == 401
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    assert molenbeek.get("/api/v1/catalogue/tracks", headers=bearer(token)).status_code == 404


# --- filters ---------------------------------------------------------------------------------

def test_course_list_filters_by_track_level_and_search(app, site, base):
    add_courses(app, "DAT", 2)
    apex = site(None)

    def codes(query: str) -> list[str]:
        response = apex.get(f"{COURSES}?{query}")
        assert response.status_code == 200, response.get_json()
        return [c["code"] for c in response.get_json()["items"]]

    assert codes("track=cybersecurity") == ["CYB-101"]
    assert codes(f"track={base.catalogue['track'][0]}") == ["CYB-101"]
    assert codes("track=track-dat") == ["DAT-000", "DAT-001"]
    assert codes("track=no-such-track") == []
    assert codes("level=intermediate") == ["DAT-000", "DAT-001"]
    assert codes("level=BEGINNER") == ["CYB-101"]
    assert codes("q=cybersécurité") == ["CYB-101"]  # a French title matches
    assert codes("q=dat-001") == ["DAT-001"]
    assert codes("q=%25") == []  # a LIKE wildcard is just text
    assert codes("per_page=1&page=2") == ["DAT-000"]
    assert apex.get(f"{COURSES}?level=expert").status_code == 422
    assert apex.get(f"{COURSES}?per_page=1000").status_code == 422


# --- tracks and certifications ---------------------------------------------------------------

def test_hq_creates_and_renames_a_track(app, hq, base):
    created = hq.post("/api/v1/catalogue/tracks", headers=hq.auth,
                      json={"slug": "Web-Development", "name": " Web   development "})
    assert created.status_code == 201
    track = created.get_json()
    assert (track["slug"], track["name"]) == ("web-development", "Web development")
    renamed = hq.patch(f"/api/v1/catalogue/tracks/{track['id']}", headers=hq.auth,
                       json={"name": "Web & mobile"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Web & mobile"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"slug": "cybersecurity", "name": "Again"}, 409, "slug"),
    ({"slug": "1-web", "name": "Web"}, 422, "slug"),
    ({"slug": "web-", "name": "Web"}, 422, "slug"),
    ({"slug": "web dev", "name": "Web"}, 422, "slug"),
    ({"slug": "w" * 41, "name": "Web"}, 422, "slug"),
    ({"slug": "web", "name": ""}, 422, "name"),
])
def test_bad_or_taken_track_slug_is_refused_and_creates_nothing(app, hq, base, body, status,
                                                                 field):
    response = hq.post("/api/v1/catalogue/tracks", headers=hq.auth, json=body)
    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]
    if status == 409:
        assert response.get_json()["error"]["code"] == "duplicate_slug"
    assert count(app, Track) == 1


def test_renaming_a_track_to_a_taken_slug_is_409(app, hq, base):
    add_courses(app, "DAT", 0)
    track_id = base.catalogue["track"][0]
    response = hq.patch(f"/api/v1/catalogue/tracks/{track_id}", headers=hq.auth,
                        json={"slug": "track-dat"})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Track, track_id).slug == "cybersecurity"


def test_hq_creates_and_edits_a_certification(app, hq, base):
    created = hq.post("/api/v1/catalogue/certifications", headers=hq.auth,
                      json={"issuer": "Google", "exam_code": "gads-s",
                            "name": "Google Ads Search"})
    assert created.status_code == 201
    certification = created.get_json()
    assert certification["exam_code"] == "GADS-S"
    edited = hq.patch(f"/api/v1/catalogue/certifications/{certification['id']}",
                      headers=hq.auth, json={"name": "Google Ads Search Certification"})
    assert edited.status_code == 200
    assert edited.get_json()["name"] == "Google Ads Search Certification"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"issuer": "Microsoft", "exam_code": "SC-900", "name": "Again"}, 409, "exam_code"),
    ({"issuer": "Microsoft", "exam_code": "sc-900", "name": "Again"}, 409, "exam_code"),
    ({"issuer": "", "exam_code": "AZ-104", "name": "Admin"}, 422, "issuer"),
    ({"issuer": "Microsoft", "exam_code": "AZ 104", "name": "Admin"}, 422, "exam_code"),
    ({"issuer": "Microsoft", "exam_code": "AZ-104"}, 422, "name"),
])
def test_bad_or_taken_exam_code_is_refused_and_creates_nothing(app, hq, base, body, status,
                                                               field):
    response = hq.post("/api/v1/catalogue/certifications", headers=hq.auth, json=body)
    assert response.status_code == status
    assert field in response.get_json()["error"]["fields"]
    if status == 409:
        assert response.get_json()["error"]["code"] == "duplicate_exam_code"
    assert count(app, Certification) == 2


# --- no N+1 ----------------------------------------------------------------------------------

def _statements(app, client, path: str, **kwargs) -> int:
    with app.app_context(), count_queries(db.engine) as statements:
        response = client.get(path, **kwargs)
    assert response.status_code == 200
    return len(statements)


def test_course_list_api_runs_the_same_queries_for_more_courses(app, site, base):
    apex = site(None)
    add_courses(app, "ONE", 3)
    small = _statements(app, apex, f"{COURSES}?per_page=100")
    add_courses(app, "TWO", 5)
    large = _statements(app, apex, f"{COURSES}?per_page=100")
    assert len(apex.get(f"{COURSES}?per_page=100").get_json()["items"]) == 9
    assert large == small


def test_hq_list_apis_run_the_same_queries_for_more_rows(app, hq, base):
    add_courses(app, "ONE", 1)
    small = [_statements(app, hq, f"/api/v1/catalogue/{what}", headers=hq.auth)
             for what in ("tracks", "certifications")]
    add_courses(app, "TWO", 1)
    add_courses(app, "THREE", 1)
    large = [_statements(app, hq, f"/api/v1/catalogue/{what}", headers=hq.auth)
             for what in ("tracks", "certifications")]
    assert large == small
