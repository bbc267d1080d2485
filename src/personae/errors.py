"""The one error tree of personae; each adapter maps it once (HTTP status, CLI exit code)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One invalid input, located by its path (``("attributes", "birth_date")``)."""

    loc: tuple[str | int, ...]
    msg: str


class PersonaeError(Exception):
    """Base of every error personae raises on purpose.

    ``code`` is a stable slug (it becomes the problem type URI); ``detail`` is a
    human sentence that is safe to show to the caller: it never carries a secret,
    a stack trace or anything about a record the caller may not see.
    """

    code = "error"
    title = "Request failed"
    headers: dict[str, str] = {}

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(PersonaeError):
    """The input is malformed or violates a rule (422)."""

    code = "invalid-input"
    title = "Invalid input"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors: list[FieldError] = errors or []


class UnknownAttribute(InvalidInput):
    """An attribute or precision that the catalog does not define."""

    code = "unknown-attribute"
    title = "Unknown attribute"


class WeakPassword(InvalidInput):
    """A password that the password policy refuses."""

    code = "weak-password"
    title = "Password too weak"


class ConsentRequired(InvalidInput):
    """Joining a world without consenting to an item it requires."""

    code = "consent-required"
    title = "Consent required"


class MissingAttribute(InvalidInput):
    """A required item needs an attribute the person has not set."""

    code = "missing-attribute"
    title = "Attribute missing"


class CatalogError(PersonaeError):
    """The attribute catalog file is invalid or asks for forbidden data."""

    code = "invalid-catalog"
    title = "Invalid attribute catalog"


class NotAuthenticated(PersonaeError):
    """Missing, malformed, unknown or expired credentials (401)."""

    code = "not-authenticated"
    title = "Not authenticated"


class PresentationRejected(NotAuthenticated):
    """A pass presentation that fails the door check; deliberately says nothing more (401)."""

    code = "presentation-rejected"
    title = "Presentation rejected"


class Forbidden(PersonaeError):
    """Authenticated, but this role may not do this (403)."""

    code = "forbidden"
    title = "Forbidden"


class SanctionInForce(Forbidden):
    """A suspension or ban in force refuses this persona new passes (403)."""

    code = "sanction-in-force"
    title = "Sanction in force"


class NotFound(PersonaeError):
    """Nothing the caller may see exists under that name (404).

    Raised alike for what does not exist and for what belongs to someone else,
    so that the answer reveals nothing.
    """

    code = "not-found"
    title = "Not found"


class Conflict(PersonaeError):
    """The request clashes with the current state (409)."""

    code = "conflict"
    title = "Conflict"


class AlreadyRegistered(Conflict):
    """The evidence (or handle) is already bound to a person; says nothing about whom."""

    code = "already-registered"
    title = "Already registered"


class EvidenceRejected(PersonaeError):
    """Identity evidence that cannot be verified (untrusted issuer, bad signature…)."""

    code = "evidence-rejected"
    title = "Evidence rejected"


class PayloadTooLarge(PersonaeError):
    """A request body over the configured limit (413)."""

    code = "payload-too-large"
    title = "Payload too large"


class KeystoreError(PersonaeError):
    """The keystore is missing, unreadable, or a key cannot be found or opened."""

    code = "keystore"
    title = "Keystore error"


class BadRequest(PersonaeError):
    """A request for what cannot be: a range past the end, bounds in the wrong order (400)."""

    code = "bad-request"
    title = "Bad request"


class TooManyAttempts(PersonaeError):
    """Too many sign-in (or sign-up) attempts for an account or an address, refused before
    any password is checked (429, with Retry-After)."""

    code = "too-many-attempts"
    title = "Too many attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many sign-in attempts; wait and retry")
        self.retry_after = retry_after
        self.headers = {"retry-after": str(retry_after)}


class LogIntegrityError(PersonaeError):
    """The stored transparency log disagrees with itself or its checkpoint: nothing is appended."""

    code = "log-integrity"
    title = "Transparency log integrity failure"


@dataclass(frozen=True)
class ErrorMapping:
    """How an adapter renders one error class."""

    http_status: int
    exit_code: int = 1
    extra: dict[str, str] = field(default_factory=dict)


# One table, read by every adapter: the most specific class wins (MRO order).
ERROR_MAP: dict[type[PersonaeError], ErrorMapping] = {
    InvalidInput: ErrorMapping(422, 2),
    CatalogError: ErrorMapping(500, 3),
    NotAuthenticated: ErrorMapping(401, 4),
    Forbidden: ErrorMapping(403, 4),
    NotFound: ErrorMapping(404, 5),
    Conflict: ErrorMapping(409, 6),
    EvidenceRejected: ErrorMapping(422, 2),
    PayloadTooLarge: ErrorMapping(413, 2),
    KeystoreError: ErrorMapping(500, 7),
    BadRequest: ErrorMapping(400, 2),
    TooManyAttempts: ErrorMapping(429, 2),
    LogIntegrityError: ErrorMapping(500, 8),
    PersonaeError: ErrorMapping(400, 1),
}


def mapping_for(error: PersonaeError) -> ErrorMapping:
    """The mapping of the most specific registered class of ``error``."""
    for cls in type(error).__mro__:
        if cls in ERROR_MAP:
            return ERROR_MAP[cls]
    return ERROR_MAP[PersonaeError]
