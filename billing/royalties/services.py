"""Royalty rates (HQ, per campus and revenue stream) and the royalty statements (invoices of
kind royalty, issued by HQ, each owned by the campus it bills)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select

from billing.invoices.models import Invoice, InvoiceKind
from billing.ledger.models import RevenueStream
from billing.royalties.models import RoyaltyRate
from core.database import like_pattern, utcnow
from core.errors import InvalidInput
from core.extensions import db
from tenants.campuses.models import Campus

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RateCell:
    campus: str  # slug
    campus_name: str
    stream: str
    rate: Decimal


def rate_grid() -> list[RateCell]:
    """Every campus (by name) x stream, with its rate (0 where none is set): 2 statements."""
    campuses = db.session.execute(select(Campus.id, Campus.slug, Campus.name)
                                  .order_by(Campus.name, Campus.slug)).all()
    rates = {(r.campus_id, RevenueStream(r.stream).value): r.rate
             for r in db.session.scalars(select(RoyaltyRate))}
    return [RateCell(c.slug, c.name, s.value, rates.get((c.id, s.value), ZERO))
            for c in campuses for s in RevenueStream]


def rates_by_campus(campus_ids: Iterable[int] | None = None) -> dict[tuple[int, str], Decimal]:
    """(campus id, stream value) → rate, for the rates set (one statement)."""
    statement = select(RoyaltyRate)
    if campus_ids is not None:
        statement = statement.where(RoyaltyRate.campus_id.in_(list(campus_ids)))
    return {(r.campus_id, RevenueStream(r.stream).value): r.rate
            for r in db.session.scalars(statement)}


def set_rates(cells: Iterable[Mapping[str, Any]]) -> int:
    """Set the given rates ({"campus": slug, "stream", "rate"}; loaded by RoyaltyRateSchema);
    returns how many changed. All or nothing: raises InvalidInput naming every unknown campus
    (field `rates.<i>.campus`) or a cell given twice, and changes nothing then."""
    cells = list(cells)
    slugs = {cell["campus"] for cell in cells}
    campuses = {c.slug: c.id for c in db.session.scalars(
        select(Campus).where(Campus.slug.in_(slugs)))}
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for i, cell in enumerate(cells):
        key = (cell["campus"], cell["stream"])
        if cell["campus"] not in campuses:
            errors[f"rates.{i}.campus"] = [_("No campus with this slug.")]
        elif key in seen:
            errors[f"rates.{i}"] = [_("This campus and stream are given twice.")]
        seen.add(key)
    if errors:
        raise InvalidInput(_("Some rates are invalid; none was saved."), errors)
    stored = {(r.campus_id, RevenueStream(r.stream).value): r
              for r in db.session.scalars(select(RoyaltyRate).where(
                  RoyaltyRate.campus_id.in_(list(campuses.values()))))}
    changed = 0
    for cell in cells:
        campus_id, stream = campuses[cell["campus"]], cell["stream"]
        rate = Decimal(cell["rate"]).quantize(Decimal("0.01"))
        row = stored.get((campus_id, stream))
        if row is None:
            if rate == 0:
                continue  # no rate is a zero rate: nothing to store
            db.session.add(RoyaltyRate(campus_id=campus_id, stream=RevenueStream(stream),
                                       rate=rate))
            changed += 1
        elif row.rate != rate:
            row.rate = rate
            row.updated_at = utcnow()
            changed += 1
    db.session.flush()
    return changed


def statements_query(month=None, campus_id: int | None = None, search: str = "") -> Select:
    """Royalty statements, newest month first then by campus; every campus when none is bound
    (HQ reads it under `all_campuses`), the bound campus's own otherwise. `search` finds a part
    of the statement's number (taken literally)."""
    statement = select(Invoice).where(Invoice.kind == InvoiceKind.ROYALTY)
    if term := search.strip():
        statement = statement.where(Invoice.number.ilike(like_pattern(term), escape="\\"))
    if month is not None:
        statement = statement.where(Invoice.period_start == month)
    if campus_id is not None:
        statement = statement.where(Invoice.campus_id == campus_id)
    return statement.order_by(Invoice.period_start.desc().nulls_last(), Invoice.campus_id,
                              Invoice.number)
