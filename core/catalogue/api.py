"""`/api/v1/catalogue`: courses readable by anyone on every site; HQ edits them on `hq.` only."""

from __future__ import annotations

from flask import Blueprint

from core.api import PageArgsSchema, load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.catalogue.schemas import (
    CertificationInputSchema,
    CertificationSchema,
    CourseArgsSchema,
    CourseInputSchema,
    CourseSchema,
    LanguageArgsSchema,
    TrackInputSchema,
    TrackSchema,
)
from core.catalogue.services import (
    certifications_query,
    courses_query,
    create_certification,
    create_course,
    create_track,
    get_certification,
    get_course,
    get_track,
    retire_course,
    tracks_query,
    update_certification,
    update_course,
    update_track,
)
from core.i18n import current_language as request_language
from core.openapi import documented
from core.sites import SiteKind, on_sites, public

bp = Blueprint("catalogue_api", __name__, url_prefix="/api/v1/catalogue")

EDITORS = (Role.HQ_ADMIN,)
WRITE_ERRORS = (401, 403, 404, 409, 422)


def current_language(requested: str | None = None) -> str:
    """`requested`, else the request's language (core.i18n: `fr_BE` → `fr`); titles fall back
    to English."""
    return requested or request_language()


def _course(course, language: str | None = None) -> dict:
    return CourseSchema(language=current_language(language)).dump(course)


# --- courses ---------------------------------------------------------------------------------

@bp.get("/courses")
@documented("Courses of the shared catalogue (retired ones only with include_retired=true)",
            query=CourseArgsSchema, response=CourseSchema, paginated=True, errors=(422,))
@on_sites(*SiteKind)
@public
def list_courses():
    args = load_args(CourseArgsSchema())
    statement = courses_query(track=args["track"], level=args["level"], search=args["q"],
                              include_retired=args["include_retired"])
    schema = CourseSchema(language=current_language(args["lang"]))
    return paginated(statement, schema, args["page"], args["per_page"])


@bp.post("/courses")
@documented("Add a course to the catalogue (HQ)", body=CourseInputSchema, response=CourseSchema,
            status=201, errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create():
    course = create_course(load_json(CourseInputSchema()))
    return _course(course), 201


@bp.get("/courses/<int:course_id>")
@documented("One course, retired or not", query=LanguageArgsSchema, response=CourseSchema,
            errors=(404, 422))
@on_sites(*SiteKind)
@public
def show(course_id: int):
    args = load_args(LanguageArgsSchema())
    return _course(get_course(course_id), args["lang"])


@bp.patch("/courses/<int:course_id>")
@documented("Change a course (HQ); certification_ids replaces the list", body=CourseInputSchema,
            response=CourseSchema, errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update(course_id: int):
    course = get_course(course_id)
    data = load_json(CourseInputSchema(), partial=True)
    return _course(update_course(course, data))


@bp.post("/courses/<int:course_id>/retire")
@documented("Retire a course (HQ): kept for history, no longer schedulable or listed",
            response=CourseSchema, errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def retire(course_id: int):
    return _course(retire_course(get_course(course_id)))


# --- tracks ----------------------------------------------------------------------------------

@bp.get("/tracks")
@documented("Tracks of the catalogue (HQ)", query=PageArgsSchema, response=TrackSchema,
            paginated=True, errors=(401, 403, 404, 422))
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def list_tracks():
    args = load_args(PageArgsSchema())
    return paginated(tracks_query(args["q"]), TrackSchema(), args["page"], args["per_page"])


@bp.post("/tracks")
@documented("Add a track (HQ)", body=TrackInputSchema, response=TrackSchema, status=201,
            errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create_one_track():
    return TrackSchema().dump(create_track(load_json(TrackInputSchema()))), 201


@bp.patch("/tracks/<int:track_id>")
@documented("Change a track (HQ)", body=TrackInputSchema, response=TrackSchema,
            errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update_one_track(track_id: int):
    track = get_track(track_id)
    return TrackSchema().dump(update_track(track, load_json(TrackInputSchema(), partial=True)))


# --- certifications --------------------------------------------------------------------------

@bp.get("/certifications")
@documented("Certifications courses prepare for (HQ)", query=PageArgsSchema,
            response=CertificationSchema, paginated=True, errors=(401, 403, 404, 422))
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def list_certifications():
    args = load_args(PageArgsSchema())
    return paginated(certifications_query(args["q"]), CertificationSchema(), args["page"],
                     args["per_page"])


@bp.post("/certifications")
@documented("Add a certification (HQ)", body=CertificationInputSchema,
            response=CertificationSchema, status=201, errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create_one_certification():
    certification = create_certification(load_json(CertificationInputSchema()))
    return CertificationSchema().dump(certification), 201


@bp.patch("/certifications/<int:certification_id>")
@documented("Change a certification (HQ)", body=CertificationInputSchema,
            response=CertificationSchema, errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update_one_certification(certification_id: int):
    certification = get_certification(certification_id)
    data = load_json(CertificationInputSchema(), partial=True)
    return CertificationSchema().dump(update_certification(certification, data))
