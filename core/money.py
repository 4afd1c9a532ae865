"""Money as integers in minor units with an ISO currency; never floats.

Parsing and display go through Decimal and Babel: "1500.00", "1 500,00", "1,500.00" and
"1.500,00" all land as 150000 minor units; an amount that could be read two ways ("1,500") is
refused rather than guessed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision


def minor_digits(currency: str) -> int:
    """Decimal places of `currency` (EUR 2, MAD 2, JPY 0)."""
    return get_currency_precision(currency)


_SPACES = str.maketrans("", "", " \u00a0\u202f'\u2019")


def _normalise(text: str, digits: int) -> str:
    """Plain decimal text from what a person typed, in any of our locales' conventions.

    One separator followed by three digits reads as thousands in one locale and decimals in
    another; that is refused, unless the currency itself has three decimals (KWD).
    """
    text = text.strip().translate(_SPACES)
    if "," in text and "." in text:  # the last separator is the decimal one
        thousands = "," if text.rfind(".") > text.rfind(",") else "."
        text = text.replace(thousands, "")
    for separator in (",", "."):
        if text.count(separator) > 1:  # 1.500.000 or 1,500,000
            text = text.replace(separator, "")
        elif text.count(separator) == 1:
            whole, _, fraction = text.lstrip("+-").partition(separator)
            if len(fraction) == 3 != digits and whole not in ("", "0") and len(whole) <= 3:
                raise ValueError(f"ambiguous amount: {text!r} (write 1500.00 or 1,5)")
    return text.replace(",", ".")


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """`amount` in major units → integer minor units; raises ValueError for a bad or too precise
    amount (no silent rounding of what someone typed)."""
    try:
        value = Decimal(_normalise(str(amount), minor_digits(currency)))
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
