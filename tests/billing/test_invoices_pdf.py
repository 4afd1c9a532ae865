"""The PDF of an invoice, read back as text with pypdf."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from billing.entities.services import entity_for_campus_id, hq_entity
from billing.invoices import pdf as invoice_pdf_module
from billing.invoices.models import InvoiceKind
from billing.invoices.services import (
    LineInput,
    create_invoice,
    credit_invoice,
    get_invoice,
    issue_invoice,
    render_pdf,
)
from billing.invoices.vat import format_communication
from core.extensions import db
from core.money import format_money
from core.partners.models import Partner
from tenants.scoping import campus_scope
from tests.support.data import INVOICES


def pdf_text(body: bytes) -> tuple[str, int]:
    """All pages' text, with every kind of space made a plain one, and the page count."""
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split()), len(reader.pages)


def plain(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def ctx(app, db_session, base):
    with app.app_context():
        yield base
        db.session.rollback()


@pytest.fixture(params=["dejavu", "core font"])
def fonts(request, monkeypatch):
    """Both ways of setting text: DejaVu Sans, and Helvetica where DejaVu is not installed."""
    if request.param == "dejavu":
        if invoice_pdf_module.dejavu_fonts() is None:
            pytest.skip("DejaVu Sans is not installed (Debian: fonts-dejavu-core)")
    else:
        monkeypatch.setattr(invoice_pdf_module, "dejavu_fonts", lambda: None)
    return request.param


def test_pdf_shows_number_parties_dates_total_and_communication(ctx, fonts):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        invoice = get_invoice(INVOICES["molenbeek"])
        text, pages = pdf_text(render_pdf(invoice))
    assert pages == 1
    assert "Invoice MOL-2026-0001" in text
    assert "Campusflow Brussels SRL" in text and "VAT BE0456789034" in text
    assert "IBAN BE68539007547034" in text and "BIC BBRUBEBB" in text
    assert "Microsoft" in text and "VAT IE8256796U" in text and "Dublin 18" in text
    # Molenbeek writes in fr_BE: "1 000,00 €", and its dates in French.
    assert plain(format_money(100000, "EUR", "fr_BE")) == "1 000,00 €"
    assert "Total 1 000,00 €" in text
    assert "2 novembre 2026" in text and "2 décembre 2026" in text  # issued, due
    assert "Microsoft programme, October 2026" in text
    assert format_communication(invoice.structured_communication) in text
    assert "Reverse charge \u2013 Article 196 Directive 2006/112/EC" in text


def test_pdf_of_a_standard_rated_invoice_shows_the_vat(ctx, fonts):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        client = Partner(slug="belgianco", name="Société Générale Belge", country="BE",
                         vat_number="BE0403170701", address="Avenue Louise 1\n1050 Ixelles")
        db.session.add(client)
        db.session.flush()
        invoice = issue_invoice(create_invoice(
            kind=InvoiceKind.PARTNER, issuer=entity_for_campus_id(molenbeek), currency="EUR",
            partner=client, lines=[LineInput("Hackathon sponsorship", 2, 61725)]),
            issued_on=date(2026, 11, 20))
        text, _pages = pdf_text(render_pdf(invoice))
    assert "Société Générale Belge" in text and "1050 Ixelles" in text
    assert "VAT 21 %" in text
    # 21 % of 1,234.50 is 259.245: half to even gives 259.24 (half up would give 259.25).
    assert "Subtotal 1 234,50 €" in text and "VAT 21 % 259,24 €" in text
    assert "Total 1 493,74 €" in text
    assert "Reverse charge" not in text
    assert "Please pay 1 493,74 € by 20 décembre 2026" in text


def test_long_invoices_run_over_several_pages_with_the_total_at_the_end(ctx, fonts):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = issue_invoice(create_invoice(
            kind=InvoiceKind.PARTNER, issuer=entity_for_campus_id(molenbeek), currency="EUR",
            partner=db.session.get(Partner, ctx.partner_id),
            lines=[LineInput(f"Certified learner {n}", 1, 50000) for n in range(1, 81)]),
            issued_on=date(2026, 11, 20))
        text, pages = pdf_text(render_pdf(invoice))
    assert pages >= 2
    assert "Certified learner 80" in text and "Total 40 000,00 €" in text
    assert f"{invoice.number} · 2/{pages}" in text  # the footer numbers the pages


def test_credit_note_and_royalty_statement_pdfs(ctx, fonts):
    with campus_scope(ctx.campus_ids["antwerp"], db.session):
        note = credit_invoice(get_invoice(INVOICES["antwerp"]), issued_on=date(2026, 11, 21),
                              reason="Wrong period")
        text, _pages = pdf_text(render_pdf(note))
        assert "Credit note ANT-2026-0002" in text
        assert "Credits invoice ANT-2026-0001" in text
        # Antwerp writes in nl_BE.
        assert plain(format_money(-100000, "EUR", "nl_BE")) in text
        assert "No payment is due" in text and "Wrong period" in text
        text, _pages = pdf_text(render_pdf(get_invoice(INVOICES["antwerp"])))
        assert "Void" in text
        statement = issue_invoice(create_invoice(
            kind=InvoiceKind.ROYALTY, issuer=hq_entity(), currency="EUR",
            lines=[LineInput("Royalties on training, 5 %", 1, 10000)]),
            issued_on=date(2026, 12, 1))
        text, _pages = pdf_text(render_pdf(statement))
    assert "Royalty statement HQ-2026-0001" in text
    assert "Campusflow HQ SRL" in text and "Campusflow Antwerp SRL" in text
    assert plain(format_money(12100, "EUR", "en_BE")) in text  # HQ writes in en_BE


def test_core_font_fallback_transliterates_what_windows_1252_lacks():
    typed = "1\u202f000,00\xa0€ \u2013 Łódź"
    assert invoice_pdf_module.to_cp1252(typed) == "1 000,00\xa0€ \u2013 Lódz"
