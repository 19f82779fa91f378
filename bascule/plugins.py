"""Features that plug extra channels, logins and demo data into the core, wired in one place."""

from __future__ import annotations

from bascule.context import Context


def install_features(ctx: Context) -> None:
    """Register every optional feature on the context (called by bootstrap and by tests)."""
    ctx.extras.setdefault("channel_installers", [])
    ctx.extras.setdefault("demo_loaders", [])
    ctx.extras.setdefault("principal_resolvers", {})
