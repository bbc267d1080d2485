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
    status_list_ttl_seconds: int = Field(
        default=60, ge=1, le=3600, description="How long a world may cache a status list."
    )
    door_nonce_ttl_seconds: int = Field(default=300, ge=10, le=3600)

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'personae.db').as_posix()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
