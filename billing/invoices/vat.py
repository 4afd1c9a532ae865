"""The pure rules of an invoice: VAT treatment, rounding, numbers and the structured communication.

No database here: the services pass in what they read, so every rule is testable alone.

VAT (services, B2B, place of supply at the customer's establishment):

* recipient in the issuer's country → the issuer's rate;
* recipient with a VAT number valid (python-stdnum) in ANOTHER EU member state → reverse charge:
  rate 0, the invoice says "Reverse charge - Article 196 Directive 2006/112/EC";
* recipient established outside the EU (Morocco…) → 0 %, outside the scope of EU VAT;
* recipient in another EU state with no VAT number, or one that is not valid → the issuer's rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

# EU member states (ISO 3166 codes). Northern Ireland's "XI" numbers cover goods only: for
# services it is outside the EU, as is the rest of the United Kingdom.
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# VAT number prefixes that differ from the ISO country code.
VAT_PREFIX_COUNTRY = {"EL": "GR"}

REVERSE_CHARGE_MENTION = "Reverse charge \u2013 Article 196 Directive 2006/112/EC"
OUTSIDE_SCOPE_MENTION = "Outside the scope of EU VAT (services, place of supply outside the EU)"

NUMBER_PATTERN = re.compile(r"^[A-Z0-9]{1,8}-\d{4}-\d{4,6}$")
NUMBER_CHARACTERS = re.compile(r"^[A-Z0-9-]{1,32}$")


class VatTreatment(StrEnum):
    STANDARD = "standard"  # the issuer's rate
    REVERSE_CHARGE = "reverse_charge"  # the customer accounts for the VAT (EU B2B)
    OUTSIDE_SCOPE = "outside_scope"  # customer outside the EU


@dataclass(frozen=True)
class Vat:
    treatment: VatTreatment
    rate: Decimal  # percent

    @property
    def reverse_charge(self) -> bool:
        return self.treatment is VatTreatment.REVERSE_CHARGE


def vat_member_state(vat_number: str | None) -> str | None:
    """The EU member state of a VAT number valid per python-stdnum, else None."""
    if not vat_number:
        return None
    try:
        compact = eu_vat.validate(vat_number)
    except ValidationError:  # a bad check digit, an unknown prefix, not a VAT number at all
        return None
    prefix = compact[:2].upper()
    state = VAT_PREFIX_COUNTRY.get(prefix, prefix)
    return state if state in EU_MEMBER_STATES else None


def vat_for(issuer_country: str, issuer_rate: Decimal, recipient_country: str | None,
            recipient_vat_number: str | None) -> Vat:
    """The VAT treatment of a supply of services from the issuer to the recipient."""
    issuer_country = issuer_country.upper()
    country = (recipient_country or "").upper() or None
    state = vat_member_state(recipient_vat_number)
    if country is None:
        country = state
    if country == issuer_country:
        return Vat(VatTreatment.STANDARD, Decimal(issuer_rate))
    if state is not None and state != issuer_country:
        return Vat(VatTreatment.REVERSE_CHARGE, Decimal("0"))
    if country is not None and country not in EU_MEMBER_STATES:
        return Vat(VatTreatment.OUTSIDE_SCOPE, Decimal("0"))
    return Vat(VatTreatment.STANDARD, Decimal(issuer_rate))


def treatment_of(reverse_charge: bool, rate: Decimal, recipient_country: str | None
                 ) -> VatTreatment:
    """The treatment an invoice was given, read back from what it stores."""
    if reverse_charge:
        return VatTreatment.REVERSE_CHARGE
    country = (recipient_country or "").upper()
    if Decimal(rate) == 0 and country and country not in EU_MEMBER_STATES:
        return VatTreatment.OUTSIDE_SCOPE
    return VatTreatment.STANDARD


def vat_amount(subtotal_minor: int, rate: Decimal) -> int:
    """VAT on a subtotal in minor units, rounded half to even (banker's rounding)."""
    exact = Decimal(subtotal_minor) * Decimal(rate) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def invoice_number(code: str, year: int, sequence: int) -> str:
    """`MOL-2026-0003`."""
    return f"{code}-{year}-{sequence:04d}"


def is_invoice_number(text: str) -> bool:
    """Only capitals, digits and hyphens (what a URL may carry as an invoice number)."""
    return bool(NUMBER_CHARACTERS.match(text or ""))


def check_digits(base: str) -> str:
    """The two check digits of a Belgian structured communication: base mod 97, 0 → 97."""
    return f"{int(base) % 97 or 97:02d}"


def structured_communication(issuer_id: int, year: int, sequence: int) -> str:
    """Twelve digits, unique per issuer, year and sequence: issuer id (3 digits), the year's
    last two digits, the sequence (5 digits), then the two check digits.

    Raises ValueError outside those ranges (1000 issuing entities, 99,999 invoices a year).
    """
    if not (0 < issuer_id < 1000 and 0 < sequence < 100_000):
        raise ValueError("issuer id or sequence too large for a structured communication")
    base = f"{issuer_id:03d}{year % 100:02d}{sequence:05d}"
    return base + check_digits(base)


def is_valid_communication(digits: str) -> bool:
    return (len(digits) == 12 and digits.isdigit()
            and check_digits(digits[:10]) == digits[10:])


def format_communication(digits: str) -> str:
    """`123456789012` → `+++123/4567/89012+++`."""
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"
