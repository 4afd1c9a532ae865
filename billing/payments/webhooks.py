"""`POST /webhooks/stripe` on the apex domain: Stripe tells us what happened to a payment.

* The signature is verified on the raw body (`gateway().verify_event`): missing, wrong or stale
  → 400 and nothing changes.
* Each event id is recorded in `stripe_events` in the SAME transaction as its effects, and first:
  a replay is a 200 that changes nothing; two deliveries racing each other collide on the
  primary key, the loser rolls back and answers 200.
* Events are nudges: an order's status only moves forward. `payment_intent.succeeded` pays an
  open order (once; the pay page may have done it already), `payment_intent.payment_failed`
  keeps the reason on a still-open order, `charge.refunded` refunds a paid order (an order still
  open, the refund arriving before the success, is first paid then refunded, so the ledger nets
  to zero). Every other type is answered 200 and recorded as ignored.
* This is the only view exempt from CSRF: Stripe signs its requests instead (a test lists the
  exempt views).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from billing.gateway import PaymentIntentView, gateway
from billing.payments import services
from billing.payments.models import Order, OrderPurpose, StripeEvent
from core.errors import Conflict
from core.extensions import csrf, db
from core.sites import SiteKind, on_sites, public
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses, campus_scope

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)

HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")


def _int(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _locate(metadata: dict | None, payment_intent_id: str | None) -> tuple[int, int] | None:
    """(campus id, order id) of the order an object is about: from the metadata we put on each
    PaymentIntent, else (a charge carries none) by its PaymentIntent id across campuses."""
    metadata = metadata or {}
    campus_id, order_id = _int(metadata.get("campus_id")), _int(metadata.get("order_id"))
    if campus_id and order_id and db.session.get(Campus, campus_id) is not None:
        return campus_id, order_id
    if not payment_intent_id:
        return None
    with all_campuses(db.session):  # a read only: the writes below bind the order's campus
        row = db.session.execute(select(Order.campus_id, Order.id)
                                 .where(Order.payment_intent_id == payment_intent_id)).first()
    return (row[0], row[1]) if row else None


def _intent(obj: dict) -> PaymentIntentView:
    error = obj.get("last_payment_error") or {}
    return PaymentIntentView(
        id=str(obj.get("id") or ""), status=str(obj.get("status") or ""),
        client_secret=None, amount_minor=int(obj.get("amount") or 0),
        currency=str(obj.get("currency") or "").upper(),
        last_error=(error.get("message") or error.get("code")) if error else None,
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()})


def _on_intent(kind: str, obj: dict) -> tuple[str, int | None]:
    located = _locate(obj.get("metadata"), obj.get("id"))
    if located is None:
        return "unknown_order", None
    campus_id, order_id = located
    with campus_scope(campus_id, db.session):
        order = db.session.get(Order, (campus_id, order_id))
        if order is None:
            return "unknown_order", campus_id
        intent = _intent(obj)
        if kind == "payment_intent.succeeded" and intent.status != "succeeded":
            return "inconsistent_event", campus_id
        try:
            changed = services.apply_payment_intent(order, intent)
        except Conflict:
            log.warning("Webhook for PaymentIntent %s names order %s/%s, which has another "
                        "PaymentIntent", intent.id, campus_id, order_id)
            return "payment_intent_mismatch", campus_id
        if kind == "payment_intent.succeeded":
            return ("paid" if changed else "already_applied"), campus_id
        return ("failure_recorded" if order.last_error else "already_applied"), campus_id


def _on_refund(obj: dict) -> tuple[str, int | None]:
    payment_intent_id = obj.get("payment_intent")
    if isinstance(payment_intent_id, dict):
        payment_intent_id = payment_intent_id.get("id")
    located = _locate(obj.get("metadata"), payment_intent_id)
    if located is None:
        return "unknown_order", None
    campus_id, order_id = located
    with campus_scope(campus_id, db.session):
        order = db.session.get(Order, (campus_id, order_id))
        if order is None:
            return "unknown_order", campus_id
        if payment_intent_id and payment_intent_id != order.payment_intent_id:
            return "payment_intent_mismatch", campus_id
        if not obj.get("refunded"):
            log.warning("Partial refund of order %s/%s made in Stripe: only full refunds are "
                        "recorded", campus_id, order_id)
            return "partial_refund_ignored", campus_id
        if order.purpose is OrderPurpose.INVOICE:
            log.warning("Card payment of invoice order %s/%s refunded in Stripe: issue a credit "
                        "note for the invoice", campus_id, order_id)
            return "invoice_refund_needs_credit_note", campus_id
        refunds = (obj.get("refunds") or {}).get("data") or []
        refund_id = refunds[0].get("id") if refunds and isinstance(refunds[0], dict) else None
        changed = services.apply_refund_from_stripe(order, refund_id)
        return ("refunded" if changed else "already_applied"), campus_id


def handle_event(event: dict) -> tuple[str, int | None]:
    """Apply one verified event; returns its outcome and the campus it concerned."""
    kind = str(event.get("type"))
    obj = (event.get("data") or {}).get("object") or {}
    if kind not in HANDLED or not isinstance(obj, dict):
        return "ignored", None
    if kind == "charge.refunded":
        return _on_refund(obj)
    return _on_intent(kind, obj)


def _already_recorded(event_id: str) -> bool:
    return db.session.get(StripeEvent, event_id) is not None


def _duplicate() -> tuple[dict, int]:
    return {"received": True, "outcome": "duplicate"}, 200


@bp.post("/webhooks/stripe")
@on_sites(SiteKind.PUBLIC)
@public
def stripe_webhook():
    event = gateway().verify_event(request.get_data(), request.headers.get("Stripe-Signature"))
    event_id, kind = str(event["id"])[:255], str(event["type"])[:120]
    if _already_recorded(event_id):
        return _duplicate()
    record = StripeEvent(id=event_id, type=kind)
    try:
        # First, so that a twin delivered at the same moment waits on this row's key.
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return _duplicate()
    outcome, campus_id = handle_event(event)
    record.outcome, record.campus_id = outcome, campus_id
    try:
        db.session.commit()  # the event and its effects together, or neither
    except IntegrityError:
        db.session.rollback()
        return _duplicate()
    log.info("Stripe event %s (%s): %s", event_id, kind, outcome)
    return {"received": True, "outcome": outcome}, 200


stripe_webhook.csrf_exempt = True  # read by the request's CSRF check (core/app.py)
stripe_webhook.audit_actor = "webhook:stripe"  # who the audit log names (tenants/audit)
csrf.exempt(stripe_webhook)
