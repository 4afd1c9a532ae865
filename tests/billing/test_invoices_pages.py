"""Invoice pages and JSON API on campus sites, on `hq.` and on `partners.`."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from billing.entities.models import PaymentProvider
from billing.entities.services import entity_for_campus_id, hq_entity
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.invoices.services import LineInput, create_invoice, get_invoice, issue_invoice
from billing.ledger.models import RevenueEntry
from core.extensions import db
from core.partners.models import Partner
from tenants.scoping import campus_scope
from tests.support.data import (
    GOOGLE_INVOICE,
    HQ,
    INVOICES,
    OTHER_PARTNER_CONTACT,
    PARTNER_CONTACT,
    manager,
    staff,
)
from tests.support.queries import count_queries

MOL, ANT = INVOICES["molenbeek"], INVOICES["antwerp"]


def signed_in(site, email: str, host: str = "molenbeek"):
    client = site(host)
    assert client.sign_in(email).status_code == 302
    return client


def auth(site, email: str, host: str = "molenbeek") -> tuple:
    client = site(host)
    return client, {"Authorization": f"Bearer {client.token(email)}"}


def state(app, base, number: str, slug: str = "molenbeek") -> tuple:
    """(status, entry count for its source key) as the database has it."""
    with app.app_context(), campus_scope(base.campus_ids[slug], db.session):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
        entries = db.session.scalar(select(func.count()).select_from(RevenueEntry).where(
            RevenueEntry.source_key == f"invoice:{number}"))
        return (invoice.status if invoice else None), entries


def add_invoices(app, base, slug: str, count: int, *, issue: bool = True,
                 partner_id: int | None = None, kind: InvoiceKind = InvoiceKind.PARTNER
                 ) -> list[str]:
    """`count` invoices of the campus (issued unless told), their numbers or DRAFT-<id>."""
    refs = []
    with app.app_context(), campus_scope(base.campus_ids[slug], db.session):
        for n in range(count):
            if kind is InvoiceKind.ROYALTY:
                invoice = create_invoice(kind=kind, issuer=hq_entity(), currency="EUR",
                                         lines=[LineInput(f"Royalties {n}", 1, 1000 + n)])
            else:
                invoice = create_invoice(
                    kind=kind, issuer=entity_for_campus_id(base.campus_ids[slug]),
                    currency="EUR", partner=db.session.get(Partner, partner_id or base.partner_id),
                    lines=[LineInput(f"Line {n}", 1, 5000 + n), LineInput("Extra", 2, 100)])
            if issue:
                invoice = issue_invoice(invoice, issued_on=date(2026, 11, 20))
            refs.append(invoice.number or f"DRAFT-{invoice.id}")
        db.session.commit()
    return refs


# ---- campus list ------------------------------------------------------------------------------


def test_manager_lists_the_campuss_invoices_only(site, base):
    page = signed_in(site, manager("molenbeek")).get("/invoices")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert MOL in body and GOOGLE_INVOICE in body and ANT not in body
    assert "Microsoft" in body and "Google" in body
    assert 'href="/invoices/MOL-2026-0001.pdf"' in body


def test_list_search_and_filters(site, base, app):
    add_invoices(app, base, "molenbeek", 1, issue=False)
    molenbeek = signed_in(site, manager("molenbeek"))
    body = molenbeek.get("/invoices?q=goog").get_data(as_text=True)
    assert GOOGLE_INVOICE in body and MOL not in body
    body = molenbeek.get("/invoices?q=0001").get_data(as_text=True)
    assert MOL in body and GOOGLE_INVOICE not in body
    body = molenbeek.get("/invoices?status=draft").get_data(as_text=True)
    assert "Draft #" in body and MOL not in body
    body = molenbeek.get("/invoices?status=paid").get_data(as_text=True)
    assert "No invoice matches these filters." in body
    body = molenbeek.get("/invoices?q=%25").get_data(as_text=True)  # a LIKE wildcard is text
    assert MOL not in body
    bad = molenbeek.get("/invoices?status=unknown&kind=nope")
    assert bad.status_code == 422
    assert 'id="status-error"' in bad.get_data(as_text=True)


def test_list_pages_through_many_invoices(site, base, app):
    add_invoices(app, base, "molenbeek", 26)
    molenbeek = signed_in(site, manager("molenbeek"))
    first = molenbeek.get("/invoices").get_data(as_text=True)
    assert "Page 1 of 2" in first and "MOL-2026-0028" in first
    second = molenbeek.get("/invoices?page=2").get_data(as_text=True)
    assert MOL in second and "MOL-2026-0028" not in second


def test_empty_list_says_what_comes_next(site, base, app):
    with app.app_context():
        page = signed_in(site, manager("antwerp"), "antwerp").get("/invoices?kind=royalty")
    assert "No invoice matches these filters." in page.get_data(as_text=True)


def test_staff_see_no_money(site, base, app):
    molenbeek = signed_in(site, staff("molenbeek"))
    for path in ("/invoices", f"/invoices/{MOL}", f"/invoices/{MOL}.pdf",
                 "/api/v1/invoices", f"/api/v1/invoices/{MOL}"):
        assert molenbeek.get(path).status_code == 403, path
    assert molenbeek.post(f"/invoices/{MOL}/mark-paid",
                          data={"paid_on": "2026-11-10"}).status_code == 403
    client, headers = auth(site, staff("molenbeek"))
    assert client.post(f"/api/v1/invoices/{MOL}/mark-paid", json={"paid_on": "2026-11-10"},
                       headers=headers).status_code == 403
    assert state(app, base, MOL) == (InvoiceStatus.ISSUED, 0)


def test_another_campuss_invoice_is_a_404_everywhere_on_this_site(site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    for path in (f"/invoices/{ANT}", f"/invoices/{ANT}.pdf", f"/invoices/{ANT}/mark-paid",
                 f"/invoices/{ANT}/credit", f"/api/v1/invoices/{ANT}",
                 "/invoices/mol-2026-0001", "/invoices/MOL%252026", "/invoices/DRAFT-999999"):
        assert molenbeek.get(path).status_code == 404, path
    assert molenbeek.post(f"/invoices/{ANT}/mark-paid",
                          data={"paid_on": "2026-11-10"}).status_code == 404
    assert molenbeek.post(f"/api/v1/invoices/{ANT}/credit",
                          json={"reason": "x"}).status_code == 404


# ---- campus detail and actions ----------------------------------------------------------------


def test_detail_shows_lines_totals_and_transfer_reference(site, base):
    body = signed_in(site, manager("molenbeek")).get(f"/invoices/{MOL}").get_data(as_text=True)
    assert "Microsoft programme, October 2026" in body
    assert "Reverse charge" in body and "Article 196" in body
    assert re.search(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+", body)
    assert f'href="/invoices/{MOL}/mark-paid"' in body and f'href="/invoices/{MOL}/credit"' in body


def test_pdf_route_serves_the_invoice(site, base):
    response = signed_in(site, manager("molenbeek")).get(f"/invoices/{MOL}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="{MOL}.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    text = PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text()
    text = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    assert MOL in text and "Total 1 000,00 €" in text


def test_mark_paid_form_refuses_bad_input_and_changes_nothing(site, base, app):
    molenbeek = signed_in(site, manager("molenbeek"))
    form = molenbeek.get(f"/invoices/{MOL}/mark-paid").get_data(as_text=True)
    assert 'name="paid_on"' in form and 'name="csrf_token"' in form
    for data in ({}, {"paid_on": "2099-01-01"}, {"paid_on": "not a date"},
                 {"paid_on": "2026-11-10", "reference": "x" * 121}):
        response = molenbeek.post(f"/invoices/{MOL}/mark-paid", data=data)
        assert response.status_code == 422, data
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    response = molenbeek.post(f"/invoices/{MOL}/mark-paid", data={"paid_on": "2026-10-01"})
    assert response.status_code == 422  # before the issue date: the service refuses it
    assert "2026-10-01" in response.get_data(as_text=True)  # what was typed is kept
    assert state(app, base, MOL) == (InvoiceStatus.ISSUED, 0)


def test_marking_paid_by_transfer_lands_in_the_ledger_once(site, base, app):
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/invoices/{MOL}/mark-paid",
                              data={"paid_on": "2026-11-10", "reference": "CODA 42"})
    assert response.status_code == 302 and response.headers["Location"] == f"/invoices/{MOL}"
    assert "marked paid" in molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    assert state(app, base, MOL) == (InvoiceStatus.PAID, 1)
    again = molenbeek.post(f"/invoices/{MOL}/mark-paid", data={"paid_on": "2026-11-11"})
    assert again.status_code == 302
    assert state(app, base, MOL) == (InvoiceStatus.PAID, 1)


def test_credit_form_issues_a_credit_note(site, base, app):
    molenbeek = signed_in(site, manager("molenbeek"))
    refused = molenbeek.post(f"/invoices/{MOL}/credit", data={"reason": "  "})
    assert refused.status_code == 422
    assert state(app, base, MOL) == (InvoiceStatus.ISSUED, 0)
    response = molenbeek.post(f"/invoices/{MOL}/credit",
                              data={"reason": "Wrong period", "issued_on": "2026-11-21"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/invoices/MOL-2026-0003"
    note = molenbeek.get("/invoices/MOL-2026-0003").get_data(as_text=True)
    assert "Credit note MOL-2026-0003" in note and f'href="/invoices/{MOL}"' in note
    assert state(app, base, MOL)[0] is InvoiceStatus.VOID
    again = molenbeek.post(f"/invoices/{MOL}/credit", data={"reason": "Again"})
    assert again.status_code == 409


def test_issuing_a_draft_from_its_page(site, base, app):
    [ref] = add_invoices(app, base, "molenbeek", 1, issue=False)
    molenbeek = signed_in(site, manager("molenbeek"))
    page = molenbeek.get(f"/invoices/{ref}").get_data(as_text=True)
    assert "Issue the invoice" in page
    assert molenbeek.post(f"/invoices/{ref}/issue",
                          data={"issued_on": "2099-01-01"}).status_code == 422
    response = molenbeek.post(f"/invoices/{ref}/issue", data={"issued_on": "2026-11-20"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/invoices/MOL-2026-0003"
    assert molenbeek.post(f"/invoices/{ref}/issue").status_code == 404  # no draft any more


def test_campus_reads_its_royalty_statements_but_hq_marks_them_paid(site, base, app):
    [number] = add_invoices(app, base, "molenbeek", 1, kind=InvoiceKind.ROYALTY)
    molenbeek = signed_in(site, manager("molenbeek"))
    body = molenbeek.get("/invoices?kind=royalty").get_data(as_text=True)
    assert number == "HQ-2026-0001" and number in body
    page = molenbeek.get(f"/invoices/{number}").get_data(as_text=True)
    assert "HQ records the payment" in page and "/mark-paid" not in page
    assert molenbeek.post(f"/invoices/{number}/mark-paid",
                          data={"paid_on": "2026-11-10"}).status_code == 403
    assert molenbeek.post(f"/api/v1/invoices/{number}/mark-paid",
                          json={"paid_on": "2026-11-10"}).status_code == 403
    hq = signed_in(site, HQ, "hq")
    assert hq.post(f"/invoices/{number}/mark-paid",
                   data={"paid_on": "2026-11-21"}).status_code == 302
    assert state(app, base, number) == (InvoiceStatus.PAID, 0)  # no campus ledger entry


# ---- hq ---------------------------------------------------------------------------------------


def test_hq_lists_every_campus_and_filters_by_campus(site, base):
    hq = signed_in(site, HQ, "hq")
    body = hq.get("/invoices").get_data(as_text=True)
    assert MOL in body and ANT in body and GOOGLE_INVOICE in body
    body = hq.get("/invoices?campus=antwerp").get_data(as_text=True)
    assert ANT in body and MOL not in body
    payload = hq.get("/api/v1/invoices?campus=molenbeek").get_json()
    assert {item["number"] for item in payload["items"]} == {MOL, GOOGLE_INVOICE}
    assert {item["campus"] for item in payload["items"]} == {"molenbeek"}


def test_hq_acts_on_a_campus_invoice_in_that_campus(site, base, app):
    hq = signed_in(site, HQ, "hq")
    assert ANT in hq.get(f"/invoices/{ANT}").get_data(as_text=True)
    assert hq.get(f"/invoices/{ANT}.pdf").mimetype == "application/pdf"
    response = hq.post(f"/api/v1/invoices/{ANT}/mark-paid", json={"paid_on": "2026-11-10"})
    assert response.status_code == 200 and response.get_json()["status"] == "paid"
    assert state(app, base, ANT, "antwerp") == (InvoiceStatus.PAID, 1)
    assert state(app, base, MOL) == (InvoiceStatus.ISSUED, 0)


# ---- partners ---------------------------------------------------------------------------------


def test_partner_sees_only_its_issued_invoices(site, base, app):
    [pending] = add_invoices(app, base, "molenbeek", 1, issue=False)
    portal = signed_in(site, PARTNER_CONTACT, "partners")
    body = portal.get("/invoices").get_data(as_text=True)
    assert MOL in body and ANT in body and GOOGLE_INVOICE not in body and "Draft" not in body
    for path in (f"/invoices/{GOOGLE_INVOICE}", f"/invoices/{GOOGLE_INVOICE}.pdf",
                 f"/invoices/{pending}", f"/api/v1/invoices/{GOOGLE_INVOICE}",
                 f"/invoices/{MOL}/mark-paid"):
        assert portal.get(path).status_code == 404, path
    items = portal.get("/api/v1/invoices").get_json()["items"]
    assert sorted(item["number"] for item in items) == [ANT, MOL]
    assert all("run_key" not in item and "entry_id" not in item for item in items)
    other = signed_in(site, OTHER_PARTNER_CONTACT, "partners")
    assert [i["number"] for i in other.get("/api/v1/invoices").get_json()["items"]] == [
        GOOGLE_INVOICE]
    assert other.get(f"/invoices/{MOL}").status_code == 404


def test_partner_invoice_page_offers_card_and_transfer(site, base, app):
    portal = signed_in(site, PARTNER_CONTACT, "partners")
    body = portal.get(f"/invoices/{MOL}").get_data(as_text=True)
    assert "How to pay" in body and "BE68539007547034" in body
    assert re.search(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+", body)
    if "payments.pay_invoice" in app.view_functions:
        assert f'href="/invoices/{MOL}/pay"' in body
    with app.app_context():  # a campus on `manual` takes no card: the transfer remains
        entity = entity_for_campus_id(base.campus_ids["molenbeek"])
        entity.payment_provider = PaymentProvider.MANUAL
        db.session.commit()
    body = portal.get(f"/invoices/{MOL}").get_data(as_text=True)
    assert "/pay" not in body and "How to pay" in body
    pdf = portal.get(f"/invoices/{MOL}.pdf")
    assert pdf.status_code == 200
    assert MOL in PdfReader(io.BytesIO(pdf.get_data())).pages[0].extract_text()
    detail = portal.get(f"/api/v1/invoices/{ANT}").get_json()
    assert detail["lines"][0]["amount_minor"] == 100000
    assert detail["vat_treatment"] == "reverse_charge"


# ---- API --------------------------------------------------------------------------------------


def test_api_lists_and_shows_with_filters(site, base):
    client, headers = auth(site, manager("molenbeek"))
    payload = client.get("/api/v1/invoices?status=issued", headers=headers).get_json()
    assert payload["total"] == 2 and {i["number"] for i in payload["items"]} == {
        MOL, GOOGLE_INVOICE}
    assert payload["items"][0]["lines"] is None
    assert client.get("/api/v1/invoices?kind=bogus", headers=headers).status_code == 422
    assert client.get("/api/v1/invoices?per_page=101", headers=headers).status_code == 422
    one = client.get(f"/api/v1/invoices/{MOL}", headers=headers).get_json()
    assert one["number"] == MOL and one["total_minor"] == 100000 and one["issuer_code"] == "MOL"
    assert one["structured_communication"].startswith("+++")


def test_api_actions_validate_and_change_nothing_on_bad_input(site, base, app):
    client, headers = auth(site, manager("molenbeek"))
    for body in ({}, {"paid_on": "tomorrow"}, {"paid_on": "2099-01-01"},
                 {"paid_on": "2026-11-10", "surprise": 1}):
        response = client.post(f"/api/v1/invoices/{MOL}/mark-paid", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "invalid"
    response = client.post(f"/api/v1/invoices/{MOL}/credit", json={"reason": ""},
                           headers=headers)
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    assert state(app, base, MOL) == (InvoiceStatus.ISSUED, 0)
    response = client.post(f"/api/v1/invoices/{MOL}/issue", headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"


def test_api_mark_paid_twice_counts_once_then_credit_reverses(site, base, app):
    client, headers = auth(site, manager("molenbeek"))
    for _ in range(2):
        response = client.post(f"/api/v1/invoices/{MOL}/mark-paid",
                               json={"paid_on": "2026-11-10", "reference": "CODA"},
                               headers=headers)
        assert response.status_code == 200 and response.get_json()["status"] == "paid"
    assert state(app, base, MOL) == (InvoiceStatus.PAID, 1)
    response = client.post(f"/api/v1/invoices/{MOL}/credit", json={"reason": "Duplicate"},
                           headers=headers)
    assert response.status_code == 201
    note = response.get_json()
    assert (note["kind"], note["total_minor"], note["credits"]) == (
        "credit_note", -100000, MOL)
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        amounts = db.session.scalars(select(RevenueEntry.amount_minor).where(
            RevenueEntry.source == "invoice")).all()
        assert sorted(amounts) == [-100000, 100000]


def test_api_creates_a_draft_then_issues_it(site, base, app):
    client, headers = auth(site, manager("molenbeek"))
    bad = client.post("/api/v1/invoices", headers=headers, json={
        "partner_id": base.partner_id, "lines": [{"description": "", "unit_minor": 1.5}]})
    assert bad.status_code == 422
    missing = client.post("/api/v1/invoices", headers=headers, json={
        "partner_id": 999999, "lines": [{"description": "Fee", "unit_minor": 100}]})
    assert missing.status_code == 422 and "partner_id" in missing.get_json()["error"]["fields"]
    created = client.post("/api/v1/invoices", headers=headers, json={
        "partner_id": base.other_partner_id,
        "lines": [{"description": "Hackathon", "quantity": 2, "unit_minor": 50000}]})
    assert created.status_code == 201
    draft = created.get_json()
    assert (draft["status"], draft["number"], draft["total_minor"]) == ("draft", None, 100000)
    issued = client.post(f"/api/v1/invoices/DRAFT-{draft['id']}/issue", headers=headers,
                         json={"issued_on": "2026-11-20"})
    assert issued.status_code == 200
    assert (issued.get_json()["number"], issued.get_json()["due_on"]) == (
        "MOL-2026-0003", "2026-12-20")


# ---- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "email", "path"), [
    ("molenbeek", manager("molenbeek"), "/invoices"),
    ("molenbeek", manager("molenbeek"), "/api/v1/invoices"),
    ("hq", HQ, "/invoices"),
    ("hq", HQ, "/api/v1/invoices"),
    ("partners", PARTNER_CONTACT, "/invoices"),
    ("partners", PARTNER_CONTACT, "/api/v1/invoices"),
])
def test_list_query_count_does_not_grow_with_the_rows(site, base, app, host, email, path):
    client = signed_in(site, email, host)
    with app.app_context():
        engine = db.engine

    def measure() -> int:
        with count_queries(engine) as statements:
            response = client.get(path)
        assert response.status_code == 200
        return len(statements)

    # The baseline already holds a credit note, so every query kind runs once.
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        from billing.invoices.services import credit_invoice

        credit_invoice(get_invoice(MOL), issued_on=date(2026, 11, 21), reason="x")
        db.session.commit()
    before = measure()
    add_invoices(app, base, "molenbeek", 5)
    add_invoices(app, base, "antwerp", 3)
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        credit_invoice(get_invoice("MOL-2026-0004"), issued_on=date(2026, 11, 21), reason="y")
        db.session.commit()
    assert measure() == before
