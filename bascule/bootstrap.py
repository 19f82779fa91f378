"""Wiring in one place: settings → engine, catalogue, clock → the use-case context."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bascule.catalog.loader import load
from bascule.kernel.clock import Clock, SettableClock, SystemClock
from bascule.notifications import deliver_pending, sender_from_settings
from bascule.persistence.context import SqlContext, SqlUnits
from bascule.persistence.engine import make_engine
from bascule.plugins import install_features
from bascule.provisioning.wiring import build_provisioner
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
    ctx = SqlContext(
        units=SqlUnits(make_engine(settings.database_url, sql_counters=settings.sql_counters)),
        catalog=load(settings.catalog),
        clock=clock,
        token_ttl_hours=settings.token_ttl_hours,
    )
    install_features(ctx)
    ctx.extras["provisioner"] = build_provisioner(ctx, settings)
    sender = sender_from_settings(settings)
    ctx.extras["deliver_notifications"] = lambda: deliver_pending(ctx, sender)
    return ctx
