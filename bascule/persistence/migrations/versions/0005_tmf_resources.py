"""tmf resources

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bascule.persistence.types


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tmf_resources",
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", bascule.persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bascule.persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "id", name=op.f("pk_tmf_resources")),
    )


def downgrade() -> None:
    op.drop_table("tmf_resources")
