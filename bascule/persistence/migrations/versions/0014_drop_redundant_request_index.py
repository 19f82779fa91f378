"""change requests: drop (service_id, status), which (service_id, created_at, id) already serves

Every query on a line's requests leads with the line, and a line has a few requests a month: the index of 0012 on
(service_id, created_at, id) finds them, in the order the lists want. The older one on (service_id, status) only
cost a change three index entries more, at its creation and at each move of its status.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_change_requests_service_status")


def downgrade() -> None:
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index("ix_change_requests_service_status", ["service_id", "status"], unique=False)
