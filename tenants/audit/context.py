"""Who is acting: the actor an audit entry names, found without the callers' help.

In order:

1. an explicit `acting_as(...)` block (a script or job that knows better);
2. in a request: the view's `audit_actor` attribute (e.g. `"webhook:stripe"` on the Stripe
   webhook view, set where the view is defined, as `csrf_exempt` is), else the signed-in user
   (session or API token), else an anonymous visitor; with the request id and the address;
3. in a `flask …` command: the command ("cli", "flask billing royalties");
4. otherwise "system".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import click
from flask import current_app, g, has_request_context, request

from core.extensions import client_address
from tenants.audit.models import ActorKind

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user_id: int | None = None
    request_id: str | None = None
    ip: str | None = None


_explicit: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def parse_actor(label: str) -> Actor:
    """`"webhook:stripe"` → a webhook actor; a label with an unknown prefix is a system one."""
    prefix = label.split(":", 1)[0]
    kind = ActorKind(prefix) if prefix in {k.value for k in ActorKind} else ActorKind.SYSTEM
    return Actor(kind, label[:254])


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Attribute the changes made inside the block to `label` (e.g. "webhook:stripe")."""
    token = _explicit.set(parse_actor(label))
    try:
        yield
    finally:
        _explicit.reset(token)


def request_id() -> str:
    """The request's id: the one a proxy sent in X-Request-ID if it looks like an id, else one
    made here; kept on `g`, so that every entry of one request carries the same."""
    if "audit_request_id" not in g:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.audit_request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
    return g.audit_request_id


def _request_actor() -> Actor:
    from flask_login import current_user

    rid, ip = request_id(), client_address()[:64]
    view = current_app.view_functions.get(request.endpoint or "")
    label = getattr(view, "audit_actor", None)
    if label:
        actor = parse_actor(label)
        return Actor(actor.kind, actor.label, request_id=rid, ip=ip)
    user = current_user._get_current_object()
    if getattr(user, "is_authenticated", False):
        return Actor(ActorKind.USER, user.email, user.id, rid, ip)
    return Actor(ActorKind.ANONYMOUS, "anonymous", request_id=rid, ip=ip)


def current_actor() -> Actor:
    """The actor of the changes being flushed now (see the module's docstring)."""
    explicit = _explicit.get()
    if explicit is not None:
        if has_request_context():
            return Actor(explicit.kind, explicit.label, explicit.user_id, request_id(),
                         client_address()[:64])
        return explicit
    if has_request_context():
        return _request_actor()
    command = click.get_current_context(silent=True)
    if command is not None:
        return Actor(ActorKind.CLI, command.command_path[:254] or "flask")
    return Actor(ActorKind.SYSTEM, "system")
