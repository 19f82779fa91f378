"""Line B over HTTP: prepaid subscribers (operator), one-time-code login, profiles and migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field, StrictInt, StrictStr

from bascule.catalog.model import BonusKind
from bascule.channels.rest.commands import Command, posted
from bascule.channels.rest.fields import CatalogId, Msisdn, NotificationRecipient, PathMsisdn, Timezone
from bascule.channels.rest.hot_routes import HotRoute, answer_first
from bascule.channels.rest.responses import model_json
from bascule.channels.rest.schemas import MoneyOut, Strict
from bascule.channels.rest.security import context, operator, principal
from bascule.context import Context
from bascule.identity.model import Channel, Principal
from bascule.kernel.money import from_minor
from bascule.notifications.model import Notification
from bascule.prepaid.model import BonusBucket, ProfileMigration
from bascule.prepaid.usecases import (
    ConsumptionResult,
    RechargeResult,
    SubscriberSummary,
    consume,
    create_subscriber,
    list_migrations,
    list_notifications,
    migrate_profile,
    profile_options,
    recharge,
    request_otp,
    subscriber_summary,
)
from bascule.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["prepaid (line B)"])


class SubscriberIn(Strict):
    msisdn: Msisdn
    profile_id: CatalogId
    timezone: Timezone | None = None


class AmountIn(Strict):
    """A whole number of the line's currency units (or a decimal string with its minor units)."""

    amount: (
        Annotated[StrictInt, Field(ge=1, le=10**12)]
        | Annotated[StrictStr, Field(pattern=r"^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    ) = Field(examples=["2500"])
    at: AwareDatetime | None = None


class OtpIn(Strict):
    msisdn: Msisdn


class MigrationIn(Strict):
    profile_id: CatalogId


class BonusHeldOut(BaseModel):
    id: str
    kind: Literal["credit", "data", "voice", "sms"]
    label: str
    amount: MoneyOut | None = None
    bytes: int | None = None
    quantity: int | None = None
    expires_at: datetime
    source: str


class SubscriberOut(BaseModel):
    msisdn: str
    profile_id: str
    profile_name: str
    timezone: str
    balance: MoneyOut
    bonuses: list[BonusHeldOut]
    last_month: str
    consumption_last_month: MoneyOut
    migrations_left_this_month: int


class RechargeOut(BaseModel):
    id: str
    msisdn: str
    amount: MoneyOut
    at: datetime
    balance: MoneyOut
    bonuses: list[BonusHeldOut]


class ConsumptionOut(BaseModel):
    id: str
    msisdn: str
    amount: MoneyOut
    from_bonus: MoneyOut
    from_main: MoneyOut
    at: datetime
    balance: MoneyOut


class ProfileOptionOut(BaseModel):
    profile_id: str
    name: str
    eligible: bool
    current: bool
    code: str | None = None
    reason: str | None = None


class MigrationOut(BaseModel):
    id: str
    msisdn: str
    from_profile_id: str
    to_profile_id: str
    at: datetime
    channel: str


class NotificationOut(BaseModel):
    id: str
    channel: str
    to: str
    subject: str | None
    body: str
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None


class OtpSentOut(BaseModel):
    detail: str


def bonus_out(bucket: BonusBucket, currency: str, *, remaining: bool = True) -> BonusHeldOut:
    units = bucket.remaining if remaining else bucket.total
    sized: dict[str, object] = {}
    if bucket.kind is BonusKind.CREDIT:
        sized["amount"] = MoneyOut.of(from_minor(units, currency))
    elif bucket.kind is BonusKind.DATA:
        sized["bytes"] = units
    else:
        sized["quantity"] = units
    return BonusHeldOut(
        id=bucket.id,
        kind=bucket.kind.value,
        label=bucket.label,
        expires_at=bucket.expires_at,
        source=bucket.source,
        **sized,  # type: ignore[arg-type]
    )


def subscriber_out(summary: SubscriberSummary) -> SubscriberOut:
    subscriber = summary.subscriber
    return SubscriberOut(
        msisdn=subscriber.msisdn,
        profile_id=summary.profile.id,
        profile_name=summary.profile.name,
        timezone=subscriber.timezone,
        balance=MoneyOut.of(summary.balance),
        bonuses=[bonus_out(b, subscriber.currency) for b in summary.bonuses],
        last_month=str(summary.last_month),
        consumption_last_month=MoneyOut.of(summary.consumption_last_month),
        migrations_left_this_month=summary.migrations_left_this_month,
    )


def migration_out(migration: ProfileMigration) -> MigrationOut:
    return MigrationOut(
        id=migration.id,
        msisdn=migration.msisdn,
        from_profile_id=migration.from_profile_id,
        to_profile_id=migration.to_profile_id,
        at=migration.at,
        channel=migration.channel,
    )


def recharge_out(result: RechargeResult) -> RechargeOut:
    entry = result.entry
    return RechargeOut(
        id=entry.id,
        msisdn=entry.msisdn,
        amount=MoneyOut.of(entry.amount),
        at=entry.at,
        balance=MoneyOut.of(result.balance),
        bonuses=[bonus_out(b, entry.amount.currency) for b in result.bonuses],
    )


def consumption_out(result: ConsumptionResult) -> ConsumptionOut:
    return ConsumptionOut(
        id=result.id,
        msisdn=result.msisdn,
        amount=MoneyOut.of(result.amount),
        from_bonus=MoneyOut.of(result.from_bonus),
        from_main=MoneyOut.of(result.from_main),
        at=result.at,
        balance=MoneyOut.of(result.balance),
    )


def notification_out(notification: Notification) -> NotificationOut:
    return NotificationOut(**{name: getattr(notification, name) for name in NotificationOut.model_fields})


def _created(model: BaseModel, location: str) -> Response:
    return model_json(model, 201, {"Location": location})


@router.post("/admin/subscribers", status_code=201, response_model=SubscriberOut)
def post_subscriber(
    body: SubscriberIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    def work(ctx: Context) -> SubscriberSummary:
        subscriber = create_subscriber(ctx, actor, Channel.API, body.msisdn, body.profile_id, body.timezone)
        return subscriber_summary(ctx, actor, subscriber.msisdn)

    return command(
        actor,
        work,
        lambda summary: _created(subscriber_out(summary), f"/api/v1/subscribers/{summary.subscriber.msisdn}"),
    )


@router.post("/admin/subscribers/{msisdn}/recharges", status_code=201, response_model=RechargeOut)
def post_recharge(
    msisdn: PathMsisdn, body: AmountIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: recharge(ctx, actor, Channel.API, msisdn, body.amount, body.at),
        lambda result: _created(recharge_out(result), f"/api/v1/subscribers/{msisdn}"),
    )


@router.post("/admin/subscribers/{msisdn}/consumptions", status_code=201, response_model=ConsumptionOut)
def post_consumption(
    msisdn: PathMsisdn, body: AmountIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: consume(ctx, actor, Channel.API, msisdn, body.amount, body.at),
        lambda result: _created(consumption_out(result), f"/api/v1/subscribers/{msisdn}"),
    )


@router.get("/admin/notifications", response_model=list[NotificationOut])
def get_notifications(
    to: NotificationRecipient = None, actor: Principal = Depends(operator), ctx: Context = Depends(context)
) -> list[NotificationOut]:
    if to is not None and to.strip().isdigit():  # an unencoded "+" in a query string arrives as a space
        to = "+" + to.strip()
    return [notification_out(n) for n in list_notifications(ctx, actor, to)]


@router.post("/auth/otp", status_code=202, response_model=OtpSentOut, tags=["authentication"])
def post_otp(body: OtpIn, command: Command = Depends(posted)) -> Response:
    out = OtpSentOut(detail="Si ce numéro est celui d'un abonné, un code à usage unique lui a été envoyé par SMS.")
    return command(
        None,
        lambda ctx: request_otp(ctx, Channel.API, body.msisdn),
        lambda _: JSONResponse(out.model_dump(), status_code=202),
    )


@router.get("/subscribers/{msisdn}", response_model=SubscriberOut)
def get_subscriber(
    msisdn: PathMsisdn, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> SubscriberOut:
    return subscriber_out(subscriber_summary(ctx, actor, msisdn))


@router.get(
    "/subscribers/{msisdn}/profile-options", response_model=list[ProfileOptionOut], response_model_exclude_none=True
)
def get_profile_options(
    msisdn: PathMsisdn, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> list[ProfileOptionOut]:
    return [
        ProfileOptionOut(
            profile_id=o.profile.id,
            name=o.profile.name,
            eligible=o.eligible,
            current=o.current,
            code=o.code.value if o.code else None,
            reason=o.reason,
        )
        for o in profile_options(ctx, actor, msisdn)
    ]


@router.post("/subscribers/{msisdn}/profile-migrations", status_code=201, response_model=MigrationOut)
def post_migration(
    msisdn: PathMsisdn, body: MigrationIn, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: migrate_profile(ctx, actor, Channel.API, msisdn, body.profile_id),
        lambda migration: _created(migration_out(migration), f"/api/v1/subscribers/{msisdn}/profile-migrations"),
    )


@router.get("/subscribers/{msisdn}/profile-migrations", response_model=list[MigrationOut])
def get_migrations(
    msisdn: PathMsisdn, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> list[MigrationOut]:
    return [migration_out(m) for m in list_migrations(ctx, actor, msisdn)]


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    """The channel installer registered in bascule.bootstrap."""
    app.include_router(router)
    answer_first(
        app,
        HotRoute(
            "/api/v1/subscribers/{msisdn}/profile-migrations", post_migration, {"msisdn": PathMsisdn}, MigrationIn
        ),
    )
