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
from personae.store.translog_repo import TranslogRepo
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
    log_index: int | None
    """Where the act this notice reports sits in the transparency log, once sequenced."""
    commitment_salt: str | None
    """Hex salt: SHA-256(salt ‖ persona id) is the entry's commitment, for the person to check."""


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
        views = []
        with self.ctx.uow(write=False) as uow:
            records = uow.notices.delivered_to(self._owners(uow, who.person_id), now, limit)
            log = TranslogRepo(uow.conn)
            salts: dict[str, dict[int, bytes]] = {}
            for record in records:
                body = self.ctx.vault.open(record.owner, {record.id: record.sealed})[record.id]
                kind, _, ident = record.owner.partition(":")
                persona_id = ident if kind == "persona" else None
                index = salt = None
                if record.outbox_event_id is not None:
                    index = log.leaf_index_of(record.outbox_event_id)
                if index is not None and persona_id is not None:
                    if persona_id not in salts:
                        salts[persona_id] = dict(log.salts_for(persona_id))
                    found = salts[persona_id].get(index)
                    salt = found.hex() if found is not None else None
                views.append(
                    NoticeView(
                        record.id,
                        record.kind,
                        persona_id,
                        record.created_at,
                        record.read_at,
                        body,
                        record.outbox_event_id,
                        index,
                        salt,
                    )
                )
        return views

    def mark_read(self, who: PersonPrincipal, notice_id: str) -> None:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            owners = self._owners(uow, who.person_id)
            if len(notice_id) > 40 or not uow.notices.mark_read(notice_id, owners, now):
                raise NotFound("no such unread notice")
