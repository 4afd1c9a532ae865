"""Accounts, sign-in and API tokens: the rules, called by views, the API and the CLI."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from core.auth.models import CAMPUS_ROLES, ApiToken, Role, User
from core.auth.passwords import hash_password, needs_rehash, verify_password
from core.database import utcnow
from core.errors import Conflict, InvalidInput, Unauthorized
from core.extensions import db
from core.partners.models import Partner
from core.sites import Site

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str, *, check_deliverability: bool = False) -> str:
    """Lower-cased, validated e-mail address; raises InvalidInput when malformed."""
    try:
        result = validate_email(email.strip(), check_deliverability=check_deliverability,
                                test_environment=True)
    except EmailNotValidError as error:
        raise InvalidInput(_("This e-mail address is not valid."),
                           {"email": [str(error)]}) from error
    return result.normalized.lower()


def campus_id_for_slug(slug: str) -> int | None:
    # Campuses belong to `tenants`; core only reads the global table by name.
    return db.session.execute(
        text("SELECT id FROM campuses WHERE slug = :slug"), {"slug": slug}
    ).scalar()


def create_user(
    email: str,
    role: Role | str,
    password: str,
    *,
    full_name: str | None = None,
    campus_id: int | None = None,
    partner_id: int | None = None,
) -> User:
    """Create an account.

    Raises InvalidInput for a short password or a bad role/home pairing, Conflict for a taken
    e-mail.
    """
    role = Role(role)
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("Passwords need at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            {"password": [_("Too short.")]},
        )
    if (role in CAMPUS_ROLES) != (campus_id is not None):
        raise InvalidInput(_("Campus managers and staff belong to exactly one campus."),
                           {"campus": [_("Required for this role, and only for it.")]})
    if (role is Role.PARTNER_CONTACT) != (partner_id is not None):
        raise InvalidInput(_("Partner contacts belong to exactly one partner."),
                           {"partner": [_("Required for this role, and only for it.")]})
    if db.session.scalar(select(func.count()).where(User.email == email)):
        raise Conflict(_("An account with this e-mail already exists."), {"email": ["taken"]})
    user = User(
        email=email,
        full_name=full_name or email.split("@")[0],
        password_hash=hash_password(password),
        role=role,
        campus_id=campus_id,
        partner_id=partner_id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str, site: Site) -> User:
    """The active user with these credentials who may act on `site`.

    Raises Unauthorized with one message for every failure, so the response never tells
    whether the e-mail exists or belongs to another site.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    valid = verify_password(user.password_hash if user else None, password)
    if not (valid and user and user.may_act_on(site)):
        raise Unauthorized(_("Wrong e-mail or password, or no access to this site."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_signed_in_at = utcnow()
    return user


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, site: Site, ttl_hours: int) -> str:
    """A new API token for `user` on `site`; only its digest is kept."""
    raw = secrets.token_urlsafe(32)
    db.session.add(ApiToken(
        user_id=user.id,
        token_hash=_token_digest(raw),
        site_key=site.key,
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    ))
    db.session.flush()
    return raw


def user_for_token(raw: str, site: Site) -> User | None:
    """The user behind a bearer token, if the token is live, for this site and the user may act."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    if token is None or token.site_key != site.key:
        return None
    if token.expires_at <= utcnow():
        return None
    return token.user if token.user.may_act_on(site) else None


def partner_id_for_slug(slug: str) -> int | None:
    return db.session.scalar(select(Partner.id).where(Partner.slug == slug))
