"""Moderation repositories: policies, reports, cases, decisions, sanctions, strikes, appeals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from personae.store import tables as t
from personae.store.moderation_records import (
    AppealRecord,
    CaseRecord,
    DecisionRecord,
    NoteRecord,
    PolicyRecord,
    QueueCursor,
    ReporterRecord,
    ReportRecord,
    SanctionRecord,
    StrikeRecord,
)

R = TypeVar("R")

CHUNK = 500
"""Most keys bound in one ``IN`` list (SQLite caps the parameters of a statement)."""


def _chunks(keys: Sequence[str]) -> list[list[str]]:
    unique = sorted(set(keys))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


# The records are part of this module's interface (services import them from here).
__all__ = [
    "AppealRecord",
    "CaseRecord",
    "DecisionRecord",
    "ExpiredCase",
    "ModerationRepos",
    "NoteRecord",
    "PolicyRecord",
    "QueueCursor",
    "ReportRecord",
    "ReporterRecord",
    "SanctionRecord",
    "StrikeRecord",
]


class _Table:
    """Insert a record, read records back: the column names are the record's fields."""

    table: Table

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, record: Any) -> None:
        self.conn.execute(insert(self.table).values(asdict(record)))

    def _rows(
        self, record_type: type[R], *where: Any, order: Sequence[Any] = (), limit: int | None = None
    ) -> list[R]:
        rows = self.conn.execute(select(self.table).where(*where).order_by(*order).limit(limit))
        return [record_type(**row._mapping) for row in rows]

    def _update(self, *where: Any, **values: Any) -> int:
        return int(self.conn.execute(update(self.table).where(*where).values(**values)).rowcount)

    def _rows_among(
        self, record_type: type[R], column: Any, keys: Sequence[str], *where: Any
    ) -> list[R]:
        """The rows whose ``column`` is one of ``keys``, a bounded ``IN`` list at a time."""
        found: list[R] = []
        for chunk in _chunks(keys):
            found += self._rows(record_type, column.in_(chunk), *where)
        return found


class Policies(_Table):
    table = t.policies

    def add(self, policy_id: str, record: PolicyRecord) -> None:
        self.conn.execute(insert(self.table).values(id=policy_id, **asdict(record)))

    def versions(self, scope: str) -> list[PolicyRecord]:
        p = self.table.c
        rows = self.conn.execute(
            select(p.scope, p.version, p.clauses, p.published_at, p.published_by)
            .where(p.scope == scope)
            .order_by(p.version)
        )
        return [PolicyRecord(*row) for row in rows]

    def in_force(self, scope: str, at: datetime) -> PolicyRecord | None:
        """The newest version published at or before ``at``."""
        p = self.table.c
        row = self.conn.execute(
            select(p.scope, p.version, p.clauses, p.published_at, p.published_by)
            .where(p.scope == scope, p.published_at <= at)
            .order_by(p.version.desc())
            .limit(1)
        ).first()
        return PolicyRecord(*row) if row else None

    def latest_version(self, scope: str) -> int:
        p = self.table.c
        q = select(func.max(p.version)).where(p.scope == scope)
        return int(self.conn.execute(q).scalar_one_or_none() or 0)


class Reports(_Table):
    table = t.reports

    def add(self, record: ReportRecord) -> None:
        self._insert(record)

    def get(self, report_id: str) -> ReportRecord | None:
        found = self._rows(ReportRecord, self.table.c.id == report_id)
        return found[0] if found else None

    def for_case(self, case_id: str) -> list[ReportRecord]:
        return self._rows(
            ReportRecord, self.table.c.case_id == case_id, order=[self.table.c.received_at]
        )

    def by_reporter(self, reporter: str) -> list[ReportRecord]:
        """Every report filed from this reporter address, oldest first (the export)."""
        c = self.table.c
        return self._rows(ReportRecord, c.reporter == reporter, order=[c.received_at, c.id])

    def mark_unfounded(self, case_id: str) -> int:
        c = self.table.c
        return self._update(c.case_id == case_id, c.unfounded.is_(False), unfounded=True)


class Cases(_Table):
    table = t.cases

    def add(self, record: CaseRecord) -> None:
        self._insert(record)

    def get(self, case_id: str) -> CaseRecord | None:
        found = self._rows(CaseRecord, self.table.c.id == case_id)
        return found[0] if found else None

    def open_for(self, open_key: str) -> CaseRecord | None:
        found = self._rows(CaseRecord, self.table.c.open_key == open_key)
        return found[0] if found else None

    def fold(self, case_id: str, priority: int) -> None:
        """One more report on an open case; its priority may rise (a lower number)."""
        c = self.table.c
        self._update(
            c.id == case_id,
            report_count=c.report_count + 1,
            priority=func.min(c.priority, priority)
            if self.conn.dialect.name == "sqlite"
            else func.least(c.priority, priority),
        )

    def move(
        self,
        case_id: str,
        from_statuses: Sequence[str],
        *,
        escalated: bool | None = None,
        **values: Any,
    ) -> bool:
        """A conditional update: true only if the case was still in one of ``from_statuses``
        (and, given ``escalated``, still escalated or not, as the caller read it).

        Two reviewers racing on one case both issue it; the database lets exactly
        one of them match (a row lock on PostgreSQL, the write lock on SQLite).
        PostgreSQL re-checks the condition on the row as the winner committed it, so
        the condition must hold everything the caller's permission was read from.
        """
        c = self.table.c
        where = [c.id == case_id, c.status.in_(list(from_statuses))]
        if escalated is not None:
            where.append(c.escalated_at.is_not(None) if escalated else c.escalated_at.is_(None))
        return self._update(*where, **values) == 1

    def page(self, queue: str, limit: int, after: QueueCursor | None) -> list[CaseRecord]:
        """One page of a queue in its order, read from the queue index."""
        c = self.table.c
        where = [c.queue == queue]
        if after is not None:
            where.append(
                tuple_(c.priority, c.created_at, c.id)
                > tuple_(after.priority, after.created_at, after.case_id)
            )
        rows = self.conn.execute(
            select(self.table).where(*where).order_by(c.priority, c.created_at, c.id).limit(limit)
        )
        return [CaseRecord(**row._mapping) for row in rows]


class Notes(_Table):
    table = t.case_notes

    def add(self, record: NoteRecord) -> None:
        self._insert(record)

    def for_case(self, case_id: str, visibility: str | None = None) -> list[NoteRecord]:
        c = self.table.c
        where = [c.case_id == case_id]
        if visibility is not None:
            where.append(c.visibility == visibility)
        return self._rows(NoteRecord, *where, order=[c.created_at, c.id])

    def for_cases(self, case_ids: Sequence[str], visibility: str) -> list[NoteRecord]:
        """The notes of this visibility on any of these cases, oldest first."""
        c = self.table.c
        found = self._rows_among(NoteRecord, c.case_id, case_ids, c.visibility == visibility)
        return sorted(found, key=lambda n: (n.created_at, n.id))


class Decisions(_Table):
    table = t.decisions

    def add(self, record: DecisionRecord) -> None:
        self._insert(record)

    def get(self, decision_id: str) -> DecisionRecord | None:
        found = self._rows(DecisionRecord, self.table.c.id == decision_id)
        return found[0] if found else None

    def for_case(self, case_id: str) -> DecisionRecord | None:
        found = self._rows(DecisionRecord, self.table.c.case_id == case_id)
        return found[0] if found else None

    def for_personas(self, persona_ids: Sequence[str]) -> list[DecisionRecord]:
        if not persona_ids:
            return []
        c = self.table.c
        return self._rows(
            DecisionRecord, c.persona_id.in_(list(persona_ids)), order=[c.decided_at.desc()]
        )

    def for_cases(self, case_ids: Sequence[str]) -> list[DecisionRecord]:
        """The decisions (at most one each) of any of these cases."""
        return self._rows_among(DecisionRecord, self.table.c.case_id, case_ids)

    def upheld_count(self, persona_id: str, world_id: str, no_action: str, reversed_: str) -> int:
        """Decisions on the persona in this world that stand with a measure: not reversed,
        and counted by their effective measure (an appeal's modified one, if any), so a
        decision modified to no action on appeal no longer counts."""
        c, a = self.table.c, t.appeals.c
        effective = func.coalesce(a.modified_measure, c.measure)
        q = (
            select(func.count())
            .select_from(self.table.outerjoin(t.appeals, a.decision_id == c.id))
            .where(
                c.persona_id == persona_id,
                c.world_id == world_id,
                c.status != reversed_,
                effective != no_action,
            )
        )
        return int(self.conn.execute(q).scalar_one())

    def set_status(self, decision_id: str, status: str) -> None:
        self._update(self.table.c.id == decision_id, status=status)

    def set_outbox_event(self, decision_id: str, event_id: int) -> None:
        self._update(self.table.c.id == decision_id, outbox_event_id=event_id)


class Sanctions(_Table):
    table = t.sanctions

    def add(self, record: SanctionRecord) -> None:
        self._insert(record)

    def link_pass(self, sanction_id: str, pass_id: str) -> None:
        self.conn.execute(
            insert(t.sanction_passes).values(sanction_id=sanction_id, pass_id=pass_id)
        )

    def in_force(
        self, persona_id: str, now: datetime, *, blocking: bool = False, pending: bool = False
    ) -> list[SanctionRecord]:
        """The persona's sanctions in force at ``now`` (not lifted, begun, not ended); with
        ``pending``, also those that have yet to begin."""
        c = self.table.c
        where = [
            c.persona_id == persona_id,
            c.lifted_at.is_(None),
            c.ends_at.is_(None) | (c.ends_at > now),
        ]
        if not pending:
            where.append(c.starts_at <= now)
        if blocking:
            where.append(c.blocks_passes.is_(True))
        return self._rows(SanctionRecord, *where, order=[c.starts_at])

    def platform_not_over(self, persona_ids: Sequence[str], now: datetime) -> list[SanctionRecord]:
        """Sanctions of platform-scope decisions on any of these personas that are in force
        or yet to begin (not lifted, not ended)."""
        c = self.table.c
        found = self._rows_among(
            SanctionRecord,
            c.persona_id,
            persona_ids,
            c.platform.is_(True),
            c.lifted_at.is_(None),
            c.ends_at.is_(None) | (c.ends_at > now),
        )
        return sorted(found, key=lambda s: (s.starts_at, s.id))

    def for_personas(self, persona_ids: Sequence[str]) -> list[SanctionRecord]:
        """Every sanction on any of these personas, lifted or ended included, oldest first."""
        found = self._rows_among(SanctionRecord, self.table.c.persona_id, persona_ids)
        return sorted(found, key=lambda s: (s.starts_at, s.id))

    def by_refs(self, refs: Sequence[bytes]) -> list[SanctionRecord]:
        c = self.table.c
        return self._rows(SanctionRecord, c.decision_ref.in_(list(refs)), c.lifted_at.is_(None))

    def lift(self, sanction_id: str, now: datetime) -> None:
        c = self.table.c
        self._update(c.id == sanction_id, c.lifted_at.is_(None), lifted_at=now)

    def passes_of(self, sanction_id: str) -> list[str]:
        sp = t.sanction_passes.c
        q = select(sp.pass_id).where(sp.sanction_id == sanction_id)
        return list(self.conn.execute(q).scalars())

    def unrevoke_pass(self, pass_id: str, by: str) -> bool:
        """Clear a pass's revocation, only if moderation (``by``) revoked it."""
        p = t.passes.c
        result = self.conn.execute(
            update(t.passes)
            .where(p.id == pass_id, p.revoked_by == by)
            .values(revoked_at=None, revoked_by=None)
        )
        return result.rowcount == 1


class Strikes(_Table):
    table = t.strikes

    def add(self, record: StrikeRecord) -> None:
        self._insert(record)

    def active_weight(self, persona_id: str, world_id: str, now: datetime) -> int:
        c = self.table.c
        q = select(func.coalesce(func.sum(c.weight), 0)).where(
            c.persona_id == persona_id,
            c.world_id == world_id,
            c.removed_at.is_(None),
            c.expires_at > now,
        )
        return int(self.conn.execute(q).scalar_one())

    def for_personas(self, persona_ids: Sequence[str]) -> list[StrikeRecord]:
        """Every strike on any of these personas, expired or removed included, oldest first."""
        found = self._rows_among(StrikeRecord, self.table.c.persona_id, persona_ids)
        return sorted(found, key=lambda s: (s.issued_at, s.id))

    def remove(self, decision_id: str, now: datetime) -> bool:
        c = self.table.c
        return (
            self._update(c.decision_id == decision_id, c.removed_at.is_(None), removed_at=now) > 0
        )


class Appeals(_Table):
    table = t.appeals

    def add(self, record: AppealRecord) -> None:
        self._insert(record)

    def get(self, appeal_id: str) -> AppealRecord | None:
        found = self._rows(AppealRecord, self.table.c.id == appeal_id)
        return found[0] if found else None

    def for_decision(self, decision_id: str) -> AppealRecord | None:
        found = self._rows(AppealRecord, self.table.c.decision_id == decision_id)
        return found[0] if found else None

    def for_decisions(self, decision_ids: Sequence[str]) -> list[AppealRecord]:
        """The appeals (at most one each) of any of these decisions, oldest first."""
        found = self._rows_among(AppealRecord, self.table.c.decision_id, decision_ids)
        return sorted(found, key=lambda a: (a.filed_at, a.id))

    def pending(
        self,
        limit: int,
        *,
        world_id: str | None = None,
        escalated: bool | None = None,
        not_decided_by: str | None = None,
    ) -> list[AppealRecord]:
        """The oldest pending appeals on cases of ``world_id`` (any, if None) that are
        escalated or not (either, if None), of decisions not made by ``not_decided_by``
        (anyone's, if None): filtered here, before the limit."""
        a, d, c = self.table.c, t.decisions.c, t.cases.c
        q = (
            select(self.table)
            .join(t.decisions, d.id == a.decision_id)
            .join(t.cases, c.id == d.case_id)
            .where(a.status == "pending")
        )
        if world_id is not None:
            q = q.where(c.world_id == world_id)
        if not_decided_by is not None:
            q = q.where(d.decided_by != not_decided_by)
        if escalated is not None:
            q = q.where(c.escalated_at.is_not(None) if escalated else c.escalated_at.is_(None))
        rows = self.conn.execute(q.order_by(a.filed_at, a.id).limit(limit))
        return [AppealRecord(**row._mapping) for row in rows]

    def close(self, appeal_id: str, **values: Any) -> bool:
        """Decide a pending appeal (conditional: one outcome per appeal)."""
        c = self.table.c
        return (
            self._update(c.id == appeal_id, c.status == "pending", status="decided", **values) == 1
        )


class Reporters(_Table):
    table = t.reporters

    def get(self, reporter: str) -> ReporterRecord | None:
        found = self._rows(ReporterRecord, self.table.c.reporter == reporter)
        return found[0] if found else None

    def count_unfounded(self, reporter: str, count: int) -> int:
        """Add ``count`` manifestly unfounded reports; the reporter's new total."""
        c = self.table.c
        if not self._update(c.reporter == reporter, unfounded=c.unfounded + count):
            self.conn.execute(
                insert(self.table).values(
                    reporter=reporter, unfounded=count, warned_at=None, deprioritised_until=None
                )
            )
        found = self.get(reporter)
        return found.unfounded if found else count

    def mark(self, reporter: str, **values: datetime) -> None:
        self._update(self.table.c.reporter == reporter, **values)


class StandingAssurance(_Table):
    table = t.standing_assurance

    def put(self, persona_id: str, assurance: str) -> None:
        """Record the level for a persona, writing only when it changed: a person's
        personas are confirmed together, and rows rewritten (or stamped) together would
        line them up."""
        c = self.table.c
        if self.get(persona_id) == assurance:
            return
        if not self._update(c.persona_id == persona_id, assurance=assurance):
            self.conn.execute(insert(self.table).values(persona_id=persona_id, assurance=assurance))

    def get(self, persona_id: str) -> str | None:
        c = self.table.c
        q = select(c.assurance).where(c.persona_id == persona_id)
        value = self.conn.execute(q).scalar_one_or_none()
        return str(value) if value is not None else None


@dataclass(frozen=True)
class ExpiredCase:
    """A case past its retention: its decision (None for a case closed without one)."""

    case_id: str
    persona_id: str
    decision_id: str | None
    scope: str | None
    starts_at: datetime | None


class ModerationExpiry:
    """The retention sweep's reads and deletes over whole cases (``uow.moderation.expiry``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def expired_cases(
        self, cutoff: datetime, now: datetime, after: str | None, limit: int
    ) -> list[ExpiredCase]:
        """The next ``limit`` cases, by id after ``after``, whose records have expired.

        A decided case has expired when its appeal window closed before ``cutoff``,
        no appeal of it is pending and no strike of it still counts at ``now``; a case
        closed without a decision, when it closed (or, failing that, opened) before
        ``cutoff``. Undecided cases never expire. Sanctions and holds are the caller's.
        """
        c, d, a, s = t.cases.c, t.decisions.c, t.appeals.c, t.strikes.c
        pending = exists().where(a.decision_id == d.id, a.status == "pending")
        striking = exists().where(s.decision_id == d.id, s.removed_at.is_(None), s.expires_at > now)
        q = (
            select(c.id, c.persona_id, d.id, d.scope, d.starts_at)
            .select_from(t.cases.outerjoin(t.decisions, d.case_id == c.id))
            .where(
                or_(
                    and_(d.id.is_not(None), d.appeal_deadline < cutoff, ~pending, ~striking),
                    and_(
                        d.id.is_(None),
                        c.status == "closed",
                        func.coalesce(c.decided_at, c.created_at) < cutoff,
                    ),
                )
            )
        )
        if after is not None:
            q = q.where(c.id > after)
        rows = self.conn.execute(q.order_by(c.id).limit(limit))
        return [ExpiredCase(*row) for row in rows]

    def reporters_of(self, case_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(case id, reporter address) of every report on these cases."""
        if not case_ids:
            return []
        r = t.reports.c
        q = select(r.case_id, r.reporter).where(r.case_id.in_(list(case_ids)))
        return [(str(case_id), str(reporter)) for case_id, reporter in self.conn.execute(q)]

    def sanction_candidates(
        self, refs: Sequence[bytes], starts: Sequence[datetime]
    ) -> list[SanctionRecord]:
        """Sanctions naming one of ``refs``, or starting at one of ``starts`` (the caller
        tells which of the latter belong to a decision by recomputing their refs)."""
        c = t.sanctions.c
        where = [c.decision_ref.in_(list(refs))] if refs else []
        if starts:
            where.append(c.starts_at.in_(list(starts)))
        if not where:
            return []
        rows = self.conn.execute(select(t.sanctions).where(or_(*where)).order_by(c.id))
        return [SanctionRecord(**row._mapping) for row in rows]

    def delete_cases(
        self, case_ids: Sequence[str], decision_ids: Sequence[str], sanction_ids: Sequence[str]
    ) -> int:
        """Delete these cases with everything that hangs off them, children first; rows deleted."""
        steps: list[tuple[Table, Any, Sequence[str]]] = [
            (t.sanction_passes, t.sanction_passes.c.sanction_id, sanction_ids),
            (t.sanctions, t.sanctions.c.id, sanction_ids),
            (t.strikes, t.strikes.c.decision_id, decision_ids),
            (t.appeals, t.appeals.c.decision_id, decision_ids),
            (t.decisions, t.decisions.c.id, decision_ids),
            (t.case_notes, t.case_notes.c.case_id, case_ids),
            (t.reports, t.reports.c.case_id, case_ids),
            (t.cases, t.cases.c.id, case_ids),
        ]
        deleted = 0
        for table, column, keys in steps:
            if keys:
                result = self.conn.execute(delete(table).where(column.in_(list(keys))))
                deleted += int(result.rowcount)
        return deleted


class ModerationRepos:
    """Every moderation repository on one connection (``uow.moderation``)."""

    def __init__(self, conn: Connection) -> None:
        self.policies = Policies(conn)
        self.reports = Reports(conn)
        self.cases = Cases(conn)
        self.notes = Notes(conn)
        self.decisions = Decisions(conn)
        self.sanctions = Sanctions(conn)
        self.strikes = Strikes(conn)
        self.appeals = Appeals(conn)
        self.reporters = Reporters(conn)
        self.assurance = StandingAssurance(conn)
        self.expiry = ModerationExpiry(conn)
