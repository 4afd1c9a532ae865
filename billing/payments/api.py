"""`/api/v1/orders` on campus sites: the campus's orders, new orders, payments recorded by hand,
refunds and cancellations. Manager and HQ only (staff get 403); another campus's order is a 404.
"""

from __future__ import annotations

from flask import Blueprint, g
from flask_login import current_user

from billing.payments import services
from billing.payments.schemas import (
    ManualPaymentInputSchema,
    OrderArgsSchema,
    OrderInputSchema,
    OrderSchema,
)
from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.campuses.services import today_at

bp = Blueprint("payments_api", __name__, url_prefix="/api/v1/orders")

MONEY_ROLES = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


@bp.get("")
@documented("Orders of this campus, newest first (filters: status, purpose, q on the payer)",
            query=OrderArgsSchema, response=OrderSchema, paginated=True,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def list_orders():
    args = load_args(OrderArgsSchema())
    return paginated(services.orders_query(args["status"], args["purpose"], args["q"]),
                     OrderSchema(), args["page"], args["per_page"])


@bp.post("")
@documented("Create an order for one enrolment (paid cohort), membership or event registration "
            "of this campus; amount, currency and payer come from it. 409 `free_subject`, "
            "`not_payable`, `already_paid`, `open_order_exists`", body=OrderInputSchema,
            response=OrderSchema, status=201, errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def create():
    order = services.create_order(**load_json(OrderInputSchema()), actor_id=current_user.id)
    return OrderSchema().dump(order), 201


@bp.get("/<int:order_id>")
@documented("One order of this campus", response=OrderSchema, errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def show(order_id: int):
    return OrderSchema().dump(services.get_order(order_id))


@bp.post("/<int:order_id>/record-payment")
@documented("Record cash or a transfer received for an open order without a card payment "
            "(open → paid, with its ledger entry); 409 `invalid_transition`, `card_order`",
            body=ManualPaymentInputSchema, response=OrderSchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def record_payment(order_id: int):
    order = services.get_order(order_id)
    data = load_json(ManualPaymentInputSchema(today=today_at(g.campus)))
    services.record_manual_payment(order, reference=data["reference"], paid_on=data["paid_on"],
                                   actor_id=current_user.id)
    return OrderSchema().dump(order)


@bp.post("/<int:order_id>/refund")
@documented("Refund a paid order in full (to the card through Stripe, or paid back in cash) and "
            "reverse its ledger entry; 409 `invalid_transition`, `refund_by_credit_note`",
            response=OrderSchema, errors=(401, 403, 404, 409))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def refund(order_id: int):
    order = services.refund_order(services.get_order(order_id), actor_id=current_user.id)
    return OrderSchema().dump(order)


@bp.post("/<int:order_id>/cancel")
@documented("Cancel an open order (nothing was paid); 409 `invalid_transition`",
            response=OrderSchema, errors=(401, 403, 404, 409))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def cancel(order_id: int):
    order = services.cancel_order(services.get_order(order_id), actor_id=current_user.id)
    return OrderSchema().dump(order)

