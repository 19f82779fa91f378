"""The outbox: queued in the use case's transaction, delivered once, retried with backoff, then failed."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bascule.notifications import RetryPolicy, deliver_pending, notify, sender_from_settings
from bascule.persistence import tables as t
from tests.conftest import START
from tests.notifications.conftest import RecordingSender, final, queue, retryable, rows
from tests.support.sql import statements

SMS = ("sms", "+2250701020304", None, "Votre profil est maintenant Tigre.")
MAIL = ("email", "chef@example.fr", "Votre demande", "La demande est confirmée.")


def policy(**changes: object) -> RetryPolicy:
    values: dict[str, object] = {
        "max_attempts": 3,
        "base_seconds": 60.0,
        "cap_seconds": 3600.0,
        "lease_seconds": 300.0,
        "rng": random.Random(7),
    }
    values.update(changes)
    return RetryPolicy(**values)  # type: ignore[arg-type]


def test_notify_writes_a_pending_row_due_now_in_the_callers_transaction(ctx):
    with ctx.uow() as uow:
        queued = notify(uow, "email", "chef@example.fr", "Objet", "Corps", START)
        uow.commit()
    with ctx.uow() as uow:
        notify(uow, "sms", "+2250701020304", None, "jamais envoyé", START)  # rolled back: not committed
    stored = rows(ctx)
    assert list(stored) == [queued.id]
    row = stored[queued.id]
    assert (row.channel, row.to, row.subject, row.body, row.status, row.attempts, row.sent_at) == (
        "email",
        "chef@example.fr",
        "Objet",
        "Corps",
        "pending",
        0,
        None,
    )
    assert row.created_at == START
    assert row.next_attempt_at == START


def test_notify_refuses_an_unknown_channel(ctx):
    with ctx.uow() as uow, pytest.raises(ValueError, match="channel"):
        notify(uow, "fax", "+33100000000", None, "x", START)


def test_due_messages_are_sent_once_and_marked_sent(ctx, clock):
    sms, mail = queue(ctx, SMS, MAIL)
    sender = RecordingSender()
    clock.advance(seconds=5)
    assert deliver_pending(ctx, sender, policy=policy()) == 2
    assert [n.id for n in sender.sent] == [sms, mail]
    assert [(n.channel, n.to, n.subject, n.body) for n in sender.sent] == [SMS, MAIL]
    stored = rows(ctx)
    for message_id in (sms, mail):
        assert (stored[message_id].status, stored[message_id].attempts) == ("sent", 1)
        assert stored[message_id].sent_at == START + timedelta(seconds=5)
        assert stored[message_id].next_attempt_at is None
    assert deliver_pending(ctx, sender, policy=policy()) == 0
    assert sender.tries == {sms: 1, mail: 1}


def test_only_due_pending_rows_are_claimed_and_the_batch_bounds_a_step(ctx, clock):
    later = queue(ctx, SMS, at=START + timedelta(minutes=10))[0]
    first = queue(ctx, SMS, SMS, SMS)
    sender = RecordingSender()
    assert deliver_pending(ctx, sender, batch=2, policy=policy()) == 2
    assert deliver_pending(ctx, sender, batch=2, policy=policy()) == 1
    assert [n.id for n in sender.sent] == first
    assert rows(ctx)[later].status == "pending"
    clock.advance(minutes=10)
    assert deliver_pending(ctx, sender, policy=policy()) == 1
    assert sender.sent[-1].id == later


def test_a_retryable_failure_is_retried_after_a_jittered_exponential_backoff_then_sent(ctx, clock):
    (message,) = queue(ctx, SMS)
    sender = RecordingSender({message: [retryable(), retryable()]})
    rule = policy(max_attempts=5)
    assert deliver_pending(ctx, sender, policy=rule) == 0
    row = rows(ctx)[message]
    assert (row.status, row.attempts) == ("pending", 1)
    first_wait = row.next_attempt_at - START
    assert timedelta(seconds=30) <= first_wait <= timedelta(seconds=60)  # between half and all of 60 s
    clock.set(START + first_wait - timedelta(seconds=1))
    assert deliver_pending(ctx, sender, policy=rule) == 0  # not due yet
    assert sender.tries[message] == 1
    clock.set(START + first_wait)
    assert deliver_pending(ctx, sender, policy=rule) == 0
    row = rows(ctx)[message]
    assert row.attempts == 2
    second_wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=60) <= second_wait <= timedelta(seconds=120)  # the ceiling doubled
    clock.advance(seconds=120)
    assert deliver_pending(ctx, sender, policy=rule) == 1
    row = rows(ctx)[message]
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, clock.now())
    assert sender.tries[message] == 3
    assert [n.id for n in sender.sent] == [message]


def test_the_backoff_ceiling_doubles_up_to_its_cap_and_the_jitter_spreads_retries():
    rule = RetryPolicy(base_seconds=30, cap_seconds=600, rng=random.Random(1))
    assert [rule.ceiling(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
    waits = {rule.delay(3).total_seconds() for _ in range(50)}
    assert all(60 <= wait <= 120 for wait in waits)
    assert len(waits) > 40


def test_a_message_fails_for_good_after_the_last_attempt(ctx, clock):
    (message,) = queue(ctx, MAIL)
    sender = RecordingSender({message: [retryable() for _ in range(10)]})
    rule = policy(max_attempts=3)
    for _ in range(3):
        deliver_pending(ctx, sender, policy=rule)
        clock.advance(hours=2)
    row = rows(ctx)[message]
    assert (row.status, row.attempts, row.sent_at, row.next_attempt_at) == ("failed", 3, None, None)
    assert deliver_pending(ctx, sender, policy=rule) == 0
    assert sender.tries[message] == 3
    assert sender.sent == []


def test_a_final_refusal_fails_at_once_and_a_crashing_sender_is_retried(ctx, clock):
    refused, crashed = queue(ctx, MAIL, SMS)
    sender = RecordingSender({refused: [final()], crashed: [RuntimeError("bug in an adapter")]})
    assert deliver_pending(ctx, sender, policy=policy()) == 0
    stored = rows(ctx)
    assert (stored[refused].status, stored[refused].attempts) == ("failed", 1)
    assert (stored[crashed].status, stored[crashed].attempts) == ("pending", 1)
    clock.advance(hours=1)
    assert deliver_pending(ctx, sender, policy=policy()) == 1
    assert [n.id for n in sender.sent] == [crashed]


def test_a_claimed_message_is_not_taken_again_before_its_lease_ends(ctx, clock):
    """A deliverer that died after claiming leaves the row due again only when the lease is over."""
    (message,) = queue(ctx, SMS)
    with ctx.uow() as uow:  # what a claim leaves behind, had its deliverer died while sending
        uow.connection.execute(
            update(t.notifications)
            .where(t.notifications.c.id == message)
            .values(attempts=1, next_attempt_at=START + timedelta(minutes=5))
        )
        uow.commit()
    sender = RecordingSender()
    clock.advance(minutes=4, seconds=59)
    assert deliver_pending(ctx, sender, policy=policy()) == 0
    clock.advance(seconds=1)
    assert deliver_pending(ctx, sender, policy=policy()) == 1
    assert (rows(ctx)[message].status, rows(ctx)[message].attempts) == ("sent", 2)


def test_an_outcome_is_written_only_over_the_deliverers_own_claim(ctx, clock):
    """If another deliverer re-claimed the row (lease over), the first one's late outcome changes nothing."""
    (message,) = queue(ctx, SMS)

    class SlowSender(RecordingSender):
        def send(self, notification):
            with ctx.uow() as uow:  # meanwhile the lease ended and someone else claimed it
                uow.connection.execute(
                    update(t.notifications)
                    .where(t.notifications.c.id == message)
                    .values(attempts=notification.attempts + 1)
                )
                uow.commit()
            super().send(notification)

    deliver_pending(ctx, SlowSender(), policy=policy())
    row = rows(ctx)[message]
    assert (row.status, row.attempts, row.sent_at) == ("pending", 2, None)


def test_sends_are_recorded_together_each_at_its_own_time_and_only_over_our_own_claim(ctx, clock):
    """18 messages: recorded 16 then 2 at a time; the one re-claimed by another deliverer meanwhile stays theirs."""
    ids = queue(ctx, *[("sms", f"+22507{n:08d}", None, f"message {n}") for n in range(18)])
    stolen = ids[5]

    class TimedSender(RecordingSender):
        def send(self, notification):
            clock.advance(seconds=1)  # each send takes a second on the application clock
            if notification.id == stolen:
                with ctx.uow() as uow:
                    uow.connection.execute(
                        update(t.notifications).where(t.notifications.c.id == stolen).values(attempts=2)
                    )
                    uow.commit()
            super().send(notification)

    with statements(ctx.engine) as sent:
        assert deliver_pending(ctx, TimedSender(), policy=policy()) == 18
    stored = rows(ctx)
    for n, message in enumerate(ids):
        if message == stolen:
            assert (stored[message].status, stored[message].attempts, stored[message].sent_at) == ("pending", 2, None)
        else:
            assert (stored[message].status, stored[message].attempts) == ("sent", 1)
            assert stored[message].sent_at == START + timedelta(seconds=n + 1)
    recording = [sql for sql in sent if "sent_at" in sql.split(" WHERE ")[0] and sql.startswith("UPDATE")]
    assert len(recording) == 2  # one statement for the first 16 sends, one for the last 2


def test_the_senders_retry_policy_comes_from_the_settings(settings):
    sender = sender_from_settings(settings.model_copy(update={"notify_max_attempts": 7, "notify_retry_seconds": 5}))
    assert (sender.retry_policy.max_attempts, sender.retry_policy.base_seconds) == (7, 5.0)


def test_deliver_pending_uses_the_senders_policy_when_none_is_given(ctx, settings):
    (message,) = queue(ctx, SMS)
    router = sender_from_settings(settings.model_copy(update={"notify_max_attempts": 1}))
    recording = RecordingSender({message: [retryable()]})
    router.senders = [recording]
    assert deliver_pending(ctx, router) == 0
    assert rows(ctx)[message].status == "failed"  # one attempt allowed by the settings


@pytest.mark.slow
def test_two_deliverers_at_once_send_each_message_exactly_once(ctx):
    """Two worker threads racing over the same outbox (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    ids = queue(ctx, *[("sms", f"+22507{n:08d}", None, f"message {n}") for n in range(120)])
    sender = RecordingSender(pause=0.002)
    counts: list[int] = []
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            total = 0
            while (done := deliver_pending(ctx, sender, batch=7, policy=policy())) > 0:
                total += done
            counts.append(total)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(n.id for n in sender.sent) == sorted(ids)
    assert set(sender.tries.values()) == {1}
    assert sum(counts) == 120
    assert all(count > 0 for count in counts), counts  # both took part
    with ctx.uow(write=False) as uow:
        statuses = uow.connection.execute(select(t.notifications.c.status, t.notifications.c.attempts)).all()
    assert {(status, attempts) for status, attempts in statuses} == {("sent", 1)}
