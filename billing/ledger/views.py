"""The campus's revenue pages (manager and HQ; staff see no money).

* `/revenue`: a year, month by stream, in the campus's currency and in EUR, read from the rollups,
  with a bar chart and links down to the entries of each cell;
* `/revenue/entries`: the entries of a month or a year (and a stream), reversal markers, and the
  way to reverse one (a confirmation page that posts with its CSRF token);
* `/revenue/entries/new`: a manual entry, the amount typed in the campus's currency;
* `/revenue/export.csv`: the entries of a year, amounts as decimal strings (machine headers, a
  format other tools read); `/revenue/entries?format=csv|xlsx` exports the entries as listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, ValidationError

from billing.ledger.api import (
    MONEY_ROLES,
    campus_today,
    entry_page,
    record_manual_entry,
    reverse_by_current_user,
)
from billing.ledger.figures import (
    STREAMS,
    Amount,
    YearFigures,
    export_rows,
    reversed_ids,
    rollup_years,
    user_names,
    year_figures,
)
from billing.ledger.models import RevenueEntry, RevenueStream
from billing.ledger.schemas import (
    EntryPageArgsSchema,
    RevenueEntryFormSchema,
    ReversalInputSchema,
    YearArgsSchema,
    rate_text,
)
from billing.ledger.services import entries_query, get_entry, month_of
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import (
    Column,
    batches,
    exportable,
    requested_format,
    stream,
    table_response,
)
from core.extensions import db
from core.money import format_money
from core.sites import SiteKind, on_sites

bp = Blueprint("revenue", __name__, url_prefix="/revenue")
PER_PAGE = 25


def stream_labels() -> dict[RevenueStream, str]:
    return {
        RevenueStream.TRAINING: _("Training"),
        RevenueStream.COWORKING: _("Coworking"),
        RevenueStream.EVENTS: _("Events"),
        RevenueStream.SPONSORSHIP: _("Sponsorship"),
        RevenueStream.OTHER: _("Other"),
    }


def source_labels() -> dict[str, str]:
    return {"payment": _("Payment"), "invoice": _("Invoice"), "manual": _("Manual")}


@bp.context_processor
def helpers() -> dict[str, Any]:
    locale = str(get_locale() or "en")

    def month_name(month: date, pattern: str = "LLLL yyyy") -> str:
        return format_date(month, pattern, locale=locale)

    return {"stream_labels": stream_labels(), "source_labels": source_labels(),
            "STREAMS": STREAMS, "month_name": month_name, "rate_text": rate_text}


# ---- the year ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    month: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    currency: str
    bars: list[Bar]
    zero_y: float
    width: int = 720
    height: int = 240


PLOT_TOP, PLOT_HEIGHT = 16, 184  # the bars' area inside the chart; month names below it


def build_chart(figures: YearFigures, campus_currency: str) -> Chart:
    """Bars of each month's total, negative months below the zero line: in the campus's
    currency, or in EUR when the year holds more than one currency (only EUR adds those up)."""
    currency = campus_currency if figures.currencies <= {campus_currency} else "EUR"

    def value(amount: Amount) -> int:
        return amount.in_currency(currency) if currency == campus_currency else amount.eur_minor

    values = [value(figures.month_totals[month]) for month in figures.months]
    top, bottom = max(0, *values), min(0, *values)
    span = (top - bottom) or 1
    zero_y = PLOT_TOP + PLOT_HEIGHT * top / span
    slot = Chart.width / len(values)
    bars = []
    for index, (month, amount) in enumerate(zip(figures.months, values, strict=True)):
        height = PLOT_HEIGHT * abs(amount) / span
        bars.append(Bar(month=month, value=amount, x=round(slot * index + slot * 0.15, 1),
                        y=round(zero_y - height if amount >= 0 else zero_y, 1),
                        width=round(slot * 0.7, 1), height=round(height, 1)))
    return Chart(currency=currency, bars=bars, zero_y=round(zero_y, 1))


def _args(schema) -> dict[str, Any]:
    """The query string loaded by `schema` (a ValidationError is the 422 error page)."""
    return schema.load(request.args.to_dict(), unknown=EXCLUDE)


@dataclass(frozen=True)
class CellRow:
    """One cell of the year's table in one currency, as exported."""

    month: date
    stream: RevenueStream
    currency: str
    amount_minor: int
    eur_minor: int
    entry_count: int


def cell_rows(figures: YearFigures) -> list[CellRow]:
    """The year's cells, month by month in stream order, one row per currency."""
    return [CellRow(month, stream, currency, minor, cell.eur_minor, cell.entry_count)
            for month in figures.months for stream in STREAMS
            if not (cell := figures.cell(month, stream)).is_empty
            for currency, minor in sorted(cell.by_currency.items())]


def year_columns() -> tuple[Column, ...]:
    labels = stream_labels()
    return (
        Column(_l("Month"), lambda row: row.month, "date"),
        Column(_l("Stream"), lambda row: labels[row.stream]),
        Column(_l("Amount"), lambda row: (row.amount_minor, row.currency), "money"),
        Column(_l("Currency"), lambda row: row.currency),
        Column(_l("Amount in EUR"), lambda row: (row.eur_minor, "EUR"), "money"),
        Column(_l("Entries"), lambda row: row.entry_count, "number"),
    )


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
@exportable
def index():
    """The year by month and stream; `?format=csv|xlsx` exports its cells (one row per month,
    stream and currency)."""
    fmt = requested_format()
    today = campus_today()
    year = _args(YearArgsSchema())["year"] or today.year
    figures = year_figures(year)
    if fmt:
        return table_response(fmt, f"revenue-{g.campus.slug}-{year}-by-month", year_columns(),
                              cell_rows(figures), title=_("Revenue %(year)d", year=year))
    first, last = rollup_years() or (today.year, today.year)
    years = range(max(first, last, today.year, year), min(first, today.year, year) - 1, -1)
    currency = g.campus.currency
    return render_template("revenue/index.html", figures=figures, year=year, years=years,
                           chart=build_chart(figures, currency), currency=currency,
                           show_eur=not figures.currencies <= {currency} or currency != "EUR")


# ---- entries ----------------------------------------------------------------------------------


def _period(args: dict[str, Any]) -> tuple[date | None, date | None]:
    if args.get("month"):
        start = args["month"]
        return start, month_of(start + timedelta(days=31)) - timedelta(days=1)
    if args.get("year"):
        return date(args["year"], 1, 1), date(args["year"], 12, 31)
    return None, None


@dataclass(frozen=True)
class EntryRow:
    """An entry as exported: whether it was reversed, who recorded it."""

    entry: RevenueEntry
    reversed: bool
    recorded_by: str


def _entry_rows(entries):
    for batch in batches(entries):
        reversed_set = reversed_ids(entry.id for entry in batch)
        names = user_names(entry.created_by_id for entry in batch)
        for entry in batch:
            yield EntryRow(entry, entry.id in reversed_set, names.get(entry.created_by_id, ""))


def entry_columns() -> tuple[Column, ...]:
    streams, sources = stream_labels(), source_labels()
    return (
        Column("#", lambda row: row.entry.id, "number", width=8),
        Column(_l("Date"), lambda row: row.entry.occurred_on, "date"),
        Column(_l("Stream"), lambda row: streams[row.entry.stream]),
        Column(_l("Amount"), lambda row: (row.entry.amount_minor, row.entry.currency), "money"),
        Column(_l("Currency"), lambda row: row.entry.currency, width=10),
        Column(_l("Amount in EUR"), lambda row: (row.entry.amount_eur_minor, "EUR"), "money"),
        Column(_l("Rate"), lambda row: row.entry.fx_rate, "number"),
        Column(_l("Source"), lambda row: sources.get(row.entry.source.value,
                                                     row.entry.source.value)),
        Column(_l("Memo"), lambda row: row.entry.memo, width=40),
        Column(_l("Reversal of"), lambda row: row.entry.reverses_id, "number"),
        Column(_l("Reversed"), lambda row: _("yes") if row.reversed else _("no"), width=10),
        Column(_l("Recorded by"), lambda row: row.recorded_by),
        Column(_l("Recorded at"), lambda row: row.entry.created_at, "datetime"),
    )


@bp.get("/entries")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
@exportable
def entries():
    fmt = requested_format()
    args = _args(EntryPageArgsSchema())
    start, end = _period(args)
    search = request.args.get("q", "")[:200].strip()
    statement = entries_query(start, end, args["stream"], search)
    if fmt:
        period = (args["month"].strftime("%Y-%m") if args.get("month")
                  else str(start.year) if start else "all")
        return table_response(fmt, f"revenue-entries-{g.campus.slug}-{period}", entry_columns(),
                              _entry_rows(stream(statement)))
    pagination, reversed_set = entry_page(statement, args["page"], PER_PAGE)
    names = user_names(entry.created_by_id for entry in pagination.items)
    filters = {"month": args["month"].strftime("%Y-%m") if args.get("month") else None,
               "year": None if args.get("month") else args.get("year"),
               "stream": args["stream"].value if args["stream"] else None,
               "q": search or None}
    filters = {key: value for key, value in filters.items() if value}  # for the page links
    return render_template("revenue/entries.html", pagination=pagination, names=names,
                           reversed_ids=reversed_set, filters=filters, month=args.get("month"),
                           stream=args["stream"], year=start.year if start else None,
                           currency=g.campus.currency, search=search)


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _entry_form(values: dict, errors: dict, message: str | None = None):
    return render_template("revenue/form.html", values=values, errors=errors, message=message,
                           currency=g.campus.currency, today=campus_today())


def _drill_down(entry: RevenueEntry) -> str:
    return url_for("revenue.entries", month=entry.occurred_on.strftime("%Y-%m"),
                   stream=entry.stream.value)


@bp.route("/entries/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def new():
    if request.method == "GET":
        return _entry_form({"occurred_on": campus_today().isoformat()}, {})
    values = _form_values()
    schema = RevenueEntryFormSchema(today=campus_today(), currency=g.campus.currency)
    try:
        entry = record_manual_entry(schema.load(values, unknown=EXCLUDE))
    except ValidationError as error:
        return _entry_form(values, error.messages), 422
    except AppError as error:
        db.session.rollback()
        return _entry_form(values, error.fields, error.message), error.status
    flash(_("Recorded entry #%(id)d: %(amount)s on %(day)s.", id=entry.id,
            amount=format_money(entry.amount_minor, entry.currency, str(get_locale() or "en")),
            day=entry.occurred_on.isoformat()), "success")
    return redirect(_drill_down(entry))


@bp.route("/entries/<int:entry_id>/reverse", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def reverse(entry_id: int):
    """GET: what reversing this entry means, and the form that does it; POST: reverse it."""
    entry = get_entry(entry_id)
    values = _form_values() if request.method == "POST" else {}

    def page(errors: dict, message: str | None = None, status: int = 200):
        already = entry.id in reversed_ids([entry.id])
        return render_template("revenue/reverse.html", entry=entry, values=values,
                               errors=errors, message=message, already_reversed=already,
                               back=_drill_down(entry)), status

    if request.method == "GET":
        return page({})
    try:
        data = ReversalInputSchema().load(values, unknown=EXCLUDE)
        reversal = reverse_by_current_user(entry, data["memo"])
    except ValidationError as error:
        return page(error.messages, status=422)
    except AppError as error:
        db.session.rollback()
        return page(error.fields, error.message, error.status)
    flash(_("Reversed entry #%(id)d with entry #%(reversal)d.", id=entry.id,
            reversal=reversal.id), "success")
    return redirect(_drill_down(entry))


# ---- export -----------------------------------------------------------------------------------


# The year's file keeps its machine headers and its name (`revenue-<campus>-<year>.csv`): other
# tools read it. Rows: tuples in the order of `figures.EXPORT_COLUMNS`.
YEAR_FILE_COLUMNS = (
    Column("id", lambda row: row[0], "number"),
    Column("date", lambda row: row[1], "date"),
    Column("stream", lambda row: RevenueStream(row[2]).value),
    Column("amount", lambda row: (row[3], row[4]), "money"),
    Column("currency", lambda row: row[4]),
    Column("amount_eur", lambda row: (row[5], "EUR"), "money"),
    Column("source", lambda row: getattr(row[6], "value", row[6])),
    Column("memo", lambda row: row[7]),
    Column("reverses_id", lambda row: row[8], "number"),
)


@bp.get("/export.csv")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def export():
    year = _args(YearArgsSchema())["year"] or campus_today().year
    return table_response("csv", f"revenue-{g.campus.slug}-{year}", YEAR_FILE_COLUMNS,
                          export_rows(date(year, 1, 1), date(year, 12, 31)), dated=False)
