"""Learner pages for a campus's staff: list with search and pagination, create, edit."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError
from core.extensions import db
from core.sites import SiteKind, on_sites
from tenants.learners.api import EDITORS, READERS
from tenants.learners.schemas import LearnerInputSchema
from tenants.learners.services import create_learner, get_learner, learners_query, update_learner

bp = Blueprint("learners", __name__, url_prefix="/learners")


def _form_data() -> dict:
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    data["consent"] = "consent" in request.form
    return data


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def index():
    search = request.args.get("q", "")[:200]
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(learners_query(search), page=max(page, 1), per_page=25,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("learners/index.html", pagination=pagination, search=search)


def _save(template: str, learner=None):
    """Parse, validate and save the form; re-render it with field errors on failure."""
    values = _form_data()
    try:
        data = LearnerInputSchema().load(values)
        saved = update_learner(learner, data) if learner else create_learner(data)
    except ValidationError as error:
        return render_template(template, learner=learner, values=values, errors=error.messages), 422
    except AppError as error:
        db.session.rollback()
        return render_template(template, learner=learner, values=values, errors=error.fields,
                               message=error.message), error.status
    flash(_("Saved %(name)s.", name=saved.full_name), "success")
    return redirect(url_for("learners.index"))


@bp.route("/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def new():
    if request.method == "POST":
        return _save("learners/form.html")
    return render_template("learners/form.html", learner=None, values={}, errors={})


@bp.route("/<int:learner_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def edit(learner_id: int):
    learner = get_learner(learner_id)
    if request.method == "POST":
        return _save("learners/form.html", learner)
    values = {"full_name": learner.full_name, "email": learner.email, "phone": learner.phone or "",
              "consent": learner.consent_given_at is not None}
    return render_template("learners/form.html", learner=learner, values=values, errors={})
