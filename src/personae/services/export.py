"""Data export (GDPR Art. 15 and 20): everything held about a person, as machine-readable JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from personae.crypto.vault import person_owner, persona_owner
from personae.domain.persons import normalize_handle
from personae.errors import NotFound
from personae.services.auth import PersonPrincipal
from personae.services.context import ServiceContext
from personae.services.production import owned_personas
from personae.store.uow import UnitOfWork

FORMAT = "personae-export/1"
MAX_ROWS = 100_000


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


class ExportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def for_handle(self, handle: str) -> dict[str, Any]:
        """The export of the person registered under ``handle`` (the operator's CLI)."""
        handle_hash = self.ctx.pseudonyms.lookup("handle", normalize_handle(handle))
        with self.ctx.uow(write=False) as uow:
            person = uow.persons.by_handle_hash(handle_hash)
        if person is None:
            raise NotFound("no person with that handle")
        return self.export(PersonPrincipal(person.id))

    def export(self, who: PersonPrincipal) -> dict[str, Any]:
        """Attributes, personas (consents, passes), disclosures, delivered notices, decisions."""
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            person = uow.persons.get(who.person_id)
            if person is None:
                raise NotFound("no such person")
            personas = owned_personas(self.ctx, uow, person.id)
            ids = [p.id for p in personas]
            erasure = uow.erasures.get(person.id)
            return {
                "format": FORMAT,
                "exported_at": now.isoformat(),
                "account": {
                    "created_at": _iso(person.created_at),
                    "assurance": person.assurance,
                    "evidence": person.evidence,
                    "status": person.status,
                },
                "attributes": self._attributes(uow, person.id),
                "personas": self._personas(uow, ids),
                "disclosures": [
                    {"persona_id": d.persona_id, "world_id": d.world_id, "at": _iso(d.at)}
                    | {"items": d.items}
                    for d in uow.disclosures.for_personas(ids, MAX_ROWS)
                ],
                "notices": self._notices(uow, person.id, ids, now),
                "decisions": [
                    {
                        "decision_id": d.id,
                        "persona_id": d.persona_id,
                        "world_id": d.world_id,
                        "measure": d.measure,
                        "facts": d.facts,
                        "citations": d.citations,
                        "decided_at": _iso(d.decided_at),
                        "ends_at": _iso(d.ends_at),
                        "appeal_deadline": _iso(d.appeal_deadline),
                        "status": d.status,
                    }
                    for d in uow.moderation.decisions.for_personas(ids)
                ],
                "erasure": None
                if erasure is None
                else {"requested_at": _iso(erasure.requested_at), "due_at": _iso(erasure.due_at)},
            }

    def _attributes(self, uow: UnitOfWork, person_id: str) -> list[dict[str, Any]]:
        sealed = uow.attributes.all_for(person_id)
        values = self.ctx.vault.open(person_owner(person_id), {a.name: a.sealed for a in sealed})
        return [
            {"name": a.name, "value": values[a.name], "evidence": a.evidence}
            | {"updated_at": _iso(a.updated_at)}
            for a in sealed
        ]

    def _personas(self, uow: UnitOfWork, ids: list[str]) -> list[dict[str, Any]]:
        names = {w.id: w.name for w in uow.worlds.all()}
        out = []
        for p in uow.personas.among(ids):
            out.append(
                {
                    "persona_id": p.id,
                    "world_id": p.world_id,
                    "world_name": names.get(p.world_id, ""),
                    "created_at": _iso(p.created_at),
                    "consents": [
                        {
                            "item": c.item,
                            "granted_at": _iso(c.granted_at),
                            "withdrawn_at": _iso(c.withdrawn_at),
                        }
                        for c in uow.consents.for_persona(p.id)
                    ],
                    "passes": [
                        {
                            "pass_id": x.id,
                            "issued_at": _iso(x.issued_at),
                            "expires_at": _iso(x.expires_at),
                            "revoked_at": _iso(x.revoked_at),
                        }
                        for x in uow.passes.for_persona(p.id)
                    ],
                }
            )
        return out

    def _notices(
        self, uow: UnitOfWork, person_id: str, ids: list[str], now: datetime
    ) -> list[dict[str, Any]]:
        """Delivered notices only: one held back by a nondisclosure order is not yet theirs."""
        owners = [person_owner(person_id), *(persona_owner(p) for p in ids)]
        out = []
        for n in uow.notices.delivered_to(owners, now, MAX_ROWS):
            body = self.ctx.vault.open(n.owner, {n.id: n.sealed})[n.id]
            out.append(
                {
                    "id": n.id,
                    "kind": n.kind,
                    "to": n.owner.partition(":")[0],
                    "created_at": _iso(n.created_at),
                    "read_at": _iso(n.read_at),
                    "body": body,
                }
            )
        return out
