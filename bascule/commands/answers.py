"""What a keyed command answered, as stored beside it for a retry with the same `Idempotency-Key`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Answer:
    """A channel's answer, bytes and all: a replay sends exactly this."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Keyed:
    """A command sent with an `Idempotency-Key`: who sent it, the key, and what was sent (path and body)."""

    caller: str
    key: str
    path: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    fingerprint: str
    settled: bool  # False while the networks may still change the answer (a confirmation being provisioned)
    answer: Answer
