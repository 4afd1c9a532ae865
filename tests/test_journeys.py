"""The "done when" journeys of the product, walked through the HTML pages as people would."""

import re

from sqlalchemy import select

from core.catalogue.models import Course
from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, manager


def test_applicant_to_job_at_molenbeek(app, site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    public = site("molenbeek")
    assert f"/apply/{cohort_id}" in public.get("/apply").get_data(as_text=True)
    form = public.get(f"/apply/{cohort_id}").get_data(as_text=True)
    # On motivation alone: the form asks for nothing else.
    [apply_form] = [f for f in re.findall(r"<form.*?</form>", form, re.S) if "motivation" in f]
    fields = set(re.findall(r'<(?:input|textarea|select)[^>]*name="([a-z_]+)"', apply_form))
    assert fields == {
        "csrf_token", "full_name", "email", "phone", "motivation", "consent"}
    applied = public.post(f"/apply/{cohort_id}", data={
        "full_name": "Salma Haddad", "email": "salma@example.org", "phone": "+32 470 00 00 00",
        "motivation": "I repaired my family's computers and want to defend networks.",
        "consent": "y"})
    assert applied.status_code == 302, applied.get_data(as_text=True)[:500]

    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    pipeline = molenbeek.get("/applications?status=submitted").get_data(as_text=True)
    assert "Salma Haddad" in pipeline
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        application_id = db.session.scalar(
            select(Application.id).where(Application.email == "salma@example.org"))
    admitted = molenbeek.post(f"/applications/{application_id}/decision",
                              data={"decision": "admit", "reason": ""})
    assert admitted.status_code == 302

    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner = db.session.scalar(select(Learner).where(Learner.email == "salma@example.org"))
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.learner_id == learner.id))
        learner_id, enrolment_id = learner.id, enrolment.id
        status = db.session.get(Application, (base.campus_ids["molenbeek"],
                                              application_id)).status
        certification_id = db.session.scalar(
            select(Course).where(Course.code == "CYB-101")).certifications[0].id
        # The cohort of the base data starts in 2027; move it into the past to finish it.
        cohort = enrolment.cohort
        cohort.starts_on = cohort.starts_on.replace(year=2026, month=1)
        cohort.ends_on = cohort.ends_on.replace(year=2026, month=6)
        db.session.commit()
    assert status is ApplicationStatus.ADMITTED

    completed = molenbeek.post(f"/enrolments/{enrolment_id}/complete",
                               data={"completed_on": "2026-06-30"})
    assert completed.status_code == 302, completed.get_data(as_text=True)[:800]
    awarded = molenbeek.post(f"/learners/{learner_id}/record/certifications", data={
        "certification_id": str(certification_id), "awarded_on": "2026-07-15",
        "credential_url": "https://learn.microsoft.com/credentials/abc"})
    assert awarded.status_code == 302, awarded.get_data(as_text=True)[:800]
    hired = molenbeek.post(f"/learners/{learner_id}/record/outcomes", data={
        "kind": "employed", "employer": "Proximus", "sector": "Telecom",
        "occurred_on": "2026-09-01"})
    assert hired.status_code == 302, hired.get_data(as_text=True)[:800]

    record = molenbeek.get(f"/learners/{learner_id}/record").get_data(as_text=True)
    assert "Proximus" in record and "SC-900" in record
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        assert db.session.get(Enrolment, (base.campus_ids["molenbeek"], enrolment_id)).status \
            is EnrolmentStatus.COMPLETED
        assert db.session.scalar(select(CertificationAward.id).where(
            CertificationAward.learner_id == learner_id)) is not None
        assert db.session.scalar(select(Outcome.id).where(Outcome.learner_id == learner_id))

    antwerp = site("antwerp")
    antwerp.sign_in(manager("antwerp"))
    for path in ("/applications", "/learners", "/enrolments", "/"):
        page = antwerp.get(path).get_data(as_text=True)
        assert "Salma Haddad" not in page and MARKERS["molenbeek"] not in page, path


def test_hq_adds_a_course_and_antwerp_schedules_it(app, site, base):
    hq = site("hq")
    hq.sign_in(HQ)
    track_id = base.catalogue["track"][0]
    created = hq.post("/catalogue/courses/new", data={
        "code": "WEB-201", "track_id": str(track_id), "hours": "240", "level": "intermediate",
        "title_en": "Accessible front-ends", "title_fr": "Front-ends accessibles",
        "description_en": "WCAG in practice."})
    assert created.status_code == 302, created.get_data(as_text=True)[:800]
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.code == "WEB-201"))
    assert "Accessible front-ends" in site(None).get("/catalogue?lang=en").get_data(as_text=True) \
        or "Front-ends accessibles" in site(None).get("/catalogue").get_data(as_text=True)

    antwerp = site("antwerp")
    antwerp.sign_in(manager("antwerp"))
    new_form = antwerp.get("/cohorts/new").get_data(as_text=True)
    assert re.search(rf'value="{course_id}"', new_form)
    scheduled = antwerp.post("/cohorts/new", data={
        "course_id": str(course_id), "starts_on": "2027-03-01", "ends_on": "2027-05-31",
        "schedule": "Tue-Thu 18:00-21:00", "seats": "16", "language": "nl", "price": "0",
        "funding": "free"})
    assert scheduled.status_code == 302, scheduled.get_data(as_text=True)[:800]
    cohorts = antwerp.get("/cohorts").get_data(as_text=True)
    assert "WEB-201" in cohorts
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert "WEB-201" not in molenbeek.get("/cohorts").get_data(as_text=True)
