"""HQ's consolidated revenue page and its CSV and XLSX exports, on the HQ site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from marshmallow import EXCLUDE, ValidationError

from billing.ledger.models import RevenueStream
from billing.ledger.views import stream_labels  # one vocabulary with the campus pages
from billing.reports.api import READERS
from billing.reports.exports import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    export_name,
    revenue_csv,
    revenue_xlsx,
)
from billing.reports.schemas import RevenuePageArgsSchema, filter_values
from billing.reports.services import (
    GROUP_KEYS,
    Consolidated,
    campus_names,
    consolidated,
    network_overview,
    revenue_report,
)
from core.auth.access import roles_required
from core.charts import (
    horizontal_bars,
    money_formatter,
    percent_formatter,
    stacked_bars,
)
from core.charts import percent as whole_percent
from core.database import utcnow
from core.errors import AppError
from core.extensions import db
from core.money import format_money
from core.sites import SiteKind, on_sites

bp = Blueprint("reports", __name__, url_prefix="/reports")

# Chart geometry, in SVG user units (the SVG scales to the width of the page).
CHART_WIDTH, CHART_HEIGHT = 720, 260
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 8, 24, 40
SHARE_ROW, SHARE_LABEL, SHARE_WIDTH = 28, 180, 720


def _today() -> date:
    return utcnow().date()


def _chosen(key: str) -> list[str]:
    """The values of a multi-select (`campus=a&campus=b` or `campus=a,b`)."""
    return [item.strip() for value in request.args.getlist(key) for item in value.split(",")
            if item.strip()]


def _load_filters() -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The page's filters, or None and the errors by field."""
    try:
        return RevenuePageArgsSchema(today=_today()).load(filter_values(request.args),
                                                          unknown=EXCLUDE), {}
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        return None, {"from" if k == "start" else "to" if k == "end" else k: v
                      for k, v in messages.items()}


def _month_label(month: date) -> str:
    return format_date(month, "MMM y")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


def month_chart(figures: Consolidated) -> dict[str, Any]:
    """Bars per month, this period beside the same month a year earlier (inline SVG)."""
    count = max(len(figures.months), 1)
    plot_width = CHART_WIDTH - 2 * PLOT_LEFT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    largest = max([0, *(m.total_eur_minor for m in figures.months),
                   *(m.previous_eur_minor for m in figures.months)])
    top = max(largest, 1)
    slot = plot_width / count
    bar_width = slot * 0.36

    def height(amount: int) -> float:
        return round(max(amount, 0) / top * plot_height, 1)

    bars, labels = [], []
    for i, month in enumerate(figures.months):
        x = PLOT_LEFT + i * slot + slot * 0.12
        label = _month_label(month.month)
        for offset, amount, kind, when in (
                (0, month.total_eur_minor, "current", label),
                (bar_width, month.previous_eur_minor, "previous",
                 _month_label(month.month.replace(year=month.month.year - 1)))):
            h = height(amount)
            bars.append((kind, Bar(round(x + offset, 1), round(PLOT_TOP + plot_height - h, 1),
                                   round(bar_width, 1), h,
                                   f"{when}: {format_money(amount, 'EUR', _locale())}")))
        labels.append({"x": round(x + bar_width, 1), "text": label})
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "labels": labels,
            "baseline": PLOT_TOP + plot_height, "left": PLOT_LEFT,
            "right": CHART_WIDTH - PLOT_LEFT, "label_y": PLOT_TOP + plot_height + 18,
            "top_label": format_money(largest, "EUR", _locale()),
            "step": max(1, count // 12)}


def share_chart(figures: Consolidated) -> dict[str, Any]:
    """One horizontal bar per campus: its share of the network total (inline SVG)."""
    plot = SHARE_WIDTH - SHARE_LABEL - 70
    rows = []
    for i, campus in enumerate(figures.campuses):
        share = campus.share if campus.share is not None and campus.share > 0 else 0
        rows.append({"y": i * SHARE_ROW, "name": campus.name,
                     "width": round(float(min(share, 100)) / 100 * plot, 1),
                     "share": campus.share})
    return {"width": SHARE_WIDTH, "height": max(len(rows), 1) * SHARE_ROW, "rows": rows,
            "label": SHARE_LABEL, "plot": plot}


def _locale() -> str:
    return str(get_locale() or "en")


def _quick_periods(today: date) -> list[tuple[str, str, str]]:
    this, ytd = today.year, f"{today.year:04d}-{today.month:02d}"
    return [(_("This year"), f"{this:04d}-01", f"{this:04d}-12"),
            (_("Year to date"), f"{this:04d}-01", ytd),
            (_("Last year"), f"{this - 1:04d}-01", f"{this - 1:04d}-12")]


def _render(filters, errors: dict, figures: Consolidated | None, status: int = 200,
            message: str | None = None):
    choices = ([(c.slug, c.name) for c in figures.campus_choices] if figures
               else list(campus_names().items()))
    values = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    if filters:
        values = {"from": f"{filters['start']:%Y-%m}", "to": f"{filters['end']:%Y-%m}"}
    export_args = {"from": values["from"], "to": values["to"], "campus": _chosen("campus"),
                   "stream": _chosen("stream")}
    page = render_template(
        "reports/revenue.html", figures=figures, errors=errors, values=values, message=message,
        campus_choices=sorted(choices, key=lambda c: (c[1], c[0])),
        chosen_campuses=set(_chosen("campus")), chosen_streams=set(_chosen("stream")),
        stream_labels=stream_labels(), streams=[s.value for s in RevenueStream],
        month_label=_month_label, export_args=export_args,
        quick_periods=_quick_periods(_today()),
        # A period running past this month compares unfinished months with complete ones.
        runs_ahead=bool(figures and figures.end > _today().replace(day=1)),
        month_chart=month_chart(figures) if figures else None,
        share_chart=share_chart(figures) if figures else None,
    )
    return page, status


OVERVIEW_MONTHS = 12


def render_network_panel() -> str:
    """HQ's home page panel: the network's last twelve months by stream, in EUR, and each
    campus's total beside the others (the report's queries, see `network_overview`)."""
    from billing.ledger.charts import month_categories, stream_series
    from billing.ledger.figures import months_back

    end = _today().replace(day=1)
    start = months_back(end, OVERVIEW_MONTHS)[0]
    overview = network_overview(start, end)
    locale = _locale()
    money = money_formatter("EUR", locale)
    used = {stream for (_month, stream), amount in overview.by_month_stream.items() if amount}
    months_chart = stacked_bars(
        month_categories(overview.months, locale),
        [s for s in stream_series(stream_labels()) if s.key in used],
        overview.by_month_stream, money, money_formatter("EUR", locale, compact=True))
    share = percent_formatter(locale)
    campus_chart = horizontal_bars(
        [(campus.slug, campus.name, amount) for campus, amount in overview.campuses], money,
        notes={campus.slug: share(whole_percent(amount, overview.total_eur_minor))
               for campus, amount in overview.campuses if overview.total_eur_minor > 0})
    return render_template("reports/_network_panel.html", overview=overview,
                           months_chart=months_chart, campus_chart=campus_chart,
                           month_label=lambda month: format_date(month, "MMMM y"),
                           period={"from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}"})


@bp.get("/revenue")
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def revenue():
    filters, errors = _load_filters()
    if filters is None:
        return _render(None, errors, None, 422)
    try:
        figures = consolidated(filters["start"], filters["end"], filters["campuses"],
                               filters["streams"])
    except AppError as error:
        db.session.rollback()
        return _render(None, error.fields, None, error.status, error.message)
    return _render(filters, {}, figures)


def _export_filters() -> dict[str, Any]:
    """The filters of an export; invalid ones are refused (422, the error page names them)."""
    return RevenuePageArgsSchema(today=_today()).load(filter_values(request.args),
                                                      unknown=EXCLUDE)


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/revenue.csv")
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def revenue_export_csv():
    filters = _export_filters()
    report = revenue_report(filters["start"], filters["end"], GROUP_KEYS,
                            campus_slugs=filters["campuses"], streams=filters["streams"])
    # With a byte-order mark, as the campus export: spreadsheets then read the names as UTF-8.
    return _download("\ufeff" + revenue_csv(report, campus_names()), CSV_MIMETYPE,
                     export_name(filters["start"], filters["end"], "csv"))


@bp.get("/revenue.xlsx")
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def revenue_export_xlsx():
    filters = _export_filters()
    figures = consolidated(filters["start"], filters["end"], filters["campuses"],
                           filters["streams"])
    report = revenue_report(filters["start"], filters["end"], GROUP_KEYS,
                            campus_slugs=filters["campuses"], streams=filters["streams"])
    names = {campus.slug: campus.name for campus in figures.campus_choices}
    return _download(revenue_xlsx(figures, report, names, stream_labels()), XLSX_MIMETYPE,
                     export_name(filters["start"], filters["end"], "xlsx"))
