"""CSV and XLSX files of HQ's consolidated revenue.

Amounts are written in EUR with two decimals, computed from integer cents with Decimal
(`core.money.to_major`): never a float division. XlsxWriter writes a Decimal as its exact text.

The CSV file is one table (campus, month, stream), written with the cells of `core.exports` (the
one export mechanism: formula-safe text, Decimal amounts); its headers are machine names, as other
tools read it. The workbook has two sheets (a summary and the detail), which a one-table export
cannot hold: it is built here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal

import xlsxwriter
from flask_babel import gettext as _

from billing.currencies.models import REPORTING_CURRENCY
from billing.reports.services import Consolidated, RevenueReport
from core.exports import MIMETYPES, Column, csv_cell
from core.money import to_major

CSV_MIMETYPE = MIMETYPES["csv"]
XLSX_MIMETYPE = MIMETYPES["xlsx"]
# Rows: (campus slug, campus name, month `YYYY-MM`, stream, amount in EUR cents).
DETAIL_COLUMNS = (
    Column("campus", lambda row: row[0]),
    Column("campus_name", lambda row: row[1]),
    Column("month", lambda row: row[2]),
    Column("stream", lambda row: row[3]),
    Column("amount_eur", lambda row: (row[4], REPORTING_CURRENCY), "money"),
)
DETAIL_HEADER = tuple(column.header for column in DETAIL_COLUMNS)


def eur(amount_minor: int) -> Decimal:
    """Integer euro cents → Decimal euros with two places (12000 → Decimal("120.00"))."""
    return to_major(amount_minor, REPORTING_CURRENCY)


def _month(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def export_name(start: date, end: date, extension: str) -> str:
    """`revenue-2026-01-to-2026-12.csv`."""
    return f"revenue-{_month(start)}-to-{_month(end)}.{extension}"


def _report_rows(report: RevenueReport, names: Mapping[str, str]) -> Iterator[tuple]:
    for row in report.rows:
        yield (row["campus"], names.get(row["campus"], row["campus"]), row["month"],
               row["stream"], row["amount_eur_minor"])


def _detail_rows(report: RevenueReport, names: Mapping[str, str]):
    for campus, name, month, stream, amount_minor in _report_rows(report, names):
        yield campus, name, month, stream, eur(amount_minor)


def revenue_csv(report: RevenueReport, names: Mapping[str, str]) -> str:
    """One line per campus, month and stream: `campus,campus_name,month,stream,amount_eur`
    (the byte order mark is the caller's)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DETAIL_HEADER)
    for row in _report_rows(report, names):
        writer.writerow([csv_cell(column.kind, column.value(row)) for column in DETAIL_COLUMNS])
    return out.getvalue()


def revenue_xlsx(figures: Consolidated, report: RevenueReport, names: Mapping[str, str],
                 stream_labels: Mapping[str, str]) -> bytes:
    """A workbook with a summary sheet (campus by month, totals, shares, last year) and a
    detail sheet (campus, month, stream), built in memory."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": _("Consolidated revenue"), "author": "Campusflow"})
    styles = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "head": workbook.add_format({"bold": True, "bottom": 1}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "money_total": workbook.add_format({"num_format": "#,##0.00", "bold": True, "top": 1}),
        "total": workbook.add_format({"bold": True, "top": 1}),
        "percent": workbook.add_format({"num_format": "0.0%"}),
    }
    _summary_sheet(workbook.add_worksheet(_("Summary")), figures, stream_labels, styles)
    _detail_sheet(workbook.add_worksheet(_("Detail")), report, names, styles)
    workbook.close()
    return buffer.getvalue()


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value / 100


def _write_optional(sheet, row: int, col: int, value: Decimal | None, style) -> None:
    if value is None:
        sheet.write_blank(row, col, None, style)
    else:
        sheet.write_number(row, col, value, style)


def _summary_sheet(sheet, figures: Consolidated, stream_labels, styles) -> None:
    sheet.write_string(0, 0, _("Consolidated revenue in EUR, %(start)s to %(end)s",
                               start=_month(figures.start), end=_month(figures.end)),
                       styles["title"])
    sheet.write_string(1, 0, _("Same period last year: %(start)s to %(end)s",
                               start=_month(figures.previous_start),
                               end=_month(figures.previous_end)))
    months = [m.month for m in figures.months]
    head = [_("Campus"), *(_month(m) for m in months), _("Total"), _("Share"),
            _("Last year"), _("Change")]
    top = 3
    for col, label in enumerate(head):
        sheet.write_string(top, col, label, styles["head"])
    width = len(months)
    for i, campus in enumerate(figures.campuses, start=top + 1):
        sheet.write_string(i, 0, campus.name)
        for col, amount in enumerate(campus.by_month, start=1):
            sheet.write_number(i, col, eur(amount), styles["money"])
        sheet.write_number(i, width + 1, eur(campus.total_eur_minor), styles["money"])
        _write_optional(sheet, i, width + 2, _ratio(campus.share), styles["percent"])
        sheet.write_number(i, width + 3, eur(campus.previous_eur_minor), styles["money"])
        _write_optional(sheet, i, width + 4, _ratio(campus.change), styles["percent"])
    total_row = top + 1 + len(figures.campuses)
    sheet.write_string(total_row, 0, _("Network"), styles["total"])
    for col, month in enumerate(figures.months, start=1):
        sheet.write_number(total_row, col, eur(month.total_eur_minor), styles["money_total"])
    sheet.write_number(total_row, width + 1, eur(figures.total_eur_minor), styles["money_total"])
    sheet.write_blank(total_row, width + 2, None, styles["total"])
    sheet.write_number(total_row, width + 3, eur(figures.previous_eur_minor),
                       styles["money_total"])
    _write_optional(sheet, total_row, width + 4, _ratio(figures.change), styles["percent"])

    stream_top = total_row + 2
    for col, label in enumerate((_("Stream"), _("Total"), _("Share"), _("Last year"),
                                 _("Change"))):
        sheet.write_string(stream_top, col, label, styles["head"])
    for i, stream in enumerate(figures.streams_figures, start=stream_top + 1):
        sheet.write_string(i, 0, str(stream_labels.get(stream.stream, stream.stream.value)))
        sheet.write_number(i, 1, eur(stream.total_eur_minor), styles["money"])
        _write_optional(sheet, i, 2, _ratio(stream.share), styles["percent"])
        sheet.write_number(i, 3, eur(stream.previous_eur_minor), styles["money"])
        _write_optional(sheet, i, 4, _ratio(stream.change), styles["percent"])
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, width + 4, 13)
    sheet.freeze_panes(top + 1, 1)


def _detail_sheet(sheet, report: RevenueReport, names, styles) -> None:
    for col, label in enumerate(DETAIL_HEADER):
        sheet.write_string(0, col, label, styles["head"])
    row = 0
    for row, (campus, name, month, stream, amount) in enumerate(
            _detail_rows(report, names), start=1):
        sheet.write_string(row, 0, campus)
        sheet.write_string(row, 1, name)
        sheet.write_string(row, 2, month)
        sheet.write_string(row, 3, stream)
        sheet.write_number(row, 4, amount, styles["money"])
    sheet.write_string(row + 1, 3, _("Total"), styles["total"])
    sheet.write_number(row + 1, 4, eur(report.total_eur_minor), styles["money_total"])
    sheet.set_column(0, 1, 20)
    sheet.set_column(2, 3, 12)
    sheet.set_column(4, 4, 14)
    sheet.freeze_panes(1, 0)
