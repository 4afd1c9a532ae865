"""The audit log names the Stripe webhook, not a person, for the changes a signed event makes."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from tenants.audit.models import ActorKind, AuditAction, AuditEntry, GlobalAuditEntry
from tenants.scoping import campus_scope
from tests.billing.test_webhook import card_order, deliver, hook_app, intent  # noqa: F401
from tests.support.data import manager


def test_webhook_applied_payment_is_attributed_to_the_webhook(hook_app, base, site):  # noqa: F811
    order = card_order(hook_app, base, site)
    response = deliver(site, "payment_intent.succeeded", intent(base, order), "evt_audit_1")
    assert response.get_json()["outcome"] == "paid"

    with hook_app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        entries = list(db.session.scalars(select(AuditEntry).where(
            AuditEntry.actor_kind == ActorKind.WEBHOOK).order_by(AuditEntry.id)))
        created = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "orders", AuditEntry.object_id == str(order["id"]),
            AuditEntry.action == AuditAction.CREATE)).one()
    paid = [e for e in entries if e.object_type == "orders"]
    assert len(paid) == 1 and paid[0].object_id == str(order["id"])
    assert paid[0].action is AuditAction.UPDATE
    assert paid[0].actor == "webhook:stripe" and paid[0].actor_user_id is None
    assert (paid[0].before["status"], paid[0].after["status"]) == ("open", "paid")
    assert [e.object_type for e in entries if e.action is AuditAction.CREATE] == [
        "revenue_entries"]  # the payment's ledger entry; its rollup is derived, not recorded
    assert created.actor == manager("molenbeek")  # the order itself was made by the manager
    with hook_app.app_context():
        # The delivery log (stripe_events) is bookkeeping: no entry of its own.
        assert db.session.scalar(select(GlobalAuditEntry.id).where(
            GlobalAuditEntry.object_type == "stripe_events")) is None


def test_duplicate_delivery_records_nothing_more(hook_app, base, site):  # noqa: F811
    order = card_order(hook_app, base, site)
    deliver(site, "payment_intent.succeeded", intent(base, order), "evt_audit_twice")

    def webhook_entries() -> int:
        with hook_app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
            return len(db.session.scalars(select(AuditEntry.id).where(
                AuditEntry.actor_kind == ActorKind.WEBHOOK)).all())

    first = webhook_entries()
    again = deliver(site, "payment_intent.succeeded", intent(base, order), "evt_audit_twice")
    assert again.get_json()["outcome"] == "duplicate"
    assert webhook_entries() == first
