"""Repositories: the SQL for each aggregate, on one connection inside a unit of work."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from personae.domain.events import Event
from personae.store import tables as t
from personae.store.records import (
    ConsentRecord,
    DisclosureRecord,
    NoticeRecord,
    OutboxRecord,
    PassRecord,
    PersonaRecord,
    PersonRecord,
    SealedAttribute,
    SessionRecord,
    StaffRecord,
    StatusListRecord,
    WorldRecord,
)

# Statements on hot paths (a world's requests, door checks) are built once: building
# a select per call costs more than SQLite takes to run it (bench/door_online.py).
_WORLD_BY_KEY = select(
    t.worlds.c.id, t.worlds.c.name, t.worlds.c.contact, t.worlds.c.purposes, t.worlds.c.created_at
).where(t.worlds.c.api_key_hash == bindparam("key_hash"))
_PERSONA_BY_ID = select(
    t.personas.c.id, t.personas.c.world_id, t.personas.c.escrow, t.personas.c.created_at
).where(t.personas.c.id == bindparam("persona_id"))
_ACTIVE_ITEMS = select(t.consents.c.item).where(
    t.consents.c.persona_id == bindparam("persona_id"), t.consents.c.withdrawn_at.is_(None)
)
_PERSONA_VALUES = select(t.persona_values.c.attribute, t.persona_values.c.sealed).where(
    t.persona_values.c.persona_id == bindparam("persona_id")
)


def row_values(record: object, columns: Iterable[Any]) -> dict[str, Any]:
    """The insert values of a record whose fields are named like the table's columns."""
    return {c.name: getattr(record, c.name) for c in columns}


def _insert_or_keep(
    conn: Connection, table: Table, keys: Sequence[str], refresh: Sequence[str] = ()
) -> Insert:
    """INSERT … ON CONFLICT (keys): DO NOTHING, or with ``refresh`` DO UPDATE those columns
    from the new row, in place (an UPDATE keeps the row where it is; SQLite keeps its rowid)."""
    lite_or_pg = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    if not refresh:
        return lite_or_pg.on_conflict_do_nothing(index_elements=list(keys))
    new = lite_or_pg.excluded
    return lite_or_pg.on_conflict_do_update(
        index_elements=list(keys), set_={name: new[name] for name in refresh}
    )


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class Persons(_Repo):
    def add(self, person: PersonRecord, handle_hash: bytes) -> None:
        self.conn.execute(
            insert(t.persons).values(
                id=person.id,
                handle_hash=handle_hash,
                password_hash=person.password_hash,
                assurance=person.assurance,
                evidence=person.evidence,
                status=person.status,
                created_at=person.created_at,
            )
        )

    def _one(self, where: ColumnElement[bool]) -> PersonRecord | None:
        row = self.conn.execute(
            select(
                t.persons.c.id,
                t.persons.c.password_hash,
                t.persons.c.assurance,
                t.persons.c.evidence,
                t.persons.c.status,
                t.persons.c.created_at,
            ).where(where)
        ).first()
        return PersonRecord(*row) if row else None

    def get(self, person_id: str) -> PersonRecord | None:
        return self._one(t.persons.c.id == person_id)

    def by_handle_hash(self, handle_hash: bytes) -> PersonRecord | None:
        return self._one(t.persons.c.handle_hash == handle_hash)

    def handle_taken(self, handle_hash: bytes) -> bool:
        q = select(t.persons.c.id).where(t.persons.c.handle_hash == handle_hash)
        return self.conn.execute(q).first() is not None

    def bind_evidence(self, evidence_hash: bytes, person_id: str, kind: str, at: datetime) -> None:
        self.conn.execute(
            insert(t.evidence_bindings).values(
                evidence_hash=evidence_hash, person_id=person_id, kind=kind, created_at=at
            )
        )

    def evidence_bound(self, evidence_hash: bytes) -> bool:
        q = select(t.evidence_bindings.c.person_id).where(
            t.evidence_bindings.c.evidence_hash == evidence_hash
        )
        return self.conn.execute(q).first() is not None

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.persons)).scalar_one())


class Attributes(_Repo):
    def put(self, person_id: str, attr: SealedAttribute) -> None:
        table = t.person_attributes
        where = and_(table.c.person_id == person_id, table.c.name == attr.name)
        updated = self.conn.execute(
            update(table)
            .where(where)
            .values(sealed=attr.sealed, evidence=attr.evidence, updated_at=attr.updated_at)
        )
        if updated.rowcount == 0:
            self.conn.execute(
                insert(table).values(
                    person_id=person_id,
                    name=attr.name,
                    sealed=attr.sealed,
                    evidence=attr.evidence,
                    updated_at=attr.updated_at,
                )
            )

    def remove(self, person_id: str, name: str) -> bool:
        table = t.person_attributes
        result = self.conn.execute(
            delete(table).where(table.c.person_id == person_id, table.c.name == name)
        )
        return result.rowcount > 0

    def all_for(self, person_id: str) -> list[SealedAttribute]:
        table = t.person_attributes
        rows = self.conn.execute(
            select(table.c.name, table.c.sealed, table.c.evidence, table.c.updated_at)
            .where(table.c.person_id == person_id)
            .order_by(table.c.name)
        )
        return [SealedAttribute(*row) for row in rows]


class Sessions(_Repo):
    def add(
        self, token_hash: bytes, kind: str, principal_id: str, now: datetime, expires: datetime
    ) -> None:
        self.conn.execute(
            insert(t.sessions).values(
                token_hash=token_hash,
                principal_kind=kind,
                principal_id=principal_id,
                created_at=now,
                expires_at=expires,
            )
        )

    def get(self, token_hash: bytes) -> SessionRecord | None:
        s = t.sessions
        row = self.conn.execute(
            select(s.c.principal_kind, s.c.principal_id, s.c.expires_at).where(
                s.c.token_hash == token_hash
            )
        ).first()
        return SessionRecord(*row) if row else None

    def remove(self, token_hash: bytes) -> None:
        self.conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == token_hash))


class Staff(_Repo):
    _cols = (
        t.staff.c.id,
        t.staff.c.username,
        t.staff.c.password_hash,
        t.staff.c.role,
        t.staff.c.world_id,
        t.staff.c.created_at,
    )

    def add(self, member: StaffRecord) -> None:
        self.conn.execute(insert(t.staff).values(row_values(member, self._cols)))

    def by_username(self, username: str) -> StaffRecord | None:
        row = self.conn.execute(select(*self._cols).where(t.staff.c.username == username)).first()
        return StaffRecord(*row) if row else None

    def get(self, staff_id: str) -> StaffRecord | None:
        row = self.conn.execute(select(*self._cols).where(t.staff.c.id == staff_id)).first()
        return StaffRecord(*row) if row else None


class Worlds(_Repo):
    _cols = (
        t.worlds.c.id,
        t.worlds.c.name,
        t.worlds.c.contact,
        t.worlds.c.purposes,
        t.worlds.c.created_at,
    )

    def add(self, world: WorldRecord, api_key_hash: bytes) -> None:
        self.conn.execute(
            insert(t.worlds).values(
                id=world.id,
                name=world.name,
                contact=world.contact,
                purposes=world.purposes,
                api_key_hash=api_key_hash,
                created_at=world.created_at,
            )
        )

    def get(self, world_id: str) -> WorldRecord | None:
        row = self.conn.execute(select(*self._cols).where(t.worlds.c.id == world_id)).first()
        return WorldRecord(*row) if row else None

    def by_api_key_hash(self, key_hash: bytes) -> WorldRecord | None:
        row = self.conn.execute(_WORLD_BY_KEY, {"key_hash": key_hash}).first()
        return WorldRecord(*row) if row else None

    def name_taken(self, name: str) -> bool:
        q = select(t.worlds.c.id).where(t.worlds.c.name == name)
        return self.conn.execute(q).first() is not None

    def all(self) -> list[WorldRecord]:
        rows = self.conn.execute(select(*self._cols).order_by(t.worlds.c.created_at))
        return [WorldRecord(*row) for row in rows]

    def ids(self) -> list[str]:
        return list(self.conn.execute(select(t.worlds.c.id)).scalars())


class Personas(_Repo):
    _cols = (t.personas.c.id, t.personas.c.world_id, t.personas.c.escrow, t.personas.c.created_at)

    def add(self, persona: PersonaRecord) -> None:
        self.conn.execute(insert(t.personas).values(row_values(persona, self._cols)))

    def get(self, persona_id: str) -> PersonaRecord | None:
        row = self.conn.execute(_PERSONA_BY_ID, {"persona_id": persona_id}).first()
        return PersonaRecord(*row) if row else None

    def take_turns_for(self, person_ref: bytes) -> None:
        """Wait for, then hold until the transaction ends, the turn of one person (keyed,
        so nothing stored names them): opening a persona and a platform-wide decision
        reaching all of them must each see what the other wrote. PostgreSQL takes an
        advisory lock; SQLite's writers already take turns."""
        if self.conn.dialect.name == "postgresql":
            key = int.from_bytes(person_ref[:8], "big", signed=True)
            self.conn.execute(select(func.pg_advisory_xact_lock(key))).all()

    def lock(self, persona_ids: Sequence[str]) -> None:
        """Lock these personas' rows until the transaction ends, in one order (PostgreSQL;
        SQLite's writers already take turns): serialises what must see each other's
        writes, such as issuing a pass and sanctioning its persona."""
        if persona_ids:
            p = t.personas.c
            self.conn.execute(
                select(p.id).where(p.id.in_(sorted(persona_ids))).order_by(p.id).with_for_update()
            ).all()

    def among(self, persona_ids: Sequence[str]) -> list[PersonaRecord]:
        if not persona_ids:
            return []
        rows = self.conn.execute(
            select(*self._cols)
            .where(t.personas.c.id.in_(list(persona_ids)))
            .order_by(t.personas.c.created_at)
        )
        return [PersonaRecord(*row) for row in rows]


class Consents(_Repo):
    def grant(self, persona_id: str, item: str, at: datetime) -> bool:
        """Grant (or grant again); True when this changed anything.

        A first grant inserts with ON CONFLICT DO NOTHING: a concurrent first grant of
        the same item (READ COMMITTED) makes this one a grant again, not an error.
        """
        c = t.consents
        where = and_(c.c.persona_id == persona_id, c.c.item == item)
        row = self.conn.execute(select(c.c.withdrawn_at).where(where)).first()
        if row is None:
            first = (
                _insert_or_keep(self.conn, c, ("persona_id", "item"))
                .values(persona_id=persona_id, item=item, granted_at=at, withdrawn_at=None)
                .returning(c.c.item)
            )
            if self.conn.execute(first).first() is not None:
                return True
            row = self.conn.execute(select(c.c.withdrawn_at).where(where)).first()
        if row is None or row[0] is None:
            return False
        self.conn.execute(update(c).where(where).values(granted_at=at, withdrawn_at=None))
        return True

    def withdraw(self, persona_id: str, item: str, at: datetime) -> bool:
        c = t.consents
        result = self.conn.execute(
            update(c)
            .where(c.c.persona_id == persona_id, c.c.item == item, c.c.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )
        return result.rowcount > 0

    def for_persona(self, persona_id: str) -> list[ConsentRecord]:
        c = t.consents
        rows = self.conn.execute(
            select(c.c.persona_id, c.c.item, c.c.granted_at, c.c.withdrawn_at)
            .where(c.c.persona_id == persona_id)
            .order_by(c.c.item)
        )
        return [ConsentRecord(*row) for row in rows]

    def active_items(self, persona_id: str) -> list[str]:
        return sorted(self.conn.execute(_ACTIVE_ITEMS, {"persona_id": persona_id}).scalars())


class PersonaValues(_Repo):
    """A persona's sealed copies, one row per attribute, written in place.

    A row that exists is updated, never deleted and inserted again: the person's
    change of an attribute writes the copies of all their personas in one
    transaction, and rows inserted together would lie together (consecutive row ids
    on SQLite, adjacent on PostgreSQL's heap), linking those personas for anyone who
    holds the database. On SQLite the table is WITHOUT ROWID (migration ``registry1``).
    """

    def put(self, persona_id: str, sealed_by_attribute: Mapping[str, bytes]) -> None:
        """Write these copies: update the rows that exist, insert the others (an upsert)."""
        if not sealed_by_attribute:
            return
        pv = t.persona_values
        rows = [
            {"persona_id": persona_id, "attribute": name, "sealed": sealed}
            for name, sealed in sealed_by_attribute.items()
        ]
        upsert = _insert_or_keep(self.conn, pv, ("persona_id", "attribute"), refresh=("sealed",))
        self.conn.execute(upsert, rows)

    def drop(self, persona_id: str, attributes: Collection[str]) -> None:
        """Delete the copies of these attributes (if the persona has them)."""
        if attributes:
            pv = t.persona_values
            self.conn.execute(
                delete(pv).where(
                    pv.c.persona_id == persona_id, pv.c.attribute.in_(list(attributes))
                )
            )

    def replace(self, persona_id: str, sealed_by_attribute: Mapping[str, bytes]) -> None:
        """Make the persona's copies exactly these: the others deleted, these written in place."""
        pv = t.persona_values
        self.conn.execute(
            delete(pv).where(
                pv.c.persona_id == persona_id, pv.c.attribute.not_in(list(sealed_by_attribute))
            )
        )
        self.put(persona_id, sealed_by_attribute)

    def for_persona(self, persona_id: str) -> dict[str, bytes]:
        rows = self.conn.execute(_PERSONA_VALUES, {"persona_id": persona_id})
        return {name: sealed for name, sealed in rows}


class Disclosures(_Repo):
    def add(self, persona_id: str, world_id: str, at: datetime, items: list[str]) -> None:
        self.conn.execute(
            insert(t.disclosures).values(
                persona_id=persona_id, world_id=world_id, at=at, items=items
            )
        )

    def for_personas(self, persona_ids: Sequence[str], limit: int) -> list[DisclosureRecord]:
        if not persona_ids:
            return []
        d = t.disclosures
        rows = self.conn.execute(
            select(d.c.persona_id, d.c.world_id, d.c.at, d.c["items"])
            .where(d.c.persona_id.in_(list(persona_ids)))
            .order_by(d.c.at.desc(), d.c.id.desc())
            .limit(limit)
        )
        return [DisclosureRecord(*row) for row in rows]

    def page_for_persona(
        self, persona_id: str, limit: int, before: tuple[datetime, int] | None
    ) -> list[tuple[int, DisclosureRecord]]:
        """One page of the persona's disclosure log, newest first, with each row's id: the
        rows strictly older than ``before`` (at, id), the previous page's last (keyset)."""
        d = t.disclosures
        q = select(d.c.id, d.c.persona_id, d.c.world_id, d.c.at, d.c["items"]).where(
            d.c.persona_id == persona_id
        )
        if before is not None:
            at, row_id = before
            q = q.where((d.c.at < at) | ((d.c.at == at) & (d.c.id < row_id)))
        rows = self.conn.execute(q.order_by(d.c.at.desc(), d.c.id.desc()).limit(limit))
        return [(int(row[0]), DisclosureRecord(*row[1:])) for row in rows]


class Outbox(_Repo):
    def append(self, event: Event) -> int:
        """Append one event; its outbox id (notices refer to it to find the log entry)."""
        result = self.conn.execute(
            insert(t.outbox_events).values(
                type=str(event.type),
                occurred_at=event.occurred_at,
                payload=event.payload,
                sequenced=False,
            )
        )
        (event_id,) = result.inserted_primary_key or (None,)
        if event_id is None:
            raise RuntimeError("the database returned no id for an outbox event")
        return int(event_id)

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            self.append(event)

    def pending(self, limit: int) -> list[OutboxRecord]:
        o = t.outbox_events
        rows = self.conn.execute(
            select(o.c.id, o.c.type, o.c.occurred_at, o.c.payload)
            .where(o.c.sequenced.is_(False))
            .order_by(o.c.id)
            .limit(limit)
        )
        return [OutboxRecord(*row) for row in rows]

    def recent_of_type(self, kind: str, limit: int) -> list[OutboxRecord]:
        """The newest events of one type, newest first (e.g. the last retention sweeps)."""
        o = t.outbox_events
        rows = self.conn.execute(
            select(o.c.id, o.c.type, o.c.occurred_at, o.c.payload)
            .where(o.c.type == kind)
            .order_by(o.c.id.desc())
            .limit(limit)
        )
        return [OutboxRecord(*row) for row in rows]

    def all(self) -> list[OutboxRecord]:
        o = t.outbox_events
        rows = self.conn.execute(
            select(o.c.id, o.c.type, o.c.occurred_at, o.c.payload).order_by(o.c.id)
        )
        return [OutboxRecord(*row) for row in rows]


class PassSettings(_Repo):
    def set_ttl(self, world_id: str, seconds: int) -> None:
        ps = t.world_pass_settings
        updated = self.conn.execute(
            update(ps).where(ps.c.world_id == world_id).values(pass_ttl_seconds=seconds)
        )
        if updated.rowcount == 0:
            self.conn.execute(insert(ps).values(world_id=world_id, pass_ttl_seconds=seconds))

    def ttl(self, world_id: str) -> int | None:
        ps = t.world_pass_settings
        q = select(ps.c.pass_ttl_seconds).where(ps.c.world_id == world_id)
        value = self.conn.execute(q).scalar_one_or_none()
        return int(value) if value is not None else None


class PassSigningKeys(_Repo):
    def extend(self, kid: str, expires_at: datetime) -> None:
        """Record that ``kid`` signed a pass valid until ``expires_at`` (keeps the latest)."""
        k = t.pass_signing_keys
        if self.conn.dialect.name == "postgresql":
            pg = pg_insert(k).values(kid=kid, last_expires_at=expires_at)
            self.conn.execute(
                pg.on_conflict_do_update(
                    index_elements=[k.c.kid],
                    set_={"last_expires_at": func.greatest(k.c.last_expires_at, expires_at)},
                )
            )
            return
        lite = sqlite_insert(k).values(kid=kid, last_expires_at=expires_at)
        self.conn.execute(
            lite.on_conflict_do_update(
                index_elements=[k.c.kid],
                set_={"last_expires_at": lite.excluded.last_expires_at},
                where=k.c.last_expires_at < lite.excluded.last_expires_at,
            )
        )

    def last_expiry(self, kid: str) -> datetime | None:
        """The latest expiry recorded for ``kid``, if any."""
        k = t.pass_signing_keys
        found: datetime | None = self.conn.execute(
            select(k.c.last_expires_at).where(k.c.kid == kid)
        ).scalar_one_or_none()
        return found

    def last_expiries(self) -> dict[str, datetime]:
        """Each recorded key's latest pass expiry."""
        k = t.pass_signing_keys
        return {kid: at for kid, at in self.conn.execute(select(k.c.kid, k.c.last_expires_at))}

    def schedule(self, kid: str, signs_from: datetime) -> None:
        """Record a new key that signs only from ``signs_from`` (and is published at least
        until then, like any key until its last pass expires)."""
        self.conn.execute(
            insert(t.pass_signing_keys).values(
                kid=kid, last_expires_at=signs_from, signs_from=signs_from
            )
        )

    def signing_starts(self) -> dict[str, datetime]:
        """When each key rotated in ahead of time starts to sign."""
        k = t.pass_signing_keys
        rows = self.conn.execute(select(k.c.kid, k.c.signs_from).where(k.c.signs_from.is_not(None)))
        return {kid: at for kid, at in rows}


class StatusLists(_Repo):
    def open_for(self, world_id: str, fill: int) -> StatusListRecord | None:
        """The world's fullest list with fewer than ``fill`` entries in use, locked for
        update (a row lock on PostgreSQL); None if every list is closed.

        By use, not by last change: a revocation in a closed list changes that list, and
        must not make it look like the one to allocate from.
        """
        sl = t.status_lists
        row = self.conn.execute(
            select(sl.c.id, sl.c.world_id, sl.c.capacity, sl.c.used, sl.c.allocated, sl.c.bits)
            .where(sl.c.world_id == world_id, sl.c.used < fill)
            .order_by(sl.c.used.desc(), sl.c.id)
            .limit(1)
            .with_for_update()
        ).first()
        return StatusListRecord(*row) if row else None

    def get(self, list_id: str, *, lock: bool = False) -> StatusListRecord | None:
        sl = t.status_lists
        q = select(
            sl.c.id, sl.c.world_id, sl.c.capacity, sl.c.used, sl.c.allocated, sl.c.bits
        ).where(sl.c.id == list_id)
        row = self.conn.execute(q.with_for_update() if lock else q).first()
        return StatusListRecord(*row) if row else None

    def bits(self, list_id: str) -> tuple[bytes, datetime] | None:
        sl = t.status_lists
        row = self.conn.execute(
            select(sl.c.bits, sl.c.updated_at).where(sl.c.id == list_id)
        ).first()
        return (bytes(row[0]), row[1]) if row else None

    def add(self, record: StatusListRecord, at: datetime) -> None:
        self.conn.execute(
            insert(t.status_lists).values(
                id=record.id,
                world_id=record.world_id,
                capacity=record.capacity,
                used=record.used,
                allocated=record.allocated,
                bits=record.bits,
                updated_at=at,
            )
        )

    def save(self, record: StatusListRecord, at: datetime) -> None:
        sl = t.status_lists
        self.conn.execute(
            update(sl)
            .where(sl.c.id == record.id)
            .values(used=record.used, allocated=record.allocated, bits=record.bits, updated_at=at)
        )


class Passes(_Repo):
    _cols = (
        t.passes.c.id,
        t.passes.c.persona_id,
        t.passes.c.world_id,
        t.passes.c.status_list_id,
        t.passes.c.status_index,
        t.passes.c.holder_kid,
        t.passes.c.issued_at,
        t.passes.c.expires_at,
        t.passes.c.revoked_at,
        t.passes.c.revoked_by,
    )

    def add(self, record: PassRecord) -> None:
        self.conn.execute(insert(t.passes).values(row_values(record, self._cols)))

    def get(self, pass_id: str) -> PassRecord | None:
        row = self.conn.execute(select(*self._cols).where(t.passes.c.id == pass_id)).first()
        return PassRecord(**row._mapping) if row else None

    def latest_expiry(self) -> datetime | None:
        """When the last pass issued so far expires."""
        q = select(func.max(t.passes.c.expires_at))
        latest: datetime | None = self.conn.execute(q).scalar()
        return latest

    def for_persona(self, persona_id: str) -> list[PassRecord]:
        rows = self.conn.execute(
            select(*self._cols)
            .where(t.passes.c.persona_id == persona_id)
            .order_by(t.passes.c.issued_at.desc())
        )
        return [PassRecord(**row._mapping) for row in rows]

    def mark_revoked(self, pass_id: str, at: datetime, by: str) -> bool:
        p = t.passes
        result = self.conn.execute(
            update(p)
            .where(p.c.id == pass_id, p.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by)
        )
        return result.rowcount > 0

    def mark_revoked_for_good(self, pass_id: str, at: datetime, by: str) -> None:
        """Revoke as ``by``, whoever revoked the pass before (keeping the first time), so
        that lifting an earlier revoker's sanction cannot undo it."""
        p = t.passes
        self.conn.execute(
            update(p)
            .where(p.c.id == pass_id)
            .values(revoked_at=func.coalesce(p.c.revoked_at, at), revoked_by=by)
        )


class DoorNonces(_Repo):
    def add(self, nonce_hash: bytes, world_id: str, expires_at: datetime) -> None:
        self.conn.execute(
            insert(t.door_nonces).values(
                nonce_hash=nonce_hash, world_id=world_id, expires_at=expires_at, used_at=None
            )
        )

    def purge_expired(self, world_id: str, now: datetime) -> int:
        n = t.door_nonces
        result = self.conn.execute(delete(n).where(n.c.world_id == world_id, n.c.expires_at <= now))
        return result.rowcount


class Notices(_Repo):
    _cols = (
        t.notices.c.id,
        t.notices.c.owner,
        t.notices.c.kind,
        t.notices.c.sealed,
        t.notices.c.created_at,
        t.notices.c.deliver_after,
        t.notices.c.read_at,
        t.notices.c.outbox_event_id,
    )

    def add(self, record: NoticeRecord) -> None:
        self.conn.execute(insert(t.notices).values(row_values(record, self._cols)))

    def delivered_to(self, owners: Sequence[str], now: datetime, limit: int) -> list[NoticeRecord]:
        """Notices for these owners whose delivery time has come, newest first."""
        if not owners:
            return []
        n = t.notices
        rows = self.conn.execute(
            select(*self._cols)
            .where(
                n.c.owner.in_(list(owners)),
                (n.c.deliver_after.is_(None)) | (n.c.deliver_after <= now),
            )
            .order_by(n.c.created_at.desc(), n.c.id)
            .limit(limit)
        )
        return [NoticeRecord(**row._mapping) for row in rows]

    def mark_read(self, notice_id: str, owners: Sequence[str], now: datetime) -> bool:
        n = t.notices
        result = self.conn.execute(
            update(n)
            .where(n.c.id == notice_id, n.c.owner.in_(list(owners)), n.c.read_at.is_(None))
            .values(read_at=now)
        )
        return result.rowcount > 0
