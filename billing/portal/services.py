"""What a partner contact sees on the portal: their partner's own agreements, a summary of their
open invoices, and the impact of the programmes they fund.

Every function here takes the partner's id and filters by it: there is no way to call one for
"every partner". The views pass `current_user.partner_id`, never a value from the request.
Reads of campus-owned rows (invoices, cohorts, learners' records) span every campus
(`all_campuses`) but are always narrowed to that partner.

Impact is counted as in `billing.impact` (counts only: nothing returns a name or an e-mail):
the programmes a partner funds are the cohorts it sponsors (`Cohort.sponsor_id`); an agreement's
progress counts the cohorts sponsored by its partner, of its track (when it names one), at its
campuses, starting within its period, as HQ's agreement pages count it
(`billing.agreements.services.agreement_progress`), here for a page of agreements at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from billing.agreements.models import Agreement, agreement_campuses
from billing.impact.services import (
    Funnel,
    completions_query,
    impact_funnel,
    progress_percent,
    targets_progress,
)
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from core.catalogue.models import Course
from core.database import like_pattern
from core.errors import NotFound
from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.cohorts.models import Cohort
from tenants.scoping import all_campuses

# What a partner may see of its invoices: drafts are the campus's work in progress.
VISIBLE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PAID, InvoiceStatus.VOID)
SHOWN_OPEN_INVOICES = 5


# --- agreements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementView:
    """An agreement of the partner with the funnel of its cohorts and its targets' progress."""

    agreement: Agreement
    funnel: Funnel

    @property
    def trained_percent(self) -> int | None:
        return progress_percent(self.funnel.completed, self.agreement.trained_target)

    @property
    def certified_percent(self) -> int | None:
        return progress_percent(self.funnel.fully_certified, self.agreement.certified_target)

    @property
    def terms(self) -> Agreement:
        """The agreement, read for its terms (amounts, instalments)."""
        return self.agreement

    @property
    def targets(self) -> Agreement:
        """The agreement, read for its targets."""
        return self.agreement

    @property
    def progress(self) -> dict[str, int | None]:
        return {"trained": self.trained_percent, "fully_certified": self.certified_percent}

    def status(self, today: date) -> str:
        """"upcoming", "running" or "ended" on `today`."""
        if today < self.agreement.starts_on:
            return "upcoming"
        return "ended" if today > self.agreement.ends_on else "running"


def agreements_query(partner_id: int, search: str = "") -> Select:
    """The partner's agreements, newest period first, with track and campuses loaded;
    `search` narrows them to titles containing it."""
    statement = (select(Agreement).where(Agreement.partner_id == partner_id)
                 .options(selectinload(Agreement.track), selectinload(Agreement.campuses))
                 .order_by(Agreement.starts_on.desc(), Agreement.id.desc()))
    if search:
        statement = statement.where(Agreement.title.ilike(like_pattern(search), escape="\\"))
    return statement


def get_agreement(partner_id: int, agreement_id: int) -> Agreement:
    """The partner's agreement `agreement_id`; NotFound for another partner's (or none)."""
    agreement = db.session.scalar(agreements_query(partner_id)
                                  .where(Agreement.id == agreement_id))
    if agreement is None:
        raise NotFound(_("No such agreement."))
    return agreement


def _in_scope(sponsor_id, track_id, campus_id, starts_on):
    """Conditions putting a cohort (given by these columns) in the scope of `Agreement`, joined
    to `agreement_campuses`."""
    return and_(
        sponsor_id == Agreement.partner_id,
        or_(Agreement.track_id.is_(None), track_id == Agreement.track_id),
        agreement_campuses.c.agreement_id == Agreement.id,
        agreement_campuses.c.campus_id == campus_id,
        starts_on >= Agreement.starts_on, starts_on <= Agreement.ends_on,
    )


def agreement_funnels(partner_id: int, agreement_ids: Sequence[int]) -> dict[int, Funnel]:
    """The funnel of each of the partner's agreements among `agreement_ids`, in two statements
    whatever their number (a learner counts once per agreement, at their best)."""
    wanted = sorted(set(agreement_ids))
    if not wanted:
        return {}
    mine = and_(Agreement.partner_id == partner_id, Agreement.id.in_(wanted))
    applications = (
        select(Agreement.id.label("agreement_id"), func.count().label("applied"),
               func.coalesce(func.sum(case(
                   (Application.status == ApplicationStatus.ADMITTED, 1), else_=0)), 0
               ).label("admitted"))
        .select_from(Application)
        .join(Cohort, and_(Cohort.campus_id == Application.campus_id,
                           Cohort.id == Application.cohort_id))
        .join(Course, Course.id == Cohort.course_id)
        .join(Agreement, Agreement.partner_id == Cohort.sponsor_id)
        .join(agreement_campuses, agreement_campuses.c.agreement_id == Agreement.id)
        .where(mine, Cohort.sponsor_id == partner_id,
               _in_scope(Cohort.sponsor_id, Course.track_id, Cohort.campus_id, Cohort.starts_on))
        .group_by(Agreement.id))
    completions = completions_query(
        [Cohort.sponsor_id == partner_id], Cohort.sponsor_id.label("sponsor_id"),
        Course.track_id.label("track_id"), Cohort.campus_id.label("cohort_campus_id"),
        Cohort.starts_on.label("starts_on"))
    c = completions.c
    per_learner = (
        select(Agreement.id.label("agreement_id"), c.learner_campus_id, c.learner_id,
               func.max(c.fully).label("fully"), func.max(c.outcome).label("outcome"))
        .select_from(Agreement)
        .join(agreement_campuses, agreement_campuses.c.agreement_id == Agreement.id)
        .join(completions, _in_scope(c.sponsor_id, c.track_id, c.cohort_campus_id,
                                     c.starts_on))
        .where(mine)
        .group_by(Agreement.id, c.learner_campus_id, c.learner_id)
        .subquery("agreement_learners"))
    learners = (select(per_learner.c.agreement_id, func.count().label("completed"),
                       func.coalesce(func.sum(per_learner.c.fully), 0).label("fully"),
                       func.coalesce(func.sum(per_learner.c.outcome), 0).label("outcome"))
                .group_by(per_learner.c.agreement_id))
    with all_campuses(db.session):
        applied = {row.agreement_id: (int(row.applied), int(row.admitted))
                   for row in db.session.execute(applications)}
        trained = {row.agreement_id: (int(row.completed), int(row.fully), int(row.outcome))
                   for row in db.session.execute(learners)}
    return {i: Funnel(*applied.get(i, (0, 0)), *trained.get(i, (0, 0, 0))) for i in wanted}


def agreement_views(partner_id: int, agreements: Sequence[Agreement]) -> list[AgreementView]:
    """`agreements` (the partner's) with their funnels (see `agreement_funnels`)."""
    funnels = agreement_funnels(partner_id, [a.id for a in agreements])
    return [AgreementView(a, funnels.get(a.id, Funnel())) for a in agreements
            if a.partner_id == partner_id]


def agreement_campus_funnels(partner_id: int, agreement: Agreement) -> list[Any]:
    """The funnel of one of the partner's agreements per campus (`billing.impact` groups)."""
    if agreement.partner_id != partner_id or not agreement.campuses:
        return []
    return impact_funnel(partner_id, agreement.track_id, [c.id for c in agreement.campuses],
                         "campus", starts_from=agreement.starts_on,
                         starts_until=agreement.ends_on).groups


# --- invoices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoices:
    """The partner's invoices awaiting payment in one currency."""

    currency: str
    count: int
    due_minor: int
    overdue_count: int


def _open(partner_id: int):
    return (Invoice.partner_id == partner_id, Invoice.kind == InvoiceKind.PARTNER,
            Invoice.status == InvoiceStatus.ISSUED)


def open_invoices(partner_id: int, today: date) -> list[OpenInvoices]:
    """Issued, unpaid invoices to the partner, per currency: how many, the amount due and how
    many are past their due date on `today` (one statement)."""
    statement = (select(Invoice.currency, func.count().label("count"),
                        func.coalesce(func.sum(Invoice.total_minor), 0).label("due"),
                        func.coalesce(func.sum(case((Invoice.due_on < today, 1), else_=0)), 0
                                      ).label("overdue"))
                 .where(*_open(partner_id)).group_by(Invoice.currency)
                 .order_by(Invoice.currency))
    with all_campuses(db.session):
        return [OpenInvoices(row.currency, int(row.count), int(row.due), int(row.overdue))
                for row in db.session.execute(statement)]


def next_due_invoices(partner_id: int, limit: int = SHOWN_OPEN_INVOICES) -> list[Invoice]:
    """The partner's open invoices that fall due first (at most `limit`)."""
    statement = (select(Invoice).where(*_open(partner_id))
                 .order_by(Invoice.due_on, Invoice.number).limit(limit))
    with all_campuses(db.session):
        return list(db.session.scalars(statement))


def agreement_invoices(partner_id: int, agreement_id: int) -> list[Invoice]:
    """The invoices issued to the partner under one of its agreements, newest first."""
    statement = (select(Invoice).where(Invoice.partner_id == partner_id,
                                       Invoice.agreement_id == agreement_id,
                                       Invoice.status.in_(VISIBLE_STATUSES))
                 .order_by(Invoice.issued_on.desc(), Invoice.number.desc()))
    with all_campuses(db.session):
        return list(db.session.scalars(statement))


# --- impact --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerImpact:
    """The funnel of the cohorts the partner sponsors: in total, per campus, per track, and
    the partner's impact targets with their progress. Counts only."""

    funnel: Funnel
    campuses: list[Any]  # billing.impact FunnelGroup
    tracks: list[Any]
    targets: list[Any]  # billing.impact TargetProgress


def partner_impact(partner_id: int) -> PartnerImpact:
    """The impact of the programmes the partner funds (a fixed number of statements)."""
    by_campus = impact_funnel(partner_id, group_by="campus")
    by_track = impact_funnel(partner_id, group_by="track")
    return PartnerImpact(by_campus.funnel, by_campus.groups, by_track.groups,
                         targets_progress(partner_id=partner_id))
