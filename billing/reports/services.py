"""HQ's consolidated revenue, in EUR, read from the monthly rollups only.

Reports are kept per worker until the ledger changes (billing/reports/cache.py).

Every figure is one SQL `GROUP BY` over `revenue_rollups` (thousands of rows at bench scale,
never the millions of ledger entries), across all campuses: row-level security lets HQ read
them and nothing else. The number of queries does not depend on the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import BigInteger, Select, String, cast, func, select, text, type_coerce

from billing.currencies.models import REPORTING_CURRENCY
from billing.ledger.models import RevenueRollup, RevenueStream
from billing.reports.cache import cached, current_version
from core.errors import InvalidInput
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses

GROUP_KEYS = ("campus", "month", "stream")
PERCENT_PLACES = Decimal("0.1")


@dataclass(frozen=True)
class RevenueReport:
    """Rows of `{<group keys>, "amount_eur_minor"}` sorted by the keys, and their total: campus
    slug, month as `YYYY-MM`, stream name, integer euro cents (the JSON API's shape)."""

    group_by: tuple[str, ...]
    rows: list[dict[str, Any]]
    total_eur_minor: int
    currency: str = REPORTING_CURRENCY


def month_range(start: date, end: date) -> list[date]:
    """First days of every month from `start`'s to `end`'s, both included."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def year_before(month: date) -> date:
    return month.replace(year=month.year - 1)


def percent(part: int, whole: int) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal (None when `whole` is zero)."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT_PLACES, ROUND_HALF_EVEN)


def change(current: int, previous: int) -> Decimal | None:
    """The change from `previous` to `current` in percent (None when there was nothing before)."""
    if previous == 0:
        return None
    return (Decimal(current - previous) * 100 / abs(Decimal(previous))).quantize(
        PERCENT_PLACES, ROUND_HALF_EVEN)


def _check_group_by(group_by: Sequence[str]) -> tuple[str, ...]:
    keys = tuple(group_by)
    if list(keys) != [key for key in GROUP_KEYS if key in keys]:
        raise InvalidInput(_("Group in the order campus, month, stream (any of them)."),
                           {"group_by": [_("Use any of campus, month, stream, in that order.")]})
    return keys


def _check_campuses(campus_slugs: Iterable[str] | None) -> tuple[str, ...] | None:
    """The slugs, all of existing campuses; raises InvalidInput naming the unknown ones."""
    if not campus_slugs:
        return None
    slugs = tuple(dict.fromkeys(campus_slugs))
    known = set(db.session.scalars(select(Campus.slug).where(Campus.slug.in_(slugs))))
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        raise InvalidInput(_("Unknown campus: %(slugs)s.", slugs=", ".join(unknown)),
                           {"campus": [_("No campus %(slugs)s.", slugs=", ".join(unknown))]})
    return slugs


def month_key(month: date) -> str:
    """`YYYY-MM`, as report rows name months."""
    return f"{month.year:04d}-{month.month:02d}"


def _grouped_statement(start: date, end: date, keys: tuple[str, ...],
                       campus_slugs: tuple[str, ...] | None,
                       streams: tuple[RevenueStream, ...] | None) -> Select:
    """`SELECT <keys>, SUM(amount_eur_minor) … GROUP BY <keys> ORDER BY <keys>` over the rollups.

    The database does the work and hands back JSON-ready values (slug, `YYYY-MM`, stream text,
    integer), so that thousands of groups cost little more to serve than to compute.
    """
    postgresql = db.session.get_bind().dialect.name == "postgresql"

    def sortable(column):
        # Slugs and stream names are ASCII: byte order is their order, and much cheaper to sort
        # than a linguistic collation.
        return column.collate("C") if postgresql else column

    month_text = (func.to_char(RevenueRollup.month, "YYYY-MM") if postgresql
                  else func.strftime("%Y-%m", RevenueRollup.month))
    stream_text = type_coerce(RevenueRollup.stream, String)
    key_sql = {
        # key → (selected as, grouped and sorted by): grouping in the order of the output lets
        # one sort serve both.
        "campus": (sortable(Campus.slug), sortable(Campus.slug)),
        "month": (month_text, RevenueRollup.month),
        "stream": (sortable(stream_text), sortable(stream_text)),
    }
    outputs = [key_sql[key][0].label(key) for key in keys]
    amount = cast(func.sum(RevenueRollup.amount_eur_minor), BigInteger).label("amount_eur_minor")
    statement = (select(*outputs, amount).select_from(RevenueRollup)
                 .where(RevenueRollup.month >= start, RevenueRollup.month <= end))
    if "campus" in keys or campus_slugs:
        statement = statement.join(Campus, Campus.id == RevenueRollup.campus_id)
    if campus_slugs:
        statement = statement.where(Campus.slug.in_(campus_slugs))
    if streams:
        statement = statement.where(RevenueRollup.stream.in_(streams))
    if keys:
        order = [key_sql[key][1] for key in keys]
        return statement.group_by(*order).order_by(*order)
    # Ungrouped: one row when there is revenue, none otherwise (as an empty grouping would).
    return statement.having(func.count() > 0)


def _plan_for_the_period() -> None:
    """PostgreSQL: plan each report query for the months asked, for this transaction.

    psycopg prepares a statement it runs often; after five runs PostgreSQL may switch to a
    generic plan that guesses a narrow period, several times slower over years of rollups.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"))


def _run(statement: Select, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    names = (*keys, "amount_eur_minor")
    return [dict(zip(names, row, strict=True)) for row in db.session.execute(statement)]


def _report(start: date, end: date, keys: tuple[str, ...], campus_slugs, streams,
            version: tuple[int, int, int] | None) -> RevenueReport:
    """One grouped query, or the same report kept since the ledger was at `version`; the
    caller has entered `all_campuses`. Callers never change the rows (they may be shared)."""
    def compute() -> RevenueReport:
        rows = _run(_grouped_statement(start, end, keys, campus_slugs, streams), keys)
        return RevenueReport(keys, rows, sum(row["amount_eur_minor"] for row in rows))

    return cached(("revenue", start, end, keys, campus_slugs, streams, version), compute,
                  lambda report: len(report.rows))


def revenue_report(start_month: date, end_month: date,
                   group_by: Sequence[str] = GROUP_KEYS,
                   campus_slugs: Iterable[str] | None = None,
                   streams: Iterable[RevenueStream] | None = None) -> RevenueReport:
    """EUR revenue of every campus from `start_month` to `end_month` (months, both included),
    grouped by any of campus (slug), month (`YYYY-MM`) and stream, in that order; filtered by
    campus slugs and streams when given.

    One SQL GROUP BY over the monthly rollups. Raises InvalidInput for a period that ends before
    it starts, keys out of order, or an unknown campus.
    """
    start, end = start_month.replace(day=1), end_month.replace(day=1)
    if start > end:
        raise InvalidInput(_("The period ends before it starts."),
                           {"to": [_("The period ends before it starts.")]})
    keys = _check_group_by(group_by)
    slugs = _check_campuses(campus_slugs)
    with all_campuses(db.session):
        _plan_for_the_period()
        return _report(start, end, keys, slugs, tuple(dict.fromkeys(streams or ())) or None,
                       current_version())


# ---- the HQ page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampusFigures:
    slug: str
    name: str
    currency: str
    total_eur_minor: int
    previous_eur_minor: int
    share: Decimal | None  # of the network total, in percent
    change: Decimal | None  # against the same period last year, in percent
    by_month: list[int]  # EUR minor units, one per month of the period


@dataclass(frozen=True)
class StreamFigures:
    stream: RevenueStream
    total_eur_minor: int
    previous_eur_minor: int
    share: Decimal | None
    change: Decimal | None


@dataclass(frozen=True)
class MonthFigures:
    month: date
    total_eur_minor: int
    previous_eur_minor: int  # the same month a year earlier


@dataclass(frozen=True)
class Consolidated:
    start: date
    end: date
    previous_start: date
    previous_end: date
    campus_slugs: tuple[str, ...]
    streams: tuple[RevenueStream, ...]
    total_eur_minor: int
    previous_eur_minor: int
    change: Decimal | None
    months: list[MonthFigures]
    campuses: list[CampusFigures]
    streams_figures: list[StreamFigures]
    has_revenue: bool  # any rollup in either period (a total may net to zero)
    campus_choices: list[Campus] = field(default_factory=list)


def _amounts(report: RevenueReport, key: str) -> dict[Any, int]:
    return {row[key]: row["amount_eur_minor"] for row in report.rows}


def consolidated(start_month: date, end_month: date, campus_slugs: Iterable[str] | None = None,
                 streams: Iterable[RevenueStream] | None = None) -> Consolidated:
    """Everything HQ's revenue page shows, for a period and the same period a year earlier.

    The network total, each campus's total and share with its campus-by-month row, each stream's
    total, and each month's total beside the same month last year: seven grouped queries over
    the rollups (plus the list of campuses), whatever the number of rows. Raises InvalidInput
    like `revenue_report`.
    """
    start, end = start_month.replace(day=1), end_month.replace(day=1)
    if start > end:
        raise InvalidInput(_("The period ends before it starts."),
                           {"to": [_("The period ends before it starts.")]})
    campuses = list(db.session.scalars(select(Campus).order_by(Campus.name, Campus.slug)))
    known = {campus.slug for campus in campuses}
    chosen = tuple(dict.fromkeys(campus_slugs or ()))
    unknown = [slug for slug in chosen if slug not in known]
    if unknown:
        raise InvalidInput(_("Unknown campus: %(slugs)s.", slugs=", ".join(unknown)),
                           {"campus": [_("No campus %(slugs)s.", slugs=", ".join(unknown))]})
    chosen_streams = tuple(dict.fromkeys(streams or ()))
    previous_start, previous_end = year_before(start), year_before(end)
    slugs, kinds = chosen or None, chosen_streams or None

    def now(*keys: str) -> RevenueReport:
        return _report(start, end, keys, slugs, kinds, version)

    def before(*keys: str) -> RevenueReport:
        return _report(previous_start, previous_end, keys, slugs, kinds, version)

    with all_campuses(db.session):
        _plan_for_the_period()
        version = current_version()
        matrix, by_campus, by_month, by_stream = (now("campus", "month"), now("campus"),
                                                  now("month"), now("stream"))
        campus_before, month_before, stream_before = (before("campus"), before("month"),
                                                      before("stream"))
    total, previous = by_campus.total_eur_minor, campus_before.total_eur_minor

    months = month_range(start, end)
    keys = [month_key(month) for month in months]
    cells = {(row["campus"], row["month"]): row["amount_eur_minor"] for row in matrix.rows}
    campus_now, campus_then = _amounts(by_campus, "campus"), _amounts(campus_before, "campus")
    shown = [campus for campus in campuses if not chosen or campus.slug in chosen]
    campus_figures = [
        CampusFigures(
            slug=c.slug, name=c.name, currency=c.currency,
            total_eur_minor=campus_now.get(c.slug, 0),
            previous_eur_minor=campus_then.get(c.slug, 0),
            share=percent(campus_now.get(c.slug, 0), total),
            change=change(campus_now.get(c.slug, 0), campus_then.get(c.slug, 0)),
            by_month=[cells.get((c.slug, key), 0) for key in keys],
        ) for c in shown
    ]
    campus_figures.sort(key=lambda c: (-c.total_eur_minor, c.name))
    month_now = _amounts(by_month, "month")
    month_then = _amounts(month_before, "month")
    month_figures = [MonthFigures(m, month_now.get(month_key(m), 0),
                                  month_then.get(month_key(year_before(m)), 0)) for m in months]
    stream_now, stream_then = _amounts(by_stream, "stream"), _amounts(stream_before, "stream")
    stream_figures = [
        StreamFigures(s, stream_now.get(s, 0), stream_then.get(s, 0),
                      percent(stream_now.get(s, 0), total),
                      change(stream_now.get(s, 0), stream_then.get(s, 0)))
        for s in RevenueStream if not chosen_streams or s in chosen_streams
    ]
    return Consolidated(
        start=start, end=end, previous_start=previous_start, previous_end=previous_end,
        campus_slugs=chosen, streams=chosen_streams, total_eur_minor=total,
        previous_eur_minor=previous, change=change(total, previous), months=month_figures,
        campuses=campus_figures, streams_figures=stream_figures,
        has_revenue=bool(by_campus.rows or campus_before.rows), campus_choices=campuses,
    )


@dataclass(frozen=True)
class NetworkOverview:
    """HQ's home page: the network's months by stream and each campus's total, in EUR."""

    start: date
    end: date
    months: list[date]
    by_month_stream: dict[tuple[str, str], int]  # (YYYY-MM, stream) → EUR minor units
    campuses: list[tuple[Campus, int]]  # every campus with its total, largest first
    total_eur_minor: int


def network_overview(start_month: date, end_month: date) -> NetworkOverview:
    """The network's revenue from `start_month` to `end_month`, month by stream and per campus:
    the report's own grouped queries over the rollups (kept reports when the ledger has not
    changed), plus the list of campuses, whatever the number of rows."""
    start, end = start_month.replace(day=1), end_month.replace(day=1)
    campuses = list(db.session.scalars(select(Campus).order_by(Campus.name, Campus.slug)))
    with all_campuses(db.session):
        _plan_for_the_period()
        version = current_version()
        month_stream = _report(start, end, ("month", "stream"), None, None, version)
        by_campus = _report(start, end, ("campus",), None, None, version)
    totals = _amounts(by_campus, "campus")
    ranked = sorted(((campus, totals.get(campus.slug, 0)) for campus in campuses),
                    key=lambda pair: (-pair[1], pair[0].name))
    return NetworkOverview(
        start=start, end=end, months=month_range(start, end),
        by_month_stream={(row["month"], row["stream"]): row["amount_eur_minor"]
                         for row in month_stream.rows},
        campuses=ranked, total_eur_minor=by_campus.total_eur_minor)


def campus_names() -> dict[str, str]:
    """Every campus's name by slug (a small reference table)."""
    return {slug: name for slug, name in db.session.execute(select(Campus.slug, Campus.name))}
