"""Schemathesis over every operation of the live server's /openapi.json, with the operator token.

The `st` command runs all its phases (the schema's examples, coverage of each constraint's edges, random
fuzzing with valid and invalid input, and stateful sequences that follow the document's OpenAPI links), at
least 100 examples per operation, with four checks: no server error, a documented status, a documented
content type and a body that conforms to the schema of its status. A run fails on any failure, and also when
Schemathesis warns that the document and the server disagree (generated valid input mostly refused, or
operations that never reach a real resource): the schema must say the real constraints.

Path parameters are drawn, most of the time, from real resources made first (accounts with services,
requests and an invoice; prepaid lines), so that the handlers run past their lookups; the rest of the time
they are generated. The seed is fixed, so that a failure found once is found again.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, USSD_TOKEN
from tests.security.test_isolation import build_world

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EXAMPLES_PER_OPERATION = 100
SEED = 20261205
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

# Not fuzzed, each with its reason (everything else in the document is).
EXCLUDED = {
    "/api/v1/test/clock": "moves the shared test clock for every other operation (random instants from year 1 to "
    "9999); only served with BASCULE_TEST_CLOCK=1",
    "/simulated-networks/{network}/faults": "process-wide fault injection into the simulated networks: random "
    "latencies (up to 60 s) would stall the rest of the run",
}
# Warnings that fail the run: the document says one thing and the server does another.
FAIL_ON = [
    "missing_deserializer",
    "unsupported_regex",
    "method_not_allowed",
    "unmatched_filter",
    "unresolvable_reference",
]
# "Schema validation mismatch" (valid input mostly refused) fails the run too, except for the operations whose
# valid-looking input is mostly refused by a rule no schema can state, each with that rule: for them, a
# majority of 422 answers is the rule at work, not the document lying.
RULES_BEYOND_THE_SCHEMA = {
    ("POST", "/api/v1/admin/services"): "activated_on is at most twelve months back and never in the future, "
    "counted from today",
    ("POST", "/api/v1/admin/subscribers/{msisdn}/consumptions"): "at is never in the future nor before the "
    "line's history, counted from now",
    ("POST", "/api/v1/services/{service_id}/change-requests"): "which plan, radio, APN or ceiling a line can take "
    "depends on its plan's kind (not-applicable, 422)",
    ("POST", "/api/v1/services/{service_id}/quotes"): "the same rules as a change request",
    ("POST", "/api/v1/change-batches"): "the same rules as a change request, on lines of the caller's one account",
    ("POST", "/api/v1/services/{service_id}/extensions"): "extensions are for metered lines only (not-applicable)",
}


def real_ids(http: httpx.Client) -> dict[str, list[str]]:
    world = build_world(http)
    return {
        "account_id": [world.victim_account],
        "service_id": list(world.services.values()),
        "request_id": [world.awaiting_request, world.confirmed_request],
        "invoice_id": [world.invoice["id"]],
        "msisdn": [world.victim_msisdn],
        "network": ["orange", "sfr"],
        "batch_id": [world.batch],
    }


def config(ids: dict[str, list[str]]) -> str:
    """schemathesis.toml for this run: real ids for path parameters 70 % of the time, the failing warnings."""
    lines = ["[warnings]", f"fail-on = {json.dumps(FAIL_ON)}", "", "[dictionaries]"]
    lines += [f"{name} = {{ values = {json.dumps(values)} }}" for name, values in ids.items()]
    lines += ["", "[parameters]"]
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.7 }}' for name in ids]
    lines += ['"body.account_id" = { dictionary = "account_id", probability = 0.7 }']
    return "\n".join(lines) + "\n"


def run_schemathesis(server_url: str, config_file: Path, report: Path) -> subprocess.CompletedProcess[str]:
    """One worker: with two, Hypothesis describes its filters by parsing source in two threads at once, which
    CPython 3.11 does not always survive (an internal "AST constructor recursion depth mismatch" error)."""
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(config_file),
        "run",
        f"{server_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        "--header",
        f"X-USSD-Token: {USSD_TOKEN}",  # the operator, who is also the USSD gateway
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    for path in EXCLUDED:
        command += ["--exclude-path", path]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


# "Authentication failed" (only 401/403 answers) fails the run too, except where that is the operation's point.
ONLY_REFUSED_WITH_RANDOM_INPUT = {("POST", "/api/v1/auth/login"): "random credentials are wrong credentials"}


def warned_operations(output: str, warning: str) -> set[tuple[str, str]]:
    """The operations listed under one warning (its title, e.g. "Schema validation mismatch") of a run's output."""
    block = output.partition(f"{warning}:")[2].partition("💡")[0]
    return {(method, path) for method, path in re.findall(r"^\s+- ([A-Z]+) (\S+)$", block, re.MULTILINE)}


def test_the_mismatch_warning_is_read_from_the_output():
    output = (
        "Schema validation mismatch: 2 operations mostly rejected generated data\n\n  - POST /api/v1/a\n"
        "  - GET /api/v1/b/{id}\n\n💡 Check your schema constraints\n\n  - POST /not/this\n"
    )
    assert warned_operations(output, "Schema validation mismatch") == {("POST", "/api/v1/a"), ("GET", "/api/v1/b/{id}")}
    assert warned_operations(output, "Authentication failed") == set()


@pytest.mark.slow
def test_every_operation_survives_generated_input(http, server_url, tmp_path):
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(real_ids(http)), "utf-8")
    done = run_schemathesis(server_url, config_file, tmp_path / "junit.xml")
    summary = done.stdout[done.stdout.find("WARNINGS") :] if "WARNINGS" in done.stdout else done.stdout[-3000:]
    assert done.returncode == 0, f"{done.stdout[-20000:]}\n{done.stderr[-3000:]}"
    assert "Tested: " in summary, summary
    assert warned_operations(done.stdout, "Schema validation mismatch") <= set(RULES_BEYOND_THE_SCHEMA), summary
    assert warned_operations(done.stdout, "Authentication failed") <= set(ONLY_REFUSED_WITH_RANDOM_INPUT), summary


def test_an_unparsable_body_is_a_422_problem_whose_status_member_matches(http):
    response = http.post(
        "/api/v1/admin/accounts", content=b"\xc0\x80{", headers={**OPERATOR, "Content-Type": "application/json"}
    )
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == response.status_code == 422


def test_the_ussd_callback_documents_its_form(http):
    operation = http.get("/openapi.json").json()["paths"]["/ussd"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form
