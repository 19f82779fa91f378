"""Stored answers of keyed commands (`Idempotency-Key`), written in the command's own transaction."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from bascule.commands.answers import Answer, StoredAnswer
from bascule.persistence import tables as t
from bascule.persistence.compiled import run_after_held
from bascule.persistence.statements import _Repository, insert_ignoring_conflict

K = t.idempotency_keys
_WHO = (K.c.principal == bindparam("caller"), K.c.key == bindparam("idem_key"))
_FIND = select(K.c.body_hash, K.c.state, K.c.response_status, K.c.response_headers, K.c.response_body).where(*_WHO)
_SETTLE = (
    update(K)
    .where(*_WHO)
    .values(
        state=bindparam("state"),
        response_status=bindparam("status"),
        response_headers=bindparam("headers"),
        response_body=bindparam("body"),
    )
)


class IdempotencyRecords(_Repository):
    def find(self, caller: str, key: str) -> StoredAnswer | None:
        row = self._run(_FIND, {"caller": caller, "idem_key": key}).first()
        if row is None:
            return None
        return StoredAnswer(
            fingerprint=row.body_hash,
            settled=row.state == "done",
            answer=Answer(
                row.response_status or 500, (row.response_body or "").encode(), dict(row.response_headers or {})
            ),
        )

    def add(
        self, caller: str, key: str, path: str, fingerprint: str, answer: Answer, *, settled: bool, at: object
    ) -> bool:
        """False when another command with this key committed first."""
        return insert_ignoring_conflict(
            self.connection,
            K,
            {
                "principal": caller,
                "key": key,
                "method": "POST",
                "path": path[:500],
                "body_hash": fingerprint,
                "state": "done" if settled else "committed",
                "response_status": answer.status,
                "response_headers": answer.headers,
                "response_body": answer.body.decode("utf-8"),
                "created_at": at,
            },
            with_held=True,  # the command's appended rows, when its unit holds them (`UnitOfWork.appends_deferred`)
        )

    def settle(self, caller: str, key: str, answer: Answer) -> None:
        """The answer as finally sent, once the networks have answered."""
        run_after_held(  # the networks' outcome's audit rows and notices, when its unit holds them
            self.connection,
            _SETTLE,
            {
                "caller": caller,
                "idem_key": key,
                "state": "done",
                "status": answer.status,
                "headers": answer.headers,
                "body": answer.body.decode("utf-8"),
            },
        )
