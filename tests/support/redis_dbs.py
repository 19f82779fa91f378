"""A Redis database of the local server for each suite and each pytest-xdist worker.

The suites empty their database before and after each test: two workers sharing one would empty it under each
other's feet (a lockout counted on one worker, flushed by a test starting on the other). The USSD tests take the
odd databases from 15 down, the throttle tests the even ones from 14 down, one pair per worker.
"""

from __future__ import annotations

import os

USSD, THROTTLES = 15, 14


def redis_url(suite: int) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    database = suite - 2 * int(worker)
    if database < 0:
        raise RuntimeError(f"no Redis database left for xdist worker {worker}: at most 8 workers")
    return f"redis://127.0.0.1:6379/{database}"
