"""usage records keep their service id without a foreign key: a bulk import checked and locked the
service row once per record, and a service is never deleted

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_usage_records_service_id_services"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_foreign_key(op.f("fk_usage_records_service_id_services"), "services", ["service_id"], ["id"])
