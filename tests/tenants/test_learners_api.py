from tests.support.data import MARKERS, manager, staff


def test_manager_lists_only_own_campus_learners(site, base):
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    response = molenbeek.get("/api/v1/learners", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    assert {item["id"] for item in body["items"]} == set(base.learner_ids["molenbeek"])
    assert MARKERS["antwerp"] not in response.get_data(as_text=True)


def test_other_campus_learner_id_is_404(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    foreign_id = base.learner_ids["antwerp"][0]
    if foreign_id in base.learner_ids["molenbeek"]:
        foreign_id = max(base.learner_ids["antwerp"])
    response = molenbeek.get(f"/api/v1/learners/{foreign_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_staff_cannot_create_learner(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    response = molenbeek.post("/api/v1/learners", json={"full_name": "A", "email": "a@b.example"})
    assert response.status_code == 403
