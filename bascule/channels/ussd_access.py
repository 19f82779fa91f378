"""Who may call `POST /ussd`: one rule, asked by the endpoint, by its simulator and by `bascule serve` at start.

With `BASCULE_USSD_TOKEN` set, only a call carrying it. Without one, anyone in the demo (`serve --demo`, made
to be tried), and nobody anywhere else: the callback acts for whatever `phoneNumber` it is given.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from enum import StrEnum

from bascule.settings import Settings


class UssdAccess(StrEnum):
    GATEWAY_ONLY = "gateway-only"  # calls carrying BASCULE_USSD_TOKEN, which the gateway sends
    OPEN = "open"  # the demo without a token: anyone
    CLOSED = "closed"  # no token, not the demo: nobody


CLOSED_NOTE = (
    "bascule serve: POST /ussd answers 401 to every call until BASCULE_USSD_TOKEN is set "
    "(the gateway sends it); --demo opens it without one"
)


def configured_token(settings: Settings) -> bytes | None:
    """The USSD token, or None when it is unset or empty."""
    token = settings.ussd_token.get_secret_value() if settings.ussd_token is not None else ""
    return token.encode() or None


def ussd_access(settings: Settings) -> UssdAccess:
    if configured_token(settings) is not None:
        return UssdAccess.GATEWAY_ONLY
    return UssdAccess.OPEN if settings.demo else UssdAccess.CLOSED


def admits(settings: Settings, presented: Iterable[str | None]) -> bool:
    """Whether a call presenting these tokens (query parameter, header) may have a screen."""
    access = ussd_access(settings)
    if access is UssdAccess.OPEN:
        return True
    expected = configured_token(settings)
    if expected is None:
        return False
    return any(hmac.compare_digest(value.encode(), expected) for value in presented if value)


def start_up_note(settings: Settings) -> str | None:
    """What `bascule serve` tells the operator at start, when USSD will refuse every call."""
    return CLOSED_NOTE if ussd_access(settings) is UssdAccess.CLOSED else None
