"""Operational visibility: structured JSON logs, Prometheus metrics, readiness of the database.

The REST channel installs them (see `bascule.channels.rest.instrumentation`); a worker process calls
`configure_logging` itself and reuses the same log format.
"""

from __future__ import annotations

from bascule.observability.logs import configure_logging

__all__ = ["configure_logging"]
