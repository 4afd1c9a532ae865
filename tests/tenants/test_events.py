"""Events through the JSON API and the services: capacity, registrations, check-in on the day.

The base event of each campus starts 2027-02-01 18:00 UTC, capacity 40, one registration.
Events that must be "today" are placed relative to `utcnow()`. Helpers are shared with
`test_events_pages.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.database import utcnow
from core.errors import Conflict
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.events import services
from tenants.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, manager, staff
from tests.tenants.test_coworking import (
    bearer,
    error_of,
    foreign,
    load,
    measure,
    own,
    rows,
    sql_engine,
)

# --- shared helpers -------------------------------------------------------------------------


def add_event(app, base, *, starts_at: datetime | None = None, hours: float = 2,
              capacity: int = 40, price_minor: int = 0, title: str = "Added event",
              status: EventStatus = EventStatus.SCHEDULED, campus: str = "molenbeek") -> int:
    starts_at = starts_at or utcnow() + timedelta(days=10)
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        event = Event(title=title, starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=hours), capacity=capacity,
                      price_minor=price_minor, currency="EUR", status=status)
        db.session.add(event)
        db.session.commit()
        return event.id


def add_registration(app, base, event_id: int, email: str, *, name: str = "Guest",
                     status: RegistrationStatus = RegistrationStatus.REGISTERED,
                     checked_in: bool = False, campus: str = "molenbeek") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        registration = EventRegistration(event_id=event_id, full_name=name, email=email,
                                         status=status,
                                         checked_in_at=utcnow() if checked_in else None)
        db.session.add(registration)
        db.session.commit()
        return registration.id


def registrations(app, base, event_id: int | None = None, campus: str = "molenbeek",
                  status: RegistrationStatus | None = None) -> int:
    where = []
    if event_id is not None:
        where.append(EventRegistration.event_id == event_id)
    if status is not None:
        where.append(EventRegistration.status == status)
    return rows(app, base, EventRegistration, *where, campus=campus)


def event_now(hours_ago: float = 1, hours: float = 2, **kwargs) -> dict:
    """Keyword arguments of `add_event` for an event running right now."""
    return {"starts_at": utcnow() - timedelta(hours=hours_ago), "hours": hours, **kwargs}


def register_json(site, event_id: int, email: str, name: str = "Public Person", **kwargs):
    return site.post(f"/api/v1/events/{event_id}/registrations",
                     json={"full_name": name, "email": email}, **kwargs)


EVENT = {"title": "Cyber night", "description": "Talks and pizza",
         "starts_at": "2027-03-10T19:00:00+01:00", "ends_at": "2027-03-10T22:00:00+01:00",
         "capacity": 25, "price_minor": 500}


# --- events ---------------------------------------------------------------------------------


def test_manager_creates_an_event_stored_in_utc_in_the_campus_currency(app, site, base):
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/events", headers=bearer(molenbeek, manager("molenbeek")),
                              json=EVENT)
    assert response.status_code == 201
    body = response.get_json()
    assert body["starts_at"].startswith("2027-03-10T18:00:00")
    assert (body["currency"], body["price_minor"], body["status"]) == ("EUR", 500, "scheduled")
    assert (body["registered_count"], body["places_left"]) == (0, 25)
    event = load(app, base, Event, body["id"])
    assert event.starts_at == datetime(2027, 3, 10, 18, tzinfo=UTC)


def test_price_zero_is_a_free_event_by_default(site, base):
    molenbeek = site("molenbeek")
    payload = {k: v for k, v in EVENT.items() if k != "price_minor"}
    response = molenbeek.post("/api/v1/events", headers=bearer(molenbeek, HQ), json=payload)
    assert response.status_code == 201 and response.get_json()["price_minor"] == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"title": "  "}, "title"),
    ({"starts_at": "2027-03-10T19:00:00"}, "starts_at"),  # no timezone
    ({"ends_at": "2027-03-10T19:00:00+01:00"}, "ends_at"),  # not after the start
    ({"ends_at": "2027-03-09T22:00:00+01:00"}, "ends_at"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -3}, "capacity"),
    ({"capacity": "40"}, "capacity"),
    ({"price_minor": -1}, "price_minor"),
    ({"price_minor": 4.5}, "price_minor"),
    ({"currency": "USD"}, "currency"),
])
def test_bad_event_input_is_422_with_the_field_and_stores_nothing(app, site, base, change,
                                                                   field):
    molenbeek = site("molenbeek")
    before = rows(app, base, Event)
    response = molenbeek.post("/api/v1/events", headers=bearer(molenbeek, manager("molenbeek")),
                              json={**EVENT, **change})
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert rows(app, base, Event) == before


def test_staff_reads_events_but_does_not_organise_them(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    event_id = own(base, "event")
    assert molenbeek.get("/api/v1/events", headers=auth).status_code == 200
    assert molenbeek.get(f"/api/v1/events/{event_id}", headers=auth).status_code == 200
    before = rows(app, base, Event)
    assert molenbeek.post("/api/v1/events", headers=auth, json=EVENT).status_code == 403
    assert molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth,
                           json={"price_minor": 100}).status_code == 403
    assert molenbeek.post(f"/api/v1/events/{event_id}/cancel", headers=auth).status_code == 403
    assert rows(app, base, Event) == before
    event = load(app, base, Event, event_id)
    assert event.price_minor == 0 and event.status is EventStatus.SCHEDULED


def test_capacity_cannot_go_below_the_places_taken(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    event_id = add_event(app, base, capacity=5)
    for i in range(3):
        add_registration(app, base, event_id, f"p{i}@example.org")
    add_registration(app, base, event_id, "gone@example.org",
                     status=RegistrationStatus.CANCELLED)
    lower = molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth,
                            json={"capacity": 2, "title": "Renamed"})
    assert lower.status_code == 409
    assert error_of(lower)["code"] == "capacity_below_registrations"
    assert "3 places are already taken" in error_of(lower)["message"]
    assert "capacity" in error_of(lower)["fields"]
    event = load(app, base, Event, event_id)
    assert (event.capacity, event.title) == (5, "Added event")
    exact = molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth, json={"capacity": 3})
    assert exact.status_code == 200
    assert (exact.get_json()["capacity"], exact.get_json()["places_left"]) == (3, 0)
    zero = molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth, json={"capacity": 0})
    assert zero.status_code == 422


def test_patch_keeps_times_in_order(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    event_id = own(base, "event")  # 2027-02-01 18:00-20:00 UTC
    late = molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth,
                           json={"starts_at": "2027-02-01T21:00:00+00:00"})
    assert late.status_code == 422 and "ends_at" in error_of(late)["fields"]
    moved = molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth,
                            json={"starts_at": "2027-02-01T19:00:00+01:00",
                                  "ends_at": "2027-02-01T23:00:00+01:00"})
    assert moved.status_code == 200
    assert load(app, base, Event, event_id).starts_at == datetime(2027, 2, 1, 18, tzinfo=UTC)
    assert load(app, base, Event, event_id).ends_at == datetime(2027, 2, 1, 22, tzinfo=UTC)


def test_cancel_an_event_once_and_not_once_it_is_over(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    event_id = own(base, "event")
    cancelled = molenbeek.post(f"/api/v1/events/{event_id}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = molenbeek.post(f"/api/v1/events/{event_id}/cancel", headers=auth)
    assert again.status_code == 409 and error_of(again)["code"] == "invalid_transition"
    edit = molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth, json={"capacity": 50})
    assert edit.status_code == 409 and error_of(edit)["code"] == "not_open"
    assert load(app, base, Event, event_id).capacity == 40
    past = add_event(app, base, starts_at=utcnow() - timedelta(days=2))
    over = molenbeek.post(f"/api/v1/events/{past}/cancel", headers=auth)
    assert over.status_code == 409 and "over" in error_of(over)["message"]
    assert load(app, base, Event, past).status is EventStatus.SCHEDULED


def test_another_campus_event_is_404_and_unchanged(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    event_id = foreign(base, "event")
    assert molenbeek.get(f"/api/v1/events/{event_id}", headers=auth).status_code == 404
    assert molenbeek.patch(f"/api/v1/events/{event_id}", headers=auth,
                           json={"capacity": 1}).status_code == 404
    assert molenbeek.post(f"/api/v1/events/{event_id}/cancel", headers=auth).status_code == 404
    assert molenbeek.get(f"/api/v1/events/{event_id}/registrations",
                         headers=auth).status_code == 404
    event = load(app, base, Event, event_id, campus="antwerp")
    assert (event.capacity, event.status) == (40, EventStatus.SCHEDULED)


def test_event_list_puts_upcoming_first_and_filters(app, site, base):
    past = add_event(app, base, starts_at=utcnow() - timedelta(days=30), title="Past talk")
    soon = add_event(app, base, starts_at=utcnow() + timedelta(days=1), title="Soon talk")
    running = add_event(app, base, **event_now(title="Running talk"))
    add_event(app, base, starts_at=datetime(2027, 2, 1, 23, 30, tzinfo=UTC),
              title="Late night", status=EventStatus.CANCELLED)
    add_registration(app, base, soon, "a@example.org")
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    listed = molenbeek.get("/api/v1/events", headers=auth).get_json()
    titles = [e["title"] for e in listed["items"]]
    base_title = "Molenbeek tech meetup"
    assert titles == ["Running talk", "Soon talk", base_title, "Late night", "Past talk"]
    counts = {e["id"]: e["registered_count"] for e in listed["items"]}
    assert (counts[soon], counts[own(base, "event")], counts[past], counts[running]) == \
        (1, 1, 0, 0)
    assert "Antwerp tech meetup" not in str(listed)
    cancelled = molenbeek.get("/api/v1/events?status=cancelled", headers=auth).get_json()
    assert [e["title"] for e in cancelled["items"]] == ["Late night"]
    # 2027-02-01 23:30 UTC is 2027-02-02 at the campus (Brussels): days are the campus's.
    first = molenbeek.get("/api/v1/events?from=2027-02-01&to=2027-02-01", headers=auth)
    assert [e["title"] for e in first.get_json()["items"]] == [base_title]
    second = molenbeek.get("/api/v1/events?from=2027-02-02", headers=auth).get_json()
    assert [e["title"] for e in second["items"]] == ["Late night"]
    backwards = molenbeek.get("/api/v1/events?from=2027-02-02&to=2027-02-01", headers=auth)
    assert backwards.status_code == 422 and "to" in error_of(backwards)["fields"]


def test_event_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    engine = sql_engine(app)

    def call():
        return molenbeek.get("/api/v1/events?per_page=50", headers=auth)

    before = measure(engine, call)
    for i in range(5):
        event_id = add_event(app, base, title=f"Counted {i}")
        add_registration(app, base, event_id, f"c{i}@example.org")
    assert call().get_json()["total"] == 6
    assert measure(engine, call) == before


# --- public registration --------------------------------------------------------------------


def test_anyone_registers_without_signing_in_and_gets_no_personal_data_back(app, site, base):
    molenbeek = site("molenbeek")
    event_id = own(base, "event")
    response = register_json(molenbeek, event_id, " Nadia@Example.ORG ", "Nadia  Ouali")
    assert response.status_code == 201
    assert set(response.get_json()) == {"id", "status"}
    assert response.get_json()["status"] == "registered"
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        stored = db.session.get(EventRegistration,
                                (base.campus_ids["molenbeek"], response.get_json()["id"]))
        assert (stored.email, stored.full_name) == ("nadia@example.org", "Nadia Ouali")


@pytest.mark.parametrize(("payload", "field"), [
    ({"full_name": "No Mail"}, "email"),
    ({"full_name": "Bad Mail", "email": "not-an-email"}, "email"),
    ({"full_name": "   ", "email": "blank@example.org"}, "full_name"),
    ({"email": "noname@example.org"}, "full_name"),
])
def test_bad_registration_is_422_and_stores_nothing(app, site, base, payload, field):
    molenbeek = site("molenbeek")
    event_id = own(base, "event")
    response = molenbeek.post(f"/api/v1/events/{event_id}/registrations", json=payload)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert registrations(app, base, event_id) == 1


def test_same_email_twice_is_already_registered(app, site, base):
    molenbeek = site("molenbeek")
    event_id = own(base, "event")
    response = register_json(molenbeek, event_id, "GUEST@molenbeek.example")
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_registered"
    assert "email" in error_of(response)["fields"]
    assert registrations(app, base, event_id) == 1


def test_a_full_event_refuses_with_event_full_and_stores_nothing(app, site, base):
    molenbeek = site("molenbeek")
    event_id = add_event(app, base, capacity=2)
    assert register_json(molenbeek, event_id, "one@example.org").status_code == 201
    assert register_json(molenbeek, event_id, "two@example.org").status_code == 201
    full = register_json(molenbeek, event_id, "three@example.org")
    assert full.status_code == 409
    assert error_of(full)["code"] == "event_full"
    assert registrations(app, base, event_id) == 2
    shown = molenbeek.get(f"/api/v1/events/{event_id}",
                          headers=bearer(molenbeek, staff("molenbeek"))).get_json()
    assert (shown["registered_count"], shown["places_left"]) == (2, 0)


def test_cancelling_a_registration_frees_the_place_and_the_person_may_come_back(app, site,
                                                                                base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    event_id = add_event(app, base, capacity=1)
    first = register_json(molenbeek, event_id, "first@example.org").get_json()["id"]
    assert register_json(molenbeek, event_id, "second@example.org").status_code == 409
    cancelled = molenbeek.post(f"/api/v1/registrations/{first}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = molenbeek.post(f"/api/v1/registrations/{first}/cancel", headers=auth)
    assert again.status_code == 409 and error_of(again)["code"] == "invalid_transition"
    assert register_json(molenbeek, event_id, "second@example.org").status_code == 201
    assert register_json(molenbeek, event_id, "first@example.org").status_code == 409
    molenbeek.post(f"/api/v1/registrations/{first}/cancel", headers=auth)
    second = registrations(app, base, event_id, status=RegistrationStatus.REGISTERED)
    assert second == 1


def test_someone_who_cancelled_registers_again_on_the_same_row(app, site, base):
    molenbeek = site("molenbeek")
    event_id = add_event(app, base)
    old = add_registration(app, base, event_id, "back@example.org",
                           status=RegistrationStatus.CANCELLED)
    response = register_json(molenbeek, event_id, "back@example.org", "Back Again")
    assert response.status_code == 201 and response.get_json()["id"] == old
    assert load(app, base, EventRegistration, old).status is RegistrationStatus.REGISTERED
    assert registrations(app, base, event_id) == 1


@pytest.mark.parametrize("when", ["cancelled", "started", "past"])
def test_registration_is_closed_for_cancelled_or_started_events(app, site, base, when):
    starts_at = {"cancelled": utcnow() + timedelta(days=3),
                 "started": utcnow() - timedelta(minutes=5),
                 "past": utcnow() - timedelta(days=3)}[when]
    status = EventStatus.CANCELLED if when == "cancelled" else EventStatus.SCHEDULED
    event_id = add_event(app, base, starts_at=starts_at, status=status)
    response = register_json(site("molenbeek"), event_id, "late@example.org")
    assert response.status_code == 409
    assert error_of(response)["code"] == "not_open"
    assert registrations(app, base, event_id) == 0


def test_another_campus_event_cannot_be_registered_for(app, site, base):
    molenbeek = site("molenbeek")
    event_id = foreign(base, "event")
    response = register_json(molenbeek, event_id, "cross@example.org")
    assert response.status_code == 404
    assert registrations(app, base, campus="molenbeek") == 1
    assert registrations(app, base, campus="antwerp") == 1


def test_public_registration_is_throttled_per_address(app, site, base):
    molenbeek = site("molenbeek")
    event_id = own(base, "event")
    limit = int(app.config["APPLICATION_RATE_LIMIT"].split()[0])
    for _ in range(3):  # requests for another campus's event cost nothing
        assert register_json(molenbeek, foreign(base, "event"), "x@example.org"
                             ).status_code == 404
    for i in range(limit - 1):
        assert register_json(molenbeek, event_id, f"t{i}@example.org").status_code == 201
    # The form and the API share one budget.
    form = molenbeek.post(f"/events/{event_id}/register",
                          data={"full_name": "Form", "email": "form@example.org"})
    assert form.status_code == 302
    refused = register_json(molenbeek, event_id, "over@example.org")
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "too_many_requests"
    assert registrations(app, base, event_id) == 1 + limit


# --- registrations, check-in ----------------------------------------------------------------


def test_registration_list_filters_searches_and_is_staff_only(app, site, base):
    event_id = add_event(app, base)
    for i in range(4):
        add_registration(app, base, event_id, f"r{i}@example.org", name=f"Reg {i}",
                         status=RegistrationStatus.CANCELLED if i == 0
                         else RegistrationStatus.REGISTERED, checked_in=i == 1)
    molenbeek = site("molenbeek")
    assert molenbeek.get(f"/api/v1/events/{event_id}/registrations").status_code == 401
    auth = bearer(molenbeek, staff("molenbeek"))
    url = f"/api/v1/events/{event_id}/registrations"
    everyone = molenbeek.get(url, headers=auth).get_json()
    assert [r["full_name"] for r in everyone["items"]] == ["Reg 0", "Reg 1", "Reg 2", "Reg 3"]
    base_list = molenbeek.get(f"/api/v1/events/{own(base, 'event')}/registrations",
                              headers=auth).get_data(as_text=True)
    assert MARKERS["molenbeek"] in base_list and MARKERS["antwerp"] not in base_list
    registered = molenbeek.get(f"{url}?status=registered", headers=auth).get_json()
    assert registered["total"] == 3
    checked = molenbeek.get(f"{url}?checked_in=true", headers=auth).get_json()
    assert [r["full_name"] for r in checked["items"]] == ["Reg 1"]
    found = molenbeek.get(f"{url}?q=r2@", headers=auth).get_json()
    assert [r["email"] for r in found["items"]] == ["r2@example.org"]
    assert molenbeek.get(f"{url}?status=maybe", headers=auth).status_code == 422


def test_registration_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    event_id = own(base, "event")
    engine = sql_engine(app)

    def call():
        return molenbeek.get(f"/api/v1/events/{event_id}/registrations?per_page=50",
                             headers=auth)

    before = measure(engine, call)
    for i in range(5):
        add_registration(app, base, event_id, f"more{i}@example.org")
    assert call().get_json()["total"] == 6
    assert measure(engine, call) == before


def test_staff_checks_someone_in_on_the_day_once(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    event_id = add_event(app, base, **event_now())
    registration_id = add_registration(app, base, event_id, "here@example.org")
    checked = molenbeek.post(f"/api/v1/registrations/{registration_id}/check-in", headers=auth)
    assert checked.status_code == 200
    assert checked.get_json()["checked_in_at"] is not None
    twice = molenbeek.post(f"/api/v1/registrations/{registration_id}/check-in", headers=auth)
    assert twice.status_code == 409
    assert error_of(twice)["code"] == "already_checked_in"
    cancel = molenbeek.post(f"/api/v1/registrations/{registration_id}/cancel", headers=auth)
    assert cancel.status_code == 409 and error_of(cancel)["code"] == "invalid_transition"
    stored = load(app, base, EventRegistration, registration_id)
    assert stored.status is RegistrationStatus.REGISTERED and stored.checked_in_at is not None


@pytest.mark.parametrize(("event", "registration_status", "code"), [
    ({"starts_at": "in 3 days"}, RegistrationStatus.REGISTERED, "check_in_closed"),
    ({"starts_at": "ended an hour ago"}, RegistrationStatus.REGISTERED, "check_in_closed"),
    ({"status": EventStatus.CANCELLED}, RegistrationStatus.REGISTERED, "not_open"),
    ({}, RegistrationStatus.CANCELLED, "registration_cancelled"),
])
def test_check_in_is_refused_when_it_does_not_apply(app, site, base, event, registration_status,
                                                    code):
    starts_at = {"in 3 days": utcnow() + timedelta(days=3),
                 "ended an hour ago": utcnow() - timedelta(hours=3)}.get(
        event.get("starts_at"), utcnow() - timedelta(hours=1))
    event_id = add_event(app, base, starts_at=starts_at, hours=2,
                         status=event.get("status", EventStatus.SCHEDULED))
    registration_id = add_registration(app, base, event_id, "who@example.org",
                                       status=registration_status)
    molenbeek = site("molenbeek")
    response = molenbeek.post(f"/api/v1/registrations/{registration_id}/check-in",
                              headers=bearer(molenbeek, staff("molenbeek")))
    assert response.status_code == 409
    assert error_of(response)["code"] == code
    assert load(app, base, EventRegistration, registration_id).checked_in_at is None


def test_check_in_opens_at_midnight_at_the_campus_not_in_utc(app, base):
    """An event at 19:00 in Brussels (18:00 UTC): its day starts at 23:00 UTC the day before."""
    starts_at = datetime(2027, 3, 10, 18, tzinfo=UTC)
    event_id = add_event(app, base, starts_at=starts_at, hours=3)
    registration_id = add_registration(app, base, event_id, "early@example.org")
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        campus = db.session.get(Campus, base.campus_ids["molenbeek"])
        registration = services.get_registration(registration_id)
        with pytest.raises(Conflict) as refused:
            services.check_in(registration, campus, now=datetime(2027, 3, 9, 22, 59, tzinfo=UTC))
        assert refused.value.code == "check_in_closed"
        assert "2027-03-10" in refused.value.message
        services.check_in(registration, campus, now=datetime(2027, 3, 9, 23, 0, tzinfo=UTC))
        assert registration.checked_in_at == datetime(2027, 3, 9, 23, 0, tzinfo=UTC)
        db.session.rollback()


def test_check_in_closes_when_the_event_ends(app, base):
    starts_at = datetime(2027, 3, 10, 18, tzinfo=UTC)
    event_id = add_event(app, base, starts_at=starts_at, hours=3)
    registration_id = add_registration(app, base, event_id, "late@example.org")
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        campus = db.session.get(Campus, base.campus_ids["molenbeek"])
        registration = services.get_registration(registration_id)
        with pytest.raises(Conflict) as refused:
            services.check_in(registration, campus, now=datetime(2027, 3, 10, 21, 1, tzinfo=UTC))
        assert "over" in refused.value.message
        services.check_in(registration, campus, now=datetime(2027, 3, 10, 21, 0, tzinfo=UTC))
        db.session.rollback()


def test_another_campus_registration_cannot_be_checked_in_or_cancelled(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    registration_id = foreign(base, "registration")
    for action in ("check-in", "cancel"):
        response = molenbeek.post(f"/api/v1/registrations/{registration_id}/{action}",
                                  headers=auth)
        assert response.status_code == 404
    stored = load(app, base, EventRegistration, registration_id, campus="antwerp")
    assert stored.status is RegistrationStatus.REGISTERED and stored.checked_in_at is None


def test_event_and_registration_writes_need_a_signed_in_campus_person(site, base):
    molenbeek = site("molenbeek")
    registration_id = own(base, "registration")
    assert molenbeek.post(f"/api/v1/registrations/{registration_id}/check-in").status_code == 401
    assert molenbeek.post(f"/api/v1/registrations/{registration_id}/cancel").status_code == 401
    assert molenbeek.post("/api/v1/events", json=EVENT).status_code == 401


def test_registration_counts_are_per_event(app, base):
    other = add_event(app, base)
    add_registration(app, base, other, "x@example.org")
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        events = db.session.scalars(select(Event).order_by(Event.id)).all()
        counted = services.with_registered_counts(events)
        assert [e.registered_count for e in counted] == [1, 1]
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 2
