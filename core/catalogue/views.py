"""Catalogue pages: the public catalogue (apex and every campus site) and HQ's editing pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.catalogue.api import EDITORS, current_language
from core.catalogue.models import LANGUAGES, CourseLevel
from core.catalogue.schemas import (
    CertificationInputSchema,
    CourseArgsSchema,
    CourseInputSchema,
    TrackInputSchema,
)
from core.catalogue.services import (
    catalogue_by_track,
    certifications_query,
    course_counts_by_certification,
    course_counts_by_track,
    courses_query,
    create_certification,
    create_course,
    create_track,
    get_certification,
    get_course,
    get_track,
    list_certifications,
    list_tracks,
    retire_course,
    tracks_query,
    update_certification,
    update_course,
    update_track,
)
from core.errors import AppError, Conflict
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites, public

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
admin = Blueprint("catalogue_admin", __name__, url_prefix="/catalogue")

PER_PAGE = 25
LEVEL_LABELS = {
    CourseLevel.BEGINNER: _l("Beginner"),
    CourseLevel.INTERMEDIATE: _l("Intermediate"),
    CourseLevel.ADVANCED: _l("Advanced"),
}
LANGUAGE_NAMES = {"en": _l("English"), "fr": _l("French"), "nl": _l("Dutch"), "it": _l("Italian")}
STATUSES = ("all", "active", "retired")


@bp.app_context_processor
def catalogue_globals() -> dict[str, Any]:
    return {"level_labels": LEVEL_LABELS, "language_names": LANGUAGE_NAMES,
            "catalogue_languages": LANGUAGES}


def _list_args() -> dict[str, Any]:
    """The list filters from the query string; a bad value is dropped rather than refused."""
    values = {k: v for k, v in request.args.to_dict().items() if k in CourseArgsSchema().fields}
    try:
        return CourseArgsSchema().load(values)
    except ValidationError as error:
        kept = {k: v for k, v in values.items() if k not in error.messages}
        return CourseArgsSchema().load(kept)


# --- public pages ----------------------------------------------------------------------------

@bp.get("")
@on_sites(SiteKind.PUBLIC, SiteKind.CAMPUS)
@public
def index():
    args = _list_args()
    groups = catalogue_by_track(track=args["track"], level=args["level"], search=args["q"])
    return render_template("catalogue/index.html", groups=groups, args=args,
                           tracks=list_tracks(), language=current_language(),
                           filtered=bool(args["track"] or args["level"] or args["q"]))


@bp.get("/<int:course_id>")
@on_sites(SiteKind.PUBLIC, SiteKind.CAMPUS)
@public
def detail(course_id: int):
    return render_template("catalogue/detail.html", course=get_course(course_id),
                           language=current_language())


# --- HQ: courses -----------------------------------------------------------------------------

COURSE_COLUMNS = (
    Column(_l("Code"), lambda course: course.code, width=12),
    *(Column(_l("Title (%(language)s)", language=LANGUAGE_NAMES[language]),
             lambda course, language=language: getattr(course, f"title_{language}"))
      for language in LANGUAGES),
    Column(_l("Track"), lambda course: course.track.name),
    Column(_l("Level"), lambda course: str(LEVEL_LABELS[course.level])),
    Column(_l("Hours"), lambda course: course.hours, "number"),
    Column(_l("Certifications"),
           lambda course: ", ".join(c.exam_code for c in course.certifications)),
    Column(_l("Retired on"), lambda course: course.retired_at, "date"),
)


@admin.get("/courses")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def courses():
    fmt = requested_format()
    args = _list_args()
    status = request.args.get("status", "all")
    status = status if status in STATUSES else "all"
    statement = courses_query(track=args["track"], level=args["level"], search=args["q"],
                              include_retired=status != "active", retired_only=status == "retired")
    if fmt:
        return table_response(fmt, "courses", COURSE_COLUMNS, stream(statement))
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(statement, page=max(page, 1), per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    filters = {"q": args["q"], "track": args["track"] or "", "level": args["level"] or "",
               "status": status}
    return render_template("catalogue/courses.html", pagination=pagination, filters=filters,
                           tracks=list_tracks(),
                           filtered=any(v for k, v in filters.items() if k != "status")
                           or status != "all")


def _course_form_values() -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in request.form.items()
                              if k not in ("csrf_token", "certification_ids")}
    values["certification_ids"] = request.form.getlist("certification_ids")
    return values


def _render_course_form(course, values: dict, errors: dict, message: str | None = None,
                        status: int = 200):
    chosen = {str(v) for v in values.get("certification_ids", [])}
    page = render_template("catalogue/course_form.html", course=course, values=values,
                           errors=errors, message=message, tracks=list_tracks(),
                           certifications=list_certifications(), chosen=chosen,
                           levels=list(CourseLevel))
    return page, status


def _save_course(course=None):
    values = _course_form_values()
    try:
        data = CourseInputSchema().load(values)
        saved = update_course(course, data) if course else create_course(data)
    except ValidationError as error:
        return _render_course_form(course, values, _flat(error.messages), status=422)
    except AppError as error:
        db.session.rollback()
        return _render_course_form(course, values, error.fields, error.message, error.status)
    flash(_("Saved %(code)s.", code=saved.code), "success")
    return redirect(url_for("catalogue_admin.courses"))


def _flat(messages: Any) -> dict[str, list[str]]:
    """Marshmallow's errors with list items (`{"certification_ids": {0: [...]}}`) flattened."""
    flat: dict[str, list[str]] = {}
    for field, problems in (messages.items() if isinstance(messages, dict) else []):
        if isinstance(problems, dict):
            flat[field] = [text for inner in problems.values() for text in inner]
        else:
            flat[field] = list(problems)
    return flat


@admin.route("/courses/new", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def new_course():
    if request.method == "POST":
        return _save_course()
    return _render_course_form(None, {"level": CourseLevel.BEGINNER.value}, {})


@admin.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def edit_course(course_id: int):
    course = get_course(course_id)
    if request.method == "POST":
        return _save_course(course)
    values: dict[str, Any] = {field: getattr(course, field) or "" for field in (
        "code", "hours", *(f"{kind}_{language}" for kind in ("title", "description")
                           for language in LANGUAGES))}
    values.update(track_id=course.track_id, level=course.level.value,
                  certification_ids=[c.id for c in course.certifications])
    return _render_course_form(course, values, {})


@admin.post("/courses/<int:course_id>/retire")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def retire(course_id: int):
    course = get_course(course_id)
    try:
        retire_course(course)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("catalogue_admin.edit_course", course_id=course_id))
    flash(_("Retired %(code)s: it stays in history and can no longer be scheduled.",
            code=course.code), "success")
    return redirect(url_for("catalogue_admin.courses"))


# --- HQ: tracks and certifications (small lists edited with one simple form each) -------------

def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _save(schema: Schema, template: str, save: Callable[[dict], Any], label: str, done: str,
          **context: Any):
    """Parse the form with `schema`, call `save(data)`, flash "Saved <label>" and go to `done`;
    re-render the form with its errors otherwise."""
    values = _form_values()
    try:
        saved = save(schema.load(values))
    except ValidationError as error:
        return render_template(template, values=values, errors=_flat(error.messages),
                               **context), 422
    except AppError as error:
        db.session.rollback()
        return render_template(template, values=values, errors=error.fields,
                               message=error.message, **context), error.status
    flash(_("Saved %(name)s.", name=getattr(saved, label)), "success")
    return redirect(url_for(done))


@admin.get("/tracks")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def tracks():
    fmt = requested_format()
    search = request.args.get("q", "")[:200].strip()
    active = course_counts_by_track()
    total = course_counts_by_track(include_retired=True)
    if fmt:
        columns = (Column(_l("Name"), lambda track: track.name),
                   Column(_l("Slug"), lambda track: track.slug),
                   Column(_l("Active courses"), lambda track: active.get(track.id, 0), "number"),
                   Column(_l("All courses"), lambda track: total.get(track.id, 0), "number"))
        return table_response(fmt, "tracks", columns, stream(tracks_query(search)))
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(tracks_query(search), page=max(page, 1), per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("catalogue/tracks.html", pagination=pagination, search=search,
                           active=active, total=total)


@admin.route("/tracks/new", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def new_track():
    if request.method == "POST":
        return _save(TrackInputSchema(), "catalogue/track_form.html", create_track, "name",
                     "catalogue_admin.tracks", track=None)
    return render_template("catalogue/track_form.html", track=None, values={}, errors={})


@admin.route("/tracks/<int:track_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def edit_track(track_id: int):
    track = get_track(track_id)
    if request.method == "POST":
        return _save(TrackInputSchema(), "catalogue/track_form.html",
                     lambda data: update_track(track, data), "name", "catalogue_admin.tracks",
                     track=track)
    return render_template("catalogue/track_form.html", track=track,
                           values={"slug": track.slug, "name": track.name}, errors={})


@admin.get("/certifications")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def certifications():
    fmt = requested_format()
    search = request.args.get("q", "")[:200]
    if fmt:
        counts = course_counts_by_certification()
        columns = (Column(_l("Issuer"), lambda c: c.issuer),
                   Column(_l("Exam code"), lambda c: c.exam_code, width=12),
                   Column(_l("Name"), lambda c: c.name, width=40),
                   Column(_l("Courses"), lambda c: counts.get(c.id, 0), "number"))
        return table_response(fmt, "certifications", columns,
                              stream(certifications_query(search)))
    page = request.args.get("page", 1, type=int) or 1
    pagination = db.paginate(certifications_query(search), page=max(page, 1), per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("catalogue/certifications.html", pagination=pagination, search=search,
                           counts=course_counts_by_certification())


@admin.route("/certifications/new", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def new_certification():
    if request.method == "POST":
        return _save(CertificationInputSchema(), "catalogue/certification_form.html",
                     create_certification, "exam_code", "catalogue_admin.certifications",
                     certification=None)
    return render_template("catalogue/certification_form.html", certification=None, values={},
                           errors={})


@admin.route("/certifications/<int:certification_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def edit_certification(certification_id: int):
    certification = get_certification(certification_id)
    if request.method == "POST":
        return _save(CertificationInputSchema(), "catalogue/certification_form.html",
                     lambda data: update_certification(certification, data), "exam_code",
                     "catalogue_admin.certifications", certification=certification)
    values = {"issuer": certification.issuer, "exam_code": certification.exam_code,
              "name": certification.name}
    return render_template("catalogue/certification_form.html", certification=certification,
                           values=values, errors={})

