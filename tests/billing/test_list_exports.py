"""Money lists as CSV and XLSX: a campus's invoices, orders and revenue entries (its own only),
HQ's invoices, agreements, exchange rates, billing entities, royalty statements and rates; money
as Decimal major units with its currency, filters and search applied to the page and the export
alike, and the year's revenue file keeping its machine format."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from billing.entities.models import PaymentProvider
from billing.ledger.models import EntrySource, RevenueStream
from billing.ledger.services import record_entry
from billing.payments.models import Order, OrderPurpose
from core.extensions import db
from tenants.scoping import campus_scope
from tests.core.test_exports import column, csv_table, signed_in, xlsx_sheet, xlsx_table
from tests.support.data import HQ, INVOICES, MARKERS, manager
from tests.support.queries import count_queries


def add_entries(app, base, memos: list[str], slug: str = "molenbeek") -> None:
    with app.app_context(), campus_scope(base.campus_ids[slug], db.session):
        for memo in memos:
            record_entry(occurred_on=date(2026, 11, 5), stream=RevenueStream.EVENTS,
                         amount_minor=2550, currency="EUR", source=EntrySource.MANUAL, memo=memo)
        db.session.commit()


# --- a campus's invoices, orders and revenue ------------------------------------------------------


def test_campus_invoice_export_lists_its_own_invoices_with_money_as_numbers(site, base):
    client = signed_in(site, manager("molenbeek"))
    table = xlsx_table(client.get("/invoices?format=xlsx"))
    numbers = column(table, "Number")
    assert INVOICES["molenbeek"] in numbers and INVOICES["antwerp"] not in numbers
    assert "Campus" not in table[0]  # one campus: no campus column
    assert column(table, "Total")[numbers.index(INVOICES["molenbeek"])] == Decimal("1000")
    rows = csv_table(client.get("/invoices?format=csv&q=MOL-2026-0001"))
    assert column(rows, "Number") == [INVOICES["molenbeek"]]
    assert column(rows, "Total") == ["1000.00"] and column(rows, "Currency") == ["EUR"]


def test_hq_invoice_export_names_the_campus_and_honours_the_campus_filter(site, base):
    client = signed_in(site, HQ, "hq")
    table = xlsx_table(client.get("/invoices?format=xlsx"))
    assert {INVOICES["molenbeek"], INVOICES["antwerp"]} <= set(column(table, "Number"))
    assert "antwerp" in column(table, "Campus")
    only = csv_table(client.get("/invoices?format=csv&campus=antwerp"))
    assert set(column(only, "Campus")) == {"antwerp"}
    assert client.get("/invoices?format=csv&status=lost").status_code == 422


def test_order_export_keeps_a_formula_like_payer_as_text(app, site, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        db.session.add(Order(purpose=OrderPurpose.MEMBERSHIP, provider=PaymentProvider.STRIPE,
                             membership_id=base.owned["membership"]["molenbeek"][-1],
                             description="Desk", payer_name="=cmd|' /C calc'!A0",
                             payer_email="evil@example.org", amount_minor=100, currency="EUR"))
        db.session.commit()
    client = signed_in(site, manager("molenbeek"))
    rows = csv_table(client.get("/orders?format=csv&q=evil"))
    assert column(rows, "Payer") == ["'=cmd|' /C calc'!A0"]
    sheet = xlsx_sheet(client.get("/orders?format=xlsx&q=evil"))
    payer = sheet.cell(row=2, column=list(next(sheet.iter_rows(values_only=True))).index(
        "Payer") + 1)
    assert payer.data_type == "s" and payer.value == "=cmd|' /C calc'!A0"
    every = csv_table(client.get("/orders?format=csv"))
    assert MARKERS["antwerp"] not in str(every) and len(every) - 1 == 2


def test_revenue_entry_search_narrows_the_page_and_the_export(app, site, base):
    add_entries(app, base, ["Hackathon tickets", "Meetup drinks"])
    client = signed_in(site, manager("molenbeek"))
    page = client.get("/revenue/entries?month=2026-11&q=hackathon").get_data(as_text=True)
    assert "Hackathon tickets" in page and "Meetup drinks" not in page
    table = xlsx_table(client.get("/revenue/entries?month=2026-11&q=hackathon&format=xlsx"))
    assert column(table, "Memo") == ["Hackathon tickets"]
    assert column(table, "Amount") == [Decimal("25.5")]
    assert column(table, "Amount in EUR") == [Decimal("25.5")]
    assert column(table, "Date") == [datetime(2026, 11, 5)]  # a date cell
    nothing = client.get("/revenue/entries?month=2026-11&q=zqxjvk").get_data(as_text=True)
    assert "Clear the search" in nothing


def test_revenue_entry_export_ignores_pages_in_constant_queries(app, site, base):
    client = signed_in(site, manager("molenbeek"))

    def counted() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get("/revenue/entries?year=2026&format=csv").status_code == 200
        return len(statements)

    few = counted()
    add_entries(app, base, [f"Ticket {i}" for i in range(30)])
    assert counted() == few
    rows = csv_table(client.get("/revenue/entries?year=2026&format=csv&page=2"))
    assert len(rows) - 1 == 31
    assert column(rows, "Reversed").count("no") == 31


def test_the_year_file_keeps_its_machine_format(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    response = client.get("/revenue/export.csv?year=2026")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="revenue-molenbeek-2026.csv"')
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    body = response.get_data().decode("utf-8-sig").split("\r\n")
    assert body[0] == "id,date,stream,amount,currency,amount_eur,source,memo,reverses_id"
    assert body[1].split(",")[1:6] == ["2026-11-03", "coworking", "120.00", "EUR", "120.00"]


# --- HQ's lists ---------------------------------------------------------------------------------


def test_agreement_export_has_the_fees_as_money(site, base):
    client = signed_in(site, HQ, "hq")
    table = xlsx_table(client.get("/agreements?format=xlsx"))
    assert len(table) > 1 and "Fixed fee per campus" in table[0]
    assert all(isinstance(value, (int, float, Decimal))
               for value in column(table, "Fixed fee per campus"))
    assert csv_table(client.get("/agreements?format=csv&q=zqxjvk"))[1:] == []
    page = client.get("/agreements?q=zqxjvk").get_data(as_text=True)
    assert "No agreement matches these filters." in page and "Clear the filters" in page


def test_fx_search_narrows_the_page_the_export_and_the_api(site, base):
    client = signed_in(site, HQ, "hq")
    rows = csv_table(client.get("/fx?q=2026-11&format=csv"))
    assert column(rows, "Day") == ["2026-11-02"] and column(rows, "Currency") == ["MAD"]
    assert len(csv_table(client.get("/fx?format=csv"))) - 1 == 2
    table = xlsx_table(client.get("/fx?currency=MAD&format=xlsx"))
    assert sorted(column(table, "Units per euro")) == [10.8, 10.85]
    headers = {"Authorization": f"Bearer {client.token(HQ)}"}
    assert client.get("/api/v1/fx-rates?q=2024", headers=headers).get_json()["total"] == 1
    page = client.get("/fx?q=zqxjvk").get_data(as_text=True)
    assert "No rate matches" in page


def test_entity_export_lists_hq_and_each_campus(site, base):
    client = signed_in(site, HQ, "hq")
    table = xlsx_table(client.get("/billing/entities?format=xlsx"))
    assert {"HQ", "MOL", "ANT"} <= set(column(table, "Invoice prefix"))
    assert 0.21 in column(table, "VAT rate")


def test_royalty_rates_export_as_percentages_and_the_grid_searches(site, base):
    client = signed_in(site, HQ, "hq")
    table = xlsx_table(client.get("/royalties/rates?format=xlsx"))
    assert set(column(table, "Slug")) >= {"molenbeek", "antwerp"}
    page = client.get("/royalties/rates?q=antw").get_data(as_text=True)
    assert 'id="rate-antwerp-training"' in page and 'id="rate-molenbeek-training"' not in page
    assert column(csv_table(client.get("/royalties/rates?q=antw&format=csv")), "Slug") == [
        "antwerp"]


def test_royalty_statement_exports_answer_on_both_sites(site, base):
    hq = signed_in(site, HQ, "hq")
    assert csv_table(hq.get("/royalties?format=csv"))[0][:2] == ["Number", "Campus"]
    campus = signed_in(site, manager("molenbeek"))
    assert csv_table(campus.get("/royalties?format=csv"))[0][:2] == ["Number", "Month"]
