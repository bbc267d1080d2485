"""The staff second factor: RFC 6238 TOTP, secrets sealed in the vault, sign-in with both factors.

TOTP is written here with ``hmac`` from the standard library rather than taken
from a package: RFC 4226/6238 is a dozen lines, the RFC's own test vectors check
it (tests/unit/web/test_web_totp.py), and one dependency fewer touches secrets.
A code is accepted in the current 30-second step or one step either side (clock
drift), and never twice: the last accepted step is stored, and an older or equal
step is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from urllib.parse import quote

from personae.errors import NotAuthenticated, NotFound
from personae.services.auth import MAX_SECRET_LENGTH, IssuedSession, open_session
from personae.services.context import ServiceContext
from personae.store.records import StaffRecord
from personae.store.uow import UnitOfWork

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA1
ISSUER = "personae"
_FAILED = "username, password or code is wrong"
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 HOTP: dynamic truncation of HMAC(key, counter), ``digits`` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), _DIGESTS[digest]).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def time_step(unix_seconds: float) -> int:
    return int(unix_seconds // STEP_SECONDS)


def totp(key: bytes, unix_seconds: float, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 6238 TOTP with T0 = 0 and a 30-second step."""
    return hotp(key, time_step(unix_seconds), digits, digest)


def matching_step(key: bytes, code: str, unix_seconds: float) -> int | None:
    """The time step within the drift window whose code is ``code``, if any."""
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    now = time_step(unix_seconds)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(key, step), code):
            found = step
    return found


def staff_owner(staff_id: str) -> str:
    """The vault owner under whose data key a staff member's TOTP secret is sealed."""
    return f"staff:{staff_id}"


@dataclass(frozen=True)
class Enrolment:
    """Shown once to the staff member; only the sealed secret is kept."""

    secret_base32: str
    uri: str


class StaffTwoFactorService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def enrol(self, staff_id: str) -> Enrolment:
        """A new TOTP secret for a staff member (replacing any earlier one)."""
        with self.ctx.uow() as uow:
            member = uow.staff.get(staff_id)
            if member is None:
                raise NotFound("no such staff member")
            return self.enrol_in(uow, member)

    def enrol_in(self, uow: UnitOfWork, member: StaffRecord) -> Enrolment:
        """:meth:`enrol` in the caller's transaction (one that creates the account too, so
        no account is ever left without its second factor)."""
        secret = secrets.token_bytes(SECRET_BYTES)
        owner = staff_owner(member.id)
        self.ctx.vault.new_key(owner)
        sealed = self.ctx.vault.seal(owner, {"totp": secret.hex()})["totp"]
        uow.staff_totp.put(member.id, sealed, self.ctx.clock.now())
        text = base64.b32encode(secret).decode("ascii").rstrip("=")
        label = quote(f"{ISSUER}:{member.username}")
        uri = (
            f"otpauth://totp/{label}?secret={text}&issuer={ISSUER}"
            f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
        )
        return Enrolment(text, uri)

    def enrolled(self, staff_id: str) -> bool:
        with self.ctx.uow(write=False) as uow:
            return uow.staff_totp.get(staff_id) is not None

    def sign_in(self, username: str, password: str, code: str) -> IssuedSession:
        """A staff session only with the password and a fresh code; one answer for every failure."""
        return self._sign_in(username, password, code, enrolment_required=True)

    def api_sign_in(self, username: str, password: str, code: str | None) -> IssuedSession:
        """The API's staff sign-in: an enrolled member (every `create-staff` account) must
        give a fresh code; only accounts made in-process without enrolment (demo
        seeds, tests) sign in with the password alone."""
        return self._sign_in(username, password, code or "", enrolment_required=False)

    def _sign_in(
        self, username: str, password: str, code: str, *, enrolment_required: bool
    ) -> IssuedSession:
        if len(password) > MAX_SECRET_LENGTH or len(username) > 64 or len(code) > 16:
            raise NotAuthenticated(_FAILED)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            member = uow.staff.by_username(username.strip().lower())
            ok = self.ctx.passwords.verify(member.password_hash if member else None, password)
            enrolled = uow.staff_totp.get(member.id) if member else None
            if member is None or not ok or (enrolled is None and enrolment_required):
                raise NotAuthenticated(_FAILED)
            if enrolled is not None:
                owner = staff_owner(member.id)
                secret = bytes.fromhex(
                    self.ctx.vault.open(owner, {"totp": enrolled.sealed_secret})["totp"]
                )
                step = matching_step(secret, code.strip(), now.timestamp())
                if step is None or step <= enrolled.last_step:
                    raise NotAuthenticated(_FAILED)
                if not uow.staff_totp.advance(member.id, enrolled.last_step, step):
                    raise NotAuthenticated(_FAILED)  # a concurrent sign-in used this code
            return open_session(self.ctx, uow, "staff", member.id)
