"""Request and response bodies of API v1, as CONTRACT.md fixes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from bascule.channels.rest.fields import (
    ID_PATTERN,
    PERIOD_PATTERN,
    AddressLine,
    CatalogId,
    City,
    Country,
    Email,
    Msisdn,
    Name,
    OneTimeCode,
    OptionalAddressLine,
    Password,
    PostalCode,
    RecordId,
    Timezone,
)
from bascule.evolutions.batch import MAX_BATCH_LINES
from bascule.evolutions.fleet import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bascule.kernel.calendar import Period
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money
from bascule.kernel.text import ONE_LINE_PATTERN


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyOut(BaseModel):
    amount: str = Field(pattern=r"^-?\d+(\.\d+)?$", examples=["4.50"])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(**money.as_json())


class ClockIn(Strict):
    now: AwareDatetime


class ClockOut(BaseModel):
    now: datetime


class PlanOut(BaseModel):
    id: str
    name: str
    kind: Literal["bundle", "metered"]
    radio: Literal["4G", "5G"]
    price: MoneyOut
    data_bytes: int | None = None
    unit_price: MoneyOut | None = None
    unit_bytes: int | None = None
    default_ceiling_bytes: int | None = None
    ceiling_step_bytes: int | None = None
    max_ceiling_bytes: int | None = None
    on_sale: bool = True  # False: withdrawn from sale by the operator (kept by whoever has it)


class BonusOut(BaseModel):
    kind: str
    trigger: str
    label: str
    validity_days: int
    amount: MoneyOut | None = None
    quantity: int | None = None
    percent_of_recharge: int | None = None
    min_recharge: MoneyOut | None = None


class ProfileOut(BaseModel):
    id: str
    name: str
    description: str
    bonuses: list[BonusOut]
    min_consumption_last_month: MoneyOut | None
    on_sale: bool = True  # False: withdrawn from sale by the operator (kept by whoever has it)


class NamedOut(BaseModel):
    id: str
    name: str


class FeeOut(BaseModel):
    id: str
    name: str
    amount: MoneyOut


class PackOut(BaseModel):
    id: str
    name: str
    data_bytes: int
    price: MoneyOut
    on_sale: bool = True  # False: withdrawn from sale by the operator (kept by whoever has it)


class PoliciesOut(BaseModel):
    monthly_change_limit: int
    credit_on_radio_downgrade: bool
    monthly_migration_limit: int


class CatalogOut(BaseModel):
    plans: list[PlanOut]
    profiles: list[ProfileOut]
    networks: list[NamedOut]
    apns: list[NamedOut]
    fees: list[FeeOut]
    topups: list[PackOut]
    extensions: list[PackOut]
    policies: PoliciesOut


class AccountIn(Strict):
    name: Name
    timezone: Timezone | None = None


class AccountOut(BaseModel):
    id: str
    name: str
    timezone: str
    currency: str


class BillingAddressIn(Strict):
    line1: AddressLine
    line2: OptionalAddressLine | None = None
    postal_code: PostalCode
    city: City
    country: Country = "FR"


class BillingAddressOut(BaseModel):
    line1: str
    line2: str | None
    postal_code: str
    city: str
    country: str


class AccountDetailsOut(AccountOut):
    billing_address: BillingAddressOut | None


class AccountPatchIn(Strict):
    """What the operator changes on an account; `billing_address: null` removes the address."""

    billing_address: BillingAddressIn | None


class UserIn(Strict):
    email: Email
    password: Password
    role: Literal["manager", "viewer"]


class UserOut(BaseModel):
    id: str
    email: str
    role: Literal["manager", "viewer"]
    account_id: str


class ServiceIn(Strict):
    account_id: CatalogId
    plan_id: CatalogId
    network: CatalogId
    apn: CatalogId
    msisdn: Msisdn
    activated_on: date | None = None


class UsageIn(Strict):
    bytes: int = Field(ge=0, le=10**15)
    at: AwareDatetime | None = None
    record_id: RecordId | None = None


class CycleOut(BaseModel):
    start: date
    end: date


class QuotaOut(BaseModel):
    total_bytes: int
    used_bytes: int
    remaining_bytes: int


class ServiceOut(BaseModel):
    id: str
    account_id: str
    msisdn: str
    plan_id: str
    plan_name: str
    kind: Literal["bundle", "metered"]
    radio: Literal["4G", "5G"]
    network: str
    apn: str
    status: Literal["active", "barred", "throttled"]
    ceiling_bytes: int | None
    activated_on: date
    cycle: CycleOut
    quota: QuotaOut
    changes_left_this_month: int


class LoginIn(Strict):
    """A customer's e-mail and password, or a prepaid line's MSISDN and one-time code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["email", "password"]}, {"required": ["msisdn", "otp"]}]},
    )

    email: Email | SkipJsonSchema[None] = None  # absent, never null
    password: Password | SkipJsonSchema[None] = None
    msisdn: Msisdn | SkipJsonSchema[None] = None
    otp: OneTimeCode | SkipJsonSchema[None] = None


class TokenOut(BaseModel):
    token: str
    expires_at: datetime


class ChangesIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})  # at least one element

    plan_id: CatalogId | None = None
    radio: Literal["4G", "5G"] | None = None
    apn: CatalogId | None = None
    network: CatalogId | None = None
    ceiling_bytes: int | None = Field(default=None, gt=0, le=10**15)


class ChangeRequestIn(Strict):
    changes: ChangesIn


class ConfirmIn(Strict):
    password: Password | None = None


class TopupIn(Strict):
    topup_id: CatalogId
    password: Password | None = None


class ExtensionIn(Strict):
    extension_id: CatalogId
    password: Password | None = None


class PurchaseOut(BaseModel):
    id: str
    service_id: str
    kind: Literal["topup", "extension"]
    pack_id: str
    name: str
    data_bytes: int
    price: MoneyOut
    at: datetime
    valid_until: datetime
    service: ServiceOut


class ChargeLineOut(BaseModel):
    kind: Literal["recurring", "proration", "fee", "topup", "extension", "usage"]
    description: str
    amount: MoneyOut


class QuoteOut(BaseModel):
    charges: list[ChargeLineOut]
    total: MoneyOut
    quota_after_bytes: int
    notice: str


class ChangeRequestOut(BaseModel):
    id: str
    service_id: str
    account_id: str
    status: Literal["awaiting_confirmation", "provisioning", "completed", "failed", "cancelled"]
    changes: dict[str, Any]
    quote: QuoteOut
    channel: str
    created_at: datetime
    confirmed_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    failed_at: datetime | None


class StatementLineOut(BaseModel):
    kind: Literal["recurring", "proration", "fee", "topup", "extension", "usage"]
    description: str
    amount: MoneyOut
    service_id: str | None
    change_request_id: str | None
    at: datetime


class ChargesOut(BaseModel):
    period: str
    lines: list[StatementLineOut]
    total: MoneyOut


class AuditEventOut(BaseModel):
    at: datetime
    actor_kind: str
    actor_id: str
    channel: str
    entity_kind: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class BillRunIn(Strict):
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-06"])


class InvoiceLineOut(BaseModel):
    kind: Literal["recurring", "proration", "fee", "topup", "extension", "usage"]
    description: str
    amount: MoneyOut
    service_id: str | None
    at: datetime


class InvoiceOut(BaseModel):
    id: str
    account_id: str
    number: str = Field(examples=["2026-000042"])
    period: str
    issued_on: date
    total: MoneyOut
    vat_percent: int
    vat: MoneyOut
    total_with_vat: MoneyOut
    lines: list[InvoiceLineOut]


class BillRunOut(BaseModel):
    period: str
    invoices: list[InvoiceOut]
    created: int
    already_invoiced: int
    not_yet_billable: int


def period_of(text: str) -> Period:
    """A `YYYY-MM` query or body value as a period, or a validation error (never a 500)."""
    try:
        return Period.parse(text)
    except ValueError:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"Période invalide : {text} (attendu AAAA-MM).") from None


# --- Line A fleets: the listing's filters and pages, a line's usage by day -------------------------------------

_NO_CONTROL_CHARACTER = ONE_LINE_PATTERN
_ID = ID_PATTERN


class ServicesQuery(BaseModel):
    """The query of `GET /api/v1/services`: filters (each one given must hold) and the page."""

    account_id: str | None = Field(
        default=None,
        max_length=40,
        pattern=_NO_CONTROL_CHARACTER,
        description="Operator token only: that account's lines.",
    )
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=_NO_CONTROL_CHARACTER,
        description="Digits anywhere in the MSISDN, or text in the plan's name (any case).",
    )
    status: Literal["active", "barred", "throttled"] | None = None
    kind: Literal["bundle", "metered"] | None = None
    radio: Literal["4G", "5G"] | None = None
    network: str | None = Field(default=None, min_length=1, max_length=32, pattern=_NO_CONTROL_CHARACTER)
    plan_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=_NO_CONTROL_CHARACTER)
    sort: Literal["msisdn", "-msisdn"] = Field(
        default="msisdn", description="By MSISDN, up (`msisdn`) or down (`-msisdn`)."
    )
    limit: int = Field(
        default=DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Lines per page (JSON only: an export has them all).",
    )
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=_ID,
        description='Opaque: the `cursor` of the `Link: <…>; rel="next"` header.',
    )


class UsageDayOut(BaseModel):
    date: date
    bytes: int = Field(ge=0)


class UsageOut(BaseModel):
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-06"])
    days: list[UsageDayOut] = Field(min_length=28, max_length=31)
    total_bytes: int = Field(ge=0)


# --- Line A fleets: change batches -----------------------------------------------------------------------------

ServiceId = Annotated[str, Field(min_length=1, max_length=40, pattern=_ID)]


class ChangeBatchIn(Strict):
    service_ids: list[ServiceId] = Field(
        min_length=1,
        max_length=MAX_BATCH_LINES,
        json_schema_extra={"uniqueItems": True},
        description=f"1 to {MAX_BATCH_LINES} distinct lines of one account.",
    )
    changes: ChangesIn


class ChangeBatchItemOut(BaseModel):
    """One line of a batch; `change_request_id` and `quote` once it has its request, `code` and `detail` when
    refused."""

    service_id: str
    status: Literal["quoted", "refused", "provisioning", "completed", "failed", "cancelled"]
    change_request_id: str | None = None
    quote: QuoteOut | None = None
    code: str | None = Field(default=None, pattern=r"^[a-z-]+$", examples=["monthly-limit-reached"])
    detail: str | None = None


class ChangeBatchOut(BaseModel):
    id: str
    account_id: str
    status: Literal[
        "awaiting_confirmation", "confirming", "provisioning", "completed", "partial", "failed", "cancelled"
    ]
    changes: dict[str, Any]
    items: list[ChangeBatchItemOut] = Field(min_length=1, max_length=MAX_BATCH_LINES)
    total: MoneyOut
    created_at: datetime
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
