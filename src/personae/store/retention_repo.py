"""Repositories of retention and erasure: batched expiry scans, erasure journal, sanction guards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    delete,
    func,
    insert,
    null,
    select,
    update,
)

from personae.domain.retention import RecordClass
from personae.store import tables as t


@dataclass(frozen=True)
class ErasureRecord:
    person_id: str
    requested_at: datetime
    due_at: datetime
    status: str
    deferred_until: datetime | None


@dataclass(frozen=True)
class _SweepSpec:
    """How to find expired rows of one class: its key, the instant its period counts from,
    and (for holdable classes) the vault owner a hold would name."""

    table: Table
    key: Column[Any]
    anchor: ColumnElement[Any]
    subject: Column[Any] | None = None
    subject_prefix: str = ""


_SPECS: dict[RecordClass, _SweepSpec] = {
    RecordClass.SESSIONS: _SweepSpec(t.sessions, t.sessions.c.token_hash, t.sessions.c.created_at),
    RecordClass.DOOR_NONCES: _SweepSpec(
        t.door_nonces, t.door_nonces.c.nonce_hash, t.door_nonces.c.expires_at
    ),
    RecordClass.DISCLOSURES: _SweepSpec(
        t.disclosures,
        t.disclosures.c.id,
        t.disclosures.c.at,
        t.disclosures.c.persona_id,
        "persona:",
    ),
    RecordClass.NOTICES: _SweepSpec(
        t.notices,
        t.notices.c.id,
        func.coalesce(t.notices.c.deliver_after, t.notices.c.created_at),
        t.notices.c.owner,
    ),
    RecordClass.PASSES: _SweepSpec(
        t.passes, t.passes.c.id, t.passes.c.expires_at, t.passes.c.persona_id, "persona:"
    ),
    RecordClass.SANCTION_GUARDS: _SweepSpec(
        t.sanction_guards, t.sanction_guards.c.evidence_hash, t.sanction_guards.c.until
    ),
}

# The classes swept row by row through ``Sweeps``; the others have their own steps.
ROW_CLASSES: tuple[RecordClass, ...] = tuple(_SPECS)


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class Sweeps(_Repo):
    def expired(
        self, cls: RecordClass, cutoff: datetime, after: Any, limit: int
    ) -> list[tuple[Any, str | None]]:
        """The next ``limit`` expired rows after key ``after``: (key, owner named by a hold)."""
        spec = _SPECS[cls]
        q = select(spec.key, spec.subject if spec.subject is not None else null()).where(
            spec.anchor < cutoff
        )
        if after is not None:
            q = q.where(spec.key > after)
        rows = self.conn.execute(q.order_by(spec.key).limit(limit))
        return [
            (key, None if spec.subject is None else spec.subject_prefix + str(owner))
            for key, owner in rows
        ]

    def delete(self, cls: RecordClass, keys: Sequence[Any]) -> int:
        if not keys:
            return 0
        spec = _SPECS[cls]
        return self.conn.execute(delete(spec.table).where(spec.key.in_(list(keys)))).rowcount


class Erasures(_Repo):
    def add(self, record: ErasureRecord) -> None:
        self.conn.execute(
            insert(t.erasure_requests).values(
                person_id=record.person_id,
                requested_at=record.requested_at,
                due_at=record.due_at,
                status=record.status,
                deferred_until=record.deferred_until,
            )
        )

    def get(self, person_id: str, *, lock: bool = False) -> ErasureRecord | None:
        e = t.erasure_requests
        q = select(*e.c).where(e.c.person_id == person_id)
        row = self.conn.execute(q.with_for_update() if lock else q).first()
        return ErasureRecord(**row._mapping) if row else None

    def due(self, now: datetime, limit: int) -> list[str]:
        """Erasures whose time has come, and any interrupted one (to finish it)."""
        e = t.erasure_requests
        q = (
            select(e.c.person_id)
            .where((e.c.due_at <= now) | (e.c.status == "erasing"))
            .order_by(e.c.due_at)
            .limit(limit)
        )
        return list(self.conn.execute(q).scalars())

    def set_status(
        self, person_id: str, status: str, due_at: datetime, deferred_until: datetime | None
    ) -> None:
        e = t.erasure_requests
        self.conn.execute(
            update(e)
            .where(e.c.person_id == person_id)
            .values(status=status, due_at=due_at, deferred_until=deferred_until)
        )

    def remove(self, person_id: str) -> bool:
        e = t.erasure_requests
        return self.conn.execute(delete(e).where(e.c.person_id == person_id)).rowcount > 0


class HeldPersonaErasures(_Repo):
    """Personas kept under a hold after their person's erasure: erased when the hold ends."""

    def add(self, persona_ids: Sequence[str], now: datetime) -> None:
        known = self.ids_of(persona_ids)
        rows = [{"persona_id": p, "created_at": now} for p in persona_ids if p not in known]
        if rows:
            self.conn.execute(insert(t.held_persona_erasures), rows)

    def ids_of(self, persona_ids: Sequence[str]) -> set[str]:
        """Which of these personas are kept."""
        if not persona_ids:
            return set()
        h = t.held_persona_erasures
        q = select(h.c.persona_id).where(h.c.persona_id.in_(list(persona_ids)))
        return set(self.conn.execute(q).scalars())

    def page(self, after: str | None, limit: int) -> list[str]:
        h = t.held_persona_erasures
        q = select(h.c.persona_id)
        if after is not None:
            q = q.where(h.c.persona_id > after)
        return list(self.conn.execute(q.order_by(h.c.persona_id).limit(limit)).scalars())

    def remove(self, persona_id: str) -> bool:
        h = t.held_persona_erasures
        return self.conn.execute(delete(h).where(h.c.persona_id == persona_id)).rowcount > 0


class SanctionGuards(_Repo):
    def put(self, evidence_hash: bytes, until: datetime | None) -> None:
        g = t.sanction_guards
        self.conn.execute(delete(g).where(g.c.evidence_hash == evidence_hash))
        self.conn.execute(insert(g).values(evidence_hash=evidence_hash, until=until))

    def guarded(self, evidence_hash: bytes, now: datetime) -> bool:
        g = t.sanction_guards
        q = select(g.c.evidence_hash).where(
            g.c.evidence_hash == evidence_hash, (g.c.until.is_(None)) | (g.c.until > now)
        )
        return self.conn.execute(q).first() is not None


class PersonData(_Repo):
    """Deleting everything stored about one person and their personas (erasure)."""

    def evidence_hashes(self, person_id: str) -> list[bytes]:
        eb = t.evidence_bindings
        q = select(eb.c.evidence_hash).where(eb.c.person_id == person_id)
        return [bytes(h) for h in self.conn.execute(q).scalars()]

    def delete_personas(self, persona_ids: Sequence[str]) -> int:
        """Personas and, by cascade, their consents, sealed value copies and passes."""
        if not persona_ids:
            return 0
        ids = list(persona_ids)
        self.conn.execute(delete(t.disclosures).where(t.disclosures.c.persona_id.in_(ids)))
        return self.conn.execute(delete(t.personas).where(t.personas.c.id.in_(ids))).rowcount

    def delete_notices(self, owners: Sequence[str]) -> int:
        n = t.notices
        return self.conn.execute(delete(n).where(n.c.owner.in_(list(owners)))).rowcount

    def delete_person(self, person_id: str) -> bool:
        """The person, their sessions and, by cascade, attributes and evidence bindings."""
        s = t.sessions
        self.conn.execute(
            delete(s).where(s.c.principal_kind == "person", s.c.principal_id == person_id)
        )
        p = t.persons
        return self.conn.execute(delete(p).where(p.c.id == person_id)).rowcount > 0
