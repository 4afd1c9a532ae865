"""HQ's consolidated figures kept per worker process until the ledger changes.

A three-year report is thousands of groups that stay the same from one HQ request to the next
while no ledger entry is recorded. Each report is therefore kept under the ledger's *version*:
a fingerprint of the monthly rollups read in one cheap query (about 1 ms for 9,000 rollups,
against about 35 ms for the report). Any recorded entry changes the version (entries are
append-only, so every new one adds one to some rollup's `entry_count`), and so does a rebuild or
repair of the rollups (`amount_eur_minor` weighted by row id), so a report is never served for a
ledger other than the one it was computed from. Reports computed before a change simply stop
matching and age out.

`REPORT_CACHE_ROWS` bounds the rows kept per process (0 turns the cache off; `make bench` uses
that to measure the report cold).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select

from billing.ledger.models import RevenueRollup
from core.extensions import db

T = TypeVar("T")
_lock = threading.Lock()
_EXTENSION = "campusflow.report_cache"


def ledger_version() -> tuple[int, int, int]:
    """The fingerprint of every rollup the session can see (call it inside `all_campuses`)."""
    count, entries, weighted = db.session.execute(select(
        func.count(),
        func.coalesce(func.sum(RevenueRollup.entry_count), 0),
        func.coalesce(func.sum(RevenueRollup.amount_eur_minor * RevenueRollup.id), 0),
    )).one()
    return int(count), int(entries), int(weighted)


def current_version() -> tuple[int, int, int] | None:
    """The ledger's version when reports are kept, else None (and no query)."""
    return ledger_version() if _reports() is not None else None


class _Reports:
    """Least recently used reports, up to `budget` rows in all."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.rows = 0
        self.items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        found = self.items.get(key)
        if found is None:
            return None
        self.items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        if size > self.budget or key in self.items:
            return
        self.items[key] = (value, size)
        self.rows += size
        while self.rows > self.budget:
            _, (_, dropped) = self.items.popitem(last=False)
            self.rows -= dropped


def _reports() -> _Reports | None:
    budget = current_app.config.get("REPORT_CACHE_ROWS", 0)
    if budget <= 0:
        return None
    store = current_app.extensions.get(_EXTENSION)
    if store is None or store.budget != budget:
        store = current_app.extensions[_EXTENSION] = _Reports(budget)
    return store


def cached(key: Hashable, compute: Callable[[], T], size: Callable[[T], int]) -> T:
    """`compute()`, or the value kept under `key` (which must include the ledger version)."""
    store = _reports()
    if store is None:
        return compute()
    with _lock:
        found = store.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    value = compute()
    with _lock:
        store.put(key, value, size(value))
    return value
