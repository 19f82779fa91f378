"""`bascule staff create`: a back-office login from the command line, its password from the environment or
the prompt, refusals in French with nothing stored."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from bascule.channels.cli import app
from bascule.identity.passwords import verify_password
from bascule.persistence import tables


def _staff(ctx):
    with ctx.engine.connect() as connection:
        return connection.execute(select(tables.staff).order_by(tables.staff.c.email)).all()


def test_staff_create_takes_the_password_from_the_environment(ctx, settings):
    result = CliRunner().invoke(
        app,
        ["staff", "create", "--email", "Awa.Kone@Operateur.test", "--name", "Awa Koné", "--role", "agent"],
        env={"BASCULE_DATABASE_URL": settings.database_url, "BASCULE_STAFF_PASSWORD": "agent-secret"},
    )
    assert result.exit_code == 0, result.output
    [member] = _staff(ctx)
    assert (member.email, member.name, member.role) == ("awa.kone@operateur.test", "Awa Koné", "agent")
    assert result.output == f"Awa Koné (awa.kone@operateur.test) : agent, identifiant {member.id}.\n"
    assert member.password_hash.startswith("$argon2id$")
    assert verify_password(member.password_hash, "agent-secret")


def test_staff_create_asks_for_the_password_twice(ctx, settings):
    result = CliRunner().invoke(
        app,
        ["staff", "create", "--email", "marc@operateur.test", "--name", "Marc Dupont", "--role", "supervisor"],
        input="super-secret\nsuper-secret\n",
        env={"BASCULE_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 0, result.output
    [member] = _staff(ctx)
    assert member.role == "supervisor"
    assert verify_password(member.password_hash, "super-secret")


def test_staff_create_refuses_a_taken_email_a_short_password_and_an_unknown_role(ctx, settings):
    env = {"BASCULE_DATABASE_URL": settings.database_url, "BASCULE_STAFF_PASSWORD": "agent-secret"}
    runner = CliRunner()
    args = ["staff", "create", "--email", "awa@operateur.test", "--name", "Awa", "--role", "agent"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    again = runner.invoke(app, [*args[:5], "Autre", *args[6:]], env=env)
    assert again.exit_code == 1
    assert "Cette adresse e-mail est déjà utilisée." in again.output
    short = runner.invoke(
        app,
        ["staff", "create", "--email", "b@operateur.test", "--name", "B", "--role", "agent"],
        env={**env, "BASCULE_STAFF_PASSWORD": "court"},
    )
    assert short.exit_code == 1
    assert "Le mot de passe doit faire au moins 8 caractères." in short.output
    unknown = runner.invoke(
        app, ["staff", "create", "--email", "c@operateur.test", "--name", "C", "--role", "chef"], env=env
    )
    assert unknown.exit_code == 2
    assert [member.email for member in _staff(ctx)] == ["awa@operateur.test"]


def test_the_demo_creates_an_agent_and_a_supervisor_and_prints_their_logins(ctx):
    from bascule.channels.cli import load_demo

    lines = load_demo(ctx)
    assert "  Back-office — agent (Awa Koné)        : agent@demo.bascule.test / demo-agent" in lines
    assert "  Back-office — superviseur (Marc Dupont) : superviseur@demo.bascule.test / demo-supervision" in lines
    assert "  code à usage unique s'affiche sur la page « SMS envoyés », /espace-client/sms) :" in lines
    assert not [line for line in lines if "/api/v1/admin/notifications" in line]
    assert [(m.email, m.role) for m in _staff(ctx)] == [
        ("agent@demo.bascule.test", "agent"),
        ("superviseur@demo.bascule.test", "supervisor"),
    ]
