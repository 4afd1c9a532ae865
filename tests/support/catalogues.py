"""The translation catalogues as they are now, for the tests that read pages in a language.

The suite's apps read no catalogue (tests/conftest.py: English, the source language). A test that
checks translated pages asks for `translated`: the committed .po files compiled as `make
translations` compiles them (fuzzy entries left out), whether or not that ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import get_babel

from core.extensions import TRANSLATIONS_CACHE_KEY

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def compile_catalogues(folder: Path) -> Path:
    """Every translations/<language>/LC_MESSAGES/messages.po compiled into `folder`."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        language = po_path.parent.parent.name
        with open(po_path, "rb") as po:
            messages = read_po(po, locale=language)
        target = folder / language / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with open(target / "messages.mo", "wb") as mo:
            write_mo(mo, messages)
    return folder


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> Path:
    return compile_catalogues(tmp_path_factory.mktemp("translations"))


@pytest.fixture
def translated(app: Flask, compiled: Path) -> Iterator[Path]:
    """The app reads the compiled catalogues for one test (its catalogue cache emptied before
    and after)."""
    state = get_babel(app)
    saved = state.translation_directories
    state.translation_directories = [str(compiled)]
    cache = app.extensions.setdefault(TRANSLATIONS_CACHE_KEY, {})
    cache.clear()
    yield compiled
    state.translation_directories = saved
    cache.clear()
