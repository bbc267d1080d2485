"""A client of a transparency log's public HTTP API (httpx only; no server code).

It fetches and decodes; it checks nothing cryptographic (``translog.verifier``
does). Every failure to get a well-formed answer is a ``LogClientError`` with a
one-line reason.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

ENTRIES_PAGE = 1000


class LogClientError(Exception):
    """The log could not be read: unreachable, an error answer, or a malformed one."""


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise LogClientError(f"the server sent a {what} that is not base64 text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise LogClientError(f"the server sent a {what} that is not valid base64") from None


class LogClient:
    """The log's endpoints under ``/v1/log`` of one server, over an ``httpx.Client``."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def _get(self, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise LogClientError(f"cannot reach the log at {self.http.base_url}: {exc}") from None
        if response.status_code != 200:
            detail = ""
            if response.headers.get("content-type", "").startswith("application/problem+json"):
                detail = f": {response.json().get('detail', '')}"
            raise LogClientError(f"GET {path} answered {response.status_code}{detail}")
        return response

    def _json(self, path: str, params: dict[str, int] | None = None) -> dict[str, Any]:
        try:
            body = self._get(path, params).json()
        except ValueError:
            raise LogClientError(f"GET {path} did not answer JSON") from None
        if not isinstance(body, dict):
            raise LogClientError(f"GET {path} did not answer a JSON object")
        return body

    def checkpoint(self, min_size: int | None = None) -> str:
        """The latest signed checkpoint note; with ``min_size``, the oldest one of a tree of
        at least that many entries."""
        params = None if min_size is None else {"min_size": min_size}
        return self._get("/v1/log/checkpoint", params).text

    def verifier_key(self) -> str:
        """The C2SP verifier key the server says it signs with now."""
        key = self._json("/v1/log/public-key").get("verifier_key")
        if not isinstance(key, str):
            raise LogClientError("the server's public key answer has no verifier_key")
        return key

    def verifier_keys(self) -> list[str]:
        """The key the server signs with now, then those it says signed before (newest first)."""
        body = self._json("/v1/log/public-key")
        current, previous = body.get("verifier_key"), body.get("previous_verifier_keys", [])
        if not isinstance(current, str) or not isinstance(previous, list):
            raise LogClientError("the server's public key answer has no verifier keys")
        if not all(isinstance(key, str) for key in previous):
            raise LogClientError("the server's previous verifier keys are not all text")
        return [current, *previous]

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``start <= index < end``, fetched page by page."""
        found: list[bytes] = []
        while start + len(found) < end:
            first = start + len(found)
            body = self._json("/v1/log/entries", {"start": first, "end": end})
            page = body.get("entries")
            if not isinstance(page, list) or not page:
                raise LogClientError(f"the server sent no entries from index {first}")
            for offset, item in enumerate(page):
                if not isinstance(item, dict) or item.get("index") != first + offset:
                    raise LogClientError(f"the server sent entries out of order at {first}")
                found.append(_b64(item.get("leaf"), "leaf"))
        return found[: end - start]

    def _hashes(self, path: str, params: dict[str, int]) -> list[bytes]:
        hashes = self._json(path, params).get("hashes")
        if not isinstance(hashes, list):
            raise LogClientError(f"GET {path} answered no hashes")
        return [_b64(h, "proof hash") for h in hashes]

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return self._hashes("/v1/log/proofs/consistency", {"from": old, "to": new})

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._hashes("/v1/log/proofs/inclusion", {"index": index, "size": size})
