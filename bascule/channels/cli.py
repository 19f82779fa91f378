"""The `bascule` command line: serve, catalogue check, database migrations."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from alembic import command as alembic_command
from sqlalchemy import func, select

from bascule.bootstrap import alembic_config, build_context, upgrade_schema
from bascule.catalog.loader import CatalogError, load
from bascule.context import Context
from bascule.persistence import tables
from bascule.settings import Settings

app = typer.Typer(help="Bascule: self-service and order management for mobile operators.", no_args_is_help=True)
catalog_app = typer.Typer(help="The catalogue file.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
staff_app = typer.Typer(help="The operator's staff: agents and supervisors of the back office.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")


def _is_empty(ctx: Context) -> bool:
    with ctx.uow(write=False) as uow:
        return not uow.connection.execute(select(func.count()).select_from(tables.accounts)).scalar()


def load_demo(ctx: Context) -> list[str]:
    from bascule.demo import line_a, staff

    lines = line_a.load(ctx)
    lines.extend(staff.load(ctx))
    for loader in ctx.features.demo_loaders:
        lines.extend(loader(ctx))
    return lines


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Load the demo data set into an empty database; USSD and its "
            "simulator are then open without BASCULE_USSD_TOKEN.",
        ),
    ] = False,
    http: Annotated[
        str,
        typer.Option(
            help="HTTP implementation: auto or httptools (each answer in one socket write), or h11 (keeps header "
            "names as the app spells them)."
        ),
    ] = "auto",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port (one per core; several "
            "want BASCULE_REDIS_URL for the login throttle).",
        ),
    ] = 1,
) -> None:
    """Start the API (and the other channels), upgrading the schema first."""
    import uvicorn

    from bascule.channels import server
    from bascule.channels.http_protocol import http_protocol

    try:
        protocol = http_protocol(http)
    except ValueError as unknown:
        raise typer.BadParameter(str(unknown), param_hint="--http") from None
    settings = Settings()
    _refuse_an_unreadable_redis_url(settings)
    if demo:
        settings = _demo_settings(settings)
    server.announce_ussd_access(settings)
    upgrade_schema(settings.database_url)
    ctx = build_context(settings)
    if demo:
        _announce_demo(ctx, settings, host, port)
    # No uvicorn access log: each request has one JSON line of ours, with its route template and never the
    # query string (the USSD gateway may pass its token there).
    if workers > 1:
        ctx.dispose()
        server.share_with_processes(settings)
        uvicorn.run(
            server.FACTORY,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            http=protocol,
        )
        return
    stop = server.start_worker(ctx) if settings.worker_in_process else None
    try:
        uvicorn.run(
            server.build_app(settings, ctx), host=host, port=port, log_level="info", access_log=False, http=protocol
        )
    finally:
        if stop is not None:
            stop.set()


def _refuse_an_unreadable_redis_url(settings: Settings) -> None:
    """Before anything starts: each process of `--workers N` would otherwise fail on it, and be started again."""
    from bascule.channels.ussd.redis_link import RedisAddress

    if settings.redis_url:
        try:
            RedisAddress.from_url(settings.redis_url)
        except ValueError as unreadable:
            raise typer.BadParameter(str(unreadable), param_hint="BASCULE_REDIS_URL") from None


def _demo_settings(settings: Settings) -> Settings:
    """The demo: flagged as such, with an operator token made up when none is set."""
    from pydantic import SecretStr

    changes: dict[str, object] = {"demo": True}
    if settings.admin_token is None:
        changes["admin_token"] = SecretStr(secrets.token_urlsafe(18))
    return settings.model_copy(update=changes)


def _announce_demo(ctx: Context, settings: Settings, host: str, port: int) -> None:
    if _is_empty(ctx):
        lines = load_demo(ctx)
        typer.echo("Données de démonstration chargées :")
    else:
        lines = ["  (base déjà remplie : données de démonstration inchangées)"]
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    typer.echo("\n".join(lines))
    typer.echo(f"  Jeton opérateur (Authorization: Bearer …) : {token}")
    typer.echo(f"  API : http://{host}:{port}/docs")
    typer.echo(f"  Portail web : http://{host}:{port}/")


@app.command()
def worker() -> None:
    """Run provisioning jobs and send notifications until stopped (several may run at once)."""
    from bascule.channels.stopping import run_until_signalled
    from bascule.observability import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    upgrade_schema(settings.database_url)
    ctx = build_context(settings)
    provisioner = ctx.provisioner
    if provisioner is None:
        raise RuntimeError("no provisioning worker is wired")
    typer.echo(f"worker {provisioner.worker_id} started", err=True)
    deliver = ctx.deliver_notifications

    def round_of_work() -> None:
        ctx.catalogs.refresh()  # the catalogue in force, as in the server processes
        if deliver is not None:
            deliver()

    run_until_signalled(lambda stop: provisioner.run_forever(stop, also=round_of_work))


@app.command("bill-run")
def bill_run_command(
    period: Annotated[str, typer.Option(help="The month to invoice, YYYY-MM.")],
) -> None:
    """Invoice every account for a period that has ended. Re-running it changes nothing."""
    import sys

    from bascule.billing.billrun import bill_run
    from bascule.identity.model import OPERATOR, Channel
    from bascule.kernel.calendar import Period
    from bascule.kernel.errors import DomainError
    from bascule.kernel.messages_fr import message

    settings = Settings()
    upgrade_schema(settings.database_url)
    ctx = build_context(settings)
    try:
        wanted = Period.parse(period)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    with typer.progressbar(length=1, label=f"Facturation {wanted}", file=sys.stderr) as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            result = bill_run(ctx, OPERATOR, Channel.CLI, wanted, progress=advance)
        except DomainError as error:
            typer.echo(message(error), err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"{len(result.created)} factures émises, {result.already_invoiced} déjà émises, "
        f"{result.not_yet_billable} comptes dont la période n'est pas terminée."
    )


usage_app = typer.Typer(help="Usage records from the network.", no_args_is_help=True)
app.add_typer(usage_app, name="usage")


@usage_app.command("import")
def usage_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A .csv or .parquet file.")],
    batch_rows: Annotated[int, typer.Option(min=1000, help="Records per transaction.")] = 200_000,
) -> None:
    """Import usage records (record_id, msisdn, bytes, at); records already received are skipped."""
    import sys

    from bascule.identity.model import OPERATOR, Channel
    from bascule.usage.files import UsageFileError, count_records, read_batches
    from bascule.usage.importer import import_usage

    settings = Settings()
    upgrade_schema(settings.database_url)
    ctx = build_context(settings)
    try:
        total = count_records(path)
        with typer.progressbar(length=total, label=f"Import {path.name}", file=sys.stderr) as bar:
            report = import_usage(ctx, OPERATOR, Channel.CLI, read_batches(path, batch_rows), progress=bar.update)
    except UsageFileError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{report.read} enregistrements lus, {report.new} nouveaux, {report.repeated} déjà reçus, "
        f"{report.unknown_line} sur une ligne inconnue, {len(report.services)} services mis à jour."
    )


@catalog_app.command("check")
def catalog_check(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Validate a catalogue file; exit 1 with every problem listed."""
    try:
        catalog = load(path)
    except CatalogError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{path}: valide — {len(catalog.plans)} offres, {len(catalog.profiles)} profils, "
        f"{len(catalog.topups)} recharges, {len(catalog.extensions)} extensions"
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema of BASCULE_DATABASE_URL."""
    upgrade_schema(Settings().database_url)


@db_app.command("check")
def db_check() -> None:
    """Fail when the tables and the migrations disagree (a migration is missing)."""
    alembic_command.check(alembic_config(Settings().database_url))


class StaffRoleOption(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@staff_app.command("create")
def staff_create(
    email: Annotated[str, typer.Option(help="The login e-mail.")],
    name: Annotated[str, typer.Option(help="The person's name, as the audit trail shows it.")],
    role: Annotated[
        StaffRoleOption,
        typer.Option(
            help="agent: reads and acts on a customer's behalf; supervisor: "
            "also opens staff logins and retries failed jobs."
        ),
    ],
    password: Annotated[
        str,
        typer.Option(
            envvar="BASCULE_STAFF_PASSWORD",
            prompt="Mot de passe",
            hide_input=True,
            confirmation_prompt=True,
            help="Asked at the prompt, or read from BASCULE_STAFF_PASSWORD.",
        ),
    ],
) -> None:
    """Open a back-office login for an agent or a supervisor (argon2id-hashed password)."""
    from bascule.commands.runner import run
    from bascule.identity.model import OPERATOR, Channel, StaffRole
    from bascule.identity.usecases import create_staff
    from bascule.kernel.errors import DomainError
    from bascule.kernel.messages_fr import message

    settings = Settings()
    upgrade_schema(settings.database_url)
    ctx = build_context(settings)
    try:
        member = run(
            ctx, lambda c: create_staff(c, OPERATOR, Channel.CLI, email, name, password, StaffRole(role.value))
        )
    except DomainError as error:
        typer.echo(message(error), err=True)
        raise typer.Exit(1) from None
    finally:
        ctx.dispose()
    typer.echo(
        f"{member.name} ({member.email}) : {'superviseur' if member.role is StaffRole.SUPERVISOR else 'agent'}, "
        f"identifiant {member.id}."
    )


tmf_app = typer.Typer(help="The TM Forum Open API facade.", no_args_is_help=True)
app.add_typer(tmf_app, name="tmf")


@tmf_app.command("fixtures")
def tmf_fixtures() -> None:
    """Load what the TM Forum kits in ../shared/tmf/ctk/ expect to find; running it again changes nothing."""
    from bascule.channels.tmf.fixtures import load as load_tmf_fixtures

    settings = Settings()
    upgrade_schema(settings.database_url)
    lines = load_tmf_fixtures(build_context(settings))
    typer.echo("\n".join(lines) if lines else "Données des kits TM Forum déjà présentes : rien à faire.")


def main() -> None:
    app()
