"""Demo data: each feature package registers a seeder; `flask seed-demo` runs them in order."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

_EXTENSION_KEY = "campusflow.seeders"
Seeder = Callable[[str], list[str]]


def register_seeder(app: Flask, seeder: Seeder) -> None:
    """`seeder(password)` creates what is missing and returns the sign-ins it knows about."""
    app.extensions.setdefault(_EXTENSION_KEY, []).append(seeder)


def seeders(app: Flask) -> list[Seeder]:
    return list(app.extensions.get(_EXTENSION_KEY, []))
