"""Cases for reviewers: who may act on a case, reviewer codes, queues, assignment, escalation."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from personae.crypto import tokens
from personae.crypto.pseudonyms import is_persona_id
from personae.domain.events import Event, EventType
from personae.domain.moderation import (
    TRANSITIONS,
    CaseAction,
    CaseStatus,
    Reviewer,
    Source,
    allowed,
    case_priority,
    reviewer_kind,
)
from personae.domain.policy import PLATFORM
from personae.domain.standing import StrikeThresholds
from personae.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from personae.services.auth import StaffPrincipal
from personae.services.context import ServiceContext
from personae.services.policies import clause_in_force
from personae.store.moderation_repo import (
    CaseRecord,
    DecisionRecord,
    NoteRecord,
    QueueCursor,
)
from personae.store.uow import UnitOfWork

MAX_PAGE = 200
NOTE_VISIBILITIES = frozenset({"internal", "reporter"})


@dataclass(frozen=True)
class ReportView:
    """A report as a reviewer sees it: who reported is only ever a kind (person or world)."""

    id: str
    reporter_kind: str
    location: str
    explanation: str
    received_at: datetime
    credible: bool
    unfounded: bool


@dataclass(frozen=True)
class QueuePage:
    cases: list[CaseRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class CaseDetail:
    case: CaseRecord
    reports: list[ReportView]
    notes: list[NoteRecord]
    decision: DecisionRecord | None
    active_strike_weight: int
    suggestion: str | None


@dataclass(frozen=True)
class Reviewing:
    """A moderator acting on a case, with what they may do to it."""

    kind: Reviewer
    case: CaseRecord
    actions: frozenset[CaseAction]


def reviewer_code(ctx: ServiceContext, staff_id: str) -> str:
    """The stable pseudonymous code a person sees instead of a reviewer's name."""
    digest = ctx.pseudonyms.lookup("reviewer", staff_id)
    return "R-" + base64.b32encode(digest[:5]).decode("ascii")


def reviewer_of(actor: StaffPrincipal) -> Reviewer:
    kind = reviewer_kind(actor.role, actor.world_id)
    if kind is None:
        raise Forbidden("only moderators handle cases")
    return kind


def review(uow: UnitOfWork, actor: StaffPrincipal, case_id: str, action: CaseAction) -> Reviewing:
    """The case if this moderator may see it (else NotFound) and do ``action`` (else Forbidden)."""
    kind = reviewer_of(actor)
    case = uow.moderation.cases.get(case_id) if len(case_id) <= 40 else None
    actions = (
        allowed(kind, actor.world_id, case.world_id, case.escalated_at is not None)
        if case
        else frozenset()
    )
    if case is None or CaseAction.VIEW not in actions:
        raise NotFound("no such case")
    if action not in actions:
        raise Forbidden(f"a {kind} may not {action.value.replace('_', ' ')} this case")
    if action in TRANSITIONS and CaseStatus(case.status) not in TRANSITIONS[action]:
        raise Conflict(f"the case is {case.status}")
    return Reviewing(kind, case, actions)


def encode_cursor(case: CaseRecord) -> str:
    """The opaque cursor of the page that follows ``case`` in its queue."""
    raw = f"{case.priority}|{case.created_at.isoformat()}|{case.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> QueueCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        priority, created, case_id = raw.split("|")
        return QueueCursor(int(priority), datetime.fromisoformat(created), case_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("not a queue cursor", [FieldError(("cursor",), "invalid")]) from None


class CaseService:
    def __init__(self, ctx: ServiceContext, thresholds: StrikeThresholds | None = None) -> None:
        self.ctx = ctx
        self.thresholds = thresholds or StrikeThresholds()

    def open_case(
        self, actor: StaffPrincipal, persona_id: str, clause_scope: str, clause_id: str, note: str
    ) -> CaseRecord:
        """A world moderator opens a case on their own initiative (no report)."""
        if reviewer_of(actor) is not Reviewer.WORLD_MODERATOR or actor.world_id is None:
            raise Forbidden("a world moderator opens cases in their world")
        check_text(note, "note", 4000)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            persona = uow.personas.get(persona_id) if is_persona_id(persona_id) else None
            if persona is None or persona.world_id != actor.world_id:
                raise NotFound("no such persona")
            scope = PLATFORM if clause_scope == PLATFORM else actor.world_id
            _, clause = clause_in_force(uow, scope, clause_id, now, ("clause_id",))
            open_key = f"{persona.id}|{scope}|{clause.id}"
            exists = Conflict("an open case on this persona and clause exists")
            if uow.moderation.cases.open_for(open_key) is not None:
                raise exists
            case = CaseRecord(
                tokens.new_id("case_"),
                persona.world_id,
                persona.id,
                scope,
                clause.id,
                clause.severity.value,
                Source.OWN_INITIATIVE.value,
                CaseStatus.ASSIGNED.value,
                case_priority(clause.severity, 1),
                persona.world_id,
                open_key,
                actor.staff_id,
                0,
                now,
                None,
                None,
            )
            try:
                with uow.conn.begin_nested():
                    uow.moderation.cases.add(case)
            except IntegrityError:
                # A concurrent report opened the case after the check (READ COMMITTED):
                # the same 409 as had it come first (a report losing this race to us
                # folds into our case instead, in ReportService._fold).
                raise exists from None
            self._note(uow, case.id, actor, text=note, visibility="internal", now=now)
        return case

    # -- queues and cases ----------------------------------------------------------

    def queue(self, actor: StaffPrincipal, limit: int = 50, cursor: str | None = None) -> QueuePage:
        """The moderator's queue: their world's undecided cases, or the escalated ones."""
        kind = reviewer_of(actor)
        name = actor.world_id if kind is Reviewer.WORLD_MODERATOR and actor.world_id else PLATFORM
        limit = max(1, min(limit, MAX_PAGE))
        after = _decode_cursor(cursor) if cursor else None
        with self.ctx.uow(write=False) as uow:
            cases = uow.moderation.cases.page(name, limit, after)
        following = encode_cursor(cases[-1]) if len(cases) == limit else None
        return QueuePage(cases, following)

    def case(self, actor: StaffPrincipal, case_id: str) -> CaseDetail:
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            case = review(uow, actor, case_id, CaseAction.VIEW).case
            weight = uow.moderation.strikes.active_weight(case.persona_id, case.world_id, now)
            reports = [
                ReportView(
                    r.id,
                    r.reporter.partition(":")[0],
                    r.location,
                    r.explanation,
                    r.received_at,
                    r.credible,
                    r.unfounded,
                )
                for r in uow.moderation.reports.for_case(case.id)
            ]
            return CaseDetail(
                case,
                reports,
                uow.moderation.notes.for_case(case.id),
                uow.moderation.decisions.for_case(case.id),
                weight,
                self.thresholds.suggestion(weight),
            )

    def assign(self, actor: StaffPrincipal, case_id: str) -> CaseRecord:
        """Take a case (assignment shows who is on it; any reviewer in scope may still decide)."""
        with self.ctx.uow() as uow:
            case = review(uow, actor, case_id, CaseAction.ASSIGN).case
            status = TRANSITIONS[CaseAction.ASSIGN][CaseStatus(case.status)]
            if not uow.moderation.cases.move(
                case.id, [case.status], status=status.value, assignee=actor.staff_id
            ):
                raise Conflict("the case changed meanwhile; reload it")
            return replace(case, status=status.value, assignee=actor.staff_id)

    def escalate(self, actor: StaffPrincipal, case_id: str, reason: str) -> CaseRecord:
        """Hand a case to platform trust & safety (it leaves the world's queue)."""
        check_text(reason, "reason", 4000)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            case = review(uow, actor, case_id, CaseAction.ESCALATE).case
            moved = uow.moderation.cases.move(
                case.id,
                list(TRANSITIONS[CaseAction.ESCALATE]),
                status=CaseStatus.ESCALATED.value,
                queue=PLATFORM,
                assignee=None,
                escalated_at=now,
            )
            if not moved:
                raise Conflict("the case changed meanwhile; reload it")
            self._note(
                uow,
                case.id,
                actor,
                text=f"escalated: {reason.strip()}",
                visibility="internal",
                now=now,
            )
            uow.outbox.append(
                Event(
                    EventType.CASE_ESCALATED, now, {"case_id": case.id, "world_id": case.world_id}
                )
            )
        return replace(
            case, status=CaseStatus.ESCALATED.value, queue=PLATFORM, assignee=None, escalated_at=now
        )

    def add_note(
        self, actor: StaffPrincipal, case_id: str, text: str, visibility: str
    ) -> NoteRecord:
        """A note on the case: internal, or visible to the reporters."""
        if visibility not in NOTE_VISIBILITIES:
            raise InvalidInput(
                "visibility is internal or reporter", [FieldError(("visibility",), "unknown")]
            )
        check_text(text, "text", 4000)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            case = review(uow, actor, case_id, CaseAction.NOTE).case
            return self._note(uow, case.id, actor, text=text, visibility=visibility, now=now)

    def _note(
        self,
        uow: UnitOfWork,
        case_id: str,
        actor: StaffPrincipal,
        *,
        text: str,
        visibility: str,
        now: datetime,
    ) -> NoteRecord:
        note = NoteRecord(
            tokens.new_id("note_"), case_id, actor.staff_id, visibility, text.strip(), now
        )
        uow.moderation.notes.add(note)
        return note


def scope_kind(scope: str) -> str:
    return PLATFORM if scope == PLATFORM else "world"


def check_text(value: str, field: str, max_len: int) -> None:
    if not value.strip() or len(value) > max_len:
        raise InvalidInput(
            f"{field} must be 1-{max_len} characters", [FieldError((field,), "length")]
        )
