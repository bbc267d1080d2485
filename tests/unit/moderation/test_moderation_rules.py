"""The moderation rule tables: statements of reasons, access, priority, strikes, tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from personae.domain.moderation import (
    CaseAction,
    Citation,
    DecisionDraft,
    Measure,
    Reviewer,
    Scope,
    allowed,
    case_priority,
    reviewer_kind,
)
from personae.domain.persons import Assurance
from personae.domain.policy import Severity
from personae.domain.staff import Role
from personae.domain.standing import (
    ReporterPolicy,
    ReporterStep,
    StandingInputs,
    StrikeThresholds,
    Tier,
    standing,
)
from personae.errors import InvalidInput

NOW = datetime(2026, 11, 26, tzinfo=UTC)
CITE = (Citation("world", "harassment", "insults"),)


def _draft(**changes: object) -> DecisionDraft:
    base: dict[str, object] = {
        "measure": Measure.SUSPENSION,
        "scope": Scope.WORLD,
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=7),
        "facts": "facts",
        "automated": False,
        "citations": CITE,
    }
    return DecisionDraft(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"citations": ()}, ("clauses",)),
        ({"facts": "  "}, ("facts",)),
        ({"citations": (Citation("world", "x", ""),)}, ("clauses", 0, "explanation")),
        ({"ends_at": NOW - timedelta(days=1)}, ("ends_at",)),
        ({"ends_at": NOW}, ("ends_at",)),
        ({"ends_at": None}, ("ends_at",)),
        ({"measure": Measure.WARNING}, ("ends_at",)),
        ({"appeal_window": timedelta(days=182)}, ("appeal_window_days",)),
        # Backdated, but over before it is decided: it would revoke passes for nothing.
        ({"starts_at": NOW - timedelta(days=9), "ends_at": NOW - timedelta(days=2)}, ("ends_at",)),
        (
            {"ends_at": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))},
            ("ends_at",),
        ),
        ({"starts_at": datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5)))}, ("starts_at",)),
    ],
)
def test_incomplete_statements_name_the_field(
    changes: dict[str, object], loc: tuple[object]
) -> None:
    with pytest.raises(InvalidInput) as raised:
        _draft(**changes).validate(NOW)
    assert loc in [e.loc for e in raised.value.errors]


def test_complete_statements_pass() -> None:
    _draft().validate(NOW)
    _draft(measure=Measure.BAN, ends_at=None).validate(NOW)
    _draft(measure=Measure.NO_ACTION, ends_at=None).validate(NOW)


def test_who_may_do_what() -> None:
    world = reviewer_kind(Role.MODERATOR, "w1")
    platform = reviewer_kind(Role.MODERATOR, None)
    assert (world, platform) == (Reviewer.WORLD_MODERATOR, Reviewer.PLATFORM_TRUST_AND_SAFETY)
    assert reviewer_kind(Role.ADMIN, None) is None
    assert allowed(Reviewer.WORLD_MODERATOR, "w2", "w1", False) == frozenset()
    assert CaseAction.DECIDE in allowed(Reviewer.WORLD_MODERATOR, "w1", "w1", False)
    assert CaseAction.DECIDE_PLATFORM not in allowed(Reviewer.WORLD_MODERATOR, "w1", "w1", False)
    assert allowed(Reviewer.WORLD_MODERATOR, "w1", "w1", True) == {CaseAction.VIEW, CaseAction.NOTE}
    assert allowed(Reviewer.PLATFORM_TRUST_AND_SAFETY, None, "w1", False) == frozenset()
    assert CaseAction.DECIDE_PLATFORM in allowed(
        Reviewer.PLATFORM_TRUST_AND_SAFETY, None, "w1", True
    )


def test_priority_bands_and_reports() -> None:
    assert case_priority(Severity.CRITICAL, 1) < case_priority(Severity.LOW, 40)
    assert case_priority(Severity.MEDIUM, 5) < case_priority(Severity.MEDIUM, 1)
    assert case_priority(Severity.MEDIUM, 0) > case_priority(Severity.MEDIUM, 1)
    assert case_priority(Severity.HIGH, 10_000) > case_priority(Severity.CRITICAL, 0)


def test_thresholds_only_suggest() -> None:
    thresholds = StrikeThresholds()
    assert thresholds.suggestion(2) is None
    assert "suspension" in (thresholds.suggestion(3) or "")
    assert "escalating" in (thresholds.suggestion(9) or "")


def test_unfounded_reporters_are_warned_then_deprioritised() -> None:
    policy = ReporterPolicy()
    assert policy.step(2, warned=False) is None
    assert policy.step(3, warned=False) is ReporterStep.WARN
    assert policy.step(4, warned=True) is None
    assert policy.step(5, warned=True) is ReporterStep.DEPRIORITISE


@pytest.mark.parametrize(
    ("age", "assurance", "upheld", "weight", "tier"),
    [
        (0, Assurance.IAL3, 0, 0, Tier.NEW),
        (30, Assurance.IAL1, 0, 0, Tier.MEMBER),
        (30, Assurance.IAL1, 1, 2, Tier.NEW),
        (200, Assurance.IAL1, 0, 0, Tier.MEMBER),
        (200, Assurance.IAL2, 0, 0, Tier.TRUSTED),
        (200, Assurance.IAL2, 2, 0, Tier.MEMBER),
        (900, Assurance.IAL3, 3, 3, Tier.RESTRICTED),
    ],
)
def test_tiers(age: int, assurance: Assurance, upheld: int, weight: int, tier: Tier) -> None:
    result = standing(StandingInputs(age, assurance, upheld, weight))
    assert result.tier is tier
    assert f"persona age: {age} days" in result.reasons
