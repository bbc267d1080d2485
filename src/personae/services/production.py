"""The production package: only the approved categories for the approved range, signed as a JWS.

The builder takes an approved request and nothing else: the categories come from
the request's approval, intersected with what its process can compel, so no
caller can ask it for a category that was not approved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personae.crypto.jose import sign_compact
from personae.crypto.keystore import SigningAlg
from personae.crypto.vault import person_owner
from personae.domain.events import Event, EventType
from personae.domain.lawful_access import (
    COMPELS,
    Category,
    ProcessType,
    Status,
    TargetScope,
    needs_unmask,
)
from personae.errors import Conflict, Forbidden, NotFound
from personae.services.context import ServiceContext
from personae.services.personas import owned_personas
from personae.store.lawful_repo import LawfulRequestRecord
from personae.store.records import PersonaRecord
from personae.store.uow import UnitOfWork
from personae.translog.entries import canonical_json

SIGNING_PURPOSE = "production"
PACKAGE_TYPE = "personae-production+jws"
MAX_ROWS = 100_000

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class BuiltPackage:
    jws: str
    sha256: str
    manifest: dict[str, Any]


@dataclass(frozen=True)
class _Subject:
    """What the package is about: the target persona, and the person if unmasked."""

    persona: PersonaRecord
    personas: list[PersonaRecord]
    person_id: str | None
    start: datetime
    end: datetime


def production_scope(request: LawfulRequestRecord) -> frozenset[Category]:
    """The categories a package for this request contains: approved, and compellable."""
    process = ProcessType(request.process_type)
    emergency = COMPELS[process].single_officer and request.decided_by is None
    if request.status not in (Status.APPROVED, Status.RECEIVED) or (
        request.status == Status.RECEIVED and not emergency
    ):
        raise Conflict("only an approved request (or an emergency) can be produced")
    chosen = request.categories if emergency else (request.approved_categories or [])
    return frozenset(Category(c) for c in chosen) & COMPELS[process].compels


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


class PackageBuilder:
    def __init__(self, ctx: ServiceContext, alg: SigningAlg) -> None:
        self.ctx = ctx
        self.alg = alg
        self._collectors: dict[Category, Callable[[UnitOfWork, _Subject], Rows]] = {
            Category.SUBSCRIBER: self._subscriber,
            Category.IDENTITY: self._identity,
            Category.DISCLOSURES: self._disclosures,
            Category.MODERATION: self._moderation,
            Category.ATTRIBUTES: self._attributes,
        }

    def build(self, uow: UnitOfWork, request: LawfulRequestRecord, now: datetime) -> BuiltPackage:
        """The signed package of an approved request, in the caller's transaction."""
        categories = production_scope(request)
        subject = self._subject(uow, request, categories, now)
        data = {c.value: self._collectors[c](uow, subject) for c in sorted(categories)}
        manifest = {
            "request_id": request.id,
            "authority": request.authority,
            "jurisdiction": request.jurisdiction,
            "process_type": request.process_type,
            "document_sha256": request.document_sha256,
            "categories": sorted(data),
            "range": {"start": _iso(request.range_start), "end": _iso(request.range_end)},
            "record_counts": {name: len(rows) for name, rows in data.items()},
            "data_sha256": hashlib.sha256(canonical_json(data)).hexdigest(),
            "generated_at": now.isoformat(),
        }
        key = self.ctx.keystore.signing_key(SIGNING_PURPOSE, self.alg)
        jws = sign_compact(
            key.private_key,
            {"kid": key.kid, "typ": PACKAGE_TYPE},
            {"manifest": manifest, "data": data},
        )
        return BuiltPackage(jws, hashlib.sha256(jws.encode("ascii")).hexdigest(), manifest)

    # -- the subject, unmasked only when the approved scope needs it ------------

    def _subject(
        self,
        uow: UnitOfWork,
        request: LawfulRequestRecord,
        categories: frozenset[Category],
        now: datetime,
    ) -> _Subject:
        persona = uow.personas.get(request.target_persona_id)
        if persona is None or persona.world_id != request.target_world_id:
            raise NotFound("the persona named by the request no longer exists")
        scope = TargetScope(request.target_scope)
        person_id: str | None = None
        personas = [persona]
        if needs_unmask(categories, scope):
            person_id = unmask(
                self.ctx, uow, request=request, persona=persona, purpose="production", now=now
            )
            if scope is TargetScope.PERSON:
                personas = owned_personas(self.ctx, uow, person_id)
        return _Subject(persona, personas, person_id, request.range_start, request.range_end)

    # -- collectors: one per category ---------------------------------------------

    def _subscriber(self, uow: UnitOfWork, s: _Subject) -> Rows:
        names = {w.id: w.name for w in uow.worlds.all()}
        return [
            {
                "persona_id": p.id,
                "world_id": p.world_id,
                "world_name": names.get(p.world_id, ""),
                "created_at": _iso(p.created_at),
                "passes": [
                    {
                        "issued_at": _iso(x.issued_at),
                        "expires_at": _iso(x.expires_at),
                        "revoked_at": _iso(x.revoked_at),
                    }
                    for x in uow.passes.for_persona(p.id)
                ],
            }
            for p in s.personas
        ]

    def _identity(self, uow: UnitOfWork, s: _Subject) -> Rows:
        person = uow.persons.get(s.person_id) if s.person_id else None
        if person is None:
            return []
        personas = owned_personas(self.ctx, uow, person.id)
        return [
            {
                "account_created_at": _iso(person.created_at),
                "assurance": person.assurance,
                "evidence": person.evidence,
                "personas": [
                    {"persona_id": p.id, "world_id": p.world_id, "created_at": _iso(p.created_at)}
                    for p in personas
                ],
            }
        ]

    def _disclosures(self, uow: UnitOfWork, s: _Subject) -> Rows:
        rows = uow.disclosures.for_personas([p.id for p in s.personas], MAX_ROWS)
        return [
            {"persona_id": d.persona_id, "world_id": d.world_id, "at": _iso(d.at), "items": d.items}
            for d in rows
            if s.start <= d.at <= s.end
        ]

    def _moderation(self, uow: UnitOfWork, s: _Subject) -> Rows:
        decisions = uow.moderation.decisions.for_personas([p.id for p in s.personas])
        return [
            {
                "decision_id": d.id,
                "persona_id": d.persona_id,
                "world_id": d.world_id,
                "measure": d.measure,
                "scope": d.scope,
                "facts": d.facts,
                "citations": d.citations,
                "decided_at": _iso(d.decided_at),
                "ends_at": _iso(d.ends_at),
                "status": d.status,
            }
            for d in decisions
            if s.start <= d.decided_at <= s.end
        ]

    def _attributes(self, uow: UnitOfWork, s: _Subject) -> Rows:
        if s.person_id is None:
            return []
        sealed = uow.attributes.all_for(s.person_id)
        values = self.ctx.vault.open(person_owner(s.person_id), {a.name: a.sealed for a in sealed})
        return [
            {
                "name": a.name,
                "value": values[a.name],
                "evidence": a.evidence,
                "updated_at": _iso(a.updated_at),
            }
            for a in sealed
        ]


def unmask(
    ctx: ServiceContext,
    uow: UnitOfWork,
    *,
    request: LawfulRequestRecord,
    persona: PersonaRecord,
    purpose: str,
    now: datetime,
) -> str:
    """Open the escrowed persona → person link for a request whose process allows it; logged."""
    process = ProcessType(request.process_type)
    if not COMPELS[process].may_unmask:
        raise Forbidden(f"a {process} cannot unmask a persona")
    uow.outbox.append(
        Event(
            EventType.LAWFUL_UNMASKED,
            now,
            {
                "request_id": request.id,
                "jurisdiction": request.jurisdiction,
                "process_type": process.value,
                "purpose": purpose,
            },
        )
    )
    return ctx.pseudonyms.open_link(persona.id, persona.world_id, persona.escrow)
