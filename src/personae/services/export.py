"""Data export (GDPR Art. 15 and 20): everything held about a person, as machine-readable JSON."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from personae.crypto.vault import person_owner, persona_owner
from personae.domain.persons import normalize_handle
from personae.errors import NotFound
from personae.services.auth import PersonPrincipal
from personae.services.context import ServiceContext
from personae.services.moderation import scope_kind
from personae.services.personas import owned_personas
from personae.store.moderation_repo import DecisionRecord
from personae.store.records import DisclosureRecord
from personae.store.uow import UnitOfWork

FORMAT = "personae-export/1"
MAX_ROWS = 100_000
"""Notices read at most (newest first)."""
PAGE = 1_000
"""Disclosure-log rows read per query: the whole log is exported, a page at a time."""


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
        """Attributes, personas (consents, passes), the whole disclosure log, delivered
        notices, moderation (decisions, appeals, sanctions, strikes), the reports the person
        filed and their standing as a reporter: all read in one read-only unit of work."""
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            person = uow.persons.get(who.person_id)
            if person is None:
                raise NotFound("no such person")
            personas = owned_personas(self.ctx, uow, person.id)
            ids = [p.id for p in personas]
            erasure = uow.erasures.get(person.id)
            decisions = uow.moderation.decisions.for_personas(ids)
            reporter = person_owner(person.id)
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
                    for d in self._disclosures(uow, ids)
                ],
                "notices": self._notices(uow, person.id, ids, now),
                "decisions": [_decision(d) for d in decisions],
                "appeals": self._appeals(uow, decisions),
                "sanctions": [
                    {
                        "sanction_id": x.id,
                        "persona_id": x.persona_id,
                        "world_id": x.world_id,
                        "measure": x.measure,
                        "blocks_passes": x.blocks_passes,
                        "platform": x.platform,
                        "starts_at": _iso(x.starts_at),
                        "ends_at": _iso(x.ends_at),
                        "lifted_at": _iso(x.lifted_at),
                    }
                    for x in uow.moderation.sanctions.for_personas(ids)
                ],
                "strikes": [
                    {
                        "strike_id": x.id,
                        "persona_id": x.persona_id,
                        "world_id": x.world_id,
                        "decision_id": x.decision_id,
                        "severity": x.severity,
                        "weight": x.weight,
                        "issued_at": _iso(x.issued_at),
                        "expires_at": _iso(x.expires_at),
                        "removed_at": _iso(x.removed_at),
                    }
                    for x in uow.moderation.strikes.for_personas(ids)
                ],
                "reports": self._reports(uow, reporter),
                "reporter_standing": self._standing(uow, reporter),
                "erasure": None
                if erasure is None
                else {"requested_at": _iso(erasure.requested_at), "due_at": _iso(erasure.due_at)},
            }

    @staticmethod
    def _disclosures(uow: UnitOfWork, ids: list[str]) -> Iterator[DisclosureRecord]:
        """The whole disclosure log of these personas, newest first: each persona's log is
        read by keyset pages on its (persona_id, at) index and the pages merged, so no
        query sorts the whole log and no read holds more than a page per persona."""

        def pages(persona_id: str) -> Iterator[tuple[datetime, int, DisclosureRecord]]:
            before: tuple[datetime, int] | None = None
            while True:
                page = uow.disclosures.page_for_persona(persona_id, PAGE, before)
                for row_id, record in page:
                    yield record.at, row_id, record
                if len(page) < PAGE:
                    return
                before = (page[-1][1].at, page[-1][0])

        merged = heapq.merge(*(pages(p) for p in ids), key=lambda r: (r[0], r[1]), reverse=True)
        return (record for _at, _id, record in merged)

    @staticmethod
    def _appeals(uow: UnitOfWork, decisions: list[DecisionRecord]) -> list[dict[str, Any]]:
        """The person's appeals of decisions on their personas (not who handled them)."""
        return [
            {
                "appeal_id": a.id,
                "decision_id": a.decision_id,
                "statement": a.statement,
                "filed_at": _iso(a.filed_at),
                "status": a.status,
                "outcome": a.outcome,
                "reasons": a.reasons,
                "modified_measure": a.modified_measure,
                "modified_ends_at": _iso(a.modified_ends_at),
                "reviewer_code": a.reviewer_code,
                "decided_at": _iso(a.decided_at),
            }
            for a in uow.moderation.appeals.for_decisions([d.id for d in decisions])
        ]

    @staticmethod
    def _reports(uow: UnitOfWork, reporter: str) -> list[dict[str, Any]]:
        """The reports the person filed, with the outcome as a reporter is told it (measure,
        cited clauses, notes for reporters): never the reported persona, nor the case."""
        reports = uow.moderation.reports.by_reporter(reporter)
        case_ids = [r.case_id for r in reports]
        decided = {d.case_id: d for d in uow.moderation.decisions.for_cases(case_ids)}
        notes: dict[str, list[str]] = {}
        for n in uow.moderation.notes.for_cases(case_ids, "reporter"):
            notes.setdefault(n.case_id, []).append(n.text)
        out = []
        for r in reports:
            decision = decided.get(r.case_id)
            out.append(
                {
                    "report_id": r.id,
                    "world_id": r.world_id,
                    "clause": {"scope": scope_kind(r.clause_scope), "id": r.clause_id},
                    "policy_version": r.policy_version,
                    "location": r.location,
                    "explanation": r.explanation,
                    "received_at": _iso(r.received_at),
                    "outcome": {
                        "decided": decision is not None,
                        "measure": decision.measure if decision else None,
                        "clauses": [c["clause_id"] for c in decision.citations] if decision else [],
                        "notes": notes.get(r.case_id, []),
                    },
                }
            )
        return out

    @staticmethod
    def _standing(uow: UnitOfWork, reporter: str) -> dict[str, Any] | None:
        """Manifestly unfounded reports counted against the person, and what followed."""
        record = uow.moderation.reporters.get(reporter)
        if record is None:
            return None
        return {
            "unfounded_reports": record.unfounded,
            "warned_at": _iso(record.warned_at),
            "deprioritised_until": _iso(record.deprioritised_until),
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


def _decision(d: DecisionRecord) -> dict[str, Any]:
    return {
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
