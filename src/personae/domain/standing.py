"""Conduct in one world: strikes and their expiry, suggestions for repeat offenders and
unfounded reporters, and the standing tier (never from natural or social attributes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from personae.domain.persons import Assurance
from personae.domain.policy import SEVERITY_WEIGHT, Severity

# An upheld decision's strike lasts according to the severity of the clause it relied on.
STRIKE_LIFETIME: dict[Severity, timedelta] = {
    Severity.LOW: timedelta(days=90),
    Severity.MEDIUM: timedelta(days=180),
    Severity.HIGH: timedelta(days=365),
    Severity.CRITICAL: timedelta(days=730),
}


def strike_weight(severity: Severity) -> int:
    return SEVERITY_WEIGHT[severity]


@dataclass(frozen=True)
class Threshold:
    weight: int
    suggestion: str


@dataclass(frozen=True)
class StrikeThresholds:
    """Active strike weight → what to suggest to the reviewer; it never acts by itself."""

    steps: tuple[Threshold, ...] = (
        Threshold(3, "repeat conduct: consider a time-limited suspension"),
        Threshold(8, "serious repeat conduct: consider escalating to platform trust & safety"),
    )

    def suggestion(self, active_weight: int) -> str | None:
        met = [s for s in self.steps if active_weight >= s.weight]
        return max(met, key=lambda s: s.weight).suggestion if met else None


class ReporterStep(StrEnum):
    WARN = "warn"
    DEPRIORITISE = "deprioritise"


@dataclass(frozen=True)
class ReporterPolicy:
    """Reporters whose reports are repeatedly manifestly unfounded (DSA Art. 23(2))."""

    warn_after: int = 3
    deprioritise_after: int = 5
    deprioritise_for: timedelta = timedelta(days=30)

    def step(self, unfounded: int, warned: bool) -> ReporterStep | None:
        """What the reporter's new total of unfounded reports calls for: warned first, once."""
        if unfounded >= self.deprioritise_after:
            return ReporterStep.DEPRIORITISE
        return ReporterStep.WARN if unfounded >= self.warn_after and not warned else None


class Tier(StrEnum):
    NEW = "new"
    MEMBER = "member"
    TRUSTED = "trusted"
    RESTRICTED = "restricted"


ASSURANCE_RANK: dict[Assurance, int] = {Assurance.IAL1: 1, Assurance.IAL2: 2, Assurance.IAL3: 3}


@dataclass(frozen=True)
class StandingInputs:
    """Everything standing may depend on: conduct in this one world, age and assurance.

    There is deliberately no field for any attribute value.
    """

    persona_age_days: int
    assurance: Assurance
    upheld_decisions: int
    active_strike_weight: int


@dataclass(frozen=True)
class TierRule:
    tier: Tier
    applies: Callable[[StandingInputs], bool]
    reason: str


TIER_RULES: tuple[TierRule, ...] = (
    TierRule(
        Tier.RESTRICTED,
        lambda s: s.active_strike_weight >= 3,
        "strikes in force in this world weigh 3 or more",
    ),
    TierRule(
        Tier.TRUSTED,
        lambda s: (
            s.persona_age_days >= 180
            and ASSURANCE_RANK[s.assurance] >= 2
            and s.active_strike_weight == 0
            and s.upheld_decisions <= 1
        ),
        "here 180 days or more, identity verified (IAL2+), no strike in force",
    ),
    TierRule(
        Tier.MEMBER,
        lambda s: s.persona_age_days >= 30 and s.active_strike_weight < 2,
        "here 30 days or more, strikes in force weigh under 2",
    ),
    TierRule(Tier.NEW, lambda s: True, "here under 30 days, or strikes in force weigh 2"),
)


@dataclass(frozen=True)
class Standing:
    tier: Tier
    reasons: tuple[str, ...] = field(default_factory=tuple)


def standing(inputs: StandingInputs) -> Standing:
    """The first tier rule that applies, with the facts it was computed from."""
    rule = next(r for r in TIER_RULES if r.applies(inputs))
    return Standing(
        rule.tier,
        (
            rule.reason,
            f"persona age: {inputs.persona_age_days} days",
            f"identity assurance: {inputs.assurance}",
            f"upheld decisions in this world: {inputs.upheld_decisions}",
            f"weight of strikes in force in this world: {inputs.active_strike_weight}",
        ),
    )
