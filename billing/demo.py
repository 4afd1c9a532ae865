"""Demo money: MAD rates for the whole demo period and two years of ledger entries per campus,
about 2 M EUR a year across the network. Entries go through the ledger service, so rollups hold.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from billing.currencies.models import FxRate
from billing.currencies.services import set_rate
from billing.ledger.models import EntrySource, RevenueEntry, RevenueStream
from billing.ledger.services import record_entry
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.scoping import campus_scope

MONTHLY_EUR = {  # typical monthly revenue of each campus, in euros
    "molenbeek": 34000, "antwerp": 27000, "charleroi": 19000, "amsterdam": 26000,
    "rotterdam": 21000, "utrecht": 19000, "padua": 16000, "casablanca": 12000,
}
SHARES = ((RevenueStream.TRAINING, 0.35), (RevenueStream.SPONSORSHIP, 0.30),
          (RevenueStream.COWORKING, 0.20), (RevenueStream.EVENTS, 0.08),
          (RevenueStream.OTHER, 0.07))
MEMOS = {
    RevenueStream.TRAINING: "Course fees", RevenueStream.SPONSORSHIP: "Programme sponsorship",
    RevenueStream.COWORKING: "Coworking memberships", RevenueStream.EVENTS: "Event tickets",
    RevenueStream.OTHER: "Room rental",
}
DEMO_MONTHS = 26


def _mad_rates(start: date, today: date) -> None:
    if db.session.scalar(select(func.count()).select_from(FxRate).where(FxRate.currency == "MAD")):
        return
    rng = random.Random("campusflow-mad")  # noqa: S311  (demo data)
    rate, day = Decimal("10.85"), start
    while day <= today:
        rate = (rate + Decimal(rng.randint(-4, 4)) / 1000).quantize(Decimal("0.0001"))
        set_rate(day, "MAD", min(max(rate, Decimal("10.60")), Decimal("11.10")))
        day += timedelta(days=1)


def _month_starts(first: date, today: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= today:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def seed_revenue(_password: str, today: date | None = None) -> list[str]:
    """Rates and entries where missing (a campus with entries is left alone)."""
    today = today or date.today()
    start = (today.replace(day=1) - timedelta(days=31 * (DEMO_MONTHS - 1))).replace(day=1)
    _mad_rates(start - timedelta(days=31), today)
    for campus in db.session.scalars(select(Campus).order_by(Campus.slug)):
        monthly = MONTHLY_EUR.get(campus.slug)
        if monthly is None:
            continue
        with campus_scope(campus.id, db.session):
            if db.session.scalar(select(RevenueEntry.id).limit(1)) is not None:
                continue
            rng = random.Random(f"campusflow-revenue-{campus.slug}")  # noqa: S311
            first = max(start, campus.opened_on or start)
            per_eur = Decimal("10.85") if campus.currency == "MAD" else Decimal(1)
            for month in _month_starts(first, today):
                last_day = min((month + timedelta(days=32)).replace(day=1) - timedelta(days=1),
                               today)
                for stream, share in SHARES:
                    target = Decimal(monthly * share) * Decimal(rng.uniform(0.75, 1.25))
                    parts = 3 if stream in (RevenueStream.COWORKING, RevenueStream.TRAINING) else 1
                    for part in range(parts):
                        amount = int((target / parts * per_eur * 100).to_integral_value())
                        first_day = max(month, first)  # nothing before the campus opened
                        day = first_day + timedelta(
                            days=rng.randint(0, (last_day - first_day).days))
                        record_entry(
                            occurred_on=day, stream=stream, amount_minor=amount,
                            currency=campus.currency, source=EntrySource.MANUAL,
                            source_key=f"demo:{month:%Y-%m}:{stream.value}:{part}",
                            memo=MEMOS[stream])
    return []
