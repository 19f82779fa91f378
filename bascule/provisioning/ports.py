"""The provisioning jobs' store and the networks, as the worker and the features see them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bascule.kernel.ports import UnitOfWork
from bascule.provisioning.model import Job, JobSpec
from bascule.provisioning.network import NetworkAdapter as Network

__all__ = ["FailedJob", "Jobs", "Network", "ProvisioningUnit"]


@dataclass(frozen=True, slots=True)
class FailedJob:
    job: Job
    failed_at: datetime
    error: str | None


class Jobs(Protocol):
    def add(
        self,
        specs: Sequence[JobSpec],
        *,
        subject: tuple[str, str],
        change_request_id: str | None,
        max_attempts: int,
        now: datetime,
        leased_to: str | None = None,
        lease: timedelta = timedelta(0),
    ) -> list[Job]: ...
    def succeed_all(self, done: Sequence[tuple[str, str | None]], worker: str, now: datetime) -> bool: ...
    def succeed_or_refuse(
        self, done: Sequence[tuple[str, str | None]], worker: str, now: datetime, refusal: Exception
    ) -> None:
        """`succeed_all`, or `refusal` raised (a lease lost): at once, or by the next statement of a unit that holds
        its writes, which then rolls back."""
        ...

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int, change_request_id: str | None = None
    ) -> list[Job]: ...
    def succeed(self, job_id: str, worker: str, now: datetime, work_order_id: str | None = None) -> bool: ...
    def fail(self, job_id: str, worker: str, now: datetime, error: str, work_order_id: str | None = None) -> bool: ...
    def retry_at(
        self,
        job_id: str,
        worker: str,
        at: datetime,
        error: str | None,
        *,
        counts: bool = True,
        work_order_id: str | None = None,
    ) -> bool: ...
    def abandon_request(self, change_request_id: str, now: datetime, reason: str) -> None: ...
    def of_request(self, change_request_id: str) -> list[Job]: ...
    def get(self, job_id: str) -> Job | None: ...
    def counts(self) -> dict[str, int]: ...
    def failed_page(self, after: tuple[datetime, str] | None, limit: int) -> list[FailedJob]: ...
    def requeue_failed(self, job_id: str, now: datetime) -> bool: ...


class ProvisioningUnit(UnitOfWork, Protocol):
    @property
    def jobs(self) -> Jobs: ...

    def appends_deferred(self) -> AbstractContextManager[None]:
        """The rows nobody reads in this transaction (audit, notices, jobs, migrations) written inside are gathered,
        and written together when the block ends."""
        ...

    def hold_writes(self) -> None:
        """What `appends_deferred` gathers waits for the next statement or the commit and, when it is the caller's
        stored answer, goes with it (`persistence.uow`)."""
        ...
