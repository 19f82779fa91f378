"""operator staff logins; the audit trail names the person and the customer; indexes for the back office's lists

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bascule.persistence.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('agent', 'supervisor')", name=op.f("ck_staff_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("customer_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("customer_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_audit_actor_id", ["actor_id", "id"], unique=False)
        batch_op.create_index("ix_audit_customer_id", ["customer_id", "id"], unique=False)
        batch_op.create_index("ix_audit_at", ["at"], unique=False)
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_change_requests_account_created")
        batch_op.create_index("ix_change_requests_account_created_id", ["account_id", "created_at", "id"], unique=False)
        batch_op.create_index("ix_change_requests_created_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_change_requests_status_created_id", ["status", "created_at", "id"], unique=False)
        batch_op.create_index("ix_change_requests_service_created_id", ["service_id", "created_at", "id"], unique=False)
    with op.batch_alter_table("prepaid_migrations", schema=None) as batch_op:
        batch_op.drop_index("ix_prepaid_migrations_msisdn_at")
        batch_op.create_index("ix_prepaid_migrations_msisdn_at_id", ["msisdn", "at", "id"], unique=False)
        batch_op.create_index("ix_prepaid_migrations_at_id", ["at", "id"], unique=False)
    with op.batch_alter_table("provisioning_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_provisioning_jobs_failed",
            ["finished_at", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'failed'"),
            sqlite_where=sa.text("status = 'failed'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("provisioning_jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_provisioning_jobs_failed",
            postgresql_where=sa.text("status = 'failed'"),
            sqlite_where=sa.text("status = 'failed'"),
        )
    with op.batch_alter_table("prepaid_migrations", schema=None) as batch_op:
        batch_op.drop_index("ix_prepaid_migrations_at_id")
        batch_op.drop_index("ix_prepaid_migrations_msisdn_at_id")
        batch_op.create_index("ix_prepaid_migrations_msisdn_at", ["msisdn", "at"], unique=False)
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_change_requests_service_created_id")
        batch_op.drop_index("ix_change_requests_status_created_id")
        batch_op.drop_index("ix_change_requests_created_id")
        batch_op.drop_index("ix_change_requests_account_created_id")
        batch_op.create_index("ix_change_requests_account_created", ["account_id", "created_at"], unique=False)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_at")
        batch_op.drop_index("ix_audit_customer_id")
        batch_op.drop_index("ix_audit_actor_id")
        batch_op.drop_column("customer_id")
        batch_op.drop_column("customer_kind")
        batch_op.drop_column("actor_name")
    op.drop_table("staff")
