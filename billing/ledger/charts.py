"""Revenue charts of a campus: month by stream, from its rollups (see figures.py), laid out by
core.charts for the macros of templates/_charts.html."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from babel.dates import format_date

from billing.ledger.figures import STREAMS, Amount
from billing.ledger.models import RevenueStream
from core.charts import (
    Category,
    Series,
    StackedChart,
    make_series,
    money_formatter,
    stacked_bars,
)


def stream_series(labels: Mapping[RevenueStream, str]) -> list[Series]:
    """Every stream with its colour and pattern: the same for a stream on every chart."""
    return make_series([(stream.value, labels[stream]) for stream in STREAMS])


def month_categories(months: Sequence[date], locale: str) -> list[Category]:
    """Short month names under the bars, the year under the first bar and each January."""
    return [Category(key=f"{month:%Y-%m}", label=format_date(month, "LLL", locale=locale),
                     title=format_date(month, "LLLL yyyy", locale=locale),
                     sublabel=str(month.year) if index == 0 or month.month == 1 else "")
            for index, month in enumerate(months)]


def chart_currency(currencies: frozenset[str], campus_currency: str) -> str:
    """The campus's currency, or EUR when the months hold more than one currency (only the
    EUR values add up across currencies)."""
    return campus_currency if currencies <= {campus_currency} else "EUR"


def months_by_stream(months: Sequence[date], cells: Mapping[tuple[date, RevenueStream], Amount],
                     currency: str, campus_currency: str, labels: Mapping[RevenueStream, str],
                     locale: str) -> StackedChart:
    """Revenue per month, streams stacked, in `currency` (the campus's, or EUR: see
    `chart_currency`); only the streams with revenue in these months get a place."""
    def value(amount: Amount) -> int:
        return amount.in_currency(currency) if currency == campus_currency else amount.eur_minor

    wanted = set(months)
    values = {(f"{month:%Y-%m}", stream.value): value(amount)
              for (month, stream), amount in cells.items() if month in wanted}
    used = {stream for (_month, stream), amount in values.items() if amount}
    series = [s for s in stream_series(labels) if s.key in used]
    return stacked_bars(month_categories(months, locale), series, values,
                        money_formatter(currency, locale),
                        money_formatter(currency, locale, compact=True))
