"""Event rules: events of the bound campus, registrations within capacity, check-in on the day.

Times are stored in UTC; "the day" of an event is its day at the campus (its timezone). A
registration and a capacity change lock the event row first (PostgreSQL `FOR UPDATE`), so two
people cannot both take the last place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_, select

from core.database import like_pattern, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from tenants.scoping import bound_campus_id


def _scoped_get(model: type, row_id: int, *, lock: bool = False) -> Any:
    campus_id = bound_campus_id()
    if campus_id is None:
        return None
    if lock:  # FOR UPDATE also reloads the row, so the counts below see the latest state
        return db.session.get(model, (campus_id, row_id), with_for_update=True,
                              populate_existing=True)
    return db.session.get(model, (campus_id, row_id))


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of `day` at the campus, in UTC."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


# ---- events ------------------------------------------------------------------------------------


def events_query(status: EventStatus | None = None, starts_from: date | None = None,
                 starts_to: date | None = None, search: str = "", zone: ZoneInfo | None = None,
                 now: datetime | None = None) -> Select:
    """Events of the bound campus: those not over yet first (soonest first), then past ones
    (latest first). `starts_from`/`starts_to` are days at the campus (`zone`), inclusive."""
    now, zone = now or utcnow(), zone or ZoneInfo("UTC")
    upcoming = Event.ends_at >= now
    statement = select(Event).order_by(case((upcoming, 0), else_=1),
                                       case((upcoming, Event.starts_at)),
                                       Event.starts_at.desc(), Event.id)
    if status is not None:
        statement = statement.where(Event.status == status)
    if starts_from is not None:
        statement = statement.where(Event.starts_at >= day_start(starts_from, zone))
    if starts_to is not None:
        statement = statement.where(Event.starts_at < day_start(starts_to + timedelta(days=1),
                                                                zone))
    if search.strip():
        statement = statement.where(Event.title.ilike(like_pattern(search.strip()), escape="\\"))
    return statement


def public_events_query(now: datetime | None = None) -> Select:
    """Scheduled events of the bound campus open for registration (not started yet), soonest
    first."""
    return (select(Event)
            .where(Event.status == EventStatus.SCHEDULED, Event.starts_at > (now or utcnow()))
            .order_by(Event.starts_at, Event.id))


def with_registered_counts(events: Iterable[Event]) -> list[Event]:
    """Set `registered_count` on each event with one query for all of them (no N+1)."""
    events = list(events)
    ids = [event.id for event in events]
    counts: dict[int, int] = {}
    if ids:
        counts = dict(db.session.execute(
            select(EventRegistration.event_id, func.count())
            .where(EventRegistration.event_id.in_(ids),
                   EventRegistration.status == RegistrationStatus.REGISTERED)
            .group_by(EventRegistration.event_id)).all())
    for event in events:
        event.registered_count = counts.get(event.id, 0)
    return events


def get_event(event_id: int) -> Event:
    """The bound campus's event `event_id` with its `registered_count`; raises NotFound for any
    other one."""
    event = _scoped_get(Event, event_id)
    if event is None:
        raise NotFound(_("No such event."))
    return with_registered_counts([event])[0]


def _registered_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(EventRegistration)
        .where(EventRegistration.event_id == event_id,
               EventRegistration.status == RegistrationStatus.REGISTERED)) or 0


def create_event(data: dict[str, Any], campus: Campus) -> Event:
    """A scheduled event priced in the campus's currency (0 is free)."""
    event = Event(title=data["title"], description=data.get("description") or "",
                  starts_at=data["starts_at"], ends_at=data["ends_at"],
                  capacity=data["capacity"], price_minor=data.get("price_minor", 0),
                  currency=campus.currency, status=EventStatus.SCHEDULED)
    db.session.add(event)
    db.session.flush()
    event.registered_count = 0
    return event


def update_event(event: Event, data: dict[str, Any]) -> Event:
    """Change a scheduled event.

    Raises Conflict `not_open` for a cancelled event, Conflict `capacity_below_registrations`
    when the capacity would fall below the places already taken, InvalidInput when it would end
    before it starts.
    """
    if event.status is EventStatus.CANCELLED:
        raise Conflict(_("This event was cancelled; it can no longer be changed."),
                       code="not_open")
    starts_at = data.get("starts_at", event.starts_at)
    ends_at = data.get("ends_at", event.ends_at)
    if ends_at <= starts_at:
        message = _("The event must end after it starts.")
        raise InvalidInput(message, {"ends_at": [message]})
    if "capacity" in data:
        _scoped_get(Event, event.id, lock=True)
        taken = _registered_count(event.id)
        if data["capacity"] < taken:
            message = _("%(count)d places are already taken; the capacity cannot be lower.",
                        count=taken)
            raise Conflict(message, {"capacity": [message]}, code="capacity_below_registrations")
    for field in ("title", "description", "starts_at", "ends_at", "capacity", "price_minor"):
        if field in data:
            setattr(event, field, data[field])
    db.session.flush()
    return with_registered_counts([event])[0]


def cancel_event(event: Event, now: datetime | None = None) -> Event:
    """scheduled → cancelled, until the event is over; raises Conflict `invalid_transition`."""
    if event.status is EventStatus.CANCELLED:
        raise Conflict(_("This event is already cancelled."), code="invalid_transition")
    if event.ends_at <= (now or utcnow()):
        raise Conflict(_("This event is over; it can no longer be cancelled."),
                       code="invalid_transition")
    event.status = EventStatus.CANCELLED
    db.session.flush()
    return event


# ---- registrations -----------------------------------------------------------------------------


def register(event: Event, data: dict[str, Any], now: datetime | None = None
             ) -> EventRegistration:
    """Register someone (`full_name`, `email`) for a scheduled event that has not started.

    Raises Conflict `not_open` (cancelled or started), `already_registered` (that e-mail holds a
    place), `event_full` (no place left); nothing is stored then. Someone who cancelled may
    register again: their registration comes back.
    """
    now = now or utcnow()
    event = _scoped_get(Event, event.id, lock=True)
    if event.status is EventStatus.CANCELLED:
        raise Conflict(_("This event was cancelled; registration is closed."), code="not_open")
    if event.starts_at <= now:
        raise Conflict(_("This event has started; registration is closed."), code="not_open")
    existing = db.session.scalar(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.email == data["email"]))
    if existing is not None and existing.status is RegistrationStatus.REGISTERED:
        raise Conflict(_("This e-mail is already registered for this event."),
                       {"email": [_("Already registered for this event.")]},
                       code="already_registered")
    if _registered_count(event.id) >= event.capacity:
        raise Conflict(_("This event is full."), code="event_full")
    registration = existing or EventRegistration(event_id=event.id, email=data["email"])
    registration.full_name = data["full_name"]
    registration.status = RegistrationStatus.REGISTERED
    registration.registered_at = now
    registration.checked_in_at = None
    db.session.add(registration)
    db.session.flush()
    return registration


def registrations_query(event_id: int, status: RegistrationStatus | None = None,
                        checked_in: bool | None = None, search: str = "") -> Select:
    """Registrations of one event of the bound campus, by name."""
    statement = (select(EventRegistration).where(EventRegistration.event_id == event_id)
                 .order_by(EventRegistration.full_name, EventRegistration.id))
    if status is not None:
        statement = statement.where(EventRegistration.status == status)
    if checked_in is not None:
        column = EventRegistration.checked_in_at
        statement = statement.where(column.is_not(None) if checked_in else column.is_(None))
    term = search.strip()
    if term:
        pattern = like_pattern(term)
        statement = statement.where(or_(EventRegistration.full_name.ilike(pattern, escape="\\"),
                                        EventRegistration.email.ilike(pattern, escape="\\")))
    return statement


def get_registration(registration_id: int) -> EventRegistration:
    """The bound campus's registration `registration_id`; raises NotFound for any other one."""
    registration = _scoped_get(EventRegistration, registration_id)
    if registration is None:
        raise NotFound(_("No such registration."))
    return registration


def cancel_registration(registration: EventRegistration) -> EventRegistration:
    """registered → cancelled, which frees the place; raises Conflict `invalid_transition` when
    already cancelled or once the person has checked in."""
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict(_("This registration is already cancelled."), code="invalid_transition")
    if registration.checked_in_at is not None:
        raise Conflict(_("This person has already checked in; the registration stays."),
                       code="invalid_transition")
    registration.status = RegistrationStatus.CANCELLED
    db.session.flush()
    return registration


def check_in(registration: EventRegistration, campus: Campus,
             now: datetime | None = None) -> EventRegistration:
    """Mark the person as present: from the start of the event's day at the campus until the
    event ends.

    Raises Conflict `registration_cancelled`, `not_open` (cancelled event), `already_checked_in`
    or `check_in_closed` (not the event's day yet, or over).
    """
    now = now or utcnow()
    event = registration.event
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict(_("This registration was cancelled; register again to check in."),
                       code="registration_cancelled")
    if event.status is EventStatus.CANCELLED:
        raise Conflict(_("This event was cancelled."), code="not_open")
    if registration.checked_in_at is not None:
        raise Conflict(_("Already checked in."), code="already_checked_in")
    zone = ZoneInfo(campus.timezone)
    event_day = event.starts_at.astimezone(zone).date()
    if now < day_start(event_day, zone):
        raise Conflict(_("Check-in opens on the day of the event (%(day)s).",
                         day=event_day.isoformat()), code="check_in_closed")
    if now > event.ends_at:
        raise Conflict(_("This event is over; check-in is closed."), code="check_in_closed")
    registration.checked_in_at = now
    db.session.flush()
    return registration
