"""Use cases of worlds: registration by an admin, public terms, and persona resolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personae.crypto import tokens
from personae.crypto.pseudonyms import is_persona_id
from personae.domain.events import Event, EventType
from personae.domain.staff import Action, may
from personae.domain.worlds import parse_terms
from personae.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from personae.services.auth import StaffPrincipal, WorldPrincipal
from personae.services.context import ServiceContext
from personae.services.personas import derive_items
from personae.services.views import Resolution, WorldView
from personae.store.records import PersonaRecord, WorldRecord
from personae.store.uow import UnitOfWork

MIN_PASS_TTL = 60
MAX_PASS_TTL = 366 * 24 * 3600


@dataclass(frozen=True)
class RegisteredWorld:
    world: WorldView
    api_key: str  # shown once, stored only as a hash


def _view(world: WorldRecord) -> WorldView:
    return WorldView(world.id, world.name, world.contact, list(world.purposes), world.created_at)


def _text(value: str, field: str, max_len: int) -> str:
    value = value.strip()
    if not value or len(value) > max_len:
        raise InvalidInput(
            f"{field} must be 1-{max_len} characters", [FieldError((field,), "length")]
        )
    return value


def world_persona(uow: UnitOfWork, world_id: str, persona_id: str) -> PersonaRecord:
    """One of the world's personas in use, as the world API may see it.

    An unknown persona, another world's, and one kept only as a record under a legal
    hold after its person's erasure are alike NotFound: the last is kept for the hold,
    not for use, so it discloses nothing and has no standing to show.
    """
    persona = uow.personas.get(persona_id) if is_persona_id(persona_id) else None
    if (
        persona is None
        or persona.world_id != world_id
        or uow.held_persona_erasures.ids_of([persona.id])
    ):
        raise NotFound("no such persona")
    return persona


class WorldService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def register(
        self,
        actor: StaffPrincipal,
        name: str,
        contact: str,
        purposes: Any,
        pass_ttl_seconds: int | None = None,
    ) -> RegisteredWorld:
        """Register a world with its purposes; the API key is returned this once."""
        if not may(actor.role, Action.REGISTER_WORLD):
            raise Forbidden("only an admin registers worlds")
        return self.register_unchecked(name, contact, purposes, pass_ttl_seconds)

    def register_unchecked(
        self, name: str, contact: str, purposes: Any, pass_ttl_seconds: int | None = None
    ) -> RegisteredWorld:
        """Registration from the operator's CLI (trusted, no staff session)."""
        if pass_ttl_seconds is not None and not (MIN_PASS_TTL <= pass_ttl_seconds <= MAX_PASS_TTL):
            raise InvalidInput(
                f"pass_ttl_seconds must be from {MIN_PASS_TTL} to {MAX_PASS_TTL}",
                [FieldError(("pass_ttl_seconds",), "out of range")],
            )
        name = _text(name, "name", 100)
        contact = _text(contact, "contact", 200)
        terms = parse_terms(purposes, self.ctx.catalog)
        now = self.ctx.clock.now()
        api_key = tokens.new_token(tokens.WORLD_KEY)
        world = WorldRecord(tokens.new_id("w_"), name, contact, terms.to_json(), now)
        with self.ctx.uow() as uow:
            if uow.worlds.name_taken(name):
                raise Conflict(f"a world named {name!r} is already registered")
            uow.worlds.add(world, tokens.token_hash(api_key))
            if pass_ttl_seconds is not None:
                uow.pass_settings.set_ttl(world.id, pass_ttl_seconds)
            uow.outbox.append(
                Event(
                    EventType.WORLD_REGISTERED,
                    now,
                    {
                        "world_id": world.id,
                        "purposes": len(terms.purposes),
                        "items": len(terms.items()),
                    },
                )
            )
        return RegisteredWorld(_view(world), api_key)

    def list_worlds(self) -> list[WorldView]:
        with self.ctx.uow(write=False) as uow:
            return [_view(w) for w in uow.worlds.all()]

    def get(self, world_id: str) -> WorldView:
        with self.ctx.uow(write=False) as uow:
            world = uow.worlds.get(world_id) if len(world_id) <= 64 else None
            if world is None:
                raise NotFound("no such world")
            return _view(world)

    def resolve(self, world: WorldPrincipal, persona_id: str) -> Resolution:
        """The consented items of one of the world's personas, derived now from sealed values.

        An unknown persona and another world's persona get the same NotFound.
        Every answer is recorded in the person's disclosure log (items, never values).
        """
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            world_persona(uow, world.world_id, persona_id)
            disclosed, withheld = derive_items(self.ctx, uow, persona_id, now.date())
            uow.disclosures.add(persona_id, world.world_id, now, sorted(disclosed))
        return Resolution(persona_id, disclosed, withheld)
