from __future__ import annotations

import pytest

from bascule.channels.login_throttle import PORTAL_THROTTLE
from bascule.context import Context


@pytest.fixture(autouse=True)
def _fresh_throttle(ctx: Context, server_url: str) -> None:
    """Login failures counted by one test do not leak into the next (the server lives for the session)."""
    throttle = ctx.kept.get(PORTAL_THROTTLE)
    if throttle is None:
        raise LookupError("the portal is not installed on the test context")
    throttle.clear()
