"""A confirmed change reaches each network exactly once, through transient errors, refusals, lost answers
and dead workers (issue 6)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from bascule.catalog.model import Radio
from bascule.commands.runner import run
from bascule.evolutions.batch import ItemStatus
from bascule.evolutions.batch_usecases import confirm_change_batch, create_change_batch, get_change_batch
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.services import get_service
from bascule.evolutions.usecases import (
    await_networks,
    confirm_change_request,
    create_change_request,
    get_change_request,
)
from bascule.identity.model import OPERATOR, Channel, Role
from bascule.identity.usecases import create_account, create_user
from bascule.persistence import tables as t
from bascule.prepaid.usecases import create_subscriber, migrate_profile
from bascule.provisioning.model import JobSpec, JobStatus, Operation
from bascule.provisioning.simulator import SIMULATED_NETWORKS
from bascule.provisioning.worker import Provisioner
from tests.conftest import ADMIN_TOKEN
from tests.support.lines import GIB, line_on
from tests.support.sql import statements


def provisioner_of(ctx) -> Provisioner:
    """The worker bootstrap wired into the context."""
    assert isinstance(ctx.provisioner, Provisioner)
    return ctx.provisioner


@pytest.fixture
def networks(ctx):
    simulators = ctx.kept.get(SIMULATED_NETWORKS)
    assert simulators is not None, "the test context has no simulated networks"
    for simulator in simulators.values():
        simulator.reset()
    provisioner = provisioner_of(ctx)
    inline = provisioner.config.inline_seconds
    yield simulators
    provisioner.config.inline_seconds = inline
    for simulator in simulators.values():
        simulator.reset()


def _service(ctx, plan_volume=10 * GIB, network="orange"):
    account = create_account(ctx, OPERATOR, Channel.API, "Réseaux Exemple", None)
    create_user(ctx, OPERATOR, Channel.API, account.id, "chef@reseaux.example", "gestion-secret", Role.MANAGER)
    return line_on(ctx, account.id, "+33655000001", plan_volume, network)


def _confirm(ctx, service, **changes):
    request = create_change_request(ctx, OPERATOR, Channel.API, service.id, RequestedChanges(**changes))
    confirmed = run(ctx, lambda c: confirm_change_request(c, OPERATOR, Channel.API, request.id, None))
    return await_networks(ctx, confirmed)  # as the channels do, once the confirmation has committed


def _drain(ctx, clock, rounds=20):
    provisioner = provisioner_of(ctx)
    for _ in range(rounds):
        clock.advance(hours=1)
        provisioner.run_once()


def _charges(ctx, request_id):
    with ctx.uow(write=False) as uow:
        return [(c.kind, c.amount.amount) for c in uow.charges.of_request(request_id)]


def test_a_fast_network_completes_the_change_within_the_confirmation(ctx, networks):
    service = _service(ctx)
    done = _confirm(ctx, service, plan_id="data-30go-4g")
    assert done.status is RequestStatus.COMPLETED
    with ctx.uow(write=False) as uow:
        told = uow.notifications.search("chef@reseaux.example")
    assert [n.subject for n in told] == [
        "Ligne +33655000001 : demande d'évolution appliquée",
        "Ligne +33655000001 : demande d'évolution confirmée",
    ]
    assert told[0].body == (
        "La ligne +33655000001 a changé : forfait Data Mobile 30 Go 4G. La modification est "
        "appliquée sur le réseau. Pour que la carte SIM prenne la modification, redémarrez "
        "l'équipement de la ligne."
    )
    assert done.id not in told[0].body + told[1].body  # no internal id for the customer
    orders = networks["orange"].work_orders()
    assert [(o.operation, o.payload["plan_id"], o.submissions) for o in orders] == [("apply_plan", "data-30go-4g", 1)]


def test_a_confirmed_batch_completes_its_lines_with_the_hook_for_jobs_all_held(ctx, networks, monkeypatch):
    first = _service(ctx)
    second = line_on(ctx, first.account_id, "+33655000002")
    held = ctx.job_hooks.all_held_done["service"]
    completed_held: list[str] = []

    def spy(c, uow, job, error):
        completed_held.append(job.change_request_id)
        return held(c, uow, job, error)

    monkeypatch.setitem(ctx.job_hooks.all_held_done, "service", spy)
    changes = RequestedChanges(apn=ctx.catalog.apns[1].id)
    batch = run(ctx, lambda c: create_change_batch(c, OPERATOR, Channel.API, [first.id, second.id], changes))
    confirm_change_batch(ctx, OPERATOR, Channel.API, batch.id, None)

    done = get_change_batch(ctx, OPERATOR, batch.id)
    assert [item.status for item in done.items] == [ItemStatus.COMPLETED, ItemStatus.COMPLETED]
    assert sorted(completed_held) == sorted(item.change_request_id for item in done.items)
    assert [get_service(ctx, OPERATOR, line.id).service.apn for line in (first, second)] == [changes.apn] * 2


def test_transient_errors_then_success_give_one_completed_change_and_one_network_operation(ctx, clock, networks):
    service = _service(ctx)
    networks["orange"].configure(transient_errors=2)
    answered = _confirm(ctx, service, plan_id="data-30go-4g")
    assert answered.status is RequestStatus.PROVISIONING  # the retry waits for its backoff
    _drain(ctx, clock)
    final = get_change_request(ctx, OPERATOR, answered.id)
    assert final.status is RequestStatus.COMPLETED
    assert [(o.operation, o.submissions) for o in networks["orange"].work_orders()] == [("apply_plan", 1)]
    with ctx.uow(write=False) as uow:
        jobs = uow.jobs.of_request(answered.id)
    assert [(j.status, j.attempts) for j in jobs] == [(JobStatus.SUCCEEDED, 3)]
    assert _charges(ctx, answered.id) == [("proration", Decimal("4.5000"))]


def test_a_refusal_fails_the_change_gives_the_slot_back_and_reverses_the_charges(ctx, clock, networks):
    service = _service(ctx)
    networks["sfr"].configure(refuse=True)
    before = get_service(ctx, OPERATOR, service.id)
    failed = _confirm(ctx, service, plan_id="data-30go-4g", network="sfr")
    assert failed.status is RequestStatus.FAILED
    after = get_service(ctx, OPERATOR, service.id)
    assert (after.service.plan_id, after.service.network) == (before.service.plan_id, "orange")
    assert after.quota == before.quota
    assert after.changes_left_this_month == 1
    assert _charges(ctx, failed.id) == [
        ("proration", Decimal("4.5000")),
        ("fee", Decimal("10.0000")),
        ("proration", Decimal("-4.5000")),
        ("fee", Decimal("-10.0000")),
    ]
    assert networks["orange"].work_orders() == []  # the old network never released the line
    with ctx.uow(write=False) as uow:
        told = uow.notifications.search("chef@reseaux.example")
        audit = [e.action for e in uow.audit.of_entity("change_request", failed.id)]
    assert audit[-1] == "change_request.failed"
    assert [(n.channel, n.subject) for n in told] == [
        ("email", "Ligne +33655000001 : demande d'évolution non appliquée"),
        ("email", "Ligne +33655000001 : demande d'évolution confirmée"),
    ]
    assert told[0].body.startswith(
        "Le réseau a refusé la demande d'évolution de la ligne +33655000001 "
        "(forfait Data Mobile 30 Go 4G et opérateur support SFR) : "
    )
    assert failed.id not in told[0].body
    again = _confirm(ctx, service, plan_id="data-30go-4g")  # the slot came back
    assert again.status is RequestStatus.COMPLETED


def test_a_lost_answer_comes_back_as_a_duplicate_and_changes_nothing_more(ctx, clock, networks):
    service = _service(ctx)
    networks["orange"].configure(lost_answers=1)
    answered = _confirm(ctx, service, apn=ctx.catalog.apns[1].id)
    _drain(ctx, clock)
    assert get_change_request(ctx, OPERATOR, answered.id).status is RequestStatus.COMPLETED
    orders = networks["orange"].work_orders()
    assert [(o.operation, o.submissions) for o in orders] == [("set_apn", 2)]
    assert _charges(ctx, answered.id) == []


def test_a_host_change_activates_on_the_new_network_before_releasing_the_old(ctx, clock, networks):
    service = _service(ctx)
    networks["sfr"].configure(transient_errors=1)
    answered = _confirm(ctx, service, network="sfr")
    assert networks["orange"].work_orders() == []  # not released while SFR has not activated
    _drain(ctx, clock)
    assert get_change_request(ctx, OPERATOR, answered.id).status is RequestStatus.COMPLETED
    assert [o.operation for o in networks["sfr"].work_orders()] == ["activate_line"]
    assert [o.operation for o in networks["orange"].work_orders()] == ["release_line"]


@pytest.mark.slow
def test_a_worker_killed_mid_job_leaves_it_to_the_next_which_finishes_it_once(ctx, settings, server_url, networks):
    service = _service(ctx)
    provisioner_of(ctx).config.inline_seconds = 0
    networks["orange"].configure(latency_ms=2500)
    request = _confirm(ctx, service, plan_id="data-30go-4g")
    env = os.environ | {
        "BASCULE_DATABASE_URL": settings.database_url,
        "BASCULE_ADMIN_TOKEN": ADMIN_TOKEN,
        "BASCULE_NETWORK_URL": f"{server_url}/simulated-networks",
        "BASCULE_PROVISIONING_LEASE_SECONDS": "1",
    }
    first = subprocess.Popen(
        [sys.executable, "-m", "bascule", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with ctx.uow(write=False) as uow:
            if uow.jobs.of_request(request.id)[0].status is JobStatus.RUNNING:
                break
        time.sleep(0.05)
    time.sleep(0.5)  # inside the network call
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    with ctx.uow(write=False) as uow:
        assert uow.jobs.of_request(request.id)[0].status is JobStatus.RUNNING

    second = subprocess.Popen(
        [sys.executable, "-m", "bascule", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while get_change_request(ctx, OPERATOR, request.id).status is not RequestStatus.COMPLETED:
            assert time.monotonic() < deadline, "the second worker did not finish the job"
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    orders = networks["orange"].work_orders()
    assert len(orders) == 1
    assert orders[0].submissions == 2  # the second worker asked again with the same key: the same work order
    with ctx.uow(write=False) as uow:
        job = uow.jobs.of_request(request.id)[0]
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


@pytest.mark.slow
def test_two_workers_over_a_thousand_jobs_run_each_exactly_once(ctx, networks):
    with ctx.uow() as uow:
        for n in range(1000):
            uow.jobs.add(
                [JobSpec("orange", Operation.SET_APN, {"n": n})],
                subject=("load-test", str(n)),
                change_request_id=None,
                max_attempts=3,
                now=ctx.clock.now(),
            )
        uow.commit()
    base = provisioner_of(ctx)
    workers = [Provisioner(ctx, base.networks, base.config, worker_id=f"w{i}") for i in range(2)]
    ran = [0, 0]

    def work(index: int) -> None:
        while (count := workers[index].run_once()) > 0:
            ran[index] += count

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    with ctx.engine.connect() as connection:
        statuses = connection.execute(select(t.provisioning_jobs.c.status, t.provisioning_jobs.c.attempts)).all()
    assert sorted(set(statuses)) == [("succeeded", 1)]
    assert len(statuses) == 1000
    orders = networks["orange"].work_orders()
    assert len(orders) == 1000
    assert {o.submissions for o in orders} == {1}
    assert sum(ran) == 1000
    assert min(ran) > 0 or ctx.engine.dialect.name == "sqlite"  # on PostgreSQL both workers really shared the work


def test_the_simulated_operator_api_is_served_to_the_operator_only(http, networks):
    denied = http.put("/simulated-networks/orange/faults", json={"latency_ms": 5})
    allowed = http.put(
        "/simulated-networks/orange/faults", json={"latency_ms": 5}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert denied.status_code == 401
    assert allowed.status_code == 200
    assert allowed.json()["latency_ms"] == 5


def test_a_change_costs_its_statements_and_no_more(ctx, networks):
    """The hot path of a change, counted (issue 13): the creation reads its line, the line's change slot and its
    open buckets in one statement; the confirmation locks its request and its line in one, which brings the
    buckets and the managers to tell, and writes its slot, line, request, charge, audit rows, notices and jobs in one
    on PostgreSQL, at its commit; the inline completion reads nothing back, the managers come with the request it
    completes."""
    service = _service(ctx)
    create_change_request(ctx, OPERATOR, Channel.API, service.id, RequestedChanges(radio=Radio.G5))  # warms the caches
    other = line_on(ctx, service.account_id, "+33655000002")
    with statements(ctx.engine) as created:
        request = run(
            ctx, lambda c: create_change_request(c, OPERATOR, Channel.API, other.id, RequestedChanges(radio=Radio.G5))
        )
    with statements(ctx.engine) as confirmed:
        held = run(ctx, lambda c: confirm_change_request(c, OPERATOR, Channel.API, request.id, None))
    with statements(ctx.engine) as completed:
        done = await_networks(ctx, held)
    assert done.status is RequestStatus.COMPLETED
    writes = [_verb(sql) for sql in confirmed]
    appended = ("charges", "audit_events", "notifications", "provisioning_jobs")
    assert writes == [
        "SELECT change_requests",  # the request and its line, locked together, its buckets and managers
        # the slot (a condition), the line, the request; the fee, service.changed and change_request.provisioning,
        # the manager told "confirmée", the networks' job: held for the commit, one statement on PostgreSQL
        *(
            [
                "WITH INSERT INTO monthly_slots, UPDATE services, UPDATE change_requests, INSERT INTO "
                + ", INSERT INTO ".join(appended)
            ]
            if ctx.engine.dialect.name == "postgresql"
            else ["INSERT INTO monthly_slots", "UPDATE services", "UPDATE change_requests", *_together(ctx, *appended)]
        ),
    ]
    assert [_verb(sql) for sql in created] == [
        "SELECT services",  # the line, its slot of the month and its buckets
        *_together(ctx, "change_requests", "audit_events"),
    ]
    assert [_verb(sql) for sql in completed] == [
        # the job succeeded, with the request completed (which brings the managers back): one statement on PostgreSQL
        *(
            ["WITH UPDATE provisioning_jobs, UPDATE change_requests"]
            if ctx.engine.dialect.name == "postgresql"
            else ["UPDATE provisioning_jobs", "UPDATE change_requests"]
        ),
        *_together(ctx, "audit_events", "notifications"),
    ]
    with ctx.uow(write=False) as uow:
        told = [n.subject for n in uow.notifications.search("chef@reseaux.example") if "+33655000002" in n.subject]
    assert told == [
        "Ligne +33655000002 : demande d'évolution appliquée",
        "Ligne +33655000002 : demande d'évolution confirmée",
    ]


def _together(ctx, *tables: str) -> list[str]:
    """Rows nobody reads back in their transaction: one INSERT on PostgreSQL, one per table on SQLite."""
    if ctx.engine.dialect.name == "postgresql":
        return ["INSERT INTO " + ", ".join(tables)]
    return [f"INSERT INTO {table}" for table in tables]


def _verb(sql: str) -> str:
    """`INSERT INTO audit_events`, `SELECT buckets`…: what a statement does, and to which table."""
    words = sql.split()
    sql = " ".join(words)
    if words[0].upper() == "WITH" and " AS (UPDATE " in sql:  # held UPDATEs joined (`compiled.run_joining_…`)
        return "WITH " + ", ".join(" ".join(found) for found in re.findall(r"AS \((UPDATE|INSERT INTO) (\w+)", sql))
    if words[0].upper() == "WITH":  # INSERTs together (`compiled.insert_together`), named in their order
        return "INSERT INTO " + ", ".join(re.findall(r"INSERT INTO (\w+)", sql))
    if words[0].upper() in ("INSERT", "UPDATE"):
        return " ".join(words[: 3 if words[0].upper() == "INSERT" else 2])
    if words[0].upper() == "SELECT":
        return f"SELECT {words[1].split('.')[0].rstrip(',')}"
    return words[0].upper()  # pragma: no cover - every statement of a change is one of the three


def test_a_completed_change_tells_its_own_accounts_managers_and_no_one_elses(ctx, networks):
    """The completion brings the managers back with the request it completes (one statement): those of the
    request's account only, on both databases."""
    service = _service(ctx)
    other = create_account(ctx, OPERATOR, Channel.API, "Voisins Exemple", None)
    create_user(ctx, OPERATOR, Channel.API, other.id, "chef@voisins.example", "gestion-secret", Role.MANAGER)
    assert _confirm(ctx, service, radio=Radio.G5).status is RequestStatus.COMPLETED
    with ctx.uow(write=False) as uow:
        ours = [n.subject for n in uow.notifications.search("chef@reseaux.example")]
        theirs = [n.subject for n in uow.notifications.search("chef@voisins.example")]
    assert ours == [
        "Ligne +33655000001 : demande d'évolution appliquée",
        "Ligne +33655000001 : demande d'évolution confirmée",
    ]
    assert theirs == []


def _migrated_lines(ctx, numbers: list[str]) -> None:
    """A profile job per migration: each number moves to the first free profile then, for a repeated number,
    back to the second (two jobs of one subscriber)."""
    free = [p for p in ctx.catalog.profiles if p.min_consumption_last_month is None]
    moves: dict[str, int] = {}
    for msisdn in numbers:
        if msisdn not in moves:
            create_subscriber(ctx, OPERATOR, Channel.API, msisdn, free[1].id)
        target = free[moves.get(msisdn, 1) - 1]
        moves[msisdn] = moves.get(msisdn, 1) + 1
        migrate_profile(ctx, OPERATOR, Channel.API, msisdn, target.id)


def _profile_jobs(ctx) -> list[tuple[str, str]]:
    with ctx.engine.connect() as connection:
        query = select(t.provisioning_jobs.c.subject_id, t.provisioning_jobs.c.status).order_by(
            t.provisioning_jobs.c.created_at, t.provisioning_jobs.c.id
        )
        return [(row.subject_id, row.status) for row in connection.execute(query)]


def _provisioned(ctx) -> list[str]:
    with ctx.engine.connect() as connection:
        query = select(t.audit_events.c.entity_id).where(t.audit_events.c.action == "profile.provisioned")
        return sorted(connection.execute(query).scalars())


def test_profile_jobs_done_at_once_are_recorded_together_one_per_subscriber_in_a_group(ctx, networks):
    """A worker's round over four profile jobs (two of one line): the first line's first job is recorded alone
    (its second follows it), the other three together: their marks in one statement, their audit rows in one."""
    first, second, third = "+2250700000101", "+2250700000102", "+2250700000103"
    _migrated_lines(ctx, [first, first, second, third])
    with statements(ctx.engine) as sent:
        assert provisioner_of(ctx).run_once() == 4
    assert _profile_jobs(ctx) == [(n, "succeeded") for n in (first, first, second, third)]
    assert _provisioned(ctx) == sorted([first, first, second, third])
    marks = [sql for sql in sent if sql.startswith("UPDATE provisioning_jobs") and "finished_at=" in sql]
    audits = [sql for sql in sent if sql.startswith("INSERT INTO audit_events")]
    assert (len(marks), len(audits)) == (2, 2)
    assert [o.submissions for o in networks["charging"].work_orders()] == [1, 1, 1, 1]


def test_a_group_whose_lease_was_lost_is_recorded_job_by_job_and_the_lost_one_left_to_its_worker(
    ctx, networks, monkeypatch
):
    numbers = ["+2250700000201", "+2250700000202", "+2250700000203"]
    _migrated_lines(ctx, numbers)
    provisioner = provisioner_of(ctx)
    asked = provisioner._ask

    def taken_over_meanwhile(job):
        if job.subject_id == numbers[1]:  # its lease ran out and another worker claimed it
            with ctx.engine.begin() as connection:
                jobs = t.provisioning_jobs
                connection.execute(jobs.update().where(jobs.c.id == job.id).values(locked_by="another-worker"))
        return asked(job)

    monkeypatch.setattr(provisioner, "_ask", taken_over_meanwhile)
    assert provisioner.run_once() == 3
    assert _profile_jobs(ctx) == [(numbers[0], "succeeded"), (numbers[1], "running"), (numbers[2], "succeeded")]
    assert _provisioned(ctx) == [numbers[0], numbers[2]]  # nothing recorded for the job another worker holds


def test_a_confirmations_job_whose_lease_was_lost_before_its_answer_completes_nothing(ctx, networks):
    """The network did the work, but the job's lease went to another worker meanwhile: its success, held for the
    request's completion (one statement on PostgreSQL), finds nothing to mark, and the whole record rolls back: the
    request stays in provisioning, the job with the worker that holds it, no one is told "appliquée"."""
    service = _service(ctx)
    request = create_change_request(ctx, OPERATOR, Channel.API, service.id, RequestedChanges(radio=Radio.G5))
    confirmed = run(ctx, lambda c: confirm_change_request(c, OPERATOR, Channel.API, request.id, None))
    [job] = confirmed.leased
    with ctx.engine.begin() as connection:
        jobs = t.provisioning_jobs
        connection.execute(jobs.update().where(jobs.c.id == job.id).values(locked_by="another-worker"))
    with statements(ctx.engine) as sent:
        assert provisioner_of(ctx).run_leased(list(confirmed.leased), also=lambda _uow, _outcome: None) is False
    assert [_verb(sql) for sql in sent] == (
        ["WITH UPDATE provisioning_jobs, UPDATE change_requests"]
        if ctx.engine.dialect.name == "postgresql"
        else ["UPDATE provisioning_jobs"]
    )
    assert get_change_request(ctx, OPERATOR, request.id).status is RequestStatus.PROVISIONING
    with ctx.engine.connect() as connection:
        held = connection.execute(
            select(t.provisioning_jobs.c.status, t.provisioning_jobs.c.locked_by).where(
                t.provisioning_jobs.c.id == job.id
            )
        ).one()
        completions = connection.execute(
            select(t.audit_events.c.id).where(
                t.audit_events.c.entity_id == request.id, t.audit_events.c.action == "change_request.completed"
            )
        ).all()
    assert tuple(held) == ("running", "another-worker")
    assert completions == []
    with ctx.uow(write=False) as uow:
        told = [n.subject for n in uow.notifications.search("chef@reseaux.example")]
    assert told == ["Ligne +33655000001 : demande d'évolution confirmée"]
