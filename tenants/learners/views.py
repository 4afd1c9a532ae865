"""Learner pages for a campus's staff: list with search and pagination, the learner's page
(details, consent, personal data download and erasure), create, edit."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites
from tenants.learners.api import EDITORS, PRIVACY_OFFICERS, READERS
from tenants.learners.privacy import ensure_not_erased, erase_learner, is_erased, personal_data
from tenants.learners.schemas import ErasureConfirmSchema, LearnerInputSchema, PersonalDataSchema
from tenants.learners.services import create_learner, get_learner, learners_query, update_learner

bp = Blueprint("learners", __name__, url_prefix="/learners")
PER_PAGE = 25
COLUMNS = (
    Column(_l("Name"), lambda learner: learner.full_name),
    Column(_l("E-mail"), lambda learner: _("erased") if is_erased(learner) else learner.email),
    Column(_l("Phone"), lambda learner: learner.phone),
    Column(_l("Consent given"), lambda learner: learner.consent_given_at, "datetime"),
    Column(_l("Added"), lambda learner: learner.created_at, "datetime"),
)


def _form_data() -> dict:
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    data["consent"] = "consent" in request.form
    return data


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def index():
    fmt = requested_format()
    search = request.args.get("q", "")[:200]
    if fmt:
        return table_response(fmt, f"learners-{g.campus.slug}", COLUMNS,
                              stream(learners_query(search)))
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(learners_query(search), page=max(page, 1), per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("learners/index.html", pagination=pagination, search=search,
                           is_erased=is_erased)


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


def _render_show(learner, status: int = 200, errors: dict | None = None):
    return render_template("learners/show.html", learner=learner, erased=is_erased(learner),
                           officers=[role.value for role in PRIVACY_OFFICERS],
                           editors=[role.value for role in EDITORS],
                           errors=errors or {}), status


@bp.get("/<int:learner_id>")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(learner_id: int):
    return _render_show(get_learner(learner_id))


@bp.get("/<int:learner_id>/personal-data")
@on_sites(SiteKind.CAMPUS)
@roles_required(*PRIVACY_OFFICERS)
def download(learner_id: int):
    """The person's data as a JSON file, the same document as the API's export."""
    data = PersonalDataSchema().dump(personal_data(get_learner(learner_id)))
    response = Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                        mimetype="application/json")
    filename = f"personal-data-{g.campus.slug}-learner-{learner_id}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:learner_id>/erase")
@on_sites(SiteKind.CAMPUS)
@roles_required(*PRIVACY_OFFICERS)
def erase(learner_id: int):
    learner = get_learner(learner_id)
    values = {"confirm": "confirm" in request.form}
    try:
        ErasureConfirmSchema().load(values)
    except ValidationError as error:
        return _render_show(learner, 422, error.messages)
    erasure = erase_learner(learner)
    if erasure.already_erased:
        flash(_("This learner's personal data had already been erased; nothing changed."), "info")
    else:
        flash(_("The learner's personal data was erased. Their records stay in the figures, "
                "anonymised."), "success")
    return redirect(url_for("learners.show", learner_id=learner.id))


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
    ensure_not_erased(learner)
    if request.method == "POST":
        return _save("learners/form.html", learner)
    values = {"full_name": learner.full_name, "email": learner.email, "phone": learner.phone or "",
              "consent": learner.consent_given_at is not None}
    return render_template("learners/form.html", learner=learner, values=values, errors={})
