"""Line B use cases against the database under test (SQLite, or PostgreSQL with BASCULE_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bascule.catalog.model import BonusKind, Profile
from bascule.context import Context
from bascule.identity.model import OPERATOR, Channel
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import short_message
from bascule.kernel.money import Money
from bascule.prepaid import otp
from bascule.prepaid.rules import MIGRATION_SLOT_SCOPE
from bascule.prepaid.usecases import (
    consume,
    create_subscriber,
    list_migrations,
    list_notifications,
    login_subscriber,
    migrate_profile,
    profile_options,
    recharge,
    request_otp,
    subscriber_principal,
    subscriber_summary,
)
from tests.conftest import START

MSISDN = "+2250701020304"
API = Channel.API


def xof(amount: int) -> Money:
    return Money.of(amount, "XOF")


def needing(ctx: Context, amount: int | None) -> Profile:
    wanted = None if amount is None else xof(amount)
    return next(p for p in ctx.catalog.profiles if p.min_consumption_last_month == wanted)


def free(ctx: Context, rank: int = 0) -> Profile:
    return [p for p in ctx.catalog.profiles if p.min_consumption_last_month is None][rank]


def utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).astimezone(UTC)


def subscriber_with_history(
    ctx: Context,
    consumed: int,
    profile: Profile | None = None,
    msisdn: str = MSISDN,
    timezone: str | None = None,
    at: str = "2026-05-20T12:00:00+00:00",
) -> str:
    create_subscriber(ctx, OPERATOR, API, msisdn, (profile or free(ctx)).id, timezone)
    recharge(ctx, OPERATOR, API, msisdn, consumed + 1000, utc("2026-04-01T08:00:00+00:00"))
    if consumed:
        consume(ctx, OPERATOR, API, msisdn, consumed, utc(at))
    return msisdn


def refusal(call, *args) -> DomainError:
    with pytest.raises(DomainError) as refused:
        call(*args)
    return refused.value


# --- eligibility and the month in the subscriber's zone -----------------------------------------


@pytest.mark.parametrize(
    ("threshold", "consumed", "ok"), [(2500, 2499, False), (2500, 2500, True), (8000, 7999, False), (8000, 8000, True)]
)
def test_migration_at_the_thresholds(ctx, threshold, consumed, ok):
    msisdn = subscriber_with_history(ctx, consumed)
    target = needing(ctx, threshold)
    if ok:
        done = migrate_profile(ctx, OPERATOR, API, msisdn, target.id)
        assert (done.from_profile_id, done.to_profile_id, done.period) == (free(ctx).id, target.id, "2026-06")
    else:
        error = refusal(migrate_profile, ctx, OPERATOR, API, msisdn, target.id)
        assert error.code is ErrorCode.NOT_ELIGIBLE
        assert (error.params["required"], error.params["consumed"]) == (xof(threshold), xof(consumed))
        assert subscriber_summary(ctx, OPERATOR, msisdn).migrations_left_this_month == 3


def test_last_month_is_taken_in_the_subscribers_zone_tokyo(ctx):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id, "Asia/Tokyo")
    recharge(ctx, OPERATOR, API, MSISDN, 20000, utc("2026-04-01T00:00:00+00:00"))
    consume(ctx, OPERATOR, API, MSISDN, 1000, utc("2026-04-30T14:59:00+00:00"))  # 23:59 on 30 April in Tokyo
    consume(ctx, OPERATOR, API, MSISDN, 2000, utc("2026-04-30T15:00:00+00:00"))  # 00:00 on 1 May in Tokyo
    consume(ctx, OPERATOR, API, MSISDN, 500, utc("2026-05-31T14:59:59+00:00"))  # 23:59:59 on 31 May in Tokyo
    consume(ctx, OPERATOR, API, MSISDN, 4000, utc("2026-05-31T15:00:00+00:00"))  # 1 June in Tokyo, still May in UTC
    summary = subscriber_summary(ctx, OPERATOR, MSISDN)
    assert (str(summary.last_month), summary.consumption_last_month) == ("2026-05", xof(2500))


def test_last_month_is_taken_in_the_subscribers_zone_new_york(ctx, clock):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id, "America/New_York")
    recharge(ctx, OPERATOR, API, MSISDN, 20000, utc("2026-04-01T12:00:00+00:00"))
    consume(ctx, OPERATOR, API, MSISDN, 2499, utc("2026-06-01T03:59:00+00:00"))  # 23:59 on 31 May in New York
    consume(ctx, OPERATOR, API, MSISDN, 7000, utc("2026-05-01T03:59:00+00:00"))  # 23:59 on 30 April in New York
    clock.set(utc("2026-06-01T03:59:30+00:00"))  # still 31 May in New York: last month is April there
    summary = subscriber_summary(ctx, OPERATOR, MSISDN)
    assert (str(summary.last_month), summary.consumption_last_month) == ("2026-04", xof(7000))
    clock.set(utc("2026-06-01T04:00:00+00:00"))  # 1 June in New York
    summary = subscriber_summary(ctx, OPERATOR, MSISDN)
    assert (str(summary.last_month), summary.consumption_last_month) == ("2026-05", xof(2499))
    assert refusal(migrate_profile, ctx, OPERATOR, API, MSISDN, needing(ctx, 2500).id).code is ErrorCode.NOT_ELIGIBLE


def test_bonus_credit_does_not_count_as_consumption(ctx):
    tigre = needing(ctx, 2500)
    create_subscriber(ctx, OPERATOR, API, MSISDN, tigre.id)
    recharge(ctx, OPERATOR, API, MSISDN, 2000, utc("2026-05-10T08:00:00+00:00"))  # + 1 000 bonus credit for 7 days
    done = consume(ctx, OPERATOR, API, MSISDN, 2600, utc("2026-05-11T08:00:00+00:00"))
    assert (done.from_bonus, done.from_main) == (xof(1000), xof(1600))
    assert subscriber_summary(ctx, OPERATOR, MSISDN).consumption_last_month == xof(1600)


# --- the monthly limit -----------------------------------------------------------------------------


def test_a_fourth_migration_in_the_month_is_refused_and_the_next_month_opens_again(ctx, clock):
    msisdn = subscriber_with_history(ctx, 9000)
    tigre, aigle = needing(ctx, 2500), needing(ctx, 8000)
    for target in (tigre, aigle, free(ctx)):
        migrate_profile(ctx, OPERATOR, API, msisdn, target.id)
    error = refusal(migrate_profile, ctx, OPERATOR, API, msisdn, free(ctx, 1).id)
    assert error.code is ErrorCode.MONTHLY_LIMIT_REACHED
    assert (error.params["limit"], error.params["next_on"].isoformat()) == (3, "2026-07-01")
    assert subscriber_summary(ctx, OPERATOR, msisdn).profile.id == free(ctx).id
    assert [m.to_profile_id for m in list_migrations(ctx, OPERATOR, msisdn)] == [free(ctx).id, aigle.id, tigre.id]
    clock.set(utc("2026-07-01T00:00:00+00:00"))  # midnight in Abidjan: a new month (consumption of June: none)
    assert subscriber_summary(ctx, OPERATOR, msisdn).migrations_left_this_month == 3
    assert refusal(migrate_profile, ctx, OPERATOR, API, msisdn, tigre.id).code is ErrorCode.NOT_ELIGIBLE
    migrate_profile(ctx, OPERATOR, API, msisdn, free(ctx, 1).id)


def test_refused_and_same_profile_attempts_take_no_slot(ctx):
    msisdn = subscriber_with_history(ctx, 2500)
    aigle, tigre = needing(ctx, 8000), needing(ctx, 2500)
    for _ in range(4):
        assert refusal(migrate_profile, ctx, OPERATOR, API, msisdn, aigle.id).code is ErrorCode.NOT_ELIGIBLE
        assert refusal(migrate_profile, ctx, OPERATOR, API, msisdn, free(ctx).id).code is ErrorCode.SAME_PROFILE
    assert subscriber_summary(ctx, OPERATOR, msisdn).migrations_left_this_month == 3
    with ctx.uow(write=False) as uow:
        assert uow.slots.used(MIGRATION_SLOT_SCOPE, msisdn, "2026-06") == 0
    migrate_profile(ctx, OPERATOR, API, msisdn, tigre.id)
    assert subscriber_summary(ctx, OPERATOR, msisdn).migrations_left_this_month == 2


def test_the_month_of_the_limit_is_the_subscribers(ctx, clock):
    msisdn = subscriber_with_history(ctx, 0, timezone="Asia/Tokyo")
    clock.set(utc("2026-06-30T14:30:00+00:00"))  # 23:30 on 30 June in Tokyo
    for target in (free(ctx, 1), free(ctx), free(ctx, 1)):
        migrate_profile(ctx, OPERATOR, API, msisdn, target.id)
    assert refusal(migrate_profile, ctx, OPERATOR, API, msisdn, free(ctx).id).code is ErrorCode.MONTHLY_LIMIT_REACHED
    clock.set(utc("2026-06-30T15:00:00+00:00"))  # 1 July in Tokyo, still June in Abidjan
    assert migrate_profile(ctx, OPERATOR, API, msisdn, free(ctx).id).period == "2026-07"


def test_profile_options_say_why_each_profile_is_or_is_not_open(ctx):
    msisdn = subscriber_with_history(ctx, 2500)
    options = {o.profile.id: o for o in profile_options(ctx, OPERATOR, msisdn)}
    assert (options[free(ctx).id].eligible, options[free(ctx).id].code, options[free(ctx).id].current) == (
        False,
        ErrorCode.SAME_PROFILE,
        True,
    )
    assert options[free(ctx, 1).id].eligible
    assert options[needing(ctx, 2500).id].eligible
    assert options[needing(ctx, 8000).id].code is ErrorCode.NOT_ELIGIBLE
    shown = options[needing(ctx, 8000).id].error
    raised = refusal(migrate_profile, ctx, OPERATOR, API, msisdn, needing(ctx, 8000).id)
    assert shown is not None
    assert (shown.code, shown.explicit_detail, shown.params) == (raised.code, raised.explicit_detail, raised.params)
    assert short_message(shown, profile="Aigle") == (
        "Aigle : il faut 8\u202f000 F CFA consommés le mois passé (vous : 2\u202f500 F CFA)."
    )
    for target in (free(ctx, 1), free(ctx), free(ctx, 1)):
        migrate_profile(ctx, OPERATOR, API, msisdn, target.id)
    codes = {o.profile.id: o.code for o in profile_options(ctx, OPERATOR, msisdn)}
    assert codes == {
        free(ctx).id: ErrorCode.MONTHLY_LIMIT_REACHED,
        free(ctx, 1).id: ErrorCode.SAME_PROFILE,
        needing(ctx, 2500).id: ErrorCode.MONTHLY_LIMIT_REACHED,
        needing(ctx, 8000).id: ErrorCode.NOT_ELIGIBLE,
    }


# --- bonuses ----------------------------------------------------------------------------------------


def held(ctx: Context, msisdn: str = MSISDN) -> list[tuple[str, int, str, str]]:
    return [
        (b.kind.value, b.remaining, b.expires_at.isoformat(), b.profile_id)
        for b in subscriber_summary(ctx, OPERATOR, msisdn).bonuses
    ]


def test_bonuses_held_keep_their_amounts_and_expiry_across_migrations(ctx):
    msisdn = subscriber_with_history(ctx, 9000, profile=needing(ctx, 8000))
    recharge(ctx, OPERATOR, API, msisdn, 1000)  # Aigle: 100 % credit for 30 days, 2 GB once a month
    consume(ctx, OPERATOR, API, msisdn, 300)
    before = held(ctx, msisdn)
    aigle = needing(ctx, 8000).id
    assert before == [
        ("credit", 700, "2026-07-16T07:00:00+00:00", aigle),
        ("data", 2 * 1024**3, "2026-07-16T07:00:00+00:00", aigle),
    ]
    migrate_profile(ctx, OPERATOR, API, msisdn, free(ctx).id)
    migrate_profile(ctx, OPERATOR, API, msisdn, needing(ctx, 2500).id)
    assert held(ctx, msisdn) == before


def test_monthly_bonuses_come_once_a_month_per_profile_with_the_first_recharge(ctx, clock):
    novamix = free(ctx)  # 20 % from 200 for 7 days; 200 MB once a month for 30 days
    create_subscriber(ctx, OPERATOR, API, MSISDN, novamix.id)
    first = recharge(ctx, OPERATOR, API, MSISDN, 1000)
    assert [(b.kind, b.total, b.source) for b in first.bonuses] == [
        (BonusKind.CREDIT, 200, f"recharge:{first.entry.id}"),
        (BonusKind.DATA, 200 * 1024**2, "monthly:2026-06"),
    ]
    second = recharge(ctx, OPERATOR, API, MSISDN, 500)
    assert [(b.kind, b.total) for b in second.bonuses] == [(BonusKind.CREDIT, 100)]
    dauphin = free(ctx, 1)  # 100 SMS once a month; 100 MB from 500
    migrate_profile(ctx, OPERATOR, API, MSISDN, dauphin.id)
    after = recharge(ctx, OPERATOR, API, MSISDN, 500)
    assert sorted((b.kind.value, b.total) for b in after.bonuses) == [("data", 100 * 1024**2), ("sms", 100)]
    migrate_profile(ctx, OPERATOR, API, MSISDN, novamix.id)  # back: June's Novamix monthly bonus is spent
    assert [b.kind for b in recharge(ctx, OPERATOR, API, MSISDN, 500).bonuses] == [BonusKind.CREDIT]
    clock.set(utc("2026-07-01T00:00:00+00:00"))
    assert [b.kind for b in recharge(ctx, OPERATOR, API, MSISDN, 500).bonuses] == [BonusKind.CREDIT, BonusKind.DATA]


def test_expired_bonuses_are_neither_shown_nor_drawn(ctx, clock):
    create_subscriber(ctx, OPERATOR, API, MSISDN, needing(ctx, 2500).id)
    recharge(ctx, OPERATOR, API, MSISDN, 1000)  # 500 credit until 23 June 07:00 UTC
    clock.set(utc("2026-06-23T06:59:59+00:00"))
    assert [k for k, *_ in held(ctx)] == ["credit", "voice"]
    clock.set(utc("2026-06-23T07:00:00+00:00"))
    assert [k for k, *_ in held(ctx)] == ["voice"]
    done = consume(ctx, OPERATOR, API, MSISDN, 100)
    assert (done.from_bonus, done.from_main) == (xof(0), xof(100))


# --- the balance is the database's -----------------------------------------------------------------


def test_insufficient_balance_draws_nothing(ctx):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id)
    recharge(ctx, OPERATOR, API, MSISDN, 1000)  # + 200 bonus credit
    error = refusal(consume, ctx, OPERATOR, API, MSISDN, 1201)
    assert error.code is ErrorCode.INSUFFICIENT_BALANCE
    summary = subscriber_summary(ctx, OPERATOR, MSISDN)
    assert summary.balance == xof(1000)
    assert [b.remaining for b in summary.bonuses if b.kind is BonusKind.CREDIT] == [200]


def test_the_balance_column_equals_the_ledger_sum(ctx):
    msisdn = subscriber_with_history(ctx, 2500)
    recharge(ctx, OPERATOR, API, msisdn, 777)
    consume(ctx, OPERATOR, API, msisdn, 1000)
    with ctx.uow(write=False) as uow:
        assert uow.subscribers.balance_minor(msisdn) == uow.ledger.sum_minor(msisdn) == 3500 - 2500 + 777 - (1000 - 155)
        entries = [(e.kind.value, e.amount) for e in uow.ledger.of(msisdn)]
    assert entries[:2] == [("recharge", xof(3500)), ("consumption", xof(2500))]
    assert sorted(entries[2:]) == [("consumption", xof(845)), ("recharge", xof(777))]  # same instant


def test_the_database_refuses_a_negative_balance(ctx):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id)
    with ctx.uow() as uow:
        assert uow.subscribers.debit(MSISDN, 1) is False
        with pytest.raises(IntegrityError):
            uow.connection.execute(text("UPDATE prepaid_subscribers SET balance_minor = -1"))


# --- one-time codes --------------------------------------------------------------------------------


def sent_code(ctx: Context, msisdn: str = MSISDN) -> str:
    body = list_notifications(ctx, OPERATOR, msisdn)[0].body
    return body.split(" : ")[1][:6]


def test_a_code_logs_in_once(ctx):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id)
    request_otp(ctx, API, MSISDN)
    code = sent_code(ctx)
    assert len(code) == 6
    assert code.isdigit()
    with ctx.uow(write=False) as uow:
        stored = uow.otp_codes.get(MSISDN)
    assert stored is not None
    assert code not in stored.code_hash
    assert stored.expires_at == START + timedelta(minutes=5)
    issued = login_subscriber(ctx, MSISDN, code)
    assert issued.expires_at == START + timedelta(hours=ctx.token_ttl_hours)
    assert refusal(login_subscriber, ctx, MSISDN, code).code is ErrorCode.UNAUTHENTICATED


def test_five_wrong_codes_burn_it(ctx):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id)
    request_otp(ctx, API, MSISDN)
    code = sent_code(ctx)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(otp.MAX_WRONG_ATTEMPTS):
        assert refusal(login_subscriber, ctx, MSISDN, wrong).code is ErrorCode.UNAUTHENTICATED
    assert refusal(login_subscriber, ctx, MSISDN, code).code is ErrorCode.UNAUTHENTICATED


def test_a_code_expires_after_five_minutes_and_resends_wait_a_minute(ctx, clock):
    create_subscriber(ctx, OPERATOR, API, MSISDN, free(ctx).id)
    request_otp(ctx, API, MSISDN)
    first = sent_code(ctx)
    clock.set(START + timedelta(seconds=59))
    assert refusal(request_otp, ctx, API, MSISDN).code is ErrorCode.TOO_MANY_REQUESTS
    clock.set(START + timedelta(minutes=5))
    assert refusal(login_subscriber, ctx, MSISDN, first).code is ErrorCode.UNAUTHENTICATED
    request_otp(ctx, API, MSISDN)
    assert login_subscriber(ctx, MSISDN, sent_code(ctx)).token


def test_unknown_numbers_get_the_same_answer_and_no_message(ctx, clock):
    request_otp(ctx, API, "+2250799999999")
    assert list_notifications(ctx, OPERATOR, "+2250799999999") == []
    assert refusal(request_otp, ctx, API, "+2250799999999").code is ErrorCode.TOO_MANY_REQUESTS


def test_a_subscriber_acts_on_its_own_line_only(ctx):
    msisdn = subscriber_with_history(ctx, 2500)
    other = subscriber_with_history(ctx, 0, msisdn="+2250709080706")
    me = subscriber_principal(msisdn)
    assert subscriber_summary(ctx, me, msisdn).balance == xof(1000)
    assert refusal(subscriber_summary, ctx, me, other).code is ErrorCode.NOT_FOUND
    assert refusal(migrate_profile, ctx, me, API, other, free(ctx, 1).id).code is ErrorCode.NOT_FOUND
    assert refusal(recharge, ctx, me, API, msisdn, 100).code is ErrorCode.FORBIDDEN
    done = migrate_profile(ctx, me, Channel.USSD, msisdn, needing(ctx, 2500).id)
    assert (done.channel, done.actor_kind, done.actor_id) == ("ussd", "subscriber", msisdn)
    with ctx.uow(write=False) as uow:
        actions = [e.action for e in uow.audit.of_entity("subscriber", msisdn)]
    assert actions == ["subscriber.created", "prepaid.recharged", "prepaid.consumed", "profile.migrated"]
