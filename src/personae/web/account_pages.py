"""Pages of a person's account: passes, inbox and appeals, standing, passkeys, export, erasure."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response

from personae.errors import FieldError, InvalidInput, NotAuthenticated, NotFound
from personae.web import security
from personae.web.core import (
    PageError,
    Viewer,
    ViewerDep,
    csrf_header_ok,
    field_errors,
    finish,
    form,
    page_router,
    redirect,
    render,
    text,
)
from personae.web.person_pages import start_session

router = page_router()
MAX_JSON_BODY = 16 * 1024


# -- passes ----------------------------------------------------------------------------


def _passes_page(
    who: Viewer,
    status: int = 200,
    issued: Any = None,
    errors: dict[str, str] | None = None,
    jwk: str = "",
) -> Response:
    person = who.need_person()
    personas = who.svc.registry.personas(person)
    passes = {p.persona_id: who.svc.passes.passes(person, p.persona_id) for p in personas}
    return render(
        who,
        "passes.html",
        status,
        title="Passes",
        personas=personas,
        passes=passes,
        issued=issued,
        errors=errors or {},
        jwk=jwk,
    )


@router.get("/me/passes")
def passes(who: ViewerDep) -> Response:
    return _passes_page(who)


@router.post("/me/passes/{persona_id}/issue")
async def issue_pass(who: ViewerDep, persona_id: str) -> Response:
    person = who.need_person()
    data = await form(who)
    raw = text(data, "holder_jwk", 4000)
    try:
        try:
            jwk = json.loads(raw)
        except ValueError:
            raise InvalidInput(
                "the holder key is not JSON", [FieldError(("holder_jwk",), "not JSON")]
            ) from None
        if not isinstance(jwk, dict):
            raise InvalidInput(
                "the holder key must be a JSON object (a JWK)",
                [FieldError(("holder_jwk",), "not an object")],
            )
        issued = who.svc.passes.issue(person, persona_id, jwk)
    except InvalidInput as exc:
        errors = {f"{persona_id}": exc.detail, **field_errors(exc)}
        return _passes_page(who, 422, errors=errors, jwk=raw)
    return _passes_page(who, 201, issued=issued)


@router.post("/me/passes/{persona_id}/{pass_id}/revoke")
async def revoke_pass(who: ViewerDep, persona_id: str, pass_id: str) -> Response:
    person = who.need_person()
    await form(who)
    who.svc.passes.revoke(person, persona_id, pass_id)
    return redirect(who, "/me/passes")


# -- inbox and appeals -------------------------------------------------------------------


def _inbox_page(
    who: Viewer, status: int = 200, errors: dict[str, str] | None = None, flash: str | None = None
) -> Response:
    person = who.need_person()
    notices = who.svc.notices.inbox(person)
    decisions = {d.decision.id: d for d in who.svc.appeals.decisions(person)}
    return render(
        who,
        "inbox.html",
        status,
        title="Inbox",
        notices=notices,
        decisions=decisions,
        errors=errors or {},
        flash=flash,
    )


@router.get("/me/inbox")
def inbox(who: ViewerDep) -> Response:
    return _inbox_page(who)


@router.post("/me/inbox/{notice_id}/read")
async def mark_read(who: ViewerDep, notice_id: str) -> Response:
    person = who.need_person()
    await form(who)
    with contextlib.suppress(NotFound):  # already read: nothing to do
        who.svc.notices.mark_read(person, notice_id)
    return redirect(who, "/me/inbox")


@router.post("/me/decisions/{decision_id}/appeal")
async def appeal(who: ViewerDep, decision_id: str) -> Response:
    person = who.need_person()
    data = await form(who)
    try:
        who.svc.appeals.file(person, decision_id, text(data, "statement", 5000))
    except InvalidInput as exc:
        return _inbox_page(who, 422, errors={decision_id: exc.detail})
    return _inbox_page(who, flash="Your appeal was filed. Another reviewer will decide it.")


# -- standing ----------------------------------------------------------------------------


@router.get("/me/standing")
def standing(who: ViewerDep) -> Response:
    person = who.need_person()
    names = {p.persona_id: p.world_name for p in who.svc.registry.personas(person)}
    return render(
        who,
        "standing.html",
        title="Standing",
        standings=who.svc.standing.for_person(person),
        names=names,
    )


# -- account: passkeys, export, erasure -----------------------------------------------------


def _account_page(who: Viewer, status: int = 200, flash: str | None = None) -> Response:
    person = who.need_person()
    try:
        erasure = who.svc.erasure.status(person)
    except NotFound:
        erasure = None
    return render(
        who,
        "account.html",
        status,
        title="Account",
        flash=flash,
        passkeys=who.svc.passkeys.passkeys(person),
        passkeys_available=who.svc.passkeys.available,
        erasure=erasure,
    )


@router.get("/me/account")
def account(who: ViewerDep) -> Response:
    return _account_page(who)


async def _json_body(who: Viewer) -> dict[str, Any]:
    csrf_header_ok(who)
    body = await who.request.body()
    if len(body) > MAX_JSON_BODY:
        raise PageError(413, "Too large", "The request is too large.")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise PageError(400, "Bad request", "The request is not JSON.") from None
    if not isinstance(parsed, dict):
        raise PageError(400, "Bad request", "The request is not a JSON object.")
    return parsed


def _json(who: Viewer, payload: Any, status: int = 200) -> Response:
    response = JSONResponse(payload, status_code=status, headers={"cache-control": "no-store"})
    finish(who, response)
    return response


@router.post("/me/passkeys/options")
async def passkey_options(who: ViewerDep) -> Response:
    person = who.need_person()
    body = await _json_body(who)
    try:
        options = who.svc.passkeys.registration_options(person, str(body.get("label", ""))[:100])
    except InvalidInput as exc:
        return _json(who, {"error": exc.detail}, 422)
    return Response(options, media_type="application/json", headers={"cache-control": "no-store"})


@router.post("/me/passkeys")
async def passkey_register(who: ViewerDep) -> Response:
    person = who.need_person()
    body = await _json_body(who)
    try:
        added = who.svc.passkeys.register(
            person, json.dumps(body.get("credential")), str(body.get("label", ""))[:100]
        )
    except InvalidInput as exc:
        return _json(who, {"error": exc.detail}, 422)
    return _json(who, {"label": added.label}, 201)


@router.post("/me/passkeys/{credential_id}/remove")
async def passkey_remove(who: ViewerDep, credential_id: str) -> Response:
    person = who.need_person()
    await form(who)
    who.svc.passkeys.remove(person, credential_id)
    return _account_page(who, flash="The passkey was removed.")


@router.post("/signin/passkey/options")
async def passkey_sign_in_options(who: ViewerDep) -> Response:
    await _json_body(who)
    security.charge_sign_in(who.request, None)
    return Response(
        who.svc.passkeys.authentication_options(),
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


@router.post("/signin/passkey")
async def passkey_sign_in(who: ViewerDep) -> Response:
    body = await _json_body(who)
    security.charge_sign_in(who.request, None)
    try:
        session = who.svc.passkeys.sign_in(json.dumps(body.get("credential")))
    except NotAuthenticated:
        return _json(who, {"error": "Passkey sign-in failed."}, 401)
    response = start_session(who, session.token, "/")
    return _json_with_cookies(who, response)


def _json_with_cookies(who: Viewer, signed_in: Response) -> Response:
    """The script follows the redirect itself; keep the cookies the sign-in set."""
    answer = _json(who, {"next": "/"})
    for name, value in signed_in.raw_headers:
        if name == b"set-cookie":
            answer.raw_headers.append((name, value))
    return answer


@router.get("/me/export")
def export(who: ViewerDep) -> Response:
    person = who.need_person()
    data = who.svc.export.export(person)
    response = Response(
        orjson.dumps(data, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "content-disposition": 'attachment; filename="personae-export.json"',
            "cache-control": "no-store",
        },
    )
    finish(who, response)
    return response


@router.post("/me/erasure")
async def request_erasure(who: ViewerDep) -> Response:
    person = who.need_person()
    data = await form(who)
    if text(data, "confirm", 10) != "yes":
        return _account_page(who, 422, flash="Tick the box to confirm that you want to be erased.")
    who.svc.erasure.request(person)
    return _account_page(who, flash="Erasure requested. You can cancel during the grace period.")


@router.post("/me/erasure/cancel")
async def cancel_erasure(who: ViewerDep) -> Response:
    person = who.need_person()
    await form(who)
    who.svc.erasure.cancel(person)
    return _account_page(who, flash="Erasure cancelled. Your identity stays.")
