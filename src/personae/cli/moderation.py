"""`personae moderation`: policies, queues, cases, decisions and appeals from the terminal.

Reviewer commands act as a named staff member (``--as``), as the operator vouches
for them at the terminal; every rule (scope, the deciding reviewer, deadlines)
applies exactly as over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from personae.bootstrap import Services
from personae.cli.main import _services, handles_errors
from personae.domain.moderation import AppealOutcome, Citation, Measure, Scope
from personae.domain.policy import PLATFORM
from personae.domain.staff import Role
from personae.errors import InvalidInput, NotFound
from personae.services.appeals import AppealInput
from personae.services.auth import StaffPrincipal
from personae.services.decisions import DecisionInput

moderation_app: typer.Typer = typer.Typer(
    help="Moderation: policies, queues, cases, decisions, appeals.", no_args_is_help=True
)

# A measure's duration from the terminal: a century at most (ends stay storable dates).
MAX_DAYS = 36500

AsStaff = Annotated[str, typer.Option("--as", help="The staff username to act as.")]


@contextmanager
def _session() -> Iterator[Services]:
    services = _services()
    try:
        yield services
    finally:
        services.close()


def _actor(services: Services, username: str) -> StaffPrincipal:
    with services.ctx.uow(write=False) as uow:
        member = uow.staff.by_username(username.strip().lower())
    if member is None:
        raise NotFound(f"no staff member {username!r}")
    return StaffPrincipal(member.id, member.username, Role(member.role), member.world_id)


@moderation_app.command("publish-policy")
@handles_errors
def publish_policy(
    file: Annotated[Path, typer.Argument(help='JSON: {"clauses": [{id, title, text, severity}]}')],
    world: Annotated[
        str | None, typer.Option(help="World id; the platform policy if absent.")
    ] = None,
) -> None:
    """Publish the next version of a world's (or the platform's) policy."""
    try:
        spec = json.loads(file.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{file} is not valid JSON: {exc.msg}") from None
    clauses = spec.get("clauses") if isinstance(spec, dict) else None
    with _session() as services:
        view = services.policies.publish_unchecked(world or PLATFORM, clauses)
    typer.echo(f"{view.scope} policy version {view.version}: {len(view.clauses)} clauses")


@moderation_app.command("queue")
@handles_errors
def queue(as_: AsStaff, limit: Annotated[int, typer.Option(min=1, max=200)] = 20) -> None:
    """The reviewer's queue, by priority then age."""
    with _session() as services:
        page = services.cases.queue(_actor(services, as_), limit)
    for case in page.cases:
        typer.echo(
            f"{case.id}  p{case.priority}  {case.status:<9} {case.clause_id:<20} "
            f"reports {case.report_count}  persona {case.persona_id}"
        )


@moderation_app.command("show")
@handles_errors
def show(case_id: str, as_: AsStaff) -> None:
    """A case: its reports (never who made them), notes, decision and any suggestion."""
    with _session() as services:
        detail = services.cases.case(_actor(services, as_), case_id)
    case = detail.case
    typer.echo(f"{case.id}  {case.status}  {case.clause_scope}:{case.clause_id}  ({case.severity})")
    for report in detail.reports:
        typer.echo(
            f"  report by a {report.reporter_kind} at {report.location}: {report.explanation}"
        )
    for note in detail.notes:
        typer.echo(f"  note ({note.visibility}): {note.text}")
    if detail.suggestion:
        typer.echo(f"  suggestion: {detail.suggestion}")
    if detail.decision:
        typer.echo(f"  decided: {detail.decision.measure} ({detail.decision.status})")


@moderation_app.command("escalate")
@handles_errors
def escalate(case_id: str, as_: AsStaff, reason: Annotated[str, typer.Option()]) -> None:
    """Hand a case to platform trust & safety."""
    with _session() as services:
        case = services.cases.escalate(_actor(services, as_), case_id, reason)
    typer.echo(f"{case.id} escalated")


@moderation_app.command("decide")
@handles_errors
def decide(
    case_id: str,
    *,
    as_: AsStaff,
    measure: Annotated[Measure, typer.Option()],
    clause: Annotated[list[str], typer.Option(help="Clause id, or platform:<id>; repeatable.")],
    explanation: Annotated[str, typer.Option(help="Why the clauses apply.")],
    facts: Annotated[str, typer.Option(help="The facts and circumstances.")],
    days: Annotated[int | None, typer.Option(min=1, max=MAX_DAYS, help="Duration in days.")] = None,
    scope: Annotated[Scope, typer.Option()] = Scope.WORLD,
    automated: Annotated[bool, typer.Option(help="Automated means were used.")] = False,
) -> None:
    """Decide a case with a full statement of reasons."""
    citations = tuple(
        Citation(PLATFORM, c.removeprefix("platform:"), explanation)
        if c.startswith("platform:")
        else Citation("world", c, explanation)
        for c in clause
    )
    with _session() as services:
        now = services.ctx.clock.now()
        given = DecisionInput(
            measure=measure,
            scope=scope,
            facts=facts,
            citations=citations,
            ends_at=now + timedelta(days=days) if days else None,
            automated=automated,
        )
        decision = services.decisions.decide(_actor(services, as_), case_id, given)
    typer.echo(
        f"decision {decision.id}: {decision.measure}, appeal until {decision.appeal_deadline}"
    )


@moderation_app.command("appeals")
@handles_errors
def appeals(as_: AsStaff) -> None:
    """Pending appeals the reviewer may see."""
    with _session() as services:
        pending = services.appeals.pending(_actor(services, as_))
    for appeal in pending:
        typer.echo(f"{appeal.id}  decision {appeal.decision_id}  filed {appeal.filed_at:%Y-%m-%d}")


@moderation_app.command("decide-appeal")
@handles_errors
def decide_appeal(
    appeal_id: str,
    *,
    as_: AsStaff,
    outcome: Annotated[AppealOutcome, typer.Option()],
    reasons: Annotated[str, typer.Option()],
    measure: Annotated[Measure | None, typer.Option(help="The modified measure.")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=MAX_DAYS)] = None,
) -> None:
    """Uphold, reverse or modify (never by the reviewer who decided)."""
    with _session() as services:
        now = services.ctx.clock.now()
        ends = now + timedelta(days=days) if days else None
        decided = services.appeals.decide(
            _actor(services, as_), appeal_id, AppealInput(outcome, reasons, measure, ends)
        )
    typer.echo(f"appeal {decided.id}: {decided.outcome}")
