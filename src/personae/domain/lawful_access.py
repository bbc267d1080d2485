"""Lawful access rules: process types, what each can compel, request states, holds, notice timing.

Pure rules, no I/O. The one table that decides what an authority may obtain is
``COMPELS``; services ask it, routes never branch on it. Anchors: the US Stored
Communications Act tiers (18 U.S.C. 2702-2705, 2703(f) preservation) and the EU
e-Evidence Regulation (2023/1543).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from personae.errors import Conflict, FieldError, InvalidInput


class ProcessType(StrEnum):
    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"
    SEARCH_WARRANT = "search_warrant"
    EMERGENCY = "emergency"
    PRESERVATION = "preservation"
    EU_PRODUCTION_ORDER = "eu_production_order"
    EU_PRESERVATION_ORDER = "eu_preservation_order"


class Category(StrEnum):
    """What a production may contain; each category is one section of a package."""

    SUBSCRIBER = "subscriber"  # the persona: creation time, world, status, its passes
    IDENTITY = "identity"  # the person behind it: account basics and all their personas
    DISCLOSURES = "disclosures"  # the disclosure log in the date range
    MODERATION = "moderation"  # moderation records in the date range
    ATTRIBUTES = "attributes"  # the person's attribute values


# Categories that can only be answered by opening the escrowed persona → person link.
NEEDS_UNMASK: frozenset[Category] = frozenset({Category.IDENTITY, Category.ATTRIBUTES})


class TargetScope(StrEnum):
    PERSONA = "persona"  # the persona in its world
    PERSON = "person"  # the person behind the persona (needs an unmasking)


class HoldBasis(StrEnum):
    US_2703F = "us_2703f"
    EU_PRESERVATION = "eu_preservation"
    LITIGATION = "litigation"


@dataclass(frozen=True)
class ProcessRule:
    """What one legal process can compel, and how it is handled."""

    compels: frozenset[Category]
    may_unmask: bool  # may the escrowed link be opened while executing it
    hold: HoldBasis | None = None  # a preservation process makes a hold instead of a package
    single_officer: bool = False  # emergency: executed by one officer, reviewed after


_BASIC = frozenset({Category.SUBSCRIBER})
_ORDER = _BASIC | {Category.IDENTITY, Category.DISCLOSURES, Category.MODERATION}
_WARRANT = _ORDER | {Category.ATTRIBUTES}

# THE table: what each legal process can compel (documented in the README).
COMPELS: Mapping[ProcessType, ProcessRule] = {
    ProcessType.SUBPOENA: ProcessRule(_BASIC, may_unmask=False),
    ProcessType.COURT_ORDER: ProcessRule(_ORDER, may_unmask=True),
    ProcessType.SEARCH_WARRANT: ProcessRule(_WARRANT, may_unmask=True),
    ProcessType.EU_PRODUCTION_ORDER: ProcessRule(_ORDER, may_unmask=True),
    # Emergency: anything up to a warrant, but only the minimum stated in the written
    # justification (the requested categories), reviewed by a second officer after.
    ProcessType.EMERGENCY: ProcessRule(_WARRANT, may_unmask=True, single_officer=True),
    ProcessType.PRESERVATION: ProcessRule(frozenset(), True, hold=HoldBasis.US_2703F),
    ProcessType.EU_PRESERVATION_ORDER: ProcessRule(
        frozenset(), True, hold=HoldBasis.EU_PRESERVATION
    ),
}

# How long each kind of hold freezes records; extendable once by the same period.
HOLD_PERIODS: Mapping[HoldBasis, timedelta] = {
    HoldBasis.US_2703F: timedelta(days=90),
    HoldBasis.EU_PRESERVATION: timedelta(days=60),
    HoldBasis.LITIGATION: timedelta(days=90),
}
MAX_HOLD_EXTENSIONS = 1


class Status(StrEnum):
    RECEIVED = "received"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"
    CLOSED = "closed"


class ReviewOutcome(StrEnum):
    """A second officer's review of an emergency execution."""

    UPHELD = "upheld"
    OBJECTED = "objected"


class Outcome(StrEnum):
    """How a request ended, as the transparency report counts it."""

    PRODUCED_FULL = "produced_full"
    PRODUCED_PART = "produced_in_part"
    REJECTED = "rejected"
    PRESERVED = "preserved"


# The years a date of a request may fall in: anything else is a typing error, and
# years near 1 or 9999 overflow when converted to UTC.
EARLIEST_YEAR = 1900
LATEST_YEAR = 9000

# A request never closed (never decided, or executed and never handed over) counts
# its retention from its deadline, and at the latest from this long after intake.
OPEN_REQUEST_ANCHOR_CAP = timedelta(days=365)

_ISO_3166 = re.compile(r"^[A-Z]{2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_jurisdiction(code: str) -> str:
    code = code.strip().upper()
    if not _ISO_3166.match(code):
        raise InvalidInput(
            "jurisdiction must be an ISO 3166-1 alpha-2 code",
            [FieldError(("jurisdiction",), "ISO 3166-1 alpha-2")],
        )
    return code


def check_document_hash(value: str, loc: str = "document_sha256") -> str:
    value = value.strip().lower()
    if not _SHA256.match(value):
        raise InvalidInput(
            "the document's SHA-256 must be 64 hex digits", [FieldError((loc,), "sha256 hex")]
        )
    return value


def check_instant(value: datetime | None, loc: str) -> None:
    """A date of a request: with a time zone, and in a plausible year."""
    if value is None:
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            "a date needs a time zone (e.g. Z or +01:00)", [FieldError((loc,), "no time zone")]
        )
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InvalidInput(
            f"a date must fall between the years {EARLIEST_YEAR} and {LATEST_YEAR}",
            [FieldError((loc,), "year out of range")],
        )


def check_new_document(digest: str, earlier: Iterable[str]) -> None:
    """A renewal must rest on a new document: not the original's, nor an earlier renewal's."""
    if digest in set(earlier):
        raise InvalidInput(
            "a renewal needs a new document, not one this request already rests on",
            [FieldError(("document_sha256",), "already used by this request")],
        )


def check_nondisclosure(until: datetime | None, now: datetime) -> None:
    """A nondisclosure order must end in the future."""
    if until is not None and until <= now:
        raise InvalidInput(
            "the nondisclosure order's end is in the past",
            [FieldError(("nondisclosure_until",), "must be in the future")],
        )


def cap_nondisclosure(until: datetime | None, now: datetime, cap: timedelta) -> datetime | None:
    """Honour an order up to the cap; longer needs a renewal with a new document."""
    return None if until is None else min(until, now + cap)


def check_intake(
    process: ProcessType,
    categories: Iterable[Category],
    scope: TargetScope,
    justification: str | None,
) -> None:
    """What an intake must carry: categories for a production, a justification for emergency."""
    rule = COMPELS[process]
    if rule.hold is None and not list(categories):
        raise InvalidInput(
            "a production request must name data categories",
            [FieldError(("categories",), "required")],
        )
    if rule.single_officer and not (justification and justification.strip()):
        raise InvalidInput(
            "an emergency request needs a written justification",
            [FieldError(("justification",), "required for emergency")],
        )
    if scope is TargetScope.PERSON and not rule.may_unmask:
        raise InvalidInput(
            f"a {process} cannot reach the person behind a persona",
            [FieldError(("target", "scope"), "persona only for this process")],
        )


def approvable(
    process: ProcessType,
    requested: frozenset[Category],
    approved: frozenset[Category],
    scope: TargetScope,
) -> frozenset[Category]:
    """Check an approval: within what was asked and what the process compels; identity if needed."""
    rule = COMPELS[process]
    beyond_request = approved - requested
    if beyond_request:
        raise InvalidInput(
            "an approval cannot add categories the authority did not ask for",
            [FieldError(("categories",), f"not requested: {c}") for c in sorted(beyond_request)],
        )
    beyond_law = approved - rule.compels
    if beyond_law:
        raise InvalidInput(
            f"a {process} cannot compel {', '.join(sorted(beyond_law))}: narrow or reject it",
            [FieldError(("categories",), f"not compellable: {c}") for c in sorted(beyond_law)],
        )
    if rule.hold is None and not approved:
        raise InvalidInput(
            "approve at least one category, or reject the request",
            [FieldError(("categories",), "empty")],
        )
    if (approved & NEEDS_UNMASK or scope is TargetScope.PERSON) and not rule.may_unmask:
        raise InvalidInput("this process cannot unmask", [FieldError(("categories",), "unmask")])
    return approved


def needs_unmask(categories: Iterable[Category], scope: TargetScope) -> bool:
    return scope is TargetScope.PERSON or any(c in NEEDS_UNMASK for c in categories)


def outcome_of(
    process: ProcessType, requested: frozenset[Category], approved: frozenset[Category]
) -> Outcome:
    if COMPELS[process].hold is not None:
        return Outcome.PRESERVED
    return Outcome.PRODUCED_FULL if approved >= requested else Outcome.PRODUCED_PART


def notice_time(
    process: ProcessType,
    closed_at: datetime,
    nondisclosure_until: datetime | None,
    emergency_delay: timedelta,
) -> datetime:
    """When the person is told: at closure, after any nondisclosure order, emergency later."""
    if nondisclosure_until is not None:
        return max(closed_at, nondisclosure_until)
    if COMPELS[process].single_officer:
        return closed_at + emergency_delay
    return closed_at


def check_new_litigation_hold(earlier: Iterable[tuple[datetime, datetime]], now: datetime) -> None:
    """A litigation hold (no legal request behind it) on a subject already held so.

    ``earlier`` gives each earlier litigation hold on the subject as (created, ended or
    ending). A new one is refused while one runs and until as long after its end as it
    lasted (extension included), so one officer cannot keep a persona frozen for good;
    holding it longer needs a legal request (a preservation order) with its document.
    """
    for created_at, ends_at in earlier:
        if now < ends_at + (ends_at - created_at):
            raise Conflict(
                "a litigation hold on this persona is running or ended less than its own "
                "length ago; holding it again needs a preservation request"
            )


@dataclass(frozen=True)
class HoldWindow:
    """A hold's end and how many extensions it has had."""

    basis: HoldBasis
    ends_at: datetime
    extensions: int

    def extended(self) -> HoldWindow:
        if self.extensions >= MAX_HOLD_EXTENSIONS:
            raise Conflict("a hold can be extended only once")
        return HoldWindow(self.basis, self.ends_at + HOLD_PERIODS[self.basis], self.extensions + 1)

    @staticmethod
    def opened(basis: HoldBasis, now: datetime) -> HoldWindow:
        return HoldWindow(basis, now + HOLD_PERIODS[basis], 0)
