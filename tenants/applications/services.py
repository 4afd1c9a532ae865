"""Application rules: applying on motivation alone, the manager's pipeline, the waitlist.

    submitted → interview → admitted | waitlisted | rejected
    submitted → admitted | waitlisted | rejected;  waitlisted → admitted | rejected
    submitted | interview | waitlisted | admitted → withdrawn

Admission finds or creates the learner (one per e-mail per campus) and enrols them; it is refused
when the cohort is full. A withdrawal after admission drops the enrolment and offers the seat to
the first waitlisted applicant. Every lookup goes through the campus scope; services flush and
never commit.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from core.database import like_pattern, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from tenants.applications import mails
from tenants.applications.models import Application, ApplicationStatus
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.cohorts.services import MAX_ID, get_cohort, seats_taken
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.learners.services import create_learner
from tenants.scoping import bound_campus_id

log = logging.getLogger(__name__)

S = ApplicationStatus
ACTIVE = frozenset({S.SUBMITTED, S.INTERVIEW, S.ADMITTED, S.WAITLISTED})
DECISIONS: dict[str, ApplicationStatus] = {
    "interview": S.INTERVIEW, "admit": S.ADMITTED, "waitlist": S.WAITLISTED, "reject": S.REJECTED,
}
# Where each decision may come from.
DECIDABLE: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.INTERVIEW: frozenset({S.SUBMITTED}),
    S.ADMITTED: frozenset({S.SUBMITTED, S.INTERVIEW, S.WAITLISTED}),
    S.WAITLISTED: frozenset({S.SUBMITTED, S.INTERVIEW}),
    S.REJECTED: frozenset({S.SUBMITTED, S.INTERVIEW, S.WAITLISTED}),
}
ADMITTING = frozenset({CohortStatus.OPEN, CohortStatus.RUNNING})
_KEEP: Any = object()


def cohort_open_for_applications(cohort_id: int) -> Cohort:
    """The bound campus's cohort `cohort_id` if it takes applications.

    Raises NotFound for no such cohort here, Conflict ("not_open") when it is not open.
    """
    cohort = get_cohort(cohort_id)
    if cohort.status is not CohortStatus.OPEN:
        raise Conflict(_("This cohort is not open for applications."), code="not_open")
    return cohort


def apply(cohort: Cohort, data: dict[str, Any]) -> Application:
    """Record an application to `cohort` (validated input: name, e-mail, phone, motivation,
    consent).

    Raises Conflict ("not_open") unless the cohort is open, ("already_applied") while the same
    e-mail has an active application to it; InvalidInput without consent or motivation.
    """
    if cohort.status is not CohortStatus.OPEN:
        raise Conflict(_("This cohort is not open for applications."), code="not_open")
    errors: dict[str, list[str]] = {}
    if data.get("consent") is not True:
        errors["consent"] = [_("We need your consent to process your application.")]
    if not (data.get("motivation") or "").strip():
        errors["motivation"] = [_("This cannot be empty.")]
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    email = data["email"].strip().lower()
    duplicate = db.session.scalar(
        select(func.count()).select_from(Application).where(
            Application.cohort_id == cohort.id, Application.email == email,
            Application.status.in_(ACTIVE)))
    if duplicate:
        raise Conflict(_("An application with this e-mail to this cohort is already under way."),
                       {"email": [_("Already applied to this cohort.")]}, code="already_applied")
    application = Application(
        cohort_id=cohort.id, full_name=data["full_name"], email=email, phone=data.get("phone"),
        motivation=data["motivation"].strip(), consent_given_at=utcnow(),
        status=S.SUBMITTED, notes="", language=mails.page_language())
    db.session.add(application)
    db.session.flush()
    log.info("Application %s/%s to cohort %s submitted", application.campus_id, application.id,
             cohort.id)
    mails.application_received(application, cohort)  # sent once the transaction commits
    return application


def applications_query(status: ApplicationStatus | None = None,
                       cohort_id: int | None = None, search: str = "") -> Select:
    """Applications of the bound campus, newest first, with cohort and course in one query;
    `search` finds a part of the applicant's name, e-mail or phone (taken literally)."""
    statement = (select(Application)
                 .options(joinedload(Application.cohort).joinedload(Cohort.course))
                 .order_by(Application.submitted_at.desc(), Application.id.desc()))
    if term := search.strip():
        pattern = like_pattern(term)
        statement = statement.where(or_(Application.full_name.ilike(pattern, escape="\\"),
                                        Application.email.ilike(pattern, escape="\\"),
                                        Application.phone.ilike(pattern, escape="\\")))
    if status is not None:
        statement = statement.where(Application.status == status)
    if cohort_id is not None:
        statement = statement.where(Application.cohort_id == cohort_id)
    return statement


def status_counts(cohort_id: int | None = None) -> dict[ApplicationStatus, int]:
    """Applications per status (every status listed, zeros included), optionally of one cohort."""
    statement = select(Application.status, func.count()).group_by(Application.status)
    if cohort_id is not None:
        statement = statement.where(Application.cohort_id == cohort_id)
    counts = dict.fromkeys(ApplicationStatus, 0)
    counts.update({ApplicationStatus(status): count
                   for status, count in db.session.execute(statement)})
    return counts


def get_application(application_id: int) -> Application:
    """The bound campus's application `application_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    application = (db.session.get(Application, (campus_id, application_id))
                   if campus_id and 0 < application_id <= MAX_ID else None)
    if application is None:
        raise NotFound(_("No such application."))
    return application


def _lock(cohort: Cohort) -> None:
    """Serialise admissions into one cohort (PostgreSQL row lock), so two managers cannot both
    take its last seat."""
    db.session.execute(select(Cohort.id).where(Cohort.id == cohort.id).with_for_update())


def _learner_for(application: Application) -> Learner:
    """The campus's learner with the applicant's e-mail, created from the application if none."""
    learner = db.session.scalar(select(Learner).where(Learner.email == application.email))
    if learner is None:
        learner = create_learner({"full_name": application.full_name, "email": application.email,
                                  "phone": application.phone, "consent": True})
        learner.consent_given_at = application.consent_given_at
    else:
        learner.phone = learner.phone or application.phone
        learner.consent_given_at = learner.consent_given_at or application.consent_given_at
    db.session.flush()
    return learner


def _active_enrolment(cohort_id: int, email: str) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).join(Learner, Learner.id == Enrolment.learner_id).where(
            Enrolment.cohort_id == cohort_id, Learner.email == email,
            Enrolment.status != EnrolmentStatus.DROPPED))


def _admit(application: Application, cohort: Cohort) -> Enrolment:
    """Admit into `cohort`: learner found or created, enrolment created (or a dropped one
    resumed). Raises Conflict when the cohort is not taking learners, the applicant is already
    enrolled, or every seat is taken ("cohort_full")."""
    if cohort.status not in ADMITTING:
        raise Conflict(_("Admission is possible only while the cohort is open or running."),
                       code="cohort_closed")
    _lock(cohort)
    if _active_enrolment(cohort.id, application.email) is not None:
        raise Conflict(_("This applicant is already enrolled in the cohort."),
                       code="already_enrolled")
    if seats_taken(cohort) >= cohort.seats:
        raise Conflict(_("The cohort is full: all %(seats)d seats are taken. Waitlist the "
                         "applicant instead, or free a seat first.", seats=cohort.seats),
                       code="cohort_full")
    learner = _learner_for(application)
    enrolment = db.session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.learner_id == learner.id))
    if enrolment is None:
        enrolment = Enrolment(cohort_id=cohort.id, learner_id=learner.id,
                              application_id=application.id, status=EnrolmentStatus.ENROLLED)
        db.session.add(enrolment)
    else:  # dropped earlier: one enrolment per learner and cohort, resumed
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.dropped_at = None
        enrolment.application_id = application.id
        enrolment.enrolled_at = utcnow()
    application.learner_id = learner.id
    application.status = S.ADMITTED
    application.decided_at = utcnow()
    db.session.flush()
    mails.application_admitted(application, cohort)  # sent once the transaction commits
    return enrolment


def decide(application: Application, decision: str, reason: str | None, actor: Any) -> Application:
    """Apply a manager's `decision` ("interview", "admit", "waitlist", "reject").

    Raises InvalidInput for an unknown decision or a rejection without a reason; Conflict
    ("invalid_transition") when the decision does not apply to the application's status,
    ("cohort_full") when admitting into a full cohort; nothing changes then.
    """
    target = DECISIONS.get(decision)
    if target is None:
        raise InvalidInput(_("Some fields are invalid."), {"decision": [
            _("Choose one of: %(choices)s.", choices=", ".join(DECISIONS))]})
    reason = (reason or "").strip() or None
    if target is S.REJECTED and reason is None:
        raise InvalidInput(_("Say why the application is rejected."),
                           {"reason": [_("A rejection needs a reason.")]})
    if application.status not in DECIDABLE[target]:
        raise Conflict(_("An application that is %(current)s cannot be moved to %(target)s.",
                         current=application.status.value, target=target.value),
                       code="invalid_transition")
    if target is S.ADMITTED:
        _admit(application, application.cohort)
    else:
        application.status = target
        application.decided_at = utcnow()
        if target is S.WAITLISTED:
            application.waitlisted_at = utcnow()
    application.decision_reason = reason
    db.session.flush()
    log.info("Application %s/%s: %s by user %s", application.campus_id, application.id,
             target.value, getattr(actor, "id", actor))
    return application


def offer_freed_seat(cohort: Cohort) -> Application | None:
    """Admit the first waitlisted applicant (by waitlisted_at) if `cohort` has a free seat.

    Called when a seat is freed (a withdrawal, a dropped enrolment). Returns the admitted
    application, or None when the cohort is full, not taking learners, or has no waitlist.
    Applicants already enrolled in the cohort by other means are passed over.
    """
    if cohort.status not in ADMITTING:
        return None
    _lock(cohort)
    if seats_taken(cohort) >= cohort.seats:
        return None
    waitlist = db.session.scalars(
        select(Application)
        .where(Application.cohort_id == cohort.id, Application.status == S.WAITLISTED)
        .order_by(Application.waitlisted_at, Application.id))
    for application in waitlist:
        if _active_enrolment(cohort.id, application.email) is None:
            _admit(application, cohort)
            log.info("Application %s/%s admitted from the waitlist of cohort %s",
                     application.campus_id, application.id, cohort.id)
            return application
    return None


def withdraw(application: Application) -> Application | None:
    """Withdraw an active application; if it was admitted, drop its enrolment and offer the seat
    to the waitlist.

    Returns the waitlisted application admitted into the freed seat, if any. Raises Conflict
    ("invalid_transition") for an application already decided against or withdrawn, or whose
    learner has completed the cohort.
    """
    if application.status not in ACTIVE:
        raise Conflict(_("An application that is %(current)s cannot be withdrawn.",
                         current=application.status.value), code="invalid_transition")
    was_admitted = application.status is S.ADMITTED
    if was_admitted and application.learner_id is not None:
        enrolment = db.session.scalar(select(Enrolment).where(
            Enrolment.cohort_id == application.cohort_id,
            Enrolment.learner_id == application.learner_id))
        if enrolment is not None and enrolment.status is EnrolmentStatus.COMPLETED:
            raise Conflict(_("The learner has completed this cohort; the application stays."),
                           code="invalid_transition")
        if enrolment is not None and enrolment.status is EnrolmentStatus.ENROLLED:
            enrolment.status = EnrolmentStatus.DROPPED
            enrolment.dropped_at = utcnow()
    application.status = S.WITHDRAWN
    application.decided_at = utcnow()
    db.session.flush()
    return offer_freed_seat(application.cohort) if was_admitted else None


def update_notes(application: Application, notes: str = _KEEP, score: int | None = _KEEP
                 ) -> Application:
    """Change the team's notes and/or score (0 to 100, or None to clear); omitted ones stay.

    Raises InvalidInput for a score out of range.
    """
    if score is not _KEEP:
        if score is not None and not 0 <= score <= 100:
            raise InvalidInput(_("Some fields are invalid."),
                               {"score": [_("A score from 0 to 100.")]})
        application.score = score
    if notes is not _KEEP:
        application.notes = (notes or "").strip()
    db.session.flush()
    return application
