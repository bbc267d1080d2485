"""Lawful requests: intake, four-eyes decision, execution, emergency review, hand-over, notice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from personae.crypto import tokens
from personae.crypto.vault import persona_owner
from personae.domain.events import ALLOWED_KEYS, Event, EventType, PayloadValue
from personae.domain.lawful_access import (
    COMPELS,
    Category,
    Outcome,
    ProcessType,
    ReviewOutcome,
    Status,
    TargetScope,
    approvable,
    cap_nondisclosure,
    check_document_hash,
    check_instant,
    check_intake,
    check_jurisdiction,
    check_new_document,
    check_nondisclosure,
    notice_time,
    outcome_of,
)
from personae.domain.staff import Action, may
from personae.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from personae.services.auth import StaffPrincipal
from personae.services.context import ServiceContext
from personae.services.holds import preserve
from personae.services.notices import post_notice
from personae.services.production import PackageBuilder
from personae.store.lawful_repo import LawfulRequestRecord, PackageRecord
from personae.store.uow import UnitOfWork

NOTICE_KIND = "lawful_access"


@dataclass(frozen=True)
class Intake:
    authority: str
    authority_verification: str
    jurisdiction: str
    process_type: ProcessType
    document_ref: str
    document_sha256: str
    world_id: str
    persona_id: str
    scope: TargetScope
    categories: list[Category]
    range_start: datetime
    range_end: datetime
    deadline: datetime
    nondisclosure_until: datetime | None = None
    justification: str | None = None


@dataclass(frozen=True)
class LawfulSettings:
    nondisclosure_cap: timedelta
    emergency_notice_delay: timedelta
    emergency_review_within: timedelta


def _log(
    uow: UnitOfWork, kind: EventType, r: LawfulRequestRecord, now: datetime, **extra: PayloadValue
) -> None:
    """An event about a request, with the fields the report counts by where its type has them."""
    base = {"request_id": r.id, "jurisdiction": r.jurisdiction, "process_type": r.process_type}
    payload = {k: v for k, v in base.items() if k in ALLOWED_KEYS[kind]}
    uow.outbox.append(Event(kind, now, {**payload, **extra}))


def _require(actor: StaffPrincipal) -> None:
    if not may(actor.role, Action.HANDLE_LAWFUL_REQUESTS):
        raise Forbidden("only a legal officer handles lawful requests")


def _officers(request: LawfulRequestRecord) -> set[str]:
    """The officers who agreed to the production: they alone may download and hand it over.

    The deciding officer of an approved request (not the intake officer, who only took
    it in); for an emergency, the executing officer and a reviewer who upheld it.
    """
    if request.decided_by is not None:
        return {request.decided_by}
    upheld = request.review_outcome == ReviewOutcome.UPHELD
    return {o for o in (request.executed_by, request.reviewed_by if upheld else None) if o}


def _not_objected(request: LawfulRequestRecord) -> None:
    if request.review_outcome == ReviewOutcome.OBJECTED:
        raise Conflict("a second legal officer objected to this emergency execution")


class LawfulAccessService:
    def __init__(self, ctx: ServiceContext, settings: LawfulSettings, builder: PackageBuilder):
        self.ctx = ctx
        self.settings = settings
        self.builder = builder

    def _load(self, uow: UnitOfWork, request_id: str) -> LawfulRequestRecord:
        found = uow.lawful_requests.get(request_id, lock=True) if len(request_id) <= 40 else None
        if found is None:
            raise NotFound("no such lawful request")
        return found

    def _closed_event(self, uow: UnitOfWork, r: LawfulRequestRecord, now: datetime) -> None:
        _log(uow, EventType.LAWFUL_REQUEST_CLOSED, r, now, outcome=r.outcome, accounts=1)

    # -- intake ----------------------------------------------------------------

    def intake(self, actor: StaffPrincipal, form: Intake) -> LawfulRequestRecord:
        """Record a request as received; missing or malformed fields are a 422."""
        _require(actor)
        now = self.ctx.clock.now()
        for loc, when in (
            ("range_start", form.range_start),
            ("range_end", form.range_end),
            ("deadline", form.deadline),
            ("nondisclosure_until", form.nondisclosure_until),
        ):
            check_instant(when, loc)
        jurisdiction = check_jurisdiction(form.jurisdiction)
        document_sha256 = check_document_hash(form.document_sha256)
        check_intake(form.process_type, form.categories, form.scope, form.justification)
        check_nondisclosure(form.nondisclosure_until, now)
        if form.range_start > form.range_end:
            raise InvalidInput(
                "the date range ends before it starts", [FieldError(("range_end",), "before start")]
            )
        record = LawfulRequestRecord(
            id=tokens.new_id("lr_"),
            authority=form.authority.strip(),
            authority_verification=form.authority_verification.strip(),
            jurisdiction=jurisdiction,
            process_type=form.process_type.value,
            document_ref=form.document_ref.strip(),
            document_sha256=document_sha256,
            target_world_id=form.world_id,
            target_persona_id=form.persona_id,
            target_scope=form.scope.value,
            categories=sorted({c.value for c in form.categories}),
            range_start=form.range_start,
            range_end=form.range_end,
            nondisclosure_until=cap_nondisclosure(
                form.nondisclosure_until, now, self.settings.nondisclosure_cap
            ),
            deadline=form.deadline,
            justification=form.justification,
            status=Status.RECEIVED.value,
            intake_by=actor.staff_id,
            intake_at=now,
        )
        with self.ctx.uow() as uow:
            persona = uow.personas.get(form.persona_id) if len(form.persona_id) <= 64 else None
            if persona is None or persona.world_id != form.world_id:
                raise NotFound("no such persona in that world")
            uow.lawful_requests.add(record)
            _log(uow, EventType.LAWFUL_REQUEST_RECEIVED, record, now)
        return record

    def get(self, actor: StaffPrincipal, request_id: str) -> LawfulRequestRecord:
        _require(actor)
        with self.ctx.uow(write=False) as uow:
            found = uow.lawful_requests.get(request_id) if len(request_id) <= 40 else None
        if found is None:
            raise NotFound("no such lawful request")
        return found

    def requests(self, actor: StaffPrincipal, limit: int = 200) -> list[LawfulRequestRecord]:
        _require(actor)
        with self.ctx.uow(write=False) as uow:
            return uow.lawful_requests.all(limit)

    # -- four eyes -------------------------------------------------------------

    def decide(
        self,
        actor: StaffPrincipal,
        request_id: str,
        *,
        approve: bool,
        categories: list[Category] | None,
        reason: str | None,
    ) -> LawfulRequestRecord:
        """Approve (all, or narrowed with a reason) or reject with a reason; never one's own."""
        _require(actor)
        now = self.ctx.clock.now()
        reason = (reason or "").strip() or None
        with self.ctx.uow() as uow:
            r = self._load(uow, request_id)
            if r.intake_by == actor.staff_id:
                raise Forbidden("a second legal officer, not the intake officer, must decide")
            if r.status != Status.RECEIVED:
                raise Conflict(f"the request is already {r.status}")
            process = ProcessType(r.process_type)
            requested = frozenset(Category(c) for c in r.categories)
            if not approve:
                if reason is None:
                    raise InvalidInput("a rejection needs a reason", [FieldError(("reason",), "")])
                r = replace(
                    r,
                    status=Status.CLOSED.value,
                    decided_by=actor.staff_id,
                    decided_at=now,
                    approved_categories=[],
                    decision_reason=reason,
                    closed_at=now,
                    outcome=Outcome.REJECTED.value,
                )
                decision = "rejected"
            else:
                chosen = requested if categories is None else frozenset(categories)
                approved = approvable(process, requested, chosen, TargetScope(r.target_scope))
                narrowed = approved != requested
                if narrowed and reason is None:
                    raise InvalidInput(
                        "narrowing a request needs a reason", [FieldError(("reason",), "required")]
                    )
                r = replace(
                    r,
                    status=Status.APPROVED.value,
                    decided_by=actor.staff_id,
                    decided_at=now,
                    approved_categories=sorted(c.value for c in approved),
                    decision_reason=reason,
                )
                decision = "narrowed" if narrowed else "approved"
            uow.lawful_requests.save(r)
            count = len(r.approved_categories or [])
            _log(uow, EventType.LAWFUL_REQUEST_DECIDED, r, now, decision=decision, categories=count)
            if r.status == Status.CLOSED:
                self._closed_event(uow, r, now)
        return r

    # -- execution -------------------------------------------------------------

    def execute(self, actor: StaffPrincipal, request_id: str) -> LawfulRequestRecord:
        """Produce the package (or open the hold) of an approved request; 409 if not approved.

        An emergency request may be executed by one officer on its written
        justification; a second officer must review it within the configured window.
        """
        _require(actor)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            r = self._load(uow, request_id)
            rule = COMPELS[ProcessType(r.process_type)]
            emergency = rule.single_officer and r.status == Status.RECEIVED
            if r.status != Status.APPROVED and not emergency:
                raise Conflict("a lawful request is executed only after its approval")
            r = replace(
                r, status=Status.EXECUTED.value, executed_by=actor.staff_id, executed_at=now
            )
            if emergency:
                approved = approvable(
                    ProcessType(r.process_type),
                    frozenset(Category(c) for c in r.categories),
                    frozenset(Category(c) for c in r.categories),
                    TargetScope(r.target_scope),
                )
                r = replace(
                    r,
                    approved_categories=sorted(c.value for c in approved),
                    review_due_at=now + self.settings.emergency_review_within,
                )
            if rule.hold is not None:
                preserve(self.ctx, uow, r, now)
                r = replace(
                    r, status=Status.CLOSED.value, closed_at=now, outcome=Outcome.PRESERVED.value
                )
                self._closed_event(uow, r, now)
            else:
                self._produce(uow, r, now)
            uow.lawful_requests.save(r)
        return r

    def _produce(self, uow: UnitOfWork, r: LawfulRequestRecord, now: datetime) -> None:
        built = self.builder.build(uow, replace(r, status=Status.APPROVED.value), now)
        owner = f"lawful:{r.id}"
        self.ctx.vault.new_key(owner)
        sealed = self.ctx.vault.seal(owner, {"package": built.jws})["package"]
        uow.packages.add(PackageRecord(r.id, sealed, built.sha256, built.manifest, now))
        counts = built.manifest["record_counts"]
        _log(
            uow,
            EventType.LAWFUL_PRODUCED,
            r,
            now,
            categories=len(counts),
            records=sum(counts.values()),
            package_sha256=built.sha256,
        )

    def review(
        self, actor: StaffPrincipal, request_id: str, *, upheld: bool, reason: str
    ) -> LawfulRequestRecord:
        """The second officer's review of an emergency execution (someone else, 403 otherwise).

        An objection before the hand-over withdraws the production: the request closes as
        rejected and its package is destroyed; after it, nobody may download or hand over.
        """
        _require(actor)
        now = self.ctx.clock.now()
        if not reason.strip():
            raise InvalidInput("a review needs a reason", [FieldError(("reason",), "required")])
        with self.ctx.uow() as uow:
            r = self._load(uow, request_id)
            if r.review_due_at is None or r.reviewed_by is not None:
                raise Conflict("this request has no emergency execution awaiting review")
            if r.executed_by == actor.staff_id:
                raise Forbidden("a second legal officer must review an emergency execution")
            outcome = ReviewOutcome.UPHELD if upheld else ReviewOutcome.OBJECTED
            r = replace(r, reviewed_by=actor.staff_id, review_outcome=outcome.value)
            withdrawn = not upheld and r.status == Status.EXECUTED
            if withdrawn:
                r = replace(
                    r, status=Status.CLOSED.value, closed_at=now, outcome=Outcome.REJECTED.value
                )
                uow.packages.remove(r.id)
            uow.lawful_requests.save(r)
            _log(uow, EventType.LAWFUL_EMERGENCY_REVIEWED, r, now, outcome=outcome.value)
            if withdrawn:
                self._closed_event(uow, r, now)
        if withdrawn:  # after the commit; a key left by a crash goes with the request's sweep
            self.ctx.vault.shred(f"lawful:{r.id}")
        return r

    def flag_missed_reviews(self) -> int:
        """Flag emergency executions whose second review did not come in time; logged."""
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            overdue = uow.lawful_requests.reviews_overdue(now)
            for r in overdue:
                uow.lawful_requests.save(replace(r, review_missed=True))
                _log(uow, EventType.LAWFUL_REVIEW_MISSED, r, now)
        return len(overdue)

    # -- the package, the hand-over, the notice -----------------------------------

    def package(self, actor: StaffPrincipal, request_id: str) -> str:
        """The signed package (compact JWS), for the officers who agreed to it only."""
        _require(actor)
        with self.ctx.uow(write=False) as uow:
            r = uow.lawful_requests.get(request_id) if len(request_id) <= 40 else None
            found = uow.packages.get(r.id) if r is not None else None
        if r is None or actor.staff_id not in _officers(r):
            raise NotFound("no such production package")
        _not_objected(r)
        if found is None:
            raise NotFound("no such production package")
        opened: str = self.ctx.vault.open(f"lawful:{r.id}", {"package": found.sealed})["package"]
        return opened

    def hand_over(self, actor: StaffPrincipal, request_id: str, how: str) -> LawfulRequestRecord:
        """Record the hand-over to the authority and close: the person's notice is scheduled."""
        _require(actor)
        now = self.ctx.clock.now()
        how = how.strip()
        if not how:
            raise InvalidInput("say how it was handed over", [FieldError(("handover",), "")])
        with self.ctx.uow() as uow:
            r = self._load(uow, request_id)
            if actor.staff_id not in _officers(r):
                raise NotFound("no such production package")
            _not_objected(r)
            if r.status != Status.EXECUTED or uow.packages.get(r.id) is None:
                raise Conflict("only an executed production can be handed over")
            process = ProcessType(r.process_type)
            outcome = outcome_of(
                process,
                frozenset(Category(c) for c in r.categories),
                frozenset(Category(c) for c in r.approved_categories or []),
            )
            r = replace(
                r,
                status=Status.CLOSED.value,
                handover=how[:500],
                closed_at=now,
                outcome=outcome.value,
            )
            r = replace(r, notice_id=self._schedule_notice(uow, r, now))
            uow.lawful_requests.save(r)
            _log(uow, EventType.LAWFUL_HANDED_OVER, r, now)
            self._closed_event(uow, r, now)
        return r

    def _schedule_notice(
        self, uow: UnitOfWork, r: LawfulRequestRecord, now: datetime
    ) -> str | None:
        """The person's notice, addressed to the persona's inbox (no link to the person kept)."""
        persona = uow.personas.get(r.target_persona_id)
        if persona is None:
            return None  # erased meanwhile: nobody is left to tell
        process = ProcessType(r.process_type)
        body = {
            "request_id": r.id,
            "authority": r.authority,
            "process_type": process.value,
            "jurisdiction": r.jurisdiction,
            "categories_produced": r.approved_categories or [],
            "closed_at": now.isoformat(),
        }
        at = notice_time(process, now, r.nondisclosure_until, self.settings.emergency_notice_delay)
        return post_notice(
            self.ctx, uow, persona_owner(persona.id), NOTICE_KIND, body, now=now, deliver_after=at
        )

    def renew_nondisclosure(
        self,
        actor: StaffPrincipal,
        request_id: str,
        *,
        document_ref: str,
        document_sha256: str,
        until: datetime,
    ) -> LawfulRequestRecord:
        """Renew a nondisclosure order with a new document, again at most the cap.

        The document must be new: the original's digest or an earlier renewal's is a 422.
        """
        _require(actor)
        now = self.ctx.clock.now()
        digest = check_document_hash(document_sha256)
        check_instant(until, "until")
        check_nondisclosure(until, now)
        if until > now + self.settings.nondisclosure_cap:
            raise InvalidInput(
                f"a nondisclosure order is honoured for at most "
                f"{self.settings.nondisclosure_cap.days} days at a time",
                [FieldError(("until",), "beyond the cap")],
            )
        with self.ctx.uow() as uow:
            r = self._load(uow, request_id)
            if r.nondisclosure_until is None or r.nondisclosure_until <= now:
                raise Conflict("this request has no running nondisclosure order to renew")
            earlier = [r.document_sha256, *(x["document_sha256"] for x in r.renewals)]
            check_new_document(digest, earlier)
            renewal = {"document_ref": document_ref.strip()[:200], "document_sha256": digest}
            renewal |= {"until": until.isoformat(), "at": now.isoformat()}
            r = replace(r, nondisclosure_until=until, renewals=[*r.renewals, renewal])
            if r.notice_id is not None:
                uow.lawful_requests.reschedule_notice(r.notice_id, until)
            uow.lawful_requests.save(r)
            days = (until - now).days
            _log(uow, EventType.LAWFUL_NONDISCLOSURE_RENEWED, r, now, days=days)
        return r
