"""Bearer tokens: valid on the site they were issued for only, stored hashed."""

from datetime import timedelta

from sqlalchemy import select, update

from core.auth.models import ApiToken
from core.database import utcnow
from core.extensions import db
from tests.support.data import HQ, PASSWORD, manager


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_works_on_the_site_it_was_issued_for(site, base):
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    assert molenbeek.get("/api/v1/learners", headers=bearer(token)).status_code == 200


def test_token_is_refused_on_another_campus(site, base):
    token = site("molenbeek").token(HQ)
    response = site("antwerp").get("/api/v1/learners", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_bad_credentials_or_wrong_site_get_401(site, base):
    molenbeek = site("molenbeek")
    bad = molenbeek.post("/api/v1/auth/token", json={"email": HQ, "password": "nope-nope"})
    assert bad.status_code == 401
    wrong_site = site("antwerp").post("/api/v1/auth/token",
                                      json={"email": manager("molenbeek"), "password": PASSWORD})
    assert wrong_site.status_code == 401
    assert set(bad.get_json()["error"]) == {"code", "message", "fields"}


def test_token_request_with_missing_fields_is_422(site, base):
    response = site("molenbeek").post("/api/v1/auth/token", json={"email": HQ})
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["fields"]


def test_only_the_token_digest_is_stored(app, site, base):
    token = site("molenbeek").token(manager("molenbeek"))
    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored
    assert len(stored) >= 1 and all(len(digest) == 64 for digest in stored)


def test_expired_token_is_refused(app, site, base):
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert molenbeek.get("/api/v1/learners", headers=bearer(token)).status_code == 401


def test_garbage_bearer_token_is_401(site, base):
    response = site("molenbeek").get("/api/v1/learners", headers=bearer("not-a-token"))
    assert response.status_code == 401
