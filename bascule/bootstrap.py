"""Wiring in one place: settings → engine, catalogue, clock, networks, senders and features → the context.

The use cases see ports only (`bascule/*/ports.py`, `bascule.kernel.ports`); this module picks the adapters:
SQL units of work on the configured database, the operator's networks or their simulators, the notification
senders, and the channels and logins of the optional features.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError

from bascule.catalog.live import LiveCatalog
from bascule.catalog.loader import load_document, parse_document
from bascule.catalog.overrides import Override
from bascule.context import Context
from bascule.kernel.clock import Clock, SettableClock, SystemClock
from bascule.notifications import deliver_pending, sender_from_settings
from bascule.persistence.context import SqlContext, SqlUnits
from bascule.persistence.engine import make_engine, make_read_engine
from bascule.provisioning.model import CHARGING_SYSTEM
from bascule.provisioning.network import HttpOperatorAdapter, NetworkAdapter, Networks
from bascule.provisioning.simulator import SIMULATED_NETWORKS, SimulatedOperator
from bascule.provisioning.worker import Provisioner, WorkerConfig
from bascule.settings import Settings

MIGRATIONS = Path(__file__).parent / "persistence" / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_schema(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def build_context(settings: Settings, clock: Clock | None = None) -> SqlContext:
    if clock is None:
        clock = SettableClock() if settings.test_clock else SystemClock()
    units = SqlUnits(
        make_engine(settings.database_url, sql_counters=settings.sql_counters),
        reads=make_read_engine(settings.database_url, sql_counters=settings.sql_counters),
    )
    ctx = SqlContext(
        units=units,
        catalogs=live_catalog(settings, units),
        clock=clock,
        token_ttl_hours=settings.token_ttl_hours,
    )
    install_features(ctx)
    ctx.provisioner = build_provisioner(ctx, settings)
    sender = sender_from_settings(settings)
    ctx.deliver_notifications = lambda: deliver_pending(ctx, sender)
    return ctx


def live_catalog(settings: Settings, units: SqlUnits) -> LiveCatalog:
    """The catalogue file with the supervisors' overrides, read now if the schema has them, and then again
    whenever their stamp moves (looked at once per `catalog_refresh_seconds`)."""
    document, origin = load_document(settings.catalog)
    live = LiveCatalog(parse_document(document, origin), document, ttl_seconds=settings.catalog_refresh_seconds)
    live.reader = overrides_reader(units)
    live.refresh(force=True)
    return live


def overrides_reader(units: SqlUnits) -> Callable[[int | None], tuple[int, list[Override]] | None]:
    def read(seen: int | None) -> tuple[int, list[Override]] | None:
        try:
            with units(write=False) as uow:
                version = uow.catalog_overrides.version()
                return None if version == seen else (version, uow.catalog_overrides.all())
        except SQLAlchemyError:  # a schema before 0013 (`bascule db upgrade` not run yet): the file alone
            return None

    return read


# --- features: extra channels, logins and demo data ------------------------------------------------------


def install_features(ctx: Context) -> None:
    """Register every optional feature on the context (called by bootstrap and by tests)."""
    _install_billing(ctx)
    _install_prepaid(ctx)
    _add_channel(ctx, "bascule.channels.ussd.routes")
    _add_channel(ctx, "bascule.channels.portal")
    _add_channel(ctx, "bascule.channels.rest.instrumentation")  # request logs, metrics, headers, login throttling
    _install_provisioning(ctx)
    _add_channel(ctx, "bascule.channels.tmf")


def _install_billing(ctx: Context) -> None:
    """The lines' use cases open the cycles a turned month is missing through billing (`CycleOpener`)."""
    from bascule.billing.cycles import OPENER
    from bascule.evolutions.ports import CYCLE_OPENER

    ctx.kept.setdefault(CYCLE_OPENER, lambda: OPENER)


def _install_provisioning(ctx: Context) -> None:
    """Who hears of a provisioning job's end: the feature that owns its subject."""
    from bascule.evolutions import provisioning as line_a
    from bascule.prepaid import provisioning as line_b

    ctx.job_hooks.outcomes["service"] = (line_a.on_job_succeeded, line_a.on_job_failed)
    ctx.job_hooks.wanted["service"] = line_a.job_wanted
    ctx.job_hooks.all_held_done["service"] = line_a.complete_held
    ctx.job_hooks.outcomes["subscriber"] = (line_b.on_job_succeeded, line_b.on_job_failed)
    ctx.job_hooks.retry_wanted.update(service=line_a.retry_wanted, subscriber=line_b.retry_wanted)
    _add_channel(ctx, "bascule.channels.rest.routes.simulated_networks")


def _install_prepaid(ctx: Context) -> None:
    """Line B: its REST routes, subscriber tokens, one-time-code login and demo subscribers."""
    from bascule.demo import line_b
    from bascule.prepaid.usecases import login_subscriber, resolve_subscriber

    _add_channel(ctx, "bascule.channels.rest.routes.prepaid")
    if line_b.load not in ctx.features.demo_loaders:
        ctx.features.demo_loaders.append(line_b.load)
    ctx.features.principal_resolvers["subscriber"] = resolve_subscriber
    ctx.features.subscriber_login = login_subscriber


def _add_channel(ctx: Context, module: str) -> None:
    """A channel module's `install(app, settings, ctx)`, registered once even if called twice."""
    installer = import_module(module).install
    if installer not in ctx.features.channel_installers:
        ctx.features.channel_installers.append(installer)


# --- provisioning: the networks and the worker ------------------------------------------------------------


def network_names(ctx: Context) -> list[str]:
    return [network.id for network in ctx.catalog.networks] + [CHARGING_SYSTEM]


def build_provisioner(ctx: Context, settings: Settings) -> Provisioner:
    names = network_names(ctx)
    adapters: dict[str, NetworkAdapter]
    if settings.network_url:
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        adapters = {name: HttpOperatorAdapter(settings.network_url, name, token=token) for name in names}
    else:
        simulators = ctx.kept.setdefault(SIMULATED_NETWORKS, lambda: {name: SimulatedOperator(name) for name in names})
        faults = json.loads(settings.network_faults) if settings.network_faults else {}
        for name, changes in faults.items():
            simulators[name].configure(**changes)
        adapters = dict(simulators)
    config = WorkerConfig(
        lease=timedelta(seconds=settings.provisioning_lease_seconds),
        backoff_base=timedelta(seconds=settings.provisioning_backoff_seconds),
        backoff_cap=timedelta(seconds=settings.provisioning_backoff_cap_seconds),
        inline_seconds=settings.provisioning_inline_seconds,
    )
    ctx.provisioning_max_attempts = settings.provisioning_max_attempts
    return Provisioner(ctx, Networks(adapters), config)
