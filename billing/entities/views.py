"""Billing entities: HQ's list and edit form on `hq.`, and a campus's own details, read-only,
on its site (`/billing`, managers and HQ; staff see no money screens)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from stdnum import iban

from billing.entities.api import EDITORS
from billing.entities.models import BillingEntity, PaymentProvider
from billing.entities.schemas import BillingEntityInputSchema, all_problems
from billing.entities.services import (
    MANUAL_ONLY_COUNTRIES,
    ensure_campus_entities,
    entities_query,
    entity_for_campus,
    entity_rows,
    get_entity,
    update_entity,
)
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.auth.models import Role
from core.database import utcnow
from core.errors import AppError
from core.exports import Column, batches, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites

bp = Blueprint("entities", __name__)

CAMPUS_READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)
PER_PAGE = 25
FORM_FIELDS = ("legal_name", "address", "country", "vat_number", "vat_rate", "iban", "bic",
               "payment_provider", "payment_terms_days", "code")


@bp.app_template_filter("iban")
def format_iban(value: str | None) -> str:
    """An IBAN in groups of four, as people read it."""
    return iban.format(value) if value else ""


@bp.context_processor
def labels() -> dict[str, Any]:
    names = {PaymentProvider.STRIPE: _("Stripe (cards), and transfers"),
             PaymentProvider.MANUAL: _("Manual: cash or transfer recorded by staff")}
    return {"provider_labels": names, "provider_choices": [(p.value, n) for p, n in names.items()],
            "manual_only_countries": sorted(MANUAL_ONLY_COUNTRIES)}


def _provider_label(provider: PaymentProvider) -> str:
    return str(labels()["provider_labels"][provider])


# Rows: EntityRow (the entity, its campus, whether its prefix is in use).
COLUMNS = (
    Column(_l("Campus"), lambda row: row.campus_name or _("HQ")),
    Column(_l("Invoice prefix"), lambda row: row.entity.code, width=10),
    Column(_l("Prefix in use"), lambda row: _("yes") if row.code_locked else _("no"), width=10),
    Column(_l("Legal name"), lambda row: row.entity.legal_name, width=36),
    Column(_l("Address"), lambda row: row.entity.address, width=40),
    Column(_l("Country"), lambda row: row.entity.country, width=10),
    Column(_l("VAT number"), lambda row: row.entity.vat_number),
    Column(_l("VAT rate"), lambda row: row.entity.vat_rate / 100, "percent"),
    Column(_l("IBAN"), lambda row: format_iban(row.entity.iban), width=30),
    Column(_l("BIC"), lambda row: row.entity.bic, width=12),
    Column(_l("Payments"), lambda row: _provider_label(row.entity.payment_provider), width=36),
    Column(_l("Payment terms (days)"), lambda row: row.entity.payment_terms_days, "number"),
)


def _rows(entities):
    for batch in batches(entities):
        yield from entity_rows(batch)


@bp.get("/billing/entities")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def index():
    fmt = requested_format()
    search = request.args.get("q", "")[:200]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    ensure_campus_entities()
    if fmt:
        return table_response(fmt, "billing-entities", COLUMNS,
                              _rows(stream(entities_query(search))))
    pagination = db.paginate(entities_query(search), page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("entities/index.html", pagination=pagination, search=search,
                           rows=entity_rows(pagination.items))


def _values_of(entity: BillingEntity) -> dict[str, Any]:
    return {"legal_name": entity.legal_name, "address": entity.address,
            "country": entity.country, "vat_number": entity.vat_number or "",
            "vat_rate": f"{entity.vat_rate:.2f}", "iban": format_iban(entity.iban),
            "bic": entity.bic, "payment_provider": entity.payment_provider.value,
            "payment_terms_days": entity.payment_terms_days, "code": entity.code}


def _render_form(row, values: dict, errors: dict, message: str | None = None,
                 status: int = 200):
    return render_template("entities/form.html", row=row, entity=row.entity, values=values,
                           errors=errors, message=message, year=utcnow().year), status


@bp.route("/billing/entities/<int:entity_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def edit(entity_id: int):
    entity = get_entity(entity_id)
    [row] = entity_rows([entity])
    if request.method == "GET":
        return _render_form(row, _values_of(entity), {})
    values = {name: request.form[name] for name in FORM_FIELDS if name in request.form}
    try:
        data = BillingEntityInputSchema().load(values, partial=("code",))
        saved = update_entity(entity, data)
    except ValidationError as error:
        db.session.rollback()
        return _render_form(row, values, all_problems(entity, error), status=422)
    except AppError as error:
        db.session.rollback()
        return _render_form(row, values, error.fields, error.message, error.status)
    flash(_("Saved the billing details of %(name)s.", name=saved.legal_name), "success")
    return redirect(url_for("entities.index"))


@bp.get("/billing")
@on_sites(SiteKind.CAMPUS)
@roles_required(*CAMPUS_READERS)
def campus_details():
    entity = entity_for_campus(g.campus)
    [row] = entity_rows([entity])
    return render_template("entities/campus.html", row=row, entity=entity, campus=g.campus)
