"""Settings from PERSONAE_* environment variables; built only in the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment may choose. Secrets are never settings: they live in the keystore."""

    model_config = SettingsConfigDict(env_prefix="PERSONAE_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Keystore and SQLite live here.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file personae.db in data_dir."
    )
    catalog_path: Path | None = Field(
        default=None, description="A deployment's own attribute catalog (TOML)."
    )
    trust_list_path: Path | None = Field(
        default=None, description="JSON list of trusted evidence issuers and their public JWKs."
    )
    issuer_url: str = Field(default="http://127.0.0.1:8000", description="Public base URL.")
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=30 * 24 * 3600)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=4, ge=1, le=64)
    log_level: str = Field(default="INFO")
    pass_alg: Literal["ES256", "EdDSA"] = Field(
        default="ES256", description="Signature algorithm of world passes and status lists."
    )
    pass_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60, le=366 * 24 * 3600)
    pass_key_publish_ahead_seconds: int = Field(
        default=2 * 3600,
        ge=0,
        le=30 * 24 * 3600,
        description=(
            "How long a rotated-in pass key is published before it signs, so that offline "
            "doors (which look the keys up hourly by default) know it first."
        ),
    )
    status_list_ttl_seconds: int = Field(
        default=60, ge=1, le=3600, description="How long a world may cache a status list."
    )
    door_nonce_ttl_seconds: int = Field(default=300, ge=10, le=3600)
    strike_suspension_weight: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="Active strike weight at which a suspension is suggested.",
    )
    strike_escalation_weight: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="Active strike weight at which escalation is suggested.",
    )
    reporter_warn_after: int = Field(
        default=3, ge=1, le=1000, description="Manifestly unfounded reports before a warning."
    )
    reporter_deprioritise_after: int = Field(
        default=5, ge=1, le=1000, description="Unfounded reports before reports are deprioritised."
    )
    reporter_deprioritise_days: int = Field(default=30, ge=1, le=3650)
    # -- retention (days each record class is kept; see domain/retention.py) --------
    retention_sessions_days: int = Field(default=30, ge=0, description="from creation")
    retention_door_nonces_days: int = Field(default=1, ge=0, description="from expiry")
    retention_disclosures_days: int = Field(default=365, ge=0, description="disclosure log")
    retention_notices_days: int = Field(default=730, ge=0, description="from delivery")
    retention_passes_days: int = Field(default=30, ge=0, description="from expiry")
    retention_lawful_requests_days: int = Field(default=730, ge=0, description="from closure")
    retention_legal_holds_days: int = Field(default=730, ge=0, description="from a hold's end")
    retention_sanction_guards_days: int = Field(default=0, ge=0, description="from sanction end")
    retention_moderation_days: int = Field(default=183, ge=0, description="from appeal deadline")
    retention_erasure_grace_days: int = Field(
        default=30, ge=0, description="a closed account's grace before erasure"
    )
    retention_sweep_interval_seconds: int = Field(
        default=3600, ge=0, description="how often `serve` sweeps; 0 turns the task off"
    )
    retention_batch_size: int = Field(default=5000, ge=1, le=50_000)
    # -- lawful access ------------------------------------------------------------
    nondisclosure_cap_days: int = Field(
        default=365, ge=1, description="longest nondisclosure honoured without a renewal"
    )
    emergency_notice_days: int = Field(default=90, ge=0)
    emergency_review_hours: int = Field(default=48, ge=1)
    production_alg: Literal["ES256", "EdDSA"] = Field(
        default="ES256", description="Signature algorithm of production packages."
    )

    # -- web pages -----------------------------------------------------------------
    web_origin: str | None = Field(
        default=None,
        description="Origin the pages are served at (passkeys need a domain name); "
        "default: issuer_url.",
    )
    web_secure_cookies: bool | None = Field(
        default=None, description="Mark cookies Secure; default: when the request is HTTPS."
    )

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'personae.db').as_posix()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
