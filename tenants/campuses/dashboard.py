"""The campus dashboard's figures, for the bound campus, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.catalogue.models import Course
from core.charts import FillChart, fill_bars, percent
from core.database import utcnow
from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.coworking.models import Membership, MembershipStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome

WAITING = (ApplicationStatus.SUBMITTED, ApplicationStatus.INTERVIEW)


@dataclass(frozen=True)
class UpcomingCohort:
    cohort: Cohort
    seats_taken: int

    @property
    def fill_rate(self) -> int:
        return percent(self.seats_taken, self.cohort.seats) or 0


@dataclass(frozen=True)
class UpcomingEvent:
    event: Event
    registered: int


@dataclass(frozen=True)
class Dashboard:
    month_start: date
    upcoming_cohorts: list[UpcomingCohort]
    learners: int
    applications_waiting: int
    admissions: int
    completions: int
    certifications: int
    outcomes: int
    active_members: int
    next_events: list[UpcomingEvent]

    def fill_chart(self, locale: str) -> FillChart:
        """The upcoming cohorts' places taken against their seats, labelled in `locale`."""
        return fill_bars([
            (str(item.cohort.id), item.cohort.course.title(locale),
             format_date(item.cohort.starts_on, "medium", locale=locale),
             item.seats_taken, item.cohort.seats)
            for item in self.upcoming_cohorts])


def _month_bounds(campus: Campus, now: datetime) -> tuple[date, datetime]:
    """First day of the current month in the campus's timezone, and that instant in UTC."""
    local = now.astimezone(ZoneInfo(campus.timezone))
    first = local.date().replace(day=1)
    return first, datetime.combine(first, time(), tzinfo=ZoneInfo(campus.timezone))


def campus_dashboard(campus: Campus, now: datetime | None = None) -> Dashboard:
    """Figures for the bound campus: what is coming, what waits, and this month's results."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(campus.timezone)).date()
    month_start, month_start_at = _month_bounds(campus, now)

    # Counted for the six cohorts shown only (correlated), not for every cohort of the campus.
    taken = (select(func.count()).select_from(Enrolment)
             .where(Enrolment.cohort_id == Cohort.id,
                    Enrolment.status != EnrolmentStatus.DROPPED)
             .correlate(Cohort).scalar_subquery())
    upcoming = db.session.execute(
        select(Cohort, taken)
        .where(Cohort.starts_on >= today,
               Cohort.status.in_((CohortStatus.OPEN, CohortStatus.DRAFT)))
        .options(selectinload(Cohort.course).load_only(Course.code, Course.title_en,
                                                       Course.title_fr, Course.title_nl,
                                                       Course.title_it))
        .order_by(Cohort.starts_on, Cohort.id).limit(6)
    ).all()

    counts = db.session.execute(select(
        select(func.count()).select_from(Learner).scalar_subquery(),
        select(func.count()).select_from(Application)
        .where(Application.status.in_(WAITING)).scalar_subquery(),
        select(func.count()).select_from(Application)
        .where(Application.status == ApplicationStatus.ADMITTED,
               Application.decided_at >= month_start_at).scalar_subquery(),
        select(func.count()).select_from(Enrolment)
        .where(Enrolment.completed_on >= month_start).scalar_subquery(),
        select(func.count()).select_from(CertificationAward)
        .where(CertificationAward.awarded_on >= month_start).scalar_subquery(),
        select(func.count()).select_from(Outcome)
        .where(Outcome.occurred_on >= month_start).scalar_subquery(),
        select(func.count()).select_from(Membership)
        .where(Membership.status == MembershipStatus.ACTIVE).scalar_subquery(),
    )).one()

    registered = (select(func.count()).select_from(EventRegistration)
                  .where(EventRegistration.event_id == Event.id,
                         EventRegistration.status == RegistrationStatus.REGISTERED)
                  .correlate(Event).scalar_subquery())
    events = db.session.execute(
        select(Event, registered)
        .where(Event.starts_at >= now - timedelta(hours=3),
               Event.status == EventStatus.SCHEDULED)
        .order_by(Event.starts_at).limit(4)
    ).all()

    return Dashboard(
        month_start=month_start,
        upcoming_cohorts=[UpcomingCohort(c, n) for c, n in upcoming],
        learners=counts[0], applications_waiting=counts[1], admissions=counts[2],
        completions=counts[3], certifications=counts[4], outcomes=counts[5],
        active_members=counts[6],
        next_events=[UpcomingEvent(e, n) for e, n in events],
    )


def open_cohorts_for_public(limit: int = 12) -> list[Cohort]:
    """Cohorts of the bound campus open for applications, soonest first."""
    return list(db.session.scalars(
        select(Cohort).where(Cohort.status == CohortStatus.OPEN)
        .options(selectinload(Cohort.course)).order_by(Cohort.starts_on).limit(limit)))


def upcoming_public_events(limit: int = 6) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(Event.status == EventStatus.SCHEDULED, Event.starts_at >= utcnow())
        .order_by(Event.starts_at).limit(limit)))
