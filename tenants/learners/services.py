"""Learner rules; every lookup goes through the campus scope."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from core.database import like_pattern, utcnow
from core.errors import Conflict, NotFound
from core.extensions import db
from tenants.learners.models import Learner
from tenants.scoping import bound_campus_id


def learners_query(search: str = "") -> Select:
    """Learners of the bound campus, by name, optionally filtered by name, e-mail or phone."""
    statement = select(Learner).order_by(Learner.full_name, Learner.id)
    term = search.strip()
    if term:
        # Bound as a parameter and escaped: a search carrying SQL or LIKE wildcards is just text.
        pattern = like_pattern(term)
        statement = statement.where(or_(
            Learner.full_name.ilike(pattern, escape="\\"),
            Learner.email.ilike(pattern, escape="\\"),
            Learner.phone.ilike(pattern, escape="\\"),
        ))
    return statement


def get_learner(learner_id: int) -> Learner:
    """The bound campus's learner `learner_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    learner = db.session.get(Learner, (campus_id, learner_id)) if campus_id else None
    if learner is None:
        raise NotFound(_("No such learner."))
    return learner


def _check_email_free(email: str, learner_id: int | None = None) -> None:
    statement = select(func.count()).select_from(Learner).where(Learner.email == email)
    if learner_id is not None:
        statement = statement.where(Learner.id != learner_id)
    if db.session.scalar(statement):
        raise Conflict(_("A learner with this e-mail already exists at this campus."),
                       {"email": [_("Already registered at this campus.")]})


def create_learner(data: dict[str, Any]) -> Learner:
    """Register a learner at the bound campus; raises Conflict when the e-mail is taken there."""
    _check_email_free(data["email"])
    learner = Learner(
        full_name=data["full_name"],
        email=data["email"],
        phone=data.get("phone"),
        consent_given_at=utcnow() if data.get("consent") else None,
    )
    db.session.add(learner)
    db.session.flush()
    return learner


def update_learner(learner: Learner, data: dict[str, Any]) -> Learner:
    """Change the given fields; raises Conflict when the new e-mail is taken at the campus."""
    if "email" in data and data["email"] != learner.email:
        _check_email_free(data["email"], learner.id)
    for field in ("full_name", "email", "phone"):
        if field in data:
            setattr(learner, field, data[field])
    if data.get("consent") and learner.consent_given_at is None:
        learner.consent_given_at = utcnow()
    elif data.get("consent") is False:
        learner.consent_given_at = None
    db.session.flush()
    return learner
