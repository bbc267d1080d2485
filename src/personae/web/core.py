"""What every page handler shares: the viewer, templates, CSRF-checked forms, HTML errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from personae.bootstrap import Services
from personae.crypto import tokens
from personae.errors import InvalidInput, NotAuthenticated, PersonaeError, mapping_for
from personae.services.auth import PersonPrincipal, StaffPrincipal
from personae.web import security
from personae.web.nav import NavLink, nav_for

log = logging.getLogger("personae.web")

templates = Environment(
    loader=PackageLoader("personae.web", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


templates.filters["when"] = _when
templates.filters["shown"] = _shown


class PageError(Exception):
    """A page answer other than 200 that is not a domain error (CSRF, rate limit)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass
class Viewer:
    """Who is looking: a person, a staff member (both factors) or nobody, and their CSRF token."""

    request: Request
    svc: Services
    person: PersonPrincipal | None = None
    staff: StaffPrincipal | None = None
    token: str | None = None
    binding: str = ""
    new_pre: str | None = None
    cookies_to_set: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return security.csrf_token(self.svc.ctx.pseudonyms, self.binding)

    @property
    def nav(self) -> list[NavLink]:
        return nav_for(self.person is not None, self.staff.role if self.staff else None)

    def need_person(self) -> PersonPrincipal:
        if self.person is None:
            raise NotAuthenticated("sign in to see this page")
        return self.person

    def need_staff(self) -> StaffPrincipal:
        if self.staff is None:
            raise NotAuthenticated("staff sign-in required")
        return self.staff


def viewer(request: Request) -> Viewer:
    """The signed-in principal behind the session cookie, if any (a FastAPI dependency)."""
    svc: Services = request.app.state.services
    cookie = request.cookies.get(security.SESSION_COOKIE, "")
    pre = request.cookies.get(security.PRE_COOKIE, "")
    seen = Viewer(request, svc)
    if cookie and len(cookie) <= 512:
        seen.binding = cookie
        try:
            if cookie.startswith(tokens.PERSON_SESSION):
                seen.person, seen.token = svc.auth.person(cookie), cookie
            elif cookie.startswith(tokens.STAFF_SESSION):
                token = security.staff_token(svc.ctx.pseudonyms, cookie)
                if token is not None:
                    seen.staff, seen.token = svc.auth.staff(token), token
        except NotAuthenticated:
            pass
    if not seen.binding:
        if not pre or len(pre) > 128:
            pre = seen.new_pre = security.new_pre_session()
        seen.binding = pre
    return seen


def render(
    who: Viewer,
    template: str,
    status: int = 200,
    *,
    title: str,
    **context: Any,
) -> HTMLResponse:
    html = templates.get_template(template).render(
        viewer=who, title=title, nav=who.nav, path=who.request.url.path, **context
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["cache-control"] = "no-store"
    finish(who, response)
    return response


def finish(who: Viewer, response: Response) -> None:
    if who.new_pre:
        security.set_cookie(
            response,
            who.request,
            security.PRE_COOKIE,
            who.new_pre,
            who.svc.settings.web_secure_cookies,
        )


def redirect(who: Viewer, to: str) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    finish(who, response)
    return response


async def form(who: Viewer) -> FormData:
    """The posted form, after its CSRF token was checked against this browser's session."""
    data = await who.request.form()
    presented = data.get(security.CSRF_FIELD)
    if not security.csrf_ok(
        who.svc.ctx.pseudonyms,
        who.binding if not who.new_pre else None,
        presented if isinstance(presented, str) else None,
    ):
        raise PageError(
            403, "Form expired", "This form has expired. Reload the page and try again."
        )
    return data


def csrf_header_ok(who: Viewer) -> None:
    """For script requests (passkeys): the token travels in a header."""
    presented = who.request.headers.get(security.CSRF_HEADER)
    if not security.csrf_ok(
        who.svc.ctx.pseudonyms, who.binding if not who.new_pre else None, presented
    ):
        raise PageError(403, "Form expired", "This form has expired. Reload the page.")


def text(data: FormData, name: str, max_len: int = 2000) -> str:
    value = data.get(name)
    return value[:max_len] if isinstance(value, str) else ""


def field_errors(exc: InvalidInput) -> dict[str, str]:
    """The service's field errors by the last part of their path, for messages beside fields."""
    found: dict[str, str] = {}
    for error in exc.errors:
        key = str(error.loc[-1]) if error.loc else "_"
        found.setdefault(key, error.msg)
    if not found:
        found["_"] = exc.detail
    return found


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    who = viewer(request)
    signed_out = status == 401
    return render(
        who,
        "error.html",
        status,
        title=title,
        detail=detail,
        sign_in=signed_out,
    )


class PageRoute(APIRoute):
    """A route whose domain errors become an HTML page (never problem+json, never a trace)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except PageError as exc:
                return error_page(request, exc.status, exc.title, exc.detail)
            except PersonaeError as exc:
                status = mapping_for(exc).http_status
                if status >= 500:
                    log.error("%s: %s", exc.code, exc.detail)
                    return error_page(request, 500, "Something went wrong", "Please try again.")
                page = error_page(request, status, exc.title, exc.detail)
                page.headers.update(exc.headers)
                return page

        return page_handler


def options(mapping: Mapping[str, Any]) -> list[tuple[str, str]]:
    return sorted((str(k), str(v)) for k, v in mapping.items())


ViewerDep = Annotated[Viewer, Depends(viewer)]


def page_router() -> APIRouter:
    """A router for pages: errors become HTML pages, and pages stay out of the OpenAPI schema."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)
