"""The composition root: settings → engine, keystore, catalog, services; built nowhere else."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, make_url, select

from personae.clock import Clock, SystemClock
from personae.config import Settings
from personae.crypto.evidence import TrustList
from personae.crypto.keystore import FileKeyStore
from personae.crypto.passwords import PasswordHashing
from personae.crypto.vault import Pseudonyms, Vault
from personae.domain.catalog import Catalog, default_catalog, load_catalog
from personae.domain.retention import RecordClass, RetentionPolicy
from personae.domain.standing import ReporterPolicy, StrikeThresholds, Threshold
from personae.errors import CatalogError, KeystoreError
from personae.services.appeal_queue import AppealQueue
from personae.services.appeals import AppealService
from personae.services.auth import AuthService
from personae.services.context import ServiceContext
from personae.services.decisions import DecisionService
from personae.services.door import DoorService
from personae.services.enforcement import ActiveSanctions, Enforcement
from personae.services.erasure import ErasureService
from personae.services.export import ExportService
from personae.services.holds import HoldService
from personae.services.lawful_access import LawfulAccessService, LawfulSettings
from personae.services.moderation import CaseService
from personae.services.moderation_retention import ModerationSweep
from personae.services.notices import NoticeService
from personae.services.passes import PassService
from personae.services.policies import PolicyService
from personae.services.production import PackageBuilder
from personae.services.registry import RegistryService
from personae.services.reports import ReportService
from personae.services.retention import RetentionService
from personae.services.staff import StaffService
from personae.services.standing import StandingService
from personae.services.totp import StaffTwoFactorService
from personae.services.transparency import TransparencyService, forget_personas, log_origin
from personae.services.webauthn import PasskeyService
from personae.services.worlds import WorldService
from personae.store import migrate, tables
from personae.store.door_path import DoorPath
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
    door: DoorService
    notices: NoticeService
    policies: PolicyService
    reports: ReportService
    cases: CaseService
    decisions: DecisionService
    appeals: AppealService
    standing: StandingService
    lawful: LawfulAccessService
    holds: HoldService
    erasure: ErasureService
    export: ExportService
    retention: RetentionService
    passkeys: PasskeyService
    two_factor: StaffTwoFactorService
    appeal_queue: AppealQueue
    transparency: TransparencyService

    def close(self) -> None:
        self.door.path.close()
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


def strike_thresholds(settings: Settings) -> StrikeThresholds:
    """When repeat conduct suggests a suspension or escalation (a reviewer decides)."""
    return StrikeThresholds(
        (
            Threshold(
                settings.strike_suspension_weight,
                "repeat conduct: consider a time-limited suspension",
            ),
            Threshold(
                settings.strike_escalation_weight,
                "serious repeat conduct: consider escalating to platform trust & safety",
            ),
        )
    )


def reporter_policy(settings: Settings) -> ReporterPolicy:
    """When a reporter of manifestly unfounded reports is warned, then deprioritised."""
    return ReporterPolicy(
        warn_after=settings.reporter_warn_after,
        deprioritise_after=settings.reporter_deprioritise_after,
        deprioritise_for=timedelta(days=settings.reporter_deprioritise_days),
    )


def retention_policy(settings: Settings) -> RetentionPolicy:
    """Every record class's period from its ``retention_<class>_days`` setting."""
    return RetentionPolicy.from_days(
        {cls: int(getattr(settings, f"retention_{cls.value}_days")) for cls in RecordClass}
    )


@dataclass(frozen=True)
class _Privacy:
    """Lawful access, holds, erasure, export and retention, wired together."""

    lawful: LawfulAccessService
    holds: HoldService
    erasure: ErasureService
    export: ExportService
    retention: RetentionService

    @staticmethod
    def wire(ctx: ServiceContext, settings: Settings, passes: PassService) -> _Privacy:
        policy = retention_policy(settings)
        lawful = LawfulAccessService(
            ctx,
            LawfulSettings(
                nondisclosure_cap=timedelta(days=settings.nondisclosure_cap_days),
                emergency_notice_delay=timedelta(days=settings.emergency_notice_days),
                emergency_review_within=timedelta(hours=settings.emergency_review_hours),
            ),
            PackageBuilder(ctx, settings.production_alg),
        )
        erasure = ErasureService(
            ctx, passes, policy.periods[RecordClass.ERASURE_GRACE], purges=[forget_personas]
        )
        retention = RetentionService(
            ctx,
            policy,
            erasure,
            lawful,
            batch_size=settings.retention_batch_size,
            class_sweeps={RecordClass.MODERATION: ModerationSweep(ctx)},
        )
        return _Privacy(lawful, HoldService(ctx), erasure, ExportService(ctx), retention)


def _private_data_dir(settings: Settings) -> None:
    """The data directory, and the embedded database in it, readable by the owner only:
    the database holds password and session hashes, the disclosure log and reports
    (SQLite gives its -wal and -shm files the database file's mode)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)


def _check_keystore_binding(engine: Engine, fingerprint: bytes) -> None:
    """Refuse a database made with another keystore (e.g. the data directory is not the
    one it was made with): its sealed values would not open, its pseudonyms and lookup
    hashes would not match, and a second registration with the same evidence would go
    through. The first start records the keystore's fingerprint."""
    table = tables.keystore_binding
    with engine.begin() as conn:
        stored = conn.execute(select(table.c.fingerprint).where(table.c.id == 1)).scalar()
        if stored is None:
            conn.execute(insert(table).values(id=1, fingerprint=fingerprint))
        elif not hmac.compare_digest(bytes(stored), fingerprint):
            raise KeystoreError(
                "this database was made with another keystore: check PERSONAE_DATA_DIR "
                "(its keys/ directory) and PERSONAE_DATABASE_URL"
            )


def build(
    settings: Settings | None = None, *, clock: Clock | None = None, upgrade: bool = True
) -> Services:
    """Wire personae from settings; ``upgrade`` brings the schema to the newest revision."""
    settings = settings or Settings()
    _private_data_dir(settings)
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
    try:
        _check_keystore_binding(engine, ctx.pseudonyms.lookup("keystore-binding"))
    except BaseException:
        keystore.close()
        engine.dispose()
        raise
    passes = PassService(ctx, settings, sanctions=ActiveSanctions())
    enforcement = Enforcement(ctx, passes)
    privacy = _Privacy.wire(ctx, settings, passes)
    appeals = AppealService(ctx, enforcement)
    return Services(
        settings=settings,
        engine=engine,
        keystore=keystore,
        ctx=ctx,
        auth=AuthService(ctx),
        registry=RegistryService(ctx),
        worlds=WorldService(ctx),
        staff=StaffService(ctx),
        passes=passes,
        door=DoorService(ctx, settings, passes, DoorPath(engine)),
        notices=NoticeService(ctx),
        policies=PolicyService(ctx),
        reports=ReportService(ctx),
        cases=CaseService(ctx, strike_thresholds(settings)),
        decisions=DecisionService(ctx, enforcement, reporter_policy=reporter_policy(settings)),
        appeals=appeals,
        standing=StandingService(ctx),
        lawful=privacy.lawful,
        holds=privacy.holds,
        erasure=privacy.erasure,
        export=privacy.export,
        retention=privacy.retention,
        passkeys=PasskeyService(ctx, settings.web_origin or settings.issuer_url),
        two_factor=StaffTwoFactorService(ctx),
        appeal_queue=AppealQueue(ctx, appeals),
        transparency=TransparencyService(ctx, engine, log_origin(settings.issuer_url)),
    )
