"""A change request moves awaiting confirmation → provisioning → completed or failed, or is cancelled."""

from __future__ import annotations

import itertools

import pytest

from bascule.evolutions.lifecycle import HOLDS_SLOT, RequestStatus, move
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message

AWAITING = RequestStatus.AWAITING_CONFIRMATION
PROVISIONING = RequestStatus.PROVISIONING
COMPLETED = RequestStatus.COMPLETED
FAILED = RequestStatus.FAILED
CANCELLED = RequestStatus.CANCELLED

ALLOWED = [
    (AWAITING, PROVISIONING),  # identity confirmed
    (AWAITING, CANCELLED),  # given up before confirming
    (PROVISIONING, COMPLETED),  # the network took it
    (PROVISIONING, FAILED),  # the network refused it for good
]
REFUSED = [pair for pair in itertools.product(RequestStatus, repeat=2) if pair not in ALLOWED]


def test_there_are_four_allowed_moves_and_twenty_one_refused() -> None:
    assert len(ALLOWED) == 4
    assert len(REFUSED) == 21


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_an_allowed_move_reaches_its_target(current: RequestStatus, target: RequestStatus) -> None:
    assert move(current, target) is target


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_any_other_move_is_an_invalid_state(current: RequestStatus, target: RequestStatus) -> None:
    with pytest.raises(DomainError) as refusal:
        move(current, target)
    assert refusal.value.code is ErrorCode.INVALID_STATE
    assert refusal.value.params == {"current_status": current.value, "target": target.value}


@pytest.mark.parametrize("final", [COMPLETED, FAILED, CANCELLED])
def test_a_finished_request_never_moves_again(final: RequestStatus) -> None:
    for target in RequestStatus:
        with pytest.raises(DomainError):
            move(final, target)


def test_the_refusal_names_the_current_status_in_french() -> None:
    with pytest.raises(DomainError) as refusal:
        move(COMPLETED, CANCELLED)
    assert message(refusal.value) == "Cette demande ne peut plus être modifiée (statut : completed)."


def test_a_request_holds_its_month_slot_once_confirmed() -> None:
    assert sorted(HOLDS_SLOT) == sorted([PROVISIONING, COMPLETED])


@pytest.mark.parametrize("status", [AWAITING, CANCELLED, FAILED])
def test_a_request_not_yet_confirmed_cancelled_or_failed_does_not_hold_the_slot(status: RequestStatus) -> None:
    assert status not in HOLDS_SLOT
