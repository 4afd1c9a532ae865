"""HQ's revenue page (`/reports/revenue` on hq) and its CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from billing.ledger.models import RevenueStream
from core.database import utcnow
from core.extensions import db
from tenants.campuses.services import create_campus
from tests.billing.test_reports import TOTAL_2030, _more_rollups, add, make_ledger
from tests.support.data import HQ, manager
from tests.support.queries import count_queries

PAGE = "/reports/revenue"
YEAR = "from=2030-01&to=2030-12"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(name="ledger")
def ledger_fixture(app, base):
    return make_ledger(app, base)


def hq(site):
    client = site("hq")
    assert client.sign_in(HQ).status_code == 302
    return client


def text_of(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, element_id: str) -> str:
    """The HTML of the element with `element_id` (a table), for focused assertions."""
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</table>", start)]


def row_of(html: str, attribute: str) -> str:
    start = html.index(attribute)
    return html[start:html.index("</tr>", start)]


# --- the page -------------------------------------------------------------------------------


def test_hq_sees_network_total_last_year_and_change(site, ledger):
    response = hq(site).get(f"{PAGE}?{YEAR}")
    assert response.status_code == 200
    page = text_of(response)
    assert "€3,888.75" in page  # network total, 2030
    assert "€499.00" in page  # the same period in 2029
    assert "+679.3%" in page
    assert 'value="2030-01"' in page and 'value="2030-12"' in page


def test_each_campus_has_its_total_and_share(site, ledger):
    page = text_of(hq(site).get(f"{PAGE}?{YEAR}"))
    totals = section(page, "campus-totals")
    antwerp = row_of(totals, 'data-campus="antwerp"')
    assert "€2,000.00" in antwerp and "51.4%" in antwerp and "€99.00" in antwerp
    molenbeek = row_of(totals, 'data-campus="molenbeek"')
    assert "€1,750.50" in molenbeek and "45.0%" in molenbeek and "+337.6%" in molenbeek
    casablanca = row_of(totals, 'data-campus="casablanca"')
    assert "€138.25" in casablanca and "3.6%" in casablanca and "MAD" in casablanca
    # Largest first.
    assert totals.index("antwerp") < totals.index("molenbeek") < totals.index("casablanca")


def test_campus_by_month_table_in_eur(site, ledger):
    matrix = section(text_of(hq(site).get(f"{PAGE}?{YEAR}")), "campus-months")
    assert matrix.count("<th scope=\"col\">") == 14  # campus, 12 months, total
    molenbeek = row_of(matrix, 'data-campus="molenbeek"')
    cells = re.findall(r"<td>(?:<strong>)?([^<]*)", molenbeek)
    assert cells[:3] == ["€1,000.00", "€0.00", "€750.50"]
    assert cells[-1] == "€1,750.50"
    assert "€3,888.75" in matrix and "€499.00" in matrix  # network and a year earlier


def test_per_stream_totals(site, ledger):
    streams = section(text_of(hq(site).get(f"{PAGE}?{YEAR}")), "stream-totals")
    training = row_of(streams, 'data-stream="training"')
    assert "Training" in training and "€1,638.25" in training and "€400.00" in training
    assert "€2,000.00" in row_of(streams, 'data-stream="sponsorship"')


def test_charts_are_inline_svg_with_titles(site, ledger):
    page = text_of(hq(site).get(f"{PAGE}?{YEAR}"))
    assert page.count("<svg") == 2
    assert 'role="img"' in page and 'aria-labelledby="months-chart-title months-chart-desc"' in page
    assert "<title>Mar 2030: €750.50</title>" in page
    assert "<title>Mar 2029: €400.00</title>" in page
    assert "<title>Antwerp: 51.4%</title>" in page


def test_filters_by_campus_and_stream_for_both_years(site, ledger):
    client = hq(site)
    page = text_of(client.get(f"{PAGE}?{YEAR}&campus=antwerp&stream=coworking"
                              "&stream=sponsorship"))
    assert "€2,000.00" in page and "€99.00" in page
    assert 'data-campus="molenbeek"' not in page
    assert '<option value="antwerp" selected>' in page
    assert '<option value="sponsorship" selected>' in page
    assert '<option value="molenbeek">' in page  # still offered
    assert 'data-stream="training"' not in page


def test_default_period_is_this_calendar_year(site, ledger):
    today = utcnow().date()
    page = text_of(hq(site).get(PAGE))
    assert f'value="{today.year}-01"' in page and f'value="{today.year}-12"' in page
    if today.month < 12:  # unfinished months: the page offers the year-to-date comparison
        assert 'id="runs-ahead"' in page
        assert f"from={today.year}-01&amp;to={today:%Y-%m}" in page
    past = text_of(hq(site).get(f"{PAGE}?from=2025-01&to=2025-12"))
    assert 'id="runs-ahead"' not in past


def test_a_period_without_revenue_says_what_to_do(site, ledger):
    page = text_of(hq(site).get(f"{PAGE}?from=2040-01&to=2040-06"))
    assert "No revenue recorded in this period" in page
    assert "<svg" not in page


def test_bad_filters_are_422_with_the_field_marked_and_input_kept(site, ledger):
    client = hq(site)
    bad_month = client.get(f"{PAGE}?from=2030-13&to=2030-12")
    assert bad_month.status_code == 422
    page = text_of(bad_month)
    assert 'aria-describedby="from-error"' in page and 'value="2030-13"' in page
    backwards = client.get(f"{PAGE}?from=2030-06&to=2030-01")
    assert backwards.status_code == 422 and 'id="to-error"' in text_of(backwards)
    too_long = client.get(f"{PAGE}?from=2020-01&to=2030-12")
    assert too_long.status_code == 422 and "at most 36 months" in text_of(too_long)
    unknown = client.get(f"{PAGE}?{YEAR}&campus=atlantis")
    assert unknown.status_code == 422 and 'id="campus-error"' in text_of(unknown)
    stream = client.get(f"{PAGE}?{YEAR}&stream=gambling")
    assert stream.status_code == 422 and 'id="stream-error"' in text_of(stream)


def test_only_hq_reaches_the_page(site, ledger):
    anonymous = site("hq").get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    hq_site = site("hq")
    assert hq_site.sign_in(manager("molenbeek")).status_code == 200  # refused on hq
    assert hq_site.get(f"{PAGE}.csv").status_code == 302
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    for path in (PAGE, f"{PAGE}.csv", f"{PAGE}.xlsx"):
        assert molenbeek.get(path).status_code == 404, path
    campus_hq = site("antwerp")
    campus_hq.sign_in(HQ)
    assert campus_hq.get(PAGE).status_code == 404  # HQ too: the page lives on hq only


def test_hq_navigation_links_revenue_and_exchange_rates(site, ledger):
    home = text_of(hq(site).get("/"))
    assert 'href="/reports/revenue"' in home and ">Revenue<" in home
    assert 'href="/fx"' in home and ">Exchange rates<" in home
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert 'href="/reports/revenue"' not in text_of(molenbeek.get("/"))


def test_page_query_count_does_not_grow_with_rollups(app, site, ledger):
    client = hq(site)

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get(f"{PAGE}?{YEAR}").status_code == 200
        return len(statements)

    before = measure()
    _more_rollups(app, ledger, 30)
    assert measure() == before


# --- exports --------------------------------------------------------------------------------


def test_csv_export_honours_the_filters(site, ledger):
    client = hq(site)
    response = client.get(f"{PAGE}.csv?{YEAR}&campus=molenbeek&campus=casablanca")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="revenue-2030-01-to-2030-12.csv"')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for spreadsheets
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        ["campus", "campus_name", "month", "stream", "amount_eur"],
        ["casablanca", "Casablanca", "2030-11", "training", "138.25"],
        ["molenbeek", "Molenbeek", "2030-01", "training", "1000.00"],
        ["molenbeek", "Molenbeek", "2030-03", "events", "250.50"],
        ["molenbeek", "Molenbeek", "2030-03", "training", "500.00"],
    ]
    everything = list(csv.DictReader(io.StringIO(
        client.get(f"{PAGE}.csv?{YEAR}").get_data().decode("utf-8-sig"))))
    cents = sum(int(row["amount_eur"].replace(".", "")) for row in everything)
    assert cents == TOTAL_2030


def test_csv_export_keeps_a_formula_like_name_as_text(app, site, ledger):
    with app.app_context():
        campus = create_campus(slug="formula", name="=HYPERLINK(\"http://x\")", city="X",
                               country="BE", currency="EUR", timezone="Europe/Brussels",
                               locale="fr_BE")
        add(campus.id, date(2030, 2, 1), RevenueStream.OTHER, 100)
        db.session.commit()
    rows = list(csv.reader(io.StringIO(
        hq(site).get(f"{PAGE}.csv?{YEAR}").get_data().decode("utf-8-sig"))))
    names = [row[1] for row in rows if row[0] == "formula"]
    assert names == ["'=HYPERLINK(\"http://x\")"]


def test_bad_export_filters_are_422(site, ledger):
    assert hq(site).get(f"{PAGE}.csv?from=2030-06&to=2030-01").status_code == 422
    assert hq(site).get(f"{PAGE}.xlsx?campus=atlantis").status_code == 422


def sheet_cells(book: zipfile.ZipFile, number: int) -> dict[str, str]:
    """Cell reference → value (numbers as written, strings resolved) of sheet `number`."""
    shared_root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314
    shared = ["".join(t.text or "" for t in si.iter(f"{{{SHEET_NS['x']}}}t"))
              for si in shared_root.findall("x:si", SHEET_NS)]
    root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{number}.xml"))  # noqa: S314
    cells = {}
    for cell in root.iter(f"{{{SHEET_NS['x']}}}c"):
        value = cell.find("x:v", SHEET_NS)
        if value is None:
            continue
        cells[cell.get("r")] = shared[int(value.text)] if cell.get("t") == "s" else value.text
    return cells


def test_xlsx_export_has_exact_numbers_and_honours_the_filters(site, ledger):
    response = hq(site).get(f"{PAGE}.xlsx?{YEAR}&stream=training")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="revenue-2030-01-to-2030-12.xlsx"')
    book = zipfile.ZipFile(io.BytesIO(response.get_data()))
    summary, detail = sheet_cells(book, 1), sheet_cells(book, 2)
    assert [detail[f"{c}1"] for c in "ABCDE"] == ["campus", "campus_name", "month", "stream",
                                                   "amount_eur"]
    lines = [[detail.get(f"{c}{r}") for c in "ABCDE"] for r in range(2, 5)]
    assert lines == [["casablanca", "Casablanca", "2030-11", "training", "138.25"],
                     ["molenbeek", "Molenbeek", "2030-01", "training", "1000.00"],
                     ["molenbeek", "Molenbeek", "2030-03", "training", "500.00"]]
    assert (detail["D5"], detail["E5"]) == ("Total", "1638.25")  # training only
    assert "events" not in detail.values()
    # The summary: campus rows with one column per month, then total, share, last year.
    assert summary["A4"] == "Campus" and summary["B4"] == "2030-01" and summary["N4"] == "Total"
    rows = {summary[f"A{r}"]: r for r in range(5, 9) if f"A{r}" in summary}
    molenbeek = rows["Molenbeek"]
    assert summary[f"B{molenbeek}"] == "1000.00" and summary[f"N{molenbeek}"] == "1500.00"
    assert summary[f"P{molenbeek}"] == "400.00"  # training in 2029
    assert "1638.25" in summary.values()  # the network total


def test_xlsx_amounts_are_numbers_not_text(site, ledger):
    book = zipfile.ZipFile(io.BytesIO(hq(site).get(f"{PAGE}.xlsx?{YEAR}").get_data()))
    root = ElementTree.fromstring(book.read("xl/worksheets/sheet2.xml"))  # noqa: S314
    amounts = [c for c in root.iter(f"{{{SHEET_NS['x']}}}c") if c.get("r", "").startswith("E")]
    assert len(amounts) == 1 + 6 + 1  # header, six groups, total
    assert all(c.get("t") is None for c in amounts[1:])  # numeric cells carry no type
    values = [Decimal(c.find("x:v", SHEET_NS).text) for c in amounts[1:]]
    assert values[-1] == Decimal(TOTAL_2030).scaleb(-2) == sum(values[:-1])
