"""FX rates: the rate of a day (or the latest earlier one) and EUR values, exactly."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.numbers import list_currencies
from flask_babel import gettext as _
from sqlalchemy import Select, String, cast, or_, select

from billing.currencies.models import REPORTING_CURRENCY, FxRate
from core.database import like_pattern
from core.errors import InvalidInput
from core.extensions import db
from core.money import minor_digits


def rate_for(currency: str, day: date) -> Decimal:
    """Units of `currency` per euro on `day`, else on the latest earlier day with a rate.

    Raises InvalidInput when the currency has no rate on or before that day.
    """
    if currency == REPORTING_CURRENCY:
        return Decimal(1)
    rate = db.session.scalar(
        select(FxRate.rate).where(FxRate.currency == currency, FxRate.day <= day)
        .order_by(FxRate.day.desc()).limit(1))
    if rate is None:
        raise InvalidInput(
            _("No %(currency)s exchange rate on or before %(day)s; HQ must enter one first.",
              currency=currency, day=day.isoformat()),
            {"occurred_on": [_("No exchange rate for this date.")]})
    return Decimal(rate)


def to_eur_minor(amount_minor: int, currency: str, rate: Decimal) -> int:
    """`amount_minor` of `currency` in euro cents at `rate`, rounded half to even."""
    shift = minor_digits(REPORTING_CURRENCY) - minor_digits(currency)
    value = Decimal(amount_minor).scaleb(shift) / rate
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def set_rate(day: date, currency: str, rate: Decimal) -> FxRate:
    """Record (or correct) the rate of `currency` on `day`; raises InvalidInput when invalid."""
    currency = currency.strip().upper()
    errors = _rate_errors(currency, rate)
    if errors:
        raise InvalidInput(_("The exchange rate could not be saved."), errors)
    existing = db.session.scalar(select(FxRate).where(FxRate.currency == currency,
                                                      FxRate.day == day))
    if existing is None:
        existing = FxRate(day=day, currency=currency, rate=rate)
        db.session.add(existing)
    else:
        existing.rate = rate
    db.session.flush()
    return existing


def _rate_errors(currency: str, rate: Decimal) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if currency == REPORTING_CURRENCY or currency not in list_currencies():
        errors["currency"] = [_("A currency other than EUR, as an ISO 4217 code.")]
    if not rate.is_finite() or rate <= 0 or rate.as_tuple().exponent < -8:
        errors["rate"] = [_("A positive number with at most 8 decimals.")]
    return errors


def parse_rates_csv(text: str) -> list[tuple[date, str, Decimal]]:
    """Rows of a `date,currency,rate` file; raises InvalidInput naming the first bad line."""
    rows = []
    reader = csv.reader(io.StringIO(text))
    try:
        lines = list(enumerate(reader, start=1))
    except csv.Error:  # e.g. a field past the csv module's limit: not a file of rates
        raise InvalidInput(_("Line %(n)d: expected date,currency,rate (2026-11-02,MAD,10.85).",
                             n=reader.line_num), {"line": [str(reader.line_num)]}) from None
    for number, row in lines:
        if not row or all(not cell.strip() for cell in row):
            continue
        if number == 1 and row[0].strip().lower() == "date":
            continue  # header
        try:
            day_text, currency, rate_text = (cell.strip() for cell in row)
            day = date.fromisoformat(day_text)
            rate = Decimal(rate_text)
        except (ValueError, InvalidOperation):
            raise InvalidInput(_("Line %(n)d: expected date,currency,rate (2026-11-02,MAD,10.85).",
                                 n=number), {"line": [str(number)]}) from None
        if errors := _rate_errors(currency.upper(), rate):
            problem = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
            raise InvalidInput(_("Line %(n)d: %(problem)s", n=number, problem=problem),
                               {"line": [str(number)]})
        rows.append((day, currency.upper(), rate))
    return rows


def import_rates(rows: Iterable[tuple[date, str, Decimal]]) -> int:
    """Store every row (all or nothing: the caller's transaction); returns how many."""
    count = 0
    for day, currency, rate in rows:
        set_rate(day, currency, rate)
        count += 1
    return count


def rates_query(currency: str | None = None, search: str = "") -> Select:
    """Rates, newest day first (then currency), optionally of one currency only; `search`
    finds a part of the currency code or of the day (`2026-11`), taken literally."""
    statement = select(FxRate).order_by(FxRate.day.desc(), FxRate.currency, FxRate.id.desc())
    if currency:
        statement = statement.where(FxRate.currency == currency.strip().upper())
    if term := search.strip():
        pattern = like_pattern(term)
        statement = statement.where(or_(FxRate.currency.ilike(pattern, escape="\\"),
                                        cast(FxRate.day, String).like(pattern, escape="\\")))
    return statement


def rate_currencies() -> list[str]:
    """The currencies that have at least one rate, alphabetically."""
    return list(db.session.scalars(select(FxRate.currency).distinct().order_by(FxRate.currency)))
