"""Learning-record rules: certification awards and outcomes on the path to work.

Learners named in a body are looked up through the campus scope: another campus's learner is
"no such learner" (422 on the field), never a link across campuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from core.catalogue.models import Certification, Course
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from tenants.enrolments.services import campus_today, contains
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome, OutcomeKind
from tenants.scoping import bound_campus_id

# Outcomes that name who took the learner on.
NEEDS_EMPLOYER = frozenset({OutcomeKind.EMPLOYED, OutcomeKind.INTERNSHIP})


def _learner_or_none(learner_id: Any) -> Learner | None:
    campus_id = bound_campus_id()
    if campus_id is None or isinstance(learner_id, bool) or not isinstance(learner_id, int):
        return None
    return db.session.get(Learner, (campus_id, learner_id))


def _no_such_learner() -> list[str]:
    return [_("No such learner at this campus.")]


# --- certification awards -------------------------------------------------------------------

def awards_query(learner_id: int | None = None, certification_id: int | None = None,
                 search: str = "") -> Select:
    """Awards of the bound campus, newest first, with learner and certification loaded;
    `search` matches the learner's name or the certification's exam code or name."""
    statement = (
        select(CertificationAward)
        .join(CertificationAward.learner)
        .join(CertificationAward.certification)
        .options(contains_eager(CertificationAward.learner),
                 contains_eager(CertificationAward.certification))
        .order_by(CertificationAward.awarded_on.desc(), CertificationAward.id.desc())
    )
    if pattern := contains(search):
        statement = statement.where(or_(Learner.full_name.ilike(pattern, escape="\\"),
                                        Certification.exam_code.ilike(pattern, escape="\\"),
                                        Certification.name.ilike(pattern, escape="\\")))
    if learner_id is not None:
        statement = statement.where(CertificationAward.learner_id == learner_id)
    if certification_id is not None:
        statement = statement.where(CertificationAward.certification_id == certification_id)
    return statement


def get_award(award_id: int) -> CertificationAward:
    """The bound campus's award `award_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    award = db.session.get(CertificationAward, (campus_id, award_id)) if campus_id else None
    if award is None:
        raise NotFound(_("No such certification award."))
    return award


def _credential_url_problem(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _("Enter a web address starting with http:// or https://.")
    if len(url) > 500:
        return _("At most 500 characters.")
    return None


def award_certification(learner_id: int, certification_id: int, awarded_on: date,
                        credential_url: str | None = None,
                        today: date | None = None) -> CertificationAward:
    """Record that a learner of the bound campus earned a catalogue certification.

    Raises InvalidInput (fields learner_id, certification_id, awarded_on, credential_url) for an
    unknown or foreign learner, an unknown certification, a date in the future or a credential
    link that is not http(s); Conflict("already_awarded") when the learner already holds it.
    """
    today = today or campus_today()
    learner = _learner_or_none(learner_id)
    certification = (db.session.get(Certification, certification_id)
                     if isinstance(certification_id, int) else None)
    errors: dict[str, list[str]] = {}
    if learner is None:
        errors["learner_id"] = _no_such_learner()
    if certification is None:
        errors["certification_id"] = [_("No such certification in the catalogue.")]
    if awarded_on > today:
        errors["awarded_on"] = [_("The award date cannot be in the future.")]
    if problem := _credential_url_problem(credential_url):
        errors["credential_url"] = [problem]
    if errors:
        raise InvalidInput(_("The certification could not be recorded."), errors)
    held = db.session.scalar(awards_query(learner.id, certification.id).limit(1))
    if held is not None:
        raise Conflict(
            _("%(name)s already holds %(code)s (awarded on %(day)s).", name=learner.full_name,
              code=certification.exam_code, day=format_date(held.awarded_on)),
            {"certification_id": [_("Already awarded to this learner.")]},
            code="already_awarded")
    award = CertificationAward(learner_id=learner.id, certification_id=certification.id,
                               awarded_on=awarded_on, credential_url=credential_url)
    db.session.add(award)
    db.session.flush()
    return award


def revoke_award(award: CertificationAward) -> None:
    """Remove an award recorded in error (or withdrawn by the issuer)."""
    db.session.delete(award)
    db.session.flush()


def fully_certified(learner: Learner, course: Course) -> bool:
    """True when `learner` holds every certification `course` prepares for.

    A course that prepares for no certification certifies nobody: False.
    """
    needed = {certification.id for certification in course.certifications}
    if not needed:
        return False
    held = set(db.session.scalars(
        select(CertificationAward.certification_id)
        .where(CertificationAward.learner_id == learner.id,
               CertificationAward.certification_id.in_(needed))))
    return held == needed


def fully_certified_learner_ids(course: Course,
                                learner_ids: Iterable[int] | None = None) -> set[int]:
    """The learners of the bound campus (among `learner_ids`, if given) who hold every
    certification of `course`, in one query (for impact reports)."""
    needed = {certification.id for certification in course.certifications}
    if not needed:
        return set()
    statement = (
        select(CertificationAward.learner_id)
        .where(CertificationAward.certification_id.in_(needed))
        .group_by(CertificationAward.learner_id)
        .having(func.count(func.distinct(CertificationAward.certification_id)) == len(needed))
    )
    if learner_ids is not None:
        statement = statement.where(CertificationAward.learner_id.in_(list(learner_ids)))
    return set(db.session.scalars(statement))


@dataclass(frozen=True)
class CertificationChoices:
    """Certifications to offer on a learner's award form: those of their courses first."""

    of_courses: list[Certification]
    others: list[Certification]


def certification_choices(courses: Iterable[Course]) -> CertificationChoices:
    """The certifications `courses` prepare for, then the rest of the catalogue."""
    first: dict[int, Certification] = {}
    for course in courses:
        for certification in course.certifications:
            first.setdefault(certification.id, certification)
    everything = db.session.scalars(
        select(Certification).order_by(Certification.issuer, Certification.exam_code))
    return CertificationChoices(
        sorted(first.values(), key=lambda c: (c.issuer, c.exam_code)),
        [certification for certification in everything if certification.id not in first])


# --- outcomes -------------------------------------------------------------------------------

def outcomes_query(learner_id: int | None = None, kind: OutcomeKind | str | None = None,
                   search: str = "") -> Select:
    """Outcomes of the bound campus, most recent first, with the learner loaded; `search`
    matches the learner's name, the employer or the sector."""
    statement = (
        select(Outcome)
        .join(Outcome.learner)
        .options(contains_eager(Outcome.learner))
        .order_by(Outcome.occurred_on.desc(), Outcome.id.desc())
    )
    if pattern := contains(search):
        statement = statement.where(or_(Learner.full_name.ilike(pattern, escape="\\"),
                                        Outcome.employer.ilike(pattern, escape="\\"),
                                        Outcome.sector.ilike(pattern, escape="\\")))
    if learner_id is not None:
        statement = statement.where(Outcome.learner_id == learner_id)
    if kind is not None:
        statement = statement.where(Outcome.kind == OutcomeKind(kind))
    return statement


def get_outcome(outcome_id: int) -> Outcome:
    """The bound campus's outcome `outcome_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    outcome = db.session.get(Outcome, (campus_id, outcome_id)) if campus_id else None
    if outcome is None:
        raise NotFound(_("No such outcome."))
    return outcome


def _outcome_problems(facts: dict[str, Any], today: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    kind = facts.get("kind")
    try:
        kind = OutcomeKind(kind)
    except ValueError:
        errors["kind"] = [_("Choose employed, internship, started a business or further "
                            "education.")]
    employer = (facts.get("employer") or "").strip()
    if kind in NEEDS_EMPLOYER and not employer:
        errors["employer"] = [_("Name the employer of a job or an internship.")]
    if len(employer) > 200:
        errors["employer"] = [_("At most 200 characters.")]
    if len((facts.get("sector") or "").strip()) > 120:
        errors["sector"] = [_("At most 120 characters.")]
    occurred_on = facts.get("occurred_on")
    if not isinstance(occurred_on, date):
        errors["occurred_on"] = [_("Enter a date.")]
    elif occurred_on > today:
        errors["occurred_on"] = [_("The date cannot be in the future.")]
    return errors


def record_outcome(learner_id: int, kind: OutcomeKind | str, employer: str | None = None,
                   sector: str | None = None, occurred_on: date | None = None,
                   notes: str = "", today: date | None = None) -> Outcome:
    """Record a step on the path to work of a learner of the bound campus.

    Raises InvalidInput (fields learner_id, kind, employer, occurred_on…) for an unknown or
    foreign learner, an unknown kind, a job or internship without an employer, or a date in the
    future.
    """
    learner = _learner_or_none(learner_id)
    facts = {"kind": kind, "employer": employer, "sector": sector, "occurred_on": occurred_on}
    errors = _outcome_problems(facts, today or campus_today())
    if learner is None:
        errors["learner_id"] = _no_such_learner()
    if errors:
        raise InvalidInput(_("The outcome could not be recorded."), errors)
    outcome = Outcome(learner_id=learner.id, kind=OutcomeKind(kind),
                      employer=(employer or "").strip() or None,
                      sector=(sector or "").strip() or None, occurred_on=occurred_on,
                      notes=(notes or "").strip())
    db.session.add(outcome)
    db.session.flush()
    return outcome


def update_outcome(outcome: Outcome, data: dict[str, Any],
                   today: date | None = None) -> Outcome:
    """Correct the given facts of an outcome (never its learner); the same rules as recording
    one apply to the result. Raises InvalidInput."""
    facts = {"kind": outcome.kind, "employer": outcome.employer, "sector": outcome.sector,
             "occurred_on": outcome.occurred_on, "notes": outcome.notes}
    facts.update({key: value for key, value in data.items() if key in facts})
    errors = _outcome_problems(facts, today or campus_today())
    if errors:
        raise InvalidInput(_("The outcome could not be saved."), errors)
    outcome.kind = OutcomeKind(facts["kind"])
    outcome.employer = (facts["employer"] or "").strip() or None
    outcome.sector = (facts["sector"] or "").strip() or None
    outcome.occurred_on = facts["occurred_on"]
    outcome.notes = (facts["notes"] or "").strip()
    db.session.flush()
    return outcome
