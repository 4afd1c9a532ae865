"""The partner portal on `partners.`: a dashboard (the home page), the partner's agreements and
the impact of the programmes it funds. Partner contacts only; each sees only its own partner's
rows (every read takes `current_user.partner_id`). Aggregates only: no learner is ever named.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from billing.impact.views import funnel_columns
from billing.portal.services import (
    SHOWN_OPEN_INVOICES,
    agreement_campus_funnels,
    agreement_invoices,
    agreement_views,
    agreements_query,
    get_agreement,
    next_due_invoices,
    open_invoices,
    partner_impact,
)
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.auth.models import Role
from core.database import utcnow
from core.errors import InvalidInput
from core.exports import Column, exportable, requested_format, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites

bp = Blueprint("portal", __name__)

READERS = (Role.PARTNER_CONTACT,)
PER_PAGE = 20
DASHBOARD_AGREEMENTS = 5


def served_on_portal(path: str) -> bool:
    """Whether a view of the partner portal answers GET `path` here. Links to pages other
    features own (the invoices) are shown only when those pages exist."""
    adapter = current_app.create_url_adapter(request)
    try:
        endpoint, _values = adapter.match(path, method="GET")
    except HTTPException:  # no such page, or a redirect
        return False
    view = current_app.view_functions.get(endpoint)
    return SiteKind.PARTNERS in (getattr(view, "site_kinds", None) or ())


def invoice_links(numbers: list[str]) -> dict[str, Any]:
    """The invoice list's path, and the page and PDF path of each number, those that exist."""
    probe = numbers[0] if numbers else "X-0000-0001"
    page = served_on_portal(f"/invoices/{quote(probe)}")
    pdf = served_on_portal(f"/invoices/{quote(probe)}.pdf")
    return {
        "index": "/invoices" if served_on_portal("/invoices") else None,
        "page": {n: f"/invoices/{quote(n)}" for n in numbers} if page else {},
        "pdf": {n: f"/invoices/{quote(n)}.pdf" for n in numbers} if pdf else {},
    }


@roles_required(*READERS)
def dashboard():
    """The portal's home page: open invoices, agreements and impact at a glance."""
    partner_id = current_user.partner_id
    today = utcnow().date()
    due = next_due_invoices(partner_id)
    pagination = db.paginate(agreements_query(partner_id), page=1, per_page=DASHBOARD_AGREEMENTS,
                             error_out=False)
    return render_template(
        "portal/dashboard.html", partner=current_user.partner, today=today,
        open_invoices=open_invoices(partner_id, today), due=due, shown_due=SHOWN_OPEN_INVOICES,
        links=invoice_links([i.number for i in due]), agreements=pagination,
        views=agreement_views(partner_id, pagination.items), impact=partner_impact(partner_id))


@bp.get("/partner/agreements")
@on_sites(SiteKind.PARTNERS)
@roles_required(*READERS)
def agreements():
    partner_id = current_user.partner_id
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(agreements_query(partner_id), page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("portal/agreements.html", partner=current_user.partner,
                           pagination=pagination, today=utcnow().date(),
                           views=agreement_views(partner_id, pagination.items))


@bp.get("/partner/agreements/<int:agreement_id>")
@on_sites(SiteKind.PARTNERS)
@roles_required(*READERS)
@exportable
def agreement(agreement_id: int):
    """An agreement; `?format=csv|xlsx&table=campuses|invoices` exports one of its tables."""
    fmt = requested_format()
    table = _table(("campuses", "invoices")) if fmt else None
    partner_id = current_user.partner_id
    found = get_agreement(partner_id, agreement_id)
    if table == "campuses":
        return table_response(fmt, f"agreement-{found.id}-campuses",
                              funnel_columns(_("Campus")),
                              agreement_campus_funnels(partner_id, found), title=found.title)
    if table == "invoices":
        return table_response(fmt, f"agreement-{found.id}-invoices", INVOICE_COLUMNS,
                              agreement_invoices(partner_id, found.id), title=found.title)
    [view] = agreement_views(partner_id, [found])
    invoices = agreement_invoices(partner_id, found.id)
    return render_template("portal/agreement.html", partner=current_user.partner, view=view,
                           agreement=found, today=utcnow().date(),
                           campuses=agreement_campus_funnels(partner_id, found),
                           invoices=invoices, links=invoice_links([i.number for i in invoices]))


def _table(choices: tuple[str, ...]) -> str:
    """Which of the page's tables an export asks for (`?table=`, the first by default); raises
    InvalidInput (422) for another."""
    table = request.args.get("table") or choices[0]
    if table not in choices:
        raise InvalidInput(_("This page has no such table."),
                           {"table": [_("Choose one of: %(tables)s.", tables=", ".join(choices))]})
    return table


def _invoice_status(invoice) -> str:
    return {"issued": _("To pay"), "paid": _("Paid"),
            "void": _("Void (credited)")}.get(invoice.status.value, invoice.status.value)


INVOICE_COLUMNS = (
    Column(_l("Number"), lambda invoice: invoice.number),
    Column(_l("Issued by"), lambda invoice: invoice.issuer_details.get("name", "")),
    Column(_l("Period from"), lambda invoice: invoice.period_start, "date"),
    Column(_l("Period to"), lambda invoice: invoice.period_end, "date"),
    Column(_l("Amount"), lambda invoice: (invoice.total_minor, invoice.currency), "money"),
    Column(_l("Currency"), lambda invoice: invoice.currency),
    Column(_l("Status"), _invoice_status),
)


@bp.get("/impact")
@on_sites(SiteKind.PARTNERS)
@roles_required(*READERS)
@exportable
def impact():
    """The impact page; `?format=csv|xlsx&table=campuses|tracks` exports one of its tables."""
    fmt = requested_format()
    table = _table(("campuses", "tracks")) if fmt else None
    partner = current_user.partner
    figures = partner_impact(current_user.partner_id)
    if fmt:
        label = _("Campus") if table == "campuses" else _("Track")
        return table_response(fmt, f"impact-{partner.slug}-{table}", funnel_columns(label),
                              getattr(figures, table), title=_("Impact"))
    return render_template("portal/impact.html", partner=partner, impact=figures)
