"""The manager's learner pages: list with search and pagination, create, edit."""

from sqlalchemy import select

from core.extensions import db
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import MARKERS, manager, staff


def test_learner_list_shows_own_campus_only(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    page = molenbeek.get("/learners").get_data(as_text=True)
    assert MARKERS["molenbeek"] in page
    assert MARKERS["antwerp"] not in page


def test_learner_search_filters_and_treats_sql_as_text(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    page = molenbeek.get("/learners?q=learner1@").get_data(as_text=True)
    assert "learner1@molenbeek.example" in page and "learner0@molenbeek.example" not in page
    injected = molenbeek.get("/learners?q=' OR 1=1 --")
    assert injected.status_code == 200
    assert "No learner matches" in injected.get_data(as_text=True)
    wildcard = molenbeek.get("/learners?q=%25").get_data(as_text=True)
    assert "No learner matches" in wildcard


def test_learner_list_paginates(app, site, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for i in range(30):
            db.session.add(Learner(full_name=f"Paged {i:02d}", email=f"paged{i}@m.example"))
        db.session.commit()
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    first = molenbeek.get("/learners").get_data(as_text=True)
    second = molenbeek.get("/learners?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count("<tr>") == 26 and second.count("<tr>") == 9  # header + rows


def test_manager_creates_a_learner_from_the_form(app, site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    response = molenbeek.post("/learners/new", data={"full_name": "  Nadia   Ouali ",
                                                     "email": "Nadia@Example.org",
                                                     "phone": "", "consent": "on"})
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner = db.session.scalar(select(Learner).where(Learner.email == "nadia@example.org"))
    assert learner.full_name == "Nadia Ouali"
    assert learner.consent_given_at is not None and learner.phone is None


def test_invalid_form_shows_errors_by_field_and_saves_nothing(app, site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    response = molenbeek.post("/learners/new", data={"full_name": "Kept Name", "email": "nope"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-describedby="email-error"' in page
    assert 'value="Kept Name"' in page  # nothing typed is lost
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        assert db.session.scalar(select(Learner).where(Learner.full_name == "Kept Name")) is None


def test_manager_edits_a_learner(app, site, base):
    learner_id = base.learner_ids["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get(f"/learners/{learner_id}/edit").status_code == 200
    response = molenbeek.post(f"/learners/{learner_id}/edit",
                              data={"full_name": "Renamed", "email": "learner0@molenbeek.example"})
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        learner = db.session.get(Learner, (base.campus_ids["molenbeek"], learner_id))
    assert learner.full_name == "Renamed"


def test_editing_to_a_taken_email_is_refused_on_the_form(site, base):
    learner_id = base.learner_ids["molenbeek"][0]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    response = molenbeek.post(f"/learners/{learner_id}/edit",
                              data={"full_name": "X", "email": "learner1@molenbeek.example"})
    assert response.status_code == 409
    assert "Already registered at this campus." in response.get_data(as_text=True)


def test_staff_sees_learners_but_cannot_edit(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    assert molenbeek.get("/learners").status_code == 200
    assert molenbeek.get("/learners/new").status_code == 403


def test_hq_signed_in_on_a_campus_site_acts_there(site, base):
    antwerp = site("antwerp")
    assert antwerp.sign_in("hq@campusflow.test").status_code == 302
    page = antwerp.get("/learners").get_data(as_text=True)
    assert MARKERS["antwerp"] in page and MARKERS["molenbeek"] not in page


def test_api_patch_updates_and_validates(site, base):
    learner_id = base.learner_ids["antwerp"][1]
    antwerp = site("antwerp")
    auth = {"Authorization": f"Bearer {antwerp.token(manager('antwerp'))}"}
    ok = antwerp.patch(f"/api/v1/learners/{learner_id}", headers=auth, json={"phone": "+32 3 1234"})
    assert ok.status_code == 200 and ok.get_json()["phone"] == "+32 3 1234"
    bad = antwerp.patch(f"/api/v1/learners/{learner_id}", headers=auth, json={"email": "x"})
    assert bad.status_code == 422 and "email" in bad.get_json()["error"]["fields"]
    created = antwerp.post("/api/v1/learners", headers=auth,
                           json={"full_name": "Api Person", "email": "api@antwerp.example",
                                 "phone": "+32 3 000"})
    assert created.status_code == 201
    assert set(created.get_json()) >= {"id", "full_name", "email", "phone"}
