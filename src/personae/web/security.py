"""Page security: session and CSRF cookies, CSRF tokens, security headers, sign-in rate limits.

CSRF is a synchronizer token tied to the browser's session: the token is a keyed
HMAC of the session cookie (or, before sign-in, of a random pre-session cookie),
so a form from another site cannot carry it and a token from another session
does not match. Sign-in attempts, on the pages and in the API alike, are limited
per account and per address by token buckets held in this process's memory: each
`personae serve` process limits on its own, and a restart forgets the counts
(documented trade-off).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from personae.crypto.vault import Pseudonyms
from personae.errors import TooManyAttempts

SESSION_COOKIE = "personae_session"
PRE_COOKIE = "personae_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
# The API and its interactive docs keep their own headers.
_NOT_PAGES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/.well-known/", "/healthz")


class PageHeaders:
    """ASGI middleware: CSP and the other security headers on every page and static file."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_NOT_PAGES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in PAGE_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


# -- cookies ------------------------------------------------------------------------


def secure_cookies(request: Request, configured: bool | None) -> bool:
    """Secure when configured so, else when this request came over HTTPS."""
    return configured if configured is not None else request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    secure: bool | None,
    *,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, secure),
    )


def clear_cookie(response: Response, request: Request, name: str, secure: bool | None) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=secure_cookies(request, secure)
    )


def new_pre_session() -> str:
    return secrets.token_urlsafe(32)


# -- CSRF ---------------------------------------------------------------------------


def csrf_token(pseudonyms: Pseudonyms, binding: str) -> str:
    """The form token for a session (or pre-session) cookie value."""
    mac = pseudonyms.lookup("web-csrf", hashlib.sha256(binding.encode()).hexdigest())
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def csrf_ok(pseudonyms: Pseudonyms, binding: str | None, presented: str | None) -> bool:
    if not binding or not presented or len(presented) > 128:
        return False
    return hmac.compare_digest(csrf_token(pseudonyms, binding), presented)


# -- staff two-factor marker ----------------------------------------------------------


def staff_cookie(pseudonyms: Pseudonyms, token: str) -> str:
    """A staff session cookie: the token and a MAC that only the two-factor sign-in adds.

    An API staff token (password only) put in the cookie by hand lacks the MAC,
    so the pages refuse it: every page session of staff had both factors.
    """
    mac = pseudonyms.lookup("web-staff-2fa", hashlib.sha256(token.encode()).hexdigest())
    return token + "." + base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def staff_token(pseudonyms: Pseudonyms, cookie: str) -> str | None:
    token, _, _mac = cookie.rpartition(".")
    if not token or not hmac.compare_digest(staff_cookie(pseudonyms, token), cookie):
        return None
    return token


# -- rate limits ----------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """Per-key token buckets (capacity, refill per second), bounded in memory (LRU)."""

    def __init__(self, capacity: float, per_second: float, max_keys: int = 50_000) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.max_keys = max_keys
        self._buckets: OrderedDict[bytes, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def spend(self, key: str, now: float | None = None) -> float:
        """Spend one token for ``key``: 0 if spent, else the seconds until one is there."""
        now = time.monotonic() if now is None else now
        digest = hashlib.sha256(key.encode()).digest()  # keys (handles, addresses) not kept
        with self._lock:
            bucket = self._buckets.pop(digest, None) or _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
            wait = 0.0
            if bucket.tokens >= 1:
                bucket.tokens -= 1
            else:
                wait = (1 - bucket.tokens) / self.per_second
            self._buckets[digest] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


class AccountKind(StrEnum):
    """The namespaces of accounts: a person's handle and a staff username never share a bucket."""

    PERSON = "person"
    STAFF = "staff"


def canonical_account(name: str) -> str:
    """An account name as the services look it up (``normalize_handle`` and the staff
    sign-in both strip and lower-case it), so that every spelling that signs in to one
    account is charged to that account's bucket."""
    return name.strip().lower()


class SignInLimits:
    """Sign-in attempts: a few per account, more per address, refilled over minutes.

    One instance per app (``app.state.sign_in_limits``), charged through
    `charge_sign_in` by the pages and the API alike, so both share every bucket.
    """

    def __init__(
        self,
        per_account: tuple[float, float] = (5, 5 / 300),
        per_address: tuple[float, float] = (30, 30 / 300),
    ) -> None:
        self.accounts = TokenBuckets(*per_account)
        self.addresses = TokenBuckets(*per_address)

    def check(self, address: str, kind: AccountKind | None = None, name: str = "") -> None:
        """Charge one attempt to ``address`` and, with ``kind``, to that account;
        `TooManyAttempts` when either bucket is empty."""
        # Both buckets are charged, so guessing across accounts still drains the address.
        wait = self.addresses.spend(address)
        if kind is not None:
            account = f"{kind.value}:{canonical_account(name)}"
            wait = max(wait, self.accounts.spend(account))
        if wait > 0:
            raise TooManyAttempts(max(1, math.ceil(wait)))


# For the API's OpenAPI schema: the answer of a sign-in refused by the limits.
TOO_MANY_ATTEMPTS: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many sign-in attempts for this account or address (problem+json); "
        "the Retry-After header says when to try again"
    }
}


def client_address(request: Request) -> str:
    """The address an attempt is charged to: the peer of this connection."""
    return request.client.host if request.client else "unknown"


def charge_sign_in(request: Request, kind: AccountKind | None, name: str = "") -> None:
    """The one gate of every sign-in and sign-up, on the pages and in the API: charge the
    app's `SignInLimits` for the client's address and (with ``kind``) the account named;
    raises `TooManyAttempts` (a 429 with Retry-After on either side)."""
    limits: SignInLimits = request.app.state.sign_in_limits
    limits.check(client_address(request), kind, name)
