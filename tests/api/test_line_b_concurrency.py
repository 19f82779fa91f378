"""Ten simultaneous migrations of one subscriber: the database lets exactly three through in the month, with or
without an Idempotency-Key (with one, on PostgreSQL, the slot is taken in the statement that stores the answer)."""

from __future__ import annotations

import itertools
import threading

import httpx
import pytest

from tests.api.helpers import OPERATOR, ok
from tests.api.prepaid_helpers import profiles, with_last_month_consumption

MSISDN = "+2250701020304"
ATTEMPTS = 10


@pytest.mark.slow
@pytest.mark.parametrize("keyed", [False, True])
def test_ten_parallel_migrations_complete_exactly_three(http, server_url, keyed):
    everything = [p["id"] for p in profiles(http)]
    start = everything[0]
    with_last_month_consumption(http, MSISDN, start, 9000)  # eligible everywhere
    targets = [p for p in everything if p != start]
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[tuple[int, str | None]] = []
    bodies: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            migrate(index)
        except Exception as error:  # a dead thread must show up in the assertion
            with lock:
                bodies.append(repr(error))

    def migrate(index: int) -> None:
        with httpx.Client(base_url=server_url, timeout=60) as client:
            barrier.wait()
            # Alternate targets; one that a concurrent winner made current is same-profile, so try the next.
            # The profile changes at most three times (the limit), so four rounds always reach a real answer.
            for shift in range(4 * len(targets)):
                target = targets[(index + shift) % len(targets)]
                headers = OPERATOR | ({"Idempotency-Key": f"parallel-{index}-{shift}"} if keyed else {})
                response = client.post(
                    f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": target}, headers=headers
                )
                code = None if response.status_code == 201 else response.json().get("code")
                if code != "same-profile":
                    break
            with lock:
                outcomes.append((response.status_code, code))
                bodies.append(response.text)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == ATTEMPTS, bodies
    expected = [(201, None)] * 3 + [(409, "monthly-limit-reached")] * 7
    assert sorted(outcomes, key=str) == sorted(expected, key=str), bodies
    migrations = ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR))
    assert len(migrations) == 3
    chain = list(reversed(migrations))
    assert chain[0]["from_profile_id"] == start
    assert all(a["to_profile_id"] == b["from_profile_id"] for a, b in itertools.pairwise(chain))
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))
    assert (view["profile_id"], view["migrations_left_this_month"]) == (chain[-1]["to_profile_id"], 0)
