"""Simulated operator APIs (Orange, SFR, the charging system) that behave like real asynchronous ones:
work-order ids, latency, transient errors, lost answers that come back as duplicates, and refusals —
each injectable by configuration, by a test, or by an operator at /simulated-networks/{network}/faults.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from bascule.context import Kept
from bascule.provisioning.network import PermanentNetworkError, TransientNetworkError, WorkOrderState


@dataclass
class Faults:
    transient_errors: int = 0  # the next N submissions answer "503, try later"
    lost_answers: int = 0  # the next N submissions are done but their answer is lost (the retry is a duplicate)
    refuse: bool = False  # every new work order ends failed (a permanent refusal)
    latency_ms: int = 0  # each call takes this long
    polls_until_done: int = 0  # a work order stays pending for this many state reads


@dataclass
class WorkOrder:
    id: str
    key: str
    operation: str
    payload: dict[str, Any]
    state: WorkOrderState
    polls: int = 0
    submissions: int = 1


@dataclass
class SimulatedOperator:
    """One network's work-order API, held in memory; thread-safe."""

    name: str
    faults: Faults = field(default_factory=Faults)
    orders: dict[str, WorkOrder] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _wait(self) -> None:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)

    def submit(self, key: str, operation: str, payload: dict[str, Any]) -> str:
        self._wait()
        with self._lock:
            if self.faults.transient_errors > 0:
                self.faults.transient_errors -= 1
                raise TransientNetworkError("503 Service Unavailable (simulated)")
            if key in self.by_key:
                order = self.orders[self.by_key[key]]
                order.submissions += 1
                return order.id
            state = WorkOrderState.FAILED if self.faults.refuse else WorkOrderState.PENDING
            if state is WorkOrderState.PENDING and self.faults.polls_until_done == 0:
                state = WorkOrderState.DONE
            order = WorkOrder(f"{self.name.upper()}-WO-{uuid.uuid4().hex[:12]}", key, operation, payload, state)
            self.orders[order.id] = order
            self.by_key[key] = order.id
            if self.faults.lost_answers > 0:
                self.faults.lost_answers -= 1
                raise TransientNetworkError("answer lost (simulated)")
            return order.id

    def state(self, work_order_id: str) -> WorkOrderState:
        self._wait()
        with self._lock:
            order = self.orders.get(work_order_id)
            if order is None:
                raise PermanentNetworkError(f"unknown work order {work_order_id}")
            order.polls += 1
            if order.state is WorkOrderState.PENDING and order.polls >= self.faults.polls_until_done:
                order.state = WorkOrderState.DONE
            return order.state

    def configure(self, **changes: Any) -> Faults:
        with self._lock:
            self.faults = Faults(**(asdict(self.faults) | changes))
            return self.faults

    def reset(self) -> None:
        with self._lock:
            self.faults = Faults()
            self.orders.clear()
            self.by_key.clear()

    def work_orders(self) -> list[WorkOrder]:
        with self._lock:
            return list(self.orders.values())


# The simulators of a context without an operator's network (`network_url` not set), by network, for the API that
# injects their faults and for the tests.
SIMULATED_NETWORKS: Kept[dict[str, SimulatedOperator]] = Kept("simulated networks")
