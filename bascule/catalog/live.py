"""The catalogue in force in this process: the shipped file with the supervisors' overrides, kept fresh.

Freshness: every change of an override bumps a version stamp in the database. A process looks at the stamp
at most once per `ttl_seconds` (1 s by default), when a request starts or a worker round begins; only when
the stamp moved does it read the overrides and rebuild. The process that made the change looks at the stamp
on its next request, without waiting. So a change is in force at once where it was made, and within the TTL
in every other process; a request in between costs one comparison of two floats.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bascule.catalog.model import Catalog
from bascule.catalog.overrides import Override, applicable
from bascule.kernel.upkeep import upkeep_round

log = logging.getLogger("bascule.catalog")

# given the version seen, None when the stamp has not moved, else the new version and every override
Reader = Callable[[int | None], "tuple[int, list[Override]] | None"]


class LiveCatalog:
    def __init__(
        self,
        shipped: Catalog,
        document: Any = None,
        *,
        ttl_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shipped = shipped
        self.document = document  # the shipped file's YAML data (None: no overrides possible)
        self.current = shipped
        self.ttl_seconds = ttl_seconds
        self.reader: Reader | None = None
        self.version: int | None = None
        self._monotonic = monotonic
        self._due = float("-inf")
        self._lock = threading.Lock()

    @property
    def due(self) -> bool:
        return self.reader is not None and self._monotonic() >= self._due

    def expire(self) -> None:
        """Look at the stamp at the next chance (this process has just changed an override)."""
        self._due = float("-inf")

    def refresh(self, *, force: bool = False) -> None:
        """Rebuild from the overrides if their stamp moved since last seen (looked at once per TTL)."""
        if self.reader is None or (not force and not self.due):
            return
        with self._lock:
            if not force and not self.due:
                return
            self._due = self._monotonic() + self.ttl_seconds
            with upkeep_round():  # once per TTL whatever the load: not a command's work
                found = self.reader(self.version)
            if found is not None:
                self._rebuild(*found)

    def _rebuild(self, version: int, overrides: list[Override]) -> None:
        if self.document is None:
            return
        catalog, left_out = applicable(self.document, overrides)
        for override in left_out:
            log.warning(
                "catalogue override no longer fits the shipped file, left out: %s %s %s=%s",
                override.kind.value,
                override.entry_id,
                override.field.value,
                override.value,
            )
        self.current, self.version = catalog, version
