"""Languages and locales: the one place that decides how a request speaks and formats.

A *language* (`en`, `fr`, `nl`, `it`, `ar`) picks the translations; a *locale* (`fr_BE`, `nl_NL`,
`fr_MA`…) also picks how dates, numbers and money are written. The request's locale is the
language chosen by these rules, written in the territory of the campus (or, off campus sites, of
the browser) when Babel knows that combination: "fr" on a Belgian campus is `fr_BE`.

The language, first one offered on the page wins:

1. the person's explicit choice: the session (the switcher, `POST /language`), then the signed-in
   user's saved choice (`user.locale`);
2. the campus's default (`campus.default_locale`), on a campus site;
3. the browser's Accept-Language;
4. English.

English, French, Dutch and Italian are offered everywhere. Arabic is offered only on the public
pages that an anonymous visitor sees on a campus in a country listed in `REGIONAL_LANGUAGES`
(Casablanca), written right to left; everywhere else a choice of Arabic is ignored.

Translations load from the language part: Babel's `Translations.load` looks for `fr_BE`, then
`fr` (gettext's own fallback), so one catalogue per language serves every territory.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import Forbidden, InvalidInput
from core.sites import SiteKind, current_site, on_sites, public

DEFAULT_LANGUAGE = "en"
# Every screen, e-mail and PDF exists in these.
LANGUAGES = ("en", "fr", "nl", "it")
# Languages offered only on the public pages of campuses in these countries.
REGIONAL_LANGUAGES: dict[str, frozenset[str]] = {"ar": frozenset({"MA"})}
RTL_LANGUAGES = frozenset({"ar"})
# Each language in its own name, as the switcher shows it (never translated).
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands", "it": "Italiano",
                  "ar": "العربية"}
# Blueprints whose public views are the door to the signed-in sites (sign-in, sign-out), not
# public pages: they speak only the languages offered everywhere.
SIGNED_IN_DOORS = frozenset({"auth"})
SESSION_KEY = "locale"

bp = Blueprint("i18n", __name__)


# --- the rules ---------------------------------------------------------------------------------

def language_of(locale: str | Locale | None) -> str | None:
    """`fr` for `fr_BE`, `fr-BE` or `fr`; None for nothing."""
    if not locale:
        return None
    return str(locale).replace("-", "_").split("_")[0].lower() or None


def territorial_locale(language: str, *territories: str | None) -> str:
    """`language` in the first of `territories` Babel knows (`fr` + BE → `fr_BE`), else plain
    `language` (`it` + BE → `it`: Babel has no it_BE)."""
    for territory in territories:
        if not territory:
            continue
        try:
            return str(Locale.parse(f"{language}_{territory.upper()}"))
        except (UnknownLocaleError, ValueError):
            continue
    return language


def territory_of(locale: str | None) -> str | None:
    """`BE` for `fr_BE`; None when the locale names no territory or is unknown."""
    if not locale:
        return None
    try:
        return Locale.parse(locale.replace("-", "_")).territory
    except (UnknownLocaleError, ValueError):
        return None


def visitors_public_page() -> bool:
    """True on a page where the regional languages of the campus's country are offered: a
    public page of a campus site, seen by an anonymous visitor (or a page that does not exist,
    whose error page they see)."""
    site = current_site()
    if site is None or site.kind is not SiteKind.CAMPUS:
        return False
    if getattr(current_user, "is_authenticated", False):
        return False
    if request.blueprint in SIGNED_IN_DOORS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return view is None or bool(getattr(view, "is_public", False))


def offered_languages() -> tuple[str, ...]:
    """The languages this request's page may speak, in the switcher's order."""
    if not has_request_context():
        return LANGUAGES
    country = g.get("site_country")
    regional = tuple(language for language, countries in REGIONAL_LANGUAGES.items()
                     if country in countries)
    if regional and visitors_public_page():
        return LANGUAGES + regional
    return LANGUAGES


def chosen_language(offered: tuple[str, ...]) -> str | None:
    """The person's explicit choice, if this page offers it: the session's, else the signed-in
    user's saved one."""
    for candidate in (session.get(SESSION_KEY), _saved_language()):
        if language_of(candidate) in offered:
            return language_of(candidate)
    return None


def _saved_language() -> str | None:
    if getattr(current_user, "is_authenticated", False):
        return getattr(current_user, "locale", None)
    return None


def browser_language(offered: tuple[str, ...]) -> str | None:
    """The browser's preferred language among `offered` (`fr-BE` matches `fr`)."""
    for value, _quality in request.accept_languages:
        language = language_of(value)
        if language in offered:
            return language
    return None


def browser_territory(language: str) -> str | None:
    """The territory the browser asks `language` in (`fr-BE` → BE), if it names one."""
    for value, _quality in request.accept_languages:
        if language_of(value) == language:
            territory = territory_of(value)
            if territory:
                return territory
    return None


def select_locale() -> str | None:
    """Flask-Babel's locale selector: the request's locale by the rules above (CLI: None, which
    is English)."""
    if not has_request_context():
        return None
    offered = offered_languages()
    site_locale = g.get("site_locale")
    campus_language = language_of(site_locale)
    language = (chosen_language(offered)
                or (campus_language if campus_language in offered else None)
                or browser_language(offered)
                or DEFAULT_LANGUAGE)
    return territorial_locale(language, territory_of(site_locale), browser_territory(language))


def current_language() -> str:
    """The language of the current request (`fr` when the locale is `fr_BE`); English outside
    one."""
    return language_of(get_locale()) or DEFAULT_LANGUAGE


def text_direction() -> str:
    """"rtl" when the current language is written right to left, else "ltr"."""
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def language_choices() -> list[dict[str, Any]]:
    """The switcher's entries: code, own name, direction, and whether it is the current one."""
    current = current_language()
    return [{"code": code, "name": LANGUAGE_NAMES[code],
             "dir": "rtl" if code in RTL_LANGUAGES else "ltr", "current": code == current}
            for code in offered_languages()]


def return_path() -> str:
    """Where the switcher sends the person back: this page when it was a GET, else the page
    they came from on this site, else the site's home."""
    from core.auth.views import safe_next

    if request.method in ("GET", "HEAD"):
        path = request.full_path.rstrip("?")
        return safe_next(path) or "/"
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return safe_next("/" + referrer[len(request.host_url):]) or "/"
    return "/"


# --- the switcher ----------------------------------------------------------------------------

@bp.post("/language")
@on_sites(*SiteKind)
@public
def choose_language():
    """Remember the language chosen with the switcher and go back to the page (`next`, a path of
    this site). Signed in: also saved on the user, for their next sessions.

    The switcher is in the header of every page, public ones included, so it carries no CSRF
    token (rendering one would open a session for every visitor of every page). A forged
    cross-site post is refused by its Origin (or Sec-Fetch-Site) header instead, and with
    SameSite=Lax cookies it carries no session anyway."""
    from core.auth.views import safe_next

    if not same_origin():
        raise Forbidden(_("The language can only be changed from this site."))
    language = language_of(request.form.get("locale"))
    if language not in offered_languages():
        raise InvalidInput(_("Choose one of the languages offered."),
                           fields={"locale": [_("This language is not offered here.")]})
    session[SESSION_KEY] = language
    if getattr(current_user, "is_authenticated", False):
        current_user.locale = language
    with force_locale(territorial_locale(language, territory_of(g.get("site_locale")))):
        flash(_("Language changed: %(language)s.", language=LANGUAGE_NAMES[language]), "info")
    return redirect(safe_next(request.form.get("next")) or "/")


choose_language.csrf_exempt = True  # type: ignore[attr-defined]  (same_origin instead)


def same_origin() -> bool:
    """False when the browser says the request comes from another site: an Origin header that
    is not this host's, or Sec-Fetch-Site cross-site. Clients that send neither pass."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    origin = request.headers.get("Origin")
    return origin is None or _origin_key(origin) == _origin_key(request.host_url)


def _origin_key(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port spelled out ("null" → empty)."""
    parts = urlsplit(url.strip().lower())
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").rstrip("."), port


def init_app(app: Flask) -> None:
    """The switcher's route and the template helpers `current_language`, `text_direction`,
    `language_choices` and `language_return_path`."""
    app.register_blueprint(bp)

    @app.context_processor
    def language_globals() -> dict[str, Any]:
        return {"current_language": current_language, "text_direction": text_direction,
                "language_choices": language_choices, "language_return_path": return_path}
