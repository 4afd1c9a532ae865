"""Who issues and collects: each campus's billing entity, and HQ's.

A campus opened after billing was set up gets an entity on first use, with defaults HQ can edit:
the first letters of its slug as invoice prefix, its country's standard VAT rate, Stripe as the
payment provider except in countries where Stripe opens no account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from stdnum.eu import vat
from stdnum.exceptions import ValidationError

from billing.entities.models import BillingEntity, PaymentProvider
from billing.invoices.models import InvoiceSequence
from core.database import like_pattern
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from tenants.campuses.models import Campus

# Standard VAT rates (percent) of the network's countries; others start at 0 for HQ to set.
STANDARD_VAT = {"BE": Decimal("21"), "NL": Decimal("21"), "IT": Decimal("22"),
                "FR": Decimal("20"), "MA": Decimal("20"), "DE": Decimal("19"),
                "LU": Decimal("17"), "ES": Decimal("21"), "PT": Decimal("23")}
# Stripe opens no account for a business registered in these countries.
MANUAL_ONLY_COUNTRIES = frozenset({"MA"})
HQ_CODE = "HQ"


def hq_entity() -> BillingEntity:
    """HQ's entity (issuer of royalty statements); raises NotFound before billing is set up."""
    entity = db.session.scalar(select(BillingEntity).where(BillingEntity.campus_id.is_(None)))
    if entity is None:
        raise NotFound(_("HQ has no billing entity yet: run the seed or create it."))
    return entity


def _free_code(slug: str) -> str:
    return _next_code(slug, set(db.session.scalars(select(BillingEntity.code))))


def _next_code(slug: str, taken: set[str]) -> str:
    """The first letters of `slug`, numbered when `taken` already holds them."""
    base = "".join(ch for ch in slug.upper() if ch.isalnum())[:3] or "CAM"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base[:6]}{n}"
    return code


def _default_entity(campus: Campus, code: str) -> BillingEntity:
    """A new entity for `campus` with the defaults HQ then edits (added to the session)."""
    entity = BillingEntity(
        campus_id=campus.id, code=code,
        legal_name=f"Campusflow {campus.name}", address=campus.city, country=campus.country,
        vat_rate=STANDARD_VAT.get(campus.country, Decimal("0")),
        payment_provider=(PaymentProvider.MANUAL if campus.country in MANUAL_ONLY_COUNTRIES
                          else PaymentProvider.STRIPE))
    db.session.add(entity)
    return entity


def entity_for_campus(campus: Campus) -> BillingEntity:
    """The campus's entity, created with defaults the first time it is needed."""
    entity = db.session.scalar(select(BillingEntity).where(BillingEntity.campus_id == campus.id))
    if entity is None:
        entity = _default_entity(campus, _free_code(campus.slug))
        db.session.flush()
    return entity


def entity_for_campus_id(campus_id: int) -> BillingEntity:
    campus = db.session.get(Campus, campus_id)
    if campus is None:
        raise NotFound(_("No such campus."))
    return entity_for_campus(campus)


# --- HQ's administration of entities -------------------------------------------------------

# Country (ISO 3166) → VAT number prefix, for the EU member states (Greece writes EL).
EU_VAT_PREFIXES = {("GR" if code == "gr" else code.upper()): ("EL" if code == "gr" else
                                                            code.upper())
                   for code in vat.MEMBER_STATES if code != "xi"}
_OTHER_VAT = re.compile(r"^[A-Z0-9][A-Z0-9 ./-]{2,31}$")
_EDITABLE = ("legal_name", "address", "country", "vat_number", "vat_rate", "iban", "bic",
             "payment_provider", "payment_terms_days")


@dataclass(frozen=True)
class EntityRow:
    """An entity as HQ's list shows it: its campus (None for HQ) and whether its prefix is
    fixed because it has issued an invoice."""

    entity: BillingEntity
    campus_slug: str | None
    campus_name: str | None
    code_locked: bool


def ensure_campus_entities() -> int:
    """Give every campus that has none its entity with defaults (see `entity_for_campus`), in a
    fixed number of statements; returns how many were created."""
    missing = list(db.session.scalars(
        select(Campus).outerjoin(BillingEntity, BillingEntity.campus_id == Campus.id)
        .where(BillingEntity.id.is_(None)).order_by(Campus.id)))
    if not missing:
        return 0
    taken = set(db.session.scalars(select(BillingEntity.code)))
    for campus in missing:
        code = _next_code(campus.slug, taken)
        taken.add(code)
        _default_entity(campus, code)
    db.session.flush()
    return len(missing)


def entities_query(search: str = "") -> Select:
    """Every entity, HQ's first, then by campus name; `search` matches the prefix, the legal
    name and the campus's name or slug."""
    statement = (select(BillingEntity)
                 .outerjoin(Campus, Campus.id == BillingEntity.campus_id)
                 .order_by(BillingEntity.campus_id.is_not(None), Campus.name, BillingEntity.code))
    term = search.strip()
    if term:
        pattern = like_pattern(term)
        statement = statement.where(or_(
            BillingEntity.code.ilike(pattern, escape="\\"),
            BillingEntity.legal_name.ilike(pattern, escape="\\"),
            Campus.name.ilike(pattern, escape="\\"),
            Campus.slug.ilike(pattern, escape="\\"),
        ))
    return statement


def locked_entity_ids(entity_ids: Iterable[int]) -> set[int]:
    """Those of `entity_ids` that have issued at least one invoice (their prefix is fixed)."""
    wanted = sorted(set(entity_ids))
    if not wanted:
        return set()
    return set(db.session.scalars(
        select(InvoiceSequence.issuer_id).where(InvoiceSequence.issuer_id.in_(wanted),
                                                InvoiceSequence.last_number > 0).distinct()))


def entity_rows(entities: Sequence[BillingEntity]) -> list[EntityRow]:
    """`entities` with their campus and lock, in two statements whatever their number."""
    campus_ids = sorted({e.campus_id for e in entities if e.campus_id is not None})
    campuses = {row.id: (row.slug, row.name) for row in db.session.execute(
        select(Campus.id, Campus.slug, Campus.name).where(Campus.id.in_(campus_ids)))
    } if campus_ids else {}
    locked = locked_entity_ids(e.id for e in entities)
    return [EntityRow(e, *campuses.get(e.campus_id, (None, None)), code_locked=e.id in locked)
            for e in entities]


def get_entity(entity_id: int) -> BillingEntity:
    """The entity `entity_id`; raises NotFound."""
    entity = db.session.get(BillingEntity, entity_id)
    if entity is None:
        raise NotFound(_("No such billing entity."))
    return entity


def normalise_vat_number(number: str, country: str) -> str:
    """`number` in its stored form for an entity registered in `country`; raises ValueError
    with the reason.

    In an EU member state the number is checked with python-stdnum (check digits included) and
    must be of that state (a missing prefix is added); elsewhere it is kept as typed, upper-case,
    if it looks like a tax number at all.
    """
    prefix = EU_VAT_PREFIXES.get(country)
    if prefix is None:
        text = " ".join(number.split()).upper()
        if not _OTHER_VAT.match(text):
            raise ValueError(_("Enter the tax number with letters, digits, spaces, dots, dashes "
                               "or slashes."))
        return text
    compact = re.sub(r"[\s./-]", "", number).upper()
    if compact[:1].isdigit():
        compact = prefix + compact
    try:
        compact = vat.validate(compact)
    except ValidationError as error:
        raise ValueError(_("This is not a valid EU VAT number (%(example)s).",
                           example=f"{prefix}…")) from error
    if compact[:2] != prefix:
        raise ValueError(_("An entity registered in %(country)s has a VAT number starting "
                           "with %(prefix)s.", country=country, prefix=prefix))
    return compact


def _problems(entity: BillingEntity, data: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """The checked changes and the field errors of applying `data` to `entity`."""
    changes = {name: data[name] for name in _EDITABLE if name in data}
    errors: dict[str, list[str]] = {}
    country = changes.get("country", entity.country)
    if "vat_number" in changes or "country" in changes:
        number = changes.get("vat_number", entity.vat_number)
        if not number:
            errors["vat_number"] = [_("Enter the entity's VAT or tax number.")]
        else:
            try:
                changes["vat_number"] = normalise_vat_number(number, country)
            except ValueError as error:
                errors["vat_number"] = [str(error)]
    provider = changes.get("payment_provider", entity.payment_provider)
    campus = db.session.get(Campus, entity.campus_id) if entity.campus_id is not None else None
    blocked = sorted({country, *([campus.country] if campus else [])} & MANUAL_ONLY_COUNTRIES)
    if provider == PaymentProvider.STRIPE and blocked:
        errors["payment_provider"] = [_(
            "Stripe opens no account for a business in %(country)s: choose manual (cash or "
            "transfer recorded by staff).", country=", ".join(blocked))]
    return changes, errors


def entity_problems(entity: BillingEntity, data: dict[str, Any],
                    invalid: Iterable[str] = ()) -> dict[str, list[str]]:
    """The field errors the rules of `update_entity` find in `data` (the fields that loaded
    well), leaving out `invalid` fields and what depends on them; to report every problem of a
    form at once."""
    invalid = set(invalid)
    if "country" in invalid:  # the VAT number and the provider are judged by the country
        return {}
    _changes, errors = _problems(entity, data)
    return {name: messages for name, messages in errors.items() if name not in invalid}


def update_entity(entity: BillingEntity, data: dict[str, Any]) -> BillingEntity:
    """Change the given fields of `entity` (loaded by BillingEntityInputSchema), all or nothing.

    Raises InvalidInput naming each bad field (a VAT number that is not valid for the entity's
    country, Stripe where Stripe serves no business); Conflict `code_locked` when the invoice
    prefix changes after the entity has issued an invoice, `code_taken` when another entity
    uses it.
    """
    changes, errors = _problems(entity, data)
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    code = data.get("code")
    if code is not None and code != entity.code:
        if locked_entity_ids([entity.id]):
            message = _("The invoice prefix cannot change once the entity has issued an invoice: "
                        "numbers must stay in one unbroken series.")
            raise Conflict(message, {"code": [message]}, code="code_locked")
        if db.session.scalar(select(BillingEntity.id).where(BillingEntity.code == code,
                                                             BillingEntity.id != entity.id)):
            message = _("Another entity already uses the prefix %(code)s.", code=code)
            raise Conflict(message, {"code": [message]}, code="code_taken")
        changes["code"] = code
    for name, value in changes.items():
        setattr(entity, name, value)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # a racing edit took the prefix first
        message = _("Another entity already uses the prefix %(code)s.", code=code)
        raise Conflict(message, {"code": [message]}, code="code_taken") from error
    return entity
