"""Invoice rules: numbering, VAT, structured communication, immutability, payment, credit notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from billing.entities.services import entity_for_campus_id, hq_entity
from billing.invoices.guards import IssuedInvoiceIsImmutable
from billing.invoices.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
)
from billing.invoices.services import (
    LineInput,
    create_invoice,
    credit_invoice,
    format_communication,
    get_invoice,
    issue_invoice,
    mark_invoice_paid,
    partner_invoice,
)
from billing.invoices.vat import (
    OUTSIDE_SCOPE_MENTION,
    REVERSE_CHARGE_MENTION,
    VatTreatment,
    check_digits,
    is_valid_communication,
    structured_communication,
    vat_amount,
    vat_for,
)
from billing.ledger.models import EntrySource, RevenueEntry, RevenueStream
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.partners.models import Partner
from tenants.scoping import campus_scope
from tests.support.data import GOOGLE_INVOICE, INVOICES

ONE_LINE = [LineInput("Sponsorship of the cybersecurity cohort", 1, 100000)]


@pytest.fixture
def ctx(app, db_session, base):
    with app.app_context():
        yield base
        db.session.rollback()


def partner(slug: str, country: str | None, vat_number: str | None) -> Partner:
    found = Partner(slug=slug, name=f"{slug.title()} SA", country=country,
                    vat_number=vat_number, address=f"1 {slug} street")
    db.session.add(found)
    db.session.flush()
    return found


def draft(campus_id: int, to: Partner, lines=ONE_LINE, **kwargs) -> Invoice:
    return create_invoice(kind=InvoiceKind.PARTNER, issuer=entity_for_campus_id(campus_id),
                          currency="EUR", partner=to, lines=lines, **kwargs)


def issued(campus_id: int, to: Partner, day: date = date(2026, 11, 20), **kwargs) -> Invoice:
    return issue_invoice(draft(campus_id, to, **kwargs), issued_on=day)


def microsoft(base) -> Partner:
    return db.session.get(Partner, base.partner_id)


def entries_for(number: str) -> list[RevenueEntry]:
    return list(db.session.scalars(select(RevenueEntry).where(
        RevenueEntry.source_key == f"invoice:{number}")))


def sequence_of(issuer_id: int, year: int) -> int | None:
    return db.session.scalar(select(InvoiceSequence.last_number).where(
        InvoiceSequence.issuer_id == issuer_id, InvoiceSequence.year == year))


# ---- numbering --------------------------------------------------------------------------------


def test_issue_numbers_follow_the_issuers_sequence_of_the_year(ctx):
    molenbeek, antwerp = ctx.campus_ids["molenbeek"], ctx.campus_ids["antwerp"]
    with campus_scope(molenbeek, db.session):
        first, second = issued(molenbeek, microsoft(ctx)), issued(molenbeek, microsoft(ctx))
        assert (first.number, second.number) == ("MOL-2026-0003", "MOL-2026-0004")
        assert (first.year, first.sequence, second.sequence) == (2026, 3, 4)
    with campus_scope(antwerp, db.session):
        assert issued(antwerp, microsoft(ctx)).number == "ANT-2026-0002"  # its own sequence


def test_numbering_restarts_at_one_each_year(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        assert issued(molenbeek, microsoft(ctx), date(2026, 12, 31)).number == "MOL-2026-0003"
        assert issued(molenbeek, microsoft(ctx), date(2027, 1, 1)).number == "MOL-2027-0001"
        assert issued(molenbeek, microsoft(ctx), date(2027, 1, 2)).number == "MOL-2027-0002"
        assert issued(molenbeek, microsoft(ctx), date(2026, 12, 31)).number == "MOL-2026-0004"


def test_a_rolled_back_issue_gives_its_number_back(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = draft(molenbeek, microsoft(ctx))
        issuer_id = invoice.issuer_id
        savepoint = db.session.begin_nested()
        assert issue_invoice(invoice, issued_on=date(2026, 11, 20)).number == "MOL-2026-0003"
        savepoint.rollback()
        assert sequence_of(issuer_id, 2026) == 2
        again = db.session.get(Invoice, (molenbeek, invoice.id))
        assert again.status is InvoiceStatus.DRAFT and again.number is None
        assert issue_invoice(again, issued_on=date(2026, 11, 20)).number == "MOL-2026-0003"


def test_issuing_sets_due_date_communication_and_snapshots(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        entity = entity_for_campus_id(molenbeek)
        invoice = issued(molenbeek, microsoft(ctx), date(2026, 11, 20))
        assert invoice.due_on == date(2026, 12, 20)  # + payment_terms_days (30)
        assert invoice.structured_communication == structured_communication(entity.id, 2026, 3)
        assert is_valid_communication(invoice.structured_communication)
        assert invoice.issuer_details == {
            "name": entity.legal_name, "address": entity.address, "country": "BE",
            "vat_number": entity.vat_number, "iban": entity.iban, "bic": entity.bic,
            "code": "MOL", "payment_terms_days": 30}
        assert invoice.recipient_details["name"] == "Microsoft"
        assert invoice.recipient_details["vat_number"] == "IE8256796U"
        # A later change of the partner's address does not rewrite the issued invoice.
        microsoft(ctx).address = "Somewhere else"
        db.session.flush()
        db.session.refresh(invoice)
        assert invoice.recipient_details["address"] == "One Microsoft Place, Dublin 18"


def test_issuing_anything_but_a_draft_is_refused(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        invoice = get_invoice(INVOICES["molenbeek"])
        with pytest.raises(Conflict) as error:
            issue_invoice(invoice, issued_on=date(2026, 11, 20))
        assert error.value.code == "invalid_transition"
        assert sequence_of(invoice.issuer_id, 2026) == 2


def test_royalty_statement_is_numbered_by_hq_and_bills_the_campus_entity(ctx):
    antwerp = ctx.campus_ids["antwerp"]
    with campus_scope(antwerp, db.session):
        statement = create_invoice(kind=InvoiceKind.ROYALTY, issuer=hq_entity(), currency="EUR",
                                   lines=[LineInput("Royalties, training 5 %", 1, 25000)])
        statement = issue_invoice(statement, issued_on=date(2026, 12, 1))
        assert statement.number == "HQ-2026-0001"
        assert statement.campus_id == antwerp
        assert statement.recipient_details["name"] == "Campusflow Antwerp SRL"
        assert statement.issuer_details["vat_number"] == "BE0123456749"
        assert (statement.vat_rate, statement.vat_minor, statement.total_minor) == (
            Decimal("21"), 5250, 30250)  # both in Belgium: HQ's rate
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        statement = create_invoice(kind=InvoiceKind.ROYALTY, issuer=hq_entity(), currency="EUR",
                                   lines=[LineInput("Royalties", 1, 1000)])
        assert issue_invoice(statement, issued_on=date(2026, 12, 1)).number == "HQ-2026-0002"


# ---- drafts: input --------------------------------------------------------------------------


@pytest.mark.parametrize(("lines", "field"), [
    ([], "lines"),
    ([LineInput("", 1, 100)], "lines"),
    ([LineInput("Fee", 0, 100)], "lines"),
    ([LineInput("Fee", 1, -100)], "lines"),  # a total below zero: a credit note does that
    ([LineInput("Fee", 1.5, 100)], "lines"),
    ([LineInput("x" * 301, 1, 100)], "lines"),
])
def test_bad_lines_are_refused_and_nothing_is_written(ctx, lines, field):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        before = db.session.scalar(select(func.count()).select_from(Invoice))
        with pytest.raises(InvalidInput) as error:
            draft(molenbeek, microsoft(ctx), lines=lines)
        assert field in error.value.fields
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == before


def test_parties_currency_and_period_are_checked(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        entity = entity_for_campus_id(molenbeek)
        cases = [
            (dict(kind=InvoiceKind.PARTNER, issuer=entity, partner=None), "partner"),
            (dict(kind=InvoiceKind.PARTNER, issuer=entity_for_campus_id(ctx.campus_ids[
                "antwerp"]), partner=microsoft(ctx)), "issuer"),
            (dict(kind=InvoiceKind.ROYALTY, issuer=entity), "issuer"),
            (dict(kind=InvoiceKind.CREDIT_NOTE, issuer=entity, partner=microsoft(ctx)), "kind"),
            (dict(kind=InvoiceKind.PARTNER, issuer=entity, partner=microsoft(ctx),
                  currency="eur"), "currency"),
            (dict(kind=InvoiceKind.PARTNER, issuer=entity, partner=microsoft(ctx),
                  period_start=date(2026, 11, 30), period_end=date(2026, 11, 1)), "period_end"),
        ]
        for kwargs, field in cases:
            kwargs.setdefault("currency", "EUR")
            with pytest.raises(InvalidInput) as error:
                create_invoice(lines=ONE_LINE, **kwargs)
            assert field in error.value.fields, (kwargs, error.value.fields)


def test_a_run_key_makes_one_invoice_only(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        draft(molenbeek, microsoft(ctx), run_key="agreement:1:2026-11")
        with pytest.raises(Conflict) as error:
            draft(molenbeek, microsoft(ctx), run_key="agreement:1:2026-11")
        assert error.value.code == "already_invoiced"
        assert db.session.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.run_key == "agreement:1:2026-11")) == 1
    with campus_scope(ctx.campus_ids["antwerp"], db.session):  # run keys are per campus
        draft(ctx.campus_ids["antwerp"], microsoft(ctx), run_key="agreement:1:2026-11")


def test_lines_add_up_to_the_subtotal(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        belgian = partner("brusselsco", "BE", "BE0403170701")
        invoice = draft(molenbeek, belgian, lines=[LineInput("Fixed fee", 1, 100000),
                                                   LineInput("Admitted learners", 12, 10000),
                                                   LineInput("Discount", 1, -20000)])
        lines = db.session.scalars(select(InvoiceLine).where(
            InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.position)).all()
        assert [line.amount_minor for line in lines] == [100000, 120000, -20000]
        assert [line.position for line in lines] == [1, 2, 3]
        assert (invoice.subtotal_minor, invoice.vat_minor, invoice.total_minor) == (
            200000, 42000, 242000)


# ---- VAT --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("country", "vat_number", "treatment", "rate"), [
    ("BE", "BE0403170701", VatTreatment.STANDARD, Decimal("21")),  # same country
    ("BE", None, VatTreatment.STANDARD, Decimal("21")),
    ("IE", "IE8256796U", VatTreatment.REVERSE_CHARGE, Decimal("0")),  # valid, other member
    ("IE", "IE8256796X", VatTreatment.STANDARD, Decimal("21")),  # invalid check letter
    ("IE", None, VatTreatment.STANDARD, Decimal("21")),  # no number
    ("NL", "NL004495445B01", VatTreatment.REVERSE_CHARGE, Decimal("0")),
    ("MA", None, VatTreatment.OUTSIDE_SCOPE, Decimal("0")),  # outside the EU
    ("MA", "001525326000092", VatTreatment.OUTSIDE_SCOPE, Decimal("0")),
    ("GB", "GB980780684", VatTreatment.OUTSIDE_SCOPE, Decimal("0")),
    (None, "DE136695976", VatTreatment.REVERSE_CHARGE, Decimal("0")),  # state from the number
])
def test_vat_treatment_follows_the_recipient(country, vat_number, treatment, rate):
    vat = vat_for("BE", Decimal("21"), country, vat_number)
    assert (vat.treatment, vat.rate) == (treatment, rate)


def test_vat_is_rounded_half_to_even_in_minor_units():
    assert vat_amount(50, Decimal("21")) == 10  # 10.5 → 10
    assert vat_amount(150, Decimal("21")) == 32  # 31.5 → 32
    assert vat_amount(12345, Decimal("21")) == 2592  # 2592.45
    assert vat_amount(-150, Decimal("21")) == -32
    assert vat_amount(100000, Decimal("0")) == 0


def test_same_country_partner_pays_the_issuers_rate(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = issued(molenbeek, partner("proximus", "BE", "BE0202239951"),
                         lines=[LineInput("Event sponsorship", 1, 12345)])
        assert (invoice.vat_rate, invoice.reverse_charge) == (Decimal("21"), False)
        assert (invoice.vat_minor, invoice.total_minor) == (2592, 14937)


def test_partner_with_valid_irish_vat_number_is_reverse_charged(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = issued(molenbeek, microsoft(ctx))
        assert (invoice.vat_rate, invoice.reverse_charge) == (Decimal("0"), True)
        assert invoice.total_minor == invoice.subtotal_minor == 100000
    from billing.invoices.pdf import vat_mention
    assert vat_mention(invoice) == REVERSE_CHARGE_MENTION == (
        "Reverse charge \u2013 Article 196 Directive 2006/112/EC")


def test_partner_with_invalid_vat_number_in_another_state_pays_the_issuers_rate(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = issued(molenbeek, partner("dublinco", "IE", "IE1234567X"))
        assert (invoice.vat_rate, invoice.reverse_charge) == (Decimal("21"), False)
        assert invoice.total_minor == 121000


def test_moroccan_partner_is_outside_the_scope_of_eu_vat(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = issued(molenbeek, partner("casaco", "MA", None))
        assert (invoice.vat_rate, invoice.reverse_charge, invoice.vat_minor) == (
            Decimal("0"), False, 0)
    from billing.invoices.pdf import vat_mention
    assert vat_mention(invoice) == OUTSIDE_SCOPE_MENTION


def test_vat_is_taken_again_from_the_partner_at_issue(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        client = partner("late", "IE", None)
        invoice = draft(molenbeek, client)
        assert invoice.vat_rate == Decimal("21")
        client.vat_number = "IE6388047V"  # the partner sent its VAT number before the issue
        db.session.flush()
        invoice = issue_invoice(invoice, issued_on=date(2026, 11, 20))
        assert (invoice.reverse_charge, invoice.total_minor) == (True, 100000)


# ---- structured communication -----------------------------------------------------------------


def test_structured_communication_has_mod_97_check_digits():
    digits = structured_communication(12, 2026, 3)
    assert digits == "012260000391"[:10] + check_digits(digits[:10])
    assert int(digits[:10]) % 97 == int(digits[10:]) % 97
    assert is_valid_communication(digits)
    assert not is_valid_communication(digits[:10] + f"{(int(digits[10:]) % 97) + 1:02d}")
    assert format_communication("123456789012") == "+++123/4567/89012+++"


def test_a_remainder_of_zero_gives_check_digits_97():
    sequence = next(s for s in range(1, 100_000) if int(f"001{26}{s:05d}") % 97 == 0)
    assert structured_communication(1, 2026, sequence).endswith("97")


def test_structured_communications_are_unique_per_issuer_year_and_sequence():
    seen = {structured_communication(issuer, year, seq)
            for issuer in (1, 2, 3, 999) for year in (2026, 2027) for seq in (1, 2, 99999)}
    assert len(seen) == 4 * 2 * 3
    assert all(is_valid_communication(digits) for digits in seen)
    with pytest.raises(ValueError, match="too large"):
        structured_communication(1000, 2026, 1)


# ---- immutability -----------------------------------------------------------------------------


def test_an_issued_invoice_cannot_be_edited_through_the_orm(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        invoice = get_invoice(INVOICES["molenbeek"])
        invoice.total_minor = 1
        with pytest.raises(IssuedInvoiceIsImmutable, match="total_minor"):
            db.session.flush()
        db.session.rollback()
        invoice = get_invoice(INVOICES["molenbeek"])
        line = db.session.scalar(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
        line.description = "Something else"
        with pytest.raises(IssuedInvoiceIsImmutable):
            db.session.flush()
        db.session.rollback()
        db.session.delete(get_invoice(INVOICES["molenbeek"]))
        with pytest.raises(IssuedInvoiceIsImmutable):
            db.session.flush()
        db.session.rollback()
        db.session.add(InvoiceLine(invoice_id=get_invoice(INVOICES["molenbeek"]).id,
                                   position=9, description="Extra", quantity=1, unit_minor=1,
                                   amount_minor=1))
        with pytest.raises(IssuedInvoiceIsImmutable):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(IssuedInvoiceIsImmutable):
            db.session.execute(update(Invoice).values(notes="bulk"))
        db.session.rollback()
        assert get_invoice(INVOICES["molenbeek"]).total_minor == 100000


def test_a_draft_may_still_be_edited(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = draft(molenbeek, microsoft(ctx))
        invoice.notes = "PO 4500012345"
        db.session.flush()
        assert db.session.get(Invoice, (molenbeek, invoice.id)).notes == "PO 4500012345"


# ---- payment ----------------------------------------------------------------------------------


def test_marking_a_partner_invoice_paid_records_one_sponsorship_entry(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        invoice = mark_invoice_paid(get_invoice(INVOICES["molenbeek"]),
                                    paid_on=date(2026, 11, 25), reference="BANK 123")
        entry = db.session.get(RevenueEntry, (invoice.campus_id, invoice.entry_id))
        assert invoice.status is InvoiceStatus.PAID and invoice.paid_at is not None
        assert invoice.payment_reference == "BANK 123"
        assert (entry.stream, entry.source, entry.source_key) == (
            RevenueStream.SPONSORSHIP, EntrySource.INVOICE, "invoice:MOL-2026-0001")
        assert (entry.amount_minor, entry.currency, entry.occurred_on) == (
            100000, "EUR", date(2026, 11, 25))
        again = mark_invoice_paid(invoice, paid_on=date(2026, 11, 26))  # a replay
        assert again.entry_id == entry.id
        assert len(entries_for("MOL-2026-0001")) == 1
    with campus_scope(ctx.campus_ids["antwerp"], db.session):
        assert entries_for("MOL-2026-0001") == []  # the issuing campus's ledger only


def test_net_amount_before_vat_enters_the_ledger(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = issued(molenbeek, partner("belgianco", "BE", "BE0403170701"))
        invoice = mark_invoice_paid(invoice, paid_on=date(2026, 11, 25))
        assert invoice.total_minor == 121000
        assert entries_for(invoice.number)[0].amount_minor == 100000


def test_only_an_issued_invoice_can_be_marked_paid(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        with pytest.raises(Conflict, match="cannot be marked paid") as error:
            mark_invoice_paid(draft(molenbeek, microsoft(ctx)), paid_on=date(2026, 11, 25))
        assert error.value.code == "invalid_transition"
        with pytest.raises(InvalidInput) as error:
            mark_invoice_paid(get_invoice(INVOICES["molenbeek"]), paid_on=date(2026, 11, 1))
        assert "paid_on" in error.value.fields  # before the issue date
        assert get_invoice(INVOICES["molenbeek"]).status is InvoiceStatus.ISSUED
        assert entries_for(INVOICES["molenbeek"]) == []


def test_a_paid_royalty_statement_records_no_ledger_entry(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        before = db.session.scalar(select(func.count()).select_from(RevenueEntry))
        statement = issue_invoice(
            create_invoice(kind=InvoiceKind.ROYALTY, issuer=hq_entity(), currency="EUR",
                           lines=[LineInput("Royalties", 1, 5000)]),
            issued_on=date(2026, 12, 1))
        statement = mark_invoice_paid(statement, paid_on=date(2026, 12, 5))
        assert (statement.status, statement.entry_id) == (InvoiceStatus.PAID, None)
        assert db.session.scalar(select(func.count()).select_from(RevenueEntry)) == before


# ---- credit notes -----------------------------------------------------------------------------


def test_crediting_an_unpaid_invoice_issues_a_negative_note_and_voids_it(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        original = get_invoice(INVOICES["molenbeek"])
        note = credit_invoice(original, issued_on=date(2026, 11, 21), reason="Wrong month")
        assert note.number == "MOL-2026-0003"  # the issuer's sequence, like any invoice
        assert (note.kind, note.status) == (InvoiceKind.CREDIT_NOTE, InvoiceStatus.ISSUED)
        assert note.credits_invoice_id == original.id
        assert (note.subtotal_minor, note.vat_minor, note.total_minor) == (-100000, 0, -100000)
        assert note.reverse_charge and note.partner_id == original.partner_id
        assert "Wrong month" in note.notes and INVOICES["molenbeek"] in note.notes
        lines = db.session.scalars(select(InvoiceLine).where(
            InvoiceLine.invoice_id == note.id)).all()
        assert [(line.quantity, line.unit_minor, line.amount_minor) for line in lines] == [
            (1, -100000, -100000)]
        assert get_invoice(INVOICES["molenbeek"]).status is InvoiceStatus.VOID
        assert db.session.scalar(select(func.count()).select_from(RevenueEntry).where(
            RevenueEntry.source == EntrySource.INVOICE)) == 0


def test_crediting_a_paid_invoice_reverses_its_ledger_entry(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        paid = mark_invoice_paid(get_invoice(INVOICES["molenbeek"]), paid_on=date(2026, 11, 25))
        credit_invoice(paid, issued_on=date(2026, 11, 26), reason="Duplicate")
        entries = db.session.scalars(select(RevenueEntry).where(
            RevenueEntry.source == EntrySource.INVOICE)).all()
        assert sorted(e.amount_minor for e in entries) == [-100000, 100000]
        reversal = next(e for e in entries if e.amount_minor < 0)
        assert reversal.reverses_id == paid.entry_id
        assert get_invoice(INVOICES["molenbeek"]).status is InvoiceStatus.VOID


def test_what_cannot_be_credited(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        with pytest.raises(InvalidInput) as error:
            credit_invoice(get_invoice(INVOICES["molenbeek"]), issued_on=date(2026, 11, 21),
                           reason="   ")
        assert "reason" in error.value.fields
        assert get_invoice(INVOICES["molenbeek"]).status is InvoiceStatus.ISSUED
        issuer_id = get_invoice(INVOICES["molenbeek"]).issuer_id
        assert sequence_of(issuer_id, 2026) == 2
        note = credit_invoice(get_invoice(INVOICES["molenbeek"]), issued_on=date(2026, 11, 21),
                              reason="Cancelled")
        for target in (get_invoice(INVOICES["molenbeek"]), note, draft(molenbeek,
                                                                       microsoft(ctx))):
            with pytest.raises(Conflict) as error:
                credit_invoice(target, issued_on=date(2026, 11, 22), reason="Again")
            assert error.value.code == "invalid_transition"
        with pytest.raises(Conflict):
            mark_invoice_paid(note, paid_on=date(2026, 11, 22))


# ---- reads ------------------------------------------------------------------------------------


def test_another_campuss_invoice_is_not_found(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        with pytest.raises(NotFound):
            get_invoice(INVOICES["antwerp"])
        for bad in ("mol-2026-0001", "MOL-2026-0001'--", "", "MOL 2026", "DRAFT-x"):
            with pytest.raises(NotFound):
                get_invoice(bad)


def test_a_partner_reads_only_its_own_issued_invoices_across_campuses(ctx):
    assert partner_invoice(INVOICES["antwerp"], ctx.partner_id).number == INVOICES["antwerp"]
    assert partner_invoice(INVOICES["molenbeek"], ctx.partner_id).lines  # lines loaded
    with pytest.raises(NotFound):
        partner_invoice(GOOGLE_INVOICE, ctx.partner_id)
    assert partner_invoice(GOOGLE_INVOICE, ctx.other_partner_id).number == GOOGLE_INVOICE
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        pending = draft(molenbeek, microsoft(ctx))
        assert pending.number is None
    with pytest.raises(NotFound):
        partner_invoice(f"DRAFT-{pending.id}", ctx.partner_id)


def test_a_draft_is_issued_for_the_lines_it_holds_then(ctx):
    molenbeek = ctx.campus_ids["molenbeek"]
    with campus_scope(molenbeek, db.session):
        invoice = draft(molenbeek, partner("belgian", "BE", "BE0403170701"))
        db.session.add(InvoiceLine(invoice_id=invoice.id, position=2, description="Catering",
                                   quantity=2, unit_minor=2500, amount_minor=5000))
        db.session.flush()
        invoice = issue_invoice(invoice, issued_on=date(2026, 11, 20))
        assert (invoice.subtotal_minor, invoice.vat_minor, invoice.total_minor) == (
            105000, 22050, 127050)
