"""API v1's authentication: the shared bearer-token checks of `bascule.channels.security`, under their old name."""

from __future__ import annotations

from bascule.channels.security import (
    bearer_token,
    context,
    context_of,
    is_operator_token,
    operator,
    principal,
    settings,
    settings_of,
)

__all__ = [
    "bearer_token",
    "context",
    "context_of",
    "is_operator_token",
    "operator",
    "principal",
    "settings",
    "settings_of",
]
