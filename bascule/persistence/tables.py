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
    UniqueConstraint,
    text,
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
    # The billing address (set by the operator; none until then): all its parts, or none of them.
    Column("billing_line1", String(200)),
    Column("billing_line2", String(200)),
    Column("billing_postal_code", String(16)),
    Column("billing_city", String(100)),
    Column("billing_country", String(2)),
    CheckConstraint(
        "(billing_line1 IS NULL AND billing_line2 IS NULL AND billing_postal_code IS NULL AND billing_city IS NULL"
        " AND billing_country IS NULL) OR (billing_line1 IS NOT NULL AND billing_postal_code IS NOT NULL"
        " AND billing_city IS NOT NULL AND billing_country IS NOT NULL)",
        name="billing_address_whole",
    ),
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

# The operator's own people (migration 0012): agents and supervisors with their own logins.
staff = Table(
    "staff",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("role IN ('agent', 'supervisor')", name="role"),
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
    CheckConstraint("status IN ('active', 'barred', 'throttled')", name="status"),
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

# One row per subject and month; `used` only moves by a conditional UPDATE (see evolutions.Slots).
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
    Column("service_before", JSON),  # what a failed change puts back
    CheckConstraint(
        "status IN ('awaiting_confirmation', 'provisioning', 'completed', 'failed', 'cancelled')",
        name="status",
    ),
    # The back office's list, newest first, a keyset on (created_at, id): all of them, or of one status, one
    # account or one line (0012; the account's index was (account_id, created_at) before). A line's requests are
    # found by the last one, whatever their status (0014 dropped (service_id, status)).
    Index("ix_change_requests_account_created_id", "account_id", "created_at", "id"),
    Index("ix_change_requests_created_id", "created_at", "id"),
    Index("ix_change_requests_status_created_id", "status", "created_at", "id"),
    Index("ix_change_requests_service_created_id", "service_id", "created_at", "id"),
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
    CheckConstraint("kind IN ('recurring', 'proration', 'fee', 'topup', 'extension', 'usage')", name="kind"),
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
    # Who, by name (a staff member's, as it was), and whose account or line it concerns (0012).
    Column("actor_name", String(200)),
    Column("customer_kind", String(16)),
    Column("customer_id", String(64)),
    Index("ix_audit_entity", "entity_kind", "entity_id"),
    # The back office's log, newest first by id, filtered by who, by customer or by dates (0012).
    Index("ix_audit_actor_id", "actor_id", "id"),
    Index("ix_audit_customer_id", "customer_id", "id"),
    Index("ix_audit_at", "at"),
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

# --- Line B: prepaid subscribers -------------------------------------------------------------
# Money of Line B is held in minor units (BigInteger) so that the database itself can compare and
# sum it exactly on SQLite and PostgreSQL: `balance_minor` only moves by a conditional UPDATE
# (`WHERE balance_minor >= :amount` for a debit) in the same transaction as its ledger line, and
# the CHECK keeps it from ever going below zero.

prepaid_subscribers = Table(
    "prepaid_subscribers",
    metadata,
    Column("msisdn", String(16), primary_key=True),
    Column("profile_id", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint("balance_minor >= 0", name="balance_not_negative"),
)

# The main-credit ledger: immutable, signed (recharge > 0, consumption < 0); its sum is the balance.
prepaid_ledger = Table(
    "prepaid_ledger",
    metadata,
    Column("id", Id, primary_key=True),
    Column("msisdn", String(16), ForeignKey("prepaid_subscribers.msisdn"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "(kind = 'recharge' AND amount_minor > 0) OR (kind = 'consumption' AND amount_minor < 0)",
        name="signed_by_kind",
    ),
    Index("ix_prepaid_ledger_msisdn_at", "msisdn", "at"),
)

# Bonus buckets: `total`/`remaining` in the unit of the kind (credit: minor units; data: bytes;
# voice: minutes; sms: messages). `once_key` makes a monthly grant happen once.
prepaid_bonuses = Table(
    "prepaid_bonuses",
    metadata,
    Column("id", Id, primary_key=True),
    Column("msisdn", String(16), ForeignKey("prepaid_subscribers.msisdn"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("profile_id", String(64), nullable=False),
    Column("label", String(120), nullable=False),
    Column("source", String(80), nullable=False),
    Column("once_key", String(160), unique=True),
    CheckConstraint("remaining >= 0 AND remaining <= total", name="remaining_within_total"),
    CheckConstraint("kind IN ('credit', 'data', 'voice', 'sms')", name="kind"),
    Index("ix_prepaid_bonuses_msisdn_expires", "msisdn", "expires_at"),
)

# What each consumption took from each bonus bucket (the main-credit part is in the ledger).
prepaid_bonus_draws = Table(
    "prepaid_bonus_draws",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumption_id", Id, nullable=False, index=True),
    Column("bonus_id", Id, ForeignKey("prepaid_bonuses.id"), nullable=False),
    Column("msisdn", String(16), ForeignKey("prepaid_subscribers.msisdn"), nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint("units > 0", name="units_positive"),
)

prepaid_migrations = Table(
    "prepaid_migrations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("msisdn", String(16), ForeignKey("prepaid_subscribers.msisdn"), nullable=False),
    Column("from_profile_id", String(64), nullable=False),
    Column("to_profile_id", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("period", String(7), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    CheckConstraint("from_profile_id <> to_profile_id", name="a_real_change"),
    # A line's migrations by instant, and everyone's, newest first: keysets on (at, id) (0012: the id added).
    Index("ix_prepaid_migrations_msisdn_at_id", "msisdn", "at", "id"),
    Index("ix_prepaid_migrations_at_id", "at", "id"),
)

# One live one-time login code per MSISDN (known or not, so answers do not reveal which exist).
otp_codes = Table(
    "otp_codes",
    metadata,
    Column("msisdn", String(16), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", UtcDateTime),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
)

# --- Shared: the notification outbox and USSD sessions --------------------------------------

_UNSENT = text("status = 'pending'")
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("to", String(320), nullable=False),
    Column("subject", String(200)),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    CheckConstraint("channel IN ('sms', 'email')", name="channel"),
    CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    Index("ix_notifications_to_created", "to", "created_at"),
    Index(
        "ix_notifications_unsent", "next_attempt_at", "created_at", "id", postgresql_where=_UNSENT, sqlite_where=_UNSENT
    ),  # partial, as the jobs' one
)

ussd_sessions = Table(
    "ussd_sessions",
    metadata,
    Column("session_id", String(100), primary_key=True),
    Column("msisdn", String(16), nullable=False),
    Column("state", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# --- Line A billing: usage records, invoices and the gapless yearly sequence (migration 0003) -----

usage_records = Table(
    "usage_records",
    metadata,
    Column("record_id", String(100), primary_key=True),
    # No foreign key: records arrive by the million and only for lines found first (a service is never
    # deleted); the key's check would read and lock the service row once per record (migration 0007).
    Column("service_id", Id, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    CheckConstraint("bytes >= 0", name="bytes_not_negative"),
    Index("ix_usage_records_service_at", "service_id", "at"),  # a line's usage by day (migration 0008)
)

invoice_sequences = Table(
    "invoice_sequences",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_number", Integer, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("number", String(20), nullable=False, unique=True),
    Column("issued_on", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("vat_percent", Integer, nullable=False),
    Column("total", ExactDecimal, nullable=False),
    Column("vat", ExactDecimal, nullable=False),
    Column("total_with_vat", ExactDecimal, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "period", name="uq_invoices_account_period"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", Id, ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("description", String(300), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("service_id", Id),
    Column("at", UtcDateTime, nullable=False),
)

# --- Provisioning towards the networks: jobs written with the change, run by workers (migration 0004) --

_JOB_WAITING = text("status IN ('pending', 'running')")
_JOB_FAILED = text("status = 'failed'")
provisioning_jobs = Table(
    "provisioning_jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("change_request_id", Id, ForeignKey("change_requests.id")),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("network", String(32), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("depends_on", Id),  # a job that must have succeeded first (the new network before the old)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("locked_by", String(64)),
    Column("locked_until", UtcDateTime),
    Column("work_order_id", String(64)),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    # Partial: finished jobs pile up for ever, and a poll must read only the waiting ones, with or without
    # VACUUM (autovacuum may be off, or behind).
    Index(
        "ix_provisioning_jobs_waiting",
        "next_attempt_at",
        "id",
        postgresql_where=_JOB_WAITING,
        sqlite_where=_JOB_WAITING,
    ),
    Index("ix_provisioning_jobs_request", "change_request_id"),
    # The back office's failed jobs, the latest first (0012).
    Index("ix_provisioning_jobs_failed", "finished_at", "id", postgresql_where=_JOB_FAILED, sqlite_where=_JOB_FAILED),
)

# --- TM Forum facade: what the TMF APIs hold that the native tables do not (migration 0005) -----------
# Offerings an operator adds at run time (TMF620, kept apart from the catalogue file), qualifications
# (TMF679), top-up requests as sent (TMF654), refused orders (TMF622) and external product references.

tmf_resources = Table(
    "tmf_resources",
    metadata,
    Column("kind", String(48), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# --- Line A fleets: a change asked of many lines at once, each line its own change request (migration 0008) --
# A batch's status is not stored: it follows from its items and their requests (bascule.evolutions.batch).

change_batches = Table(
    "change_batches",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("changes", JSON, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
)

# An item is quoted (its change request tells the rest) or refused (its code and detail; with its request
# when the refusal came at confirmation).
change_batch_items = Table(
    "change_batch_items",
    metadata,
    Column("batch_id", Id, ForeignKey("change_batches.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("service_id", Id, ForeignKey("services.id"), nullable=False),
    Column("change_request_id", Id, ForeignKey("change_requests.id"), unique=True),
    Column("refusal_code", String(40)),
    Column("refusal_detail", Text),
    CheckConstraint("change_request_id IS NOT NULL OR refusal_code IS NOT NULL", name="quoted_or_refused"),
    UniqueConstraint("batch_id", "service_id", name="uq_change_batch_items_batch_service"),
)

# The supervisors' overrides of the shipped catalogue (0013): one value of one entry each; the stamp's version
# moves with every change, so that every process sees at a glance whether to read them again.
catalog_overrides = Table(
    "catalog_overrides",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
    Column("field", String(16), primary_key=True),
    Column("value", String(32), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    Column("set_by_id", String(64), nullable=False),
    Column("set_by_name", String(200)),
    CheckConstraint("kind IN ('plan', 'topup', 'extension', 'profile', 'fee')", name="kind"),
    CheckConstraint("field IN ('on_sale', 'price', 'unit_price', 'amount')", name="field"),
)

catalog_stamp = Table(
    "catalog_stamp",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
