"""Appeals (DSA Art. 20): the person's decisions, filing before the deadline, and the outcome
by a reviewer other than the one who decided, with its effect on sanctions and strikes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from personae.crypto import tokens
from personae.crypto.vault import persona_owner
from personae.domain.events import Event, EventType
from personae.domain.moderation import (
    COURT,
    MEASURES,
    MIN_APPEAL_WINDOW,
    OUT_OF_COURT,
    OUTCOMES,
    AppealOutcome,
    CaseAction,
    CaseStatus,
    Citation,
    DecisionDraft,
    Measure,
    Reviewer,
    Scope,
    escalation_states,
)
from personae.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from personae.services.auth import PersonPrincipal, StaffPrincipal
from personae.services.context import ServiceContext
from personae.services.enforcement import Enforcement
from personae.services.moderation import review, reviewer_code, reviewer_of
from personae.services.notices import post_notice
from personae.services.personas import owned_persona
from personae.store.moderation_repo import AppealRecord, DecisionRecord
from personae.store.translog_repo import TranslogRepo
from personae.store.uow import UnitOfWork

MAX_STATEMENT = 4000


@dataclass(frozen=True)
class LogReference:
    """Where an accountability event sits in the log, and the salt that opens its commitment.

    ``log_index`` and ``commitment_salt`` are None until the sequencer has logged it.
    """

    outbox_event_id: int | None
    log_index: int | None
    commitment_salt: str | None


@dataclass(frozen=True)
class PersonDecision:
    """A decision on one of the person's personas, with its appeal if any, and log entries."""

    decision: DecisionRecord
    appeal: AppealRecord | None
    decision_log: LogReference
    appeal_log: LogReference | None


def log_reference(uow: UnitOfWork, event_id: int | None, persona_id: str) -> LogReference:
    """The log index of an event about this persona and its commitment salt, once logged."""
    repo = TranslogRepo(uow.conn)
    index = repo.leaf_index_of(event_id) if event_id is not None else None
    salts = dict(repo.salts_for(persona_id)) if index is not None else {}
    salt = salts.get(index) if index is not None else None
    return LogReference(event_id, index, salt.hex() if salt else None)


@dataclass(frozen=True)
class AppealInput:
    outcome: AppealOutcome
    reasons: str
    measure: Measure | None = None  # the modified measure (outcome "modified")
    ends_at: datetime | None = None


class AppealService:
    def __init__(self, ctx: ServiceContext, enforcement: Enforcement) -> None:
        self.ctx = ctx
        self.enforcement = enforcement

    # -- the person ---------------------------------------------------------------

    def decisions(self, who: PersonPrincipal) -> list[PersonDecision]:
        """Every decision on the person's personas (found forward), newest first."""
        with self.ctx.uow(write=False) as uow:
            candidates = [
                self.ctx.pseudonyms.persona_id(w, who.person_id) for w in uow.worlds.ids()
            ]
            found = []
            for decision in uow.moderation.decisions.for_personas(candidates):
                appeal = uow.moderation.appeals.for_decision(decision.id)
                found.append(
                    PersonDecision(
                        decision,
                        appeal,
                        log_reference(uow, decision.outbox_event_id, decision.persona_id),
                        log_reference(uow, appeal.outbox_event_id, decision.persona_id)
                        if appeal
                        else None,
                    )
                )
            return found

    def file(self, who: PersonPrincipal, decision_id: str, statement: str) -> AppealRecord:
        """Appeal a decision on one's own persona, until the deadline in its statement."""
        if not statement.strip() or len(statement) > MAX_STATEMENT:
            raise InvalidInput(
                f"the statement must be 1-{MAX_STATEMENT} characters",
                [FieldError(("statement",), "length")],
            )
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            decision = uow.moderation.decisions.get(decision_id) if len(decision_id) <= 40 else None
            if decision is None:
                raise NotFound("no such decision")
            owned_persona(self.ctx, uow, who.person_id, decision.persona_id)
            if now > decision.appeal_deadline:
                raise Conflict(
                    f"the appeal deadline passed on {decision.appeal_deadline.isoformat()}"
                )
            already = Conflict("this decision has already been appealed")
            if uow.moderation.appeals.for_decision(decision.id) is not None:
                raise already
            appeal = AppealRecord(
                tokens.new_id("apl_"),
                decision.id,
                statement.strip(),
                now,
                "pending",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
            try:
                with uow.conn.begin_nested():
                    uow.moderation.appeals.add(appeal)
            except IntegrityError:
                # A concurrent filing passed the check too and committed first (READ
                # COMMITTED); the unique decision_id turned this one away.
                raise already from None
        return appeal

    # -- the reviewer ---------------------------------------------------------------

    def pending(
        self, actor: StaffPrincipal, limit: int = 100, *, others_only: bool = False
    ) -> list[AppealRecord]:
        """Pending appeals on cases this moderator may review, oldest first: the deciding
        reviewer's included, unless ``others_only`` leaves out the decisions they made.

        The scope is chosen in the query, before the limit: a world moderator's own
        world's unescalated cases, or (platform trust & safety) the escalated ones, and
        with ``others_only`` not their own decisions, so neither appeals elsewhere nor the
        reviewer's own crowd out the ones they may handle. ``review`` checks each again.
        """
        kind = reviewer_of(actor)
        states = escalation_states(kind, CaseAction.REVIEW_APPEAL)
        if not states:
            return []
        world_id = actor.world_id if kind is Reviewer.WORLD_MODERATOR else None
        escalated = states[0] if len(states) == 1 else None
        with self.ctx.uow(write=False) as uow:
            visible = []
            for appeal in uow.moderation.appeals.pending(
                limit,
                world_id=world_id,
                escalated=escalated,
                not_decided_by=actor.staff_id if others_only else None,
            ):
                decision = uow.moderation.decisions.get(appeal.decision_id)
                try:
                    if decision is not None:
                        review(uow, actor, decision.case_id, CaseAction.REVIEW_APPEAL)
                        visible.append(appeal)
                except (NotFound, Forbidden, Conflict):
                    continue
            return visible[:limit]

    def decide(self, actor: StaffPrincipal, appeal_id: str, given: AppealInput) -> AppealRecord:
        """Decide an appeal: never by the reviewer who decided; reverse, modify or uphold."""
        if not given.reasons.strip() or len(given.reasons) > MAX_STATEMENT:
            raise InvalidInput(
                "give the reasons for the outcome", [FieldError(("reasons",), "length")]
            )
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            appeal = uow.moderation.appeals.get(appeal_id) if len(appeal_id) <= 40 else None
            decision = uow.moderation.decisions.get(appeal.decision_id) if appeal else None
            if appeal is None or decision is None:
                raise NotFound("no such appeal")
            case = review(uow, actor, decision.case_id, CaseAction.REVIEW_APPEAL).case
            if decision.decided_by == actor.staff_id:
                raise Forbidden("the reviewer who made the decision cannot handle its appeal")
            self._check_modification(decision, given, now)
            code = reviewer_code(self.ctx, actor.staff_id)
            event_id = TranslogRepo(uow.conn).append_event(
                Event(
                    EventType.APPEAL_DECIDED,
                    now,
                    {
                        "appeal_id": appeal.id,
                        "decision_id": decision.id,
                        "outcome": given.outcome.value,
                        "scope": decision.scope,
                        "handling_seconds": int((now - appeal.filed_at).total_seconds()),
                    },
                ),
                decision.persona_id,
            )
            values = {
                "outcome": given.outcome.value,
                "reasons": given.reasons.strip(),
                "modified_measure": given.measure.value if given.measure else None,
                "modified_ends_at": given.ends_at,
                "handled_by": actor.staff_id,
                "reviewer_code": code,
                "decided_at": now,
                "outbox_event_id": event_id,
            }
            if not uow.moderation.appeals.close(appeal.id, **values):
                raise Conflict("this appeal has already been decided")
            uow.moderation.cases.move(case.id, [CaseStatus.DECIDED.value], status="closed")
            self._apply(uow, decision, given, now)
            decided = uow.moderation.appeals.get(appeal.id) or appeal
            post_notice(
                self.ctx,
                uow,
                persona_owner(decision.persona_id),
                "moderation.appeal_outcome",
                self._outcome_body(decision, decided, str(reviewer_of(actor))),
                now=now,
                outbox_event_id=event_id,
            )
        return decided

    def _check_modification(
        self, decision: DecisionRecord, given: AppealInput, now: datetime
    ) -> None:
        modifies = given.outcome is AppealOutcome.MODIFIED
        if modifies != (given.measure is not None):
            raise InvalidInput(
                "a modified outcome, and only that, names the new measure",
                [FieldError(("measure",), "modified only")],
            )
        if given.measure is not None:
            DecisionDraft(
                given.measure,
                Scope(decision.scope),
                decision.starts_at,
                given.ends_at,
                decision.facts,
                decision.automated,
                tuple(
                    Citation(c["scope"], c["clause_id"], c["explanation"])
                    for c in decision.citations
                ),
                MIN_APPEAL_WINDOW,
            ).validate(now)

    def _apply(
        self, uow: UnitOfWork, decision: DecisionRecord, given: AppealInput, now: datetime
    ) -> None:
        """The outcome's effect (a table in the domain): lift, remove the strike, re-apply."""
        effect = OUTCOMES[given.outcome]
        sanctioned = MEASURES[Measure(decision.measure)].sanction
        reapplied = given.measure is not None and MEASURES[given.measure].sanction
        personas = (
            self.enforcement.reach(uow, decision, now)
            if (effect.lift and sanctioned) or (effect.reapply and reapplied)
            else []
        )
        if effect.lift and sanctioned:
            self.enforcement.lift(uow, decision.id, personas, now)
        if effect.reapply and given.measure is not None:
            self.enforcement.apply(
                uow,
                decision.id,
                given.measure,
                personas,
                starts_at=decision.starts_at,
                ends_at=given.ends_at,
                now=now,
                platform=Scope(decision.scope) is Scope.PLATFORM,
            )
        if effect.remove_strike or (given.measure and not MEASURES[given.measure].strike):
            uow.moderation.strikes.remove(decision.id, now)
        uow.moderation.decisions.set_status(decision.id, effect.decision_status)

    @staticmethod
    def _outcome_body(
        decision: DecisionRecord, appeal: AppealRecord, role: str
    ) -> dict[str, object]:
        return {
            "decision_id": decision.id,
            "appeal_id": appeal.id,
            "outcome": appeal.outcome,
            "reasons": appeal.reasons,
            "measure_now": appeal.modified_measure
            or (Measure.NO_ACTION.value if appeal.outcome == "reversed" else decision.measure),
            "ends_at": appeal.modified_ends_at.isoformat() if appeal.modified_ends_at else None,
            "reviewer": {"role": role, "code": appeal.reviewer_code},
            "redress": {"out_of_court": OUT_OF_COURT, "court": COURT},
            "log": {"outbox_event_id": appeal.outbox_event_id},
        }
