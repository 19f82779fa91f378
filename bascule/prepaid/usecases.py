"""Line B use cases, shared by every channel (REST, portal, USSD, back office, CLI).

Each takes (ctx, actor, channel, ...) and runs in one unit of work with its audit lines.
Refusals are DomainError with a stable code; channels render them (problem+json, USSD line).
When bonuses are granted and what consumption counts: see the package docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from bascule.audit.trail import record
from bascule.catalog.model import Profile, require_on_sale
from bascule.context import Context
from bascule.identity.model import Channel, Principal, PrincipalKind
from bascule.identity.usecases import IssuedToken, issue_token
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.limits import Limited, monthly_limit_reached
from bascule.kernel.messages_fr import message
from bascule.kernel.money import Money, from_minor, to_minor
from bascule.notifications import notify
from bascule.notifications.model import Notification
from bascule.prepaid import otp
from bascule.prepaid.model import (
    BonusBucket,
    EntryKind,
    LedgerEntry,
    ProfileMigration,
    StoredOtp,
    Subscriber,
)
from bascule.prepaid.ports import PrepaidUnit as Unit
from bascule.prepaid.provisioning import push_profile
from bascule.prepaid.rules import (
    MIGRATION_SLOT_SCOPE,
    Verdict,
    eligibility,
    monthly_key,
    parse_amount,
    plan_draw,
    recharge_grants,
    require_msisdn,
)

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

AmountIn = str | int | Decimal | Money
T = TypeVar("T")
MAX_BACKDATING = timedelta(days=400)  # history may be loaded after the fact, within reason


@dataclass(frozen=True, slots=True)
class RechargeResult:
    entry: LedgerEntry
    bonuses: tuple[BonusBucket, ...]
    balance: Money


@dataclass(frozen=True, slots=True)
class ConsumptionResult:
    id: str
    msisdn: str
    amount: Money
    from_bonus: Money
    from_main: Money
    at: datetime
    balance: Money


@dataclass(frozen=True, slots=True)
class SubscriberSummary:
    subscriber: Subscriber
    profile: Profile
    balance: Money
    bonuses: tuple[BonusBucket, ...]
    last_month: Period
    consumption_last_month: Money
    migrations_left_this_month: int


@dataclass(frozen=True, slots=True)
class ProfileOption:
    profile: Profile
    eligible: bool
    code: ErrorCode | None = None
    reason: str | None = None
    current: bool = False
    error: DomainError | None = None  # the refusal migrate_profile would raise now (USSD shows its short form)


def subscriber_principal(msisdn: str) -> Principal:
    return Principal(PrincipalKind.SUBSCRIBER, msisdn, msisdn=msisdn)


def resolve_subscriber(uow: Unit, principal_id: str) -> Principal:
    """The principal behind a subscriber token (registered in `principal_resolvers`)."""
    if uow.subscribers.get(principal_id) is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    return subscriber_principal(principal_id)


# --- reading ------------------------------------------------------------------------------


def _visible(uow: Unit, actor: Principal, msisdn: str, *, lock: bool = False) -> Subscriber:
    """The subscriber, if this actor may see the line; another customer's line does not exist."""
    _may_see(actor, msisdn)
    return _found(uow.subscribers.lock(msisdn) if lock else uow.subscribers.get(msisdn))


def _may_see(actor: Principal, msisdn: str) -> None:
    if not actor.may_see_line(msisdn):
        raise DomainError(ErrorCode.NOT_FOUND, what="subscriber")


def _found(found: T | None) -> T:
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="subscriber")
    return found


def _consumed_last_month(uow: Unit, subscriber: Subscriber, now: datetime) -> Money:
    """Main credit consumed during the previous calendar month in the subscriber's zone."""
    tz = zone(subscriber.timezone)
    last_month = Period.at(now, tz).previous()
    consumed = uow.ledger.consumed_minor(subscriber.msisdn, last_month.start_instant(tz), last_month.end_instant(tz))
    return from_minor(consumed, subscriber.currency)


@dataclass(frozen=True, slots=True)
class _GuessedMonths:
    """This month and last month in the catalogue's zone, the one subscribers get by default: a subscriber is read
    with its figures of those months in one statement, and read again in its own zone when it lives in another."""

    zone_name: str
    this_month: Period
    last_month: Period
    last_month_start: datetime
    last_month_end: datetime

    @classmethod
    def at(cls, ctx: Ctx, now: datetime) -> _GuessedMonths:
        name = ctx.catalog.prepaid.timezone
        tz = zone(name)
        this_month = Period.at(now, tz)
        last_month = this_month.previous()
        return cls(name, this_month, last_month, last_month.start_instant(tz), last_month.end_instant(tz))

    def hold_for(self, subscriber: Subscriber) -> bool:
        return subscriber.timezone == self.zone_name


def _locked_with_last_month(
    ctx: Ctx, uow: Unit, actor: Principal, msisdn: str, now: datetime
) -> tuple[Subscriber, Money]:
    """The subscriber, locked, and the main credit it consumed during the previous calendar month in its zone."""
    _may_see(actor, msisdn)
    months = _GuessedMonths.at(ctx, now)
    found = uow.subscribers.lock_with_consumption(msisdn, months.last_month_start, months.last_month_end)
    subscriber, consumed = _found(found)
    if not months.hold_for(subscriber):
        return subscriber, _consumed_last_month(uow, subscriber, now)
    return subscriber, from_minor(consumed, subscriber.currency)


@dataclass(frozen=True, slots=True)
class _Standing:
    """What a profile change is weighed with: last month's consumption, this month's changes left."""

    last_month: Period
    consumed: Money
    migrations_left: int


def _standing(ctx: Ctx, uow: Unit, subscriber: Subscriber, now: datetime) -> _Standing:
    """Both in one read, each month taken in the subscriber's zone."""
    tz = zone(subscriber.timezone)
    this_month = Period.at(now, tz)
    last_month = this_month.previous()
    consumed, used = uow.subscribers.month_standing(
        subscriber.msisdn,
        last_month.start_instant(tz),
        last_month.end_instant(tz),
        MIGRATION_SLOT_SCOPE,
        str(this_month),
    )
    return _standing_of(ctx, subscriber, last_month, consumed, used)


def _standing_of(ctx: Ctx, subscriber: Subscriber, last_month: Period, consumed: int, used: int) -> _Standing:
    left = max(0, ctx.catalog.prepaid.monthly_migration_limit - used)
    return _Standing(last_month, from_minor(consumed, subscriber.currency), left)


def _seen_with_standing(
    ctx: Ctx, uow: Unit, actor: Principal, msisdn: str, now: datetime, *, bonuses: bool = False
) -> tuple[Subscriber, Money, _Standing, tuple[BonusBucket, ...]]:
    """The subscriber this actor may see, its balance and its standing; with `bonuses`, its live bonus buckets too,
    in the same read."""
    _may_see(actor, msisdn)
    months = _GuessedMonths.at(ctx, now)
    read = (msisdn, months.last_month_start, months.last_month_end, MIGRATION_SLOT_SCOPE, str(months.this_month))
    live: tuple[BonusBucket, ...] = ()
    if bonuses:
        subscriber, balance, consumed, used, buckets = _found(uow.subscribers.with_standing_and_bonuses(*read, now))
        live = tuple(buckets)
    else:
        subscriber, balance, consumed, used = _found(uow.subscribers.with_standing(*read))
    if months.hold_for(subscriber):
        standing = _standing_of(ctx, subscriber, months.last_month, consumed, used)
    else:
        standing = _standing(ctx, uow, subscriber, now)
    return subscriber, from_minor(balance, subscriber.currency), standing, live


def require_subscriber(ctx: Ctx, actor: Principal, msisdn: str) -> None:
    """Refuses (not-found) a number that is no subscriber this actor may see; reads nothing else."""
    with ctx.uow(write=False) as uow:
        _visible(uow, actor, msisdn)


def subscriber_summary(ctx: Ctx, actor: Principal, msisdn: str) -> SubscriberSummary:
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        subscriber, balance, standing, bonuses = _seen_with_standing(ctx, uow, actor, msisdn, now, bonuses=True)
        return SubscriberSummary(
            subscriber=subscriber,
            profile=ctx.catalog.profile(subscriber.profile_id),
            balance=balance,
            bonuses=bonuses,
            last_month=standing.last_month,
            consumption_last_month=standing.consumed,
            migrations_left_this_month=standing.migrations_left,
        )


def _limit_reached(ctx: Ctx, period: Period) -> DomainError:
    return monthly_limit_reached(ctx.catalog.prepaid.monthly_migration_limit, period, Limited.PROFILE_CHANGE)


def _refusal(verdict: Verdict, target: Profile) -> DomainError:
    """A refused migration to `target`, as migrate_profile raises it and profile_options shows it."""
    return verdict.refuse(profile_id=target.id)


def profile_options(ctx: Ctx, actor: Principal, msisdn: str) -> list[ProfileOption]:
    """Every profile of the catalogue, each with whether this subscriber may move to it now and why not."""
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        subscriber, _, standing, _ = _seen_with_standing(ctx, uow, actor, msisdn, now)
    consumed, left = standing.consumed, standing.migrations_left
    period = Period.at(now, zone(subscriber.timezone))
    options = []
    for profile in ctx.catalog.profiles:
        if not profile.on_sale and profile.id != subscriber.profile_id:
            continue  # withdrawn from sale: kept by those who have it, offered to nobody
        verdict = eligibility(profile, subscriber.profile_id, consumed)
        current = profile.id == subscriber.profile_id
        if verdict.eligible and left == 0:
            limit = _limit_reached(ctx, period)
            options.append(ProfileOption(profile, False, limit.code, message(limit), error=limit))
        else:
            refusal = None if verdict.eligible else _refusal(verdict, profile)
            options.append(ProfileOption(profile, verdict.eligible, verdict.code, verdict.reason, current, refusal))
    return options


def list_migrations(ctx: Ctx, actor: Principal, msisdn: str) -> list[ProfileMigration]:
    """The subscriber's migrations, newest first."""
    with ctx.uow(write=False) as uow:
        _visible(uow, actor, msisdn)
        return uow.migrations.of(msisdn)


# --- changing -----------------------------------------------------------------------------


def create_subscriber(
    ctx: Ctx, actor: Principal, channel: Channel, msisdn: str, profile_id: str, timezone: str | None = None
) -> Subscriber:
    actor.require_operator()
    msisdn = require_msisdn(msisdn)
    profile = ctx.catalog.profile(profile_id)
    require_on_sale(profile)
    tz_name = timezone or ctx.catalog.prepaid.timezone
    try:
        zone(tz_name)
    except (ValueError, OSError):  # OSError: a tzdata directory such as "Europe" is no zone
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="unknown-time-zone", time_zone=tz_name) from None
    now = ctx.clock.now()
    subscriber = Subscriber(msisdn, profile.id, tz_name, ctx.catalog.prepaid.currency, now)
    with ctx.uow() as uow:
        if not uow.subscribers.add(subscriber):
            raise DomainError(ErrorCode.CONFLICT, reason="already-subscriber")
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("subscriber", msisdn),
            action="subscriber.created",
            after=subscriber.audit_view(),
        )
        uow.commit()
    return subscriber


def _instant(ctx: Ctx, at: datetime | None, what: str) -> datetime:
    """When a recharge or consumption happened: now, or earlier (never later), as UTC like stored instants."""
    # `what`, "recharge" or "consumption", names the refusal (bascule.kernel.messages_fr).
    now = ctx.clock.now().astimezone(UTC)
    if at is None:
        return now
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="instant-without-offset")
    try:
        instant = at.astimezone(UTC)
    except OverflowError:
        instant = datetime.min.replace(tzinfo=UTC)
    if instant > now:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason=f"{what}-in-future")
    if instant < now - MAX_BACKDATING:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason=f"{what}-too-old", days=MAX_BACKDATING.days)
    return instant


def _grant_bonuses(
    uow: Unit, ctx: Ctx, subscriber: Subscriber, entry: LedgerEntry, tz: ZoneInfo
) -> tuple[BonusBucket, ...]:
    profile = ctx.catalog.profile(subscriber.profile_id)
    period = Period.at(entry.at, tz)
    granted = []
    for grant in recharge_grants(profile, entry.amount, entry.at, tz):
        index = grant.monthly_index
        monthly = index is not None
        bucket = BonusBucket(
            id=new_id("bon"),
            msisdn=subscriber.msisdn,
            kind=grant.kind,
            total=grant.quantity,
            remaining=grant.quantity,
            granted_at=entry.at,
            expires_at=grant.expires_at.astimezone(UTC),
            profile_id=profile.id,
            label=grant.label,
            source=f"monthly:{period}" if monthly else f"recharge:{entry.id}",
        )
        key = None if index is None else monthly_key(subscriber.msisdn, period, profile.id, index)
        if uow.bonuses.add(bucket, once_key=key):
            granted.append(bucket)
    return tuple(granted)


def _bonus_view(bucket: BonusBucket) -> dict[str, object]:
    return {
        "id": bucket.id,
        "kind": bucket.kind.value,
        "quantity": bucket.total,
        "expires_at": bucket.expires_at,
        "source": bucket.source,
    }


def recharge(
    ctx: Ctx, actor: Principal, channel: Channel, msisdn: str, amount: AmountIn, at: datetime | None = None
) -> RechargeResult:
    """Credit the main balance and grant the profile's bonuses for this recharge."""
    actor.require_operator()
    instant = _instant(ctx, at, "recharge")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        subscriber = _visible(uow, actor, msisdn, lock=True)
        money = parse_amount(amount, subscriber.currency)
        entry = LedgerEntry(new_id("rch"), msisdn, EntryKind.RECHARGE, money, instant, channel.value)
        uow.ledger.add(entry, now)
        uow.subscribers.credit(msisdn, to_minor(money))
        bonuses = _grant_bonuses(uow, ctx, subscriber, entry, zone(subscriber.timezone))
        balance = from_minor(uow.subscribers.balance_minor(msisdn), subscriber.currency)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("subscriber", msisdn),
            action="prepaid.recharged",
            after={
                "entry_id": entry.id,
                "amount": money,
                "at": instant,
                "balance": balance,
                "bonuses": [_bonus_view(b) for b in bonuses],
            },
        )
        uow.commit()
    return RechargeResult(entry, bonuses, balance)


def consume(
    ctx: Ctx, actor: Principal, channel: Channel, msisdn: str, amount: AmountIn, at: datetime | None = None
) -> ConsumptionResult:
    """Draw bonus credit first (earliest expiry first), then the main balance; all or nothing."""
    actor.require_operator()
    instant = _instant(ctx, at, "consumption")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        subscriber = _visible(uow, actor, msisdn, lock=True)
        money = parse_amount(amount, subscriber.currency)
        consumption_id = new_id("csm")
        plan = plan_draw(uow.bonuses.live_at(msisdn, instant), to_minor(money), instant)
        for bucket_id, units in plan.from_buckets:
            if not uow.bonuses.draw(bucket_id, units, consumption_id=consumption_id, msisdn=msisdn, at=instant):
                raise RuntimeError(f"bonus {bucket_id} moved under a locked subscriber")
        if plan.from_main and not uow.subscribers.debit(msisdn, plan.from_main):
            available = uow.subscribers.balance_minor(msisdn) + plan.from_bonus
            raise DomainError(
                ErrorCode.INSUFFICIENT_BALANCE,
                requested=money,
                available=from_minor(available, subscriber.currency),
            )
        main = from_minor(plan.from_main, subscriber.currency)
        if plan.from_main:
            debit = LedgerEntry(consumption_id, msisdn, EntryKind.CONSUMPTION, main, instant, channel.value)
            uow.ledger.add(debit, now)
        balance = from_minor(uow.subscribers.balance_minor(msisdn), subscriber.currency)
        bonus = from_minor(plan.from_bonus, subscriber.currency)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("subscriber", msisdn),
            action="prepaid.consumed",
            after={
                "consumption_id": consumption_id,
                "amount": money,
                "at": instant,
                "from_bonus": bonus,
                "from_main": main,
                "balance": balance,
                "buckets": [list(d) for d in plan.from_buckets],
            },
        )
        uow.commit()
    return ConsumptionResult(consumption_id, msisdn, money, bonus, main, instant, balance)


def migrate_profile(ctx: Ctx, actor: Principal, channel: Channel, msisdn: str, profile_id: str) -> ProfileMigration:
    """Move to another profile now: same-profile and eligibility refusals first, then the month's slot.

    A refused attempt takes no slot (the slot is taken last, in the same transaction). Bonus buckets
    already held stay exactly as they are; the new profile's bonuses come with the next recharges.
    """
    now = ctx.clock.now().astimezone(UTC)
    with ctx.uow() as uow:
        subscriber, consumed = _locked_with_last_month(ctx, uow, actor, msisdn, now)
        target = ctx.catalog.profile(profile_id)
        if target.id != subscriber.profile_id:
            require_on_sale(target)
        verdict = eligibility(target, subscriber.profile_id, consumed)
        if not verdict.eligible:
            raise _refusal(verdict, target)
        period = Period.at(now, zone(subscriber.timezone))
        uow.subscribers.move_profile_taking_slot(  # last: a refused attempt takes no slot
            msisdn,
            subscriber.profile_id,
            target.id,
            (MIGRATION_SLOT_SCOPE, str(period), ctx.catalog.prepaid.monthly_migration_limit),
            (_limit_reached(ctx, period), RuntimeError(f"profile of {msisdn} moved under a locked subscriber")),
        )
        migration = ProfileMigration(
            new_id("mig"),
            msisdn,
            subscriber.profile_id,
            target.id,
            now,
            str(period),
            channel.value,
            actor.kind.value,
            actor.audit_id,
        )
        with uow.appends_deferred():  # the record, the charging system's job, the SMS, the audit row: together
            uow.migrations.add(migration)
            push_profile(ctx, uow, msisdn, target.id, now)
            _notify_sms(
                uow,
                msisdn,
                f"Votre profil est maintenant {target.name}. Vos bonus en cours sont conservés "
                "jusqu'à leur date de validité.",
                now,
            )
            record(
                uow,
                at=now,
                actor=actor,
                channel=channel,
                entity=("subscriber", msisdn),
                action="profile.migrated",
                before={"profile_id": subscriber.profile_id},
                after={"profile_id": target.id, "migration_id": migration.id, "period": str(period)},
            )
        uow.commit()
    return migration


# --- one-time codes and login ---------------------------------------------------------------


def _notify_sms(uow: Unit, to: str, body: str, now: datetime) -> None:
    notify(uow, "sms", to, None, body, now)


def request_otp(ctx: Ctx, channel: Channel, msisdn: str, actor: Principal | None = None) -> None:
    """Send a login code by SMS (through the outbox). The answer is the same whether or not the line exists.
    `actor`: who asked, when not the line itself (an agent resending it from the back office)."""
    msisdn = require_msisdn(msisdn)
    now = ctx.clock.now()
    code = otp.new_code()
    salt = otp.new_salt()
    stored = StoredOtp(msisdn, otp.digest(salt, msisdn, code), salt, now, now + otp.VALIDITY, 0, None)
    with ctx.uow() as uow:
        if not uow.otp_codes.issue(stored, cooldown_until=now - otp.RESEND_COOLDOWN):
            raise DomainError(
                ErrorCode.TOO_MANY_REQUESTS,
                reason="code-just-sent",
                retry_after=int(otp.RESEND_COOLDOWN.total_seconds()),
            )
        if uow.subscribers.get(msisdn) is not None:
            _notify_sms(uow, msisdn, otp.sms_text(code), now)
            record(
                uow,
                at=now,
                actor=actor or subscriber_principal(msisdn),
                channel=channel,
                entity=("subscriber", msisdn),
                action="otp.requested",
                after={"expires_at": stored.expires_at},
            )
        uow.commit()


def _refused() -> DomainError:
    return DomainError(ErrorCode.UNAUTHENTICATED, reason="wrong-code")


def login_subscriber(ctx: Ctx, msisdn: str, code: str, channel: Channel = Channel.API) -> IssuedToken:
    """Spend a one-time code for a bearer token; five wrong codes burn it."""
    msisdn = msisdn.strip()
    now = ctx.clock.now()
    with ctx.uow() as uow:
        stored = uow.otp_codes.get(msisdn)
        if (
            stored is None
            or stored.used_at is not None
            or stored.expires_at <= now
            or stored.attempts >= otp.MAX_WRONG_ATTEMPTS
        ):
            raise _refused()
        if not otp.matches(stored.code_hash, stored.salt, msisdn, code):
            uow.otp_codes.count_failure(msisdn, stored.code_hash, otp.MAX_WRONG_ATTEMPTS)
            uow.commit()
            raise _refused()
        if uow.subscribers.get(msisdn) is None or not uow.otp_codes.use(
            msisdn, stored.code_hash, otp.MAX_WRONG_ATTEMPTS, now
        ):
            raise _refused()
        issued = issue_token(uow, ctx, PrincipalKind.SUBSCRIBER, msisdn)
        record(
            uow,
            at=now,
            actor=subscriber_principal(msisdn),
            channel=channel,
            entity=("subscriber", msisdn),
            action="subscriber.logged_in",
        )
        uow.commit()
    return issued


def list_notifications(ctx: Ctx, actor: Principal, to: str | None = None) -> list[Notification]:
    """The outbox, newest first (operator only)."""
    actor.require_operator()
    with ctx.uow(write=False) as uow:
        return uow.notifications.search(to)
