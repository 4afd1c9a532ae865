"""Enrolment rules after admission: attendance, completion and drop-outs.

Enrolments are created by admissions (tenants.applications); every lookup here goes through the
campus scope, so another campus's enrolment is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from core.database import like_pattern, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.campuses.services import today_at
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.scoping import bound_campus_id

if TYPE_CHECKING:
    from tenants.applications.models import Application


def campus_today() -> date:
    """Today in the bound campus's timezone ("not in the future" means the campus's calendar)."""
    campus_id = bound_campus_id()
    campus = db.session.get(Campus, campus_id) if campus_id else None
    return today_at(campus) if campus else datetime.now(UTC).date()


def contains(term: str) -> str | None:
    """A LIKE pattern matching `term` anywhere, wildcards escaped (use with escape="\\")."""
    term = term.strip()
    return like_pattern(term) if term else None


def enrolments_query(cohort_id: int | None = None, status: EnrolmentStatus | str | None = None,
                     learner_id: int | None = None, search: str = "") -> Select:
    """Enrolments of the bound campus, newest cohort first, learner and cohort loaded with them;
    `search` matches the learner's name or e-mail."""
    statement = (
        select(Enrolment)
        .join(Enrolment.cohort)
        .join(Enrolment.learner)
        .options(contains_eager(Enrolment.learner),
                 contains_eager(Enrolment.cohort).joinedload(Cohort.course))
        .order_by(Cohort.starts_on.desc(), Enrolment.cohort_id.desc(), Learner.full_name,
                  Enrolment.id)
    )
    if cohort_id is not None:
        statement = statement.where(Enrolment.cohort_id == cohort_id)
    if status is not None:
        statement = statement.where(Enrolment.status == EnrolmentStatus(status))
    if learner_id is not None:
        statement = statement.where(Enrolment.learner_id == learner_id)
    if pattern := contains(search):
        statement = statement.where(or_(Learner.full_name.ilike(pattern, escape="\\"),
                                        Learner.email.ilike(pattern, escape="\\")))
    return statement


def get_enrolment(enrolment_id: int) -> Enrolment:
    """The bound campus's enrolment `enrolment_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    enrolment = db.session.get(Enrolment, (campus_id, enrolment_id)) if campus_id else None
    if enrolment is None:
        raise NotFound(_("No such enrolment."))
    return enrolment


def cohorts_for_filter() -> list[Cohort]:
    """The bound campus's cohorts, newest first, with their course (for a filter menu)."""
    return list(db.session.scalars(
        select(Cohort).options(joinedload(Cohort.course))
        .order_by(Cohort.starts_on.desc(), Cohort.id.desc())))


def record_attendance(enrolment: Enrolment, percent: int) -> Enrolment:
    """Set the share of sessions attended (0-100); raises InvalidInput outside that range."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise InvalidInput(_("Attendance is a percentage."),
                           {"attendance_percent": [_("Enter a whole number from 0 to 100.")]})
    enrolment.attendance_percent = percent
    db.session.flush()
    return enrolment


def _refuse_unless_enrolled(enrolment: Enrolment, action: str) -> None:
    """Raise Conflict("invalid_transition"), saying why, unless `enrolment` is still enrolled.

    The row is read again under a lock (PostgreSQL), so two people acting at once cannot both
    move the same enrolment.
    """
    db.session.refresh(enrolment, with_for_update=True)
    if enrolment.status is EnrolmentStatus.ENROLLED:
        return
    completed = enrolment.status is EnrolmentStatus.COMPLETED
    day = format_date(enrolment.completed_on) if enrolment.completed_on else ""
    if action == "complete":
        message = (_("This enrolment was already completed on %(day)s.", day=day) if completed
                   else _("This enrolment was dropped, so it cannot be completed."))
    else:
        message = (_("This enrolment was completed on %(day)s, so it cannot be dropped.", day=day)
                   if completed else _("This enrolment is already dropped."))
    raise Conflict(message, code="invalid_transition")


def complete(enrolment: Enrolment, completed_on: date | None = None,
             today: date | None = None) -> Enrolment:
    """enrolled → completed on `completed_on` (default: today at the campus).

    Raises Conflict("invalid_transition") unless the enrolment is enrolled in a cohort that was
    not cancelled, and InvalidInput when the date is before the cohort starts or in the future.
    """
    _refuse_unless_enrolled(enrolment, "complete")
    cohort = enrolment.cohort
    if cohort.status is CohortStatus.CANCELLED:
        raise Conflict(_("The cohort was cancelled, so its enrolments cannot be completed."),
                       code="invalid_transition")
    today = today or campus_today()
    completed_on = completed_on or today
    problems = []
    if completed_on > today:
        problems.append(_("The completion date cannot be in the future."))
    if completed_on < cohort.starts_on:
        problems.append(_("The cohort starts on %(day)s; completion cannot be earlier.",
                          day=format_date(cohort.starts_on)))
    if problems:
        raise InvalidInput(_("Check the completion date."), {"completed_on": problems})
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.completed_on = completed_on
    db.session.flush()
    return enrolment


@dataclass(frozen=True)
class DropResult:
    enrolment: Enrolment
    seat_offered_to: Application | None


def drop(enrolment: Enrolment) -> DropResult:
    """enrolled → dropped, then offer the freed seat to the first waitlisted applicant.

    Raises Conflict("invalid_transition") unless the enrolment is enrolled.
    """
    # Admissions sit above enrolments; imported here so the two packages load in any order.
    from tenants.applications.services import offer_freed_seat

    _refuse_unless_enrolled(enrolment, "drop")
    enrolment.status = EnrolmentStatus.DROPPED
    enrolment.dropped_at = utcnow()
    db.session.flush()
    offered = offer_freed_seat(enrolment.cohort)
    return DropResult(enrolment, offered)
