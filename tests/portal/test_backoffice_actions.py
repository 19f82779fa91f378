"""Back-office actions over HTTP: each through the customer's own use case, with the agent named in the trail;
refusals in French that leave every table as it was; supervisors' actions closed to agents."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bascule.identity.model import StaffRole
from bascule.persistence import tables
from bascule.provisioning.model import CHARGING_SYSTEM, JobSpec, Operation
from tests.portal.helpers import GIB, browser, bundle_plan, make_business, submit, text_of
from tests.portal.staff_helpers import AGENT, SUPERVISOR, login_staff, make_staff
from tests.portal.test_espace import MSISDN, make_subscriber
from tests.rows import row_counts


def _rows(ctx, table, *where):
    with ctx.engine.connect() as connection:
        return connection.execute(select(table).where(*where)).all()


def _audit(ctx, action):
    return _rows(ctx, tables.audit_events, tables.audit_events.c.action == action)


def test_an_agent_creates_an_account_a_user_and_a_line_and_the_trail_names_them(ctx, http, server_url):
    agent = make_staff(ctx, AGENT, StaffRole.AGENT)
    plan = bundle_plan(http, 10 * GIB, "4G")
    with browser(server_url) as client:
        login_staff(client, AGENT)
        created = submit(client, "/back-office/", "/back-office/comptes", {"name": " Fleurs du Midi ", "timezone": ""})
        assert created.status_code == 303
        [account] = _rows(ctx, tables.accounts)
        assert (account.name, account.timezone, account.currency) == ("Fleurs du Midi", "Europe/Paris", "EUR")
        page = f"/back-office/comptes/{account.id}"
        assert created.headers["location"] == page
        assert "Compte « Fleurs du Midi » créé." in text_of(client.get(page))
        added = submit(
            client,
            page,
            f"{page}/utilisateurs",
            {"email": "Chef@Fleurs.fr", "password": "gestion-secret", "role": "manager"},
        )
        assert added.status_code == 303
        line = submit(
            client,
            page,
            f"{page}/services",
            {"msisdn": "+33611223344", "plan_id": plan, "network": "orange", "apn": "internet.pro", "activated_on": ""},
        )
        assert line.status_code == 303
        assert "Ligne +33611223344 créée." in text_of(client.get(line.headers["location"]))
    [user] = _rows(ctx, tables.users)
    assert (user.email, user.role, user.account_id) == ("chef@fleurs.fr", "manager", account.id)
    assert user.password_hash.startswith("$argon2id$")
    [service] = _rows(ctx, tables.services)
    assert (service.msisdn, service.plan_id, service.network, service.apn, service.account_id) == (
        "+33611223344",
        plan,
        "orange",
        "internet.pro",
        account.id,
    )
    assert line.headers["location"] == f"/back-office/services/{service.id}"
    for action in ("account.created", "user.created", "service.created"):
        [event] = _audit(ctx, action)
        assert (
            event.actor_kind,
            event.actor_id,
            event.actor_name,
            event.channel,
            event.customer_kind,
            event.customer_id,
        ) == ("staff", agent.id, "Awa Koné", "backoffice", "account", account.id)


def test_refused_creations_show_the_domains_french_message_and_change_nothing(ctx, http, server_url):
    make_staff(ctx, AGENT, StaffRole.AGENT)
    business = make_business(http)
    page = f"/back-office/comptes/{business.account_id}"
    with browser(server_url) as client:
        login_staff(client, AGENT)
        before = row_counts(ctx)
        taken = submit(
            client,
            page,
            f"{page}/utilisateurs",
            {"email": business.manager[0], "password": "encore-secret", "role": "viewer"},
        )
        assert taken.status_code == 409
        assert "Cette adresse e-mail est déjà utilisée." in text_of(taken)
        bad_number = submit(
            client,
            page,
            f"{page}/services",
            {
                "msisdn": "0611223344",
                "plan_id": bundle_plan(http, 10 * GIB, "4G"),
                "network": "orange",
                "apn": "internet.pro",
            },
        )
        assert bad_number.status_code == 422
        assert "Le MSISDN doit être au format E.164 (+33612345678)." in text_of(bad_number)
        service = f"/back-office/services/{business.service_id}"
        unchanged = submit(
            client,
            service,
            f"{service}/demandes",
            {"plan_id": bundle_plan(http, 10 * GIB, "4G"), "network": "orange", "apn": "internet.pro"},
        )
        assert unchanged.status_code == 422
        assert "La demande ne change rien au service." in text_of(unchanged)
        nameless = submit(client, "/back-office/", "/back-office/comptes", {"name": "  "})
        assert nameless.status_code == 422
        assert "Le nom du compte est obligatoire." in text_of(nameless)
        assert row_counts(ctx) == before


def test_an_agent_changes_a_line_for_the_customer_cancels_another_request_and_the_limit_holds(ctx, http, server_url):
    agent = make_staff(ctx, AGENT, StaffRole.AGENT)
    business = make_business(http, name="Livraisons Rapides")
    service = f"/back-office/services/{business.service_id}"
    current = {"plan_id": bundle_plan(http, 10 * GIB, "4G"), "network": "orange", "apn": "internet.pro"}
    with browser(server_url) as client:
        login_staff(client, AGENT)
        first = submit(client, service, f"{service}/demandes", {**current, "apn": "m2m.entreprise"})
        assert first.status_code == 303
        first_page = first.headers["location"]
        first_id = first_page.rsplit("/", 1)[1]
        cancelled = submit(client, first_page, f"{first_page}/annuler", {})
        assert cancelled.status_code == 303
        assert "La demande a été annulée : rien n'a été modifié ni facturé." in text_of(client.get(first_page))
        second = submit(client, service, f"{service}/demandes", {**current, "network": "sfr"})
        second_page = second.headers["location"]
        quote = text_of(client.get(second_page))
        assert "Changement d'opérateur support (Orange → SFR) 10,00 €" in quote
        confirmed = submit(client, second_page, f"{second_page}/confirmer", {})
        assert confirmed.status_code == 303
        assert "Statut Effectuée" in text_of(client.get(second_page))
        before = row_counts(ctx)
        third = submit(
            client, service, f"{service}/demandes", {**current, "network": "orange", "apn": "m2m.entreprise"}
        )
        assert third.status_code == 409
        assert (
            "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
        ) in text_of(third)
        assert row_counts(ctx) == before
    second_id = second_page.rsplit("/", 1)[1]
    requests = {row.id: row for row in _rows(ctx, tables.change_requests)}
    assert {key: (row.status, row.channel, row.actor_kind, row.actor_id) for key, row in requests.items()} == {
        first_id: ("cancelled", "backoffice", "staff", agent.id),
        second_id: ("completed", "backoffice", "staff", agent.id),
    }
    [fee] = _rows(ctx, tables.charges, tables.charges.c.change_request_id == second_id)
    assert (fee.kind, fee.amount, fee.currency) == ("fee", Decimal("10.00"), "EUR")
    [line] = _rows(ctx, tables.services)
    assert (line.network, line.apn) == ("sfr", "internet.pro")
    cancelled_event = _audit(ctx, "change_request.cancelled")[0]
    assert (cancelled_event.actor_name, cancelled_event.customer_id) == ("Awa Koné", business.account_id)


def test_an_agent_serves_a_prepaid_line_with_the_customers_rules(ctx, http, server_url):
    agent = make_staff(ctx, AGENT, StaffRole.AGENT)
    make_subscriber(http)  # Novamix, 3 000 F CFA consumed in May
    page = f"/back-office/abonnes/{MSISDN}"
    with browser(server_url) as client:
        login_staff(client, AGENT)
        before = row_counts(ctx)
        refused = submit(client, page, f"{page}/profil", {"profile_id": "aigle"})
        assert refused.status_code == 422
        assert "Il faut avoir consommé au moins 8 000 F CFA le mois passé (vous : 3 000 F CFA)." in text_of(refused)
        assert row_counts(ctx) == before
        moved = submit(client, page, f"{page}/profil", {"profile_id": "tigre"})
        assert moved.status_code == 303
        assert "Profil changé pour le client : Tigre." in text_of(client.get(page))
        topped = submit(client, page, f"{page}/recharges", {"amount": "5 000"})
        assert topped.status_code == 303
        told = text_of(client.get(page))
        assert "Recharge de 5 000 F CFA enregistrée ; solde : 12 000 F CFA." in told
        sent = submit(client, page, f"{page}/code", {})
        assert sent.status_code == 303
        notes = len(_rows(ctx, tables.notifications))
        again = submit(client, page, f"{page}/code", {})
        assert again.status_code == 429
        assert "Un code vient d'être envoyé. Réessayez dans une minute." in text_of(again)
        assert len(_rows(ctx, tables.notifications)) == notes
    [subscriber] = _rows(ctx, tables.prepaid_subscribers)
    assert (subscriber.profile_id, subscriber.balance_minor) == ("tigre", 12000)
    [migration] = _rows(ctx, tables.prepaid_migrations)
    assert (migration.from_profile_id, migration.to_profile_id, migration.channel, migration.actor_id) == (
        "novamix",
        "tigre",
        "backoffice",
        agent.id,
    )
    [otp_event] = _audit(ctx, "otp.requested")
    assert (otp_event.actor_kind, otp_event.actor_name, otp_event.customer_id) == ("staff", "Awa Koné", MSISDN)


def _failed_profile_job(ctx, msisdn, profile_id):
    from datetime import UTC, datetime

    now = datetime(2026, 6, 16, 7, 0, tzinfo=UTC)
    with ctx.uow() as uow:
        [job] = uow.jobs.add(
            [JobSpec(CHARGING_SYSTEM, Operation.SET_PROFILE, {"msisdn": msisdn, "profile_id": profile_id})],
            subject=("subscriber", msisdn),
            change_request_id=None,
            max_attempts=6,
            now=now,
        )
        uow.connection.execute(
            tables.provisioning_jobs.update()
            .where(tables.provisioning_jobs.c.id == job.id)
            .values(status="failed", attempts=6, finished_at=now, last_error="refusé")
        )
        uow.commit()
    return job.id


def test_a_supervisor_retries_a_failed_job_and_an_agent_may_not(ctx, http, server_url):
    make_staff(ctx, AGENT, StaffRole.AGENT)
    supervisor = make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    make_subscriber(http)
    wanted = _failed_profile_job(ctx, MSISDN, "novamix")
    stale = _failed_profile_job(ctx, MSISDN, "tigre")  # the line is Novamix: that one is no longer wanted
    with browser(server_url) as client:
        login_staff(client, AGENT)
        before = row_counts(ctx)
        assert client.get("/back-office/travaux").status_code == 403
        refused = submit(client, "/back-office/", f"/back-office/travaux/{wanted}/relancer", {})
        assert refused.status_code == 403
        assert "Réservé aux superviseurs." in text_of(refused)
        assert row_counts(ctx) == before
    with browser(server_url) as client:
        login_staff(client, SUPERVISOR)
        listed = text_of(client.get("/back-office/travaux"))
        assert f"Ligne {MSISDN} refusé Relancer" in listed
        not_wanted = submit(client, "/back-office/travaux", f"/back-office/travaux/{stale}/relancer", {})
        assert not_wanted.status_code == 409
        assert "La ligne a changé de profil depuis : ce travail n'est plus à faire." in text_of(not_wanted)
        done = submit(client, "/back-office/travaux", f"/back-office/travaux/{wanted}/relancer", {})
        assert done.status_code == 303
        again = submit(client, "/back-office/travaux", f"/back-office/travaux/{wanted}/relancer", {})
        assert again.status_code == 409
        assert "Ce travail n'est pas en échec : il n'y a rien à relancer." in text_of(again)
    jobs = {row.id: row for row in _rows(ctx, tables.provisioning_jobs)}
    assert (jobs[stale].status, jobs[stale].attempts) == ("failed", 6)
    assert jobs[wanted].status in ("pending", "running", "succeeded")  # the in-process worker may take it at once
    [retried] = _audit(ctx, "job.retried")
    assert (retried.actor_id, retried.actor_name, retried.customer_id, retried.after) == (
        supervisor.id,
        "Marc Dupont",
        MSISDN,
        {"job_id": wanted, "operation": "set_profile", "network": "charging"},
    )
