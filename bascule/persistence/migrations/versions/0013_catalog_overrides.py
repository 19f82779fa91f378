"""supervisors' overrides of the shipped catalogue, and the stamp every process checks

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bascule.persistence.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_overrides",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("set_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("set_by_id", sa.String(length=64), nullable=False),
        sa.Column("set_by_name", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('plan', 'topup', 'extension', 'profile', 'fee')", name=op.f("ck_catalog_overrides_kind")
        ),
        sa.CheckConstraint(
            "field IN ('on_sale', 'price', 'unit_price', 'amount')", name=op.f("ck_catalog_overrides_field")
        ),
        sa.PrimaryKeyConstraint("kind", "entry_id", "field", name=op.f("pk_catalog_overrides")),
    )
    stamp = op.create_table(
        "catalog_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_stamp_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_stamp")),
    )
    op.bulk_insert(stamp, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("catalog_stamp")
    op.drop_table("catalog_overrides")
