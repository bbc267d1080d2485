"""Issuer keys and status lists fetched over HTTP (stdlib urllib), verified and cached.

Both providers take an injectable ``fetch(url) -> bytes`` (tests pass a dict
lookup; production uses :func:`urllib_fetch`) and read time only from the
``now`` the door check hands them. Lookups on a warm cache are a dict access
and a comparison: nothing is re-verified or re-decompressed per door check.
Fetch failures are logged, never raised into the door check, and retried no
more often than a minimum interval, so hostile input cannot make a world hammer
its issuer.
"""

from __future__ import annotations

import http.client
import logging
import math
import threading
import time
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from personae.crypto.jose import JoseError
from personae.crypto.statuslist import DEFAULT_MAX_LIST_BYTES, status_at
from personae.verify._codec import loads_object
from personae.verify._errors import PassRejected
from personae.verify._providers import IssuerKey, IssuerKeys
from personae.verify._status_token import StatusTokenInvalid, verify_status_list_token

Fetch = Callable[[str], bytes]

logger = logging.getLogger("personae.verify")

# URLError, HTTPError and timeouts are OSErrors; a truncated body is an HTTPException.
_FETCH_ERRORS = (OSError, ValueError, http.client.HTTPException, PassRejected)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx becomes an HTTPError: keys and lists are fetched from where named


_OPENER = urllib.request.build_opener(_NoRedirects)


def _check_url(url: str, allow_http: bool) -> str:
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.netloc or parts.fragment:
        raise ValueError(f"refusing to fetch {url!r}: only absolute {'/'.join(schemes)} URLs")
    return url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _same_origin(url: str, trusted: str, more: Collection[str]) -> bool:
    """Whether ``url`` is on the origin (scheme, host, port) of ``trusted`` or of ``more``."""
    origin = _origin(url)
    return origin == _origin(trusted) or any(origin == _origin(o) for o in more)


def urllib_fetch(
    url: str, *, timeout: float = 5.0, deadline: float = 15.0, max_bytes: int = 1 << 22
) -> bytes:
    """GET ``url`` with urllib: http(s) only, no redirects, bounded size and time.

    ``timeout`` bounds each connect and read, ``deadline`` the whole response: a
    server trickling bytes cannot hold a fetch open longer. (Name resolution is the
    system resolver's, with its own time limits.)
    """
    _check_url(url, allow_http=True)
    request = urllib.request.Request(  # noqa: S310 - scheme checked just above
        url, headers={"Accept": "application/json, application/statuslist+jwt"}
    )
    give_up = time.monotonic() + deadline
    chunks: list[bytes] = []
    size = 0
    with _OPENER.open(request, timeout=timeout) as response:
        while True:
            if time.monotonic() > give_up:
                raise TimeoutError(f"response from {url} took over {deadline} s")
            chunk: bytes = response.read1(1 << 16)  # what has arrived, not a full buffer
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"response from {url} exceeds {max_bytes} bytes")
    return b"".join(chunks)


def metadata_url(issuer: str) -> str:
    """The JWT VC issuer metadata URL: ``/.well-known/jwt-vc-issuer`` + the issuer's path."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("issuer must be an http(s) URL without query or fragment")
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwt-vc-issuer{parts.path.rstrip('/')}"


class HttpIssuerKeys:
    """The signing keys of one issuer, from its ``/.well-known/jwt-vc-issuer`` metadata.

    Keys are refreshed after ``refresh_seconds``; an unknown ``kid`` (a key
    rotation) triggers a refetch at most every ``min_refetch_seconds``. When a
    refresh fails the last good keys stay in use for ``max_stale_seconds``. A
    ``jwks_uri`` is fetched only on the issuer's origin or one of ``key_origins``.
    """

    def __init__(
        self,
        issuer_url: str,
        *,
        fetch: Fetch | None = None,
        refresh_seconds: float = 3600.0,
        min_refetch_seconds: float = 60.0,
        max_stale_seconds: float = 86400.0,
        allow_http: bool = False,
        key_origins: Collection[str] = (),
    ) -> None:
        """``issuer_url`` is the ``iss`` of the passes; https unless ``allow_http`` (dev only)."""
        self._issuer = issuer_url
        self._key_origins = tuple(key_origins)
        self._allow_http = allow_http
        self._url = _check_url(metadata_url(issuer_url), allow_http)
        self._fetch: Fetch = fetch or urllib_fetch
        self._refresh_seconds = refresh_seconds
        self._min_refetch = min_refetch_seconds
        self._max_stale = max_stale_seconds
        self._keys: dict[str, IssuerKey] = {}
        self._fresh_until = -math.inf
        self._next_attempt = -math.inf
        self._lock = threading.Lock()

    @property
    def issuer(self) -> str:
        """The one issuer these keys belong to."""
        return self._issuer

    def trusts(self, issuer: str) -> bool:
        """True only for this provider's issuer."""
        return issuer == self._issuer

    def key_for(self, issuer: str, kid: str, now: float) -> IssuerKey | None:
        """The key ``kid``, refreshing the key set when stale or when ``kid`` is new."""
        if issuer != self._issuer:
            return None
        key = self._keys.get(kid)
        if key is not None and now < self._fresh_until:
            return key
        if now >= self._next_attempt:
            self.refresh(now)
        if now >= self._fresh_until + self._max_stale:
            return None
        return self._keys.get(kid)

    def refresh(self, now: float) -> bool:
        """Fetch the issuer metadata now; False (and logged) if that failed."""
        with self._lock:
            if now < self._next_attempt:
                return False  # another thread just tried
            self._next_attempt = now + self._min_refetch
            try:
                keys = self._load()
            except _FETCH_ERRORS as exc:
                logger.warning("issuer keys for %s unavailable: %r", self._issuer, exc)
                return False
            self._keys = keys
            self._fresh_until = now + self._refresh_seconds
            return True

    def _load(self) -> dict[str, IssuerKey]:
        meta = loads_object(self._fetch(self._url))
        if meta.get("issuer") != self._issuer:
            raise ValueError("issuer metadata names another issuer")
        jwks, jwks_uri = meta.get("jwks"), meta.get("jwks_uri")
        if (jwks is None) == (jwks_uri is None):
            raise ValueError("issuer metadata needs exactly one of jwks and jwks_uri")
        if jwks is None:
            if not isinstance(jwks_uri, str):
                raise ValueError("jwks_uri must be a string")
            if not _same_origin(jwks_uri, self._issuer, self._key_origins):
                raise ValueError(f"jwks_uri {jwks_uri!r} is not on the issuer's origin")
            jwks = loads_object(self._fetch(_check_url(jwks_uri, self._allow_http)))
        entries = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(entries, list):
            raise ValueError("jwks must hold a keys array")
        keys: dict[str, IssuerKey] = {}
        for jwk in entries:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                key = IssuerKey.from_key(self._issuer, jwk["kid"], jwk)
            except JoseError:
                continue  # a key type the door check never accepts (RSA, HMAC, other curves)
            if jwk.get("alg", key.alg) == key.alg:
                keys[key.kid] = key
        return keys


@dataclass(frozen=True, slots=True)
class _CachedList:
    issuer: str
    bits: int
    data: bytes
    fresh_until: float
    usable_until: float


class HttpStatusLists:
    """Status list tokens fetched from the URIs in passes, verified once, cached per ``ttl``.

    A token is used for ``ttl`` seconds after it was fetched (``default_ttl`` if
    absent, at most ``max_ttl``) and never past its ``exp``; if a refetch fails
    the cached list stays usable until ``exp``. Failures are retried after
    ``retry_seconds``. Only tokens signed by the pass's own issuer are accepted,
    and only from the issuer's origin or one of ``list_origins``: a pass cannot
    send a door to fetch from anywhere else.

    One fetch per list at a time, outside any lock other lists need: a door check
    with a usable list never waits for a fetch, one without waits for that list's
    fetch at most ``wait_seconds``. The decoded lists kept take at most
    ``max_total_bytes`` (oldest out first).
    """

    def __init__(
        self,
        issuer_keys: IssuerKeys,
        *,
        fetch: Fetch | None = None,
        default_ttl: float = 300.0,
        max_ttl: float = 86400.0,
        retry_seconds: float = 30.0,
        skew_seconds: float = 60.0,
        max_list_bytes: int = DEFAULT_MAX_LIST_BYTES,
        max_lists: int = 1024,
        max_total_bytes: int = 1 << 26,
        wait_seconds: float = 20.0,
        allow_http: bool = False,
        list_origins: Collection[str] = (),
    ) -> None:
        """Verify status list tokens with ``issuer_keys`` (usually the door check's own)."""
        self._issuer_keys = issuer_keys
        self._fetch: Fetch = fetch or urllib_fetch
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._retry = retry_seconds
        self._skew = skew_seconds
        self._max_list_bytes = max_list_bytes
        self._max_lists = max_lists
        self._max_total_bytes = max_total_bytes
        self._wait = wait_seconds
        self._allow_http = allow_http
        self._list_origins = tuple(list_origins)
        self._cache: dict[str, _CachedList] = {}
        self._cached_bytes = 0
        self._retry_at: dict[str, float] = {}
        self._fetching: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def status(self, issuer: str, uri: str, idx: int, now: float) -> int | None:
        """Status ``idx`` at ``uri``; None if the list cannot be had or lacks the index."""
        entry = self._cache.get(uri)
        if entry is None or now >= entry.fresh_until:
            entry = self._refresh(issuer, uri, now)
            if entry is None:
                return None
        if entry.issuer != issuer:
            return None
        return status_at(entry.data, idx, entry.bits)

    def _refresh(self, issuer: str, uri: str, now: float) -> _CachedList | None:
        if not _same_origin(uri, issuer, self._list_origins):
            logger.warning("status list %s is not on the origin of its issuer %s", uri, issuer)
            return None
        with self._lock:
            current = self._cache.get(uri)
            usable = current if current is not None and now < current.usable_until else None
            if current is not None and now < current.fresh_until:
                return current  # another thread refreshed it
            if now < self._retry_at.get(uri, -math.inf):
                return usable
            fetching = self._fetching.get(uri)
            if fetching is None:
                fetching = self._fetching[uri] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            if usable is not None:
                return usable  # another thread fetches it: no waiting while this one serves
            fetching.wait(self._wait)
            latest = self._cache.get(uri)
            return latest if latest is not None and now < latest.usable_until else None
        entry: _CachedList | None = None
        try:
            entry = self._load(issuer, uri, now)
        except (*_FETCH_ERRORS, StatusTokenInvalid) as exc:
            logger.warning("status list %s unavailable: %r", uri, exc)
        finally:
            # The outcome is in place before the fetch is over: a waiter that wakes
            # finds the list (or the retry time), never a gap between the two.
            with self._lock:
                if entry is not None:
                    self._retry_at.pop(uri, None)
                    self._keep(uri, entry)
                else:
                    if len(self._retry_at) >= self._max_lists:
                        self._retry_at.pop(next(iter(self._retry_at)))
                    self._retry_at[uri] = now + self._retry
                del self._fetching[uri]
            fetching.set()
        return entry if entry is not None else usable

    def _keep(self, uri: str, entry: _CachedList) -> None:
        """Cache ``entry`` under ``uri``, dropping the oldest lists beyond the limits."""
        replaced = self._cache.pop(uri, None)
        if replaced is not None:
            self._cached_bytes -= len(replaced.data)
        while self._cache and (
            len(self._cache) >= self._max_lists
            or self._cached_bytes + len(entry.data) > self._max_total_bytes
        ):
            oldest = self._cache.pop(next(iter(self._cache)))
            self._cached_bytes -= len(oldest.data)
        self._cache[uri] = entry
        self._cached_bytes += len(entry.data)

    def _load(self, issuer: str, uri: str, now: float) -> _CachedList:
        body = self._fetch(_check_url(uri, self._allow_http))
        token = verify_status_list_token(
            body,
            uri=uri,
            issuer=issuer,
            issuer_keys=self._issuer_keys,
            now=now,
            skew_seconds=self._skew,
            max_list_bytes=self._max_list_bytes,
        )
        ttl = min(self._default_ttl if token.ttl is None else token.ttl, self._max_ttl)
        usable_until = math.inf if token.exp is None else token.exp
        fresh_until = min(now + ttl, usable_until)
        if token.exp is None:
            usable_until = fresh_until
        return _CachedList(issuer, token.bits, token.data, fresh_until, usable_until)
