"""Rules for persons: handles, the password policy, evidence kinds and assurance levels."""

from __future__ import annotations

import re
from enum import StrEnum

from personae.errors import FieldError, InvalidInput, WeakPassword


class Assurance(StrEnum):
    """Identity assurance level (NIST SP 800-63A)."""

    IAL1 = "IAL1"
    IAL2 = "IAL2"
    IAL3 = "IAL3"


class EvidenceKind(StrEnum):
    """How a person's identity (or one attribute) was established."""

    SELF_ASSERTED = "self_asserted"
    TRUSTED_ISSUER = "trusted_issuer"


ASSURANCE_OF: dict[EvidenceKind, Assurance] = {
    EvidenceKind.SELF_ASSERTED: Assurance.IAL1,
    EvidenceKind.TRUSTED_ISSUER: Assurance.IAL2,
}


def fixed_by_evidence(evidence: str) -> bool:
    """Whether an attribute with this evidence is beyond the person's own changes.

    A value some evidence established is kept as the evidence gave it: the person may
    neither replace it nor remove it (removing would let a self-asserted value take
    its place under the assurance level the evidence earned). Only new evidence could
    change it, and erasing the account removes it.
    """
    return evidence != EvidenceKind.SELF_ASSERTED


_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
PASSWORD_MIN = 12
PASSWORD_MAX = 128

# The most common passwords of at least 12 characters in public breach corpora;
# a deployment in production should add a breached-password service (NIST 800-63B 5.1.1.2).
_COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "qwertyuiopas",
        "qwerty123456",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "iloveyou1234",
        "aaaaaaaaaaaa",
        "111111111111",
        "000000000000",
        "abcdefghijkl",
        "abc123abc123",
        "letmein12345",
        "welcome12345",
        "administrator",
        "qwertyuiop123",
        "1q2w3e4r5t6y",
        "zaq12wsxcde3",
        "changeme1234",
        "trustno1trustno1",
        "correcthorsebatterystaple",
    }
)


def normalize_handle(handle: str) -> str:
    """The canonical form of a sign-in handle (case-insensitive); InvalidInput if malformed."""
    canonical = handle.strip().lower()
    if not _HANDLE.match(canonical):
        raise InvalidInput(
            "handle must be 3 to 64 characters: letters, digits, '.', '_' or '-'",
            [FieldError(("handle",), "3-64 of [a-z0-9._-], starting with a letter or digit")],
        )
    return canonical


def check_password(password: str, handle: str) -> None:
    """Refuse short, very long, common or handle-based passwords (WeakPassword, 422)."""
    problem = None
    if len(password) < PASSWORD_MIN:
        problem = f"password must have at least {PASSWORD_MIN} characters"
    elif len(password) > PASSWORD_MAX:
        problem = f"password must have at most {PASSWORD_MAX} characters"
    elif password.lower() in _COMMON or len(set(password)) < 4:
        problem = "password is too common or too repetitive"
    elif handle and handle.lower() in password.lower():
        problem = "password must not contain the handle"
    if problem:
        raise WeakPassword(problem, [FieldError(("password",), problem)])
