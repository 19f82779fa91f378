from __future__ import annotations

import pytest

from bascule.context import Context


@pytest.fixture(autouse=True)
def _fresh_throttle(ctx: Context, server_url: str) -> None:
    """Login failures counted by one test do not leak into the next (the server lives for the session)."""
    ctx.extras["portal_throttle"].clear()
