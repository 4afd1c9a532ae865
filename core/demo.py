"""Demo seed of the platform: partners, the HQ account and partner contacts."""

from __future__ import annotations

from sqlalchemy import select

from core.auth.models import Role, User
from core.auth.services import create_user
from core.extensions import db
from core.partners.models import Partner

DEMO_PARTNERS = (
    ("microsoft", "Microsoft", "IE", "IE8256796U"),
    ("google", "Google", "IE", "IE6388047V"),
    ("aws", "AWS", "LU", "LU26375245"),
    ("proximus", "Proximus", "BE", "BE0202239951"),
    ("samsung", "Samsung", "NL", "NL810470722B01"),
)


def ensure_user(email: str, role: Role, password: str, **home: int | str | None) -> None:
    if db.session.scalar(select(User.id).where(User.email == email)) is None:
        create_user(email, role, password, **home)


def seed_platform(password: str) -> list[str]:
    ensure_user("hq@campusflow.test", Role.HQ_ADMIN, password, full_name="HQ Admin")
    sign_ins = ["hq@campusflow.test                 http://hq.<domain>"]
    for slug, name, country, vat in DEMO_PARTNERS:
        partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
        if partner is None:
            partner = Partner(slug=slug, name=name, country=country, vat_number=vat)
            db.session.add(partner)
            db.session.flush()
        email = f"contact@{slug}.campusflow.test"
        ensure_user(email, Role.PARTNER_CONTACT, password, partner_id=partner.id,
                    full_name=f"{name} contact")
        sign_ins.append(f"{email:<34} http://partners.<domain>")
    return sign_ins
