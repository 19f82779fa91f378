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
    log_level: str = "INFO"
