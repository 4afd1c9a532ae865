"""`GET /api/v1/audit`: a campus site's entries (its manager, HQ), or the network's on `hq.`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from sqlalchemy import Select

from core.api import load_args, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.extensions import db
from core.openapi import documented
from core.sites import SiteKind, current_site, on_sites
from tenants.audit.schemas import AuditArgsSchema, AuditEntrySchema
from tenants.audit.services import campus_id_for, campus_log_query, campuses, network_log_query
from tenants.scoping import all_campuses

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")

READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


def on_hq() -> bool:
    site = current_site()
    return site is not None and site.kind is SiteKind.HQ


def site_timezone() -> str:
    """Days in the filters are the site's: the campus's timezone, UTC on HQ."""
    return g.get("site_timezone") or "UTC"


def log_query(filters: dict[str, Any], known_campuses: list[Any] | None = None) -> Select:
    """The list the request asks for: on HQ every campus's and global entries (to be read
    inside `all_campuses()`), on a campus site its own. Raises InvalidInput for an unknown
    campus filter."""
    if on_hq():
        known = campuses() if known_campuses is None else known_campuses
        return network_log_query(filters, site_timezone(), campus_id_for(filters["campus"], known))
    return campus_log_query(filters, site_timezone())


@bp.get("")
@documented("The audit log: this campus's changes, or (HQ) every campus's and the global ones",
            query=AuditArgsSchema, response=AuditEntrySchema, paginated=True)
@on_sites(SiteKind.CAMPUS, SiteKind.HQ)
@roles_required(*READERS)
def list_entries():
    args = load_args(AuditArgsSchema())
    statement = log_query(args)
    if on_hq():
        with all_campuses(db.session):
            return paginated(statement, AuditEntrySchema(), args["page"], args["per_page"])
    return paginated(statement, AuditEntrySchema(), args["page"], args["per_page"])
