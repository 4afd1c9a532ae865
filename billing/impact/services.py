"""Impact of the network's programmes: the funnel applied → admitted → completed → fully
certified → positive outcome, across campuses, and HQ's targets with their progress.

Definitions (counts only: nothing here returns a name or an e-mail):

* the **cohorts** of a report are those matching the filters (sponsoring partner, track of the
  cohort's course, campus; for a target also its period: the cohort *starts* within it);
* **applied**: applications to those cohorts; **admitted**: those of them with status admitted
  (an admitted application stays admitted once the learner is enrolled);
* **completed** ("trained"): distinct learners with a completed enrolment in those cohorts;
* **fully certified**: of those, the learners holding *every* certification of the track of a
  cohort they completed; a track's certifications are the union of those of all its courses
  (retired ones included), and a track whose courses prepare for no certification certifies
  nobody;
* **positive outcome**: of those who completed, the learners with at least one recorded outcome
  (every kind is positive: employed, internship, started a business, further education).

Every figure is computed in SQL (GROUP BY, EXISTS, subqueries) in a fixed number of statements,
whatever the number of learners, cohorts or targets. Reads span every campus (`all_campuses`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from billing.impact.models import ImpactTarget
from core.catalogue.models import Course, Track, course_certifications
from core.database import like_pattern
from core.errors import InvalidInput, NotFound
from core.extensions import db
from core.partners.models import Partner
from tenants.applications.models import Application, ApplicationStatus
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.records.models import CertificationAward, Outcome
from tenants.scoping import all_campuses

GROUP_BY = ("campus", "track", "cohort", "partner")
STEPS = ("applied", "admitted", "completed", "fully_certified", "positive_outcome")


# --- results -------------------------------------------------------------------------------


def percent(part: int, whole: int | None) -> int | None:
    """`part` as a whole percentage of `whole`, rounded half up; None when there is no whole."""
    if not whole:
        return None
    return (part * 200 + whole) // (2 * whole)


def progress_percent(actual: int, target: int | None) -> int | None:
    """How far `actual` is towards `target`, rounded down (100 only once reached); None with no
    target (none set, or zero)."""
    if not target:
        return None
    return actual * 100 // target


@dataclass(frozen=True)
class Funnel:
    applied: int = 0
    admitted: int = 0
    completed: int = 0
    fully_certified: int = 0
    positive_outcome: int = 0

    def as_dict(self) -> dict[str, int]:
        return {step: getattr(self, step) for step in STEPS}

    def conversion(self) -> dict[str, int | None]:
        """Each step as a percentage of the step it follows (certified and outcome: of those who
        completed)."""
        return {
            "admitted": percent(self.admitted, self.applied),
            "completed": percent(self.completed, self.admitted),
            "fully_certified": percent(self.fully_certified, self.completed),
            "positive_outcome": percent(self.positive_outcome, self.completed),
        }


@dataclass(frozen=True)
class FunnelGroup:
    """One row of the report: a campus, a track, a cohort or a sponsoring partner."""

    key: dict[str, Any]
    label: str
    cohorts: int
    funnel: Funnel


@dataclass(frozen=True)
class ImpactReport:
    group_by: str
    funnel: Funnel
    groups: list[FunnelGroup]


@dataclass(frozen=True)
class TargetProgress:
    target: ImpactTarget
    partner: str | None  # slugs of the target's scope
    track: str | None
    campus: str | None
    actual: Funnel
    campus_name: str | None = None

    @property
    def progress(self) -> dict[str, int | None]:
        return {
            "trained": progress_percent(self.actual.completed, self.target.trained_target),
            "fully_certified": progress_percent(self.actual.fully_certified,
                                                self.target.certified_target),
            "positive_outcome": progress_percent(self.actual.positive_outcome,
                                                 self.target.positive_outcome_target),
        }


@dataclass(frozen=True)
class ImpactFilters:
    partner_id: int | None = None
    track_id: int | None = None
    campus_id: int | None = None
    slugs: dict[str, str | None] = field(default_factory=dict)

    @property
    def campus_ids(self) -> list[int] | None:
        return None if self.campus_id is None else [self.campus_id]


# --- filters -------------------------------------------------------------------------------


_LOOKUPS = (("partner", Partner), ("track", Track), ("campus", Campus))


def _unknown(name: str) -> str:
    return {"partner": _("No partner with this slug."), "track": _("No track with this slug."),
            "campus": _("No campus with this slug.")}[name]


def resolve_slugs(partner: str | None = None, track: str | None = None,
                  campus: str | None = None) -> ImpactFilters:
    """The ids behind the given slugs (None: no filter on that dimension).

    Raises InvalidInput naming every unknown slug's field.
    """
    given = {"partner": partner, "track": track, "campus": campus}
    ids: dict[str, int | None] = {}
    errors: dict[str, list[str]] = {}
    for name, model in _LOOKUPS:
        slug = given[name]
        if slug is None:
            ids[name] = None
            continue
        ids[name] = db.session.scalar(select(model.id).where(model.slug == slug))
        if ids[name] is None:
            errors[name] = [_unknown(name)]
    if errors:
        raise InvalidInput(_("Some filters name nothing known."), errors)
    return ImpactFilters(ids["partner"], ids["track"], ids["campus"], given)


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """(slug, name) of every partner, track and campus, for the filter and target forms."""
    return {name: [(row.slug, row.name) for row in db.session.execute(
                select(model.slug, model.name).order_by(model.name, model.slug))]
            for name, model in _LOOKUPS}


# --- the funnel ----------------------------------------------------------------------------


def _cohort_conditions(partner_id: int | None, track_id: int | None,
                       campus_ids: Iterable[int] | None, starts_from: date | None = None,
                       starts_until: date | None = None) -> list[ColumnElement[bool]]:
    """Conditions on Cohort (joined to its Course) choosing the cohorts of a report."""
    conditions: list[ColumnElement[bool]] = []
    if partner_id is not None:
        conditions.append(Cohort.sponsor_id == partner_id)
    if track_id is not None:
        conditions.append(Course.track_id == track_id)
    if campus_ids is not None:
        conditions.append(Cohort.campus_id.in_(list(campus_ids)))
    if starts_from is not None:
        conditions.append(Cohort.starts_on >= starts_from)
    if starts_until is not None:
        conditions.append(Cohort.starts_on <= starts_until)
    return conditions


def fully_certified_flag() -> ColumnElement[int]:
    """1 when the learner of the enclosing Enrolment holds every certification of the track of
    the enclosing Course, else 0 (also 0 when that track has no certification at all)."""
    track_course = aliased(Course, name="track_course")
    award = aliased(CertificationAward, name="held_award")
    track_certifications = (
        select(course_certifications.c.certification_id)
        .join(track_course, track_course.id == course_certifications.c.course_id)
        .where(track_course.track_id == Course.track_id)
        .correlate_except(track_course, course_certifications)
    )
    # Two levels down from the enrolment: correlated explicitly (auto-correlation stops at the
    # enclosing SELECT).
    held = exists().where(award.campus_id == Enrolment.campus_id,
                          award.learner_id == Enrolment.learner_id,
                          award.certification_id == course_certifications.c.certification_id
                          ).correlate_except(award)
    missing = track_certifications.where(~held)
    return case((and_(track_certifications.exists(), ~missing.exists()), 1), else_=0)


def _outcome_flag() -> ColumnElement[int]:
    """1 when the learner of the enclosing Enrolment has at least one outcome, else 0."""
    has_outcome = exists().where(Outcome.campus_id == Enrolment.campus_id,
                                 Outcome.learner_id == Enrolment.learner_id)
    return case((has_outcome, 1), else_=0)


def _with_cohort(statement: Select, owner) -> Select:
    """Join `owner` (Application or Enrolment) to its cohort and the cohort's course."""
    return (statement
            .join(Cohort, and_(Cohort.campus_id == owner.campus_id, Cohort.id == owner.cohort_id))
            .join(Course, Course.id == Cohort.course_id))


def completions_query(conditions: Sequence[ColumnElement[bool]], *extra: ColumnElement) -> Any:
    """One row per completed enrolment in the chosen cohorts, with its learner, the two flags
    and the `extra` columns (group keys)."""
    statement = select(
        *extra,
        Enrolment.campus_id.label("learner_campus_id"),
        Enrolment.learner_id.label("learner_id"),
        fully_certified_flag().label("fully"),
        _outcome_flag().label("outcome"),
    ).select_from(Enrolment)
    statement = _with_cohort(statement, Enrolment).where(
        Enrolment.status == EnrolmentStatus.COMPLETED, *conditions)
    return statement.subquery("completions")


def _learner_counts(completions: Any, keys: Sequence[str]) -> Select:
    """Distinct learners per `keys` (columns of `completions`), with how many of them are fully
    certified and have an outcome (a learner counts once per group, at their best)."""
    key_columns = [completions.c[k] for k in keys]
    per_learner = (
        select(*key_columns, completions.c.learner_campus_id, completions.c.learner_id,
               func.max(completions.c.fully).label("fully"),
               func.max(completions.c.outcome).label("outcome"))
        .group_by(*key_columns, completions.c.learner_campus_id, completions.c.learner_id)
        .subquery("per_learner")
    )
    grouped = [per_learner.c[k] for k in keys]
    return select(*grouped, func.count().label("completed"),
                  func.coalesce(func.sum(per_learner.c.fully), 0).label("fully"),
                  func.coalesce(func.sum(per_learner.c.outcome), 0).label("outcome")
                  ).group_by(*grouped)


@dataclass(frozen=True)
class _Grouping:
    keys: tuple[ColumnElement, ...]  # columns of Cohort/Course identifying a group
    labels: tuple[ColumnElement, ...]  # columns describing it (from Campus, Track, Partner…)
    order: tuple[ColumnElement, ...]


def _grouping(group_by: str) -> _Grouping:
    if group_by == "campus":
        return _Grouping((Cohort.campus_id,), (Campus.slug, Campus.name), (Campus.name,))
    if group_by == "track":
        return _Grouping((Course.track_id,), (Track.slug, Track.name), (Track.name,))
    if group_by == "partner":
        # Cohorts without a sponsor form their own group (partner None), listed last.
        return _Grouping((Cohort.sponsor_id,), (Partner.slug, Partner.name),
                         (Partner.name.is_(None), Partner.name))
    if group_by == "cohort":
        return _Grouping((Cohort.campus_id, Cohort.id),
                         (Campus.slug, Course.code, Track.slug, Partner.slug, Cohort.starts_on,
                          Cohort.ends_on),
                         (Campus.slug, Cohort.starts_on, Course.code, Cohort.id))
    choices = ", ".join(GROUP_BY)
    raise InvalidInput(_("Unknown grouping."),
                       {"group_by": [_("Choose one of: %(choices)s.", choices=choices)]})


def _group_key(group_by: str, labels: Sequence[Any], key: tuple) -> tuple[dict[str, Any], str]:
    """The public key of a group (slugs, never a person) and its display label."""
    if group_by in ("campus", "track", "partner"):
        slug, name = labels
        return {group_by: slug, "name": name}, name or _("No sponsor")
    campus, course, track, partner, starts_on, ends_on = labels
    label = f"{campus} · {course} · {starts_on.isoformat()}"
    return ({"campus": campus, "cohort_id": key[1], "course": course, "track": track,
             "partner": partner, "starts_on": starts_on.isoformat(),
             "ends_on": ends_on.isoformat()}, label)


def impact_funnel(partner_id: int | None = None, track_id: int | None = None,
                  campus_ids: Iterable[int] | None = None, group_by: str = "campus",
                  *, starts_from: date | None = None, starts_until: date | None = None
                  ) -> ImpactReport:
    """The funnel of the matching cohorts of every campus, per `group_by` group and in total.

    Four statements whatever the volume: the groups (cohorts with their labels), applications
    per group, distinct learners per group, distinct learners overall (a learner who completed
    two cohorts is one learner in the total). Raises InvalidInput for an unknown `group_by`.
    """
    grouping = _grouping(group_by)
    campus_ids = None if campus_ids is None else list(campus_ids)
    conditions = _cohort_conditions(partner_id, track_id, campus_ids, starts_from, starts_until)
    n = len(grouping.keys)
    key_names = [f"k{i}" for i in range(n)]
    keys = [column.label(name) for column, name in zip(grouping.keys, key_names, strict=True)]
    with all_campuses(db.session):
        groups_statement = (
            select(*keys, *grouping.labels, func.count().label("cohorts"))
            .select_from(Cohort).join(Course, Course.id == Cohort.course_id)
            .join(Campus, Campus.id == Cohort.campus_id).join(Track, Track.id == Course.track_id)
            .outerjoin(Partner, Partner.id == Cohort.sponsor_id)
            .where(*conditions)
            .group_by(*grouping.keys, *grouping.labels)
            .order_by(*grouping.order)
        )
        group_rows = db.session.execute(groups_statement).all()
        applications = _with_cohort(
            select(*keys, func.count().label("applied"),
                   func.coalesce(func.sum(case(
                       (Application.status == ApplicationStatus.ADMITTED, 1), else_=0)), 0
                   ).label("admitted")).select_from(Application),
            Application).where(*conditions).group_by(*grouping.keys)
        applied = {tuple(row[:n]): (row.applied, row.admitted)
                   for row in db.session.execute(applications)}
        completions = completions_query(conditions, *keys)
        learners = {tuple(row[:n]): (row.completed, row.fully, row.outcome)
                    for row in db.session.execute(_learner_counts(completions, key_names))}
        total_row = db.session.execute(_learner_counts(completions_query(conditions), [])).one()
    groups = []
    for row in group_rows:
        key = tuple(row[:n])
        labels = row[n:n + len(grouping.labels)]
        public_key, label = _group_key(group_by, labels, key)
        applied_count, admitted = applied.get(key, (0, 0))
        completed, fully, outcome = learners.get(key, (0, 0, 0))
        groups.append(FunnelGroup(public_key, label, row.cohorts, Funnel(
            int(applied_count), int(admitted), int(completed), int(fully), int(outcome))))
    total = Funnel(
        sum(g.funnel.applied for g in groups), sum(g.funnel.admitted for g in groups),
        int(total_row.completed), int(total_row.fully), int(total_row.outcome))
    return ImpactReport(group_by, total, groups)


# --- targets -------------------------------------------------------------------------------


def _matching_targets(filters: ImpactFilters) -> Select:
    statement = select(ImpactTarget).options(selectinload(ImpactTarget.partner),
                                             selectinload(ImpactTarget.track))
    if filters.partner_id is not None:
        statement = statement.where(ImpactTarget.partner_id == filters.partner_id)
    if filters.track_id is not None:
        statement = statement.where(ImpactTarget.track_id == filters.track_id)
    if filters.campus_id is not None:
        statement = statement.where(ImpactTarget.campus_id == filters.campus_id)
    return statement.order_by(ImpactTarget.label, ImpactTarget.id)


def _actuals(target_ids: list[int]) -> dict[int, Funnel]:
    """Each target's actual figures over its own scope and period, in one statement.

    Applications are not counted against targets (targets are about learners trained,
    certified and in work); the funnel's first two steps stay 0 here.
    """
    if not target_ids:
        return {}
    completions = completions_query(
        [], Cohort.sponsor_id.label("sponsor_id"), Course.track_id.label("track_id"),
        Cohort.campus_id.label("cohort_campus_id"), Cohort.starts_on.label("starts_on"))
    c, t = completions.c, ImpactTarget
    in_scope = and_(
        or_(t.partner_id.is_(None), t.partner_id == c.sponsor_id),
        or_(t.track_id.is_(None), t.track_id == c.track_id),
        or_(t.campus_id.is_(None), t.campus_id == c.cohort_campus_id),
        or_(t.starts_on.is_(None), c.starts_on >= t.starts_on),
        or_(t.ends_on.is_(None), c.starts_on <= t.ends_on),
    )
    per_learner = (
        select(t.id.label("target_id"), c.learner_campus_id, c.learner_id,
               func.max(c.fully).label("fully"), func.max(c.outcome).label("outcome"))
        .select_from(t).join(completions, in_scope)
        .where(t.id.in_(target_ids))
        .group_by(t.id, c.learner_campus_id, c.learner_id)
        .subquery("target_learners")
    )
    statement = select(per_learner.c.target_id, func.count().label("completed"),
                       func.coalesce(func.sum(per_learner.c.fully), 0).label("fully"),
                       func.coalesce(func.sum(per_learner.c.outcome), 0).label("outcome")
                       ).group_by(per_learner.c.target_id)
    with all_campuses(db.session):
        rows = db.session.execute(statement).all()
    return {row.target_id: Funnel(0, 0, int(row.completed), int(row.fully), int(row.outcome))
            for row in rows}


def _campuses(campus_ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """Campus id → (slug, name), in one statement (none when no id is given)."""
    wanted = sorted({i for i in campus_ids if i is not None})
    if not wanted:
        return {}
    rows = db.session.execute(select(Campus.id, Campus.slug, Campus.name)
                              .where(Campus.id.in_(wanted)))
    return {row.id: (row.slug, row.name) for row in rows}


def with_progress(targets: Sequence[ImpactTarget]) -> list[TargetProgress]:
    """`targets` with their actual figures and progress (a fixed number of statements)."""
    actuals = _actuals([target.id for target in targets])
    campuses = _campuses(target.campus_id for target in targets)
    return [TargetProgress(
        target,
        target.partner.slug if target.partner else None,
        target.track.slug if target.track else None,
        campuses[target.campus_id][0] if target.campus_id is not None else None,
        actuals.get(target.id, Funnel()),
        campuses[target.campus_id][1] if target.campus_id is not None else None,
    ) for target in targets]


def targets_progress(partner_id: int | None = None, track_id: int | None = None,
                     campus_id: int | None = None) -> list[TargetProgress]:
    """The targets set for exactly the given partner, track and campus (a dimension left out
    matches any target), each with actual vs target and a percentage."""
    filters = ImpactFilters(partner_id, track_id, campus_id)
    return with_progress(list(db.session.scalars(_matching_targets(filters))))


def impact_report(partner: str | None = None, track: str | None = None,
                  campus: str | None = None, group_by: str = "campus") -> dict[str, Any]:
    """The report behind the HQ page and `GET /api/v1/reports/impact`: filters by slug, the
    funnel in total and per group, and the targets set for exactly those filters.

    Raises InvalidInput naming each unknown slug, or an unknown `group_by`.
    """
    filters = resolve_slugs(partner, track, campus)
    report = impact_funnel(filters.partner_id, filters.track_id, filters.campus_ids, group_by)
    targets = targets_progress(filters.partner_id, filters.track_id, filters.campus_id)
    return {"filters": filters.slugs, "group_by": report.group_by, "funnel": report.funnel,
            "groups": report.groups, "targets": targets}


# --- target administration -----------------------------------------------------------------


def targets_query(search: str = "") -> Select:
    """Every target, by label, with partner and track loaded (campus slugs: `campus_slugs`);
    `search` finds a part of the label (taken literally)."""
    statement = _matching_targets(ImpactFilters())
    if term := search.strip():
        statement = statement.where(ImpactTarget.label.ilike(like_pattern(term), escape="\\"))
    return statement


def campus_slugs(targets: Iterable[ImpactTarget]) -> dict[int, str]:
    """Campus id → slug for the campuses `targets` name, in one statement."""
    return {i: slug for i, (slug, _name) in _campuses(t.campus_id for t in targets).items()}


def get_target(target_id: int) -> ImpactTarget:
    """The target `target_id`; raises NotFound."""
    target = db.session.get(ImpactTarget, target_id)
    if target is None:
        raise NotFound(_("No such impact target."))
    return target


_SCOPE = ("partner", "track", "campus")
_VALUES = ("label", "trained_target", "certified_target", "positive_outcome_target",
           "starts_on", "ends_on")


def _apply(target: ImpactTarget, data: dict[str, Any]) -> ImpactTarget:
    """Check everything first, then change `target`: a refusal leaves it as it was."""
    scope = {name: data[name] for name in _SCOPE if name in data}
    resolved = resolve_slugs(**scope)
    starts_on = data.get("starts_on", target.starts_on)
    ends_on = data.get("ends_on", target.ends_on)
    if starts_on and ends_on and ends_on < starts_on:
        message = _("The end date cannot be before the start date.")
        raise InvalidInput(message, {"ends_on": [message]})
    for name in scope:
        setattr(target, f"{name}_id", getattr(resolved, f"{name}_id"))
    for name in _VALUES:
        if name in data:
            setattr(target, name, data[name])
    return target


def create_target(data: dict[str, Any]) -> ImpactTarget:
    """Add a target; raises InvalidInput for an unknown partner, track or campus, or dates out
    of order."""
    target = _apply(ImpactTarget(trained_target=0, certified_target=0), data)
    db.session.add(target)
    db.session.flush()
    return target


def update_target(target: ImpactTarget, data: dict[str, Any]) -> ImpactTarget:
    """Change the given fields (a scope set to None widens it to any); raises InvalidInput as
    `create_target` does, checking dates against the stored ones."""
    _apply(target, data)
    db.session.flush()
    return target
