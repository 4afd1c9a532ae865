"""Opening and listing campuses."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.sites import RESERVED_SUBDOMAINS
from tenants.campuses.models import Campus, CampusStatus

SLUG_PATTERN = re.compile(r"[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _countries() -> frozenset[str]:
    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())


def validate_slug(slug: str) -> list[str]:
    """Why `slug` cannot name a campus (empty when it can)."""
    if not SLUG_PATTERN.fullmatch(slug):
        return [_("Use 1 to 40 lower-case letters, digits and hyphens, starting with a letter "
                  "and not ending with a hyphen.")]
    if slug in RESERVED_SUBDOMAINS:
        return [_("%(slug)s is reserved.", slug=slug)]
    return []


def create_campus(
    *,
    slug: str,
    name: str,
    city: str,
    country: str,
    currency: str,
    timezone: str,
    locale: str,
    status: CampusStatus | str = CampusStatus.PLANNED,
    opened_on: date | None = None,
) -> Campus:
    """Open a campus; raises InvalidInput naming each bad field, Conflict for a taken slug."""
    slug = slug.strip().lower()
    country, currency = country.strip().upper(), currency.strip().upper()
    errors: dict[str, list[str]] = {}
    if slug_errors := validate_slug(slug):
        errors["slug"] = slug_errors
    if not name.strip():
        errors["name"] = [_("A name is required.")]
    if not city.strip():
        errors["city"] = [_("A city is required.")]
    if country not in _countries():
        errors["country"] = [_("Unknown country code %(code)s (ISO 3166, e.g. BE).", code=country)]
    if currency not in list_currencies():
        errors["currency"] = [_("Unknown currency %(code)s (ISO 4217, e.g. EUR).", code=currency)]
    if timezone not in _timezones():
        errors["timezone"] = [_("Unknown timezone %(tz)s (e.g. Europe/Brussels).", tz=timezone)]
    try:
        locale = str(Locale.parse(locale.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        errors["locale"] = [_("Unknown locale %(locale)s (e.g. fr_BE).", locale=locale)]
    if errors:
        raise InvalidInput(_("The campus could not be created."), errors)
    if db.session.scalar(select(Campus.id).where(Campus.slug == slug)) is not None:
        raise Conflict(_("A campus with slug %(slug)s already exists.", slug=slug),
                       {"slug": [_("Already taken.")]})
    campus = Campus(slug=slug, name=name.strip(), city=city.strip(), country=country,
                    currency=currency, timezone=timezone, default_locale=locale,
                    status=CampusStatus(status), opened_on=opened_on)
    db.session.add(campus)
    db.session.flush()
    return campus


def today_at(campus: Campus) -> date:
    """Today's date where the campus is (its timezone): "not in the future" is the campus's
    calendar, not the server's."""
    return datetime.now(ZoneInfo(campus.timezone)).date()


def campus_by_slug(slug: str) -> Campus | None:
    return db.session.scalar(select(Campus).where(Campus.slug == slug))


def list_campuses() -> list[Campus]:
    return list(db.session.scalars(select(Campus).order_by(Campus.name)))
