"""The partner portal's home: which partner the contact speaks for, and what comes next."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask_login import current_user, login_required

from core.home import register_home
from core.sites import SiteKind

bp = Blueprint("partners", __name__)


@login_required
def portal_home():
    return render_template("partners/home.html", partner=current_user.partner)


def init_app(app: Flask) -> None:
    register_home(app, SiteKind.PARTNERS, portal_home)
