"""Schema migrations: Alembic driven from code, so `personae db upgrade` needs no ini file.

Each feature's tables come in their own revision chain branching from the initial
schema (``0001``), so features developed side by side need no renumbering; an
upgrade applies every head.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("personae.store") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision``, by default every head (one transaction per run)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision_message(engine: Engine, message: str, base: str = "0001") -> None:
    """Autogenerate a new revision branching from ``base`` (a developer's tool)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, head=base, splice=True)


def is_current(engine: Engine) -> bool:
    """True when the database is at every head revision."""
    heads = set(ScriptDirectory.from_config(_config()).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
