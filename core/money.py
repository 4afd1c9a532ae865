"""Money as integers in minor units with an ISO currency; never floats.

Parsing and display go through Decimal and Babel: "1500.00", "1 500,00", "1,500.00" and
"1.500,00" all land as 150000 minor units; an amount that could be read two ways ("1,500") is
refused rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

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
    """`amount_minor` formatted for `locale` ("€1,500.00", "1 500,00 MAD"), exactly as Babel's
    format_currency writes it."""
    shape = _money_shape(currency, str(locale))
    if shape is None:
        return _babel_money(amount_minor, currency, str(locale))
    return shape.format(amount_minor)


def _babel_money(amount_minor: int, currency: str, locale: str) -> str:
    return format_currency(to_major(amount_minor, currency), currency, locale=locale)


@dataclass(frozen=True)
class _MoneyShape:
    """How one locale writes one currency: the text around the digits and the separators.

    Babel parses and applies its number pattern on every call (about 60 µs); a chart or a
    report writes hundreds of amounts per page, so the shape is read from Babel once."""

    digits: int
    group: str
    decimal: str
    positive: tuple[str, str]  # the text before and after the number
    negative: tuple[str, str]

    def format(self, amount_minor: int) -> str:
        whole, fraction = divmod(abs(amount_minor), 10**self.digits)
        number = f"{whole:,}".replace(",", self.group)
        if self.digits:
            number += self.decimal + str(fraction).zfill(self.digits)
        before, after = self.negative if amount_minor < 0 else self.positive
        return before + number + after


# Amounts whose Babel text a shape must reproduce exactly before it is used: no grouping below
# 10 000 in some locales, or any other rule a shape does not know, leaves the locale to Babel.
_CHECKS = (0, 1, -1, 7, 99, 100, 105, 1234, -1234, 9999, 10000, 12345, 99999, 100000, 123456,
           -123456, 999999, 1000000, 1234567, 98765432, -123456789, 10**13 + 7)


@lru_cache(maxsize=256)
def _money_shape(currency: str, locale: str) -> _MoneyShape | None:
    digits = minor_digits(currency)
    fraction = "5" * digits
    probe = int("1234567" + fraction)  # 1,234,567.55 (or 1,234,567 without minor units)
    try:
        positive = _babel_money(probe, currency, locale)
        negative = _babel_money(-probe, currency, locale)
    except (ValueError, LookupError):
        return None
    last = "5" if digits else "7"
    start, end = positive.find("1"), positive.rfind(last) + 1
    middle = positive[start:end]
    if start < 0 or not middle.startswith("1") or "2" not in middle:
        return None
    group = middle[1:middle.index("2")]
    decimal = middle[middle.index("7") + 1:len(middle) - digits] if digits else ""
    n_start, n_end = negative.find("1"), negative.rfind(last) + 1
    if n_start < 0 or negative[n_start:n_end] != middle:
        return None
    shape = _MoneyShape(digits, group, decimal, (positive[:start], positive[end:]),
                        (negative[:n_start], negative[n_end:]))
    if any(shape.format(amount) != _babel_money(amount, currency, locale) for amount in _CHECKS):
        return None
    return shape
