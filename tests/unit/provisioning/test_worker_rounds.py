"""The worker's rounds: at once after a full batch, a moment after a smaller one (what arrives meanwhile is claimed
together), a doubling wait after idle ones (no database: the rounds are faked)."""

from __future__ import annotations

import threading

import pytest

from bascule.provisioning.worker import Provisioner


class RecordedStop(threading.Event):
    """A stop event that records each wait asked of it instead of sleeping, and is set after `rounds` waits."""

    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.rounds = rounds

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        if len(self.waits) >= self.rounds:
            self.set()
        return self.is_set()


def _provisioner(jobs_per_round: list[int]) -> Provisioner:
    provisioner = Provisioner(ctx=None, networks=None)  # type: ignore[arg-type]  # run_once is replaced below
    rounds = iter(jobs_per_round)
    provisioner.run_once = lambda change_request_id=None: next(rounds, 0)  # type: ignore[method-assign]
    return provisioner


def test_an_idle_worker_waits_longer_each_round_up_to_its_limit():
    stop = RecordedStop(rounds=5)
    _provisioner([0, 0, 0, 0, 0]).run_forever(stop, idle_seconds=0.5, idle_at_most=2.0)
    assert stop.waits == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_a_round_with_less_than_a_batch_waits_a_moment_to_gather_more_and_resets_the_idle_wait():
    stop = RecordedStop(rounds=6)
    provisioner = _provisioner([0, 0, 3, 1, 0, 0])
    provisioner.run_forever(stop, idle_seconds=0.5, idle_at_most=2.0)
    assert provisioner.config.gather_seconds == 0.05
    assert stop.waits == [0.5, 1.0, 0.05, 0.05, 0.5, 1.0]  # after the rounds that ran 3 jobs, then 1: a moment


def test_a_full_batch_starts_the_next_round_at_once():
    stop = RecordedStop(rounds=3)
    provisioner = _provisioner([0, 50, 50, 49, 0])
    assert provisioner.config.batch == 50
    provisioner.run_forever(stop, idle_seconds=0.5, idle_at_most=2.0)
    assert stop.waits == [0.5, 0.05, 0.5]  # no wait after the two full rounds; a moment after the one of 49


@pytest.mark.parametrize(("sent", "waits"), [(2, [0.5, 0.05, 0.5]), (None, [0.5, 1.0, 2.0])])
def test_what_the_outbox_did_counts_as_work(sent, waits):
    stop = RecordedStop(rounds=3)
    outbox_rounds = iter([0, sent, 0, sent, 0, sent])  # work found on every other round when `sent` is a number

    _provisioner([0] * 9).run_forever(stop, idle_seconds=0.5, idle_at_most=2.0, also=lambda: next(outbox_rounds))
    assert stop.waits == waits
