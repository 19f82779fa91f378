"""Structured logs: one JSON object per line, through the standard library's `bascule` logger.

structlog renders our own events and the standard library's records alike (the same processors run
on both), with the request id of the current request bound in a context variable. Values under
keys that name a secret (password, token, authorization, otp, cookie…) are replaced before rendering,
whoever logged them: a second line of defence behind "never log a secret" in the code itself.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import IO, Any

import structlog
from structlog.types import Processor

LOGGER = "bascule"
REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "access_token",
        "authorization",
        "cookie",
        "set-cookie",
        "otp",
        "code",
        "api_key",
        "apikey",
        "x-ussd-token",
        "smtp_url",
        "sms_gateway_token",
    }
)

_HANDLER_NAME = "bascule-json"


def redact_secrets(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in SECRET_KEYS:
            event[key] = REDACTED
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]


def json_formatter() -> logging.Formatter:
    """Renders structlog events and plain standard-library records as one JSON line each."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route structlog through the `bascule` logger, JSON on `stream` (stdout); safe to call again."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level.upper())
    logger.propagate = False
    if not any(handler.get_name() == _HANDLER_NAME for handler in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(json_formatter())
        logger.addHandler(handler)
