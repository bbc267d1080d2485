"""Moderation rules: measures, case statuses and who may act, statements of reasons, appeals.

Everything here is a table or a small value object read by the services; the
services hold no ``if`` ladders over measures, statuses or reviewer kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from personae.domain.policy import SEVERITY_WEIGHT, Severity
from personae.domain.staff import Role
from personae.errors import FieldError, InvalidInput

# DSA Art. 20(1): a complaint can be lodged for at least six months after the decision.
MIN_APPEAL_WINDOW = timedelta(days=183)
OUT_OF_COURT = "a certified out-of-court dispute settlement body (DSA Art. 21)"
COURT = "the competent court where you live (judicial redress stays open at all times)"
MAX_TEXT = 4000
# The times a decision may name: a date the store can hold in UTC whatever its offset
# (year 9999 in UTC-5 is year 10000 in UTC), and no absurd ones.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def in_range(moment: datetime) -> bool:
    """Whether a time a reviewer gives lies between EARLIEST and LATEST (any offset)."""
    return EARLIEST <= moment <= LATEST


class Measure(StrEnum):
    NO_ACTION = "no_action"
    WARNING = "warning"
    MUTE = "mute"
    FEATURE_RESTRICTION = "feature_restriction"
    SUSPENSION = "suspension"
    BAN = "ban"


class Duration(StrEnum):
    NONE = "none"  # the measure has no end (a warning)
    REQUIRED = "required"  # suspension for N days
    OPTIONAL = "optional"  # a ban or a mute may be open-ended


@dataclass(frozen=True)
class MeasureRule:
    duration: Duration
    sanction: bool  # leaves a sanction in force that the world reads and enforces
    blocks_passes: bool  # revokes the passes; refuses new passes and door checks
    strike: bool  # an upheld decision with this measure gives a strike


MEASURES: dict[Measure, MeasureRule] = {
    Measure.NO_ACTION: MeasureRule(Duration.NONE, False, False, False),
    Measure.WARNING: MeasureRule(Duration.NONE, False, False, True),
    Measure.MUTE: MeasureRule(Duration.OPTIONAL, True, False, True),
    Measure.FEATURE_RESTRICTION: MeasureRule(Duration.OPTIONAL, True, False, True),
    Measure.SUSPENSION: MeasureRule(Duration.REQUIRED, True, True, True),
    Measure.BAN: MeasureRule(Duration.OPTIONAL, True, True, True),
}


class Scope(StrEnum):
    WORLD = "world"
    PLATFORM = "platform"


class Source(StrEnum):
    REPORT = "report"
    OWN_INITIATIVE = "own_initiative"


class CaseStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    DECIDED = "decided"
    CLOSED = "closed"


UNDECIDED = frozenset({CaseStatus.OPEN, CaseStatus.ASSIGNED, CaseStatus.ESCALATED})


class CaseAction(StrEnum):
    VIEW = "view"
    ASSIGN = "assign"
    NOTE = "note"
    ESCALATE = "escalate"
    DECIDE = "decide"
    DECIDE_PLATFORM = "decide_platform"
    REVIEW_APPEAL = "review_appeal"


class Reviewer(StrEnum):
    WORLD_MODERATOR = "world moderator"
    PLATFORM_TRUST_AND_SAFETY = "platform trust & safety"


# (reviewer kind, case escalated?) → what that reviewer may do with a case they see.
CASE_RULES: dict[tuple[Reviewer, bool], frozenset[CaseAction]] = {
    (Reviewer.WORLD_MODERATOR, False): frozenset(
        {
            CaseAction.VIEW,
            CaseAction.ASSIGN,
            CaseAction.NOTE,
            CaseAction.ESCALATE,
            CaseAction.DECIDE,
            CaseAction.REVIEW_APPEAL,
        }
    ),
    (Reviewer.WORLD_MODERATOR, True): frozenset({CaseAction.VIEW, CaseAction.NOTE}),
    (Reviewer.PLATFORM_TRUST_AND_SAFETY, True): frozenset(
        {
            CaseAction.VIEW,
            CaseAction.ASSIGN,
            CaseAction.NOTE,
            CaseAction.DECIDE,
            CaseAction.DECIDE_PLATFORM,
            CaseAction.REVIEW_APPEAL,
        }
    ),
    # Platform trust & safety sees only what was escalated to it.
    (Reviewer.PLATFORM_TRUST_AND_SAFETY, False): frozenset(),
}

# What a status-changing action does to a case, from each status it is allowed in.
TRANSITIONS: dict[CaseAction, dict[CaseStatus, CaseStatus]] = {
    CaseAction.ASSIGN: {
        CaseStatus.OPEN: CaseStatus.ASSIGNED,
        CaseStatus.ASSIGNED: CaseStatus.ASSIGNED,
        CaseStatus.ESCALATED: CaseStatus.ESCALATED,
    },
    CaseAction.ESCALATE: {
        CaseStatus.OPEN: CaseStatus.ESCALATED,
        CaseStatus.ASSIGNED: CaseStatus.ESCALATED,
    },
    CaseAction.DECIDE: {s: CaseStatus.DECIDED for s in UNDECIDED},
    CaseAction.REVIEW_APPEAL: {CaseStatus.DECIDED: CaseStatus.CLOSED},
}


def reviewer_kind(role: Role, world_id: str | None) -> Reviewer | None:
    """Moderators review: scoped to a world, or (unscoped) platform trust & safety."""
    if role is not Role.MODERATOR:
        return None
    return Reviewer.WORLD_MODERATOR if world_id else Reviewer.PLATFORM_TRUST_AND_SAFETY


def allowed(
    reviewer: Reviewer, staff_world: str | None, case_world: str, escalated: bool
) -> frozenset[CaseAction]:
    """What this reviewer may do with this case; empty means they may not even see it."""
    if reviewer is Reviewer.WORLD_MODERATOR and staff_world != case_world:
        return frozenset()
    return CASE_RULES[(reviewer, escalated)]


def escalation_states(reviewer: Reviewer, action: CaseAction) -> tuple[bool, ...]:
    """The escalation states (escalated?) of the cases on which ``reviewer`` may ``action``:
    what a listing filters on in its query, before any limit."""
    return tuple(flag for flag in (False, True) if action in CASE_RULES[(reviewer, flag)])


def case_priority(severity: Severity, credible_reports: int) -> int:
    """Lower is sooner: the clause's severity sets the band, credible reports move a case up.

    A case whose reports all come from deprioritised reporters sits at the back of its band.
    """
    band = (5 - SEVERITY_WEIGHT[severity]) * 100
    return band + 50 if credible_reports == 0 else band - min(credible_reports, 49)


@dataclass(frozen=True)
class Citation:
    """A clause relied on, in the policy version in force, with the reviewer's explanation."""

    scope: str
    clause_id: str
    explanation: str


@dataclass(frozen=True)
class DecisionDraft:
    """What a reviewer submits: every field of a DSA Art. 17 statement of reasons."""

    measure: Measure
    scope: Scope
    starts_at: datetime
    ends_at: datetime | None
    facts: str
    automated: bool
    citations: tuple[Citation, ...]
    appeal_window: timedelta = MIN_APPEAL_WINDOW

    def validate(self, now: datetime) -> None:
        """InvalidInput (422) naming every missing or inconsistent field.

        An explicit end must lie after ``now``: a sanction already over when decided
        would revoke passes that nothing restores.
        """
        errors: list[FieldError] = []
        for name, moment in (("starts_at", self.starts_at), ("ends_at", self.ends_at)):
            if moment is not None and not in_range(moment):
                errors.append(FieldError((name,), "a date between the years 1900 and 9000"))
        if errors:
            raise InvalidInput("the statement of reasons names an impossible time", errors)
        if not self.citations:
            errors.append(FieldError(("clauses",), "cite at least one clause"))
        for n, citation in enumerate(self.citations):
            if not citation.explanation.strip() or len(citation.explanation) > MAX_TEXT:
                errors.append(FieldError(("clauses", n, "explanation"), "explain the clause"))
        if not self.facts.strip() or len(self.facts) > MAX_TEXT:
            errors.append(FieldError(("facts",), "state the facts and circumstances"))
        rule = MEASURES[self.measure]
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            errors.append(FieldError(("ends_at",), "the end must come after the start"))
        elif self.ends_at is not None and self.ends_at <= now:
            errors.append(FieldError(("ends_at",), "the end must lie in the future"))
        if rule.duration is Duration.REQUIRED and self.ends_at is None:
            errors.append(FieldError(("ends_at",), f"a {self.measure} needs an end"))
        if rule.duration is Duration.NONE and self.ends_at is not None:
            errors.append(FieldError(("ends_at",), f"a {self.measure} has no end"))
        if self.appeal_window < MIN_APPEAL_WINDOW:
            errors.append(FieldError(("appeal_window_days",), "at least six months (183 days)"))
        if errors:
            raise InvalidInput("the statement of reasons is incomplete or inconsistent", errors)


class AppealOutcome(StrEnum):
    UPHELD = "upheld"
    REVERSED = "reversed"
    MODIFIED = "modified"


@dataclass(frozen=True)
class OutcomeEffect:
    lift: bool  # lift the sanctions the decision put in force and restore passes
    remove_strike: bool
    reapply: bool  # apply the modified measure in their place
    decision_status: str


OUTCOMES: dict[AppealOutcome, OutcomeEffect] = {
    AppealOutcome.UPHELD: OutcomeEffect(False, False, False, "upheld"),
    AppealOutcome.REVERSED: OutcomeEffect(True, True, False, "reversed"),
    AppealOutcome.MODIFIED: OutcomeEffect(True, False, True, "modified"),
}
