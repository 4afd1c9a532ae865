"""The revenue ledger's rules: record, reverse, roll up by month, verify and rebuild."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from billing.currencies.services import rate_for, to_eur_minor
from billing.ledger.models import EntrySource, RevenueEntry, RevenueRollup, RevenueStream
from core.database import like_pattern
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from tenants.scoping import bound_campus_id


def month_of(day: date) -> date:
    return day.replace(day=1)


def record_entry(
    *,
    occurred_on: date,
    stream: RevenueStream,
    amount_minor: int,
    currency: str,
    source: EntrySource,
    source_key: str | None = None,
    memo: str = "",
    actor_id: int | None = None,
    reverses: RevenueEntry | None = None,
) -> RevenueEntry:
    """Append an entry for the bound campus, valued in EUR at the rate of its day, and add it
    to its monthly rollup in the same transaction.

    Raises InvalidInput for a zero amount or a missing rate, Conflict for a source key already
    recorded at this campus (a replayed payment counts once).
    """
    if amount_minor == 0:
        raise InvalidInput(_("An entry needs an amount."), {"amount_minor": [_("Not zero.")]})
    key = source_key or f"{source.value}:{uuid.uuid4()}"
    if db.session.scalar(select(RevenueEntry.id).where(RevenueEntry.source_key == key)):
        raise Conflict(_("This %(source)s is already in the ledger.", source=source.value),
                       {"source_key": [key]}, code="duplicate_source")
    if reverses is not None:
        rate, eur = reverses.fx_rate, -reverses.amount_eur_minor  # cancels to the cent
    else:
        rate = rate_for(currency, occurred_on)
        eur = to_eur_minor(amount_minor, currency, rate)
    entry = RevenueEntry(
        occurred_on=occurred_on, stream=stream, amount_minor=amount_minor, currency=currency,
        fx_rate=rate, amount_eur_minor=eur, source=source, source_key=key, memo=memo,
        created_by_id=actor_id, reverses_id=reverses.id if reverses else None,
    )
    try:
        with db.session.begin_nested():  # a racing twin of this source key loses cleanly
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(_("This %(source)s is already in the ledger.", source=source.value),
                       {"source_key": [key]}, code="duplicate_source") from error
    _add_to_rollup(entry)
    return entry


def reverse_entry(entry: RevenueEntry, *, memo: str = "", actor_id: int | None = None
                  ) -> RevenueEntry:
    """The reversing entry of `entry`, on the same day so its month nets to zero.

    Raises Conflict: `already_reversed` when the entry was reversed before, `is_reversal` when it
    is itself a reversal.
    """
    if entry.reverses_id is not None:
        raise Conflict(_("A reversal cannot be reversed; record a new entry instead."),
                       code="is_reversal")
    if db.session.scalar(select(RevenueEntry.id).where(RevenueEntry.reverses_id == entry.id)):
        raise Conflict(_("This entry was already reversed."), code="already_reversed")
    return record_entry(
        occurred_on=entry.occurred_on, stream=entry.stream, amount_minor=-entry.amount_minor,
        currency=entry.currency, source=entry.source, source_key=f"reversal:{entry.id}",
        memo=memo or _("Reversal of entry %(id)d", id=entry.id), actor_id=actor_id,
        reverses=entry,
    )


def get_entry(entry_id: int) -> RevenueEntry:
    """The bound campus's entry `entry_id`; raises NotFound for any other."""
    campus_id = bound_campus_id()
    entry = db.session.get(RevenueEntry, (campus_id, entry_id)) if campus_id else None
    if entry is None:
        raise NotFound(_("No such ledger entry."))
    return entry


def entries_query(start: date | None = None, end: date | None = None,
                  stream: RevenueStream | None = None, search: str = "") -> Select:
    """Entries of the bound campus, newest first, from `start` to `end` (inclusive), of a
    stream; `search` finds a part of the memo (taken literally)."""
    statement = select(RevenueEntry).order_by(RevenueEntry.occurred_on.desc(),
                                              RevenueEntry.id.desc())
    if term := search.strip():
        statement = statement.where(RevenueEntry.memo.ilike(like_pattern(term), escape="\\"))
    if start:
        statement = statement.where(RevenueEntry.occurred_on >= start)
    if end:
        statement = statement.where(RevenueEntry.occurred_on <= end)
    if stream:
        statement = statement.where(RevenueEntry.stream == stream)
    return statement


def _upsert(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _add_to_rollup(entry: RevenueEntry) -> None:
    # One statement, atomic under concurrency: insert the month's row or add to it.
    insert = _upsert(db.session.get_bind().dialect.name)(RevenueRollup.__table__)
    statement = insert.values(
        campus_id=entry.campus_id, month=month_of(entry.occurred_on), stream=entry.stream.value,
        currency=entry.currency, amount_minor=entry.amount_minor,
        amount_eur_minor=entry.amount_eur_minor, entry_count=1,
    )
    table = RevenueRollup.__table__
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["campus_id", "month", "stream", "currency"],
        set_={
            "amount_minor": table.c.amount_minor + statement.excluded.amount_minor,
            "amount_eur_minor": table.c.amount_eur_minor + statement.excluded.amount_eur_minor,
            "entry_count": table.c.entry_count + 1,
        },
    ))


@dataclass(frozen=True)
class RollupDifference:
    campus_id: int
    month: date
    stream: str
    currency: str
    stored: tuple[int, int, int]
    computed: tuple[int, int, int]


def _computed_rollups() -> dict[tuple, tuple[int, int, int]]:
    rows = db.session.execute(
        select(RevenueEntry.campus_id, RevenueEntry.occurred_on, RevenueEntry.stream,
               RevenueEntry.currency, RevenueEntry.amount_minor, RevenueEntry.amount_eur_minor)
    )
    totals: dict[tuple, list[int]] = {}
    for campus_id, occurred_on, stream, currency, amount, eur in rows:
        key = (campus_id, month_of(occurred_on), RevenueStream(stream).value, currency)
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += amount
        total[1] += eur
        total[2] += 1
    return {key: tuple(value) for key, value in totals.items()}


def verify_rollups() -> list[RollupDifference]:
    """Rollups that differ from the entries they summarise (read with all campuses bound)."""
    computed = _computed_rollups()
    stored = {
        (r.campus_id, r.month, RevenueStream(r.stream).value, r.currency):
            (r.amount_minor, r.amount_eur_minor, r.entry_count)
        for r in db.session.scalars(select(RevenueRollup))
    }
    differences = []
    for key in sorted(computed.keys() | stored.keys(), key=str):
        if computed.get(key, (0, 0, 0)) != stored.get(key, (0, 0, 0)):
            differences.append(RollupDifference(*key, stored.get(key, (0, 0, 0)),
                                                computed.get(key, (0, 0, 0))))
    return differences


def rebuild_rollups(campus_id: int) -> int:
    """Rewrite the bound campus's rollups from its entries; returns how many rows it wrote."""
    db.session.execute(delete(RevenueRollup))
    rows = db.session.execute(
        select(func.min(RevenueEntry.occurred_on), RevenueEntry.stream, RevenueEntry.currency,
               func.sum(RevenueEntry.amount_minor), func.sum(RevenueEntry.amount_eur_minor),
               func.count())
        .group_by(func.strftime("%Y-%m", RevenueEntry.occurred_on)
                  if db.session.get_bind().dialect.name == "sqlite"
                  else func.date_trunc("month", RevenueEntry.occurred_on),
                  RevenueEntry.stream, RevenueEntry.currency)
    ).all()
    for first_day, stream, currency, amount, eur, count in rows:
        db.session.add(RevenueRollup(campus_id=campus_id, month=month_of(first_day),
                                     stream=stream, currency=currency, amount_minor=int(amount),
                                     amount_eur_minor=int(eur), entry_count=count))
    db.session.flush()
    return len(rows)
