"""Catalogue input and output, shared by the HQ pages, the public pages and the JSON API."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, post_load, pre_load, validate

from core.api import PageArgsSchema
from core.catalogue.models import LANGUAGES, Course, CourseLevel

# Like campus slugs: lower-case letters, digits and hyphens, starting with a letter.
TRACK_SLUG_PATTERN = re.compile(r"[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?")
COURSE_CODE_PATTERN = re.compile(r"[A-Z0-9-]{2,32}")
EXAM_CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9._-]{1,31}")
LEVELS = tuple(level.value for level in CourseLevel)
MAX_HOURS = 10_000

TRACK_SLUG = validate.Regexp(
    TRACK_SLUG_PATTERN, error=_l("Use 1 to 40 lower-case letters, digits and hyphens, starting "
                                 "with a letter and not ending with a hyphen."))
COURSE_CODE = validate.Regexp(
    COURSE_CODE_PATTERN, error=_l("Use 2 to 32 capital letters, digits and hyphens, e.g. CYB-101."))
EXAM_CODE = validate.Regexp(
    EXAM_CODE_PATTERN, error=_l("Use 2 to 32 capital letters, digits, dots, hyphens or "
                                "underscores, e.g. SC-900."))


def _clean(data: Any, *, upper: tuple[str, ...] = (), lower: tuple[str, ...] = (),
           optional: tuple[str, ...] = ()) -> Any:
    """Strip text, change the case of codes, and turn blank optional fields into None."""
    if not isinstance(data, dict):
        return data
    cleaned = dict(data)
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        value = value.strip()
        if key in upper:
            value = value.upper()
        elif key in lower:
            value = value.lower()
        cleaned[key] = None if key in optional and not value else value
    return cleaned


def _one_line(value: str) -> str:
    return " ".join(value.split())


class WholeNumber(fields.Integer):
    """An integer from JSON (`7`) or a form (`"7"`); `2.5` is refused, not truncated to 2."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


# --- tracks ----------------------------------------------------------------------------------

class TrackInputSchema(Schema):
    slug = fields.String(required=True, validate=TRACK_SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _clean(data, lower=("slug",))

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        if "name" in data:
            data["name"] = _one_line(data["name"])
        return data


class TrackSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()


# --- certifications --------------------------------------------------------------------------

class CertificationInputSchema(Schema):
    issuer = fields.String(required=True, validate=validate.Length(min=1, max=80))
    exam_code = fields.String(required=True, validate=EXAM_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _clean(data, upper=("exam_code",))

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        for key in ("issuer", "name"):
            if key in data:
                data[key] = _one_line(data[key])
        return data


class CertificationSchema(Schema):
    id = fields.Integer()
    issuer = fields.String()
    exam_code = fields.String()
    name = fields.String()


# --- courses ---------------------------------------------------------------------------------

_OPTIONAL_TEXT = tuple(f"{kind}_{language}" for kind in ("title", "description")
                       for language in LANGUAGES if language != "en")


class CourseInputSchema(Schema):
    code = fields.String(required=True, validate=COURSE_CODE)
    track_id = WholeNumber(required=True)
    hours = WholeNumber(required=True,
                           validate=validate.Range(min=1, max=MAX_HOURS,
                                                   error=_l("Enter a number of hours from 1 to "
                                                            "{max}.")))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    title_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_fr = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=200))
    title_nl = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=200))
    title_it = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=200))
    description_en = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    description_fr = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=20_000))
    description_nl = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=20_000))
    description_it = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=20_000))
    certification_ids = fields.List(WholeNumber(), load_default=list,
                                    validate=validate.Length(max=50))

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _clean(data, upper=("code",), lower=("level",), optional=_OPTIONAL_TEXT)

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        for key in ("title_en", "title_fr", "title_nl", "title_it"):
            if data.get(key):
                data[key] = _one_line(data[key])
        if "level" in data:
            data["level"] = CourseLevel(data["level"])
        if "certification_ids" in data:
            data["certification_ids"] = list(dict.fromkeys(data["certification_ids"]))
        return data


class CourseArgsSchema(PageArgsSchema):
    """Filters of course lists: `track` is a track slug or id."""

    track = fields.String(load_default=None, validate=validate.Length(max=40),
                          metadata={"description": "Track slug (e.g. cybersecurity) or id"})
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    include_retired = fields.Boolean(load_default=False)
    lang = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES),
                         metadata={"description": "Language of `title` and `description`; "
                                                  "default: the site's locale"})

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _clean(data, lower=("track", "level", "lang"),
                      optional=("track", "level", "lang"))


class LanguageArgsSchema(Schema):
    lang = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES),
                         metadata={"description": "Language of `title` and `description`; "
                                                  "default: the site's locale"})

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _clean(data, lower=("lang",), optional=("lang",))


class TranslationsSchema(Schema):
    en = fields.String()
    fr = fields.String(allow_none=True)
    nl = fields.String(allow_none=True)
    it = fields.String(allow_none=True)


class CourseSchema(Schema):
    """A course as anyone may read it; `title` and `description` in `language`, else English."""

    id = fields.Integer()
    code = fields.String()
    title = fields.Method("localised_title", metadata={"type": "string"})
    titles = fields.Nested(TranslationsSchema)
    description = fields.Method("localised_description", metadata={"type": "string"})
    descriptions = fields.Nested(TranslationsSchema)
    hours = fields.Integer()
    level = fields.Function(lambda course: course.level.value,
                            metadata={"type": "string", "enum": list(LEVELS)})
    track = fields.Nested(TrackSchema)
    certifications = fields.List(fields.Nested(CertificationSchema))
    retired = fields.Boolean(attribute="is_retired")
    retired_at = fields.DateTime(allow_none=True)

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = language

    def localised_title(self, course: Course) -> str:
        return course.title(self.language)

    def localised_description(self, course: Course) -> str:
        return course.description(self.language)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr in ("titles", "descriptions"):  # every language, None where not translated
            kind = attr.removesuffix("s")
            return {language: getattr(obj, f"{kind}_{language}") for language in LANGUAGES}
        return super().get_attribute(obj, attr, default)
