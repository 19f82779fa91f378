"""What the bulk usage import needs from storage, beside the Line A repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

from bascule.evolutions.model import Service
from bascule.evolutions.ports import EvolutionsUnit
from bascule.evolutions.quota import Bucket

Monthly = dict[tuple[str, str], tuple[int, datetime]]  # (service id, period) → (bytes, last instant)


class UsageImports(Protocol):
    def line_index(self) -> pa.Table:
        """MSISDN → service id and the account's zone, as Arrow columns."""
        ...

    def receive(self, records: pa.Table, zones: dict[str, str], received_at: datetime) -> tuple[int, Monthly]:
        """Store the batch's new records; how many were new and what they add up to per line and month."""
        ...

    def lock_services(self, service_ids: Sequence[str]) -> list[Service]: ...

    def account_zones(self, account_ids: Sequence[str]) -> list[tuple[str, str]]: ...

    def open_buckets(self, service_ids: Sequence[str]) -> list[tuple[str, Bucket]]: ...

    def set_bucket_usage(self, changes: Sequence[tuple[str, int, int]]) -> None:
        """(bucket id, new used, previous used): set only where nobody moved it meanwhile, all or error."""
        ...

    def add_to_charges(self, rows: Sequence[Mapping[str, Any]]) -> None: ...


class UsageUnit(EvolutionsUnit, Protocol):
    @property
    def usage_imports(self) -> UsageImports: ...
