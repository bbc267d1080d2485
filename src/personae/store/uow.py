"""The unit of work: one transaction per use case, with every repository bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from personae.store.engine import WRITE_OPTION
from personae.store.repositories import (
    Attributes,
    Consents,
    Disclosures,
    DoorNonces,
    Notices,
    Outbox,
    Passes,
    PassSettings,
    Personas,
    PersonaValues,
    Persons,
    Sessions,
    Staff,
    StatusLists,
    Worlds,
)


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
    status_lists: StatusLists
    passes: Passes
    door_nonces: DoorNonces
    notices: Notices

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        conn = self._engine.connect().execution_options(**{WRITE_OPTION: self._write})
        conn.begin()
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
        self.status_lists = StatusLists(conn)
        self.passes = Passes(conn)
        self.door_nonces = DoorNonces(conn)
        self.notices = Notices(conn)
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
