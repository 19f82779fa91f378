"""The schema the migrations build is the one `persistence/tables.py` declares, on the database under test: no
table, column, type, index or constraint of one missing from the other (alembic's own comparison, as `bascule db
check` makes it; scripts/test runs that on SQLite only, this on both databases, partial indexes included)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bascule.persistence.tables import metadata


def test_the_migrated_schema_is_the_declared_one(ctx) -> None:
    with ctx.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    assert differences == []


def test_a_lines_requests_are_indexed_by_the_line_once(ctx) -> None:
    """(service_id, created_at, id) finds a line's requests, whatever their status (migration 0014)."""
    with ctx.engine.connect() as connection:
        indexes = inspect(connection).get_indexes("change_requests")
    led_by_the_line = sorted(index["column_names"] for index in indexes if index["column_names"][0] == "service_id")
    assert led_by_the_line == [["service_id", "created_at", "id"]]
