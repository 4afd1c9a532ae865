"""Catalogue pages: the public catalogue (apex and every campus site) and HQ's editing pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.catalogue.models import Certification, Course, CourseLevel, Track
from core.catalogue.services import create_course, create_track, retire_course
from core.extensions import db
from tests.core.test_catalogue import add_courses
from tests.support.data import HQ, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries


@pytest.fixture
def hq(site, base):
    client = site("hq")
    assert client.sign_in(HQ).status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def course_form(base, **changes) -> dict:
    form = {"code": "WEB-101", "track_id": str(base.catalogue["track"][0]), "hours": "700",
            "level": "intermediate", "title_en": "Full-stack web developer",
            "title_fr": "", "title_nl": "Full-stack webontwikkelaar", "title_it": "",
            "description_en": "HTML, CSS and JavaScript.", "description_fr": "",
            "description_nl": "", "description_it": "",
            "certification_ids": [str(i) for i in base.catalogue["certification"]],
            "csrf_token": "ignored-in-tests"}
    form.update(changes)
    return form


def courses_named(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Course)
                                 .where(Course.code == code))


# --- the public catalogue --------------------------------------------------------------------

@pytest.mark.parametrize(("subdomain", "title"), [
    ("molenbeek", "Analyste en cybersécurité"),  # campus locale fr_BE
    ("antwerp", "Cybersecurity analyst"),  # nl_BE, no Dutch title: English
    (None, "Cybersecurity analyst"),
])
def test_public_catalogue_shows_courses_by_track_in_the_site_language(site, base, subdomain,
                                                                       title):
    response = site(subdomain).get("/catalogue")
    assert response.status_code == 200
    page = text(response)
    assert "Cybersecurity" in page and title in page
    assert "CYB-101" in page and "420" in page and "SC-900" in page and "AZ-500" in page


def test_apex_catalogue_follows_the_browser_language(site, base):
    page = text(site(None).get("/catalogue", headers={"Accept-Language": "fr-BE,fr;q=0.9"}))
    assert "Analyste en cybersécurité" in page


def test_public_catalogue_groups_by_track_and_hides_retired_courses(app, site, base):
    add_courses(app, "DAT", 2)
    add_courses(app, "OLD", 1, retired=True)
    page = text(site("antwerp").get("/catalogue"))
    sections = dict(re.findall(r'<h2 id="track-\d+">([^<]+?) <(.*?)</section>', page, re.S))
    assert list(sections) == ["Cybersecurity", "Track DAT"]  # by name; no empty OLD group
    assert "CYB-101" in sections["Cybersecurity"] and "DAT" not in sections["Cybersecurity"]
    assert "DAT course 0" in sections["Track DAT"] and "DAT course 1" in sections["Track DAT"]
    assert "OLD course 0" not in page


def test_public_catalogue_filters_and_says_when_nothing_matches(app, site, base):
    add_courses(app, "DAT", 1)
    apex = site(None)
    by_track = text(apex.get("/catalogue?track=track-dat"))
    assert "DAT course 0" in by_track and "CYB-101" not in by_track
    by_level = text(apex.get("/catalogue?level=beginner"))
    assert "CYB-101" in by_level and "DAT course 0" not in by_level
    none = apex.get("/catalogue?q=nothing-like-this")
    assert none.status_code == 200 and "No course matches these filters." in text(none)
    assert apex.get("/catalogue?level=expert").status_code == 200  # a bad filter is ignored


def test_public_catalogue_is_empty_with_a_helpful_message(app, site, base):
    with app.app_context():
        retire_course(db.session.get(Course, base.catalogue["course"][0]))
        db.session.commit()
    page = text(site(None).get("/catalogue"))
    assert "The catalogue is being prepared." in page


def test_course_detail_page_on_apex_and_campus_sites(site, base):
    course_id = base.catalogue["course"][0]
    molenbeek = site("molenbeek").get(f"/catalogue/{course_id}")
    assert molenbeek.status_code == 200
    assert "Analyste en cybersécurité" in text(molenbeek)
    assert "Security, Compliance, and Identity Fundamentals" in text(molenbeek)
    apex = site(None).get(f"/catalogue/{course_id}")
    assert apex.status_code == 200 and "From networks to the SOC." in text(apex)
    assert site(None).get("/catalogue/987654").status_code == 404
    for subdomain in ("hq", "partners"):  # the public pages live on the apex and campus sites
        assert site(subdomain).get(f"/catalogue/{course_id}").status_code == 404
        assert site(subdomain).get("/catalogue").status_code == 404


def test_retired_course_detail_says_it_is_no_longer_offered(app, site, base):
    course_id = base.catalogue["course"][0]
    with app.app_context():
        retire_course(db.session.get(Course, course_id))
        db.session.commit()
    response = site("molenbeek").get(f"/catalogue/{course_id}")
    assert response.status_code == 200
    assert "This course is no longer offered." in text(response)


def test_campus_people_find_the_catalogue_in_their_navigation(site, base):
    for email in (staff("molenbeek"), manager("molenbeek")):
        molenbeek = site("molenbeek")
        molenbeek.sign_in(email)
        assert 'href="/catalogue"' in text(molenbeek.get("/"))
        assert molenbeek.get("/catalogue").status_code == 200
    hq = site("hq")
    hq.sign_in(HQ)
    assert 'href="/catalogue/courses"' in text(hq.get("/"))


def _statements(app, client, path: str) -> int:
    with app.app_context(), count_queries(db.engine) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_public_catalogue_runs_the_same_queries_for_more_courses(app, site, base):
    apex = site(None)
    add_courses(app, "ONE", 2)
    small = _statements(app, apex, "/catalogue")
    add_courses(app, "TWO", 5)
    add_courses(app, "SIX", 1)
    large = _statements(app, apex, "/catalogue")
    assert "SIX course 0" in text(apex.get("/catalogue"))
    assert large == small


# --- HQ: courses -----------------------------------------------------------------------------

def test_hq_course_list_searches_filters_and_shows_retired_courses_distinctly(app, hq, base):
    add_courses(app, "DAT", 2)
    add_courses(app, "OLD", 1, retired=True)
    page = text(hq.get("/catalogue/courses"))
    assert "CYB-101" in page and "DAT-001" in page
    assert "<s>OLD-000</s>" in page and "Retired on" in page and 'class="retired"' in page
    active = text(hq.get("/catalogue/courses?status=active"))
    assert "OLD-000" not in active and "CYB-101" in active
    retired = text(hq.get("/catalogue/courses?status=retired"))
    assert "OLD-000" in retired and "CYB-101" not in retired
    searched = text(hq.get("/catalogue/courses?q=analyste"))  # the French title
    assert "CYB-101" in searched and "DAT-000" not in searched
    with app.app_context():
        dat_track = db.session.scalar(select(Track.id).where(Track.slug == "track-dat"))
    by_track = text(hq.get(f"/catalogue/courses?track={dat_track}"))
    assert "DAT-000" in by_track and "CYB-101" not in by_track
    nothing = text(hq.get("/catalogue/courses?q=zzz"))
    assert "No course matches these filters." in nothing


def test_hq_course_list_paginates_and_keeps_the_filters(app, hq, base):
    add_courses(app, "PAG", 30)
    first = text(hq.get("/catalogue/courses?q=PAG"))
    assert "Page 1 of 2" in first and first.count("<tr") == 26  # header + 25 rows
    assert "q=PAG" in first.split("Next")[0].rsplit("href=", 1)[1]
    second = text(hq.get("/catalogue/courses?q=PAG&page=2"))
    assert "Page 2 of 2" in second and second.count("<tr") == 6


def test_hq_course_list_runs_the_same_queries_for_more_courses(app, hq, base):
    add_courses(app, "ONE", 2)
    small = _statements(app, hq, "/catalogue/courses")
    add_courses(app, "TWO", 5)
    large = _statements(app, hq, "/catalogue/courses")
    assert large == small


def test_hq_creates_a_course_from_the_form(app, hq, base):
    form = hq.get("/catalogue/courses/new")
    assert form.status_code == 200
    page = text(form)
    for name in ("title_en", "title_fr", "title_nl", "title_it", "description_it", "hours",
                 "track_id", "level"):
        assert f'name="{name}"' in page
    assert page.count('name="certification_ids" type="checkbox"') == 2
    assert 'name="csrf_token"' in page
    response = hq.post("/catalogue/courses/new", data=course_form(base, code="web-101"))
    assert response.status_code == 302
    assert "Saved WEB-101." in text(hq.get(response.headers["Location"]))
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.code == "WEB-101"))
        assert course.level is CourseLevel.INTERMEDIATE and course.hours == 700
        assert course.title_fr is None and course.title_nl == "Full-stack webontwikkelaar"
        assert len(course.certifications) == 2


@pytest.mark.parametrize(("changes", "field", "status"), [
    ({"hours": "0"}, "hours", 422),
    ({"hours": "lots"}, "hours", 422),
    ({"title_en": ""}, "title_en", 422),
    ({"track_id": "987654"}, "track_id", 422),
    ({"track_id": ""}, "track_id", 422),
    ({"certification_ids": ["987654"]}, "certification_ids", 422),
    ({"code": "cyb-101"}, "code", 409),
])
def test_invalid_course_form_shows_errors_keeps_input_and_saves_nothing(app, hq, base, changes,
                                                                        field, status):
    before = courses_named(app, "WEB-101")
    form = course_form(base, title_it="Titolo conservato", **changes)
    response = hq.post("/catalogue/courses/new", data=form)
    assert response.status_code == status
    page = text(response)
    assert f'aria-describedby="{field}-error"' in page
    assert 'value="Titolo conservato"' in page  # nothing typed is lost
    assert courses_named(app, "WEB-101") == before == 0
    if field != "certification_ids":
        assert page.count(" checked") == 2  # the ticked certifications stay ticked


def test_hq_edits_a_course_from_the_form(app, hq, base):
    course_id = base.catalogue["course"][0]
    page = text(hq.get(f"/catalogue/courses/{course_id}/edit"))
    assert 'value="Analyste en cybersécurité"' in page and page.count(" checked") == 2
    form = course_form(base, code="CYB-101", title_en="Cybersecurity analyst (SOC)",
                       certification_ids=[str(min(base.catalogue["certification"]))])
    response = hq.post(f"/catalogue/courses/{course_id}/edit", data=form)
    assert response.status_code == 302
    with app.app_context():
        course = db.session.get(Course, course_id)
        assert course.title_en == "Cybersecurity analyst (SOC)"
        assert course.title_fr is None  # emptied on the form
        assert [c.id for c in course.certifications] == [min(base.catalogue["certification"])]


def test_hq_retires_a_course_with_the_button_and_a_second_retire_is_refused(app, hq, base):
    course_id = base.catalogue["course"][0]
    page = text(hq.get(f"/catalogue/courses/{course_id}/edit"))
    assert f'action="/catalogue/courses/{course_id}/retire"' in page
    response = hq.post(f"/catalogue/courses/{course_id}/retire",
                       data={"csrf_token": "ignored-in-tests"})
    assert response.status_code == 302
    assert "can no longer be scheduled" in text(hq.get(response.headers["Location"]))
    with app.app_context():
        retired_at = db.session.get(Course, course_id).retired_at
    assert retired_at is not None
    again = hq.post(f"/catalogue/courses/{course_id}/retire")
    assert "is already retired" in text(hq.get(again.headers["Location"]))
    with app.app_context():
        assert db.session.get(Course, course_id).retired_at == retired_at
    assert "Retire CYB-101" not in text(hq.get(f"/catalogue/courses/{course_id}/edit"))


def test_retire_needs_a_post(hq, base):
    course_id = base.catalogue["course"][0]
    assert hq.get(f"/catalogue/courses/{course_id}/retire").status_code == 405


# --- HQ: tracks and certifications -----------------------------------------------------------

def test_hq_manages_tracks_from_the_forms(app, hq, base):
    listing = text(hq.get("/catalogue/tracks"))
    assert "cybersecurity" in listing
    created = hq.post("/catalogue/tracks/new", data={"name": "Data & AI", "slug": "data-ai"})
    assert created.status_code == 302
    taken = hq.post("/catalogue/tracks/new", data={"name": "Again", "slug": "data-ai"})
    assert taken.status_code == 409 and 'aria-describedby="slug-error"' in text(taken)
    bad = hq.post("/catalogue/tracks/new", data={"name": "Kept", "slug": "Not a slug!"})
    assert bad.status_code == 422 and 'value="Kept"' in text(bad)
    with app.app_context():
        track = db.session.scalar(select(Track).where(Track.slug == "data-ai"))
        assert db.session.scalar(select(func.count()).select_from(Track)) == 2
    edited = hq.post(f"/catalogue/tracks/{track.id}/edit",
                     data={"name": "Data and AI", "slug": "data-ai"})
    assert edited.status_code == 302
    assert "Data and AI" in text(hq.get("/catalogue/tracks"))


def test_track_list_counts_active_and_all_courses_per_track(app, hq, base):
    add_courses(app, "OLD", 2, retired=True)
    page = text(hq.get("/catalogue/tracks"))
    row = page.split("Track OLD")[1].split("</tr>")[0]
    assert ">0</a>" in row and "<td>2</td>" in row


def test_hq_manages_certifications_from_the_forms(app, hq, base):
    created = hq.post("/catalogue/certifications/new",
                      data={"issuer": "AWS", "exam_code": "clf-c02",
                            "name": "Cloud Practitioner"})
    assert created.status_code == 302
    taken = hq.post("/catalogue/certifications/new",
                    data={"issuer": "AWS", "exam_code": "CLF-C02", "name": "Again"})
    assert taken.status_code == 409 and 'aria-describedby="exam_code-error"' in text(taken)
    listing = text(hq.get("/catalogue/certifications?q=aws"))
    assert "CLF-C02" in listing and "SC-900" not in listing
    with app.app_context():
        certification = db.session.scalar(select(Certification)
                                          .where(Certification.exam_code == "CLF-C02"))
    edited = hq.post(f"/catalogue/certifications/{certification.id}/edit",
                     data={"issuer": "AWS", "exam_code": "CLF-C02",
                           "name": "AWS Certified Cloud Practitioner"})
    assert edited.status_code == 302
    assert "AWS Certified Cloud Practitioner" in text(hq.get("/catalogue/certifications"))
    empty = text(hq.get("/catalogue/certifications?q=nothing"))
    assert "No certification matches" in empty


def test_hq_track_and_certification_lists_run_the_same_queries_for_more_rows(app, hq, base):
    add_courses(app, "ONE", 1)
    small = [_statements(app, hq, path) for path in ("/catalogue/tracks",
                                                     "/catalogue/certifications")]
    add_courses(app, "TWO", 2)
    add_courses(app, "SIX", 2)
    large = [_statements(app, hq, path) for path in ("/catalogue/tracks",
                                                     "/catalogue/certifications")]
    assert large == small


# --- who may edit ----------------------------------------------------------------------------

HQ_PAGES = ("/catalogue/courses", "/catalogue/courses/new", "/catalogue/courses/{course}/edit",
            "/catalogue/tracks", "/catalogue/tracks/new", "/catalogue/tracks/{track}/edit",
            "/catalogue/certifications", "/catalogue/certifications/new",
            "/catalogue/certifications/{certification}/edit")


def _pages(base):
    ids = {"course": base.catalogue["course"][0], "track": base.catalogue["track"][0],
           "certification": base.catalogue["certification"][0]}
    return [page.format(**ids) for page in HQ_PAGES]


def test_campus_people_cannot_reach_the_hq_pages(app, site, base):
    hq_site = site("hq")
    for email in (manager("molenbeek"), staff("antwerp"), PARTNER_CONTACT):
        assert hq_site.sign_in(email).status_code == 200  # refused on hq.
    for path in _pages(base):
        response = hq_site.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    retire = hq_site.post(f"/catalogue/courses/{base.catalogue['course'][0]}/retire")
    assert retire.status_code == 302 and "/login" in retire.headers["Location"]
    with app.app_context():
        assert db.session.get(Course, base.catalogue["course"][0]).retired_at is None


def test_hq_pages_do_not_exist_on_campus_sites_even_for_hq(app, site, base):
    for subdomain, email in (("molenbeek", HQ), ("antwerp", manager("antwerp"))):
        campus = site(subdomain)
        assert campus.sign_in(email).status_code == 302
        for path in _pages(base):
            assert campus.get(path).status_code == 404, (subdomain, path)
        retire = campus.post(f"/catalogue/courses/{base.catalogue['course'][0]}/retire")
        assert retire.status_code == 404
        created = campus.post("/catalogue/tracks/new", data={"name": "X", "slug": "x-track"})
        assert created.status_code == 404
    with app.app_context():
        assert db.session.get(Course, base.catalogue["course"][0]).retired_at is None
        assert db.session.scalar(select(Track).where(Track.slug == "x-track")) is None


def test_service_stores_the_level_as_the_enum_when_given_text(app, base):
    with app.app_context():
        track = create_track({"slug": "levels", "name": "Levels"})
        course = create_course({"code": "LVL-1", "track_id": track.id, "hours": 1,
                                "level": "advanced", "title_en": "T", "description_en": "D"})
        assert course.level is CourseLevel.ADVANCED
