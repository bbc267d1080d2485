"""Repositories of lawful access: requests, production packages, legal holds and their subjects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from personae.domain.lawful_access import OPEN_REQUEST_ANCHOR_CAP
from personae.store import tables as t


@dataclass(frozen=True)
class LawfulRequestRecord:
    id: str
    authority: str
    authority_verification: str
    jurisdiction: str
    process_type: str
    document_ref: str
    document_sha256: str
    target_world_id: str
    target_persona_id: str
    target_scope: str
    categories: list[str]
    range_start: datetime
    range_end: datetime
    nondisclosure_until: datetime | None
    deadline: datetime
    justification: str | None
    status: str
    intake_by: str
    intake_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    approved_categories: list[str] | None = None
    decision_reason: str | None = None
    executed_by: str | None = None
    executed_at: datetime | None = None
    review_due_at: datetime | None = None
    reviewed_by: str | None = None
    review_outcome: str | None = None
    review_missed: bool = False
    handover: str | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    notice_id: str | None = None
    renewals: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PackageRecord:
    request_id: str
    sealed: bytes
    sha256: str
    manifest: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class HoldRecord:
    id: str
    request_id: str | None
    basis: str
    scope: str
    world_id: str
    persona_id: str
    created_by: str
    created_at: datetime
    ends_at: datetime
    extensions: int
    ended_at: datetime | None


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class LawfulRequests(_Repo):
    _cols = tuple(t.lawful_requests.c)

    def add(self, record: LawfulRequestRecord) -> None:
        self.conn.execute(insert(t.lawful_requests).values(asdict(record)))

    def save(self, record: LawfulRequestRecord) -> None:
        values = asdict(record)
        del values["id"]
        lr = t.lawful_requests
        self.conn.execute(update(lr).where(lr.c.id == record.id).values(values))

    def get(self, request_id: str, *, lock: bool = False) -> LawfulRequestRecord | None:
        q = select(*self._cols).where(t.lawful_requests.c.id == request_id)
        row = self.conn.execute(q.with_for_update() if lock else q).first()
        return LawfulRequestRecord(**row._mapping) if row else None

    def all(self, limit: int) -> list[LawfulRequestRecord]:
        lr = t.lawful_requests
        rows = self.conn.execute(
            select(*self._cols).order_by(lr.c.intake_at.desc(), lr.c.id).limit(limit)
        )
        return [LawfulRequestRecord(**row._mapping) for row in rows]

    def reviews_overdue(self, now: datetime) -> list[LawfulRequestRecord]:
        """Emergency executions whose second review is late and not yet flagged."""
        lr = t.lawful_requests
        rows = self.conn.execute(
            select(*self._cols).where(
                lr.c.review_due_at < now,
                lr.c.reviewed_by.is_(None),
                lr.c.review_missed.is_(False),
            )
        )
        return [LawfulRequestRecord(**row._mapping) for row in rows]

    def closed_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Requests whose retention anchor is before ``cutoff``: their closure, or for one
        never closed its deadline, at the latest ``OPEN_REQUEST_ANCHOR_CAP`` after intake."""
        lr = t.lawful_requests
        never_closed = and_(
            lr.c.closed_at.is_(None),
            or_(lr.c.deadline < cutoff, lr.c.intake_at < cutoff - OPEN_REQUEST_ANCHOR_CAP),
        )
        q = (
            select(lr.c.id)
            .where(or_(lr.c.closed_at < cutoff, never_closed))
            .order_by(lr.c.closed_at, lr.c.id)
            .limit(limit)
        )
        return list(self.conn.execute(q).scalars())

    def remove(self, request_ids: Sequence[str]) -> int:
        lr = t.lawful_requests
        return self.conn.execute(delete(lr).where(lr.c.id.in_(list(request_ids)))).rowcount

    def reschedule_notice(self, notice_id: str, deliver_after: datetime) -> None:
        """Move the delivery of the request's notice to the person (a renewed order)."""
        n = t.notices
        self.conn.execute(update(n).where(n.c.id == notice_id).values(deliver_after=deliver_after))


class Packages(_Repo):
    def add(self, record: PackageRecord) -> None:
        self.conn.execute(insert(t.lawful_packages).values(asdict(record)))

    def remove(self, request_id: str) -> None:
        p = t.lawful_packages
        self.conn.execute(delete(p).where(p.c.request_id == request_id))

    def get(self, request_id: str) -> PackageRecord | None:
        p = t.lawful_packages
        row = self.conn.execute(select(*p.c).where(p.c.request_id == request_id)).first()
        return PackageRecord(**row._mapping) if row else None


class Holds(_Repo):
    _cols = tuple(t.legal_holds.c)

    def add(self, record: HoldRecord, subjects: Iterable[bytes]) -> None:
        self.conn.execute(insert(t.legal_holds).values(asdict(record)))
        rows = [{"hold_id": record.id, "subject_hash": s} for s in set(subjects)]
        if rows:
            self.conn.execute(insert(t.hold_subjects), rows)

    def get(self, hold_id: str, *, lock: bool = False) -> HoldRecord | None:
        q = select(*self._cols).where(t.legal_holds.c.id == hold_id)
        row = self.conn.execute(q.with_for_update() if lock else q).first()
        return HoldRecord(**row._mapping) if row else None

    def of_basis_covering(self, basis: str, subject: bytes) -> list[HoldRecord]:
        """Every hold of ``basis`` that covers (or covered) ``subject``, running or ended."""
        h, s = t.legal_holds, t.hold_subjects
        q = (
            select(*self._cols)
            .join(s, s.c.hold_id == h.c.id)
            .where(s.c.subject_hash == subject, h.c.basis == basis)
            .order_by(h.c.created_at, h.c.id)
        )
        return [HoldRecord(**row._mapping) for row in self.conn.execute(q)]

    def extend(self, hold_id: str, ends_at: datetime, extensions: int) -> None:
        h = t.legal_holds
        self.conn.execute(
            update(h).where(h.c.id == hold_id).values(ends_at=ends_at, extensions=extensions)
        )

    def all(self, limit: int) -> list[HoldRecord]:
        h = t.legal_holds
        rows = self.conn.execute(
            select(*self._cols).order_by(h.c.created_at.desc(), h.c.id).limit(limit)
        )
        return [HoldRecord(**row._mapping) for row in rows]

    def active_subjects(self, now: datetime) -> set[bytes]:
        """Every subject hash an active hold covers (holds end by themselves at ``ends_at``)."""
        h, s = t.legal_holds, t.hold_subjects
        q = (
            select(s.c.subject_hash)
            .join(h, h.c.id == s.c.hold_id)
            .where(h.c.ended_at.is_(None), h.c.ends_at > now)
        )
        return {bytes(v) for v in self.conn.execute(q).scalars()}

    def latest_end(self, subjects: Sequence[bytes], now: datetime) -> datetime | None:
        """When the last active hold covering any of ``subjects`` ends; None if none does."""
        if not subjects:
            return None
        h, s = t.legal_holds, t.hold_subjects
        q = (
            select(h.c.ends_at)
            .join(s, h.c.id == s.c.hold_id)
            .where(s.c.subject_hash.in_(list(subjects)), h.c.ended_at.is_(None), h.c.ends_at > now)
            .order_by(h.c.ends_at.desc())
            .limit(1)
        )
        return self.conn.execute(q).scalar_one_or_none()

    def lapsed(self, now: datetime) -> list[HoldRecord]:
        """Holds past their end not yet marked ended."""
        h = t.legal_holds
        rows = self.conn.execute(
            select(*self._cols).where(h.c.ended_at.is_(None), h.c.ends_at <= now)
        )
        return [HoldRecord(**row._mapping) for row in rows]

    def mark_ended(self, hold_id: str, at: datetime) -> bool:
        h = t.legal_holds
        result = self.conn.execute(
            update(h).where(h.c.id == hold_id, h.c.ended_at.is_(None)).values(ended_at=at)
        )
        return result.rowcount > 0

    def ended_before(self, cutoff: datetime, limit: int) -> list[str]:
        h = t.legal_holds
        q = select(h.c.id).where(h.c.ended_at < cutoff).order_by(h.c.ended_at).limit(limit)
        return list(self.conn.execute(q).scalars())

    def remove(self, hold_ids: Sequence[str]) -> int:
        h = t.legal_holds
        return self.conn.execute(delete(h).where(h.c.id.in_(list(hold_ids)))).rowcount
