"""Command groups of the platform: `flask users …` and `flask seed-demo`; `progress_bar()`,
the progress display of every long command."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from core import mail
from core.auth.models import Role
from core.auth.services import campus_id_for_slug, create_user, partner_id_for_slug
from core.errors import AppError
from core.extensions import db
from core.progress import Advance, Progress
from core.seeding import run_seeders

users = AppGroup("users", help="Accounts and their roles.")


def fail(message: str) -> None:
    """Print `message` to stderr and exit non-zero, leaving the database untouched."""
    db.session.rollback()
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(1)


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--campus", "campus_slug", help="Campus slug (campus_manager, campus_staff).")
@click.option("--partner", "partner_slug", help="Partner slug (partner_contact).")
@click.option("--name", "full_name", help="Full name shown in the interface.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email, role, campus_slug, partner_slug, full_name, password_stdin):
    """Create a user with a role, at a campus or a partner when the role needs one."""
    campus_id = partner_id = None
    if campus_slug:
        campus_id = campus_id_for_slug(campus_slug)
        if campus_id is None:
            fail(f"no campus with slug {campus_slug!r}")
    if partner_slug:
        partner_id = partner_id_for_slug(partner_slug)
        if partner_id is None:
            fail(f"no partner with slug {partner_slug!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, role, password, full_name=full_name,
                           campus_id=campus_id, partner_id=partner_id)
    except AppError as error:
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in error.fields.items())
        fail(f"{error.message} {details}".strip())
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo network (campuses, partners, users); safe to run twice."""
    if current_app.config["CAMPUSFLOW_ENV"] == "production":
        fail("demo accounts share a known password; seed-demo is for development only")
    password = current_app.config["DEMO_PASSWORD"]
    with mail.suppressed():  # demo history: nobody is told about it
        sign_ins = run_seeders(current_app, password, progress=progress_bar())
    db.session.commit()
    click.echo(f"Demo data ready. Sign-ins (password: {password}):")
    for line in sign_ins:
        click.echo("  " + line.replace("http://", current_app.config["PREFERRED_URL_SCHEME"] + "://")
                   .replace("<domain>", current_app.config["CAMPUSFLOW_DOMAIN"]))


# --- progress bars ------------------------------------------------------------------------------

LOG_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal


def progress_stream() -> TextIO:
    """Where progress goes: stderr, so that a command's output (stdout) stays what it was."""
    return sys.stderr


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _elapsed(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else time.strftime("%H:%M:%S", time.gmtime(seconds))


def _status(label: str, done: int, total: int) -> str:
    percent = f" ({done * 100 // total}%)" if total else ""
    return f"{label}: {done}/{total}{percent}"


def progress_bar(*, label_width: int = 0, log_every: float = LOG_EVERY) -> Progress:
    """A `core.progress.Progress` showing each stage of work as a click progress bar on
    stderr: its label (padded to `label_width`), the bar, items done/total, percent and ETA.

    On a terminal the bar redraws in place. Elsewhere (CI, pipes, log files) a bar would only
    print its label: instead each stage writes one line when it ends ("label: done/total
    (percent) in time", or "stopped after" on an error) and, while it runs, one every
    `log_every` seconds with the time left; logs stay readable, one line per stage.
    """

    @contextmanager
    def stage(label: str, total: int) -> Iterator[Advance]:
        stream = progress_stream()
        terminal = _is_terminal(stream)
        started = last_line = time.monotonic()
        done = 0
        with click.progressbar(length=total, label=label.ljust(label_width), file=stream,
                               hidden=not terminal, show_pos=True, show_percent=True,
                               show_eta=True) as bar:

            def advance(n_items: int) -> None:
                nonlocal done, last_line
                done += n_items
                bar.update(n_items)
                now = time.monotonic()
                if not terminal and now - last_line >= log_every:
                    last_line = now
                    left = (now - started) / done * (total - done) if done else 0
                    click.echo(f"{_status(label, done, total)}, about {_elapsed(left)} left",
                               file=stream)

            try:
                yield advance
            except BaseException:
                if not terminal:
                    click.echo(f"{_status(label, done, total)}, stopped after "
                               f"{_elapsed(time.monotonic() - started)}", file=stream)
                raise
        if not terminal:
            click.echo(f"{_status(label, done, total)} in {_elapsed(time.monotonic() - started)}",
                       file=stream)

    return stage


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(seed_demo_command)
