"""Event pages of a campus.

* `/manage/events…` for the campus's people: the list (upcoming first, places taken), create,
  edit and cancel (managers and HQ: a ticket has a price), the event page with its registrations
  and the check-in buttons (staff too).
* `/events…` for the public: upcoming events, the registration form and its confirmation.

Times are shown and typed at the campus's timezone; they are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.database import utcnow
from core.errors import AppError
from core.exports import Column, batches, exportable, requested_format, stream, table_response
from core.extensions import db
from core.money import format_money, to_major
from core.sites import SiteKind, on_sites, public
from tenants.events import services
from tenants.events.api import ORGANISERS, READERS, registration_attempt, throttle_registrations
from tenants.events.models import EventStatus, RegistrationStatus
from tenants.events.schemas import (
    EventFormSchema,
    EventListFormArgsSchema,
    EventRegistrationInputSchema,
    EventRegistrationListFormArgsSchema,
)

bp = Blueprint("events", __name__, url_prefix="/manage/events")
public_bp = Blueprint("public_events", __name__, url_prefix="/events")
PER_PAGE = 25


def _helpers() -> dict[str, Any]:
    zone = ZoneInfo(g.campus.timezone) if g.get("campus") is not None else ZoneInfo("UTC")
    locale = str(get_locale() or "en")

    def when(moment: datetime) -> str:
        return format_datetime(moment, "medium", tzinfo=zone, locale=locale)

    def until(event) -> str:
        """The end: only the time when the event ends the day it starts (at the campus)."""
        if event.ends_at.astimezone(zone).date() == event.starts_at.astimezone(zone).date():
            return format_time(event.ends_at, "short", tzinfo=zone, locale=locale)
        return when(event.ends_at)

    def price(event) -> str:
        if event.price_minor == 0:
            return _("Free")
        return format_money(event.price_minor, event.currency, locale)

    return {"when": when, "until": until, "price": price, "EventStatus": EventStatus,
            "RegistrationStatus": RegistrationStatus, "timezone": str(zone)}


bp.context_processor(_helpers)
public_bp.context_processor(_helpers)


def _status_text(event) -> str:
    return _("Cancelled") if event.status is EventStatus.CANCELLED else _("Scheduled")


EVENT_COLUMNS = (
    Column(_l("Event"), lambda event: event.title, width=40),
    Column(_l("Starts"), lambda event: event.starts_at, "datetime"),
    Column(_l("Ends"), lambda event: event.ends_at, "datetime"),
    Column(_l("Registered"), lambda event: event.registered_count, "number"),
    Column(_l("Capacity"), lambda event: event.capacity, "number"),
    Column(_l("Ticket"), lambda event: (event.price_minor, event.currency), "money"),
    Column(_l("Currency"), lambda event: event.currency, width=10),
    Column(_l("Status"), _status_text),
)
REGISTRATION_COLUMNS = (
    Column(_l("Name"), lambda r: r.full_name),
    Column(_l("E-mail"), lambda r: r.email),
    Column(_l("Registered"), lambda r: r.registered_at, "datetime"),
    Column(_l("Status"), lambda r: (_("Cancelled") if r.status is RegistrationStatus.CANCELLED
                                    else _("Registered"))),
    Column(_l("Checked in"), lambda r: r.checked_in_at, "datetime"),
)


def _with_counts(events):
    for batch in batches(events):
        yield from services.with_registered_counts(batch)


def _page(statement, per_page: int = PER_PAGE):
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(statement, page=max(page, 1), per_page=per_page,
                       max_per_page=MAX_PER_PAGE, error_out=False)


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _may_organise() -> bool:
    return current_user.is_authenticated and current_user.role in ORGANISERS


# ---- the campus's pages ------------------------------------------------------------------------


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def index():
    if fmt := requested_format():  # invalid filters: 422, never every event
        args = EventListFormArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
        statement = services.events_query(args["status"], args["starts_from"],
                                          args["starts_to"], args["q"],
                                          ZoneInfo(g.campus.timezone))
        return table_response(fmt, f"events-{g.campus.slug}", EVENT_COLUMNS,
                              _with_counts(stream(statement)))
    status, errors = 200, {}
    try:
        args = EventListFormArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as error:
        status, errors = 422, error.messages
        args = {"status": None, "starts_from": None, "starts_to": None, "q": ""}
    statement = services.events_query(args["status"], args["starts_from"], args["starts_to"],
                                      args["q"], ZoneInfo(g.campus.timezone))
    pagination = _page(statement)
    services.with_registered_counts(pagination.items)
    return render_template("events/index.html", pagination=pagination, filters=args,
                           values=request.args, errors=errors,
                           may_organise=_may_organise()), status


def _event_form(event=None, values=None, errors=None, message=None) -> str:
    return render_template("events/form.html", event=event, values=values or {},
                           errors=errors or {}, message=message, currency=g.campus.currency)


def _save_event(event=None):
    values = _form_values()
    schema = EventFormSchema(currency=g.campus.currency, timezone=g.campus.timezone)
    try:
        data = schema.load(values, unknown=EXCLUDE)
        saved = (services.update_event(event, data) if event
                 else services.create_event(data, g.campus))
    except ValidationError as error:
        return _event_form(event, values, error.messages), 422
    except AppError as error:
        db.session.rollback()
        fields = {("ends_time" if k == "ends_at" else k): v for k, v in error.fields.items()}
        return _event_form(event, values, fields, error.message), error.status
    flash(_("Saved the event %(title)s.", title=saved.title), "success")
    return redirect(url_for("events.show", event_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*ORGANISERS)
def new():
    if request.method == "POST":
        return _save_event()
    return _event_form(values={"capacity": "30", "price": "0"})


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*ORGANISERS)
def edit(event_id: int):
    event = services.get_event(event_id)
    if request.method == "POST":
        return _save_event(event)
    zone = ZoneInfo(g.campus.timezone)
    starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    values = {"title": event.title, "description": event.description,
              "starts_on": starts.date().isoformat(), "starts_time": starts.strftime("%H:%M"),
              "ends_on": ends.date().isoformat(), "ends_time": ends.strftime("%H:%M"),
              "capacity": str(event.capacity),
              "price": str(to_major(event.price_minor, event.currency))}
    return _event_form(event, values)


def _event_page(event_id: int, message: str | None = None, status: int = 200, **_ignored: Any):
    event = services.get_event(event_id)
    errors: dict = {}
    try:
        args = EventRegistrationListFormArgsSchema().load(request.args.to_dict(),
                                                          unknown=EXCLUDE)
    except ValidationError as error:
        errors, status = error.messages, (422 if status == 200 else status)
        args = {"status": None, "checked_in": None, "q": ""}
    statement = services.registrations_query(event.id, args["status"], args["checked_in"],
                                             args["q"])
    return render_template("events/show.html", event=event, filters=args, errors=errors,
                           pagination=_page(statement, per_page=50), message=message,
                           may_organise=_may_organise()), status


@bp.get("/<int:event_id>")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def show(event_id: int):
    if fmt := requested_format():  # the registrations listed on the page, every page of them
        event = services.get_event(event_id)
        args = EventRegistrationListFormArgsSchema().load(request.args.to_dict(),
                                                          unknown=EXCLUDE)
        statement = services.registrations_query(event.id, args["status"], args["checked_in"],
                                                 args["q"])
        return table_response(fmt, f"event-{event.id}-registrations-{g.campus.slug}",
                              REGISTRATION_COLUMNS, stream(statement))
    return _event_page(event_id)


@bp.post("/<int:event_id>/cancel")
@on_sites(SiteKind.CAMPUS)
@roles_required(*ORGANISERS)
def cancel(event_id: int):
    event = services.get_event(event_id)
    try:
        services.cancel_event(event)
    except AppError as error:
        db.session.rollback()
        return _event_page(event_id, error.message, error.status)
    flash(_("Cancelled the event %(title)s.", title=event.title), "success")
    return redirect(url_for("events.show", event_id=event.id))


def _registration_action(registration_id: int, action, done: str):
    registration = services.get_registration(registration_id)
    event_id, name = registration.event_id, registration.full_name
    try:
        action(registration)
    except AppError as error:
        db.session.rollback()
        return _event_page(event_id, error.message, error.status)
    flash(done % {"name": name}, "success")
    return redirect(url_for("events.show", event_id=event_id))


@bp.post("/registrations/<int:registration_id>/check-in")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def check_in(registration_id: int):
    return _registration_action(registration_id,
                                lambda registration: services.check_in(registration, g.campus),
                                _("Checked in %(name)s."))


@bp.post("/registrations/<int:registration_id>/cancel")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def cancel_registration(registration_id: int):
    return _registration_action(registration_id, services.cancel_registration,
                                _("Cancelled the registration of %(name)s."))


# ---- public pages ------------------------------------------------------------------------------


@public_bp.get("")
@on_sites(SiteKind.CAMPUS)
@public
def upcoming():
    pagination = _page(services.public_events_query(), per_page=20)
    services.with_registered_counts(pagination.items)
    return render_template("events/public_index.html", pagination=pagination)


def _registration_form(event, values=None, errors=None, message=None) -> str:
    is_open = event.status is EventStatus.SCHEDULED and event.starts_at > utcnow()
    return render_template("events/register.html", event=event, values=values or {},
                           errors=errors or {}, message=message, is_open=is_open)


@public_bp.route("/<int:event_id>/register", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@public
@throttle_registrations
def register(event_id: int):
    event = services.get_event(event_id)
    if request.method == "GET":
        return _registration_form(event)
    registration_attempt()
    values = _form_values()
    try:
        services.register(event, EventRegistrationInputSchema().load(values, unknown=EXCLUDE))
    except ValidationError as error:
        return _registration_form(event, values, error.messages), 422
    except AppError as error:
        db.session.rollback()
        return _registration_form(services.get_event(event_id), values, error.fields,
                                  error.message), error.status
    flash(_("You are registered for %(title)s.", title=event.title), "success")
    return redirect(url_for("public_events.registered", event_id=event.id))


@public_bp.get("/<int:event_id>/registered")
@on_sites(SiteKind.CAMPUS)
@public
def registered(event_id: int):
    return render_template("events/registered.html", event=services.get_event(event_id))
