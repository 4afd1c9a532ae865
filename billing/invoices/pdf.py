"""The PDF of an invoice (fpdf2): what a bank, an accountant and the partner need on paper.

Written in the reader's language (core.i18n: their choice, else their campus's default, else their
browser's) when a person downloads it, amounts and dates in that locale; outside a request (a
command, an e-mail), in the issuer's locale (the campus's default locale; HQ: en_BE).
Text is set in DejaVu Sans when the machine has it (Debian: `fonts-dejavu-core`), for any
character a name may hold; otherwise in the PDF core font Helvetica, with the text reduced to
Windows-1252 (accents kept, the euro sign kept, other characters transliterated).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path

from babel.dates import format_date
from flask import has_app_context, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select

from billing.invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.invoices.vat import format_communication
from billing.invoices.wording import kind_label, vat_mention
from core.extensions import db
from core.i18n import LANGUAGES, current_language, territorial_locale, territory_of
from core.money import format_money
from tenants.scoping import all_campuses, bound_campus_id

HQ_LOCALE = "en_BE"
FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)
# Characters Windows-1252 lacks that money and names commonly hold.
_REPLACEMENTS = {"\u202f": " ", "\u2009": " ", "\u2212": "-", "\u2011": "-", "\u200b": "",
                 "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i"}


def dejavu_fonts() -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold, if installed."""
    for folder in FONT_DIRECTORIES:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def to_cp1252(text: str) -> str:
    """`text` with only characters the core fonts can draw (Windows-1252)."""
    out = []
    for char in text.translate(str.maketrans(_REPLACEMENTS)):
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore").decode("cp1252")
            out.append(plain or "?")
    return "".join(out)


def issuer_locale(invoice: Invoice) -> str:
    """The locale the issuer writes in: its campus's default locale, HQ's en_BE."""
    from billing.entities.models import BillingEntity
    from tenants.campuses.models import Campus

    issuer = db.session.get(BillingEntity, invoice.issuer_id)
    if issuer is not None and issuer.campus_id is not None:
        campus = db.session.get(Campus, issuer.campus_id)
        if campus is not None and campus.default_locale:
            return campus.default_locale
    return HQ_LOCALE


def document_locale(invoice: Invoice) -> str:
    """The locale the PDF is written in. In a request: the reader's language (en, fr, nl or it),
    in their request's territory, else the issuer's (`en` at HQ for a Molenbeek invoice is
    `en_BE`). Outside one, or for a language invoices are not written in: the issuer's locale."""
    issuer = issuer_locale(invoice)
    if not has_request_context():
        return issuer
    language = current_language()
    if language not in LANGUAGES:
        return issuer
    return territorial_locale(language, territory_of(str(get_locale())), territory_of(issuer))


class _Document(FPDF):
    def __init__(self, footer_text: str, unicode_font: bool) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.unicode_font = unicode_font

    def clean(self, text: str) -> str:
        return text if self.unicode_font else to_cp1252(text)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(size=8)
        self.set_text_color(110)
        self.cell(0, 5, self.clean(f"{self.footer_text} · {self.page_no()}/{{nb}}"),
                  align="C")
        self.set_text_color(0)


@contextmanager
def _locale(locale: str) -> Iterator[None]:
    with force_locale(locale) if has_app_context() else nullcontext():
        yield


def invoice_pdf(invoice: Invoice, locale: str | None = None) -> bytes:
    """The PDF of `invoice` in `locale` (default: `document_locale`; an e-mail passes its
    recipient's). Lines are read from the session: bind the invoice's campus first, or load
    them before."""
    locale = locale or document_locale(invoice)
    with _locale(locale):
        return _Writer(invoice, locale).write()


class _Writer:
    """Writes one invoice into a `_Document`, top to bottom."""

    def __init__(self, invoice: Invoice, locale: str) -> None:
        self.invoice, self.locale = invoice, locale
        fonts = dejavu_fonts()
        self.title = kind_label(invoice.kind)
        self.number = invoice.number or _("Draft")
        self.pdf = _Document(f"{invoice.issuer_details.get('name', '')} · {self.title} "
                             f"{self.number}", unicode_font=fonts is not None)
        if fonts:
            self.pdf.add_font("DejaVu", "", str(fonts[0]))
            self.pdf.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
        else:
            self.pdf.core_fonts_encoding = "windows-1252"
            self.family = "Helvetica"

    def money(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.invoice.currency, self.locale)

    def day(self, value: date | None) -> str:
        return format_date(value, "long", locale=self.locale) if value else "\u2014"

    def text(self, value: str, size: float = 9, bold: bool = False, height: float = 4.6) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, height, self.pdf.clean(value), align="L", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)

    def write(self) -> bytes:
        pdf, invoice = self.pdf, self.invoice
        pdf.set_title(f"{self.title} {self.number}")
        pdf.set_author(invoice.issuer_details.get("name", "Campusflow"))
        pdf.set_creator("Campusflow")
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_margins(18, 18, 18)
        pdf.add_page()
        self.heading()
        self.parties()
        self.facts()
        _lines_table(pdf, self.family, _invoice_lines(invoice), self.money)
        pdf.ln(2)
        _totals(pdf, self.family, invoice, self.money)
        pdf.ln(4)
        self.closing()
        return bytes(pdf.output())

    def heading(self) -> None:
        heading = f"{self.title} {self.number}"
        if self.invoice.status is InvoiceStatus.DRAFT:
            heading += f" ({_('draft, not a valid invoice')})"
        self.text(heading, size=16, bold=True, height=8)
        if self.invoice.status is InvoiceStatus.VOID:
            self.text(_("Void: cancelled by a credit note."), bold=True)
        elif self.invoice.status is InvoiceStatus.PAID:
            self.text(_("Paid"), bold=True)
        self.pdf.ln(3)

    def parties(self) -> None:
        """The issuer on the left, the recipient on the right."""
        pdf = self.pdf
        top = pdf.get_y()
        column = (pdf.w - pdf.l_margin - pdf.r_margin) / 2 - 4
        _party(pdf, self.family, _("From"), self.invoice.issuer_details, column, pdf.l_margin,
               top, with_bank=True)
        left_bottom = pdf.get_y()
        _party(pdf, self.family, _("Billed to"), self.invoice.recipient_details, column,
               pdf.l_margin + column + 8, top, with_bank=False)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 4)

    def facts(self) -> None:
        invoice, pdf = self.invoice, self.pdf
        rows = [(_("Number"), self.number), (_("Issue date"), self.day(invoice.issued_on)),
                (_("Due date"), self.day(invoice.due_on))]
        if invoice.period_start or invoice.period_end:
            rows.append((_("Period"), f"{self.day(invoice.period_start)} \u2013 "
                                      f"{self.day(invoice.period_end)}"))
        if invoice.credits_invoice_id:
            rows.append((_("Credits invoice"), _credited_number(invoice)))
        if invoice.structured_communication:
            rows.append((_("Structured communication"),
                         format_communication(invoice.structured_communication)))
        for label, value in rows:
            pdf.set_font(self.family, "B", 9)
            pdf.cell(56, 5.2, pdf.clean(label))
            pdf.set_font(self.family, "", 9)
            pdf.cell(0, 5.2, pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)

    def closing(self) -> None:
        mention = vat_mention(self.invoice)
        if mention:
            self.text(mention, bold=True)
            self.pdf.ln(1)
        for paragraph in _payment_text(self.invoice, self.money, self.day):
            self.text(paragraph)
            self.pdf.ln(1)
        if self.invoice.notes:
            self.pdf.ln(1)
            self.text(_("Notes"), bold=True)
            self.text(self.invoice.notes)


def _credited_number(invoice: Invoice) -> str:
    """The number of the invoice a credit note cancels (read across campuses when none is
    bound, as on the partner portal)."""
    scope = nullcontext() if bound_campus_id() is not None else all_campuses(db.session)
    with scope:
        number = db.session.scalar(select(Invoice.number).where(
            Invoice.campus_id == invoice.campus_id, Invoice.id == invoice.credits_invoice_id))
    return number or ""


def _party(pdf: _Document, family: str, heading: str, details: dict, width: float, x: float,
           y: float, *, with_bank: bool) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(family, "B", 8)
    pdf.set_text_color(90)
    pdf.cell(width, 5, pdf.clean(heading.upper()), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    pdf.set_font(family, "B", 10)
    pdf.multi_cell(width, 5, pdf.clean(details.get("name") or "—"), new_x=XPos.LEFT,
                   new_y=YPos.NEXT)
    pdf.set_font(family, "", 9)
    rows = [line.strip() for line in (details.get("address") or "").splitlines() if line.strip()]
    if details.get("country"):
        rows.append(details["country"])
    if details.get("vat_number"):
        rows.append(_("VAT %(number)s", number=details["vat_number"]))
    if with_bank and details.get("iban"):
        rows.append(f"IBAN {details['iban']}" + (f" · BIC {details['bic']}"
                                                  if details.get("bic") else ""))
    for row in rows:
        pdf.multi_cell(width, 4.6, pdf.clean(row), new_x=XPos.LEFT, new_y=YPos.NEXT)


def _invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    if "lines" in invoice.__dict__:  # loaded already (e.g. read across campuses)
        return list(invoice.lines)
    return list(db.session.scalars(
        select(InvoiceLine).where(InvoiceLine.campus_id == invoice.campus_id,
                                  InvoiceLine.invoice_id == invoice.id)
        .order_by(InvoiceLine.position)))


def _lines_table(pdf: _Document, family: str, lines: list[InvoiceLine], money) -> None:
    pdf.set_font(family, "", 9)
    headings = (_("Description"), _("Qty"), _("Unit price"), _("Amount"))
    with pdf.table(col_widths=(96, 14, 32, 32), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   line_height=5.4, first_row_as_headings=True, repeat_headings=1,
                   borders_layout="HORIZONTAL_LINES") as table:
        table.row([pdf.clean(h) for h in headings])
        for line in lines:
            table.row([pdf.clean(line.description), str(line.quantity),
                       pdf.clean(money(line.unit_minor)), pdf.clean(money(line.amount_minor))])


def _totals(pdf: _Document, family: str, invoice: Invoice, money) -> None:
    rate = f"{invoice.vat_rate.normalize():f}"
    vat_label = (_("VAT 0 % (reverse charge)") if invoice.reverse_charge
                 else _("VAT %(rate)s %%", rate=rate))
    rows = ((_("Subtotal"), money(invoice.subtotal_minor), False),
            (vat_label, money(invoice.vat_minor), False),
            (_("Total"), money(invoice.total_minor), True))
    for label, value, bold in rows:
        pdf.set_font(family, "B" if bold else "", 11 if bold else 9)
        pdf.set_x(pdf.w - pdf.r_margin - 110)
        pdf.cell(70, 6, pdf.clean(label), align="R")
        pdf.cell(40, 6, pdf.clean(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _payment_text(invoice: Invoice, money, day) -> list[str]:
    if invoice.kind is InvoiceKind.CREDIT_NOTE:
        return [_("No payment is due: this credit note cancels the invoice it credits.")]
    if invoice.status is InvoiceStatus.PAID:
        paid = day(invoice.paid_at.date()) if invoice.paid_at else ""
        return [_("Paid on %(day)s. Thank you.", day=paid)]
    if invoice.status is InvoiceStatus.VOID:
        return [_("This invoice was cancelled by a credit note: do not pay it.")]
    if invoice.status is InvoiceStatus.DRAFT:
        return [_("A draft: it gets its number, due date and payment reference when issued.")]
    issuer = invoice.issuer_details
    bank = f"IBAN {issuer.get('iban', '')}" + (f" (BIC {issuer['bic']})" if issuer.get("bic")
                                                else "")
    return [
        _("Please pay %(total)s by %(due)s by bank transfer to %(name)s, %(bank)s, with the "
          "structured communication %(communication)s.",
          total=money(invoice.total_minor), due=day(invoice.due_on),
          name=issuer.get("name", ""), bank=bank,
          communication=format_communication(invoice.structured_communication or "")),
    ]
