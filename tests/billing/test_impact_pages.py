"""HQ's impact pages: the funnel chart and breakdown with filters, targets with progress bars,
and the forms that set targets."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from billing.impact.models import ImpactTarget
from core.extensions import db
from tenants.applications.models import ApplicationStatus
from tenants.scoping import campus_scope
from tests.billing.test_impact import (
    World,
    add_applications,
    add_cohort,
    add_learner,
    add_target,
    build_world,
    certify,
    enrol,
    place,
)
from tests.support.data import HQ, MARKERS, PARTNER_CONTACT, manager
from tests.support.queries import count_queries


@pytest.fixture
def world(app, base) -> World:
    return build_world(app, base)


@pytest.fixture
def hq(site):
    hq = site("hq")
    assert hq.sign_in(HQ).status_code == 302
    return hq


def text_of(response) -> str:
    return response.get_data(as_text=True)


def row(page: str, header: str) -> list[str]:
    """The cells of the table row whose header cell starts with `header`."""
    match = re.search(r"<tr><th scope=\"row\">" + re.escape(header) + r"(.*?)</tr>", page, re.S)
    assert match, f"no row {header!r}"
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td>(.*?)</td>", match.group(1), re.S)]


def target_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ImpactTarget))


def stored(app, target_id: int) -> tuple:
    with app.app_context():
        t = db.session.get(ImpactTarget, target_id)
        return (t.label, t.partner_id, t.track_id, t.campus_id, t.trained_target,
                t.certified_target, t.positive_outcome_target, t.starts_on, t.ends_on)


# --- the report page ---------------------------------------------------------------------


def test_hq_sees_the_funnel_per_campus_with_conversion(hq, base, world):
    response = hq.get("/reports/impact?track=green-tech")
    assert response.status_code == 200
    page = text_of(response)
    assert '<svg role="img"' in page and 'aria-labelledby="funnel-title funnel-desc"' in page
    assert ("Applied: 9; Admitted: 4 (44%); Completed: 3 (75%); Fully certified: 2 (67%); "
            "Positive outcome: 2 (67%)") in page
    assert row(page, "Molenbeek") == ["2", "6", "3", "2", "1", "1", "50%"]
    assert row(page, "Antwerp") == ["1", "3", "1", "1", "1", "1", "100%"]
    assert row(page, "Total") == ["3", "9", "4", "3", "2", "2", "67%"]


def test_breakdown_is_selectable(hq, base, world):
    page = text_of(hq.get("/reports/impact?track=green-tech&group_by=partner"))
    assert row(page, "Sun Fund") == ["2", "7", "3", "3", "2", "2", "67%"]
    assert row(page, "No sponsor") == ["1", "2", "1", "1", "1", "0", "100%"]
    cohorts = text_of(hq.get("/reports/impact?partner=sunfund&group_by=cohort"))
    assert row(cohorts, "molenbeek · GRN-101 · 2026-01-12")[1:] == ["4", "2", "2", "1", "1",
                                                                    "50%"]
    assert row(cohorts, "antwerp · GRN-101 · 2026-02-02")[1:] == ["3", "1", "1", "1", "1",
                                                                  "100%"]
    tracks = text_of(hq.get("/reports/impact?campus=antwerp&group_by=track"))
    assert row(tracks, "Green tech")[1:] == ["3", "1", "1", "1", "1", "100%"]
    assert '<option value="track" selected>' in tracks
    assert '<option value="antwerp" selected>' in tracks


def test_page_shows_no_learner(hq, base, world):
    page = text_of(hq.get("/reports/impact?group_by=cohort"))
    for private in (*MARKERS.values(), "Lina Z", "Omar Y", "impact.example"):
        assert private not in page


def test_targets_show_progress_bars(app, hq, base, world):
    target_id = add_target(app, label="Sun Fund green tech", partner_id=world.partner_id,
                           track_id=world.track_id, trained_target=4, certified_target=2,
                           positive_outcome_target=None)
    page = text_of(hq.get("/reports/impact?partner=sunfund"))
    assert "Sun Fund green tech" in page
    assert (f'<progress id="target-{target_id}-trained" max="4" value="3">75%</progress>'
            in page)
    assert (f'<progress id="target-{target_id}-fully_certified" max="2" value="2">100%'
            "</progress>") in page
    assert f'id="target-{target_id}-positive_outcome"' not in page  # no target: no bar
    assert "no target set" in page
    assert f'href="/reports/impact/targets/{target_id}/edit"' in page


def test_empty_states_say_what_to_do(hq, base, world):
    page = text_of(hq.get("/reports/impact?partner=sunfund&campus=molenbeek&track=bare-track"))
    assert "No cohort matches these filters" in page
    assert "No target is set for exactly these filters" in page
    assert 'href="/reports/impact/targets/new"' in page


def test_unknown_filter_is_422_with_the_field_marked(hq, base):
    response = hq.get("/reports/impact?partner=nobody&group_by=learner")
    assert response.status_code == 422
    page = text_of(response)
    assert 'aria-invalid="true" aria-describedby="partner-error"' in page
    assert 'id="partner-error"' in page and 'id="group_by-error"' in page
    assert "<svg" not in page


def test_breakdown_paginates_past_fifty_groups(app, hq, base, world):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for i in range(50):
            add_cohort(world.courses["GRN-201"], date(2025, 1, 1 + i % 28))
        db.session.commit()
    first = text_of(hq.get("/reports/impact?track=green-tech&group_by=cohort"))
    second = text_of(hq.get("/reports/impact?track=green-tech&group_by=cohort&page=2"))
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "group_by=cohort" in re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    assert row(second, "Total")[0] == "53"  # the total is of every group, on every page


def test_nav_links_to_impact_on_hq_only(site, hq, base):
    assert 'href="/reports/impact"' in text_of(hq.get("/"))
    molenbeek = site("molenbeek")
    molenbeek.sign_in(HQ)
    assert 'href="/reports/impact"' not in text_of(molenbeek.get("/"))


def test_page_is_for_hq_on_hq_only(site, base):
    anonymous = site("hq").get("/reports/impact")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for subdomain, email in (("molenbeek", manager("molenbeek")), ("molenbeek", HQ),
                             ("partners", PARTNER_CONTACT)):
        other = site(subdomain)
        other.sign_in(email)
        assert other.get("/reports/impact").status_code == 404
        assert other.get("/reports/impact/targets/new").status_code == 404


def test_report_page_query_count_does_not_grow(app, hq, base, world):
    with app.app_context():
        engine = db.engine

    def measure() -> tuple[int, str]:
        with count_queries(engine) as statements:
            response = hq.get("/reports/impact?group_by=cohort")
        assert response.status_code == 200
        return len(statements), text_of(response)

    before, _page = measure()
    with app.app_context(), campus_scope(base.campus_ids["antwerp"], db.session):
        for i in range(5):
            cohort = add_cohort(world.courses["GRN-101"], date(2026, 6, 1 + i), world.partner_id)
            add_applications(cohort, ApplicationStatus.ADMITTED, ApplicationStatus.SUBMITTED)
            learner = add_learner(f"Extra {i}")
            enrol(cohort, learner)
            certify(learner, *world.certifications.values())
            place(learner)
        db.session.commit()
    after, page = measure()
    assert "antwerp · GRN-101 · 2026-06-05" in page
    assert after == before


# --- the target forms --------------------------------------------------------------------


FORM = {"label": "Sun Fund 2027", "partner": "sunfund", "track": "green-tech",
        "campus": "molenbeek", "trained_target": "40", "certified_target": "20",
        "positive_outcome_target": "", "starts_on": "2027-01-01", "ends_on": "2027-12-31"}


def test_hq_creates_a_target_from_the_form(app, hq, base, world):
    form = hq.get("/reports/impact/targets/new")
    assert form.status_code == 200
    assert 'name="csrf_token"' in text_of(form)
    assert '<option value="sunfund">Sun Fund</option>' in text_of(form)
    response = hq.post("/reports/impact/targets/new", data=FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/impact")
    with app.app_context():
        target = db.session.scalar(select(ImpactTarget).where(
            ImpactTarget.label == "Sun Fund 2027"))
        assert (target.partner_id, target.track_id, target.campus_id) == (
            world.partner_id, world.track_id, base.campus_ids["molenbeek"])
        assert (target.trained_target, target.certified_target,
                target.positive_outcome_target) == (40, 20, None)
    page = text_of(hq.get("/reports/impact?partner=sunfund&track=green-tech&campus=molenbeek"))
    assert "Saved the target" in page and "Sun Fund 2027" in page


@pytest.mark.parametrize(("change", "field"), [
    ({"trained_target": "-3"}, "trained_target"),
    ({"certified_target": ""}, "certified_target"),
    ({"positive_outcome_target": "-1"}, "positive_outcome_target"),
    ({"ends_on": "2026-06-30"}, "ends_on"),
    ({"label": "  "}, "label"),
    ({"partner": "nobody"}, "partner"),
    ({"campus": "atlantis"}, "campus"),
])
def test_invalid_form_is_422_keeps_input_and_saves_nothing(app, hq, base, world, change,
                                                           field):
    before = target_count(app)
    response = hq.post("/reports/impact/targets/new", data={**FORM, **change})
    assert response.status_code == 422
    page = text_of(response)
    assert f'aria-invalid="true" aria-describedby="{field}-error"' in page
    assert f'id="{field}-error"' in page
    if field != "label":
        assert 'value="Sun Fund 2027"' in page  # what was typed is kept
    assert target_count(app) == before


def test_hq_edits_a_target(app, hq, base, world):
    target_id = add_target(app, label="Editable", partner_id=world.partner_id,
                           trained_target=10, certified_target=5)
    form = text_of(hq.get(f"/reports/impact/targets/{target_id}/edit"))
    assert 'value="Editable"' in form and '<option value="sunfund" selected>' in form
    response = hq.post(f"/reports/impact/targets/{target_id}/edit",
                       data={**FORM, "label": "Edited", "partner": "", "trained_target": "12"})
    assert response.status_code == 302
    assert stored(app, target_id) == ("Edited", None, world.track_id,
                                      base.campus_ids["molenbeek"], 12, 20, None,
                                      date(2027, 1, 1), date(2027, 12, 31))


def test_invalid_edit_changes_nothing(app, hq, base, world):
    target_id = add_target(app, label="Kept", partner_id=world.partner_id, trained_target=10,
                           certified_target=5)
    before = stored(app, target_id)
    response = hq.post(f"/reports/impact/targets/{target_id}/edit",
                       data={**FORM, "label": "Changed", "track": "no-such-track"})
    assert response.status_code == 422
    assert 'aria-describedby="track-error"' in text_of(response)
    assert stored(app, target_id) == before
    assert hq.get("/reports/impact/targets/999999/edit").status_code == 404
