"""E-mail: one outbox for the product, in the recipient's language, sent after the commit.

    from core.mail import send
    send(application.email, "application_received", "fr_BE", application=application, ...)

`send` renders `templates/mail/<template>.txt` (its `subject` and `body` blocks; and
`<template>.html`, when there is one, as an HTML alternative) under Flask-Babel's
`force_locale(language)`, so that the subject, the body, dates and amounts are in the
recipient's language, and queues the message on the database session. Nothing leaves before the
transaction commits (SQLAlchemy `after_commit`): a request that fails, a transaction or a
savepoint that rolls back, sends nothing of what was queued inside it. Delivery:

* SMTP when `MAIL_SERVER` is set (`MAIL_PORT`, `MAIL_USE_TLS` for STARTTLS, `MAIL_USERNAME`,
  `MAIL_PASSWORD`, `MAIL_FROM`);
* otherwise `.eml` files in `MAIL_OUTBOX` (`instance/outbox/` in development), readable by
  their owner only: they hold personal data;
* otherwise (tests, production without a server) a log line only.

A delivery failure is logged and never undoes the committed action (the commit has happened).
Rendering happens when the message is queued, inside the service's transaction, so templates
may read the rows they are given; delivery reads nothing from the database.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from uuid import uuid4

from babel import Locale, UnknownLocaleError
from flask import current_app
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core.extensions import db

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 10  # seconds: a slow mail server delays the response, never blocks it for long
WRAP = 76  # plain-text lines longer than this are wrapped (lines with a URL are kept whole)
_PENDING = "campusflow.mail.pending"
_suppressed: ContextVar[list[EmailMessage] | None] = ContextVar("mail_suppressed", default=None)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message. `content` may be a function making the bytes: it is called
    (when the message is queued) only if the message will really leave, so that a costly PDF is
    not made for a log line."""

    filename: str
    content: bytes | Callable[[], bytes]
    mimetype: str = "application/octet-stream"

    def data(self) -> bytes:
        return self.content() if callable(self.content) else self.content


@dataclass(frozen=True)
class Delivery:
    """How messages leave, read from the config when they are queued."""

    server: str | None
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    outbox: Path | None
    environment: str

    @property
    def leaves(self) -> bool:
        """Messages really go somewhere (SMTP or the outbox), not only to the log."""
        return bool(self.server) or self.outbox is not None

    @classmethod
    def from_config(cls, config: Any) -> Delivery:
        outbox = config.get("MAIL_OUTBOX")
        return cls(config.get("MAIL_SERVER") or None, int(config.get("MAIL_PORT") or 25),
                   bool(config.get("MAIL_USE_TLS")), config.get("MAIL_USERNAME") or None,
                   config.get("MAIL_PASSWORD") or None, Path(outbox) if outbox else None,
                   config.get("CAMPUSFLOW_ENV", "production"))


@dataclass
class _Queued:
    message: EmailMessage
    template: str
    delivery: Delivery
    transaction: SessionTransaction | None


# --- composing ----------------------------------------------------------------------------------


def mail_locale(language: str | Locale | None) -> Locale:
    """`fr_BE`, `fr-BE`, `fr` or a Locale → a Locale; anything unknown → the default locale."""
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if isinstance(language, Locale):
        return language
    try:
        return Locale.parse((language or default).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(default)


def _tidy(text: str) -> str:
    """Trailing spaces off, runs of blank lines down to one, long lines wrapped."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        line = line.rstrip()
        if len(line) > WRAP and "://" not in line:
            lines.extend(textwrap.wrap(line, WRAP, break_long_words=False,
                                       break_on_hyphens=False) or [""])
        else:
            lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(template: str, language: str | Locale | None, **context: Any
           ) -> tuple[str, str, str | None]:
    """(subject, plain text, HTML or None) of `templates/mail/<template>.txt` (and `.html`) in
    `language`. The subject is the `subject` block, on one line."""
    env = current_app.jinja_env
    with force_locale(mail_locale(language)):
        text_template = env.get_template(f"mail/{template}.txt")
        subject_block = text_template.blocks.get("subject")
        if subject_block is None:
            raise LookupError(f"mail/{template}.txt has no subject block")
        subject = " ".join("".join(subject_block(text_template.new_context(context))).split())
        text = _tidy(text_template.render(context))
        try:
            html = env.get_template(f"mail/{template}.html").render(context)
        except TemplateNotFound:
            html = None
    return subject, text, html


def _sender(config: Any) -> str:
    return config.get("MAIL_FROM") or "Campusflow <no-reply@localhost>"


def compose(to: str | Sequence[str], template: str, language: str | Locale | None, *,
            attachments: Iterable[Attachment] = (), **context: Any) -> EmailMessage:
    """The message `send` would queue, rendered now (see `render`)."""
    locale = mail_locale(language)
    subject, text, html = render(template, locale, **context)
    sender = _sender(current_app.config)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, _slash, subtype = item.mimetype.partition("/")
        message.add_attachment(item.data(), maintype=maintype,
                               subtype=subtype or "octet-stream", filename=item.filename)
    # Last: setting the content clears every Content-* header.
    message["Content-Language"] = str(locale).replace("_", "-")
    return message


# --- queueing -----------------------------------------------------------------------------------


def send(to: str | Sequence[str], template: str, language: str | Locale | None, *,
         attachments: Iterable[Attachment] = (), **context: Any) -> EmailMessage | None:
    """Render `template` for `to` in `language` now; send it once the current transaction
    commits (at once when no transaction is open). Returns the message, or None when mail is
    suppressed (`suppressed()`) or there is no recipient."""
    recipients = [to] if isinstance(to, str) else [address for address in to if address]
    if not recipients or not all(recipients):
        return None
    held = _suppressed.get()
    delivery = Delivery.from_config(current_app.config)
    if held is not None or not delivery.leaves:
        attachments = ()  # nobody will receive them: not worth making
    message = compose(recipients, template, language, attachments=attachments, **context)
    if held is not None:
        held.append(message)
        return None
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # no transaction to wait for
        _deliver([_Queued(message, template, delivery, transaction)])
        return message
    session.info.setdefault(_PENDING, []).append(_Queued(message, template, delivery,
                                                         transaction))
    return message


@contextmanager
def suppressed() -> Iterator[list[EmailMessage]]:
    """Inside: `send` renders but sends nothing (e.g. the demo seed making history); yields the
    list of the messages held back."""
    held: list[EmailMessage] = []
    token = _suppressed.set(held)
    try:
        yield held
    finally:
        _suppressed.reset(token)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rollback (of the transaction or a savepoint) drops what was queued inside it."""
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [q for q in pending if not _within(q.transaction, previous_transaction)]


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its messages wait for the real commit
    pending = session.info.pop(_PENDING, None)
    if pending:
        _deliver(pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_unsent(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended without a commit (closed, or rolled back): nothing of it leaves."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- delivering ---------------------------------------------------------------------------------


def masked(address: str) -> str:
    """`j***@example.com`: enough to find a message in the logs, not a mailing list."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _recipients(message: EmailMessage) -> str:
    return ", ".join(masked(address.addr_spec) for address in message["To"].addresses)


def _deliver(queued: list[_Queued]) -> None:
    """Send every message; never raises (the action they tell about has been committed)."""
    by_delivery: dict[Delivery, list[_Queued]] = {}
    for item in queued:
        by_delivery.setdefault(item.delivery, []).append(item)
    for delivery, items in by_delivery.items():
        try:
            if delivery.server:
                _by_smtp(delivery, items)
            elif delivery.outbox is not None:
                _to_outbox(delivery.outbox, items)
            else:
                level = logging.WARNING if delivery.environment == "production" else logging.INFO
                for item in items:
                    log.log(level, "E-mail %s to %s not sent: MAIL_SERVER is not set (%s)",
                            item.template, _recipients(item.message), item.message["Subject"])
        except (OSError, smtplib.SMTPException) as error:
            for item in items:
                log.error("E-mail %s to %s not sent: %s (%s)", item.template,
                          _recipients(item.message), error, item.message["Subject"])
        except Exception:
            log.exception("E-mail not sent: %d message(s) lost", len(items))


def _by_smtp(delivery: Delivery, items: list[_Queued]) -> None:
    with smtplib.SMTP(delivery.server, delivery.port, timeout=SMTP_TIMEOUT) as smtp:
        if delivery.use_tls:
            smtp.starttls(context=ssl.create_default_context())
        if delivery.username:
            smtp.login(delivery.username, delivery.password or "")
        for item in items:
            try:
                refused = smtp.send_message(item.message)
            except smtplib.SMTPRecipientsRefused as error:
                refused = error.recipients
            except smtplib.SMTPResponseException as error:  # this message only: go on
                log.error("E-mail %s to %s not sent: %s %s", item.template,
                          _recipients(item.message), error.smtp_code, error.smtp_error)
                continue
            if refused:
                log.error("E-mail %s refused for %s", item.template,
                          ", ".join(masked(address) for address in refused))
            log.info("E-mail %s sent to %s", item.template, _recipients(item.message))


def _to_outbox(outbox: Path, items: list[_Queued]) -> None:
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    for item in items:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = outbox / f"{stamp}-{uuid4().hex[:8]}-{item.template}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(item.message))
        log.info("E-mail %s to %s written to %s", item.template, _recipients(item.message), path)
