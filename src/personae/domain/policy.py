"""Content policies: clauses (id, title, text, severity), their validation and versions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from personae.errors import FieldError, InvalidInput

# The scope name of the platform's own policy; a world's policy is scoped by its id.
PLATFORM = "platform"
MAX_CLAUSES = 100
_CLAUSE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# How much a severity weighs in a case's priority and a strike's weight.
SEVERITY_WEIGHT: dict[Severity, int] = {
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    text: str
    severity: Severity

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "text": self.text, "severity": self.severity}


@dataclass(frozen=True)
class Policy:
    """One published version of a world's (or the platform's) policy."""

    scope: str
    version: int
    clauses: tuple[Clause, ...]

    def clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self.clauses if c.id == clause_id), None)


def _text(raw: Mapping[str, Any], key: str, max_len: int, loc: tuple[str | int, ...]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise InvalidInput(
            f"clause {key} must be 1-{max_len} characters", [FieldError((*loc, key), "length")]
        )
    return value.strip()


def parse_clauses(raw: Any) -> tuple[Clause, ...]:
    """Validate a list of clauses as published: unique ids, known severities, bounded text."""
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not 1 <= len(raw) <= MAX_CLAUSES:
        raise InvalidInput(
            f"a policy has 1-{MAX_CLAUSES} clauses", [FieldError(("clauses",), "count")]
        )
    clauses: list[Clause] = []
    for n, item in enumerate(raw):
        loc: tuple[str | int, ...] = ("clauses", n)
        if not isinstance(item, Mapping):
            raise InvalidInput("a clause is an object", [FieldError(loc, "object")])
        clause_id = _text(item, "id", 40, loc)
        if not _CLAUSE_ID.match(clause_id):
            raise InvalidInput(
                "a clause id is 1-40 of [a-z0-9._-]", [FieldError((*loc, "id"), "format")]
            )
        try:
            severity = Severity(str(item.get("severity")))
        except ValueError:
            raise InvalidInput(
                "severity is low, medium, high or critical",
                [FieldError((*loc, "severity"), "unknown")],
            ) from None
        clauses.append(
            Clause(
                clause_id, _text(item, "title", 200, loc), _text(item, "text", 4000, loc), severity
            )
        )
    ids = [c.id for c in clauses]
    if len(set(ids)) != len(ids):
        raise InvalidInput("clause ids must be unique", [FieldError(("clauses",), "duplicate id")])
    return tuple(clauses)
