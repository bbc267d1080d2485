"""Staff pages of lawful access: requests (intake to package), legal holds, retention."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.responses import Response

from personae.domain.lawful_access import Category, ProcessType, TargetScope
from personae.errors import FieldError, InvalidInput
from personae.services.lawful_access import Intake
from personae.web.core import (
    Viewer,
    ViewerDep,
    field_errors,
    finish,
    form,
    page_router,
    redirect,
    render,
    text,
)
from personae.web.staff_pages import need_section

router = page_router()
_INTAKE_FIELDS = (
    "authority",
    "authority_verification",
    "jurisdiction",
    "process_type",
    "document_ref",
    "document_sha256",
    "world_id",
    "persona_id",
    "scope",
    "range_start",
    "range_end",
    "deadline",
    "nondisclosure_until",
    "justification",
)


def _when(data: FormData, name: str, errors: list[FieldError], required: bool) -> datetime | None:
    raw = text(data, name, 40).strip()
    if not raw:
        if required:
            errors.append(FieldError((name,), "required"))
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        errors.append(FieldError((name,), "give a date as YYYY-MM-DD"))
        return None


def _choice(data: FormData, name: str, allowed: set[str], errors: list[FieldError]) -> str:
    value = text(data, name, 40)
    if value not in allowed:
        errors.append(FieldError((name,), "choose one"))
    return value


def _intake(data: FormData) -> Intake:
    errors: list[FieldError] = []
    process = _choice(data, "process_type", {p.value for p in ProcessType}, errors)
    scope = _choice(data, "scope", {s.value for s in TargetScope}, errors)
    categories = [c for c in data.getlist("categories") if isinstance(c, str)]
    if not categories or any(c not in {x.value for x in Category} for c in categories):
        errors.append(FieldError(("categories",), "choose the categories requested"))
    start = _when(data, "range_start", errors, True)
    end = _when(data, "range_end", errors, True)
    deadline = _when(data, "deadline", errors, True)
    nondisclosure = _when(data, "nondisclosure_until", errors, False)
    if errors or start is None or end is None or deadline is None:
        raise InvalidInput("the request is incomplete", errors)
    return Intake(
        authority=text(data, "authority", 300),
        authority_verification=text(data, "authority_verification", 2000),
        jurisdiction=text(data, "jurisdiction", 10),
        process_type=ProcessType(process),
        document_ref=text(data, "document_ref", 300),
        document_sha256=text(data, "document_sha256", 100),
        world_id=text(data, "world_id", 64),
        persona_id=text(data, "persona_id", 64),
        scope=TargetScope(scope),
        categories=[Category(c) for c in categories],
        range_start=start,
        range_end=end,
        deadline=deadline,
        nondisclosure_until=nondisclosure,
        justification=text(data, "justification", 4000) or None,
    )


def _requests_page(
    who: Viewer,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    actor = need_section(who, "/staff/lawful")
    return render(
        who,
        "staff_lawful.html",
        status,
        title="Lawful requests",
        requests=who.svc.lawful.requests(actor),
        errors=errors or {},
        values=values or {},
        processes=[p.value for p in ProcessType],
        categories=[c.value for c in Category],
        worlds=who.svc.worlds.list_worlds(),
    )


@router.get("/staff/lawful")
def requests(who: ViewerDep) -> Response:
    return _requests_page(who)


@router.post("/staff/lawful")
async def intake(who: ViewerDep) -> Response:
    actor = need_section(who, "/staff/lawful")
    data = await form(who)
    values = {name: text(data, name, 4000) for name in _INTAKE_FIELDS}
    try:
        made = who.svc.lawful.intake(actor, _intake(data))
    except InvalidInput as exc:
        return _requests_page(who, 422, field_errors(exc), values)
    return redirect(who, f"/staff/lawful/{made.id}")


def _request_page(
    who: Viewer,
    request_id: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    actor = need_section(who, "/staff/lawful")
    found = who.svc.lawful.get(actor, request_id)
    return render(
        who,
        "staff_lawful_request.html",
        status,
        title=f"Request {found.id}",
        r=found,
        actor=actor,
        errors=errors or {},
        flash=flash,
    )


@router.get("/staff/lawful/{request_id}")
def request_page(who: ViewerDep, request_id: str) -> Response:
    return _request_page(who, request_id)


@router.post("/staff/lawful/{request_id}/decision")
async def decide(who: ViewerDep, request_id: str) -> Response:
    actor = need_section(who, "/staff/lawful")
    data = await form(who)
    approve = text(data, "decision", 10) == "approve"
    chosen = [c for c in data.getlist("categories") if isinstance(c, str)]
    try:
        categories = [Category(c) for c in chosen if c in {x.value for x in Category}] or None
        who.svc.lawful.decide(
            actor,
            request_id,
            approve=approve,
            categories=categories,
            reason=text(data, "reason", 4000),
        )
    except InvalidInput as exc:
        return _request_page(who, request_id, 422, field_errors(exc))
    return redirect(who, f"/staff/lawful/{request_id}")


@router.post("/staff/lawful/{request_id}/execute")
async def execute(who: ViewerDep, request_id: str) -> Response:
    actor = need_section(who, "/staff/lawful")
    await form(who)
    who.svc.lawful.execute(actor, request_id)
    return _request_page(who, request_id, flash="Executed. The signed package is ready.")


@router.post("/staff/lawful/{request_id}/review")
async def review(who: ViewerDep, request_id: str) -> Response:
    actor = need_section(who, "/staff/lawful")
    data = await form(who)
    try:
        who.svc.lawful.review(
            actor,
            request_id,
            upheld=text(data, "upheld", 5) == "yes",
            reason=text(data, "reason", 4000),
        )
    except InvalidInput as exc:
        return _request_page(who, request_id, 422, field_errors(exc))
    return redirect(who, f"/staff/lawful/{request_id}")


@router.get("/staff/lawful/{request_id}/package")
def package(who: ViewerDep, request_id: str) -> Response:
    actor = need_section(who, "/staff/lawful")
    jws = who.svc.lawful.package(actor, request_id)
    response = Response(
        jws,
        media_type="application/jose",
        headers={
            "content-disposition": f'attachment; filename="production-{request_id[:40]}.jws"',
            "cache-control": "no-store",
        },
    )
    finish(who, response)
    return response


@router.post("/staff/lawful/{request_id}/handover")
async def hand_over(who: ViewerDep, request_id: str) -> Response:
    actor = need_section(who, "/staff/lawful")
    data = await form(who)
    try:
        who.svc.lawful.hand_over(actor, request_id, text(data, "handover", 1000))
    except InvalidInput as exc:
        return _request_page(who, request_id, 422, field_errors(exc))
    return redirect(who, f"/staff/lawful/{request_id}")


# -- legal holds and retention -----------------------------------------------------------


def _holds_page(who: Viewer, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    actor = need_section(who, "/staff/holds")
    return render(
        who,
        "staff_holds.html",
        status,
        title="Legal holds",
        holds=who.svc.holds.holds(actor),
        errors=errors or {},
        worlds=who.svc.worlds.list_worlds(),
    )


@router.get("/staff/holds")
def holds(who: ViewerDep) -> Response:
    return _holds_page(who)


@router.post("/staff/holds")
async def litigation_hold(who: ViewerDep) -> Response:
    actor = need_section(who, "/staff/holds")
    data = await form(who)
    try:
        who.svc.holds.litigation_hold(
            actor, text(data, "world_id", 64), text(data, "persona_id", 64)
        )
    except InvalidInput as exc:
        return _holds_page(who, 422, field_errors(exc))
    return redirect(who, "/staff/holds")


@router.post("/staff/holds/{hold_id}/extend")
async def extend(who: ViewerDep, hold_id: str) -> Response:
    actor = need_section(who, "/staff/holds")
    await form(who)
    who.svc.holds.extend(actor, hold_id)
    return redirect(who, "/staff/holds")


@router.get("/staff/retention")
def retention(who: ViewerDep) -> Response:
    need_section(who, "/staff/retention")
    periods = sorted(who.svc.retention.policy.periods.items(), key=lambda kv: kv[0].value)
    return render(
        who,
        "staff_retention.html",
        title="Retention",
        periods=periods,
        interval=who.svc.settings.retention_sweep_interval_seconds,
        sweeps=who.svc.retention.recent_sweeps(),
    )
