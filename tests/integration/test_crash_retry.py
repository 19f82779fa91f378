"""`kill -9` of the server while confirmations are in flight, a restart, and every lost answer retried with its
Idempotency-Key, as any client does: each retry gets the first outcome (2xx), and each line is charged once.

The networks answer slowly (400 ms a call), so that the kill lands on confirmations at every step: not yet
committed (the retry runs them, once), committed while the networks were being asked (the retry replays the
committed answer), answered (the retry replays the answer)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import environment_without_bascule, free_port, kill, start_serving

OPERATOR_TOKEN = "crash-retry-operator-token"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
LINES = 24


def _start(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = environment_without_bascule(
        BASCULE_DATABASE_URL=database_url,
        BASCULE_ADMIN_TOKEN=OPERATOR_TOKEN,
        BASCULE_NETWORK_FAULTS=json.dumps({"orange": {"latency_ms": 400}}),
        BASCULE_THREADS="32",
    )
    return start_serving(port, env, log)


def _lines(client: httpx.Client) -> tuple[str, list[dict[str, Any]]]:
    account = client.post("/api/v1/admin/accounts", json={"name": "Flotte Crash"}, headers=OPERATOR).json()
    requests = []
    for n in range(LINES):
        service = client.post(
            "/api/v1/admin/services",
            headers=OPERATOR,
            json={
                "account_id": account["id"],
                "plan_id": "data-10go-4g",
                "network": "orange",
                "apn": "internet.pro",
                "msisdn": f"+336{n:08d}",
                "activated_on": "2026-01-01",
            },
        ).json()
        created = client.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=OPERATOR | {"Idempotency-Key": f"create-{n}"},
        )
        assert created.status_code == 201, created.text
        requests.append(created.json())
    return account["id"], requests


def _confirm_all(
    base: str, requests: list[dict[str, Any]], kill_after: float, process: subprocess.Popen[bytes]
) -> dict[str, httpx.Response | None]:
    """Every confirmation sent at once; the server killed `kill_after` seconds later."""
    answers: dict[str, httpx.Response | None] = {request["id"]: None for request in requests}
    start = threading.Barrier(len(requests) + 1)

    def confirm(request: dict[str, Any]) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            start.wait()
            with contextlib.suppress(httpx.TransportError):  # the answer is lost with the server
                answers[request["id"]] = client.post(
                    f"/api/v1/change-requests/{request['id']}/confirm",
                    headers=OPERATOR | {"Idempotency-Key": f"ok-{request['id']}"},
                )

    threads = [threading.Thread(target=confirm, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(kill_after)
    kill(process)
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.slow
def test_every_confirmation_lost_in_a_crash_is_retried_to_its_first_outcome_and_charged_once(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'crash.db'}"
    log = tmp_path / "serve.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(database_url, port, log)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            account_id, requests = _lines(client)
        answers = _confirm_all(base, requests, kill_after=0.6, process=server)
        server = _start(database_url, port, log)
        with (
            httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=LINES)) as client,
            ThreadPoolExecutor(max_workers=LINES) as pool,
        ):
            sent = {
                request["id"]: pool.submit(
                    client.post,
                    f"/api/v1/change-requests/{request['id']}/confirm",
                    headers=OPERATOR | {"Idempotency-Key": f"ok-{request['id']}"},
                )
                for request in requests
            }
            retries = {request_id: future.result() for request_id, future in sent.items()}
            charges = client.get(f"/api/v1/accounts/{account_id}/charges", headers=OPERATOR).json()["lines"]
    finally:
        kill(server)
    lost = [request_id for request_id, answer in answers.items() if answer is None]
    assert lost, "the kill came after every answer: nothing was lost"
    assert {request_id: retry.status_code for request_id, retry in retries.items()} == {
        request["id"]: 200 for request in requests
    }, [r.text for r in retries.values() if r.status_code != 200]
    for request_id, retry in retries.items():
        assert retry.json()["id"] == request_id
        assert retry.json()["status"] in ("provisioning", "completed")
        first = answers[request_id]
        if first is not None:  # answered before the kill: the retry is that answer, byte for byte
            assert (first.status_code, retry.content, retry.headers["idempotent-replayed"]) == (
                200,
                first.content,
                "true",
            )
    # each line charged once: its quote's lines, no more (beside the month's subscription of each line)
    charged = Counter(
        (line["change_request_id"], line["kind"], line["amount"]["amount"])
        for line in charges
        if line["change_request_id"] is not None
    )
    assert Counter(line["kind"] for line in charges if line["change_request_id"] is None) == {"recurring": LINES}
    quoted = Counter(
        (request["id"], line["kind"], line["amount"]["amount"])
        for request in requests
        for line in request["quote"]["charges"]
    )
    assert charged == quoted
