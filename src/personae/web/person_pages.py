"""Pages of a person: sign up, sign in (password), sign out, home, and my identity."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from personae.domain.attributes import AttributeType
from personae.domain.persons import EvidenceKind
from personae.errors import InvalidInput, NotAuthenticated
from personae.services.registry import Registration
from personae.web import security
from personae.web.core import (
    Viewer,
    ViewerDep,
    field_errors,
    form,
    page_router,
    redirect,
    render,
    text,
)

router = page_router()


def start_session(who: Viewer, cookie_value: str, to: str) -> Response:
    """Answer a successful sign-in: the new session cookie, and a fresh pre-session."""
    response = redirect(who, to)
    secure = who.svc.settings.web_secure_cookies
    security.set_cookie(
        response,
        who.request,
        security.SESSION_COOKIE,
        cookie_value,
        secure,
        max_age=who.svc.settings.session_ttl_seconds,
    )
    security.clear_cookie(response, who.request, security.PRE_COOKIE, secure)
    return response


@router.get("/")
def home(who: ViewerDep) -> Response:
    if who.staff is not None:
        return redirect(who, "/staff")
    if who.person is None:
        worlds = who.svc.worlds.list_worlds()
        return render(who, "landing.html", title="Your identity, your worlds", worlds=worlds)
    profile = who.svc.registry.profile(who.person)
    personas = who.svc.registry.personas(who.person)
    unread = [n for n in who.svc.notices.inbox(who.person) if n.read_at is None]
    return render(
        who, "home.html", title="Home", profile=profile, personas=personas, unread=len(unread)
    )


# -- sign up --------------------------------------------------------------------------


@router.get("/signup")
def signup_form(who: ViewerDep) -> Response:
    return render(who, "signup.html", title="Sign up", errors={}, values={})


@router.post("/signup")
async def signup(who: ViewerDep) -> Response:
    data = await form(who)
    handle, password = text(data, "handle", 100), text(data, "password", 600)
    security.charge_sign_in(who.request, None)  # per address only: no account exists yet
    try:
        if password != text(data, "password_again", 600):
            raise InvalidInput("the passwords differ", [])
        done = who.svc.registry.register(
            Registration(handle, password, EvidenceKind.SELF_ASSERTED, None, {})
        )
    except InvalidInput as exc:
        errors = field_errors(exc)
        if "password" not in errors and exc.detail == "the passwords differ":
            errors = {"password_again": "The two passwords differ."}
        return render(
            who, "signup.html", 422, title="Sign up", errors=errors, values={"handle": handle}
        )
    return start_session(who, done.session.token, "/me/identity")


# -- sign in / out ---------------------------------------------------------------------


@router.get("/signin")
def signin_form(who: ViewerDep) -> Response:
    return render(
        who, "signin.html", title="Sign in", error=None, passkeys=who.svc.passkeys.available
    )


@router.post("/signin")
async def signin(who: ViewerDep) -> Response:
    data = await form(who)
    handle = text(data, "handle", 100)
    security.charge_sign_in(who.request, security.AccountKind.PERSON, handle)
    try:
        session = who.svc.auth.person_sign_in(handle, text(data, "password", 600))
    except NotAuthenticated:
        return render(
            who,
            "signin.html",
            401,
            title="Sign in",
            error="Sign-in failed. Check your handle and password.",
            passkeys=who.svc.passkeys.available,
            handle=handle,
        )
    return start_session(who, session.token, "/")


@router.post("/signout")
async def signout(who: ViewerDep) -> Response:
    await form(who)
    if who.token is not None:
        who.svc.auth.sign_out(who.token)
    response = redirect(who, "/")
    security.clear_cookie(
        response, who.request, security.SESSION_COOKIE, who.svc.settings.web_secure_cookies
    )
    return response


# -- my identity -----------------------------------------------------------------------


def _identity(
    who: Viewer,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    person = who.need_person()
    profile = who.svc.registry.profile(person)
    catalog = list(who.svc.ctx.catalog)
    return render(
        who,
        "identity.html",
        status,
        title="My identity",
        profile=profile,
        catalog=catalog,
        errors=errors or {},
        values=values or {},
        flash=flash,
    )


@router.get("/me/identity")
def identity(who: ViewerDep, saved: str = "") -> Response:
    known = saved in who.svc.ctx.catalog
    return _identity(who, flash=f"Saved {saved}." if known else None)


def form_value(kind: AttributeType, raw: str) -> Any:
    """The typed value a field's text stands for (the catalog checks it afterwards)."""
    raw = raw.strip()
    if kind is AttributeType.LIST:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if kind is AttributeType.INTEGER and raw.lstrip("-").isdigit():
        return int(raw)
    return raw


@router.post("/me/identity")
async def set_attribute(who: ViewerDep) -> Response:
    person = who.need_person()
    data = await form(who)
    name, raw = text(data, "name", 64), text(data, "value", 2000)
    try:
        spec = who.svc.ctx.catalog.get(name)
        value = form_value(spec.type, raw)
        who.svc.registry.set_attribute(person, name, value)
    except InvalidInput as exc:
        errors = field_errors(exc)
        message = exc.errors[0].msg if exc.errors else exc.detail
        errors = {"value": message} if "name" not in errors else errors
        return _identity(who, 422, errors, {"name": name, "value": raw})
    return redirect(who, "/me/identity?saved=" + name)


@router.post("/me/identity/{name}/remove")
async def remove_attribute(who: ViewerDep, name: str) -> Response:
    person = who.need_person()
    await form(who)
    who.svc.registry.remove_attribute(person, name[:64])
    return redirect(who, "/me/identity")
