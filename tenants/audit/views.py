"""The audit log pages.

* `/audit` on a campus site (its manager, HQ): the campus's changes;
* `/audit` on `hq.`: every campus's changes and the changes to global rows, filterable by campus;
* `/audit?format=csv|xlsx` on both: the filtered list, every page of it (`/audit.csv` is the
  CSV's older address, kept).

Filters (all optional): actor, action, object type, object id, days from/to, campus (HQ).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _
from marshmallow import EXCLUDE, ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites
from tenants.audit.api import READERS, log_query, on_hq
from tenants.audit.models import ActorKind, AuditAction
from tenants.audit.schemas import FILTERS, AuditArgsSchema
from tenants.audit.services import (
    campuses,
    export_columns,
    field_changes,
    object_label,
    object_types,
)
from tenants.scoping import all_campuses

bp = Blueprint("audit", __name__)
PER_PAGE = 25


def action_labels() -> dict[str, str]:
    return {AuditAction.CREATE: _("Created"), AuditAction.UPDATE: _("Changed"),
            AuditAction.DELETE: _("Deleted"), AuditAction.REDACT: _("Personal data erased")}


def actor_text(entry: Any) -> str:
    kind = ActorKind(entry.actor_kind)
    if kind is ActorKind.ANONYMOUS:
        return _("Anonymous visitor")
    if kind is ActorKind.SYSTEM:
        return _("System")
    return entry.actor


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"action_labels": action_labels(), "object_label": object_label,
            "field_changes": field_changes, "actor_text": actor_text}


def _link_filters(filters: dict[str, Any]) -> dict[str, str]:
    """The filters in use, as query-string values (for page links and the export)."""
    shown = {}
    for key in FILTERS:
        value = filters.get(key)
        if value:
            shown[key] = value.isoformat() if isinstance(value, date) else str(value)
    return shown


def _page(values: dict[str, str], filters: dict[str, Any] | None, errors: dict | None = None,
          message: str | None = None, status: int = 200):
    hq = on_hq()
    known = campuses() if hq else []
    pagination = None
    if filters is not None:
        statement = log_query(filters, known)
        if hq:
            with all_campuses(db.session):
                pagination = db.paginate(statement, page=filters["page"], per_page=PER_PAGE,
                                         max_per_page=MAX_PER_PAGE, error_out=False)
        else:
            pagination = db.paginate(statement, page=filters["page"], per_page=PER_PAGE,
                                     max_per_page=MAX_PER_PAGE, error_out=False)
    link_filters = _link_filters(filters) if filters is not None else {}
    return render_template(
        "audit/index.html", pagination=pagination, values=values, errors=errors or {},
        message=message, filters=link_filters, hq=hq,
        campuses=known, names={c.id: c.name for c in known},
        object_types=[(t, object_label(t)) for t in object_types(campus_only=not hq)],
        actions=list(action_labels().items())), status


def _values() -> dict[str, str]:
    """The filter form's fields, without the blank ones (an empty field filters nothing)."""
    return {k: v.strip() for k, v in request.args.to_dict().items()
            if k in (*FILTERS, "page") and v.strip()}


@bp.get("/audit")
@on_sites(SiteKind.CAMPUS, SiteKind.HQ)
@roles_required(*READERS)
@exportable
def index():
    if fmt := requested_format():
        return _export(fmt)
    values = _values()
    try:
        filters = AuditArgsSchema().load(values, unknown=EXCLUDE)
        return _page(values, filters)
    except ValidationError as error:
        return _page(values, None, error.messages, status=422)
    except AppError as error:
        return _page(values, None, error.fields, error.message, error.status)


@bp.get("/audit.csv")
@on_sites(SiteKind.CAMPUS, SiteKind.HQ)
@roles_required(*READERS)
def export():
    return _export("csv")


def _export(fmt: str):
    """The filtered list, every page of it; invalid filters are a 422 (never everything)."""
    filters = AuditArgsSchema().load(_values(), unknown=EXCLUDE)
    hq = on_hq()
    known = campuses() if hq else []
    statement = log_query(filters, known)
    slugs = {c.id: c.slug for c in known} if hq else {g.campus.id: g.campus.slug}
    stem = "audit-network" if hq else f"audit-{g.campus.slug}"
    if hq:
        with all_campuses(db.session):
            return table_response(fmt, stem, export_columns(slugs), stream(statement))
    return table_response(fmt, stem, export_columns(slugs), stream(statement))
