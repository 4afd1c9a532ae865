"""The bound campus's revenue figures, read from the monthly rollups (never by summing entries),
and the few read-only queries the revenue pages and API need besides `services.entries_query`.

Every function here reads the bound campus only (the scope adds `campus_id = :bound`) and runs a
fixed number of queries, whatever the number of entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from billing.ledger.models import RevenueEntry, RevenueRollup, RevenueStream
from billing.ledger.services import month_of
from core.auth.models import User
from core.extensions import db

STREAMS = tuple(RevenueStream)


@dataclass
class Amount:
    """A sum of rollups: minor units per currency (usually only the campus's) and its EUR value."""

    by_currency: dict[str, int] = field(default_factory=dict)
    eur_minor: int = 0
    entry_count: int = 0

    def add(self, currency: str, amount_minor: int, eur_minor: int, entry_count: int) -> None:
        self.by_currency[currency] = self.by_currency.get(currency, 0) + amount_minor
        self.eur_minor += eur_minor
        self.entry_count += entry_count

    @property
    def is_empty(self) -> bool:
        return self.entry_count == 0

    def in_currency(self, currency: str) -> int:
        return self.by_currency.get(currency, 0)

    def amounts(self, first: str) -> list[tuple[str, int]]:
        """(currency, minor) pairs, `first` (the campus's currency) first; `first` alone at 0
        when there is nothing."""
        others = sorted((c, a) for c, a in self.by_currency.items() if c != first)
        if first in self.by_currency or not others:
            return [(first, self.by_currency.get(first, 0)), *others]
        return others


@dataclass(frozen=True)
class YearFigures:
    year: int
    months: list[date]  # the first day of each month of the year
    cells: dict[tuple[date, RevenueStream], Amount]
    month_totals: dict[date, Amount]
    stream_totals: dict[RevenueStream, Amount]
    total: Amount

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(self.total.by_currency)

    def cell(self, month: date, stream: RevenueStream) -> Amount:
        return self.cells.get((month, stream)) or Amount()


def _rollups_of(first: date, last: date):
    """The bound campus's rollups of the months `first` to `last`: month, stream, currency,
    amount, EUR amount and entry count (1 query)."""
    return db.session.execute(
        select(RevenueRollup.month, RevenueRollup.stream, RevenueRollup.currency,
               RevenueRollup.amount_minor, RevenueRollup.amount_eur_minor,
               RevenueRollup.entry_count)
        .where(RevenueRollup.month >= first, RevenueRollup.month <= last))


def year_figures(year: int) -> YearFigures:
    """The bound campus's rollups of `year`: month by stream, with the totals of each (1 query)."""
    months = [date(year, m, 1) for m in range(1, 13)]
    rows = _rollups_of(months[0], months[-1])
    cells: dict[tuple[date, RevenueStream], Amount] = {}
    month_totals = {month: Amount() for month in months}
    stream_totals = {stream: Amount() for stream in STREAMS}
    total = Amount()
    for month, stream, currency, amount, eur, count in rows:
        stream = RevenueStream(stream)
        for target in (cells.setdefault((month, stream), Amount()), month_totals[month],
                       stream_totals[stream], total):
            target.add(currency, amount, eur, count)
    return YearFigures(year, months, cells, month_totals, stream_totals, total)


@dataclass(frozen=True)
class PeriodFigures:
    """This month and the year to date, for the dashboard."""

    month: date
    this_month: Amount
    year_to_date: Amount


def months_back(month: date, count: int) -> list[date]:
    """The first days of the `count` months ending with `month`'s, oldest first."""
    year, number = month.year, month.month
    months = []
    for _ in range(count):
        months.append(date(year, number, 1))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return months[::-1]


@dataclass(frozen=True)
class RecentFigures:
    """The months up to this one at the campus, month by stream, for the dashboard: its chart
    and its figures of this month and the year to date (January is always among the months)."""

    today: date
    months: list[date]
    cells: dict[tuple[date, RevenueStream], Amount]
    month_totals: dict[date, Amount]

    @property
    def currencies(self) -> frozenset[str]:
        """Every currency recorded in these months."""
        return frozenset(c for amount in self.month_totals.values() for c in amount.by_currency)

    def period(self) -> PeriodFigures:
        """This month and January to this month, from the same rollups."""
        this_month = month_of(self.today)
        year_to_date = Amount()
        for month, amount in self.month_totals.items():
            if month.year == this_month.year and month <= this_month:
                for currency, minor in amount.by_currency.items():
                    year_to_date.add(currency, minor, 0, 0)
                year_to_date.eur_minor += amount.eur_minor
                year_to_date.entry_count += amount.entry_count
        return PeriodFigures(this_month, self.month_totals[this_month], year_to_date)


def recent_figures(today: date, count: int = 12) -> RecentFigures:
    """The bound campus's rollups of the `count` months up to `today`'s, month by stream
    (1 query). `count` is at least 12, so that January of this year is among them."""
    months = months_back(month_of(today), max(count, 12))
    rows = _rollups_of(months[0], months[-1])
    cells: dict[tuple[date, RevenueStream], Amount] = {}
    month_totals = {month: Amount() for month in months}
    for month, stream, currency, amount, eur, entries in rows:
        stream = RevenueStream(stream)
        for target in (cells.setdefault((month, stream), Amount()), month_totals[month]):
            target.add(currency, amount, eur, entries)
    return RecentFigures(today, months, cells, month_totals)


def rollup_years() -> tuple[int, int] | None:
    """The first and last year with a rollup at the bound campus, or None (1 query)."""
    first, last = db.session.execute(
        select(func.min(RevenueRollup.month), func.max(RevenueRollup.month))).one()
    return (first.year, last.year) if first is not None else None


def reversed_ids(entry_ids: Iterable[int]) -> frozenset[int]:
    """Which of `entry_ids` have been reversed (1 query; none for no ids)."""
    ids = list(entry_ids)
    if not ids:
        return frozenset()
    return frozenset(db.session.scalars(
        select(RevenueEntry.reverses_id).where(RevenueEntry.reverses_id.in_(ids))))


def user_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the users who recorded entries (users are global; 1 query, none for no ids)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


EXPORT_COLUMNS = (RevenueEntry.id, RevenueEntry.occurred_on, RevenueEntry.stream,
                  RevenueEntry.amount_minor, RevenueEntry.currency, RevenueEntry.amount_eur_minor,
                  RevenueEntry.source, RevenueEntry.memo, RevenueEntry.reverses_id)


def export_rows(start: date, end: date) -> Iterator[tuple]:
    """The bound campus's entries from `start` to `end` (inclusive), oldest first, as plain
    tuples in the order of EXPORT_COLUMNS (1 query; columns only, no ORM objects)."""
    return iter(db.session.execute(
        select(*EXPORT_COLUMNS)
        .where(RevenueEntry.occurred_on >= start, RevenueEntry.occurred_on <= end)
        .order_by(RevenueEntry.occurred_on, RevenueEntry.id)))
