"""Cohort pages for a campus's people: list, detail with status actions, create and edit."""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import Column, batches, exportable, requested_format, stream, table_response
from core.extensions import db
from core.money import format_money, to_major, to_minor
from core.sites import SiteKind, on_sites
from tenants.cohorts.api import EDITORS, READERS
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.cohorts.schemas import COHORT_LANGUAGES, CohortInputSchema
from tenants.cohorts.services import (
    TRANSITIONS,
    cohorts_query,
    create_cohort,
    fill_rate,
    get_cohort,
    schedulable_courses,
    seats_taken,
    seats_taken_by_cohort,
    sponsors,
    status_label,
    transition_cohort,
    update_cohort,
)

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")

PER_PAGE = 25


def locale_code() -> str:
    return str(get_locale() or "en")


def price_text(cohort: Cohort) -> str:
    """"Free" or the price in the viewer's locale."""
    if cohort.price_minor == 0:
        return _("Free")
    return format_money(cohort.price_minor, cohort.currency, locale_code())


def language_name(code: str) -> str:
    try:
        return Locale.parse(locale_code()).languages.get(code, code)
    except (ValueError, TypeError):
        return code




def action_label(status: CohortStatus) -> str:
    return {
        CohortStatus.OPEN: _("Open for applications"),
        CohortStatus.RUNNING: _("Start the cohort"),
        CohortStatus.FINISHED: _("Mark as finished"),
        CohortStatus.CANCELLED: _("Cancel the cohort"),
    }.get(status, status.value)


def helpers() -> dict[str, Any]:
    """Display helpers the cohort templates (and the application pages) share."""
    return {"price_text": price_text, "language_name": language_name,
            "status_label": status_label, "action_label": action_label,
            "locale_code": locale_code(),
            "statuses": list(CohortStatus), "languages": COHORT_LANGUAGES,
            "fundings": list(Funding)}


# Rows: (cohort, seats taken).
COLUMNS = (
    Column(_l("Code"), lambda row: row[0].course.code),
    Column(_l("Course"), lambda row: row[0].course.title(locale_code())),
    Column(_l("Starts"), lambda row: row[0].starts_on, "date"),
    Column(_l("Ends"), lambda row: row[0].ends_on, "date"),
    Column(_l("Language"), lambda row: language_name(row[0].language)),
    Column(_l("Price"), lambda row: (row[0].price_minor, row[0].currency), "money"),
    Column(_l("Currency"), lambda row: row[0].currency, width=10),
    Column(_l("Seats"), lambda row: row[0].seats, "number"),
    Column(_l("Seats taken"), lambda row: row[1], "number"),
    Column(_l("Fill rate"), lambda row: fill_rate(row[0], row[1]), "percent"),
    Column(_l("Status"), lambda row: status_label(row[0].status)),
)


def _with_seats_taken(cohorts):
    for batch in batches(cohorts):
        taken = seats_taken_by_cohort(batch)
        yield from ((cohort, taken[cohort.id]) for cohort in batch)


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def index():
    fmt = requested_format()
    raw_status = request.args.get("status", "")
    status = CohortStatus(raw_status) if raw_status in CohortStatus._value2member_map_ else None
    search = request.args.get("q", "")[:200].strip()
    statement = cohorts_query(status, search=search)
    if fmt:
        return table_response(fmt, f"cohorts-{g.campus.slug}", COLUMNS,
                              _with_seats_taken(stream(statement)))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(statement, page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    taken = seats_taken_by_cohort(pagination.items)
    return render_template("cohorts/index.html", pagination=pagination, status=status,
                           search=search, taken=taken, fill_rate=fill_rate, **helpers())


def _detail(cohort: Cohort, message: str | None = None, status: int = 200):
    # Imported here: the applications package builds on this one.
    from tenants.applications.services import status_counts
    from tenants.applications.views import application_status_label

    taken = seats_taken(cohort)
    return render_template(
        "cohorts/show.html", cohort=cohort, taken=taken, rate=fill_rate(cohort, taken),
        targets=sorted(TRANSITIONS[cohort.status], key=list(CohortStatus).index),
        counts=status_counts(cohort.id), application_status_label=application_status_label,
        message=message, **helpers()), status


@bp.get("/<int:cohort_id>")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(cohort_id: int):
    return _detail(get_cohort(cohort_id))


@bp.post("/<int:cohort_id>/transition")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def transition(cohort_id: int):
    cohort = get_cohort(cohort_id)
    target = request.form.get("status", "")
    if target not in CohortStatus._value2member_map_:
        return _detail(cohort, _("Choose a status."), 422)
    try:
        transition_cohort(cohort, CohortStatus(target))
    except AppError as error:
        db.session.rollback()
        return _detail(get_cohort(cohort_id), error.message, error.status)
    flash(_("The cohort is now: %(status)s.", status=status_label(cohort.status)), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _parse(values: dict[str, str]) -> dict[str, Any]:
    """The form as service input; the price is a decimal amount in the campus's currency.

    Raises ValidationError with every field's problems (the price under "price").
    """
    errors: dict[str, Any] = {}
    raw = {k: v for k, v in values.items() if k != "price"}
    price = values.get("price", "").strip()
    try:
        raw["price_minor"] = to_minor(price, g.campus.currency) if price else 0
    except ValueError:
        errors["price"] = [_("Enter an amount such as 1500 or 1500.00.")]
        raw["price_minor"] = 0
    try:
        data = CohortInputSchema().load(raw)
    except ValidationError as error:
        errors.update(error.messages)
        data = None
    if errors:
        raise ValidationError(_price_key(errors))
    return data


def _price_key(errors: dict[str, Any]) -> dict[str, Any]:
    """Errors about `price_minor` belong to the form's "price" input."""
    if "price_minor" in errors:
        errors = dict(errors)
        errors.setdefault("price", errors.pop("price_minor"))
    return errors


def _render_form(cohort: Cohort | None, values: dict, errors: dict, message: str | None = None,
                 status: int = 200):
    return render_template("cohorts/form.html", cohort=cohort, values=values, errors=errors,
                           message=message, courses=schedulable_courses(),
                           partners=sponsors(), **helpers()), status


def _save(cohort: Cohort | None = None):
    values = _form_values()
    try:
        data = _parse(values)
        saved = update_cohort(cohort, data) if cohort else create_cohort(g.campus, data)
    except ValidationError as error:
        return _render_form(cohort, values, error.messages, status=422)
    except AppError as error:
        db.session.rollback()
        return _render_form(cohort and get_cohort(cohort.id), values, _price_key(error.fields),
                            error.message, error.status)
    flash(_("Saved the cohort of %(course)s starting on %(day)s.",
            course=saved.course.title(locale_code()), day=saved.starts_on.isoformat()), "success")
    return redirect(url_for("cohorts.show", cohort_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def new():
    if request.method == "POST":
        return _save()
    return _render_form(None, {"language": (g.campus.default_locale or "en")[:2],
                               "funding": Funding.FREE.value, "price": ""}, {})


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def edit(cohort_id: int):
    cohort = get_cohort(cohort_id)
    if request.method == "POST":
        return _save(cohort)
    values = {
        "course_id": str(cohort.course_id), "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(), "schedule": cohort.schedule,
        "seats": str(cohort.seats), "language": cohort.language,
        "price": "" if cohort.price_minor == 0 else str(to_major(cohort.price_minor,
                                                                  cohort.currency)),
        "funding": cohort.funding.value,
        "sponsor_id": str(cohort.sponsor_id) if cohort.sponsor_id else "",
    }
    return _render_form(cohort, values, {})
