"""Partner invoice runs: agreements and the facts of a month turned into invoices.

For a month that is over, each agreement active in it and each of its campuses gives at most one
invoice, issued by the campus's billing entity to the partner, with the lines:

* the fixed-fee instalment due that month: instalment k of n in the agreement's first n months,
  `fee // n` each, the last one carrying the remainder so that the n add up to the fee;
* learners admitted in the month: applications to the agreement's cohorts at that campus (cohorts
  sponsored by the partner, of a course of the agreement's track when it names one) whose
  admission was decided in the month, in the campus's timezone;
* completions in the month: enrolments of those cohorts completed in the month;
* learners who became fully certified in the month: in the sense of the impact report (a learner
  who completed one of those cohorts and holds every certification of its track), counted in the
  month of the later of their first completion and their last award of those certifications, so
  that each learner is invoiced once.

Each line is quantity x the agreement's amount; a pair with no line gets no invoice. The work
goes campus by campus inside `campus_scope`; each invoice is created, issued and committed on its
own, so a crash loses nothing done. The run key `agreement:<id>:<YYYY-MM>` is unique per campus:
an invoice that exists already is skipped, so a second run (or a run racing this one) creates
nothing new, and numbers stay gapless because a losing transaction gives its number back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from billing.agreements.models import Agreement
from billing.entities.models import BillingEntity
from billing.entities.services import entity_for_campus
from billing.impact.services import fully_certified_flag
from billing.invoices.models import Invoice, InvoiceKind
from core.catalogue.models import Course, course_certifications
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.partners.models import Partner
from core.progress import Progress, no_progress
from tenants.applications.models import Application, ApplicationStatus
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.records.models import CertificationAward
from tenants.scoping import all_campuses, campus_scope

log = logging.getLogger(__name__)

# Invoices are legal documents read by partners abroad: their lines are written in one language,
# whoever starts the run and wherever (gettext still applies, for a translated catalogue).
DOCUMENT_LOCALE = "en"
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class RunResult:
    """What a run did: the numbers it issued, the invoices that existed already (skipped), and
    its units of work (agreement x campus pairs, or campuses) for a progress display."""

    created: list[str] = field(default_factory=list)
    skipped: int = 0
    month: date | None = None
    total: int = 0  # units of work
    done: int = 0  # units of work processed
    empty: int = 0  # units with nothing to invoice

    def record(self, outcome: str, number: str | None = None) -> None:
        """Count one unit of work: "created" (with its number), "skipped" or "empty"."""
        if outcome == "created" and number:
            self.created.append(number)
        elif outcome == "skipped":
            self.skipped += 1
        else:
            self.empty += 1
        self.done += 1

    def as_dict(self, limit: int = 20) -> dict[str, Any]:
        """For the session (a cookie): counts, and at most `limit` numbers."""
        return {"created": list(self.created[:limit]), "created_count": len(self.created),
                "skipped": self.skipped, "month": self.month.strftime("%Y-%m") if self.month
                else None, "total": self.total, "done": self.done, "empty": self.empty}


# --- months --------------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """`YYYY-MM` → the first day of that month; raises InvalidInput (field `month`)."""
    match = MONTH_PATTERN.match((text or "").strip())
    year, month = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= month <= 12 or not 2000 <= year <= 2999:
        message = _("Give a month as YYYY-MM, e.g. 2026-11.")
        raise InvalidInput(message, {"month": [message]})
    return date(year, month, 1)


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def next_month(month: date) -> date:
    return month_end(month) + timedelta(days=1)


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def months_from(start: date, month: date) -> int:
    """How many months `month` comes after the month of `start` (0 for the same month)."""
    return (month.year - start.year) * 12 + month.month - start.month


def check_month_is_over(month: date, today: date) -> None:
    """A run covers a month that is over: its facts (and the run key) are then final.

    Raises InvalidInput (field `month`) for the current month or a later one.
    """
    if month >= today.replace(day=1):
        message = _("%(month)s is not over yet: run it from %(day)s on.",
                    month=month.strftime("%Y-%m"), day=next_month(month).isoformat())
        raise InvalidInput(message, {"month": [message]})


def month_label(month: date) -> str:
    return format_date(month, "LLLL yyyy", locale=DOCUMENT_LOCALE)


def run_summary(result: RunResult, limit: int | None = None) -> str:
    """One line for people: what a run created and skipped (at most `limit` numbers named)."""
    month = result.month.strftime("%Y-%m") if result.month else ""
    numbers = result.created if limit is None else result.created[:limit]
    named = ", ".join(numbers) + (", …" if len(numbers) < len(result.created) else "")
    created = (_("%(count)d created (%(numbers)s)", count=len(result.created), numbers=named)
               if result.created else _("0 created"))
    return _("%(month)s: %(created)s, %(skipped)d skipped (already issued), %(empty)d with "
             "nothing to invoice.", month=month, created=created, skipped=result.skipped,
             empty=result.empty)


# --- one invoice ---------------------------------------------------------------------------


def issue_run_invoice(*, today: date, actor_id: int | None, **invoice: Any) -> str | None:
    """Create, issue and commit one invoice of a run (bound campus); returns its number, or None
    when its run key exists already (nothing changes then).

    Any other error rolls this invoice back and propagates; the ones committed before stay.
    """
    from billing.invoices.services import create_invoice, issue_invoice

    try:
        draft = create_invoice(actor_id=actor_id, **invoice)
        issued = issue_invoice(draft, issued_on=today, actor_id=actor_id)
        number = issued.number
    except Conflict as error:
        db.session.rollback()
        if error.code == "already_invoiced":
            return None
        raise
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return number


def existing_run_keys(keys: Iterable[str]) -> set[tuple[int, str]]:
    """(campus id, run key) of the invoices that exist already among `keys`, every campus."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    with all_campuses(db.session):
        rows = db.session.execute(select(Invoice.campus_id, Invoice.run_key)
                                  .where(Invoice.run_key.in_(wanted))).all()
    return {(row.campus_id, row.run_key) for row in rows}


# --- agreements and facts ------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """What a run needs of an agreement, read once (the session is committed along the way)."""

    id: int
    title: str
    partner_id: int
    track_id: int | None
    currency: str
    starts_on: date
    ends_on: date
    fixed_fee_minor: int
    instalments: int
    per_admitted_minor: int
    per_completion_minor: int
    per_certified_minor: int

    @classmethod
    def of(cls, agreement: Agreement) -> Terms:
        return cls(*(getattr(agreement, name) for name in cls.__dataclass_fields__))

    def run_key(self, month: date) -> str:
        return f"agreement:{self.id}:{month:%Y-%m}"


@dataclass(frozen=True)
class CampusRef:
    id: int
    name: str
    timezone: str


@dataclass(frozen=True)
class Facts:
    admitted: int = 0
    completed: int = 0
    certified: int = 0


def instalment(terms: Terms, month: date) -> tuple[int, int] | None:
    """(k, amount) of the fixed-fee instalment due in `month`, or None when none is."""
    k = months_from(terms.starts_on, month) + 1
    if terms.fixed_fee_minor <= 0 or not 1 <= k <= terms.instalments:
        return None
    share = terms.fixed_fee_minor // terms.instalments
    if k == terms.instalments:
        return k, terms.fixed_fee_minor - share * (terms.instalments - 1)
    return k, share


def _cohort_conditions(terms: Terms) -> list:
    conditions = [Cohort.sponsor_id == terms.partner_id]
    if terms.track_id is not None:
        conditions.append(Course.track_id == terms.track_id)
    return conditions


def _with_cohort(statement, owner):
    return (statement
            .join(Cohort, and_(Cohort.campus_id == owner.campus_id, Cohort.id == owner.cohort_id))
            .join(Course, Course.id == Cohort.course_id))


def admitted_count(terms: Terms, campus: CampusRef, month: date) -> int:
    """Applications to the agreement's cohorts of the bound campus admitted in `month` (the
    decision's instant, read in the campus's timezone)."""
    zone = ZoneInfo(campus.timezone)
    # In UTC: SQLite stores instants without their offset, so both sides must be UTC.
    start = datetime.combine(month, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(next_month(month), time(), tzinfo=zone).astimezone(UTC)
    statement = _with_cohort(select(func.count()).select_from(Application), Application).where(
        Application.status == ApplicationStatus.ADMITTED, Application.decided_at >= start,
        Application.decided_at < end, *_cohort_conditions(terms))
    return int(db.session.scalar(statement) or 0)


def completed_count(terms: Terms, month: date) -> int:
    """Enrolments of the agreement's cohorts of the bound campus completed in `month`."""
    statement = _with_cohort(select(func.count()).select_from(Enrolment), Enrolment).where(
        Enrolment.status == EnrolmentStatus.COMPLETED, Enrolment.completed_on >= month,
        Enrolment.completed_on <= month_end(month), *_cohort_conditions(terms))
    return int(db.session.scalar(statement) or 0)


def _last_award_on():
    """The latest award date, among the certifications of the enclosing Course's track, of the
    learner of the enclosing Enrolment (a correlated scalar subquery)."""
    award = aliased(CertificationAward, name="run_award")
    track_course = aliased(Course, name="run_track_course")
    return (select(func.max(award.awarded_on))
            .join(course_certifications,
                  course_certifications.c.certification_id == award.certification_id)
            .join(track_course, track_course.id == course_certifications.c.course_id)
            .where(award.campus_id == Enrolment.campus_id,
                   award.learner_id == Enrolment.learner_id,
                   track_course.track_id == Course.track_id)
            .correlate_except(award, track_course, course_certifications)
            .scalar_subquery())


def certified_count(terms: Terms, month: date) -> int:
    """Learners of the bound campus who became fully certified in `month` (see the module).

    "Fully certified" is the impact report's own expression, so that invoices and the figures
    partners see on their portal never disagree.
    """
    completions = _with_cohort(
        select(Enrolment.learner_id.label("learner_id"), Course.track_id.label("track_id"),
               Enrolment.completed_on.label("completed_on"),
               _last_award_on().label("last_award_on")).select_from(Enrolment),
        Enrolment).where(
        Enrolment.status == EnrolmentStatus.COMPLETED, Enrolment.completed_on.is_not(None),
        fully_certified_flag() == 1, *_cohort_conditions(terms)).subquery("run_completions")
    c = completions.c
    per_learner = (select(c.learner_id, c.track_id,
                          func.min(c.completed_on).label("completed_on"),
                          func.max(c.last_award_on).label("last_award_on"))
                   .group_by(c.learner_id, c.track_id).subquery("run_certified"))
    p, last = per_learner.c, month_end(month)
    statement = select(func.count()).select_from(per_learner).where(
        p.completed_on <= last, p.last_award_on <= last,
        or_(p.completed_on >= month, p.last_award_on >= month))
    return int(db.session.scalar(statement) or 0)


def facts_of(terms: Terms, campus: CampusRef, month: date) -> Facts:
    """The month's facts at the bound campus, only those the agreement pays for."""
    return Facts(
        admitted=admitted_count(terms, campus, month) if terms.per_admitted_minor else 0,
        completed=completed_count(terms, month) if terms.per_completion_minor else 0,
        certified=certified_count(terms, month) if terms.per_certified_minor else 0,
    )


def invoice_lines(terms: Terms, facts: Facts, month: date) -> list:
    """The invoice lines of one agreement at one campus for `month` (empty: no invoice)."""
    from billing.invoices.services import LineInput

    label = month_label(month)
    lines = []
    with force_locale(DOCUMENT_LOCALE):
        due = instalment(terms, month)
        if due is not None:
            k, amount = due
            lines.append(LineInput(
                description=_("%(title)s: fixed fee, instalment %(k)d of %(n)d (%(month)s)",
                              title=terms.title, k=k, n=terms.instalments, month=label),
                quantity=1, unit_minor=amount))
        for count, unit, text in (
            (facts.admitted, terms.per_admitted_minor,
             _("Learners admitted in %(month)s", month=label)),
            (facts.completed, terms.per_completion_minor,
             _("Learners who completed their course in %(month)s", month=label)),
            (facts.certified, terms.per_certified_minor,
             _("Learners fully certified in %(month)s", month=label)),
        ):
            if count > 0 and unit > 0:
                lines.append(LineInput(description=text, quantity=count, unit_minor=unit))
    return lines


def agreements_active_in(month: date) -> list[Agreement]:
    """Agreements whose period overlaps `month`, with their campuses, oldest first."""
    return list(db.session.scalars(
        select(Agreement).options(selectinload(Agreement.campuses))
        .where(Agreement.starts_on <= month_end(month), Agreement.ends_on >= month)
        .order_by(Agreement.id)))


def run_pairs(month: date) -> list[tuple[Terms, CampusRef]]:
    """The (agreement, campus) pairs a run of `month` goes through."""
    return [(Terms.of(agreement), CampusRef(campus.id, campus.name, campus.timezone))
            for agreement in agreements_active_in(month) for campus in agreement.campuses]


def invoice_partners(month: date, *, today: date, actor_id: int | None = None,
                     progress: Progress = no_progress) -> RunResult:
    """Invoice every partner for `month` (see the module); returns what was created and skipped.

    `progress` (core.progress) is told of each (agreement, campus) pair done. Raises
    InvalidInput for a month that is not over; an error while issuing one invoice stops the run
    after rolling that invoice back (the ones issued before stay: run it again once the cause is
    fixed).
    """
    month = month.replace(day=1)
    check_month_is_over(month, today)
    pairs = run_pairs(month)
    db.session.commit()  # release the read transaction before the per-campus ones
    done = existing_run_keys(terms.run_key(month) for terms, _campus in pairs)
    result = RunResult(month=month, total=len(pairs))
    with progress(f"Invoicing partners for {month:%Y-%m}", len(pairs)) as advance:
        for terms, campus in pairs:
            key = terms.run_key(month)
            with campus_scope(campus.id, db.session):
                outcome = ("skipped", None) if (campus.id, key) in done else _invoice_pair(
                    terms, campus, month, today, actor_id)
            result.record(*outcome)
            advance(1)
    log.info("Partner invoices for %s: %d created, %d skipped", month.strftime("%Y-%m"),
             len(result.created), result.skipped)
    return result


def _invoice_pair(terms: Terms, campus: CampusRef, month: date, today: date,
                  actor_id: int | None) -> tuple[str, str | None]:
    """("created", number), ("skipped", None) when it existed, ("empty", None) with no line."""
    lines = invoice_lines(terms, facts_of(terms, campus, month), month)
    if not lines:
        db.session.rollback()  # end the read transaction of this campus
        return "empty", None
    issuer: BillingEntity = entity_for_campus(db.session.get(Campus, campus.id))
    number = issue_run_invoice(
        today=today, actor_id=actor_id, kind=InvoiceKind.PARTNER, issuer=issuer,
        currency=terms.currency, lines=lines, partner=db.session.get(Partner, terms.partner_id),
        agreement_id=terms.id, period_start=month, period_end=month_end(month),
        run_key=terms.run_key(month), notes=terms.title)
    return ("created", number) if number is not None else ("skipped", None)
