"""a service may be throttled (not barred) when its bundle is used up, per catalogue

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_services_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('active', 'barred', 'throttled')")


def downgrade() -> None:
    op.execute("UPDATE services SET status = 'barred' WHERE status = 'throttled'")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_services_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('active', 'barred')")
