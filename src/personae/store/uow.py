"""The unit of work: one transaction per use case, with every repository bound to it."""

from __future__ import annotations

import threading
import weakref
from types import TracebackType

from sqlalchemy import Connection, Engine

from personae.store.engine import WRITE_OPTION
from personae.store.lawful_repo import Holds, LawfulRequests, Packages
from personae.store.moderation_repo import ModerationRepos
from personae.store.repositories import (
    Attributes,
    Consents,
    Disclosures,
    DoorNonces,
    Notices,
    Outbox,
    Passes,
    PassSettings,
    PassSigningKeys,
    Personas,
    PersonaValues,
    Persons,
    Sessions,
    Staff,
    StatusLists,
    Worlds,
)
from personae.store.retention_repo import (
    Erasures,
    HeldPersonaErasures,
    PersonData,
    SanctionGuards,
    Sweeps,
)
from personae.store.web_repo import Challenges, Passkeys, StaffTotp

# SQLite admits one writer at a time. Writers of one process queue on this lock
# instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms and
# under concurrent load costs far more than the writes themselves (measured with
# bench/door_online.py). Other processes still meet the busy timeout.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def writer_lock(engine: Engine) -> threading.Lock | None:
    if engine.dialect.name != "sqlite":
        return None
    with _REGISTRY_LOCK:
        lock = _SQLITE_WRITERS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITERS[engine] = threading.Lock()
        return lock


class UnitOfWork:
    """Commits when the block ends normally, rolls back on any exception.

    ``write=True`` takes the write lock at BEGIN on SQLite (BEGIN IMMEDIATE), so
    concurrent writers queue instead of failing at commit.
    """

    persons: Persons
    attributes: Attributes
    sessions: Sessions
    staff: Staff
    worlds: Worlds
    personas: Personas
    consents: Consents
    persona_values: PersonaValues
    disclosures: Disclosures
    outbox: Outbox
    pass_settings: PassSettings
    pass_signing_keys: PassSigningKeys
    status_lists: StatusLists
    passes: Passes
    door_nonces: DoorNonces
    notices: Notices
    moderation: ModerationRepos
    lawful_requests: LawfulRequests
    packages: Packages
    holds: Holds
    erasures: Erasures
    held_persona_erasures: HeldPersonaErasures
    sanction_guards: SanctionGuards
    person_data: PersonData
    sweeps: Sweeps
    passkeys: Passkeys
    web_challenges: Challenges
    staff_totp: StaffTotp

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._conn: Connection | None = None
        self._lock = writer_lock(engine) if write else None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        conn: Connection | None = None
        try:
            conn = self._engine.connect().execution_options(**{WRITE_OPTION: self._write})
            conn.begin()
        except BaseException:
            if conn is not None:  # BEGIN failed (e.g. SQLite busy): give the connection back
                conn.close()
            if self._lock is not None:
                self._lock.release()
            raise
        self._conn = conn
        self.persons = Persons(conn)
        self.attributes = Attributes(conn)
        self.sessions = Sessions(conn)
        self.staff = Staff(conn)
        self.worlds = Worlds(conn)
        self.personas = Personas(conn)
        self.consents = Consents(conn)
        self.persona_values = PersonaValues(conn)
        self.disclosures = Disclosures(conn)
        self.outbox = Outbox(conn)
        self.pass_settings = PassSettings(conn)
        self.pass_signing_keys = PassSigningKeys(conn)
        self.status_lists = StatusLists(conn)
        self.passes = Passes(conn)
        self.door_nonces = DoorNonces(conn)
        self.notices = Notices(conn)
        self.moderation = ModerationRepos(conn)
        self.lawful_requests = LawfulRequests(conn)
        self.packages = Packages(conn)
        self.holds = Holds(conn)
        self.erasures = Erasures(conn)
        self.held_persona_erasures = HeldPersonaErasures(conn)
        self.sanction_guards = SanctionGuards(conn)
        self.person_data = PersonData(conn)
        self.sweeps = Sweeps(conn)
        self.passkeys = Passkeys(conn)
        self.web_challenges = Challenges(conn)
        self.staff_totp = StaffTotp(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        try:
            if exc_type is None:
                conn.commit()
            else:
                conn.rollback()
        finally:
            conn.close()
            self._conn = None
            if self._lock is not None:
                self._lock.release()
