"""`bascule serve --workers 2`: two server processes behind one port that agree on tokens and portal cookies."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.portal.helpers import login_centre, text_of
from tests.support.servers import environment_without_bascule, free_port, serving_process, stop, wait_until_up

OPERATOR_TOKEN = "serve-processes-operator-token"
MANAGER = ("gestionnaire@demo.bascule.test", "demo-gestion")


def _server_processes(parent: int) -> list[int]:
    """The children of `parent` that run an application (uvicorn spawns them through multiprocessing)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"spawn_main" in command:
            children.append(int(entry.name))
    return children


def _environment(tmp_path: Path) -> dict[str, str]:
    """None of this machine's BASCULE_ settings; a SQLite file of its own (a demo data set needs an empty one)."""
    return environment_without_bascule(
        BASCULE_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        BASCULE_ADMIN_TOKEN=OPERATOR_TOKEN,
        BASCULE_LOG_LEVEL="INFO",
    )


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    log = tmp_path / "serve.log"
    with serving_process(_environment(tmp_path), log, "--demo", "--workers", "2", cwd=tmp_path) as (base, process):
        yield base, process, log


def _on_fresh_connections(base: str, path: str, times: int, **client: object) -> list[httpx.Response]:
    """Each request on a new connection, so that the kernel hands them to either process."""
    answers = []
    for _ in range(times):
        with httpx.Client(base_url=base, timeout=10, follow_redirects=False, **client) as fresh:  # type: ignore[arg-type]
            answers.append(fresh.get(path))
    return answers


@pytest.mark.slow
def test_two_server_processes_share_the_port_the_tokens_and_the_portal_sessions(two_processes):
    base, process, _log = two_processes
    wait_until = time.monotonic() + 30
    while len(_server_processes(process.pid)) < 2 and time.monotonic() < wait_until:
        time.sleep(0.2)
    assert len(_server_processes(process.pid)) == 2

    login = httpx.post(base + "/api/v1/auth/login", json=dict(zip(("email", "password"), MANAGER, strict=True)))
    assert login.status_code == 200
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    services = _on_fresh_connections(base, "/api/v1/services", 24, headers=bearer)
    assert {answer.status_code for answer in services} == {200}
    assert len({answer.text for answer in services}) == 1  # the same services, whichever process answered

    with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as browser:
        assert login_centre(browser, *MANAGER).status_code == 303
        cookies = dict(browser.cookies)
    pages = _on_fresh_connections(base, "/centre-operations/", 24, cookies=cookies)
    assert {page.status_code for page in pages} == {200}  # a cookie signed by one process is good in the other
    assert all("Démo Logistique SAS" in text_of(page) for page in pages)

    operator = _on_fresh_connections(
        base, "/api/v1/admin/accounts", 4, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert {answer.status_code for answer in operator} == {200}
    assert [account["name"] for account in operator[0].json()] == ["Démo Logistique SAS"]

    dialled = [
        httpx.post(
            base + "/ussd",
            data={"sessionId": f"demo-{n}", "serviceCode": "#121#", "phoneNumber": "+2250701000001", "text": ""},
        )
        for n in range(4)
    ]
    # Without BASCULE_USSD_TOKEN the demo's USSD is open to try, in every process.
    assert {(answer.status_code, answer.text.split("\n")[0]) for answer in dialled} == {(200, "CON Gamme mobile #121#")}


def test_serve_refuses_fewer_than_one_process():
    done = subprocess.run(
        [sys.executable, "-m", "bascule", "serve", "--workers", "0"], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert b"--workers" in done.stderr


@pytest.mark.slow
def test_the_served_processes_log_each_request_once_without_its_query_string(two_processes):
    base, _process, log = two_processes
    answer = httpx.get(base + "/healthz?token=never-logged-secret")
    assert answer.status_code == 200
    deadline = time.monotonic() + 10
    while '"route": "/healthz"' not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert text.count('"route": "/healthz"') >= 1  # ours: one JSON line with the route template
    assert "never-logged-secret" not in text  # no access log line with the raw path and query
    assert "GET /healthz" not in text


@pytest.mark.slow
def test_serve_without_the_demo_or_a_ussd_token_keeps_ussd_closed_and_says_why(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with subprocess.Popen(
        [sys.executable, "-m", "bascule", "serve", "--port", str(port)],
        env=_environment(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stderr is not None
        try:
            wait_until_up(base, process, lambda: process.stderr.read().decode())  # type: ignore[union-attr]
            refused = httpx.post(
                base + "/ussd",
                data={"sessionId": "s1", "serviceCode": "#121#", "phoneNumber": "+2250701020304", "text": ""},
            )
            assert (refused.status_code, refused.text) == (401, "Unauthorized")
        finally:
            stop(process)
        told = process.stderr.read().decode().splitlines()
    assert (
        "bascule serve: POST /ussd answers 401 to every call until BASCULE_USSD_TOKEN is set "
        "(the gateway sends it); --demo opens it without one"
    ) in told
