"""Back-office staff: their own logins (throttled as a customer's are), their roles, their names in the trail."""

from __future__ import annotations

from sqlalchemy import func, select

from bascule.identity.model import StaffRole
from bascule.persistence import tables
from tests.portal.helpers import browser, submit, text_of
from tests.portal.staff_helpers import AGENT, SUPERVISOR, login_staff, make_staff


def _audit_rows(ctx, action):
    with ctx.engine.connect() as connection:
        return connection.execute(
            select(tables.audit_events).where(tables.audit_events.c.action == action).order_by(tables.audit_events.c.id)
        ).all()


def _staff_count(ctx):
    with ctx.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(tables.staff)).scalar_one()


def test_an_agent_logs_in_with_their_own_password_and_the_page_names_them(ctx, server_url):
    agent = make_staff(ctx, AGENT, StaffRole.AGENT)
    with browser(server_url) as client:
        done = login_staff(client, AGENT)
        assert done.status_code == 303
        assert done.headers["location"] == "/back-office/"
        home = text_of(client.get("/back-office/"))
        assert "Awa Koné (agent)" in home
    [logged] = _audit_rows(ctx, "staff.logged_in")
    assert (logged.actor_kind, logged.actor_id, logged.actor_name, logged.channel) == (
        "staff",
        agent.id,
        "Awa Koné",
        "backoffice",
    )
    with ctx.engine.connect() as connection:
        stored = connection.execute(select(tables.staff.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")


def test_wrong_staff_passwords_are_throttled_as_a_customers_are(ctx, server_url, clock):
    make_staff(ctx, AGENT, StaffRole.AGENT)
    with browser(server_url) as client:
        for _ in range(5):
            refused = login_staff(client, (AGENT[0], "mauvais-secret", AGENT[2]))
            assert refused.status_code == 401
            assert "Identifiant ou mot de passe incorrect." in text_of(refused)
        blocked = login_staff(client, AGENT)
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion infructueuses. Réessayez dans 15 minutes." in text_of(blocked)
        clock.advance(minutes=15, seconds=1)
        assert login_staff(client, AGENT).status_code == 303
    assert _audit_rows(ctx, "staff.logged_in")[0].actor_name == "Awa Koné"


def test_an_agent_gets_a_403_page_on_supervisor_actions_and_nothing_changes(ctx, server_url):
    make_staff(ctx, AGENT, StaffRole.AGENT)
    with browser(server_url) as client:
        login_staff(client, AGENT)
        page = client.get("/back-office/equipe")
        assert page.status_code == 403
        assert "Réservé aux superviseurs." in text_of(page)
        refused = submit(
            client,
            "/back-office/",
            "/back-office/equipe",
            {"email": "nouveau@operateur.test", "name": "Nouveau", "password": "un-secret-long", "role": "supervisor"},
        )
        assert refused.status_code == 403
        assert "Réservé aux superviseurs." in text_of(refused)
    assert _staff_count(ctx) == 1


def test_a_supervisor_opens_an_agents_login_and_the_agent_logs_in(ctx, server_url):
    supervisor = make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    with browser(server_url) as client:
        login_staff(client, SUPERVISOR)
        done = submit(
            client,
            "/back-office/equipe",
            "/back-office/equipe",
            {"email": " Awa.Kone@Operateur.test ", "name": " Awa Koné ", "password": AGENT[1], "role": "agent"},
        )
        assert done.status_code == 303
        team = text_of(client.get("/back-office/equipe"))
        assert "Accès créé pour Awa Koné (awa.kone@operateur.test)." in team
        assert "Awa Koné awa.kone@operateur.test Agent" in team
        taken = submit(
            client,
            "/back-office/equipe",
            "/back-office/equipe",
            {"email": AGENT[0], "name": "Autre", "password": "encore-un-secret", "role": "agent"},
        )
        assert taken.status_code == 409
        assert "Cette adresse e-mail est déjà utilisée." in text_of(taken)
        short = submit(
            client,
            "/back-office/equipe",
            "/back-office/equipe",
            {"email": "court@operateur.test", "name": "Court", "password": "court", "role": "agent"},
        )
        assert short.status_code == 422
        assert "Le mot de passe doit faire au moins 8 caractères." in text_of(short)
    assert _staff_count(ctx) == 2
    [by_machine, created] = _audit_rows(ctx, "staff.created")
    assert (by_machine.actor_kind, by_machine.actor_id, by_machine.actor_name) == ("operator", "operator", None)
    assert (created.actor_id, created.actor_name, created.after) == (
        supervisor.id,
        "Marc Dupont",
        {"email": AGENT[0], "name": "Awa Koné", "role": "agent"},
    )
    with browser(server_url) as client:
        assert login_staff(client, AGENT).status_code == 303
