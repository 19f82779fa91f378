"""an account's billing address, shown on its invoices: all its parts or none

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHOLE = (
    "(billing_line1 IS NULL AND billing_line2 IS NULL AND billing_postal_code IS NULL AND billing_city IS NULL"
    " AND billing_country IS NULL) OR (billing_line1 IS NOT NULL AND billing_postal_code IS NOT NULL"
    " AND billing_city IS NOT NULL AND billing_country IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("billing_line1", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("billing_line2", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("billing_postal_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("billing_city", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("billing_country", sa.String(length=2), nullable=True))
        batch_op.create_check_constraint("billing_address_whole", WHOLE)


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_billing_address_whole"), type_="check")
        batch_op.drop_column("billing_country")
        batch_op.drop_column("billing_city")
        batch_op.drop_column("billing_postal_code")
        batch_op.drop_column("billing_line2")
        batch_op.drop_column("billing_line1")
