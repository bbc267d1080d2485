"""The composition root: settings → engine, keystore, catalog, services; built nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from personae.clock import Clock, SystemClock
from personae.config import Settings
from personae.crypto.evidence import TrustList
from personae.crypto.keystore import FileKeyStore
from personae.crypto.passwords import PasswordHashing
from personae.crypto.vault import Pseudonyms, Vault
from personae.domain.catalog import Catalog, default_catalog, load_catalog
from personae.errors import CatalogError
from personae.services.auth import AuthService
from personae.services.context import ServiceContext
from personae.services.notices import NoticeService
from personae.services.passes import PassService
from personae.services.registry import RegistryService
from personae.services.staff import StaffService
from personae.services.worlds import WorldService
from personae.store import migrate
from personae.store.engine import make_engine
from personae.store.uow import UnitOfWork


@dataclass
class Services:
    """Every use case, wired; adapters (HTTP, CLI) hold one of these."""

    settings: Settings
    engine: Engine
    keystore: FileKeyStore
    ctx: ServiceContext
    auth: AuthService
    registry: RegistryService
    worlds: WorldService
    staff: StaffService
    passes: PassService
    notices: NoticeService

    def close(self) -> None:
        self.keystore.close()
        self.engine.dispose()


def _catalog(settings: Settings) -> Catalog:
    if settings.catalog_path is None:
        return default_catalog()
    try:
        text = settings.catalog_path.read_text("utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {settings.catalog_path}: {exc.strerror}") from exc
    return load_catalog(text, str(settings.catalog_path))


def build(
    settings: Settings | None = None, *, clock: Clock | None = None, upgrade: bool = True
) -> Services:
    """Wire personae from settings; ``upgrade`` brings the schema to the newest revision."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    if upgrade:
        migrate.upgrade(engine)
    keystore = FileKeyStore(settings.keys_dir)

    def uow(*, write: bool = True) -> UnitOfWork:
        return UnitOfWork(engine, write=write)

    ctx = ServiceContext(
        uow=uow,
        clock=clock or SystemClock(),
        keystore=keystore,
        vault=Vault(keystore),
        pseudonyms=Pseudonyms(keystore),
        catalog=_catalog(settings),
        passwords=PasswordHashing(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        trust_list=TrustList.load(settings.trust_list_path),
        session_ttl_seconds=settings.session_ttl_seconds,
    )
    return Services(
        settings=settings,
        engine=engine,
        keystore=keystore,
        ctx=ctx,
        auth=AuthService(ctx),
        registry=RegistryService(ctx),
        worlds=WorldService(ctx),
        staff=StaffService(ctx),
        passes=PassService(ctx, settings),
        notices=NoticeService(ctx),
    )
