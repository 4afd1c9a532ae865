"""Two years in the life of a demo campus: cohorts and their applicants, learners, completions,
certifications and outcomes, coworking members and events.

Deterministic (a random generator seeded by the campus slug) and relative to `today`, so the
dashboard always has cohorts to come, applications waiting and last month's results. Molenbeek
also runs the Microsoft-sponsored cybersecurity programme: 150 learners trained, of whom 60 hold
every Microsoft certification of the track.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.auth.models import CAMPUS_ROLES, User
from core.catalogue.models import Course
from core.extensions import db
from core.partners.models import Partner
from tenants.applications.models import Application, ApplicationStatus
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.coworking.models import (
    CoachingSession,
    Membership,
    MembershipPlan,
    MembershipStatus,
    PlanKind,
)
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.events.models import Event, EventRegistration, EventStatus
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome, OutcomeKind

FIRST = ("Amina", "Youssef", "Lotte", "Thomas", "Giulia", "Marco", "Sara", "Karim", "Emma",
         "Noah", "Fatima", "Lucas", "Ines", "Bram", "Chiara", "Omar", "Salma", "Mehdi", "Julie",
         "Ruben", "Nour", "Elif", "Daan", "Aya", "Hamza", "Zoé", "Bilal", "Lina", "Pieter", "Rania")
LAST = ("El Amrani", "Peeters", "Janssens", "De Vries", "Rossi", "Benali", "Dubois", "Bakker",
        "Ferrari", "Haddad", "Maes", "Visser", "Bouzid", "Lambert", "Romano", "Yilmaz", "Claes",
        "Smit", "Moreau", "Ricci", "Ait Said", "Willems", "Jansen", "Esposito")
REJECTION_REASONS = ("Chose another programme", "Not available on the course days",
                     "Motivation did not match the course", "Could not be reached for interview")
EMPLOYERS = (("Proximus", "Telecom"), ("Accenture", "Consulting"), ("KBC", "Banking"),
             ("bpost", "Logistics"), ("Ordina", "IT services"), ("RTBF", "Media"),
             ("Colruyt", "Retail"), ("Securitas", "Security"), ("City hall", "Public sector"))
REGULAR_COURSES = ("WEB-101", "DAT-101", "MKT-101", "CYB-101", "AVP-101", "WEB-120", "DAT-130",
                   "CYB-110")
MICROSOFT_COHORTS, MICROSOFT_SEATS, MICROSOFT_FULLY_CERTIFIED = 6, 25, 60


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class _Life:
    campus: Campus
    today: date
    rng: random.Random
    courses: dict[str, Course]
    learners_by_email: dict[str, Learner] = field(default_factory=dict)
    serial: int = 0

    @property
    def scale(self) -> int:  # prices in MAD are about ten times the euro price
        return 10 if self.campus.currency == "MAD" else 1

    def person(self) -> tuple[str, str]:
        self.serial += 1
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        email = f"{first}.{last}.{self.serial}@example.org".lower().replace(" ", "")
        return f"{first} {last}", email.replace("é", "e")

    def status_for(self, starts_on: date, ends_on: date) -> CohortStatus:
        if ends_on < self.today:
            return CohortStatus.FINISHED
        if starts_on <= self.today:
            return CohortStatus.RUNNING
        return CohortStatus.OPEN if starts_on <= self.today + timedelta(days=150) else \
            CohortStatus.DRAFT

    def learner_for(self, application: Application) -> Learner:
        learner = self.learners_by_email.get(application.email)
        if learner is None:
            learner = Learner(full_name=application.full_name, email=application.email,
                              phone=application.phone,
                              consent_given_at=application.consent_given_at)
            db.session.add(learner)
            self.learners_by_email[application.email] = learner
        return learner


def seed_campus_life(campus: Campus, today: date | None = None) -> None:
    """Fill the bound campus with two years of activity (call once, with the campus bound)."""
    courses = {c.code: c for c in db.session.scalars(
        select(Course).options(selectinload(Course.certifications)))}
    life = _Life(campus, today or date.today(), random.Random(f"campusflow-{campus.slug}"),  # noqa: S311  (demo data)
                 courses)
    # About two years of cohorts, the last ones still to come; a new campus (Casablanca opened
    # this month) only has what it recruited for since a few months before opening.
    start = life.today - timedelta(days=620)
    if campus.opened_on and campus.opened_on - timedelta(days=90) > start:
        start = campus.opened_on - timedelta(days=90)
    offset = len(campus.slug) % len(REGULAR_COURSES)
    starts_on, k = start, 0
    while starts_on <= life.today + timedelta(days=180):
        code = REGULAR_COURSES[(k + offset) % len(REGULAR_COURSES)]
        _cohort_with_people(life, courses[code], starts_on, seats=life.rng.randint(14, 22))
        k += 1
        starts_on = start + timedelta(days=60 * k + life.rng.randint(0, 14))
    if campus.slug == "molenbeek":
        _microsoft_programme(life, life.today - timedelta(days=730))
    _coworking(life)
    _events(life)
    db.session.flush()


def _new_cohort(life: _Life, course: Course, starts_on: date, seats: int,
                sponsor: Partner | None = None) -> Cohort:
    ends_on = starts_on + timedelta(weeks=max(4, course.hours // 25))
    paid = sponsor is None and course.code in ("WEB-120", "DAT-130")
    cohort = Cohort(
        course_id=course.id, starts_on=starts_on, ends_on=ends_on,
        schedule="Mon-Thu 9:30-16:30", seats=seats,
        language=life.campus.default_locale[:2], currency=life.campus.currency,
        price_minor=(45000 * life.scale if paid else 0),
        funding=Funding.SPONSORED if sponsor else (Funding.PAID if paid else Funding.FREE),
        sponsor_id=sponsor.id if sponsor else None,
        status=life.status_for(starts_on, ends_on),
    )
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _cohort_with_people(life: _Life, course: Course, starts_on: date, seats: int) -> None:
    cohort = _new_cohort(life, course, starts_on, seats)
    rng = life.rng
    if cohort.status is CohortStatus.DRAFT:
        return
    if cohort.status is CohortStatus.OPEN:
        for _ in range(rng.randint(4, seats + 6)):
            status = rng.choice((ApplicationStatus.SUBMITTED, ApplicationStatus.SUBMITTED,
                                 ApplicationStatus.INTERVIEW))
            _application(life, cohort, status, starts_on - timedelta(days=rng.randint(3, 60)))
        return
    admitted = seats - rng.randint(0, 2)
    finished = cohort.status is CohortStatus.FINISHED
    for i in range(int(seats * rng.uniform(2.0, 3.0))):
        applied_on = starts_on - timedelta(days=rng.randint(10, 80))
        if i < admitted:
            application = _application(life, cohort, ApplicationStatus.ADMITTED, applied_on)
            roll = rng.random()
            status = (EnrolmentStatus.DROPPED if roll < 0.12 else
                      EnrolmentStatus.COMPLETED if finished else EnrolmentStatus.ENROLLED)
            _enrol(life, cohort, course, application, status)
        else:
            status = rng.choice((ApplicationStatus.REJECTED, ApplicationStatus.REJECTED,
                                 ApplicationStatus.WAITLISTED, ApplicationStatus.WITHDRAWN))
            _application(life, cohort, status, applied_on)


def _application(life: _Life, cohort: Cohort, status: ApplicationStatus, applied_on: date
                 ) -> Application:
    full_name, email = life.person()
    applied_on = min(applied_on, life.today)  # nobody applies in the future
    decided = status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.INTERVIEW)
    application = Application(
        cohort_id=cohort.id, full_name=full_name, email=email,
        phone=f"+32 4{life.rng.randint(70, 99)} {life.rng.randint(10, 99)} "
              f"{life.rng.randint(10, 99)} {life.rng.randint(10, 99)}",
        motivation="I want a job in tech and I learn best by doing, with others.",
        consent_given_at=_at(applied_on), status=status, submitted_at=_at(applied_on),
        decided_at=_at(applied_on + timedelta(days=7)) if decided else None,
        decision_reason=(life.rng.choice(REJECTION_REASONS)
                         if status is ApplicationStatus.REJECTED else None),
        waitlisted_at=(_at(applied_on + timedelta(days=7))
                       if status is ApplicationStatus.WAITLISTED else None),
        score=life.rng.randint(40, 95) if decided else None,
    )
    db.session.add(application)
    return application


def _enrol(life: _Life, cohort: Cohort, course: Course, application: Application,
           status: EnrolmentStatus, *, certifications: int | None = None) -> None:
    learner = life.learner_for(application)
    db.session.flush()
    application.learner_id = learner.id
    enrolment = Enrolment(
        cohort_id=cohort.id, learner_id=learner.id, application_id=application.id,
        status=status, enrolled_at=_at(cohort.starts_on, 9),
        attendance_percent=life.rng.randint(70, 100) if status is not EnrolmentStatus.DROPPED
        else life.rng.randint(10, 50),
        completed_on=cohort.ends_on if status is EnrolmentStatus.COMPLETED else None,
        dropped_at=(_at(cohort.starts_on + timedelta(days=20))
                    if status is EnrolmentStatus.DROPPED else None),
    )
    db.session.add(enrolment)
    if status is not EnrolmentStatus.COMPLETED:
        return
    earned = [c for c in course.certifications if life.rng.random() < 0.55] \
        if certifications is None else list(course.certifications[:certifications])
    for certification in earned:
        awarded_on = min(cohort.ends_on + timedelta(days=life.rng.randint(5, 60)), life.today)
        db.session.add(CertificationAward(
            learner_id=learner.id, certification_id=certification.id, awarded_on=awarded_on,
            credential_url=f"https://learn.microsoft.com/api/credentials/share/{learner.id}"
            f"-{certification.exam_code.lower()}" if certification.issuer == "Microsoft" else None))
    if life.rng.random() < 0.6:
        occurred_on = cohort.ends_on + timedelta(days=life.rng.randint(10, 150))
        if occurred_on <= life.today:
            kind = life.rng.choices(list(OutcomeKind), weights=(60, 15, 10, 15))[0]
            employer, sector = life.rng.choice(EMPLOYERS)
            has_employer = kind in (OutcomeKind.EMPLOYED, OutcomeKind.INTERNSHIP)
            db.session.add(Outcome(learner_id=learner.id, kind=kind, occurred_on=occurred_on,
                                   employer=employer if has_employer else None, sector=sector))


def _microsoft_programme(life: _Life, start: date) -> None:
    """Six finished CYB-101 cohorts sponsored by Microsoft: 150 trained, 60 fully certified."""
    microsoft = db.session.scalar(select(Partner).where(Partner.slug == "microsoft"))
    course = life.courses["CYB-101"]
    fully_certified_left = MICROSOFT_FULLY_CERTIFIED
    for k in range(MICROSOFT_COHORTS):
        starts_on = start + timedelta(days=30 + 95 * k)
        starts_on = min(starts_on, life.today - timedelta(weeks=course.hours // 25 + 2))
        cohort = _new_cohort(life, course, starts_on, MICROSOFT_SEATS, sponsor=microsoft)
        for i in range(MICROSOFT_SEATS + 15):
            applied_on = starts_on - timedelta(days=life.rng.randint(15, 60))
            if i >= MICROSOFT_SEATS:
                _application(life, cohort, ApplicationStatus.REJECTED, applied_on)
                continue
            application = _application(life, cohort, ApplicationStatus.ADMITTED, applied_on)
            full = fully_certified_left > 0 and i % 5 < 2  # 10 per cohort
            fully_certified_left -= int(full)
            partial = life.rng.randint(0, len(course.certifications) - 1)
            _enrol(life, cohort, course, application, EnrolmentStatus.COMPLETED,
                   certifications=len(course.certifications) if full else partial)


def _coworking(life: _Life) -> None:
    rng = life.rng
    monthly = MembershipPlan(name="Monthly desk", kind=PlanKind.MONTHLY,
                             price_minor=12000 * life.scale, currency=life.campus.currency)
    day_pass = MembershipPlan(name="Day pass", kind=PlanKind.DAY_PASS,
                              price_minor=1500 * life.scale, currency=life.campus.currency)
    db.session.add_all([monthly, day_pass])
    db.session.flush()
    coaches = list(db.session.scalars(select(User.id).where(
        User.campus_id == life.campus.id, User.role.in_(CAMPUS_ROLES))))
    learners = list(life.learners_by_email.values())
    memberships = []
    for _ in range(24):
        starts_on = life.today - timedelta(days=rng.randint(0, 700))
        plan = monthly if rng.random() < 0.7 else day_pass
        learner = rng.choice(learners) if learners and rng.random() < 0.5 else None
        name, email = (learner.full_name, learner.email) if learner else life.person()
        if plan is day_pass:
            ends_on, status = starts_on, (MembershipStatus.ENDED if starts_on < life.today
                                          else MembershipStatus.ACTIVE)
        else:
            ends_on = starts_on + timedelta(days=30 * rng.randint(1, 12))
            status = MembershipStatus.ENDED if ends_on < life.today else MembershipStatus.ACTIVE
        membership = Membership(plan_id=plan.id, learner_id=learner.id if learner else None,
                                member_name=name, member_email=email, starts_on=starts_on,
                                ends_on=ends_on, status=status)
        memberships.append(membership)
    db.session.add_all(memberships)
    db.session.flush()
    for membership in memberships:
        if membership.ends_on == membership.starts_on or not coaches:
            continue
        for _ in range(rng.randint(0, 3)):
            span = max(0, (min(membership.ends_on, life.today) - membership.starts_on).days)
            db.session.add(CoachingSession(
                membership_id=membership.id, coach_id=rng.choice(coaches),
                held_on=membership.starts_on + timedelta(days=rng.randint(0, span)),
                duration_minutes=rng.choice((30, 45, 60, 90)),
                notes="CV review and interview practice."))


def _events(life: _Life) -> None:
    rng = life.rng
    titles = ("Women in tech meetup", "Open day", "Capture the flag night", "Hackathon",
              "Meet the employers", "Portfolio review evening", "Cloud career talk")
    for k in range(16):
        day = life.today - timedelta(days=700) + timedelta(days=47 * k + rng.randint(0, 10))
        starts_at = _at(day, 17)
        capacity = rng.choice((30, 40, 60, 80))
        paid = rng.random() < 0.25
        event = Event(title=titles[k % len(titles)], description="Free for our learners.",
                      starts_at=starts_at, ends_at=starts_at + timedelta(hours=3),
                      capacity=capacity, price_minor=(1000 * life.scale if paid else 0),
                      currency=life.campus.currency, status=EventStatus.SCHEDULED)
        db.session.add(event)
        db.session.flush()
        past = day < life.today
        for _ in range(int(capacity * rng.uniform(0.3, 0.9))):
            name, email = life.person()
            db.session.add(EventRegistration(
                event_id=event.id, full_name=name, email=email,
                registered_at=min(starts_at - timedelta(days=rng.randint(1, 20)),
                                  _at(life.today, 8)),
                checked_in_at=(starts_at + timedelta(minutes=rng.randint(0, 40))
                               if past and rng.random() < 0.7 else None)))
