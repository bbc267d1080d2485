"""What several use cases need of a persona: proof of ownership and its items, derived now."""

from __future__ import annotations

from datetime import date
from typing import Any

from personae.crypto.vault import persona_owner
from personae.domain.disclosure import derive
from personae.errors import NotFound
from personae.services.context import ServiceContext
from personae.store.records import PersonaRecord
from personae.store.uow import UnitOfWork


def owned_persona(
    ctx: ServiceContext, uow: UnitOfWork, person_id: str, persona_id: str
) -> PersonaRecord:
    """The persona if it is this person's; NotFound otherwise, alike for unknown and foreign.

    Ownership is checked forward: the persona id must be this person's pseudonym
    in the persona's world. No stored link is consulted.
    """
    persona = uow.personas.get(persona_id) if len(persona_id) <= 64 else None
    if persona is None or ctx.pseudonyms.persona_id(persona.world_id, person_id) != persona_id:
        raise NotFound("no such persona")
    return persona


def owned_personas(ctx: ServiceContext, uow: UnitOfWork, person_id: str) -> list[PersonaRecord]:
    """A person's personas, found forward (world ids → pseudonyms), never by a stored link."""
    return uow.personas.among([ctx.pseudonyms.persona_id(w, person_id) for w in uow.worlds.ids()])


def derive_items(
    ctx: ServiceContext, uow: UnitOfWork, persona_id: str, today: date
) -> tuple[dict[str, Any], list[str]]:
    """The persona's consented items at their precision, and the consented ones with no value."""
    values = ctx.vault.open(persona_owner(persona_id), uow.persona_values.for_persona(persona_id))
    disclosed: dict[str, Any] = {}
    withheld: list[str] = []
    for text in uow.consents.active_items(persona_id):
        item = ctx.catalog.parse_item(text)
        if item.attribute in values:
            spec = ctx.catalog.get(item.attribute)
            disclosed[text] = derive(spec, item.precision, values[item.attribute], today)
        else:
            withheld.append(text)
    return disclosed, withheld
