"""Event pages: the campus's list, form and event page with check-in; the public pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.database import utcnow
from core.extensions import db
from tenants.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, manager, staff
from tests.tenants.test_coworking import foreign, load, own, rows, sql_engine
from tests.tenants.test_coworking_pages import page_queries, signed_in
from tests.tenants.test_events import add_event, add_registration, event_now, registrations

FORM = {"title": "Cyber night", "description": "", "starts_on": "2027-03-10",
        "starts_time": "19:00", "ends_on": "", "ends_time": "22:00", "capacity": "25",
        "price": "5"}


# --- the campus's pages ---------------------------------------------------------------------


def test_manager_creates_an_event_in_local_time_stored_in_utc(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    assert molenbeek.get("/manage/events/new").status_code == 200
    response = molenbeek.post("/manage/events/new", data=FORM)
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        event = db.session.scalar(select(Event).where(Event.title == "Cyber night"))
    assert event.starts_at == datetime(2027, 3, 10, 18, tzinfo=UTC)  # Brussels is UTC+1
    assert event.ends_at == datetime(2027, 3, 10, 21, tzinfo=UTC)
    assert (event.capacity, event.price_minor, event.currency) == (25, 500, "EUR")
    edit = molenbeek.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="19:00"' in edit and 'value="22:00"' in edit


def test_summer_time_is_applied_to_local_times(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post("/manage/events/new",
                              data={**FORM, "title": "Summer", "starts_on": "2027-07-01"})
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        event = db.session.scalar(select(Event).where(Event.title == "Summer"))
    assert event.starts_at == datetime(2027, 7, 1, 17, tzinfo=UTC)  # UTC+2 in summer


def test_bad_event_form_marks_fields_keeps_input_and_stores_nothing(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    before = rows(app, base, Event)
    response = molenbeek.post("/manage/events/new",
                              data={**FORM, "title": "Kept title", "ends_time": "18:00",
                                    "capacity": "0", "price": "cheap"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("ends_time", "capacity", "price"):
        assert f'aria-describedby="{field}-error' in page, field
    assert 'value="Kept title"' in page
    overnight = molenbeek.post("/manage/events/new",
                               data={**FORM, "title": "Overnight", "ends_on": "2027-03-11",
                                     "ends_time": "02:00"})
    assert overnight.status_code == 302  # ends the next day: fine
    assert rows(app, base, Event) == before + 1


def test_lowering_capacity_below_registrations_is_refused_on_the_form(app, site, base):
    event_id = add_event(app, base, capacity=3)
    for i in range(2):
        add_registration(app, base, event_id, f"p{i}@example.org")
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.post(f"/manage/events/{event_id}/edit",
                              data={**FORM, "capacity": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "2 places are already taken" in page and 'id="capacity-error"' in page
    assert load(app, base, Event, event_id).capacity == 3


def test_staff_sees_events_and_checks_in_but_does_not_organise(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    event_id = own(base, "event")
    listing = molenbeek.get("/manage/events").get_data(as_text=True)
    assert "/manage/events/new" not in listing and "1 / 40" in listing
    assert molenbeek.get("/manage/events/new").status_code == 403
    assert molenbeek.post("/manage/events/new", data=FORM).status_code == 403
    assert molenbeek.get(f"/manage/events/{event_id}/edit").status_code == 403
    assert molenbeek.post(f"/manage/events/{event_id}/cancel").status_code == 403
    page = molenbeek.get(f"/manage/events/{event_id}").get_data(as_text=True)
    assert MARKERS["molenbeek"] in page and MARKERS["antwerp"] not in page  # the guest list
    registration_id = own(base, "registration")
    assert f"/manage/events/registrations/{registration_id}/check-in" in page
    assert f"/manage/events/{event_id}/edit" not in page
    assert load(app, base, Event, event_id).status is EventStatus.SCHEDULED


def test_event_list_shows_upcoming_first_with_places_taken(app, site, base):
    add_event(app, base, starts_at=utcnow() - timedelta(days=20), title="Old workshop")
    add_event(app, base, starts_at=utcnow() + timedelta(days=2), title="Next workshop",
              capacity=12)
    molenbeek = signed_in(site, manager("molenbeek"))
    page = molenbeek.get("/manage/events").get_data(as_text=True)
    assert page.index("Next workshop") < page.index("Molenbeek tech meetup") < \
        page.index("Old workshop")
    assert "0 / 12" in page and "1 / 40" in page and "Antwerp tech meetup" not in page
    filtered = molenbeek.get("/manage/events?q=workshop&status=scheduled").get_data(
        as_text=True)
    assert "Next workshop" in filtered and "Molenbeek tech meetup" not in filtered
    assert molenbeek.get("/manage/events?from=2027-02-02&to=2027-02-01").status_code == 422


def test_event_list_page_query_count_does_not_grow(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    engine = sql_engine(app)
    before = page_queries(engine, molenbeek, "/manage/events")
    for i in range(5):
        add_registration(app, base, add_event(app, base, title=f"Counted {i}"), f"c{i}@e.org")
    assert page_queries(engine, molenbeek, "/manage/events") == before


def test_event_page_query_count_does_not_grow_with_registrations(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    event_id = own(base, "event")
    engine = sql_engine(app)
    before = page_queries(engine, molenbeek, f"/manage/events/{event_id}")
    for i in range(5):
        add_registration(app, base, event_id, f"more{i}@example.org", name=f"More {i}")
    assert page_queries(engine, molenbeek, f"/manage/events/{event_id}") == before


def test_check_in_button_works_on_the_day_once(app, site, base):
    event_id = add_event(app, base, **event_now(title="Tonight"))
    registration_id = add_registration(app, base, event_id, "here@example.org", name="Here Now")
    molenbeek = signed_in(site, staff("molenbeek"))
    url = f"/manage/events/registrations/{registration_id}/check-in"
    assert molenbeek.post(url).status_code == 302
    page = molenbeek.get(f"/manage/events/{event_id}").get_data(as_text=True)
    assert "Checked in Here Now." in page and url not in page
    twice = molenbeek.post(url)
    assert twice.status_code == 409 and "Already checked in." in twice.get_data(as_text=True)


def test_check_in_before_the_day_is_refused_with_the_reason(app, site, base):
    registration_id = own(base, "registration")  # the base event is on 2027-02-01
    molenbeek = signed_in(site, staff("molenbeek"))
    response = molenbeek.post(f"/manage/events/registrations/{registration_id}/check-in")
    assert response.status_code == 409
    assert "Check-in opens on the day of the event (2027-02-01)." in \
        response.get_data(as_text=True)
    assert load(app, base, EventRegistration, registration_id).checked_in_at is None


def test_cancel_registration_button_frees_the_place(app, site, base):
    registration_id = own(base, "registration")
    event_id = own(base, "event")
    molenbeek = signed_in(site, staff("molenbeek"))
    assert molenbeek.post(f"/manage/events/registrations/{registration_id}/cancel"
                          ).status_code == 302
    assert "0 of 40 places taken" in molenbeek.get(f"/manage/events/{event_id}").get_data(
        as_text=True)
    again = molenbeek.post(f"/manage/events/registrations/{registration_id}/cancel")
    assert again.status_code == 409
    assert "already cancelled" in again.get_data(as_text=True)


def test_cancel_event_button_applies_once(app, site, base):
    event_id = own(base, "event")
    molenbeek = signed_in(site, manager("molenbeek"))
    assert molenbeek.post(f"/manage/events/{event_id}/cancel").status_code == 302
    assert load(app, base, Event, event_id).status is EventStatus.CANCELLED
    again = molenbeek.post(f"/manage/events/{event_id}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.get_data(as_text=True)


def test_another_campus_event_and_registration_pages_are_404(app, site, base):
    molenbeek = signed_in(site, HQ)
    event_id, registration_id = foreign(base, "event"), foreign(base, "registration")
    assert molenbeek.get(f"/manage/events/{event_id}").status_code == 404
    assert molenbeek.post(f"/manage/events/{event_id}/edit", data=FORM).status_code == 404
    assert molenbeek.post(f"/manage/events/registrations/{registration_id}/check-in"
                          ).status_code == 404
    assert load(app, base, EventRegistration, registration_id,
                campus="antwerp").checked_in_at is None


def test_nav_shows_events_to_staff(site, base):
    page = signed_in(site, staff("molenbeek")).get("/manage/events").get_data(as_text=True)
    assert 'href="/manage/events" aria-current="page"' in page


# --- public pages ---------------------------------------------------------------------------


def test_public_events_page_lists_upcoming_scheduled_events_only(app, site, base):
    add_event(app, base, title="Open evening", capacity=1, price_minor=750)
    full = add_event(app, base, title="Packed talk", capacity=1)
    add_registration(app, base, full, "taken@example.org")
    add_event(app, base, title="Called off", status=EventStatus.CANCELLED)
    add_event(app, base, title="Yesterday", starts_at=utcnow() - timedelta(days=1))
    add_event(app, base, title="Antwerp only", campus="antwerp")
    response = site("molenbeek").get("/events")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Open evening" in page and "Packed talk" in page and "Full" in page
    assert "7.50" in page.replace(",", ".") and "Free" in page
    assert "Molenbeek tech meetup" in page
    for absent in ("Called off", "Yesterday", "Antwerp only", "Antwerp tech meetup", "guest@",
                   *MARKERS.values()):
        assert absent not in page
    assert f"/events/{full}/register" not in page


def test_public_events_page_when_nothing_is_planned(app, site, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for event in db.session.scalars(select(Event)):
            event.status = EventStatus.CANCELLED
        db.session.commit()
    page = site("molenbeek").get("/events").get_data(as_text=True)
    assert "No event is planned right now." in page


def test_public_pages_exist_only_on_campus_sites(site, base):
    for subdomain in ("hq", "partners", None):
        assert site(subdomain).get("/events").status_code == 404


def test_visitor_registers_from_the_public_form(app, site, base):
    event_id = own(base, "event")
    visitor = site("molenbeek")
    form = visitor.get(f"/events/{event_id}/register")
    assert form.status_code == 200 and 'name="csrf_token"' in form.get_data(as_text=True)
    response = visitor.post(f"/events/{event_id}/register",
                            data={"full_name": "Walk In", "email": "walk.in@example.org"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event_id}/registered")
    confirmation = visitor.get(f"/events/{event_id}/registered").get_data(as_text=True)
    assert "You are registered" in confirmation and "walk.in@example.org" not in confirmation
    assert registrations(app, base, event_id) == 2


def test_public_form_errors_are_422_by_field_and_store_nothing(app, site, base):
    event_id = own(base, "event")
    visitor = site("molenbeek")
    response = visitor.post(f"/events/{event_id}/register",
                            data={"full_name": "Kept Visitor", "email": "nope"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-describedby="email-error"' in page and 'value="Kept Visitor"' in page
    twice = visitor.post(f"/events/{event_id}/register",
                         data={"full_name": "Guest", "email": "guest@molenbeek.example"})
    assert twice.status_code == 409
    assert "already registered" in twice.get_data(as_text=True)
    assert registrations(app, base, event_id) == 1


def test_public_form_says_when_full_or_closed(app, site, base):
    visitor = site("molenbeek")
    full = add_event(app, base, capacity=1)
    add_registration(app, base, full, "first@example.org")
    refused = visitor.post(f"/events/{full}/register",
                           data={"full_name": "Second", "email": "second@example.org"})
    assert refused.status_code == 409 and "This event is full." in refused.get_data(as_text=True)
    cancelled = add_event(app, base, status=EventStatus.CANCELLED)
    page = visitor.get(f"/events/{cancelled}/register").get_data(as_text=True)
    assert "Registration for this event is closed." in page and "<form" not in \
        page.split("<main", 1)[1].replace('<form method="post" action="/logout"', "")
    closed = visitor.post(f"/events/{cancelled}/register",
                          data={"full_name": "Late", "email": "late@example.org"})
    assert closed.status_code == 409
    assert registrations(app, base, full) == 1 and registrations(app, base, cancelled) == 0


def test_public_form_for_another_campus_event_is_404(app, site, base):
    visitor = site("molenbeek")
    event_id = foreign(base, "event")
    assert visitor.get(f"/events/{event_id}/register").status_code == 404
    assert visitor.post(f"/events/{event_id}/register",
                        data={"full_name": "X", "email": "x@example.org"}).status_code == 404
    assert visitor.get(f"/events/{event_id}/registered").status_code == 404
    assert registrations(app, base, event_id, campus="antwerp") == 1


def test_public_registration_form_is_throttled(app, site, base):
    visitor = site("molenbeek")
    event_id = own(base, "event")
    limit = int(app.config["APPLICATION_RATE_LIMIT"].split()[0])
    for i in range(limit):
        response = visitor.post(f"/events/{event_id}/register",
                                data={"full_name": f"V {i}", "email": "bad"})
        assert response.status_code == 422  # failed attempts count too
    refused = visitor.post(f"/events/{event_id}/register",
                           data={"full_name": "Patient", "email": "patient@example.org"})
    assert refused.status_code == 429
    assert visitor.get(f"/events/{event_id}/register").status_code == 200  # reading is free
    assert registrations(app, base, event_id, status=RegistrationStatus.REGISTERED) == 1


def test_public_events_page_query_count_does_not_grow(app, site, base):
    visitor = site("molenbeek")
    engine = sql_engine(app)
    before = page_queries(engine, visitor, "/events")
    for i in range(5):
        add_registration(app, base, add_event(app, base, title=f"Counted {i}"), f"c{i}@e.org")
    assert page_queries(engine, visitor, "/events") == before
    assert "Counted 4" in visitor.get("/events").get_data(as_text=True)
