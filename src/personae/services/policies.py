"""Published policies: versioned world and platform policies, and the clauses in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from personae.crypto import tokens
from personae.domain.policy import PLATFORM, Clause, Policy, Severity, parse_clauses
from personae.domain.staff import Action, may
from personae.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from personae.services.auth import StaffPrincipal, WorldPrincipal
from personae.services.context import ServiceContext
from personae.store.moderation_repo import PolicyRecord
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class PolicyView:
    scope: str
    version: int
    published_at: datetime
    clauses: list[Clause]


def _policy(record: PolicyRecord) -> Policy:
    clauses = tuple(
        Clause(c["id"], c["title"], c["text"], Severity(c["severity"])) for c in record.clauses
    )
    return Policy(record.scope, record.version, clauses)


def clause_in_force(
    uow: UnitOfWork, scope: str, clause_id: str, at: datetime, loc: tuple[str | int, ...]
) -> tuple[Policy, Clause]:
    """The clause as the policy in force at ``at`` words it; InvalidInput naming ``loc`` if none."""
    record = uow.moderation.policies.in_force(scope, at) if len(scope) <= 40 else None
    if record is None:
        raise InvalidInput("no policy in force for that scope", [FieldError(loc, "no policy")])
    policy = _policy(record)
    clause = policy.clause(clause_id)
    if clause is None:
        raise InvalidInput(
            f"policy version {policy.version} has no clause {clause_id!r}",
            [FieldError(loc, "unknown clause")],
        )
    return policy, clause


class PolicyService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _publish(self, scope: str, raw: Any, by: str) -> PolicyView:
        clauses = parse_clauses(raw)
        now = self.ctx.clock.now()
        try:
            with self.ctx.uow() as uow:
                version = uow.moderation.policies.latest_version(scope) + 1
                record = PolicyRecord(scope, version, [c.to_json() for c in clauses], now, by)
                uow.moderation.policies.add(tokens.new_id("pol_"), record)
        except IntegrityError:
            raise Conflict(
                "another version of this policy was published at the same time"
            ) from None
        return PolicyView(scope, version, now, list(clauses))

    def publish_for_world(self, world: WorldPrincipal, clauses: Any) -> PolicyView:
        """A world publishes the next version of its policy (its API key)."""
        return self._publish(world.world_id, clauses, "world")

    def publish_platform(self, actor: StaffPrincipal, clauses: Any) -> PolicyView:
        if not may(actor.role, Action.PUBLISH_PLATFORM_POLICY):
            raise Forbidden("only an admin publishes the platform policy")
        return self._publish(PLATFORM, clauses, actor.username)

    def publish_unchecked(self, scope: str, clauses: Any) -> PolicyView:
        """Publication from the operator's CLI (trusted, no session)."""
        if scope != PLATFORM:
            with self.ctx.uow(write=False) as uow:
                if uow.worlds.get(scope) is None:
                    raise NotFound("no such world")
        return self._publish(scope, clauses, "operator")

    def versions(self, scope: str) -> list[PolicyView]:
        """Every published version, oldest first (public); NotFound for an unknown world."""
        with self.ctx.uow(write=False) as uow:
            if scope != PLATFORM and (len(scope) > 64 or uow.worlds.get(scope) is None):
                raise NotFound("no such world")
            records = uow.moderation.policies.versions(scope)
        return [
            PolicyView(r.scope, r.version, r.published_at, list(_policy(r).clauses))
            for r in records
        ]
