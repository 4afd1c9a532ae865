"""Demo seed of the network: the eight campuses, their managers and staff, some learners."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.auth.models import Role
from core.demo import ensure_user
from core.extensions import db
from tenants.campuses.models import CampusStatus
from tenants.campuses.services import campus_by_slug, create_campus
from tenants.cohorts.models import Cohort
from tenants.demo_life import seed_campus_life
from tenants.learners.models import Learner
from tenants.scoping import campus_scope

DEMO_CAMPUSES = (
    # slug, name, city, country, currency, timezone, locale, opened on
    ("molenbeek", "Molenbeek", "Brussels", "BE", "EUR", "Europe/Brussels", "fr_BE",
     date(2014, 9, 1)),
    ("antwerp", "Antwerp", "Antwerp", "BE", "EUR", "Europe/Brussels", "nl_BE", date(2017, 9, 1)),
    ("charleroi", "Charleroi", "Charleroi", "BE", "EUR", "Europe/Brussels", "fr_BE",
     date(2018, 9, 1)),
    ("amsterdam", "Amsterdam", "Amsterdam", "NL", "EUR", "Europe/Amsterdam", "nl_NL",
     date(2019, 9, 1)),
    ("rotterdam", "Rotterdam", "Rotterdam", "NL", "EUR", "Europe/Amsterdam", "nl_NL",
     date(2021, 1, 15)),
    ("utrecht", "Utrecht", "Utrecht", "NL", "EUR", "Europe/Amsterdam", "nl_NL", date(2022, 9, 1)),
    ("padua", "Padua", "Padova", "IT", "EUR", "Europe/Rome", "it_IT", date(2023, 9, 1)),
    ("casablanca", "Casablanca", "Casablanca", "MA", "MAD", "Africa/Casablanca", "fr_MA",
     date(2026, 11, 2)),
)

FIRST_NAMES = ("Amina", "Youssef", "Lotte", "Thomas", "Giulia", "Marco", "Sara", "Karim",
               "Emma", "Noah", "Fatima", "Lucas", "Ines", "Bram", "Chiara", "Omar")
LAST_NAMES = ("El Amrani", "Peeters", "Janssens", "De Vries", "Rossi", "Benali", "Dubois",
              "Bakker", "Ferrari", "Haddad", "Maes", "Visser")
LEARNERS_PER_CAMPUS = 18


def _demo_learners(slug: str) -> list[tuple[str, str]]:
    people = []
    for i in range(LEARNERS_PER_CAMPUS):
        first = FIRST_NAMES[(i + len(slug)) % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 5 + len(slug)) % len(LAST_NAMES)]
        email = f"{first}.{last}.{i}@{slug}.example".lower().replace(" ", "")
        people.append((f"{first} {last}", email))
    return people


def seed_network(password: str) -> list[str]:
    sign_ins = []
    for slug, name, city, country, currency, tz, locale, opened_on in DEMO_CAMPUSES:
        campus = campus_by_slug(slug) or create_campus(
            slug=slug, name=name, city=city, country=country, currency=currency, timezone=tz,
            locale=locale, status=CampusStatus.OPEN, opened_on=opened_on)
        for role, prefix in ((Role.CAMPUS_MANAGER, "manager"), (Role.CAMPUS_STAFF, "staff")):
            email = f"{prefix}@{slug}.campusflow.test"
            ensure_user(email, role, password, campus_id=campus.id,
                        full_name=f"{name} {prefix}")
            sign_ins.append(f"{email:<34} http://{slug}.<domain>")
        with campus_scope(campus.id, db.session):
            if not db.session.query(Learner.id).limit(1).all():
                for full_name, email in _demo_learners(slug):
                    db.session.add(Learner(full_name=full_name, email=email))
                db.session.flush()
            if db.session.scalar(select(Cohort.id).limit(1)) is None:
                seed_campus_life(campus)
    return sign_ins
