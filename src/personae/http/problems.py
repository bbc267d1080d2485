"""RFC 9457 problem+json: the one place errors become HTTP answers."""

from __future__ import annotations

import logging
import secrets
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from personae.errors import InvalidInput, NotAuthenticated, PersonaeError, mapping_for

log = logging.getLogger("personae.http")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:personae:problem:"


def problem(
    status: int, code: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _personae_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PersonaeError)
    mapping = mapping_for(exc)
    errors = None
    if isinstance(exc, InvalidInput) and exc.errors:
        errors = [{"loc": list(e.loc), "msg": e.msg} for e in exc.errors]
    if mapping.http_status >= 500:
        # The detail may name a file or key id: for the operator's log, not the client.
        log.error("%s: %s", exc.code, exc.detail)
        return problem(500, "internal", "Internal error", "the service could not complete this")
    if isinstance(exc, NotAuthenticated):
        log.info("authentication refused: %s", exc.detail)
    answer = problem(mapping.http_status, exc.code, exc.title, exc.detail, errors)
    answer.headers.update(exc.headers)
    return answer


def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Never echo the input back: it may hold a password or a personal value.
    errors = [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]
    return problem(422, "invalid-input", "Invalid input", "the request is not valid", errors)


_HTTP_CODES = {
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
}


def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http-error", "Request failed"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(exc.status_code, code, title, detail)


def _unhandled(_request: Request, exc: Exception) -> Response:
    incident = secrets.token_hex(6)
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f"{frame.filename}:{frame.lineno}" if frame else "?"
    # Type and place only: an exception's message can carry values or secrets.
    log.error("unhandled %s at %s (incident %s)", type(exc).__name__, where, incident)
    return problem(500, "internal", "Internal error", f"unexpected error (incident {incident})")


def install(app: FastAPI) -> None:
    app.add_exception_handler(PersonaeError, _personae_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
