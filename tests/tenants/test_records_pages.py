"""A learner's record page: enrolments, certifications with credential links, outcomes, and the
forms to award, revoke and record or correct an outcome."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from core.catalogue.models import Certification
from core.extensions import db
from tenants.records.models import CertificationAward, Outcome, OutcomeKind
from tenants.scoping import campus_scope
from tests.support.data import MARKERS, manager, staff
from tests.support.queries import count_queries
from tests.tenants.test_enrolments import (
    add_cohort,
    add_learner,
    campus_today,
    enrol,
    foreign_id,
    foreign_learner,
    sql_engine,
)
from tests.tenants.test_enrolments_pages import signed_in
from tests.tenants.test_records import award_rows, count_everywhere, outcome_row


def add_certification(app, code: str) -> int:
    with app.app_context():
        certification = Certification(issuer="Google", exam_code=code, name=f"{code} exam")
        db.session.add(certification)
        db.session.commit()
        return certification.id


def codes_of(app) -> dict[str, int]:
    with app.app_context():
        return {c.exam_code: c.id for c in db.session.scalars(select(Certification))}


def test_record_page_shows_enrolments_certifications_and_outcomes(app, site, base):
    learner_id = base.learner_ids["molenbeek"][0]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        award = db.session.get(CertificationAward,
                               (base.campus_ids["molenbeek"], base.owned["award"]["molenbeek"][0]))
        award.credential_url = "https://www.credly.com/badges/abc"
        db.session.commit()
    response = signed_in(site, staff("molenbeek")).get(f"/learners/{learner_id}/record")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert MARKERS["molenbeek"] in html and MARKERS["antwerp"] not in html
    assert "CYB-101" in html  # the enrolment's course
    assert "SC-900" in html and 'href="https://www.credly.com/badges/abc"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "Proximus" in html  # the outcome
    assert "AZ-500: to earn" in html and "SC-900: held" in html


def test_staff_sees_the_record_without_the_forms(site, base):
    learner_id = base.learner_ids["molenbeek"][0]
    molenbeek = signed_in(site, staff("molenbeek"))
    html = molenbeek.get(f"/learners/{learner_id}/record").get_data(as_text=True)
    assert "/record/certifications" not in html and "/record/outcomes" not in html
    assert "/revoke" not in html and "/edit" not in html
    award_id = base.owned["award"]["molenbeek"][0]
    assert molenbeek.post(f"/certification-awards/{award_id}/revoke").status_code == 403
    assert molenbeek.post(f"/learners/{learner_id}/record/outcomes",
                          data={"kind": "further_education"}).status_code == 403


def test_manager_sees_every_form_with_a_csrf_token(site, base):
    learner_id = base.learner_ids["molenbeek"][0]
    html = signed_in(site, manager("molenbeek")).get(
        f"/learners/{learner_id}/record").get_data(as_text=True)
    # The page's own forms: the header's language switcher is checked by its Origin instead
    # (core/i18n.py, tests/core/test_i18n.py).
    main = html[html.index("<main"):]
    forms = re.findall(r"<form method=\"post\".*?</form>", main, re.S)
    actions = {re.search(r'action="([^"]+)"', form).group(1) for form in forms}
    assert {f"/learners/{learner_id}/record/certifications",
            f"/learners/{learner_id}/record/outcomes",
            f"/certification-awards/{base.owned['award']['molenbeek'][0]}/revoke"} <= actions
    assert all('name="csrf_token"' in form for form in forms)


def test_award_form_offers_the_course_certifications_first(app, site, base):
    add_certification(app, "GCP-ACE")
    codes = codes_of(app)
    learner_id = base.learner_ids["molenbeek"][0]
    html = signed_in(site, manager("molenbeek")).get(
        f"/learners/{learner_id}/record").get_data(as_text=True)
    select_html = html[html.index('id="award-certification_id"'):]
    select_html = select_html[:select_html.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select_html, re.S)
    assert [label for label, _ in groups] == ["Prepared for by this learner's courses",
                                              "All other certifications"]
    first = re.findall(r'value="(\d+)"', groups[0][1])
    assert set(first) == {str(codes["AZ-500"]), str(codes["SC-900"])}
    assert re.findall(r'value="(\d+)"', groups[1][1]) == [str(codes["GCP-ACE"])]
    held = re.search(rf'<option value="{codes["SC-900"]}"[^>]*>', groups[0][1]).group(0)
    assert "disabled" in held  # already awarded


def test_manager_awards_a_certification_from_the_record(app, site, base):
    codes = codes_of(app)
    learner_id = base.learner_ids["molenbeek"][1]
    day = campus_today() - timedelta(days=4)
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/learners/{learner_id}/record/certifications",
                              data={"certification_id": str(codes["AZ-500"]),
                                    "awarded_on": day.isoformat(),
                                    "credential_url": " https://verify.example.org/az "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/learners/{learner_id}/record")
    assert award_rows(app, base, learner_id) == [
        (codes["AZ-500"], day, "https://verify.example.org/az")]
    assert "Certification recorded" in molenbeek.get(
        f"/learners/{learner_id}/record").get_data(as_text=True)


def test_bad_award_form_is_422_with_errors_on_the_inputs_and_saves_nothing(app, site, base):
    codes = codes_of(app)
    learner_id = base.learner_ids["molenbeek"][1]
    future = (campus_today() + timedelta(days=2)).isoformat()
    before = count_everywhere(app, CertificationAward)
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/learners/{learner_id}/record/certifications",
                              data={"certification_id": str(codes["AZ-500"]),
                                    "awarded_on": future, "credential_url": "ftp://x.example/c"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-describedby="award-credential_url-error"' in html
    assert 'value="ftp://x.example/c"' in html and f'value="{future}"' in html
    second = molenbeek.post(f"/learners/{learner_id}/record/certifications",
                            data={"certification_id": str(codes["AZ-500"]), "awarded_on": future})
    assert second.status_code == 422
    assert 'aria-describedby="award-awarded_on-error"' in second.get_data(as_text=True)
    assert count_everywhere(app, CertificationAward) == before


def test_awarding_a_held_certification_on_the_form_is_409(app, site, base):
    codes = codes_of(app)
    learner_id = base.learner_ids["molenbeek"][0]
    response = signed_in(site, manager("molenbeek")).post(
        f"/learners/{learner_id}/record/certifications",
        data={"certification_id": str(codes["SC-900"]), "awarded_on": campus_today().isoformat()})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "already holds SC-900" in html
    assert 'aria-describedby="award-certification_id-error"' in html
    assert len(award_rows(app, base, learner_id)) == 1


def test_manager_revokes_an_award_from_the_record(app, site, base):
    award_id = base.owned["award"]["molenbeek"][0]
    learner_id = base.learner_ids["molenbeek"][0]
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/certification-awards/{award_id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/learners/{learner_id}/record")
    assert award_rows(app, base, learner_id) == []


def test_manager_records_an_outcome_from_the_record(app, site, base):
    learner_id = base.learner_ids["molenbeek"][2]
    day = campus_today() - timedelta(days=1)
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/learners/{learner_id}/record/outcomes",
                              data={"kind": "internship", "employer": "Smals",
                                    "sector": "Public IT", "occurred_on": day.isoformat(),
                                    "notes": ""})
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        stored = db.session.scalars(select(Outcome).where(Outcome.learner_id == learner_id)).all()
        assert [(o.kind, o.employer, o.sector, o.occurred_on) for o in stored] == [
            (OutcomeKind.INTERNSHIP, "Smals", "Public IT", day)]


def test_job_without_employer_on_the_form_is_422_and_keeps_what_was_typed(app, site, base):
    learner_id = base.learner_ids["molenbeek"][2]
    before = count_everywhere(app, Outcome)
    response = signed_in(site, manager("molenbeek")).post(
        f"/learners/{learner_id}/record/outcomes",
        data={"kind": "employed", "employer": "", "sector": "Banking",
              "occurred_on": campus_today().isoformat(), "notes": "Kept note"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-describedby="outcome-employer-error"' in html
    assert "Name the employer" in html
    assert 'value="Banking"' in html and "Kept note</textarea>" in html
    assert count_everywhere(app, Outcome) == before


def test_manager_corrects_an_outcome_on_its_form(app, site, base):
    outcome_id = base.owned["outcome"]["molenbeek"][0]
    molenbeek = signed_in(site, manager("molenbeek"))
    page = molenbeek.get(f"/outcomes/{outcome_id}/edit")
    assert page.status_code == 200 and 'value="Proximus"' in page.get_data(as_text=True)
    response = molenbeek.post(f"/outcomes/{outcome_id}/edit",
                              data={"kind": "employed", "employer": "Proximus NV",
                                    "sector": "Telecom", "occurred_on": "2026-10-16",
                                    "notes": "Permanent contract"})
    assert response.status_code == 302
    assert outcome_row(app, base, outcome_id) == (OutcomeKind.EMPLOYED, "Proximus NV", "Telecom",
                                                  date(2026, 10, 16), "Permanent contract")


def test_bad_outcome_correction_is_422_and_changes_nothing(app, site, base):
    outcome_id = base.owned["outcome"]["molenbeek"][0]
    before = outcome_row(app, base, outcome_id)
    response = signed_in(site, manager("molenbeek")).post(
        f"/outcomes/{outcome_id}/edit",
        data={"kind": "internship", "employer": " ", "occurred_on": "2026-02-30"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-describedby="outcome-occurred_on-error"' in html
    assert 'value="2026-02-30"' in html
    assert outcome_row(app, base, outcome_id) == before


def test_another_campus_ids_are_404_on_every_record_page(app, site, base):
    antwerp_learner = foreign_learner(base)
    antwerp_award, antwerp_outcome = foreign_id(base, "award"), foreign_id(base, "outcome")
    before = (count_everywhere(app, CertificationAward), count_everywhere(app, Outcome),
              outcome_row(app, base, antwerp_outcome, "antwerp"))
    molenbeek = signed_in(site, manager("molenbeek"))
    codes = codes_of(app)
    requests = [
        ("GET", f"/learners/{antwerp_learner}/record", None),
        ("POST", f"/learners/{antwerp_learner}/record/certifications",
         {"certification_id": str(codes["AZ-500"]), "awarded_on": "2026-10-01"}),
        ("POST", f"/learners/{antwerp_learner}/record/outcomes",
         {"kind": "further_education", "occurred_on": "2026-10-01"}),
        ("POST", f"/certification-awards/{antwerp_award}/revoke", None),
        ("GET", f"/outcomes/{antwerp_outcome}/edit", None),
        ("POST", f"/outcomes/{antwerp_outcome}/edit",
         {"kind": "employed", "employer": "Hijack", "occurred_on": "2026-10-01"}),
    ]
    for method, path, data in requests:
        response = molenbeek.open(method, path, data=data)
        assert response.status_code == 404, path
        assert MARKERS["antwerp"] not in response.get_data(as_text=True)
    assert (count_everywhere(app, CertificationAward), count_everywhere(app, Outcome),
            outcome_row(app, base, antwerp_outcome, "antwerp")) == before


def test_record_page_query_count_does_not_grow_with_the_record(app, site, base):
    learner_id = add_learner(app, base, "Busy Learner")
    molenbeek = signed_in(site, manager("molenbeek"))
    engine = sql_engine(app)

    def measure() -> int:
        with count_queries(engine) as statements:
            assert molenbeek.get(f"/learners/{learner_id}/record").status_code == 200
        return len(statements)

    cohort_id = add_cohort(app, base)
    enrol(app, base, cohort_id, learner_id)
    before = measure()
    extra = [add_certification(app, f"EXTRA-{i}") for i in range(5)]
    for i in range(5):
        enrol(app, base, add_cohort(app, base, starts_on=date(2026, 1, 1 + i)), learner_id)
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for i, certification_id in enumerate(extra):
            db.session.add(CertificationAward(learner_id=learner_id,
                                              certification_id=certification_id,
                                              awarded_on=date(2026, 9, 1 + i)))
            db.session.add(Outcome(learner_id=learner_id, kind=OutcomeKind.FURTHER_EDUCATION,
                                   occurred_on=date(2026, 9, 1 + i)))
        db.session.commit()
    assert measure() == before
