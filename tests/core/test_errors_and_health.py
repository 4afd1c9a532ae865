"""One error shape for the API, error pages in the layout, health and readiness probes."""

import pytest

from core.app import create_app
from tests.support.data import manager


@pytest.fixture
def manager_api(site, base):
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    return molenbeek, {"Authorization": f"Bearer {token}"}


def test_validation_error_is_422_with_the_failing_fields(manager_api):
    molenbeek, auth = manager_api
    response = molenbeek.post("/api/v1/learners", headers=auth,
                              json={"full_name": "", "email": "not-an-email", "phone": "abc"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"full_name", "email", "phone"}


def test_body_that_is_not_a_json_object_is_422(manager_api):
    molenbeek, auth = manager_api
    response = molenbeek.post("/api/v1/learners", headers=auth, data="full_name=x",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "_schema" in response.get_json()["error"]["fields"]


def test_duplicate_email_is_409_and_changes_nothing(manager_api):
    molenbeek, auth = manager_api
    before = molenbeek.get("/api/v1/learners", headers=auth).get_json()["total"]
    response = molenbeek.post("/api/v1/learners", headers=auth,
                              json={"full_name": "Twin", "email": "LEARNER0@molenbeek.example"})
    assert response.status_code == 409
    fields = response.get_json()["error"]["fields"]
    assert fields == {"email": ["Already registered at this campus."]}
    assert molenbeek.get("/api/v1/learners", headers=auth).get_json()["total"] == before


def test_unknown_api_path_is_json_404(manager_api):
    molenbeek, auth = manager_api
    response = molenbeek.get("/api/v1/nothing-here", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(manager_api):
    molenbeek, auth = manager_api
    response = molenbeek.open("DELETE", "/api/v1/learners", headers=auth)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_html_error_page_uses_the_product_layout(site, base):
    response = site("molenbeek").get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This page does not exist." in page
    assert "Campusflow" in page and "Molenbeek" in page


def test_unknown_campus_is_a_404_page(site, base):
    response = site("nowhere").get("/")
    assert response.status_code == 404
    assert "This page does not exist." in response.get_data(as_text=True)


def test_healthz_answers_without_a_database():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    client = app.test_client()
    assert client.get("/healthz", base_url="http://molenbeek.localhost:5000").status_code == 200
    assert client.get("/healthz", base_url="http://evil.example").get_json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_does_not_answer():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"


def test_readyz_is_200_when_the_database_answers(site, base):
    response = site(None).get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


def test_an_id_beyond_the_database_range_is_404_not_500(manager_api):
    molenbeek, auth = manager_api
    for path in (f"/api/v1/learners/{2**70}", f"/api/v1/cohorts/{2**63}"):
        response = molenbeek.get(path, headers=auth)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
