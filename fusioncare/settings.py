"""The one settings object, read from FUSIONCARE_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, computed_field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration for every entry point: web app, CLI, workers and tests.

    Read once per process through ``get_settings()``; tests build their own
    instance and hand it to ``create_app`` instead of patching the environment.
    """

    model_config = SettingsConfigDict(env_prefix="FUSIONCARE_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and other local state live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file under data_dir.",
    )
    database_read_url: str | None = Field(
        default=None,
        description="Optional read replica: directory search, provider profiles and matching read from it; "
                    "everything that writes, or must read its own writes, stays on database_url.",
    )
    secret_key: str | None = Field(default=None, description="Signs sessions and CSRF tokens. Required in production.")
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line (time, level, logger, message, request id, ...).")
    metrics_token: str | None = Field(
        default=None, description="Bearer token for GET /metrics; required there in production (without it the "
                                  "endpoint is closed), optional elsewhere, where loopback clients need none.")
    knowledge_pack_dir: Path | None = Field(
        default=None,
        description="Folder of the knowledge pack to load; default is the built-in sciatica-after-fusion pack.")
    max_request_bytes: int = Field(default=1_000_000, ge=1024, description="Largest request body accepted.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Addresses (or CIDR networks) of the reverse proxies whose "
                                          "X-Forwarded-For and X-Forwarded-Proto are believed; comma-separated.")

    # Accounts and notifications (docs/security.md).
    session_ttl_hours: int = Field(default=336, ge=1, le=24 * 90, description="Browser session lifetime.")
    bearer_token_ttl_minutes: int = Field(default=1440, ge=5, le=60 * 24 * 30, description="API token lifetime.")
    reset_token_ttl_minutes: int = Field(default=30, ge=5, le=24 * 60, description="Password reset link lifetime.")
    notifier: Literal["console", "smtp"] = Field(
        default="console", description="How e-mails go out: logged to the console (development) or sent by SMTP.")
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "FusionCare <no-reply@fusioncare.invalid>"
    outbox_worker: Literal["in-process", "off"] = Field(
        default="in-process", description="in-process: every app process also sends due appointment e-mails "
                                          "(safe with several); off: leave it to `fusioncare worker`.")
    outbox_poll_seconds: float = Field(default=5.0, ge=0.05, le=3600,
                                       description="How often the outbox worker looks for due e-mails.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'fusioncare.sqlite3').as_posix()}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_database_read_url(self) -> str | None:
        return normalise_database_url(self.database_read_url) if self.database_read_url else None

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def normalise_database_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form operators usually have and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
