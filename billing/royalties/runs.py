"""Royalty statements: each campus's month of revenue, stream by stream, invoiced by HQ.

For a month that is over, for each campus: the month's revenue per stream from the ledger's
rollups, in the campus's currency; one line per stream with a positive revenue and a positive
rate, "Royalty on <stream> revenue <month>: <revenue> x <rate> %", quantity 1, unit = revenue x
rate rounded half-even to minor units. A campus with no positive line gets no statement. The
statement is an invoice of kind royalty issued by HQ's entity, owned by (bound to) the campus it
bills, with the run key `royalty:<YYYY-MM>`: a second run creates nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, select

from billing.agreements.runs import (
    DOCUMENT_LOCALE,
    RunResult,
    check_month_is_over,
    existing_run_keys,
    issue_run_invoice,
    month_end,
    month_label,
)
from billing.entities.models import BillingEntity
from billing.entities.services import hq_entity
from billing.invoices.models import InvoiceKind
from billing.ledger.models import RevenueRollup, RevenueStream
from billing.royalties.services import rates_by_campus
from core.extensions import db
from core.money import format_money
from core.progress import Progress, no_progress
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses, campus_scope

log = logging.getLogger(__name__)


def run_key(month: date) -> str:
    return f"royalty:{month:%Y-%m}"


@dataclass(frozen=True)
class StreamRevenue:
    stream: RevenueStream
    revenue_minor: int
    rate: Decimal

    @property
    def royalty_minor(self) -> int:
        """revenue x rate %, rounded half-even to a whole minor unit."""
        return int((Decimal(self.revenue_minor) * self.rate / 100)
                   .quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class CampusMonth:
    id: int
    name: str
    currency: str
    streams: tuple[StreamRevenue, ...]


def month_revenue(month: date) -> list[CampusMonth]:
    """Every campus (by name) with its revenue of `month` per stream in its own currency, and
    its rates (three statements, read across campuses)."""
    campuses = db.session.execute(select(Campus.id, Campus.name, Campus.currency)
                                  .order_by(Campus.name, Campus.id)).all()
    with all_campuses(db.session):
        rows = db.session.execute(
            select(RevenueRollup.campus_id, RevenueRollup.stream, RevenueRollup.amount_minor)
            .join(Campus, and_(Campus.id == RevenueRollup.campus_id,
                               Campus.currency == RevenueRollup.currency))
            .where(RevenueRollup.month == month)).all()
    revenue = {(r.campus_id, RevenueStream(r.stream)): int(r.amount_minor) for r in rows}
    rates = rates_by_campus()
    return [CampusMonth(c.id, c.name, c.currency, tuple(
        StreamRevenue(stream, revenue.get((c.id, stream), 0),
                      rates.get((c.id, stream.value), Decimal(0)))
        for stream in RevenueStream)) for c in campuses]


def _stream_label(stream: RevenueStream) -> str:
    from billing.ledger.views import stream_labels

    return str(stream_labels()[stream]).lower()


def royalty_lines(campus: CampusMonth, month: date) -> list:
    """The statement's lines: streams with a positive revenue, rate and royalty."""
    from billing.invoices.services import LineInput

    lines = []
    with force_locale(DOCUMENT_LOCALE):
        for item in campus.streams:
            if item.revenue_minor <= 0 or item.rate <= 0 or item.royalty_minor <= 0:
                continue
            revenue = format_money(item.revenue_minor, campus.currency, DOCUMENT_LOCALE)
            rate = format_decimal(item.rate, "0.##", locale=DOCUMENT_LOCALE)
            lines.append(LineInput(
                description=_("Royalty on %(stream)s revenue %(month)s: %(revenue)s × "  # noqa: RUF001
                              "%(rate)s %%", stream=_stream_label(item.stream),
                              month=month_label(month), revenue=revenue, rate=rate),
                quantity=1, unit_minor=item.royalty_minor))
    return lines


def issue_royalties(month: date, *, today: date, actor_id: int | None = None,
                    progress: Progress = no_progress) -> RunResult:
    """Issue each campus's royalty statement for `month` (see the module); returns what was
    created and skipped. `progress` (core.progress) is told of each campus done.

    Raises InvalidInput for a month that is not over, NotFound when HQ has no billing entity;
    an error while issuing one statement stops the run after rolling that one back.
    """
    month = month.replace(day=1)
    check_month_is_over(month, today)
    issuer_id = hq_entity().id  # none yet: refused before anything is done
    campuses = month_revenue(month)
    db.session.commit()  # release the read transaction before the per-campus ones
    key = run_key(month)
    done = existing_run_keys([key])
    result = RunResult(month=month, total=len(campuses))
    with progress(f"Royalty statements for {month:%Y-%m}", len(campuses)) as advance:
        for campus in campuses:
            result.record(*_issue_statement(campus, month, key, done, issuer_id, today,
                                            actor_id))
            advance(1)
    log.info("Royalty statements for %s: %d created, %d skipped", month.strftime("%Y-%m"),
             len(result.created), result.skipped)
    return result


def _issue_statement(campus: CampusMonth, month: date, key: str, done: set[tuple[int, str]],
                     issuer_id: int, today: date, actor_id: int | None
                     ) -> tuple[str, str | None]:
    """("created", number), ("skipped", None) when it existed, ("empty", None) with no line."""
    if (campus.id, key) in done:
        return "skipped", None
    lines = royalty_lines(campus, month)
    if not lines:
        return "empty", None
    with force_locale(DOCUMENT_LOCALE):
        notes = _("Royalty statement of %(campus)s", campus=campus.name)
    with campus_scope(campus.id, db.session):
        number = issue_run_invoice(
            today=today, actor_id=actor_id, kind=InvoiceKind.ROYALTY,
            issuer=db.session.get(BillingEntity, issuer_id),
            currency=campus.currency, lines=lines, period_start=month,
            period_end=month_end(month), run_key=key,
            notes=notes)
    return ("created", number) if number else ("skipped", None)
