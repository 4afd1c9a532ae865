"""Catalogue rules: tracks, certifications and courses (global tables HQ owns).

Every campus reads the catalogue; only HQ changes it (the views and API enforce who). A retired
course stays for history (cohorts, awards and reports keep pointing at it) but can no longer be
scheduled: cohorts take their course through `schedulable_course`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.catalogue.models import (
    LANGUAGES,
    Certification,
    Course,
    CourseLevel,
    Track,
    course_certifications,
)
from core.catalogue.schemas import (
    COURSE_CODE_PATTERN,
    EXAM_CODE_PATTERN,
    MAX_HOURS,
    TRACK_SLUG_PATTERN,
)
from core.database import like_pattern, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db

COURSE_FIELDS = ("code", "track_id", "hours", "level",
                 *(f"{kind}_{language}" for kind in ("title", "description")
                   for language in LANGUAGES))


MAX_ID = 2**63 - 1  # BIGINT: a larger id in a URL or body names no row (and must not reach SQL)


def _get(model: type, row_id: Any, **kwargs: Any) -> Any:
    """`model` row `row_id`, or None for a missing row or an id no row can have."""
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 < row_id <= MAX_ID:
        return None
    return db.session.get(model, row_id, **kwargs)


def _write(change: Callable[[], Any], conflict: Conflict) -> None:
    """Make `change` and flush it in a savepoint; a unique key taken meanwhile by a concurrent
    request becomes `conflict`, and the session stays usable (the savepoint undoes `change`)."""
    try:
        with db.session.begin_nested():
            change()
            db.session.flush()
    except IntegrityError as error:
        raise conflict from error


def _assign(row: Any, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in data:
            setattr(row, field, data[field])


def _taken(column, value: Any, own_id: int | None) -> bool:
    model = column.class_
    statement = select(func.count()).select_from(model).where(column == value)
    if own_id is not None:
        statement = statement.where(model.id != own_id)
    return bool(db.session.scalar(statement))


# --- tracks ----------------------------------------------------------------------------------

def tracks_query(search: str = "") -> Select:
    """Every track, by name, optionally filtered by name or slug."""
    statement = select(Track).order_by(Track.name, Track.id)
    if term := search.strip():
        pattern = like_pattern(term)
        statement = statement.where(or_(Track.name.ilike(pattern, escape="\\"),
                                        Track.slug.ilike(pattern, escape="\\")))
    return statement


def list_tracks() -> list[Track]:
    return list(db.session.scalars(tracks_query()))


def course_counts_by_track(include_retired: bool = False) -> dict[int, int]:
    """Track id → number of its courses (retired ones only when asked), in one query."""
    statement = select(Course.track_id, func.count()).group_by(Course.track_id)
    if not include_retired:
        statement = statement.where(Course.retired_at.is_(None))
    return {track_id: count for track_id, count in db.session.execute(statement)}


def get_track(track_id: int) -> Track:
    """Track `track_id`; raises NotFound."""
    track = _get(Track, track_id)
    if track is None:
        raise NotFound(_("No such track."))
    return track


def _check_track(data: dict[str, Any], track: Track | None) -> None:
    if "slug" in data:
        if not TRACK_SLUG_PATTERN.fullmatch(data["slug"] or ""):
            raise InvalidInput(_("Some fields are invalid."),
                               {"slug": [_("Use lower-case letters, digits and hyphens.")]})
        if _taken(Track.slug, data["slug"], track.id if track else None):
            raise _duplicate_slug()
    if "name" in data and not (data["name"] or "").strip():
        raise InvalidInput(_("Some fields are invalid."), {"name": [_("Enter a name.")]})


def _duplicate_slug() -> Conflict:
    return Conflict(_("A track with this slug already exists."),
                    {"slug": [_("Already used by another track.")]}, code="duplicate_slug")


def create_track(data: dict[str, Any]) -> Track:
    """Add a track; raises InvalidInput for a bad slug or name, Conflict for a taken slug."""
    _check_track(data, None)
    track = Track(slug=data["slug"], name=data["name"])
    _write(lambda: db.session.add(track), _duplicate_slug())
    return track


def update_track(track: Track, data: dict[str, Any]) -> Track:
    """Change the given fields of `track`; raises as `create_track`."""
    _check_track(data, track)
    _write(lambda: _assign(track, data, ("slug", "name")), _duplicate_slug())
    return track


# --- certifications --------------------------------------------------------------------------

def certifications_query(search: str = "") -> Select:
    """Every certification, by issuer then exam code, optionally filtered by any of its texts."""
    statement = select(Certification).order_by(Certification.issuer, Certification.exam_code)
    if term := search.strip():
        pattern = like_pattern(term)
        statement = statement.where(or_(Certification.issuer.ilike(pattern, escape="\\"),
                                        Certification.exam_code.ilike(pattern, escape="\\"),
                                        Certification.name.ilike(pattern, escape="\\")))
    return statement


def list_certifications() -> list[Certification]:
    return list(db.session.scalars(certifications_query()))


def course_counts_by_certification() -> dict[int, int]:
    """Certification id → number of courses (retired included) preparing for it, in one query."""
    statement = (select(course_certifications.c.certification_id, func.count())
                 .group_by(course_certifications.c.certification_id))
    return {cert_id: count for cert_id, count in db.session.execute(statement)}


def get_certification(certification_id: int) -> Certification:
    """Certification `certification_id`; raises NotFound."""
    certification = _get(Certification, certification_id)
    if certification is None:
        raise NotFound(_("No such certification."))
    return certification


def _duplicate_exam_code() -> Conflict:
    return Conflict(_("A certification with this exam code already exists."),
                    {"exam_code": [_("Already used by another certification.")]},
                    code="duplicate_exam_code")


def _check_certification(data: dict[str, Any], certification: Certification | None) -> None:
    errors: dict[str, list[str]] = {}
    for field in ("issuer", "name"):
        if field in data and not (data[field] or "").strip():
            errors[field] = [_("This field is required.")]
    if "exam_code" in data and not EXAM_CODE_PATTERN.fullmatch(data["exam_code"] or ""):
        errors["exam_code"] = [_("Use capital letters, digits, dots, hyphens or underscores.")]
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    if "exam_code" in data and _taken(Certification.exam_code, data["exam_code"],
                                      certification.id if certification else None):
        raise _duplicate_exam_code()


def create_certification(data: dict[str, Any]) -> Certification:
    """Add a certification; raises InvalidInput, or Conflict for a taken exam code."""
    _check_certification(data, None)
    certification = Certification(issuer=data["issuer"], exam_code=data["exam_code"],
                                  name=data["name"])
    _write(lambda: db.session.add(certification), _duplicate_exam_code())
    return certification


def update_certification(certification: Certification, data: dict[str, Any]) -> Certification:
    """Change the given fields of `certification`; raises as `create_certification`."""
    _check_certification(data, certification)
    _write(lambda: _assign(certification, data, ("issuer", "exam_code", "name")),
           _duplicate_exam_code())
    return certification


# --- courses ---------------------------------------------------------------------------------

def _track_filter(statement: Select, track: str | int | None) -> Select:
    if track is None or track == "":
        return statement
    # Slugs start with a letter, so digits can only be an id.
    if isinstance(track, int) or (str(track).isascii() and str(track).isdigit()):
        track_id = int(track)
        return statement.where(Course.track_id == track_id if track_id <= MAX_ID else false())
    return statement.where(Course.track_id.in_(select(Track.id).where(Track.slug == track)))


def courses_query(
    *,
    track: str | int | None = None,
    level: CourseLevel | str | None = None,
    search: str = "",
    include_retired: bool = False,
    retired_only: bool = False,
) -> Select:
    """Courses by code with their track and certifications loaded in two more queries (no N+1).

    `track` is a track slug or id; `search` matches the code and the title in any language.
    Retired courses are left out unless `include_retired` (or `retired_only`) is set.
    """
    statement = (select(Course)
                 .options(selectinload(Course.track), selectinload(Course.certifications))
                 .order_by(Course.code, Course.id))
    statement = _track_filter(statement, track)
    if level:
        statement = statement.where(Course.level == CourseLevel(level))
    if retired_only:
        statement = statement.where(Course.retired_at.is_not(None))
    elif not include_retired:
        statement = statement.where(Course.retired_at.is_(None))
    if term := search.strip():
        pattern = like_pattern(term)
        statement = statement.where(or_(
            Course.code.ilike(pattern, escape="\\"),
            *(getattr(Course, f"title_{language}").ilike(pattern, escape="\\")
              for language in LANGUAGES),
        ))
    return statement


def catalogue_by_track(**filters: Any) -> list[tuple[Track, list[Course]]]:
    """The courses of `courses_query(**filters)` grouped by track, tracks by name."""
    groups: dict[int, tuple[Track, list[Course]]] = {}
    for course in db.session.scalars(courses_query(**filters)):
        groups.setdefault(course.track_id, (course.track, []))[1].append(course)
    return sorted(groups.values(), key=lambda group: (group[0].name.casefold(), group[0].id))


def get_course(course_id: int) -> Course:
    """Course `course_id`, retired or not, with its track and certifications; raises NotFound."""
    course = _get(Course, course_id, options=[selectinload(Course.track),
                                                        selectinload(Course.certifications)])
    if course is None:
        raise NotFound(_("No such course."))
    return course


def schedulable_course(course_id: int | None) -> Course:
    """The course a new cohort may run; raises InvalidInput on `course_id` when it is missing
    or retired (a retired course stays in history but is no longer taught)."""
    course = _get(Course, course_id)
    if course is None:
        raise InvalidInput(_("Choose a course from the catalogue."),
                           {"course_id": [_("No such course in the catalogue.")]})
    if course.is_retired:
        raise InvalidInput(_("This course is retired and can no longer be scheduled."),
                           {"course_id": [_("This course is retired.")]})
    return course


def _duplicate_code() -> Conflict:
    return Conflict(_("A course with this code already exists."),
                    {"code": [_("Already used by another course.")]}, code="duplicate_code")


def _certifications(ids: Iterable[int]) -> list[Certification]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    valid = [i for i in wanted if isinstance(i, int) and 0 < i <= MAX_ID]
    found = {c.id: c for c in db.session.scalars(
        select(Certification).where(Certification.id.in_(valid)))} if valid else {}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(_("Some fields are invalid."), {"certification_ids": [
            _("No such certification: %(ids)s.", ids=", ".join(map(str, missing)))]})
    return [found[i] for i in wanted]


def _course_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors of `data` (only the fields it holds), the referenced rows included."""
    errors: dict[str, list[str]] = {}
    if "code" in data and not COURSE_CODE_PATTERN.fullmatch(data["code"] or ""):
        errors["code"] = [_("Use 2 to 32 capital letters, digits and hyphens, e.g. CYB-101.")]
    hours = data.get("hours")
    if "hours" in data and (isinstance(hours, bool) or not isinstance(hours, int)
                            or not 1 <= hours <= MAX_HOURS):
        errors["hours"] = [_("Enter a number of hours from 1 to %(max)d.", max=MAX_HOURS)]
    if "level" in data and data["level"] not in tuple(CourseLevel):
        errors["level"] = [_("Choose a level.")]
    for field in ("title_en", "description_en"):
        if field in data and not (data[field] or "").strip():
            errors[field] = [_("The English text is required.")]
    if "track_id" in data and _get(Track, data["track_id"]) is None:
        errors["track_id"] = [_("No such track.")]
    return errors


def _with_level(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "level": CourseLevel(data["level"])} if "level" in data else data


def create_course(data: dict[str, Any]) -> Course:
    """Add a course to the catalogue.

    Raises InvalidInput naming each bad field (code, hours, level, English title and description,
    an unknown track or certification), Conflict `duplicate_code` for a code already used.
    """
    errors = _course_errors(data)
    for field in ("code", "track_id", "hours", "level", "title_en", "description_en"):
        if field not in data:
            errors.setdefault(field, [_("This field is required.")])
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    data = _with_level(data)
    certifications = _certifications(data.get("certification_ids") or [])
    if _taken(Course.code, data["code"], None):
        raise _duplicate_code()
    course = Course(certifications=certifications)
    _assign(course, data, COURSE_FIELDS)
    _write(lambda: db.session.add(course), _duplicate_code())
    return course


def update_course(course: Course, data: dict[str, Any]) -> Course:
    """Change the given fields of `course` (retired or not); `certification_ids`, when given,
    replaces the list. Raises as `create_course`."""
    errors = _course_errors(data)
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    data = _with_level(data)
    certifications = None
    if "certification_ids" in data:
        certifications = _certifications(data["certification_ids"] or [])
    if "code" in data and _taken(Course.code, data["code"], course.id):
        raise _duplicate_code()

    def change() -> None:
        _assign(course, data, COURSE_FIELDS)
        if certifications is not None:
            course.certifications = certifications

    _write(change, _duplicate_code())
    return course


def retire_course(course: Course) -> Course:
    """Retire `course`: it stays in history, leaves the public catalogue and can no longer be
    scheduled. Raises Conflict `already_retired` when it is retired already."""
    if course.is_retired:
        raise Conflict(_("%(code)s is already retired.", code=course.code),
                       code="already_retired")
    course.retired_at = utcnow()
    db.session.flush()
    return course
