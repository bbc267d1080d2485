"""Repositories of the web pages: passkeys, single-use WebAuthn challenges, staff TOTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from personae.store import tables as t
from personae.store.repositories import row_values


@dataclass(frozen=True)
class PasskeyRecord:
    credential_id: bytes
    person_id: str
    public_key: bytes
    sign_count: int
    label: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class TotpRecord:
    staff_id: str
    sealed_secret: bytes
    enrolled_at: datetime
    last_step: int


class Passkeys:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    _cols = (
        t.web_passkeys.c.credential_id,
        t.web_passkeys.c.person_id,
        t.web_passkeys.c.public_key,
        t.web_passkeys.c.sign_count,
        t.web_passkeys.c.label,
        t.web_passkeys.c.created_at,
        t.web_passkeys.c.last_used_at,
    )

    def add(self, record: PasskeyRecord) -> None:
        self.conn.execute(insert(t.web_passkeys).values(row_values(record, self._cols)))

    def get(self, credential_id: bytes) -> PasskeyRecord | None:
        row = self.conn.execute(
            select(*self._cols).where(t.web_passkeys.c.credential_id == credential_id)
        ).first()
        return PasskeyRecord(*row) if row else None

    def for_person(self, person_id: str) -> list[PasskeyRecord]:
        rows = self.conn.execute(
            select(*self._cols)
            .where(t.web_passkeys.c.person_id == person_id)
            .order_by(t.web_passkeys.c.created_at)
        )
        return [PasskeyRecord(*row) for row in rows]

    def used(self, credential_id: bytes, sign_count: int, now: datetime) -> None:
        self.conn.execute(
            update(t.web_passkeys)
            .where(t.web_passkeys.c.credential_id == credential_id)
            .values(sign_count=sign_count, last_used_at=now)
        )

    def remove(self, person_id: str, credential_id: bytes) -> bool:
        result = self.conn.execute(
            delete(t.web_passkeys).where(
                t.web_passkeys.c.credential_id == credential_id,
                t.web_passkeys.c.person_id == person_id,
            )
        )
        return result.rowcount > 0


class Challenges:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, challenge_hash: bytes, purpose: str, person_id: str | None, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(t.web_challenges).values(
                challenge_hash=challenge_hash,
                purpose=purpose,
                person_id=person_id,
                expires_at=expires_at,
            )
        )

    def consume(self, challenge_hash: bytes, purpose: str, now: datetime) -> str | None:
        """Delete the challenge; the person it was made for ("" for none), or None if unusable.

        One statement (DELETE … RETURNING): of two concurrent consumers only the one
        whose delete removed the row gets it, the other sees no row (None).
        """
        c = t.web_challenges.c
        row = self.conn.execute(
            delete(t.web_challenges)
            .where(c.challenge_hash == challenge_hash, c.purpose == purpose)
            .returning(c.person_id, c.expires_at)
        ).first()
        if row is None or row.expires_at <= now:
            return None
        return str(row.person_id or "")

    def purge_expired(self, now: datetime) -> int:
        result = self.conn.execute(
            delete(t.web_challenges).where(t.web_challenges.c.expires_at <= now)
        )
        return result.rowcount


class StaffTotp:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put(self, staff_id: str, sealed_secret: bytes, now: datetime) -> None:
        self.conn.execute(delete(t.staff_totp).where(t.staff_totp.c.staff_id == staff_id))
        self.conn.execute(
            insert(t.staff_totp).values(
                staff_id=staff_id, sealed_secret=sealed_secret, enrolled_at=now, last_step=-1
            )
        )

    def get(self, staff_id: str) -> TotpRecord | None:
        c = t.staff_totp.c
        row = self.conn.execute(
            select(c.staff_id, c.sealed_secret, c.enrolled_at, c.last_step).where(
                c.staff_id == staff_id
            )
        ).first()
        return TotpRecord(*row) if row else None

    def advance(self, staff_id: str, previous: int, step: int) -> bool:
        """Record ``step`` as used, only if no later code was accepted meanwhile."""
        c = t.staff_totp.c
        result = self.conn.execute(
            update(t.staff_totp)
            .where(c.staff_id == staff_id, c.last_step == previous)
            .values(last_step=step)
        )
        return result.rowcount == 1
