"""Payment pages.

Campus sites (manager and HQ; staff see no money):
* `/orders`: the campus's orders, filtered by status and purpose, searched by payer;
* `/orders/new`: an order for one of the campus's unpaid enrolments (paid cohorts), memberships
  or event registrations;
* `/orders/<order_id>`: status, history, the payment link to send, record a cash or transfer
  payment, refund (a confirmation page), cancel;
* `/orders/<order_id>/pay`: the payment page at the desk.

The payer's page `/pay/<token>` (public, a signed link valid 30 days for one order of this campus)
and the partner's `/invoices/<number>/pay` (partners site, the signed-in contact's own issued
invoice) show the amount and take the card: Stripe's own card form in production; our test-card
form when `STRIPE_API_BASE` points at a local Stripe-compatible server; a clear notice when Stripe
is not configured (the campus then records the payment at the desk).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import select

from billing.entities.models import PaymentProvider
from billing.entities.services import entity_for_campus_id
from billing.gateway import PaymentDeclined, PaymentIntentView, gateway
from billing.invoices.models import Invoice, InvoiceStatus
from billing.payments import services
from billing.payments.links import payment_token, read_payment_token
from billing.payments.models import Order, OrderPurpose, OrderStatus
from billing.payments.schemas import (
    ManualPaymentInputSchema,
    OrderArgsSchema,
    OrderFormSchema,
    TestCardSchema,
)
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.auth.models import Role, User
from core.errors import AppError, NotFound
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import client_address, db, limiter
from core.sites import SiteKind, on_sites, public
from tenants.campuses.services import today_at
from tenants.scoping import campus_scope

bp = Blueprint("payments", __name__)

MONEY_ROLES = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)
PER_PAGE = 25
COLUMNS = (
    Column(_l("Order"), lambda order: order.id, "number", width=8),
    Column(_l("Created"), lambda order: order.created_at, "datetime"),
    Column(_l("For"), lambda order: services.purpose_label(order.purpose)),
    Column(_l("Description"), lambda order: order.description, width=40),
    Column(_l("Payer"), lambda order: order.payer_name),
    Column(_l("Payer's e-mail"), lambda order: order.payer_email),
    Column(_l("Amount"), lambda order: (order.amount_minor, order.currency), "money"),
    Column(_l("Currency"), lambda order: order.currency, width=10),
    Column(_l("Status"), lambda order: services.status_label(order.status)),
    Column(_l("Paid"), lambda order: order.paid_at, "datetime"),
    Column(_l("Refunded"), lambda order: order.refunded_at, "datetime"),
    Column(_l("Payment reference"), lambda order: order.payment_reference),
)
CARD_ATTEMPT_LIMIT = "20 per hour"  # per address: a public card form invites card testing


def _card_attempted(response) -> bool:
    return response.status_code != 404


throttle_card_attempts = limiter.shared_limit(
    CARD_ATTEMPT_LIMIT, scope="card-payment", key_func=client_address, methods=["POST"],
    deduct_when=_card_attempted)


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"status_label": services.status_label, "purpose_label": services.purpose_label,
            "OrderStatus": OrderStatus, "OrderPurpose": OrderPurpose,
            "PURPOSES": list(OrderPurpose), "STATUSES": list(OrderStatus)}


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _link(order: Order) -> str:
    return url_for("payments.pay_link", token=payment_token(order.campus_id, order.id),
                   _external=True)


# ---- the list ----------------------------------------------------------------------------------


@bp.get("/orders")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
@exportable
def orders():
    if fmt := requested_format():  # invalid filters: 422, never every order
        args = OrderArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
        return table_response(fmt, f"orders-{g.campus.slug}", COLUMNS, stream(
            services.orders_query(args["status"], args["purpose"], args["q"])))
    try:
        args = OrderArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as error:
        args = {"status": None, "purpose": None, "q": "", "page": 1, "per_page": PER_PAGE}
        flash(_("Some filters were not understood and were left out: %(fields)s.",
                fields=", ".join(sorted(error.messages))), "error")
    pagination = db.paginate(services.orders_query(args["status"], args["purpose"], args["q"]),
                             page=args["page"], per_page=PER_PAGE, max_per_page=MAX_PER_PAGE,
                             error_out=False)
    filters = {"status": args["status"].value if args["status"] else None,
               "purpose": args["purpose"].value if args["purpose"] else None,
               "q": args["q"] or None}
    filters = {key: value for key, value in filters.items() if value}
    return render_template("payments/index.html", pagination=pagination, filters=filters,
                           status=args["status"], purpose=args["purpose"], search=args["q"])


# ---- a new order -------------------------------------------------------------------------------


def _new_form(values: dict, errors: dict, message: str | None = None, status: int = 200):
    subjects = services.payable_subjects()
    return render_template("payments/new.html", subjects=subjects, values=values,
                           errors=errors, message=message), status


@bp.route("/orders/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def new_order():
    if request.method == "GET":
        return _new_form({"subject": request.args.get("subject", "")[:60]}, {})
    values = _form_values()
    try:
        order = services.create_order(**OrderFormSchema().load(values, unknown=EXCLUDE),
                                      actor_id=current_user.id)
    except ValidationError as error:
        return _new_form(values, error.messages, status=422)
    except AppError as error:
        db.session.rollback()
        errors = {"subject": [error.message]} if error.status in (404, 409, 422) else {}
        return _new_form(values, errors, error.message, error.status)
    flash(_("Order #%(id)d created: send the payment link to %(payer)s, or record the payment.",
            id=order.id, payer=order.payer_name or order.payer_email), "success")
    return redirect(url_for("payments.order", order_id=order.id))


# ---- one order ---------------------------------------------------------------------------------


def _history(order: Order) -> list[tuple[Any, str]]:
    """What happened to the order, oldest first (from its own timestamps)."""
    ids = {i for i in (order.created_by_id, order.paid_by_id, order.refunded_by_id) if i}
    names = {user_id: name for user_id, name in db.session.execute(
        select(User.id, User.full_name).where(User.id.in_(ids)))} if ids else {}

    def by(user_id: int | None) -> str:
        return f" — {names[user_id]}" if user_id in names else ""

    events = [(order.created_at, _("Order created") + by(order.created_by_id))]
    if order.paid_at:
        how = (_("Paid by card") if services.paid_by_card(order)
               else _("Payment recorded (%(reference)s)", reference=order.payment_reference))
        events.append((order.paid_at, how + by(order.paid_by_id)))
    if order.refunded_at:
        how = (_("Refunded to the card") if order.refund_id
               else _("Paid back in cash or by transfer"))
        events.append((order.refunded_at, how + by(order.refunded_by_id)))
    if order.cancelled_at:
        events.append((order.cancelled_at, _("Cancelled")))
    return sorted(events, key=lambda event: event[0])


def _order_page(order: Order, values: dict | None = None, errors: dict | None = None,
                message: str | None = None, status: int = 200):
    entity = entity_for_campus_id(order.campus_id)
    invoice = (db.session.get(Invoice, (order.campus_id, order.invoice_id))
               if order.invoice_id else None)
    return render_template(
        "payments/show.html", order=order, history=_history(order), invoice=invoice,
        entries=services.ledger_entries(order), link=_link(order),
        can_record=order.status is OrderStatus.OPEN and order.payment_intent_id is None,
        can_refund=(order.status is OrderStatus.PAID
                    and order.purpose is not OrderPurpose.INVOICE),
        card_order=order.payment_intent_id is not None, entity=entity,
        stripe_ready=gateway().configured, values=values or {}, errors=errors or {},
        message=message, today=today_at(g.campus)), status


@bp.get("/orders/<int:order_id>")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def order(order_id: int):
    return _order_page(services.get_order(order_id))


@bp.post("/orders/<int:order_id>/record-payment")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def record_payment(order_id: int):
    order = services.get_order(order_id)
    values = _form_values()
    try:
        data = ManualPaymentInputSchema(today=today_at(g.campus)).load(values, unknown=EXCLUDE)
        services.record_manual_payment(order, reference=data["reference"],
                                       paid_on=data["paid_on"], actor_id=current_user.id)
    except ValidationError as error:
        return _order_page(order, values, error.messages, status=422)
    except AppError as error:
        db.session.rollback()
        return _order_page(services.get_order(order_id), values, error.fields, error.message,
                           error.status)
    flash(_("Payment of order #%(id)d recorded; it is in the revenue ledger.", id=order.id),
          "success")
    return redirect(url_for("payments.order", order_id=order.id))


@bp.route("/orders/<int:order_id>/refund", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def refund(order_id: int):
    """GET: what refunding means, and the form; POST: refund the whole amount."""
    order = services.get_order(order_id)

    def page(message: str | None = None, status: int = 200):
        return render_template("payments/refund.html", order=order,
                               by_card=services.paid_by_card(order), message=message), status

    if request.method == "GET":
        return page()
    try:
        services.refund_order(order, actor_id=current_user.id)
    except AppError as error:
        db.session.rollback()
        order = services.get_order(order_id)
        return page(error.message, error.status)
    flash(_("Order #%(id)d refunded; the ledger has its reversal.", id=order.id), "success")
    return redirect(url_for("payments.order", order_id=order.id))


@bp.post("/orders/<int:order_id>/cancel")
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def cancel(order_id: int):
    order = services.get_order(order_id)
    try:
        services.cancel_order(order, actor_id=current_user.id)
    except AppError as error:
        db.session.rollback()
        return _order_page(services.get_order(order_id), message=error.message,
                           status=error.status)
    flash(_("Order #%(id)d cancelled.", id=order.id), "success")
    return redirect(url_for("payments.order", order_id=order.id))


# ---- paying ------------------------------------------------------------------------------------


def _payment_mode(order: Order) -> str:
    """How this page takes the money: `done`, `manual`, `unconfigured`, `test_card`, `stripe`."""
    if order.status is not OrderStatus.OPEN:
        return "done"
    if order.provider is not PaymentProvider.STRIPE:
        return "manual"
    pay = gateway()
    if not pay.configured or not (pay.local_server or pay.publishable_key):
        return "unconfigured"
    return "test_card" if pay.local_server else "stripe"


def _prepare(order: Order) -> tuple[PaymentIntentView | None, str | None]:
    """For an open card order: its PaymentIntent, fresh from Stripe and applied (this page is
    also Stripe's return page), or the reason it could not be read."""
    if _payment_mode(order) not in ("test_card", "stripe"):
        return None, None
    try:
        services.ensure_payment_intent(order)
        intent = gateway().retrieve_payment_intent(order.payment_intent_id)
        services.apply_payment_intent(order, intent)
    except AppError as error:  # Stripe unreachable, our key refused…: say so on the page
        db.session.rollback()
        return None, error.message
    return intent, None


def _pay_page(order: Order, *, action: str, public_page: bool, values: dict | None = None,
              errors: dict | None = None, message: str | None = None, status: int = 200,
              invoice=None):
    intent, problem = (None, None) if status != 200 else _prepare(order)
    mode = _payment_mode(order)
    entity = entity_for_campus_id(order.campus_id)
    return render_template(
        "payments/pay.html", order=order, mode=mode, action=action, public_page=public_page,
        intent=intent, problem=problem, publishable_key=gateway().publishable_key,
        return_url=request.base_url if request.method == "GET" else None,
        values=values or {}, errors=errors or {},
        # A fresh page recalls why the last attempt failed; a refused form says what is wrong.
        message=message or (order.last_error if status == 200 else None) or None,
        entity=entity, invoice=invoice), status


def _take_card(order: Order, *, action: str, public_page: bool, success_url: str, invoice=None):
    """POST of the test-card form: pay, or the form again with what went wrong."""
    values = _form_values()
    shown = {key: value for key, value in values.items() if key != "cvc"}
    try:
        card = TestCardSchema().load(values, unknown=EXCLUDE)
        order = services.pay_with_test_card(order, **card)
    except ValidationError as error:
        return _pay_page(order, action=action, public_page=public_page, values=shown,
                         errors=error.messages, status=422, invoice=invoice)
    except PaymentDeclined as declined:
        # The decline is kept on the order (why the last attempt failed) although the page
        # answers 402: commit it before the request boundary rolls the error response back.
        db.session.commit()
        return _pay_page(order, action=action, public_page=public_page, values=shown,
                         message=declined.message, status=402, invoice=invoice)
    except AppError as error:
        db.session.rollback()
        return _pay_page(order, action=action, public_page=public_page, values=shown,
                         errors=error.fields, message=error.message, status=error.status,
                         invoice=invoice)
    if order.status is not OrderStatus.PAID:
        db.session.commit()  # keep why it did not go through
        return _pay_page(order, action=action, public_page=public_page, values=shown,
                         message=order.last_error, status=402, invoice=invoice)
    flash(_("Thank you: %(amount)s paid.", amount=_money(order)), "success")
    return redirect(success_url)


def _money(order: Order) -> str:
    from flask_babel import get_locale

    from core.money import format_money

    return format_money(order.amount_minor, order.currency, str(get_locale() or "en"))


@bp.route("/orders/<int:order_id>/pay", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*MONEY_ROLES)
def desk_pay(order_id: int):
    order = services.get_order(order_id)
    action = url_for("payments.desk_pay", order_id=order.id)
    if request.method == "GET":
        return _pay_page(order, action=action, public_page=False)
    return _take_card(order, action=action, public_page=False,
                      success_url=url_for("payments.order", order_id=order.id))


def _order_for_token(token: str) -> Order:
    order_id = read_payment_token(token, g.campus.id) if len(token) <= 200 else None
    if order_id is None:
        raise NotFound(_("This payment link is not valid or has expired: ask the campus for a "
                         "new one."))
    return services.get_order(order_id)


@bp.route("/pay/<token>", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@public
@throttle_card_attempts
def pay_link(token: str):
    order = _order_for_token(token)
    action = url_for("payments.pay_link", token=token)
    if request.method == "GET":
        return _pay_page(order, action=action, public_page=True)
    return _take_card(order, action=action, public_page=True, success_url=action)


# ---- a partner pays its invoice ----------------------------------------------------------------


def _partner_invoice(number: str):
    from billing.invoices.services import partner_invoice

    if len(number) > 32:
        abort(404)
    return partner_invoice(number, current_user.partner_id)


def _invoice_page(invoice, order: Order | None, *, message: str | None = None,
                  status: int = 200):
    action = url_for("payments.pay_invoice", number=invoice.number)
    if order is not None:
        return _pay_page(order, action=action, public_page=True, invoice=invoice,
                         message=message, status=status)
    from billing.invoices.services import format_communication

    entity = entity_for_campus_id(invoice.campus_id)
    takes_cards = entity.payment_provider is PaymentProvider.STRIPE and gateway().configured
    digits = invoice.structured_communication
    return render_template("payments/invoice_pay.html", invoice=invoice, action=action,
                           takes_cards=takes_cards, message=message,
                           communication=format_communication(digits) if digits else ""), status


@bp.route("/invoices/<number>/pay", methods=["GET", "POST"])
@on_sites(SiteKind.PARTNERS)
@roles_required(Role.PARTNER_CONTACT)
@throttle_card_attempts
def pay_invoice(number: str):
    """GET: the invoice's amount and the way to pay it by card; POST without card details:
    start (or resume) the card payment; POST with card details (local test server): pay."""
    invoice = _partner_invoice(number)
    with campus_scope(invoice.campus_id, db.session):
        # Paid by transfer or credited meanwhile: its card order, if any, is not offered.
        order = (services.open_order_for_invoice(invoice)
                 if invoice.status is InvoiceStatus.ISSUED else None)
        if request.method == "GET":
            return _invoice_page(invoice, order)
        if order is None or "number" not in request.form:
            try:
                services.start_invoice_payment(invoice, actor_id=current_user.id)
            except AppError as error:
                db.session.rollback()
                return _invoice_page(invoice, None, message=error.message, status=error.status)
            flash(_("Card payment of invoice %(number)s started: enter the card details below.",
                    number=invoice.number), "info")
            return redirect(url_for("payments.pay_invoice", number=invoice.number))
        action = url_for("payments.pay_invoice", number=invoice.number)
        return _take_card(order, action=action, public_page=True, success_url=action,
                          invoice=invoice)

