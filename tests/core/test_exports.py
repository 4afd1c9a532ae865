"""The one export mechanism (core/exports.py) and the list pages that use it.

Every list page marked `@exportable` answers `?format=csv` and `?format=xlsx` with exactly the
rows it lists, every page of them, through its own filters and search and the campus scope.
Here: the mechanism itself (cells, files, errors) on the learners list, and a walk over every
marked list for the manager (or HQ) of its site. Each area's own lists are proven in
tests/<area>/test_*_lists.py.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import func, select

from core.errors import InvalidInput
from core.exports import (
    FORMATS,
    MIMETYPES,
    Column,
    check_format,
    csv_cell,
    safe_text,
    write_xlsx,
)
from core.extensions import db
from core.sites import SiteKind
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries

XLSX = MIMETYPES["xlsx"]


# --- helpers the area tests share --------------------------------------------------------------


def signed_in(site, email: str, host: str = "molenbeek"):
    """A client of `host` signed in as `email`, reading English (the headers checked here)."""
    client = site(host)
    assert client.sign_in(email).status_code == 302
    with client.client.session_transaction(base_url=client.base_url) as session:
        session["locale"] = "en"
    return client


def csv_table(response) -> list[list[str]]:
    """The rows of a CSV export (header first); checks the file's shape on the way."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["Content-Disposition"])
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, for Excel"
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def xlsx_sheet(response):
    """The first sheet of an XLSX export, opened with openpyxl."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.xlsx"',
                        response.headers["Content-Disposition"])
    return openpyxl.load_workbook(io.BytesIO(response.get_data())).worksheets[0]


def xlsx_table(response) -> list[tuple]:
    return [tuple(row) for row in xlsx_sheet(response).iter_rows(values_only=True)]


def column(table: list, header: str) -> list:
    """The values of one column of a table (header row first), without the header."""
    index = list(table[0]).index(header)
    return [row[index] for row in table[1:]]


def exported_text(response) -> str:
    """Every cell of a CSV or XLSX export as one text (to look for markers)."""
    rows = xlsx_table(response) if response.mimetype == XLSX else csv_table(response)
    return "\n".join("\t".join("" if cell is None else str(cell) for cell in row) for row in rows)


def add_learners(app: Flask, base, slug: str, names: list[str]) -> None:
    with app.app_context(), campus_scope(base.campus_ids[slug], db.session):
        for i, name in enumerate(names):
            db.session.add(Learner(full_name=name, email=f"export{i}-{len(names)}@{slug}.example",
                                   phone="+32 2 555 99 99"))
        db.session.commit()


def learner_count(app: Flask, base, slug: str) -> int:
    with app.app_context(), campus_scope(base.campus_ids[slug], db.session):
        return db.session.scalar(select(func.count()).select_from(Learner))


# --- the cells ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)",
                                  "\tx", "\rx"])
def test_a_text_a_spreadsheet_would_run_stays_text_in_csv(text):
    assert safe_text(text) == "'" + text
    assert csv_cell("text", text) == "'" + text


def test_csv_cells_by_kind():
    assert csv_cell("text", "Zoë") == "Zoë"
    assert csv_cell("text", None) == ""
    assert csv_cell("number", 12) == "12"
    assert csv_cell("number", -3) == "-3"  # a number, not a formula: no quote
    assert csv_cell("money", (12000, "EUR")) == "120.00"
    assert csv_cell("money", (-5, "MAD")) == "-0.05"
    assert csv_cell("money", (500, "JPY")) == "500"
    assert csv_cell("date", date(2026, 11, 3)) == "2026-11-03"
    assert csv_cell("percent", Decimal("0.25")) == "25%"
    assert csv_cell("percent", 0.125) == "12.5%"


def test_a_datetime_is_written_in_the_viewers_timezone(app):
    moment = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        from flask import g

        g.site_timezone = "Europe/Brussels"
        assert csv_cell("datetime", moment) == "2026-07-01 12:30:00"


def test_an_unknown_column_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown column kind"):
        Column("Name", str, "float")


@pytest.mark.parametrize("fmt", ["pdf", "CSV", "", None, "xls", "csv "])
def test_an_unknown_format_is_invalid_input_on_the_format_field(app, fmt):
    with app.test_request_context("/"), pytest.raises(InvalidInput) as raised:
        check_format(fmt)
    assert raised.value.status == 422 and "format" in raised.value.fields


def test_xlsx_cells_are_typed_and_the_header_is_bold_frozen_and_filtered():
    columns = (Column("Name", lambda r: r[0]), Column("Seats", lambda r: r[1], "number"),
               Column("Price", lambda r: r[2], "money"), Column("Starts", lambda r: r[3], "date"),
               Column("Fill", lambda r: r[4], "percent"))
    rows = [("=1+1", 12, (12050, "EUR"), date(2027, 1, 11), Decimal("0.5")),
            ("Zoë", None, None, None, None)]
    out = io.BytesIO()
    write_xlsx(out, columns, iter(rows), "Cohorts: all/some")
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    assert sheet.title == "Cohorts  all some"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E3"
    assert all(cell.font.b for cell in sheet[1])
    name, seats, price, starts, fill = sheet[2]
    assert name.value == "=1+1" and name.data_type == "s"  # a string, never a formula
    assert seats.value == 12 and seats.data_type == "n"
    assert price.value == Decimal("120.50") and price.number_format == "#,##0.00"
    assert starts.value == datetime(2027, 1, 11) and starts.number_format == "yyyy-mm-dd"
    assert fill.value == 0.5 and fill.number_format == "0.0%"
    assert [cell.value for cell in sheet[3]] == ["Zoë", None, None, None, None]
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["B"].width


# --- a list page: the learners ----------------------------------------------------------------


def test_csv_export_lists_every_learner_of_this_campus_and_none_of_the_other(app, site, base):
    add_learners(app, base, "molenbeek", [f"Many {i:02d}" for i in range(30)])  # > one page
    rows = csv_table(signed_in(site, manager("molenbeek")).get("/learners?format=csv"))
    assert rows[0] == ["Name", "E-mail", "Phone", "Consent given", "Added"]
    names = column(rows, "Name")
    assert len(names) == learner_count(app, base, "molenbeek") > 25
    assert any(MARKERS["molenbeek"] in name for name in names)
    assert not any(MARKERS["antwerp"] in name for name in names)


def test_xlsx_export_ignores_the_page_and_has_typed_cells(app, site, base):
    add_learners(app, base, "molenbeek", [f"Many {i:02d}" for i in range(30)])
    client = signed_in(site, manager("molenbeek"))
    table = xlsx_table(client.get("/learners?format=xlsx&page=2"))
    assert len(table) - 1 == learner_count(app, base, "molenbeek")
    added = column(table, "Added")
    assert all(isinstance(value, datetime) for value in added)
    assert MARKERS["antwerp"] not in str(table)


def test_search_narrows_the_list_and_the_export_alike(app, site, base):
    add_learners(app, base, "molenbeek", ["Searchable Zoë", "Someone Else"])
    client = signed_in(site, manager("molenbeek"))
    page = client.get("/learners?q=Searchable").get_data(as_text=True)
    assert "Searchable Zoë" in page and "Someone Else" not in page
    assert 'href="/learners?format=csv&amp;q=Searchable"' in page
    assert column(csv_table(client.get("/learners?q=Searchable&format=csv")), "Name") == [
        "Searchable Zoë"]
    assert column(xlsx_table(client.get("/learners?q=Searchable&format=xlsx")), "Name") == [
        "Searchable Zoë"]


def test_a_name_a_spreadsheet_would_run_is_exported_as_text(app, site, base):
    add_learners(app, base, "molenbeek", ['=HYPERLINK("http://evil.example","x")'])
    client = signed_in(site, manager("molenbeek"))
    names = column(csv_table(client.get("/learners?format=csv&q=HYPERLINK")), "Name")
    assert names == ['\'=HYPERLINK("http://evil.example","x")']
    sheet = xlsx_sheet(client.get("/learners?format=xlsx&q=HYPERLINK"))
    assert sheet["A2"].data_type == "s"


def test_an_unknown_format_is_a_422_in_the_one_error_shape_and_changes_nothing(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    before = learner_count(app, base, "molenbeek")
    page = client.get("/learners?format=pdf")
    assert page.status_code == 422
    assert "CSV or XLSX" in page.get_data(as_text=True)
    assert learner_count(app, base, "molenbeek") == before


def test_the_empty_state_says_what_to_do_when_a_search_finds_nothing(site, base):
    client = signed_in(site, manager("molenbeek"))
    page = client.get("/learners?q=zqxjvk").get_data(as_text=True)
    assert "No learner matches" in page and "Clear the search" in page
    assert "Download this list" not in page  # nothing to export
    assert csv_table(client.get("/learners?q=zqxjvk&format=csv"))[1:] == []


def test_staff_export_what_they_may_list_and_nothing_more(site, base):
    client = signed_in(site, staff("molenbeek"))
    text = exported_text(client.get("/learners?format=csv"))
    assert MARKERS["molenbeek"] in text and MARKERS["antwerp"] not in text


def test_the_export_reads_a_constant_number_of_queries(app, site, base):
    client = signed_in(site, manager("molenbeek"))

    def counted(fmt: str) -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get(f"/learners?format={fmt}").status_code == 200
        return len(statements)

    few = {fmt: counted(fmt) for fmt in FORMATS}
    add_learners(app, base, "molenbeek", [f"Counted {i}" for i in range(7)])
    assert {fmt: counted(fmt) for fmt in FORMATS} == few


def test_the_file_is_named_after_the_list_the_campus_and_today(site, base):
    client = signed_in(site, manager("molenbeek"))
    response = client.get("/learners?format=xlsx")
    assert re.fullmatch(r'attachment; filename="learners-molenbeek-\d{4}-\d{2}-\d{2}\.xlsx"',
                        response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "private, no-store"
    assert int(response.headers["Content-Length"]) == len(response.get_data())


# --- every list that exports --------------------------------------------------------------------

# The sites a marked list lives on → who asks there.
READERS = {SiteKind.CAMPUS: ("molenbeek", manager("molenbeek")), SiteKind.HQ: ("hq", HQ),
           SiteKind.PARTNERS: ("partners", PARTNER_CONTACT)}
# The lists that must export; the walk below finds the marked ones from the URL map, this list
# keeps a mark from going missing silently.
EXPECTED = frozenset({
    "learners.index", "applications.index", "cohorts.index", "enrolments.index",
    "coworking.plans", "coworking.memberships", "coworking.sessions",
    "events.index", "events.show", "audit.index",
    "catalogue_admin.courses", "catalogue_admin.tracks", "catalogue_admin.certifications",
    "agreements.index", "invoice_runs.index", "entities.index", "fx.index", "invoices.index",
    "payments.orders", "revenue.entries", "royalties.index", "royalties.rates",
})


def exporting_endpoints(app: Flask) -> dict[str, str]:
    """Endpoint → rule of every view marked `@exportable`."""
    return {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], "table_export", False)}


def url_values(base, rule_arguments) -> dict[str, object]:
    """Molenbeek's objects (and the base partner's) for the URL arguments of a list (e.g. an
    event's registrations)."""
    values: dict[str, object] = {}
    for name in rule_arguments:
        kind = name.removesuffix("_id")
        if name == "learner_id":
            values[name] = base.learner_ids["molenbeek"][0]
        elif kind in base.owned:
            values[name] = base.owned[kind]["molenbeek"][-1]
        else:  # a global object: the catalogue's, an agreement, an impact target
            values[name] = base.catalogue[kind][0]
    return values


def test_every_expected_list_is_marked_as_exporting(app):
    assert exporting_endpoints(app).keys() >= EXPECTED


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_list_answers_both_formats_for_its_reader(app, site, base, fmt):
    problems, checked = [], set()
    clients: dict[str, object] = {}
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "table_export", False):
            continue
        for kind in sorted(view.site_kinds & READERS.keys()):
            host, email = READERS[kind]
            if host not in clients:
                clients[host] = signed_in(site, email, host)
            values = {**url_values(base, rule.arguments), "format": fmt}
            path = adapter.build(rule.endpoint, values)
            response = clients[host].get(path)
            checked.add(rule.endpoint)
            if response.status_code != 200 or response.mimetype != MIMETYPES[fmt]:
                problems.append(f"{host} {path}: {response.status_code} {response.mimetype}")
                continue
            text = exported_text(response)
            if host != "hq" and any(marker in text for marker in MARKERS.values()
                                    if host != "molenbeek" or marker != MARKERS["molenbeek"]):
                problems.append(f"{host} {path}: shows another campus's learner")
    assert checked >= EXPECTED
    assert problems == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_list_refuses_an_unknown_format_with_a_422(app, site, base, fmt):
    problems = []
    clients: dict[str, object] = {}
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "table_export", False):
            continue
        kind = sorted(view.site_kinds & READERS.keys())[0]
        host, email = READERS[kind]
        if host not in clients:
            clients[host] = signed_in(site, email, host)
        path = adapter.build(rule.endpoint, {**url_values(base, rule.arguments),
                                             "format": fmt + "x"})
        response = clients[host].get(path)
        if response.status_code != 422 or response.mimetype != "text/html":
            problems.append(f"{host} {path}: {response.status_code} {response.mimetype}")
    assert problems == []


def test_a_large_file_is_streamed_from_disk_and_closed(app, site, base, monkeypatch):
    import core.exports

    monkeypatch.setattr(core.exports, "SPOOL_BYTES", 64)  # any export spills to disk
    monkeypatch.setattr(core.exports, "CHUNK_BYTES", 16)
    closed: list[bool] = []
    close = core.exports._Chunks.close

    def recording_close(self) -> None:
        close(self)
        closed.append(self.file.closed)

    monkeypatch.setattr(core.exports._Chunks, "close", recording_close)
    client = signed_in(site, manager("molenbeek"))
    rows = csv_table(client.get("/learners?format=csv"))
    assert len(rows) - 1 == learner_count(app, base, "molenbeek")
    assert closed == [True]  # read to its end: closed
    abandoned = client.get("/learners?format=xlsx", buffered=False)
    assert len(next(iter(abandoned.response))) == 16
    abandoned.close()  # the client went away mid-download
    assert closed[1:] == [True]


def test_headers_are_in_the_readers_language(site, base, translated):
    client = signed_in(site, manager("molenbeek"))
    with client.client.session_transaction(base_url=client.base_url) as session:
        session["locale"] = "fr"
    assert csv_table(client.get("/learners?format=csv"))[0][:3] == [
        "Nom", "Adresse e-mail", "Téléphone"]
    assert xlsx_table(client.get("/learners?format=xlsx"))[0][0] == "Nom"
