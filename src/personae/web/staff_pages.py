"""Staff pages: sign-in with two factors, home, moderation queue, case, decision form, appeals."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.responses import Response

from personae.domain.moderation import (
    AppealOutcome,
    Citation,
    Measure,
    Scope,
    allowed,
    reviewer_kind,
)
from personae.domain.policy import PLATFORM
from personae.errors import FieldError, Forbidden, InvalidInput, NotAuthenticated
from personae.services.appeals import AppealInput
from personae.services.auth import StaffPrincipal
from personae.services.decisions import DecisionInput
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
from personae.web.nav import staff_may
from personae.web.person_pages import start_session

router = page_router()


def need_section(who: Viewer, href: str) -> StaffPrincipal:
    """The staff member, if their role may use this section (403 otherwise)."""
    actor = who.need_staff()
    if not staff_may(actor.role, href):
        raise Forbidden("your role does not give access to this page")
    return actor


# -- sign-in ---------------------------------------------------------------------------


@router.get("/staff/signin")
def signin_form(who: ViewerDep) -> Response:
    return render(who, "staff_signin.html", title="Staff sign-in", error=None, username="")


@router.post("/staff/signin")
async def signin(who: ViewerDep) -> Response:
    data = await form(who)
    username = text(data, "username", 64)
    security.charge_sign_in(who.request, security.AccountKind.STAFF, username)
    try:
        session = who.svc.two_factor.sign_in(
            username, text(data, "password", 600), text(data, "code", 16)
        )
    except NotAuthenticated:
        return render(
            who,
            "staff_signin.html",
            401,
            title="Staff sign-in",
            error="Sign-in failed. Check your username, password and code.",
            username=username,
        )
    cookie = security.staff_cookie(who.svc.ctx.pseudonyms, session.token)
    return start_session(who, cookie, "/staff")


@router.get("/staff")
def staff_home(who: ViewerDep) -> Response:
    actor = who.need_staff()
    return render(who, "staff_home.html", title="Staff", actor=actor)


# -- moderation ------------------------------------------------------------------------


@router.get("/staff/queue")
def queue(who: ViewerDep, cursor: str = "") -> Response:
    actor = need_section(who, "/staff/queue")
    page = who.svc.cases.queue(actor, 50, cursor[:200] or None)
    names = {w.id: w.name for w in who.svc.worlds.list_worlds()}
    return render(
        who, "staff_queue.html", title="Moderation queue", page=page, names=names, actor=actor
    )


def _clauses(who: Viewer, world_id: str, escalated: bool) -> list[tuple[str, str]]:
    """The clauses a decision may cite: the world's policy in force, and the platform's."""
    choices: list[tuple[str, str]] = []
    for scope, label in ((world_id, "world"), (PLATFORM, "platform")):
        versions = who.svc.policies.versions(scope)
        if versions:
            latest = versions[-1]
            choices += [
                (f"{label}:{c.id}", f"{label} v{latest.version} · {c.id} — {c.title}")
                for c in latest.clauses
            ]
    return choices


def _case_page(
    who: Viewer,
    case_id: str,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    actor = need_section(who, "/staff/queue")
    detail = who.svc.cases.case(actor, case_id)
    case = detail.case
    kind = reviewer_kind(actor.role, actor.world_id)
    actions = (
        allowed(kind, actor.world_id, case.world_id, case.escalated_at is not None)
        if kind
        else frozenset()
    )
    return render(
        who,
        "staff_case.html",
        status,
        title=f"Case {case.id}",
        detail=detail,
        case=case,
        actions={a.value for a in actions},
        clauses=_clauses(who, case.world_id, False),
        measures=[m.value for m in Measure],
        errors=errors or {},
        values=values or {},
        flash=flash,
        world=who.svc.worlds.get(case.world_id),
    )


@router.get("/staff/cases/{case_id}")
def case_page(who: ViewerDep, case_id: str) -> Response:
    return _case_page(who, case_id)


@router.post("/staff/cases/{case_id}/assign")
async def assign(who: ViewerDep, case_id: str) -> Response:
    actor = need_section(who, "/staff/queue")
    await form(who)
    who.svc.cases.assign(actor, case_id)
    return redirect(who, f"/staff/cases/{case_id}")


@router.post("/staff/cases/{case_id}/note")
async def note(who: ViewerDep, case_id: str) -> Response:
    actor = need_section(who, "/staff/queue")
    data = await form(who)
    try:
        who.svc.cases.add_note(
            actor, case_id, text(data, "text", 5000), text(data, "visibility", 20)
        )
    except InvalidInput as exc:
        return _case_page(
            who, case_id, 422, errors={"note_" + k: v for k, v in field_errors(exc).items()}
        )
    return redirect(who, f"/staff/cases/{case_id}")


@router.post("/staff/cases/{case_id}/escalate")
async def escalate(who: ViewerDep, case_id: str) -> Response:
    actor = need_section(who, "/staff/queue")
    data = await form(who)
    try:
        who.svc.cases.escalate(actor, case_id, text(data, "reason", 5000))
    except InvalidInput as exc:
        return _case_page(who, case_id, 422, errors={"escalate_reason": exc.detail})
    return redirect(who, "/staff/queue")


def _date(data: FormData, name: str) -> datetime | None:
    raw = text(data, name, 20).strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(
            "not a date", [FieldError((name,), "give a date as YYYY-MM-DD")]
        ) from None


def _decision_input(data: FormData) -> DecisionInput:
    """The decision form as the service's input; unparseable fields become field errors."""
    errors: list[FieldError] = []
    measure = text(data, "measure", 40)
    scope = text(data, "scope", 20)
    automated = text(data, "automated", 5)
    clause_scope, _, clause_id = text(data, "clause", 100).partition(":")
    window = text(data, "appeal_window_days", 6)
    if measure not in {m.value for m in Measure}:
        errors.append(FieldError(("measure",), "choose a measure"))
    if scope not in {s.value for s in Scope}:
        errors.append(FieldError(("scope",), "choose a scope"))
    if automated not in ("yes", "no"):
        errors.append(FieldError(("automated",), "say whether automated means were used"))
    if not clause_id:
        errors.append(FieldError(("clause",), "cite the clause relied on"))
    if not window.isdigit():
        errors.append(FieldError(("appeal_window_days",), "a number of days"))
    try:
        ends_at = _date(data, "ends_at")
    except InvalidInput as exc:
        errors += exc.errors
        ends_at = None
    if errors:
        raise InvalidInput("the statement of reasons is incomplete", errors)
    return DecisionInput(
        measure=Measure(measure),
        scope=Scope(scope),
        facts=text(data, "facts", 5000),
        citations=(Citation(clause_scope, clause_id, text(data, "explanation", 5000)),),
        ends_at=ends_at,
        automated=automated == "yes",
        appeal_window_days=int(window),
    )


_DECISION_FIELDS = (
    "measure",
    "scope",
    "ends_at",
    "facts",
    "automated",
    "clause",
    "explanation",
    "appeal_window_days",
)


@router.post("/staff/cases/{case_id}/decide")
async def decide(who: ViewerDep, case_id: str) -> Response:
    actor = need_section(who, "/staff/queue")
    data = await form(who)
    values = {name: text(data, name, 5000) for name in _DECISION_FIELDS}
    try:
        who.svc.decisions.decide(actor, case_id, _decision_input(data))
    except InvalidInput as exc:
        return _case_page(who, case_id, 422, errors=field_errors(exc), values=values)
    return _case_page(who, case_id, flash="Decided. The person's notice is in their inbox.")


# -- appeals ---------------------------------------------------------------------------------


@router.get("/staff/appeals")
def appeals(who: ViewerDep) -> Response:
    actor = need_section(who, "/staff/appeals")
    return render(
        who, "staff_appeals.html", title="Appeals", items=who.svc.appeal_queue.for_reviewer(actor)
    )


def _appeal_page(
    who: Viewer, appeal_id: str, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    actor = need_section(who, "/staff/appeals")
    item = who.svc.appeal_queue.item(actor, appeal_id)
    return render(
        who,
        "staff_appeal.html",
        status,
        title="Appeal",
        item=item,
        errors=errors or {},
        outcomes=[o.value for o in AppealOutcome],
        measures=[m.value for m in Measure],
    )


@router.get("/staff/appeals/{appeal_id}")
def appeal_page(who: ViewerDep, appeal_id: str) -> Response:
    return _appeal_page(who, appeal_id)


@router.post("/staff/appeals/{appeal_id}")
async def decide_appeal(who: ViewerDep, appeal_id: str) -> Response:
    actor = need_section(who, "/staff/appeals")
    data = await form(who)
    outcome = text(data, "outcome", 20)
    try:
        if outcome not in {o.value for o in AppealOutcome}:
            raise InvalidInput("choose an outcome", [FieldError(("outcome",), "choose an outcome")])
        measure = text(data, "measure", 40)
        given = AppealInput(
            AppealOutcome(outcome),
            text(data, "reasons", 5000),
            Measure(measure) if measure in {m.value for m in Measure} else None,
            _date(data, "ends_at"),
        )
        who.svc.appeals.decide(actor, appeal_id, given)
    except InvalidInput as exc:
        return _appeal_page(who, appeal_id, 422, field_errors(exc))
    return redirect(who, "/staff/appeals")
