"""Cohort rules: scheduling a catalogue course at the bound campus, seats, funding, status.

Every lookup goes through the campus scope; services flush and never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import joinedload

from core.catalogue.models import Course
from core.catalogue.services import schedulable_course
from core.database import like_pattern
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.cohorts.schemas import COHORT_LANGUAGES
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.scoping import bound_campus_id

log = logging.getLogger(__name__)

# The only moves of a cohort's life; anything else is refused with "invalid_transition".
TRANSITIONS: dict[CohortStatus, frozenset[CohortStatus]] = {
    CohortStatus.DRAFT: frozenset({CohortStatus.OPEN, CohortStatus.CANCELLED}),
    CohortStatus.OPEN: frozenset({CohortStatus.RUNNING, CohortStatus.CANCELLED}),
    CohortStatus.RUNNING: frozenset({CohortStatus.FINISHED, CohortStatus.CANCELLED}),
    CohortStatus.FINISHED: frozenset(),
    CohortStatus.CANCELLED: frozenset(),
}
MAX_ID = 2**63 - 1
EDITABLE = frozenset({CohortStatus.DRAFT, CohortStatus.OPEN})
SCHEDULE_FIELDS = ("course_id", "starts_on", "ends_on", "schedule", "seats", "language",
                   "price_minor", "funding", "sponsor_id")


def _with_course(statement: Select) -> Select:
    return statement.options(joinedload(Cohort.course))


def course_matches(term: str) -> Any:
    """A condition on Course: `term` in its code or its title in any language (literally)."""
    pattern = like_pattern(term)
    return or_(*(column.ilike(pattern, escape="\\") for column in (
        Course.code, Course.title_en, Course.title_fr, Course.title_nl, Course.title_it)))


def cohorts_query(status: CohortStatus | None = None, starts_from: date | None = None,
                  starts_until: date | None = None, today: date | None = None,
                  search: str = "") -> Select:
    """Cohorts of the bound campus, current and upcoming first (by start), then past ones
    (latest first), with their course loaded in the same query; `search` finds a part of the
    course's code or title."""
    today = today or date.today()
    current = Cohort.ends_on >= today
    statement = _with_course(select(Cohort)).order_by(
        case((current, 0), else_=1),
        case((current, Cohort.starts_on), else_=None),
        Cohort.starts_on.desc(),
        Cohort.id,
    )
    if status is not None:
        statement = statement.where(Cohort.status == status)
    if starts_from is not None:
        statement = statement.where(Cohort.starts_on >= starts_from)
    if starts_until is not None:
        statement = statement.where(Cohort.starts_on <= starts_until)
    if term := search.strip():
        statement = statement.where(Cohort.course.has(course_matches(term)))
    return statement


def open_cohorts_query() -> Select:
    """Cohorts of the bound campus open for applications, soonest first (the public list)."""
    return (_with_course(select(Cohort))
            .where(Cohort.status == CohortStatus.OPEN)
            .order_by(Cohort.starts_on, Cohort.id))


def _valid_id(row_id: Any) -> bool:
    """Whether `row_id` could name a row (a larger number must not reach SQL: BIGINT)."""
    return isinstance(row_id, int) and not isinstance(row_id, bool) and 0 < row_id <= MAX_ID


def get_cohort(cohort_id: int) -> Cohort:
    """The bound campus's cohort `cohort_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    cohort = (db.session.get(Cohort, (campus_id, cohort_id))
              if campus_id and _valid_id(cohort_id) else None)
    if cohort is None:
        raise NotFound(_("No such cohort."))
    return cohort


def seats_taken_by_cohort(cohorts: Iterable[Cohort]) -> dict[int, int]:
    """Cohort id → enrolments that are not dropped, for all `cohorts` in one query."""
    ids = [cohort.id for cohort in cohorts]
    taken = dict.fromkeys(ids, 0)
    if ids:
        rows = db.session.execute(
            select(Enrolment.cohort_id, func.count())
            .where(Enrolment.cohort_id.in_(ids), Enrolment.status != EnrolmentStatus.DROPPED)
            .group_by(Enrolment.cohort_id))
        taken.update({cohort_id: count for cohort_id, count in rows})
    return taken


def seats_taken(cohort: Cohort) -> int:
    """Enrolments of `cohort` that are not dropped (enrolled or completed)."""
    return seats_taken_by_cohort([cohort])[cohort.id]


def fill_rate(cohort: Cohort, taken: int | None = None) -> float:
    """Share of the seats taken, 0.0 to 1.0 (more only if seats were cut below enrolments)."""
    taken = seats_taken(cohort) if taken is None else taken
    return taken / cohort.seats if cohort.seats else 0.0


def schedulable_courses() -> list[Course]:
    """Catalogue courses a campus may schedule (not retired), by code."""
    return list(db.session.scalars(
        select(Course).where(Course.retired_at.is_(None)).order_by(Course.code)))


def sponsors() -> list[Partner]:
    return list(db.session.scalars(select(Partner).order_by(Partner.name)))


def _course_errors(course_id: Any) -> list[str]:
    """Why `course_id` cannot be scheduled (the catalogue's rule), empty when it can."""
    try:
        schedulable_course(course_id)
    except InvalidInput as error:
        return list(error.fields.get("course_id") or [error.message])
    return []


def _funding_errors(values: dict[str, Any], sponsor_given: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    funding, price = values["funding"], values["price_minor"]
    if funding is Funding.FREE and price != 0:
        errors["price_minor"] = [_("A free cohort has no price.")]
    elif funding is Funding.PAID and price <= 0:
        errors["price_minor"] = [_("A paid cohort needs a price above zero.")]
    elif funding is Funding.SPONSORED:
        if price != 0:
            errors["price_minor"] = [_("A sponsored cohort is free for learners: price 0.")]
        if values["sponsor_id"] is None:
            errors["sponsor_id"] = [_("Choose the partner who sponsors this cohort.")]
        elif not _valid_id(values["sponsor_id"]) or db.session.get(
                Partner, values["sponsor_id"]) is None:
            errors["sponsor_id"] = [_("No such partner.")]
    if funding is not Funding.SPONSORED and sponsor_given and values["sponsor_id"] is not None:
        errors["sponsor_id"] = [_("Only a sponsored cohort has a sponsor.")]
    return errors


def _check(values: dict[str, Any], sponsor_given: bool, check_course: bool) -> None:
    """Raise InvalidInput naming every field that breaks a rule of a cohort."""
    errors: dict[str, list[str]] = {}
    if check_course and (course_errors := _course_errors(values["course_id"])):
        errors["course_id"] = course_errors
    if values["ends_on"] < values["starts_on"]:
        errors["ends_on"] = [_("The end date cannot be before the start date.")]
    if values["seats"] is None or values["seats"] <= 0:
        errors["seats"] = [_("Offer at least one seat.")]
    if values["language"] not in COHORT_LANGUAGES:
        errors["language"] = [_("Choose one of: %(choices)s.", choices=", ".join(COHORT_LANGUAGES))]
    if values["price_minor"] is None or values["price_minor"] < 0:
        errors["price_minor"] = [_("The price cannot be negative.")]
    else:
        errors.update(_funding_errors(values, sponsor_given))
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)


def create_cohort(campus: Campus, data: dict[str, Any]) -> Cohort:
    """Schedule a course at the bound campus `campus`, as a draft, priced in its currency.

    Raises InvalidInput naming each field that breaks a rule (retired or unknown course, dates
    out of order, no seat, unknown language, price and funding that disagree, unknown sponsor).
    """
    values = {"schedule": "", "price_minor": 0, "funding": Funding.FREE, "sponsor_id": None,
              **{k: v for k, v in data.items() if k in SCHEDULE_FIELDS}}
    _check(values, "sponsor_id" in data, check_course=True)
    if values["funding"] is not Funding.SPONSORED:
        values["sponsor_id"] = None
    cohort = Cohort(**values, currency=campus.currency, status=CohortStatus.DRAFT)
    db.session.add(cohort)
    db.session.flush()
    return cohort


def update_cohort(cohort: Cohort, data: dict[str, Any]) -> Cohort:
    """Change the given fields of a draft or open cohort.

    Raises Conflict ("not_editable") once it runs, ends or is cancelled, or when the course of a
    cohort open for applications would change; InvalidInput for a rule broken by the result,
    including fewer seats than are taken.
    """
    if cohort.status not in EDITABLE:
        raise Conflict(_("A cohort that is %(status)s can no longer be changed.",
                         status=status_label(cohort.status).lower()), code="not_editable")
    changes = {k: v for k, v in data.items() if k in SCHEDULE_FIELDS}
    course_changes = "course_id" in changes and changes["course_id"] != cohort.course_id
    if course_changes and cohort.status is not CohortStatus.DRAFT:
        raise Conflict(_("The course of a cohort open for applications cannot change: people "
                         "applied for it."), {"course_id": [_("Fixed once the cohort is open.")]},
                       code="not_editable")
    values = {field: getattr(cohort, field) for field in SCHEDULE_FIELDS}
    values.update(changes)
    _check(values, "sponsor_id" in changes, check_course=course_changes)
    taken = seats_taken(cohort)
    if values["seats"] < taken:
        raise InvalidInput(_("Some fields are invalid."), {"seats": [
            _("%(taken)d seats are taken; offer at least that many.", taken=taken)]})
    if values["funding"] is not Funding.SPONSORED:
        values["sponsor_id"] = None
    for field, value in values.items():
        setattr(cohort, field, value)
    db.session.flush()
    return cohort


def transition_cohort(cohort: Cohort, status: CohortStatus) -> Cohort:
    """Move `cohort` to `status` along TRANSITIONS.

    Raises Conflict ("invalid_transition") with the reason for any other move, and
    ("course_retired") when opening a cohort of a course retired since it was scheduled.
    """
    status = CohortStatus(status)
    if status not in TRANSITIONS[cohort.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[cohort.status]))
        reason = (_("A cohort that is %(current)s cannot become %(target)s; it can become: "
                    "%(allowed)s.", current=cohort.status.value, target=status.value,
                    allowed=allowed) if allowed else
                  _("A cohort that is %(current)s cannot change any more.",
                    current=cohort.status.value))
        raise Conflict(reason, code="invalid_transition")
    if status is CohortStatus.OPEN and _course_errors(cohort.course_id):
        raise Conflict(_("Its course has been retired from the catalogue; it cannot open."),
                       code="course_retired")
    log.info("Cohort %s/%s: %s -> %s", cohort.campus_id, cohort.id, cohort.status, status)
    cohort.status = status
    db.session.flush()
    return cohort


def status_label(status: CohortStatus) -> str:
    return {
        CohortStatus.DRAFT: _("Draft"),
        CohortStatus.OPEN: _("Open for applications"),
        CohortStatus.RUNNING: _("Running"),
        CohortStatus.FINISHED: _("Finished"),
        CohortStatus.CANCELLED: _("Cancelled"),
    }[status]
