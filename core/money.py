"""Money as integers in minor units with an ISO currency; never floats.

Parsing and display go through Decimal and Babel, so "1.500,00" in fr_BE and 1500.00 MAD both
land as 150000 minor units.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision


def minor_digits(currency: str) -> int:
    """Decimal places of `currency` (EUR 2, MAD 2, JPY 0)."""
    return get_currency_precision(currency)


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """`amount` in major units → integer minor units; raises ValueError for a bad or too precise
    amount (no silent rounding of what someone typed)."""
    try:
        value = Decimal(str(amount).strip().replace(" ", "").replace(",", "."))
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {amount!r}") from error
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    scaled = value.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency} allows")
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def format_money(amount_minor: int, currency: str, locale: str = "en") -> str:
    """`amount_minor` formatted for `locale` ("€1,500.00", "1 500,00 MAD")."""
    return format_currency(to_major(amount_minor, currency), currency, locale=locale)
