"""`/api/v1/revenue` on campus sites: the campus's ledger entries, manual entries and reversals.

Money screens: the campus's manager and HQ only (staff get 403). The currency of a manual entry
is always the campus's; another campus's entry id is a 404, never a 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from billing.ledger.figures import reversed_ids
from billing.ledger.models import EntrySource, RevenueEntry
from billing.ledger.schemas import (
    RevenueArgsSchema,
    RevenueEntryInputSchema,
    RevenueEntrySchema,
    ReversalInputSchema,
)
from billing.ledger.services import entries_query, get_entry, record_entry, reverse_entry
from core.api import MAX_PER_PAGE, load_args, load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.errors import Conflict
from core.extensions import db
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.campuses.services import today_at

bp = Blueprint("revenue_api", __name__, url_prefix="/api/v1/revenue")

MONEY_ROLES = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


def campus_today() -> date:
    """Today where the request's campus is (its timezone), not in UTC."""
    return today_at(g.campus)


def record_manual_entry(data: dict[str, Any]) -> RevenueEntry:
    """A manual entry for the request's campus, in its currency, by the signed-in user."""
    return record_entry(occurred_on=data["occurred_on"], stream=data["stream"],
                        amount_minor=data["amount_minor"], currency=g.campus.currency,
                        source=EntrySource.MANUAL, memo=data["memo"], actor_id=current_user.id)


def reverse_by_current_user(entry: RevenueEntry, memo: str) -> RevenueEntry:
    """The reversal of `entry`; Conflict `already_reversed` also when a concurrent request won
    the race (the database's one-reversal-per-entry key refused our row)."""
    try:
        return reverse_entry(entry, memo=memo, actor_id=current_user.id)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("This entry was already reversed."), code="already_reversed") from None


def entry_page(statement: Select, page: int, per_page: int):
    """One page of entries and the ids among them that were reversed (3 queries in all)."""
    pagination = db.paginate(statement, page=page, per_page=per_page, error_out=False,
                             max_per_page=MAX_PER_PAGE)
    return pagination, reversed_ids(entry.id for entry in pagination.items)


@bp.get("")
@documented("Ledger entries of this campus, newest first", query=RevenueArgsSchema,
            response=RevenueEntrySchema, paginated=True, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def list_entries():
    args = load_args(RevenueArgsSchema())
    pagination, reversed_set = entry_page(entries_query(args["from_"], args["to"], args["stream"]),
                                          args["page"], args["per_page"])
    return {
        "items": RevenueEntrySchema(reversed_ids=reversed_set).dump(pagination.items, many=True),
        "page": pagination.page,
        "per_page": pagination.per_page,
        "total": pagination.total,
    }


@bp.post("")
@documented("Record a manual entry (in the campus's currency)", body=RevenueEntryInputSchema,
            response=RevenueEntrySchema, status=201, errors=(401, 403, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def create():
    entry = record_manual_entry(load_json(RevenueEntryInputSchema(today=campus_today())))
    return RevenueEntrySchema().dump(entry), 201


@bp.get("/<int:entry_id>")
@documented("One ledger entry of this campus", response=RevenueEntrySchema,
            errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def show(entry_id: int):
    entry = get_entry(entry_id)
    return RevenueEntrySchema(reversed_ids=reversed_ids([entry.id])).dump(entry)


@bp.post("/<int:entry_id>/reverse")
@documented("Reverse an entry: a reversing entry on the same day (once per entry; 409 "
            "`already_reversed`, or `is_reversal` for a reversal)", body=ReversalInputSchema,
            response=RevenueEntrySchema, status=201, errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def reverse(entry_id: int):
    entry = get_entry(entry_id)
    # The body is optional: no body at all means no memo.
    data = (load_json(ReversalInputSchema()) if request.get_data()
            else ReversalInputSchema().load({}))
    reversal = reverse_by_current_user(entry, data["memo"])
    return RevenueEntrySchema().dump(reversal), 201
