"""Alembic environment: migrations run against BASCULE_DATABASE_URL or the URL the caller configured."""

from __future__ import annotations

from alembic import context

from bascule.persistence.engine import make_engine
from bascule.persistence.tables import metadata

config = context.config
url: str = config.get_main_option("sqlalchemy.url") or ""
if not url:
    from bascule.settings import Settings

    url = Settings().database_url


def run_migrations() -> None:
    engine = make_engine(url)
    with engine.connect() as plain:
        connection = plain
        if plain.dialect.name == "sqlite":
            connection = plain.execution_options(sqlite_begin="IMMEDIATE")
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
