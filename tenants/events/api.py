"""`/api/v1/events`, `/api/v1/events/<id>/registrations`, `/api/v1/registrations/<id>/…`.

Managers and HQ create, change and cancel events (they carry a ticket price); staff read them
and handle registrations and check-in. Registering for an event is public and throttled.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g

from core.api import MAX_PER_PAGE, load_args, load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.extensions import client_address, db, limiter
from core.openapi import documented
from core.sites import SiteKind, on_sites, public
from tenants.events import services
from tenants.events.schemas import (
    EventInputSchema,
    EventListArgsSchema,
    EventRegistrationInputSchema,
    EventRegistrationListArgsSchema,
    EventRegistrationReceiptSchema,
    EventRegistrationSchema,
    EventSchema,
)

bp = Blueprint("events_api", __name__, url_prefix="/api/v1")

READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
ORGANISERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)
ACTION_ERRORS = (401, 403, 404, 409, 422)


def _registration_limit() -> str:
    return current_app.config["APPLICATION_RATE_LIMIT"]


def _attempted(_response) -> bool:
    return bool(g.get("event_registration_attempted"))


def registration_attempt() -> None:
    """Count this request against the registration limit (called once the event is found)."""
    g.event_registration_attempted = True


# One budget per address for the form and the API. Only attempts on an event of this campus
# count: a request for a foreign or unknown event is a 404 that costs nothing.
throttle_registrations = limiter.shared_limit(
    _registration_limit, scope="event-registration", key_func=client_address,
    methods=["POST"], deduct_when=_attempted)


def page_of_events(statement, page: int, per_page: int) -> dict:
    """`{"items", "page", "per_page", "total"}` with the places taken: two queries per page."""
    result = db.paginate(statement, page=page, per_page=per_page, error_out=False,
                         max_per_page=MAX_PER_PAGE)
    return {"items": EventSchema().dump(services.with_registered_counts(result.items), many=True),
            "page": result.page, "per_page": result.per_page, "total": result.total}


@bp.get("/events")
@documented("Events of this campus, those not over yet first (filters: status, from, to, q)",
            query=EventListArgsSchema, response=EventSchema, paginated=True,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_events():
    args = load_args(EventListArgsSchema())
    statement = services.events_query(args["status"], args["starts_from"], args["starts_to"],
                                      args["q"], ZoneInfo(g.campus.timezone))
    return page_of_events(statement, args["page"], args["per_page"])


@bp.post("/events")
@documented("Create an event (ticket price in the campus currency; 0 is free)",
            body=EventInputSchema, response=EventSchema, status=201, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*ORGANISERS)
def create_event():
    event = services.create_event(load_json(EventInputSchema()), g.campus)
    return EventSchema().dump(event), 201


@bp.get("/events/<int:event_id>")
@documented("One event of this campus", response=EventSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show_event(event_id: int):
    return EventSchema().dump(services.get_event(event_id))


@bp.patch("/events/<int:event_id>")
@documented("Change a scheduled event (capacity not below the places taken)",
            body=EventInputSchema, response=EventSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*ORGANISERS)
def update_event(event_id: int):
    event = services.get_event(event_id)
    data = load_json(EventInputSchema(), partial=True)
    return EventSchema().dump(services.update_event(event, data))


@bp.post("/events/<int:event_id>/cancel")
@documented("Cancel a scheduled event", response=EventSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*ORGANISERS)
def cancel_event(event_id: int):
    return EventSchema().dump(services.cancel_event(services.get_event(event_id)))


@bp.get("/events/<int:event_id>/registrations")
@documented("Registrations of an event (filters: status, checked_in, q on name or e-mail)",
            query=EventRegistrationListArgsSchema, response=EventRegistrationSchema,
            paginated=True)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_registrations(event_id: int):
    event = services.get_event(event_id)
    args = load_args(EventRegistrationListArgsSchema())
    statement = services.registrations_query(event.id, args["status"], args["checked_in"],
                                             args["q"])
    result = db.paginate(statement, page=args["page"], per_page=args["per_page"],
                         error_out=False, max_per_page=MAX_PER_PAGE)
    return {"items": EventRegistrationSchema().dump(result.items, many=True),
            "page": result.page, "per_page": result.per_page, "total": result.total}


@bp.post("/events/<int:event_id>/registrations")
@documented("Register for an upcoming event (public, throttled per address)",
            body=EventRegistrationInputSchema, response=EventRegistrationReceiptSchema,
            status=201, errors=(404, 409, 422, 429))
@on_sites(SiteKind.CAMPUS)
@public
@throttle_registrations
def register(event_id: int):
    event = services.get_event(event_id)
    registration_attempt()
    registration = services.register(event, load_json(EventRegistrationInputSchema()))
    return EventRegistrationReceiptSchema().dump(registration), 201


@bp.post("/registrations/<int:registration_id>/check-in")
@documented("Check someone in, on the day of the event", response=EventRegistrationSchema,
            errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def check_in(registration_id: int):
    registration = services.get_registration(registration_id)
    return EventRegistrationSchema().dump(services.check_in(registration, g.campus))


@bp.post("/registrations/<int:registration_id>/cancel")
@documented("Cancel a registration (frees the place)", response=EventRegistrationSchema,
            errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def cancel_registration(registration_id: int):
    registration = services.get_registration(registration_id)
    return EventRegistrationSchema().dump(services.cancel_registration(registration))
