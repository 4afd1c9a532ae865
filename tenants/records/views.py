"""A learner's learning record on a campus site: enrolments, certifications and outcomes, with
forms to award a certification, record or correct an outcome and revoke an award."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.orm import contains_eager

from core.auth.access import roles_required
from core.catalogue.models import Course
from core.errors import AppError
from core.extensions import db
from core.sites import SiteKind, on_sites
from tenants.cohorts.models import Cohort
from tenants.enrolments.models import Enrolment
from tenants.enrolments.services import campus_today, enrolments_query
from tenants.learners.models import Learner
from tenants.learners.services import get_learner
from tenants.records.api import EDITORS, READERS
from tenants.records.models import OutcomeKind
from tenants.records.schemas import AwardInputSchema, OutcomeInputSchema, OutcomeUpdateSchema
from tenants.records.services import (
    award_certification,
    awards_query,
    certification_choices,
    get_award,
    get_outcome,
    outcomes_query,
    record_outcome,
    revoke_award,
    update_outcome,
)

bp = Blueprint("records", __name__)


def outcome_kind_labels() -> dict[str, str]:
    return {
        OutcomeKind.EMPLOYED.value: _("Employed"),
        OutcomeKind.INTERNSHIP.value: _("Internship"),
        OutcomeKind.STARTED_BUSINESS.value: _("Started a business"),
        OutcomeKind.FURTHER_EDUCATION.value: _("Further education"),
    }


def _form_data() -> dict:
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    return data


def _render_record(learner: Learner, status: int = 200, form: str | None = None,
                   errors: dict | None = None, values: dict | None = None,
                   message: str | None = None):
    """The record page; `form` names the form ("award" or "outcome") that failed, if any."""
    with_certifications = (contains_eager(Enrolment.cohort).joinedload(Cohort.course)
                           .selectinload(Course.certifications))
    enrolments = list(db.session.scalars(
        enrolments_query(learner_id=learner.id).options(with_certifications)).unique())
    awards = list(db.session.scalars(awards_query(learner_id=learner.id)))
    outcomes = list(db.session.scalars(outcomes_query(learner_id=learner.id)))
    return render_template(
        "records/learner.html", learner=learner, enrolments=enrolments, awards=awards,
        outcomes=outcomes, held_ids={award.certification_id for award in awards},
        choices=certification_choices(e.cohort.course for e in enrolments),
        kinds=outcome_kind_labels(), editors=[role.value for role in EDITORS],
        today=campus_today(), form=form, errors=errors or {}, values=values or {},
        message=message,
    ), status


@bp.get("/learners/<int:learner_id>/record")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def learner_record(learner_id: int):
    return _render_record(get_learner(learner_id))


def _save_on_record(learner: Learner, form: str, schema, action, success: str):
    """Parse the record page's `form` with `schema` (the learner taken from the URL), run
    `action(data)`; on failure show the page again with the errors and what was typed."""
    values = _form_data()
    try:
        data = schema().load({**values, "learner_id": learner.id})
        action(data)
    except ValidationError as error:
        return _render_record(learner, 422, form, error.messages, values,
                              _("Nothing was saved: please correct the marked fields."))
    except AppError as error:
        db.session.rollback()
        return _render_record(learner, error.status, form, error.fields, values, error.message)
    flash(success, "success")
    return redirect(url_for("records.learner_record", learner_id=learner.id))


@bp.post("/learners/<int:learner_id>/record/certifications")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def award(learner_id: int):
    learner = get_learner(learner_id)
    return _save_on_record(
        learner, "award", AwardInputSchema,
        lambda data: award_certification(data["learner_id"], data["certification_id"],
                                         data["awarded_on"], data["credential_url"]),
        _("Certification recorded for %(name)s.", name=learner.full_name))


@bp.post("/learners/<int:learner_id>/record/outcomes")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def add_outcome(learner_id: int):
    learner = get_learner(learner_id)
    return _save_on_record(
        learner, "outcome", OutcomeInputSchema,
        lambda data: record_outcome(data["learner_id"], data["kind"], data["employer"],
                                    data["sector"], data["occurred_on"], data["notes"]),
        _("Outcome recorded for %(name)s.", name=learner.full_name))


@bp.post("/certification-awards/<int:award_id>/revoke")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def revoke(award_id: int):
    award = get_award(award_id)
    learner_id, code = award.learner_id, award.certification.exam_code
    revoke_award(award)
    flash(_("Certification %(code)s revoked.", code=code), "success")
    return redirect(url_for("records.learner_record", learner_id=learner_id))


@bp.route("/outcomes/<int:outcome_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def edit_outcome(outcome_id: int):
    outcome = get_outcome(outcome_id)
    page = {"outcome": outcome, "kinds": outcome_kind_labels(), "today": campus_today()}
    if request.method == "GET":
        values = {"kind": outcome.kind.value, "employer": outcome.employer or "",
                  "sector": outcome.sector or "", "occurred_on": outcome.occurred_on.isoformat(),
                  "notes": outcome.notes}
        return render_template("records/outcome_form.html", values=values, errors={}, **page)
    values = _form_data()
    try:
        update_outcome(outcome, OutcomeUpdateSchema().load(values))
    except ValidationError as error:
        return render_template("records/outcome_form.html", values=values,
                               errors=error.messages, **page), 422
    except AppError as error:
        db.session.rollback()
        return render_template("records/outcome_form.html", values=values, errors=error.fields,
                               message=error.message, **page), error.status
    flash(_("Outcome of %(name)s corrected.", name=outcome.learner.full_name), "success")
    return redirect(url_for("records.learner_record", learner_id=outcome.learner_id))
