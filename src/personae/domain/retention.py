"""Retention rules: every record class, what its period counts from, and when it expires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class RecordClass(StrEnum):
    """Every kind of record personae keeps that can expire (the sweeper's classes)."""

    SESSIONS = "sessions"
    DOOR_NONCES = "door_nonces"
    DISCLOSURES = "disclosures"
    NOTICES = "notices"
    PASSES = "passes"
    LAWFUL_REQUESTS = "lawful_requests"
    LEGAL_HOLDS = "legal_holds"
    SANCTION_GUARDS = "sanction_guards"
    MODERATION = "moderation"
    ERASURE_GRACE = "erasure_grace"


@dataclass(frozen=True)
class ClassRule:
    """What a record class's period counts from, and its default length."""

    anchor: str
    default_days: int
    holdable: bool  # a legal hold on its subject pauses deletion


# The retention table (documented in the README's privacy section).
RETENTION: Mapping[RecordClass, ClassRule] = {
    RecordClass.SESSIONS: ClassRule("creation", 30, holdable=False),
    RecordClass.DOOR_NONCES: ClassRule("expiry", 1, holdable=False),
    RecordClass.DISCLOSURES: ClassRule("the disclosure", 365, holdable=True),
    RecordClass.NOTICES: ClassRule("delivery", 730, holdable=True),
    RecordClass.PASSES: ClassRule("expiry", 30, holdable=True),
    RecordClass.LAWFUL_REQUESTS: ClassRule("closure", 730, holdable=False),
    RecordClass.LEGAL_HOLDS: ClassRule("the hold's end", 730, holdable=False),
    RecordClass.SANCTION_GUARDS: ClassRule("the sanction's end", 0, holdable=False),
    RecordClass.MODERATION: ClassRule("the appeal window's close", 183, holdable=True),
    RecordClass.ERASURE_GRACE: ClassRule("the erasure request", 30, holdable=True),
}


@dataclass(frozen=True)
class RetentionPolicy:
    """The configured period of every record class."""

    periods: Mapping[RecordClass, timedelta]

    def __post_init__(self) -> None:
        missing = set(RecordClass) - set(self.periods)
        if missing:
            raise ValueError(f"no retention period for {sorted(missing)}")
        if any(p < timedelta(0) for p in self.periods.values()):
            raise ValueError("a retention period cannot be negative")

    @staticmethod
    def from_days(days: Mapping[RecordClass, int]) -> RetentionPolicy:
        return RetentionPolicy({cls: timedelta(days=d) for cls, d in days.items()})

    @staticmethod
    def defaults() -> RetentionPolicy:
        return RetentionPolicy.from_days({c: r.default_days for c, r in RETENTION.items()})

    def cutoff(self, cls: RecordClass, now: datetime) -> datetime:
        """Records of ``cls`` whose anchor is before this instant have expired."""
        return now - self.periods[cls]
