"""The campus dashboard and the campus's public home page."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from core.database import utcnow
from core.extensions import db
from tenants.campuses.dashboard import campus_dashboard
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.records.models import Outcome, OutcomeKind
from tenants.scoping import campus_scope
from tests.support.data import MARKERS, manager, staff
from tests.support.queries import count_queries


def test_dashboard_counts_this_campus_and_this_month_only(app, db_session, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        learner_id = base.learner_ids["molenbeek"][1]
        db.session.add(Outcome(learner_id=learner_id, kind=OutcomeKind.INTERNSHIP,
                               employer="KBC", occurred_on=date(2026, 11, 5)))
        db.session.add(Outcome(learner_id=learner_id, kind=OutcomeKind.EMPLOYED,
                               employer="KBC", occurred_on=date(2026, 10, 31)))  # last month
        db.session.flush()
        campus = db.session.get(Campus, molenbeek_id)
        dashboard = campus_dashboard(campus, now)
        cohort_ids = [item.cohort.id for item in dashboard.upcoming_cohorts]
        event_ids = [item.event.id for item in dashboard.next_events]
        fill = (dashboard.upcoming_cohorts[0].seats_taken, dashboard.upcoming_cohorts[0].fill_rate)
        db.session.rollback()
    assert dashboard.applications_waiting == 1
    assert dashboard.outcomes == 1
    assert dashboard.active_members == 1
    assert cohort_ids == base.owned["cohort"]["molenbeek"]
    assert fill == (1, 8)  # 1 of 12 seats
    assert event_ids == base.owned["event"]["molenbeek"]


def test_dashboard_query_count_does_not_grow_with_cohorts(app, db_session, base):
    molenbeek_id = base.campus_ids["molenbeek"]

    def measure() -> int:
        with app.app_context(), campus_scope(molenbeek_id, db.session):
            campus = db.session.get(Campus, molenbeek_id)
            with count_queries(db.engine) as statements:
                campus_dashboard(campus, utcnow())
            return len(statements)

    before = measure()
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        template = db.session.get(Cohort, (molenbeek_id, base.owned["cohort"]["molenbeek"][0]))
        for k in range(5):
            cohort = Cohort(course_id=template.course_id, starts_on=date(2027, 3, 1 + k),
                            ends_on=date(2027, 9, 1), seats=10, language="fr", currency="EUR",
                            status=CohortStatus.OPEN)
            db.session.add(cohort)
            db.session.flush()
            learner_id = base.learner_ids["molenbeek"][2]
            db.session.add(Enrolment(cohort_id=cohort.id, learner_id=learner_id,
                                     status=EnrolmentStatus.ENROLLED))
        db.session.commit()
    assert measure() == before


def test_dashboard_page_shows_figures_and_no_other_campus(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    page = molenbeek.get("/").get_data(as_text=True)
    assert "Applications waiting" in page and "Cohorts to come" in page
    assert "Analyste en cybersécurité" in page and "1/12" in page  # Molenbeek speaks French
    assert "<td>Open for applications</td>" in page  # the cohort's status, worded, not "open"
    assert "Molenbeek tech meetup" in page
    assert MARKERS["antwerp"] not in page


def test_staff_dashboard_shows_no_money(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    assert 'id="revenue"' not in molenbeek.get("/").get_data(as_text=True)


def test_public_campus_page_lists_open_cohorts_and_events(app, site, base):
    page = site("molenbeek").get("/").get_data(as_text=True)
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    assert f'href="/apply/{cohort_id}"' in page
    assert "Free" in page
    assert "Molenbeek tech meetup" in page
    assert MARKERS["antwerp"] not in page
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        cohort = db.session.scalar(select(Cohort).where(Cohort.id == cohort_id))
        cohort.status = CohortStatus.RUNNING
        cohort.starts_on = utcnow().date() - timedelta(days=1)
        db.session.commit()
    page = site("molenbeek").get("/").get_data(as_text=True)
    assert "No cohort is open for applications right now." in page
