"""Demo data: each feature package registers a seeder; `flask seed-demo` runs them in order."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from core.progress import Progress, no_progress

_EXTENSION_KEY = "campusflow.seeders"
Seeder = Callable[[str], list[str]]


def register_seeder(app: Flask, seeder: Seeder) -> None:
    """`seeder(password)` creates what is missing and returns the sign-ins it knows about."""
    app.extensions.setdefault(_EXTENSION_KEY, []).append(seeder)


def seeders(app: Flask) -> list[Seeder]:
    return list(app.extensions.get(_EXTENSION_KEY, []))


def run_seeders(app: Flask, password: str, progress: Progress = no_progress) -> list[str]:
    """Run every seeder in order (one item of progress each); the sign-ins they return."""
    sign_ins: list[str] = []
    todo = seeders(app)
    with progress("Seeding demo data", len(todo)) as advance:
        for seeder in todo:
            sign_ins.extend(seeder(password))
            advance(1)
    return sign_ins
