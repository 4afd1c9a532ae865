"""Property-based checks of money and FX arithmetic: exact, symmetric, never a float."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from billing.currencies.services import to_eur_minor
from core.money import to_major, to_minor

AMOUNTS = st.integers(min_value=-10**15, max_value=10**15)
RATES = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=8,
                    allow_nan=False, allow_infinity=False)
CURRENCIES = st.sampled_from(["EUR", "MAD", "JPY", "KWD"])


def _round_half_even(value: Fraction) -> int:
    floor = value.numerator // value.denominator
    remainder = value - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and floor % 2):
        return floor + 1
    return floor


@given(AMOUNTS, CURRENCIES)
def test_minor_units_round_trip_exactly(amount_minor, currency):
    assert to_minor(to_major(amount_minor, currency), currency) == amount_minor
    assert to_minor(str(to_major(amount_minor, currency)), currency) == amount_minor


@given(AMOUNTS, CURRENCIES, RATES)
def test_eur_value_is_the_exact_quotient_rounded_half_to_even(amount_minor, currency, rate):
    digits = {"EUR": 2, "MAD": 2, "JPY": 0, "KWD": 3}[currency]
    exact = Fraction(amount_minor) * Fraction(10) ** (2 - digits) / Fraction(rate)
    assert to_eur_minor(amount_minor, currency, rate) == _round_half_even(exact)


@given(AMOUNTS, CURRENCIES, RATES)
def test_a_reversal_is_worth_exactly_minus_the_entry(amount_minor, currency, rate):
    assert to_eur_minor(-amount_minor, currency, rate) == -to_eur_minor(amount_minor, currency,
                                                                        rate)
