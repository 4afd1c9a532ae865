"""Who may reach a view: the session or bearer token is checked against the site, every request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user

from core.auth.models import Role, User
from core.auth.services import user_for_token
from core.errors import Forbidden, Unauthorized, wants_json
from core.extensions import db, login_manager
from core.sites import SiteKind, current_site


def roles_required(*roles: Role) -> Callable:
    """Signed-in users with one of `roles` only (the loader has already checked the site)."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                raise Forbidden("You do not have access to this page.")
            return view(*args, **kwargs)

        wrapper.roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def register_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        site = current_site()
        # The cookie is host-only; checking the site again guards against a misconfigured domain.
        if site is None or session.get("site") != site.key:
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.may_act_on(site) else None

    @login_manager.request_loader
    def load_user_from_token(req) -> User | None:
        header = req.headers.get("Authorization", "")
        site = current_site()
        if not header.startswith("Bearer ") or site is None or not req.path.startswith("/api/"):
            return None
        user = user_for_token(header.removeprefix("Bearer ").strip(), site)
        if user is not None:
            g.authenticated_by_token = True
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        site = current_site()
        if wants_json() or site is None or site.kind is SiteKind.PUBLIC:
            raise Unauthorized("Sign in, or send a valid bearer token for this site.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
