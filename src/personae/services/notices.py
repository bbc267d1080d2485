"""A person's inbox: notices sealed under the addressee's key, delivered when their time comes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personae.crypto import tokens
from personae.crypto.vault import person_owner, persona_owner
from personae.errors import NotFound
from personae.services.auth import PersonPrincipal
from personae.services.context import ServiceContext
from personae.store.records import NoticeRecord
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class NoticeView:
    id: str
    kind: str
    persona_id: str | None
    created_at: datetime
    read_at: datetime | None
    body: dict[str, Any]
    outbox_event_id: int | None


def post_notice(
    ctx: ServiceContext,
    uow: UnitOfWork,
    owner: str,
    kind: str,
    body: dict[str, Any],
    *,
    now: datetime,
    deliver_after: datetime | None = None,
    outbox_event_id: int | None = None,
) -> str:
    """Put a notice in an inbox, in the caller's transaction; sealed under ``owner``'s key.

    ``owner`` is a vault owner (``person_owner(..)`` or ``persona_owner(..)``);
    ``deliver_after`` holds it back (a nondisclosure order); ``outbox_event_id``
    names the accountability event, so the notice can point at its log entry.
    """
    notice_id = tokens.new_id("n_")
    sealed = ctx.vault.seal(owner, {notice_id: body})[notice_id]
    uow.notices.add(
        NoticeRecord(notice_id, owner, kind, sealed, now, deliver_after, None, outbox_event_id)
    )
    return notice_id


class NoticeService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _owners(self, uow: UnitOfWork, person_id: str) -> list[str]:
        """The person's inbox addresses: the person and each of their personas (found forward)."""
        worlds = uow.worlds.ids()
        candidates = [self.ctx.pseudonyms.persona_id(w, person_id) for w in worlds]
        personas = [p.id for p in uow.personas.among(candidates)]
        return [person_owner(person_id), *(persona_owner(p) for p in personas)]

    def inbox(self, who: PersonPrincipal, limit: int = 200) -> list[NoticeView]:
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            records = uow.notices.delivered_to(self._owners(uow, who.person_id), now, limit)
        views = []
        for record in records:
            body = self.ctx.vault.open(record.owner, {record.id: record.sealed})[record.id]
            kind, _, ident = record.owner.partition(":")
            views.append(
                NoticeView(
                    record.id,
                    record.kind,
                    ident if kind == "persona" else None,
                    record.created_at,
                    record.read_at,
                    body,
                    record.outbox_event_id,
                )
            )
        return views

    def mark_read(self, who: PersonPrincipal, notice_id: str) -> None:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            owners = self._owners(uow, who.person_id)
            if len(notice_id) > 40 or not uow.notices.mark_read(notice_id, owners, now):
                raise NotFound("no such unread notice")
