"""What a request left in the database: rows per table, to compare before and after a refusal."""

from __future__ import annotations

from sqlalchemy import func, select

from bascule.context import Context
from bascule.persistence.tables import metadata


def row_counts(ctx: Context) -> dict[str, int]:
    """Every table's number of rows (the login throttle and the request log keep nothing there)."""
    with ctx.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
