"""Sign-in and sign-out pages, on every site people sign in to (not the public apex)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core.auth.forms import SignInForm
from core.auth.services import authenticate
from core.auth.throttle import record_failure, throttled
from core.errors import Unauthorized
from core.sites import SiteKind, current_site, on_sites, public

bp = Blueprint("auth", __name__)

SIGN_IN_SITES = (SiteKind.HQ, SiteKind.PARTNERS, SiteKind.CAMPUS)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if parts.netloc == "" and parts.scheme == "" else None


@bp.route("/login", methods=["GET", "POST"])
@on_sites(*SIGN_IN_SITES)
@public
@throttled
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, current_site())
        except Unauthorized as error:
            record_failure()
            form.password.errors = [error.message]
        else:
            locale = session.get("locale")  # the language chosen before signing in
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(user)
            session["site"] = current_site().key
            if locale:
                session["locale"] = locale
            flash(_("Welcome, %(name)s.", name=user.full_name), "success")
            return redirect(safe_next(form.next.data) or url_for("core.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@on_sites(*SIGN_IN_SITES)
@public
def logout():
    logout_user()
    locale = session.get("locale")  # signing out keeps the language
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
