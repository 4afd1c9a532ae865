"""Partner agreements, set by HQ: their rules, the invoices they produced and their progress.

Partners, tracks and campuses are named by their slugs in and out, as in the impact report. An
agreement is in one currency, and every campus it covers must use it (a campus invoices its own
share in its own currency). Its terms may change at any time: they apply to the months not yet
invoiced, while the invoices already issued keep their lines (an issued invoice is never edited).
Its partner and currency, though, are fixed once it has produced an invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from billing.agreements.models import Agreement
from billing.agreements.runs import months_from
from billing.impact.services import Funnel, impact_funnel, progress_percent
from billing.invoices.models import Invoice
from core.catalogue.models import Track
from core.database import like_pattern, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses

TERMS = ("title", "starts_on", "ends_on", "fixed_fee_minor", "instalments", "per_admitted_minor",
         "per_completion_minor", "per_certified_minor", "trained_target", "certified_target")


# --- reading -------------------------------------------------------------------------------


def agreements_query(search: str = "", partner: str | None = None, active: bool | None = None,
                     today: date | None = None) -> Select:
    """Agreements, newest period first, with partner, track and campuses loaded (3 statements
    per page). `search` matches the title or the partner's name; `partner` is a slug; `active`
    keeps those whose period includes `today` (True) or not (False)."""
    statement = (select(Agreement).join(Agreement.partner)
                 .options(contains_eager(Agreement.partner), selectinload(Agreement.track),
                          selectinload(Agreement.campuses))
                 .order_by(Agreement.starts_on.desc(), Agreement.id.desc()))
    search = " ".join((search or "").split())
    if search:
        pattern = like_pattern(search)
        statement = statement.where(or_(Agreement.title.ilike(pattern, escape="\\"),
                                        Partner.name.ilike(pattern, escape="\\")))
    if partner:
        statement = statement.where(Partner.slug == partner)
    if active is not None:
        today = today or utcnow().date()
        running = (Agreement.starts_on <= today) & (Agreement.ends_on >= today)
        statement = statement.where(running if active else ~running)
    return statement


def get_agreement(agreement_id: int) -> Agreement:
    """The agreement `agreement_id`; raises NotFound."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(_("No such agreement."))
    return agreement


def has_invoices(agreement_id: int) -> bool:
    """Whether any campus issued (or drafted) an invoice under the agreement."""
    with all_campuses(db.session):
        return bool(db.session.scalar(select(exists().where(Invoice.agreement_id == agreement_id))))


def invoices_query(agreement_id: int) -> Select:
    """The agreement's invoices at every campus, newest period first (read it under
    `all_campuses`)."""
    return (select(Invoice).where(Invoice.agreement_id == agreement_id)
            .order_by(Invoice.period_start.desc().nulls_last(), Invoice.campus_id,
                      Invoice.number))


def campus_names() -> dict[int, tuple[str, str]]:
    """Campus id → (slug, name), every campus (a small global table)."""
    return {row.id: (row.slug, row.name)
            for row in db.session.execute(select(Campus.id, Campus.slug, Campus.name))}


@dataclass(frozen=True)
class AgreementProgress:
    """The funnel of the agreement's cohorts (sponsored by its partner, of its track, at its
    campuses, starting within its period) against its targets."""

    funnel: Funnel
    trained_target: int | None
    certified_target: int | None

    @property
    def trained_percent(self) -> int | None:
        return progress_percent(self.funnel.completed, self.trained_target)

    @property
    def certified_percent(self) -> int | None:
        return progress_percent(self.funnel.fully_certified, self.certified_target)


def agreement_progress(agreement: Agreement) -> AgreementProgress:
    campus_ids = [campus.id for campus in agreement.campuses]
    if not campus_ids:
        return AgreementProgress(Funnel(), agreement.trained_target, agreement.certified_target)
    report = impact_funnel(agreement.partner_id, agreement.track_id, campus_ids, "campus",
                           starts_from=agreement.starts_on, starts_until=agreement.ends_on)
    return AgreementProgress(report.funnel, agreement.trained_target, agreement.certified_target)


def form_choices() -> dict[str, list[tuple[str, str]]]:
    """(slug, label) of every partner, track and campus (campuses labelled with currency)."""
    return {
        "partner": [(r.slug, r.name) for r in db.session.execute(
            select(Partner.slug, Partner.name).order_by(Partner.name))],
        "track": [(r.slug, r.name) for r in db.session.execute(
            select(Track.slug, Track.name).order_by(Track.name))],
        "campus": [(r.slug, f"{r.name} ({r.currency})") for r in db.session.execute(
            select(Campus.slug, Campus.name, Campus.currency).order_by(Campus.name))],
        "currency": [(code, code) for code in db.session.scalars(
            select(Campus.currency).distinct().order_by(Campus.currency))],
    }


# --- writing -------------------------------------------------------------------------------


def _by_slug(model, slug: str):
    return db.session.scalar(select(model).where(model.slug == slug))


def _campuses(slugs: Sequence[str], errors: dict[str, list[str]]) -> list[Campus]:
    wanted = list(dict.fromkeys(slugs))
    found = {c.slug: c for c in db.session.scalars(select(Campus).where(Campus.slug.in_(wanted)))}
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        errors["campuses"] = [_("No campus with this slug: %(slugs)s.", slugs=", ".join(unknown))]
    if not wanted:
        errors["campuses"] = [_("Choose at least one campus.")]
    return [found[slug] for slug in wanted if slug in found]


def _scope(agreement: Agreement, data: dict[str, Any], errors: dict[str, list[str]]
           ) -> tuple[Partner | None, int | None, str, list[Campus]]:
    """Partner, track id, currency and campuses after `data`, errors noted in `errors`."""
    partner = agreement.partner
    if "partner" in data:
        partner = _by_slug(Partner, data["partner"])
        if partner is None:
            errors["partner"] = [_("No partner with this slug.")]
    track_id = agreement.track_id
    if "track" in data:
        track = _by_slug(Track, data["track"]) if data["track"] else None
        if data["track"] and track is None:
            errors["track"] = [_("No track with this slug.")]
        track_id = track.id if track else None
    currency = data.get("currency", agreement.currency)
    campuses = (_campuses(data["campuses"], errors) if "campuses" in data
                else list(agreement.campuses))
    others = [c for c in campuses if c.currency != currency]
    if others and "campuses" not in errors:
        errors["campuses"] = [_(
            "Every campus of an agreement uses its currency (%(currency)s); not: %(campuses)s.",
            currency=currency, campuses=", ".join(f"{c.name} ({c.currency})" for c in others))]
    return partner, track_id, currency, campuses


def _check_period(agreement: Agreement, data: dict[str, Any],
                  errors: dict[str, list[str]]) -> None:
    starts_on = data.get("starts_on", agreement.starts_on)
    ends_on = data.get("ends_on", agreement.ends_on)
    instalments = data.get("instalments", agreement.instalments)
    if not (starts_on and ends_on):
        return
    if ends_on < starts_on:
        errors["ends_on"] = [_("The end date cannot be before the start date.")]
        return
    months = months_from(starts_on, ends_on) + 1
    if instalments and instalments > months:
        errors["instalments"] = [_(
            "At most %(months)d: one instalment a month within the period.", months=months)]


def _apply(agreement: Agreement, data: dict[str, Any], *, invoiced: bool) -> Agreement:
    """Check everything first, then change `agreement`: a refusal leaves it as it was.

    Raises InvalidInput naming each bad field; Conflict (`agreement_invoiced`) when the partner
    or the currency of an agreement with invoices would change.
    """
    errors: dict[str, list[str]] = {}
    partner, track_id, currency, campuses = _scope(agreement, data, errors)
    _check_period(agreement, data, errors)
    if errors or partner is None:
        raise InvalidInput(_("Some fields are invalid."), errors)
    if invoiced and (partner.id != agreement.partner_id or currency != agreement.currency):
        raise Conflict(_("This agreement has invoices: its partner and currency stay as they "
                         "are. End it and start a new agreement instead."),
                       code="agreement_invoiced")
    agreement.partner = partner
    agreement.track_id = track_id
    agreement.currency = currency
    if "campuses" in data:
        agreement.campuses = sorted(campuses, key=lambda c: (c.name, c.id))  # as read back
    for name in TERMS:
        if name in data:
            setattr(agreement, name, data[name])
    return agreement


def create_agreement(data: dict[str, Any]) -> Agreement:
    """A new agreement from `data` (as AgreementInputSchema loads it); raises InvalidInput."""
    agreement = Agreement(fixed_fee_minor=0, instalments=1, per_admitted_minor=0,
                          per_completion_minor=0, per_certified_minor=0)
    required = {name: [_("Missing data for required field.")]
                for name in ("title", "partner", "currency", "campuses", "starts_on", "ends_on")
                if data.get(name) in (None, "")}
    if required:
        raise InvalidInput(_("Some fields are invalid."), required)
    _apply(agreement, data, invoiced=False)
    db.session.add(agreement)
    db.session.flush()
    return agreement


def update_agreement(agreement: Agreement, data: dict[str, Any]) -> Agreement:
    """Change the given fields; raises InvalidInput as `create_agreement` does (dates checked
    against the stored ones) and Conflict (`agreement_invoiced`) for a new partner or currency
    once invoices exist. Invoices already issued are not touched."""
    _apply(agreement, data, invoiced=has_invoices(agreement.id))
    db.session.flush()
    return agreement
