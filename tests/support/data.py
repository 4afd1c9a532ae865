"""Base data shared by the suite: always two campuses, so isolation is exercised everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.auth.models import Role, User
from core.auth.services import create_user
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.campuses.services import create_campus
from tenants.learners.models import Learner
from tenants.scoping import campus_scope

PASSWORD = "correct-horse-battery"
HQ = "hq@campusflow.test"
PARTNER_CONTACT = "contact@microsoft.campusflow.test"
# Text that appears only in each campus's own learners, to catch any leak in a response body.
MARKERS = {"molenbeek": "Zinedine-Molenbeek-Marker", "antwerp": "Ysaline-Antwerp-Marker"}


def manager(slug: str) -> str:
    return f"manager@{slug}.campusflow.test"


def staff(slug: str) -> str:
    return f"staff@{slug}.campusflow.test"


@dataclass(frozen=True)
class BaseData:
    campus_ids: dict[str, int]
    learner_ids: dict[str, list[int]]
    partner_id: int


def create_base_data() -> None:
    partner = Partner(slug="microsoft", name="Microsoft", country="IE")
    db.session.add(partner)
    db.session.flush()
    create_user(HQ, Role.HQ_ADMIN, PASSWORD, full_name="HQ Admin")
    create_user(PARTNER_CONTACT, Role.PARTNER_CONTACT, PASSWORD, partner_id=partner.id)
    for slug, city, locale in (("molenbeek", "Brussels", "fr_BE"), ("antwerp", "Antwerp", "nl_BE")):
        campus = create_campus(slug=slug, name=slug.title(), city=city, country="BE",
                               currency="EUR", timezone="Europe/Brussels", locale=locale,
                               status="open")
        create_user(manager(slug), Role.CAMPUS_MANAGER, PASSWORD, campus_id=campus.id)
        create_user(staff(slug), Role.CAMPUS_STAFF, PASSWORD, campus_id=campus.id)
        with campus_scope(campus.id, db.session):
            for i in range(3):
                db.session.add(Learner(full_name=f"{MARKERS[slug]} {i}",
                                       email=f"learner{i}@{slug}.example", phone="+32 2 555 01 0"))
            db.session.flush()
    db.session.commit()


def load_base_data() -> BaseData:
    campuses = {c.slug: c.id for c in db.session.scalars(select(Campus))}
    learners = {}
    for slug, campus_id in campuses.items():
        with campus_scope(campus_id, db.session):
            learners[slug] = list(db.session.scalars(select(Learner.id).order_by(Learner.id)))
    partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == "microsoft"))
    assert db.session.scalar(select(User.id).where(User.email == HQ)) is not None
    return BaseData(campuses, learners, partner_id)
