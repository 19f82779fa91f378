"""Typed settings, read once from the environment (and `.env`), then injected."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BASCULE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./bascule.db"
    admin_token: SecretStr | None = None
    test_clock: bool = False
    catalog: Path | None = None
    ussd_token: SecretStr | None = None
    redis_url: str | None = None
    token_ttl_hours: int = 12
    catalog_refresh_seconds: float = 1.0  # how often a process looks at the catalogue overrides' stamp
    log_level: str = "INFO"
    portal_secret: SecretStr | None = None  # signs portal session cookies; random per process when unset
    # Notifications (bascule.notifications): `log`, `smtp`, `sms-http`, or several joined by commas;
    # each message goes to the first of them that carries its channel (smtp: e-mail, sms-http: SMS, log: both).
    notify: str = "log"
    smtp_url: str = "smtp://127.0.0.1:25"  # smtp://[user:password@]host:port[?starttls=1], or smtps://
    smtp_from: str = "Bascule <no-reply@bascule.invalid>"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    notify_max_attempts: int = 5
    notify_retry_seconds: int = 30  # first retry delay; doubles each attempt (with jitter), up to an hour
    # Login throttling (in-process, or Redis when redis_url is set): per e-mail for the API, per identifier
    # and address for the portal, with a looser cap per address there
    login_max_failures: int = 5
    login_max_failures_per_address: int = 30
    login_window_minutes: int = 15
    login_lockout_minutes: int = 15
    # Provisioning towards the networks. Without a URL, simulated operators run inside the process
    # (and are served at /simulated-networks for fault injection); with one, adapters call it over HTTP.
    network_url: str | None = None
    network_faults: str | None = None  # JSON: network id → faults, e.g. {"<id>": {"transient_errors": 2}}
    provisioning_max_attempts: int = 6
    provisioning_backoff_seconds: float = 2.0
    provisioning_backoff_cap_seconds: float = 600.0
    provisioning_lease_seconds: float = 60.0
    provisioning_inline_seconds: float = 3.0  # how long a confirmation waits for the networks before answering
    worker_in_process: bool = True  # `bascule serve` runs a worker thread (the embedded default)
    # The HTTP server: threads per process for the synchronous use cases (anyio's default is 40; fewer
    # threads fight less over the GIL, but each confirmation may hold one while it waits for the networks).
    threads: int = 40
    # Set by `bascule serve --demo` (and given to the processes of `--workers N`): the portal shows the demo
    # logins, and USSD and its simulator are open without BASCULE_USSD_TOKEN (bascule.channels.ussd_access).
    demo: bool = False
    # The benchmark's: a directory where each process counts the SQL it sends (bascule.persistence.sqlcount).
    sql_counters: Path | None = None
