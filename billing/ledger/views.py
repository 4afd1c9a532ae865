"""The campus's revenue pages (manager and HQ; staff see no money).

* `/revenue`: a year, month by stream, in the campus's currency and in EUR, read from the rollups,
  with a bar chart and links down to the entries of each cell;
* `/revenue/entries`: the entries of a month or a year (and a stream), reversal markers, and the
  way to reverse one (a confirmation page that posts with its CSRF token);
* `/revenue/entries/new`: a manual entry, the amount typed in the campus's currency;
* `/revenue/export.csv`: the entries of a year, amounts as decimal strings.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
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
from core.extensions import db
from core.money import format_money, to_major
from core.sites import SiteKind, on_sites

bp = Blueprint("revenue", __name__, url_prefix="/revenue")
PER_PAGE = 25
CSV_HEADER = ("id", "date", "stream", "amount", "currency", "amount_eur", "source", "memo",
              "reverses_id")
# A spreadsheet runs a cell starting with one of these as a formula: typed text stays text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def index():
    today = campus_today()
    year = _args(YearArgsSchema())["year"] or today.year
    figures = year_figures(year)
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


@bp.get("/entries")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def entries():
    args = _args(EntryPageArgsSchema())
    start, end = _period(args)
    pagination, reversed_set = entry_page(entries_query(start, end, args["stream"]),
                                          args["page"], PER_PAGE)
    names = user_names(entry.created_by_id for entry in pagination.items)
    filters = {"month": args["month"].strftime("%Y-%m") if args.get("month") else None,
               "year": None if args.get("month") else args.get("year"),
               "stream": args["stream"].value if args["stream"] else None}
    filters = {key: value for key, value in filters.items() if value}  # for the page links
    return render_template("revenue/entries.html", pagination=pagination, names=names,
                           reversed_ids=reversed_set, filters=filters, month=args.get("month"),
                           stream=args["stream"], year=start.year if start else None,
                           currency=g.campus.currency)


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


def _decimal(amount_minor: int, currency: str) -> str:
    return format(to_major(amount_minor, currency), "f")


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@bp.get("/export.csv")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def export():
    year = _args(YearArgsSchema())["year"] or campus_today().year
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for (entry_id, occurred_on, stream, amount, currency, eur, source, memo,
         reverses_id) in export_rows(date(year, 1, 1), date(year, 12, 31)):
        writer.writerow((entry_id, occurred_on.isoformat(), RevenueStream(stream).value,
                         _decimal(amount, currency), currency, _decimal(eur, "EUR"),
                         getattr(source, "value", source), _text_cell(memo or ""),
                         reverses_id or ""))
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    filename = f"revenue-{g.campus.slug}-{year}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
