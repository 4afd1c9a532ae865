"""The ORM layer of campus scoping, on both backends (RLS is tested alone in tests/isolation)."""

import pytest
from sqlalchemy import delete, func, select, update

from core.extensions import db
from tenants.learners.models import Learner
from tenants.scoping import (
    CrossCampusWriteError,
    UnscopedQueryError,
    all_campuses,
    campus_scope,
)


@pytest.fixture
def ctx(app, db_session, base):
    with app.app_context():
        yield base


def test_query_on_campus_owned_model_with_no_campus_bound_raises(ctx):
    with pytest.raises(UnscopedQueryError):
        db.session.scalars(select(Learner)).all()
    with pytest.raises(UnscopedQueryError):
        db.session.scalar(select(func.count()).select_from(Learner))


@pytest.mark.parametrize("shape", ["entity", "count", "subquery", "cte", "column"])
def test_bound_campus_sees_only_its_rows_whatever_the_statement_shape(ctx, shape):
    statements = {
        "entity": select(Learner.id),
        "count": select(func.count()).select_from(Learner),
        "subquery": select(func.count()).select_from(select(Learner).subquery()),
        "cte": select(func.count()).select_from(select(Learner).cte()),
        "column": select(func.count(Learner.id)),
    }
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        result = db.session.execute(statements[shape]).scalars().all()
    expected = ctx.learner_ids["molenbeek"] if shape == "entity" else [3]
    assert sorted(result) == sorted(expected)


def test_lookup_by_another_campus_key_finds_nothing(ctx):
    antwerp_learner = ctx.learner_ids["antwerp"][0]
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        found = db.session.scalar(select(Learner).where(Learner.id == antwerp_learner))
        by_key = db.session.get(Learner, (ctx.campus_ids["antwerp"], antwerp_learner))
    assert found is None or found.campus_id == ctx.campus_ids["molenbeek"]
    assert by_key is None


def test_new_rows_take_the_bound_campus(ctx):
    with campus_scope(ctx.campus_ids["antwerp"], db.session):
        learner = Learner(full_name="New", email="new@antwerp.example")
        db.session.add(learner)
        db.session.flush()
        assert learner.campus_id == ctx.campus_ids["antwerp"]
        db.session.rollback()


def test_writing_a_row_for_another_campus_is_an_error(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        db.session.add(Learner(campus_id=ctx.campus_ids["antwerp"], full_name="Intruder",
                               email="intruder@example.org"))
        with pytest.raises(CrossCampusWriteError):
            db.session.flush()
        db.session.rollback()


def test_bulk_update_and_delete_touch_only_the_bound_campus(ctx):
    # Every campus's first learner has an enrolment and more; the others can go.
    without_dependants = [i for ids in ctx.learner_ids.values() for i in ids[1:]]
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        updated = db.session.execute(update(Learner).values(phone="+32 0")).rowcount
        deleted = db.session.execute(
            delete(Learner).where(Learner.id.in_(without_dependants))).rowcount
        db.session.rollback()
    assert (updated, deleted) == (3, 2)
    with campus_scope(ctx.campus_ids["antwerp"], db.session):
        assert db.session.scalar(select(func.count()).select_from(Learner)) == 3


def test_all_campuses_reads_every_campus_but_cannot_write(ctx):
    with all_campuses(db.session):
        campus_ids = set(db.session.scalars(select(Learner.campus_id)))
        assert campus_ids == set(ctx.campus_ids.values())
        db.session.add(Learner(campus_id=ctx.campus_ids["antwerp"], full_name="HQ write",
                               email="hq-write@example.org"))
        with pytest.raises(UnscopedQueryError):
            db.session.flush()
        db.session.rollback()


def test_scope_is_restored_after_the_block(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        with campus_scope(ctx.campus_ids["antwerp"], db.session):
            inner = set(db.session.scalars(select(Learner.campus_id)))
        outer = set(db.session.scalars(select(Learner.campus_id)))
    assert inner == {ctx.campus_ids["antwerp"]}
    assert outer == {ctx.campus_ids["molenbeek"]}
    with pytest.raises(UnscopedQueryError):
        db.session.scalars(select(Learner)).all()
