"""The schema. Alembic migrations are generated from this metadata; `bascule db check` proves they match."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from bascule.persistence.types import ExactDecimal, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = String(40)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("role IN ('manager', 'viewer')", name="role"),
)

auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("principal_kind", String(16), nullable=False),
    Column("principal_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

services = Table(
    "services",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("msisdn", String(16), nullable=False, unique=True),
    Column("plan_id", String(64), nullable=False),
    Column("network", String(32), nullable=False),
    Column("apn", String(64), nullable=False),
    Column("ceiling_bytes", BigInteger),
    Column("status", String(16), nullable=False),
    Column("activated_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint("status IN ('active', 'barred')", name="status"),
    CheckConstraint("ceiling_bytes IS NULL OR ceiling_bytes > 0", name="ceiling_positive"),
)

service_cycles = Table(
    "service_cycles",
    metadata,
    Column("service_id", Id, ForeignKey("services.id"), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("opened_at", UtcDateTime, nullable=False),
)

buckets = Table(
    "buckets",
    metadata,
    Column("id", Id, primary_key=True),
    Column("service_id", Id, ForeignKey("services.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("total_bytes", BigInteger, nullable=False),
    Column("used_bytes", BigInteger, nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("source_ref", String(80)),
    CheckConstraint("used_bytes >= 0 AND used_bytes <= total_bytes", name="used_within_total"),
    CheckConstraint("kind IN ('allowance', 'carryover', 'topup', 'extension')", name="kind"),
    Index("ix_buckets_service_period", "service_id", "period"),
)

# One row per subject and month; `used` only moves by a conditional UPDATE (see repositories.Slots).
monthly_slots = Table(
    "monthly_slots",
    metadata,
    Column("scope", String(32), primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("used", Integer, nullable=False),
    CheckConstraint("used >= 0", name="used_not_negative"),
)

change_requests = Table(
    "change_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("service_id", Id, ForeignKey("services.id"), nullable=False),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("quote", JSON, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("slot_period", String(7)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("failed_at", UtcDateTime),
    CheckConstraint(
        "status IN ('awaiting_confirmation', 'provisioning', 'completed', 'failed', 'cancelled')",
        name="status",
    ),
    Index("ix_change_requests_service_status", "service_id", "status"),
    Index("ix_change_requests_account_created", "account_id", "created_at"),
)

charges = Table(
    "charges",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("service_id", Id, ForeignKey("services.id")),
    Column("period", String(7), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("description", String(300), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("change_request_id", Id, ForeignKey("change_requests.id")),
    # A charge that must exist once (a cycle's recurring line, a purchase) names itself here.
    Column("once_key", String(120), unique=True),
    CheckConstraint(
        "kind IN ('recurring', 'proration', 'fee', 'topup', 'extension', 'usage')", name="kind"
    ),
    Index("ix_charges_account_period", "account_id", "period"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("entity_kind", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_entity", "entity_kind", "entity_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(80), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_status", Integer),
    Column("response_headers", JSON),
    Column("response_body", Text),
    Column("created_at", UtcDateTime, nullable=False),
)
