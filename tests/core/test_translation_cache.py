"""Each app keeps the catalogues it loaded: Flask-Babel's own cache is one per process, keyed by
locale alone (core/extensions.py AppDomain)."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from core.app import create_app
from tests.conftest import NO_TRANSLATIONS

SIGN_IN = "Sign in"


def make(translations: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "CAMPUSFLOW_DOMAIN": "localhost",
                       "BABEL_TRANSLATION_DIRECTORIES": translations})


def sign_in_in_french(app) -> str:
    with app.test_request_context(), force_locale("fr_BE"):
        return gettext(SIGN_IN)


def test_an_app_without_catalogues_never_reads_another_apps_french(compiled):
    french, english = make(str(compiled)), make(NO_TRANSLATIONS)
    translated = sign_in_in_french(french)
    assert translated != SIGN_IN  # the French catalogue was loaded and cached
    assert sign_in_in_french(english) == SIGN_IN
    assert sign_in_in_french(french) == translated
