"""A learner's personal data (GDPR): everything the campus holds about the person, exported as
JSON, and erasure that anonymises the person while every figure stays the same.

The person is the learner row and what hangs on it at the same campus: applications (linked on
admission, or still unlinked with the learner's e-mail), enrolments, certification awards,
outcomes, coworking memberships (linked, or an outside membership with the learner's e-mail),
their coaching sessions, and event registrations made with the learner's e-mail. Higher layers
add what they hold (billing: the orders the person pays) by registering a `PersonalDataSource`
at init, so `tenants` never imports them.

Erasure overwrites names, e-mails, phones and free text; it deletes no row and changes no status,
date, amount or link, so counts, the impact funnel, the ledger (append-only) and invoices (issued
ones are immutable; a learner is never an invoice's recipient) read the same afterwards. An erased
learner's e-mail becomes `erased-<id>@invalid`: unique at the campus, never deliverable (RFC 2606
reserves `.invalid`), refused by every e-mail input, so it also marks the learner as erased
without a column of its own, and frees the person's real address for a new registration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from core.database import utcnow
from core.errors import Conflict
from core.extensions import db
from tenants.applications.models import Application
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort
from tenants.coworking.models import CoachingSession, Membership
from tenants.enrolments.models import Enrolment
from tenants.events.models import EventRegistration
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome

log = logging.getLogger(__name__)

# Stored, not displayed through gettext: the anonymised value itself, the same in every locale.
ERASED_NAME = "Erased learner"
ERASED_DOMAIN = "invalid"
EXPORT_FORMAT = "campusflow.personal-data.v1"
_SOURCES_KEY = "campusflow.personal_data_sources"


def erased_email(learner_id: int) -> str:
    """The placeholder e-mail of erased learner `learner_id`: unique at its campus and never
    delivered."""
    return f"erased-{learner_id}@{ERASED_DOMAIN}"


def is_erased(learner: Learner) -> bool:
    """Whether `learner` has been erased (no e-mail input accepts a `.invalid` address)."""
    return learner.email == erased_email(learner.id)


def ensure_not_erased(learner: Learner) -> None:
    """Raises Conflict ("learner_erased"): an erased person's record is not edited back to life."""
    if is_erased(learner):
        raise Conflict(_("This learner's personal data was erased; the record cannot be edited. "
                         "Register the person again as a new learner if they come back."),
                       code="learner_erased")


# --- what the campus holds about the person ---------------------------------------------------


@dataclass(frozen=True)
class PersonalRecords:
    """The rows of the bound campus about one person, looked up before any change."""

    learner: Learner
    # What identified the person when the records were looked up (before any erasure).
    full_name: str
    email: str
    phone: str | None
    applications: list[Application]
    enrolments: list[Enrolment]
    awards: list[CertificationAward]
    outcomes: list[Outcome]
    memberships: list[Membership]
    coaching_sessions: list[CoachingSession]
    registrations: list[EventRegistration]

    @property
    def enrolment_ids(self) -> list[int]:
        return [row.id for row in self.enrolments]

    @property
    def membership_ids(self) -> list[int]:
        return [row.id for row in self.memberships]

    @property
    def registration_ids(self) -> list[int]:
        return [row.id for row in self.registrations]


@dataclass(frozen=True)
class PersonalDataSource:
    """Personal data a higher layer holds about a learner (e.g. billing's orders).

    `export(records)` returns the rows of its section, already dumped (JSON-ready dicts);
    `erase(records)` anonymises them (flush, no commit) and returns how many rows it changed.
    Both run with the learner's campus bound; erasure runs the sources by `order`, after the
    campus's own rows and the learner are anonymised and flushed (so a source that cleans up
    after the others, such as a log of changes, can come last).
    """

    section: str
    export: Callable[[PersonalRecords], list[dict[str, Any]]]
    erase: Callable[[PersonalRecords], int]
    order: int = 100


def register_personal_data_source(app: Flask, source: PersonalDataSource) -> None:
    """Add `source` to the export and the erasure of every learner (call from `init_app`)."""
    app.extensions.setdefault(_SOURCES_KEY, []).append(source)


def personal_data_sources(app: Flask | None = None) -> list[PersonalDataSource]:
    return sorted((app or current_app).extensions.get(_SOURCES_KEY, []), key=lambda s: s.order)


def personal_records(learner: Learner) -> PersonalRecords:
    """Every row of the bound campus about `learner` (a fixed number of queries)."""
    email = learner.email
    with_course = joinedload(Application.cohort).joinedload(Cohort.course)
    applications = list(db.session.scalars(
        select(Application).options(with_course).where(or_(
            Application.learner_id == learner.id,
            and_(Application.learner_id.is_(None), Application.email == email)))
        .order_by(Application.submitted_at, Application.id)))
    enrolments = list(db.session.scalars(
        select(Enrolment).options(joinedload(Enrolment.cohort).joinedload(Cohort.course))
        .where(Enrolment.learner_id == learner.id).order_by(Enrolment.enrolled_at, Enrolment.id)))
    awards = list(db.session.scalars(
        select(CertificationAward).options(joinedload(CertificationAward.certification))
        .where(CertificationAward.learner_id == learner.id)
        .order_by(CertificationAward.awarded_on, CertificationAward.id)))
    outcomes = list(db.session.scalars(
        select(Outcome).where(Outcome.learner_id == learner.id)
        .order_by(Outcome.occurred_on, Outcome.id)))
    memberships = list(db.session.scalars(
        select(Membership).options(joinedload(Membership.plan)).where(or_(
            Membership.learner_id == learner.id,
            and_(Membership.learner_id.is_(None), Membership.member_email == email)))
        .order_by(Membership.starts_on, Membership.id)))
    membership_ids = [row.id for row in memberships]
    sessions = list(db.session.scalars(
        select(CoachingSession).options(joinedload(CoachingSession.coach))
        .where(CoachingSession.membership_id.in_(membership_ids))
        .order_by(CoachingSession.held_on, CoachingSession.id))) if membership_ids else []
    registrations = list(db.session.scalars(
        select(EventRegistration).options(joinedload(EventRegistration.event))
        .where(EventRegistration.email == email)
        .order_by(EventRegistration.registered_at, EventRegistration.id)))
    return PersonalRecords(learner, learner.full_name, email, learner.phone, applications,
                           enrolments, awards, outcomes, memberships, sessions, registrations)


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalData:
    """What a campus holds about one person, ready for `PersonalDataSchema`."""

    campus: Campus
    records: PersonalRecords
    exported_at: datetime
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # higher layers'
    format: str = EXPORT_FORMAT

    @property
    def learner(self) -> Learner:
        return self.records.learner

    @property
    def erased(self) -> bool:
        return is_erased(self.records.learner)


def personal_data(learner: Learner) -> PersonalData:
    """Everything the bound campus (and the registered higher layers) hold about `learner`.

    `learner` comes from `get_learner`, so another campus's learner is already a NotFound.
    """
    records = personal_records(learner)
    sections = {source.section: source.export(records) for source in personal_data_sources()}
    campus = db.session.get(Campus, learner.campus_id)
    log.info("Personal data of learner %s/%s exported", learner.campus_id, learner.id)
    return PersonalData(campus, records, utcnow(), sections)


# --- erasure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    learner: Learner
    already_erased: bool
    anonymised: dict[str, int]  # section → rows changed by this call


def _set(row: Any, **values: Any) -> bool:
    """Give `row` these values; whether anything changed (so a repeat changes nothing)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def erase_learner(learner: Learner) -> Erasure:
    """Anonymise `learner` and everything about them at the bound campus (and in the registered
    higher layers). Idempotent: erasing an erased learner changes nothing and says so.

    Kept: every row, status, date, score, amount and link between rows (so counts per campus, the
    impact funnel, orders' amounts, the ledger and invoices are unchanged); the consent dates (the
    record that past processing was lawful; they identify no one); an outcome's kind and sector.
    Cleared: names, e-mails, phones, motivation, notes, decision reasons, an outcome's employer,
    credential links. Returns what changed; raises nothing of its own.
    """
    already = is_erased(learner)
    records = personal_records(learner)  # found by the real e-mail, before it is overwritten
    placeholder = erased_email(learner.id)
    counts = {
        "applications": sum(_set(row, full_name=ERASED_NAME, email=placeholder, phone=None,
                                 motivation="", notes="", decision_reason=None)
                            for row in records.applications),
        "certification_awards": sum(_set(row, credential_url=None) for row in records.awards),
        "outcomes": sum(_set(row, employer=None, notes="") for row in records.outcomes),
        "coworking_memberships": sum(_set(row, member_name=ERASED_NAME, member_email=placeholder)
                                     for row in records.memberships),
        "coaching_sessions": sum(_set(row, notes="") for row in records.coaching_sessions),
        "event_registrations": sum(_set(row, full_name=ERASED_NAME, email=placeholder)
                                   for row in records.registrations),
    }
    counts["learner"] = int(_set(learner, full_name=ERASED_NAME, email=placeholder, phone=None))
    db.session.flush()
    for source in personal_data_sources():
        counts[source.section] = source.erase(records)
    if any(counts.values()):
        log.info("Learner %s/%s erased (%s)", learner.campus_id, learner.id,
                 ", ".join(f"{name} {n}" for name, n in counts.items() if n))
    return Erasure(learner, already, counts)
