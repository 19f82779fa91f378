"""API v1's authentication: the shared bearer-token checks of `bascule.channels.security`, under their old name."""

from __future__ import annotations

from bascule.channels.security import bearer_token, context, is_operator_token, operator, principal, settings

__all__ = ["bearer_token", "context", "is_operator_token", "operator", "principal", "settings"]
