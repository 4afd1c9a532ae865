"""Demo seed: the target of the Microsoft cybersecurity programme run at Molenbeek (see
tenants/demo_life.py: 150 learners trained, 60 of them fully certified)."""

from __future__ import annotations

from sqlalchemy import select

from billing.impact.models import ImpactTarget
from core.catalogue.models import Track
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus

MICROSOFT_PROGRAMME = "Microsoft cybersecurity programme"


def seed_impact_targets(_password: str) -> list[str]:
    """Create the programme's target once (by label), when its partner, track and campus exist;
    returns no sign-ins."""
    if db.session.scalar(select(ImpactTarget.id).where(ImpactTarget.label == MICROSOFT_PROGRAMME)):
        return []
    partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == "microsoft"))
    track_id = db.session.scalar(select(Track.id).where(Track.slug == "cybersecurity"))
    campus_id = db.session.scalar(select(Campus.id).where(Campus.slug == "molenbeek"))
    if None in (partner_id, track_id, campus_id):
        return []
    db.session.add(ImpactTarget(label=MICROSOFT_PROGRAMME, partner_id=partner_id,
                                track_id=track_id, campus_id=campus_id, trained_target=150,
                                certified_target=60, positive_outcome_target=90))
    db.session.flush()
    return []
