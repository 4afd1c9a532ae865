"""Alembic environment. Migrations run as the table owner: DATABASE_MIGRATION_URL when set
(the app's own role owns no table and cannot run DDL), else the app's DATABASE_URL."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, pool

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    url = current_app.config.get("MIGRATION_DATABASE_URI")
    if url:
        return create_engine(url, poolclass=pool.NullPool)
    return target_db.engine


def run_migrations_offline():
    context.configure(url=str(get_engine().url), target_metadata=target_db.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
