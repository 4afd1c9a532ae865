"""The one way to export a table: CSV or XLSX of the rows a list page shows, every page of them.

A list page exports with `?format=csv` or `?format=xlsx` on its own URL, with its filters and
search: the view builds the same query as for the page, without pagination, and hands its rows
to `table_response` with the columns to write::

    COLUMNS = (Column(_l("Name"), lambda learner: learner.full_name),
               Column(_l("Since"), lambda learner: learner.created_at, "datetime"))
    if fmt := requested_format():
        return table_response(fmt, f"learners-{g.campus.slug}", COLUMNS, stream(statement))

The file is written while the view runs, inside the request's campus scope (the rows are read
there, in batches of `BATCH`), into a temporary file that spills to disk past `SPOOL_BYTES`; the
response then streams that file (a small one is sent from memory). Memory stays bounded however
long the list, and no row is read after the request's scope has ended.

Cells by `Column.kind`:

* `text`: a string. In CSV a text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
  gets a leading `'`, so a spreadsheet never runs it as a formula; XLSX stores it as a string.
* `number`: an int or Decimal, a number cell.
* `money`: `(amount_minor, currency)`; Decimal major units (`120.00`), never a float. XLSX: a
  number with the currency's decimals. Give the currency its own column where rows may differ.
* `date`, `datetime`: a `date`, or a `datetime` shown in the viewer's timezone (aware ones are
  converted; XLSX has no timezones).
* `percent`: a ratio (`0.25` is 25 %), to four places; CSV `25%`, XLSX a number formatted as
  a percentage.

`None` is an empty cell in every kind.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

import xlsxwriter
from flask import Response, request
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from sqlalchemy import Select

from core.database import utcnow
from core.errors import InvalidInput
from core.extensions import db
from core.money import minor_digits, to_major

FORMATS = ("csv", "xlsx")
KINDS = frozenset({"text", "number", "money", "date", "datetime", "percent"})
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 500  # rows read per round trip (yield_per)
SPOOL_BYTES = 4 * 1024 * 1024  # a larger file goes to disk
CHUNK_BYTES = 64 * 1024
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576
# Column widths (characters) by kind; a longer header widens its column.
WIDTHS = {"text": 24, "number": 10, "money": 14, "date": 12, "datetime": 18, "percent": 10}
MAX_WIDTH = 60


@dataclass(frozen=True)
class Column:
    """One column of an export: its header (a translated or lazily translated string), how to
    read the cell from a row, and the kind of cell (see the module's docstring)."""

    header: str
    value: Callable[[Any], Any]
    kind: str = "text"
    width: int | None = None  # characters; by default from the kind and the header

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; one of {sorted(KINDS)}")


def check_format(fmt: str | None) -> str:
    """`fmt` when it is an export format; raises InvalidInput (422, field `format`) otherwise."""
    if fmt not in FORMATS:
        raise InvalidInput(_("This list exports as CSV or XLSX only."),
                           fields={"format": [_("Choose one of: %(formats)s.",
                                                formats=", ".join(FORMATS))]})
    return fmt


def requested_format() -> str | None:
    """The export format the request asks for (`?format=csv|xlsx`), or None for the page;
    raises InvalidInput (422) for any other format."""
    fmt = request.args.get("format", "")
    return check_format(fmt) if fmt else None


def exportable(view: Callable) -> Callable:
    """Mark a list view as answering `?format=csv|xlsx` (the tests walk the marked views).
    Put it last (closest to the function); the other decorators copy the mark."""
    view.table_export = True  # type: ignore[attr-defined]
    return view


def stream(statement: Select, batch: int = BATCH) -> Iterator[Any]:
    """The ORM rows of `statement`, read `batch` at a time (never all in memory). The caller
    built `statement` through the campus scope, like the page's own query."""
    return iter(db.session.scalars(statement.execution_options(yield_per=batch)))


def batches(rows: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    """`rows` in lists of `size`: figures a row needs (seats taken, sums) are then read once
    per batch, not once per row."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def filename(stem: str, fmt: str) -> str:
    """`<stem>-<YYYY-MM-DD>.<fmt>`, today in the viewer's timezone."""
    return f"{stem}-{to_user_timezone(utcnow()).date().isoformat()}.{fmt}"


def table_response(fmt: str, stem: str, columns: Sequence[Column], rows: Iterable[Any], *,
                   title: str | None = None, dated: bool = True) -> Response:
    """The rows as a CSV or XLSX attachment named `<stem>-<today>.<fmt>` (`<stem>.<fmt>` when
    not `dated`: a file already named after its period); raises InvalidInput (422) for an
    unknown format, before reading any row."""
    check_format(fmt)
    spool: BinaryIO = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        if fmt == "csv":
            write_csv(spool, columns, rows)
        else:
            write_xlsx(spool, columns, rows, title or stem)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    if size <= SPOOL_BYTES:  # still in memory: hand the bytes over, the spool is done
        with spool:
            response = Response(spool.read(), mimetype=MIMETYPES[fmt])
    else:
        response = Response(_Chunks(spool), mimetype=MIMETYPES[fmt], direct_passthrough=True)
    if fmt == "csv":
        response.charset = "utf-8"
    response.content_length = size
    name = filename(stem, fmt) if dated else f"{stem}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


class _Chunks:
    """The written file, read in chunks and closed at its end (or when the download is
    abandoned: the server calls `close`)."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.file.read(CHUNK_BYTES):
            yield chunk
        self.close()

    def close(self) -> None:
        self.file.close()


# --- CSV ----------------------------------------------------------------------------------------


def safe_text(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _local(value: datetime) -> datetime:
    """A datetime in the viewer's timezone, naive (what a spreadsheet can hold)."""
    if value.tzinfo is not None:
        value = to_user_timezone(value)
    return value.replace(tzinfo=None)


def _money(value: Any) -> Decimal:
    amount_minor, currency = value
    return to_major(amount_minor, currency)


def _ratio(value: Any) -> Decimal:
    """A ratio to four places (a percentage with two decimals), never a float's noise."""
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def _percent_text(ratio: Any) -> str:
    number = (_ratio(ratio) * 100).normalize()
    return f"{number:f}%"


def csv_cell(kind: str, value: Any) -> str:
    """One cell's text in a CSV file."""
    if value is None:
        return ""
    if kind == "money":
        return str(_money(value))
    if kind == "number":
        return str(int(value)) if isinstance(value, bool) else str(value)
    if kind == "percent":
        return _percent_text(value)
    if kind == "datetime" and isinstance(value, datetime):
        return _local(value).isoformat(sep=" ", timespec="seconds")
    if kind == "date" and isinstance(value, date):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    return safe_text(str(value))


def write_csv(out: BinaryIO, columns: Sequence[Column], rows: Iterable[Any]) -> None:
    """UTF-8 with a byte order mark (so Excel reads accents), CRLF line ends, header first."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([safe_text(str(column.header)) for column in columns])
        for row in rows:
            writer.writerow([csv_cell(column.kind, column.value(row)) for column in columns])
        text.flush()
    finally:
        text.detach()  # the spool stays open for the response


# --- XLSX ---------------------------------------------------------------------------------------


def _sheet_name(title: str) -> str:
    # Excel refuses these characters and names over 31 characters.
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in str(title)).strip()
    return (cleaned or "Sheet1")[:31]


def _width(column: Column) -> int:
    if column.width is not None:
        return column.width
    return min(max(WIDTHS[column.kind], len(str(column.header)) + 3), MAX_WIDTH)


class _Formats:
    """The workbook's cell formats, made once each."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.head = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True,
                                         "valign": "top"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.percent = workbook.add_format({"num_format": "0.0%"})
        self._money: dict[int, Any] = {}

    def money(self, currency: str) -> Any:
        digits = minor_digits(currency)
        if digits not in self._money:
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            self._money[digits] = self.workbook.add_format({"num_format": pattern})
        return self._money[digits]


def _write_cell(sheet: Any, row: int, col: int, kind: str, value: Any, formats: _Formats) -> None:
    if value is None or (kind == "text" and value == ""):
        sheet.write_blank(row, col, None)
    elif kind == "money":
        sheet.write_number(row, col, _money(value), formats.money(value[1]))
    elif kind == "number":
        sheet.write_number(row, col, value)
    elif kind == "percent":
        sheet.write_number(row, col, _ratio(value), formats.percent)
    elif kind == "datetime" and isinstance(value, datetime):
        sheet.write_datetime(row, col, _local(value), formats.datetime)
    elif kind == "date" and isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        sheet.write_datetime(row, col, day, formats.date)
    else:
        sheet.write_string(row, col, str(value))  # a string cell: never run as a formula


def write_xlsx(out: BinaryIO, columns: Sequence[Column], rows: Iterable[Any],
               title: str) -> None:
    """One sheet: a bold header row, frozen, with an autofilter; typed cells. Rows are written
    as they come (constant memory) and capped at Excel's limit."""
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    workbook.set_properties({"title": str(title), "author": "Campusflow"})
    formats = _Formats(workbook)
    sheet = workbook.add_worksheet(_sheet_name(title))
    for col, column in enumerate(columns):
        sheet.set_column(col, col, _width(column))
    sheet.freeze_panes(1, 0)
    for col, column in enumerate(columns):
        sheet.write_string(0, col, str(column.header), formats.head)
    last = 0
    for last, row in enumerate(rows, start=1):
        if last >= XLSX_MAX_ROWS:
            last -= 1
            break
        for col, column in enumerate(columns):
            _write_cell(sheet, last, col, column.kind, column.value(row), formats)
    if columns:
        sheet.autofilter(0, 0, last, len(columns) - 1)
    workbook.close()
