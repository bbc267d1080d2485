"""Use cases of a person: register, manage attributes, join worlds, consent, see disclosures."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from personae.crypto import tokens
from personae.crypto.vault import person_owner, persona_owner
from personae.domain.events import Event, EventType
from personae.domain.persons import (
    ASSURANCE_OF,
    EvidenceKind,
    check_password,
    fixed_by_evidence,
    normalize_handle,
)
from personae.domain.worlds import parse_terms, plan_join
from personae.errors import (
    AlreadyRegistered,
    Conflict,
    FieldError,
    InvalidInput,
    MissingAttribute,
    NotFound,
    PersonaeError,
    SanctionInForce,
)
from personae.services.auth import IssuedSession, PersonPrincipal, open_session
from personae.services.context import ServiceContext
from personae.services.personas import owned_persona, owned_personas
from personae.services.views import (
    AttributeView,
    ConsentView,
    DisclosureView,
    PersonaView,
    Profile,
)
from personae.store.records import PersonaRecord, PersonRecord, SealedAttribute
from personae.store.uow import UnitOfWork

MAX_ATTRIBUTES = 50
MAX_CONSENT_ITEMS = 100
_SHUFFLE = random.SystemRandom()


@dataclass(frozen=True)
class Registration:
    handle: str
    password: str
    evidence: EvidenceKind
    evidence_token: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Registered:
    session: IssuedSession
    assurance: str


@dataclass(frozen=True)
class Joined:
    persona: PersonaView
    created: bool


class RegistryService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- registration ----------------------------------------------------------

    def _validated(self, attributes: Mapping[str, Any], today: date) -> dict[str, Any]:
        if len(attributes) > MAX_ATTRIBUTES:
            raise InvalidInput("too many attributes", [FieldError(("attributes",), "too many")])
        return {
            name: self.ctx.catalog.get(name).validate(value, today=today)
            for name, value in attributes.items()
        }

    def register(self, request: Registration) -> Registered:
        """One person, one identity: a 409 if the handle or the evidence is already bound."""
        handle = normalize_handle(request.handle)
        check_password(request.password, handle)
        now = self.ctx.clock.now()
        values = self._validated(request.attributes, now.date())
        evidence_of = dict.fromkeys(values, EvidenceKind.SELF_ASSERTED)
        if request.evidence is EvidenceKind.TRUSTED_ISSUER:
            if not request.evidence_token:
                raise InvalidInput(
                    "trusted_issuer evidence needs a token",
                    [FieldError(("evidence", "token"), "required")],
                )
            verified = self.ctx.trust_list.verify(request.evidence_token, int(now.timestamp()))
            clash = sorted(set(values) & set(verified.attributes))
            if clash:
                raise InvalidInput(
                    f"{', '.join(clash)} comes from the evidence and cannot also be self-asserted",
                    [FieldError(("attributes", name), "established by evidence") for name in clash],
                )
            issued = self._validated(verified.attributes, now.date())
            values.update(issued)
            evidence_of.update(dict.fromkeys(issued, EvidenceKind.TRUSTED_ISSUER))
            subject: tuple[str, ...] = ("issuer", verified.issuer, verified.subject)
        else:
            subject = ("self", handle)

        password_hash = self.ctx.passwords.hash(request.password)  # slow: outside the transaction
        handle_hash = self.ctx.pseudonyms.lookup("handle", handle)
        evidence_hash = self.ctx.pseudonyms.lookup("evidence", *subject)
        person = PersonRecord(
            id=tokens.new_id(),
            password_hash=password_hash,
            assurance=ASSURANCE_OF[request.evidence].value,
            evidence=request.evidence.value,
            status="active",
            created_at=now,
        )
        try:
            with self.ctx.uow() as uow:
                if uow.persons.handle_taken(handle_hash):
                    raise AlreadyRegistered("this handle is taken; choose another")
                # A guard left by the erasure of a sanctioned person counts as bound.
                if uow.persons.evidence_bound(evidence_hash) or uow.sanction_guards.guarded(
                    evidence_hash, now
                ):
                    raise AlreadyRegistered("this evidence is already bound to a registered person")
                uow.persons.add(person, handle_hash)
                uow.persons.bind_evidence(evidence_hash, person.id, request.evidence.value, now)
                owner = person_owner(person.id)
                self.ctx.vault.new_key(owner)
                for name, sealed in self.ctx.vault.seal(owner, values).items():
                    uow.attributes.put(
                        person.id, SealedAttribute(name, sealed, evidence_of[name].value, now)
                    )
                session = open_session(self.ctx, uow, "person", person.id)
                uow.outbox.append(
                    Event(
                        EventType.PERSON_REGISTERED,
                        now,
                        {"assurance": person.assurance, "evidence": person.evidence},
                    )
                )
        except IntegrityError:
            # A concurrent registration won the race for the same handle or evidence.
            raise AlreadyRegistered("this handle or evidence is already registered") from None
        return Registered(session, person.assurance)

    # -- attributes ------------------------------------------------------------

    def _values(
        self, uow: UnitOfWork, person_id: str
    ) -> tuple[list[SealedAttribute], dict[str, Any]]:
        sealed = uow.attributes.all_for(person_id)
        opened = self.ctx.vault.open(person_owner(person_id), {a.name: a.sealed for a in sealed})
        return sealed, opened

    def profile(self, who: PersonPrincipal) -> Profile:
        with self.ctx.uow(write=False) as uow:
            person = uow.persons.get(who.person_id)
            if person is None:
                raise NotFound("no such person")
            sealed, opened = self._values(uow, who.person_id)
        views = [
            AttributeView(
                a.name,
                self._category(a.name),
                opened[a.name],
                a.evidence,
                a.updated_at,
            )
            for a in sealed
        ]
        return Profile(person.assurance, person.evidence, person.created_at, views)

    def _category(self, name: str) -> str:
        try:
            return str(self.ctx.catalog.get(name).category)
        except PersonaeError:
            return "retired"  # an attribute the current catalog no longer defines

    @staticmethod
    def _evidence_of(uow: UnitOfWork, person_id: str, name: str) -> str | None:
        return next((a.evidence for a in uow.attributes.all_for(person_id) if a.name == name), None)

    def set_attribute(self, who: PersonPrincipal, name: str, value: Any) -> AttributeView:
        """Set or replace a self-asserted value; evidence-backed values cannot be overwritten."""
        now = self.ctx.clock.now()
        normalized = self.ctx.catalog.get(name).validate(value, today=now.date())
        owner = person_owner(who.person_id)
        with self.ctx.uow() as uow:
            evidence = self._evidence_of(uow, who.person_id, name)
            if evidence is not None and fixed_by_evidence(evidence):
                raise InvalidInput(
                    f"{name} was established by a trusted issuer and cannot be self-asserted",
                    [FieldError(("value",), "established by evidence")],
                )
            sealed = self.ctx.vault.seal(owner, {name: normalized})[name]
            uow.attributes.put(
                who.person_id, SealedAttribute(name, sealed, EvidenceKind.SELF_ASSERTED.value, now)
            )
            self._sync_attribute(uow, who.person_id, name, {name: normalized})
        return AttributeView(
            name, self._category(name), normalized, EvidenceKind.SELF_ASSERTED.value, now
        )

    def remove_attribute(self, who: PersonPrincipal, name: str) -> None:
        """Remove a self-asserted value; one evidence established stays (409), or a
        self-asserted value could take its place under the evidence's assurance level."""
        self.ctx.catalog.get(name)
        with self.ctx.uow() as uow:
            evidence = self._evidence_of(uow, who.person_id, name)
            if evidence is None:
                raise NotFound(f"{name} is not set")
            if fixed_by_evidence(evidence):
                raise Conflict(
                    f"{name} was established by a trusted issuer and cannot be removed; "
                    "erasing the account removes it"
                )
            uow.attributes.remove(who.person_id, name)
            self._sync_attribute(uow, who.person_id, name, {})

    # -- personas --------------------------------------------------------------

    def _needed(self, uow: UnitOfWork, persona_id: str) -> set[str]:
        """The attributes the persona's active consents need."""
        return {
            self.ctx.catalog.parse_item(i).attribute for i in uow.consents.active_items(persona_id)
        }

    def _sync_persona(self, uow: UnitOfWork, persona_id: str, values: Mapping[str, Any]) -> None:
        """Re-seal the persona's copy: exactly the attributes its active consents need."""
        copy = {name: values[name] for name in self._needed(uow, persona_id) if name in values}
        uow.persona_values.replace(persona_id, self.ctx.vault.seal(persona_owner(persona_id), copy))

    def _sync_attribute(
        self, uow: UnitOfWork, person_id: str, name: str, value: Mapping[str, Any]
    ) -> None:
        """Bring one attribute's copies in the person's personas up to date: ``value`` holds
        the person's value of ``name``, or nothing once it is removed.

        This writes every persona in one transaction, so it touches no row but ``name``'s
        (the rest of each copy is left as it was), updates rows in place, and visits the
        personas in a random order: no write order or row position groups them.
        """
        personas = owned_personas(self.ctx, uow, person_id)
        _SHUFFLE.shuffle(personas)
        for persona in personas:
            if value and name in self._needed(uow, persona.id):
                sealed = self.ctx.vault.seal(persona_owner(persona.id), value)
                uow.persona_values.put(persona.id, sealed)
            else:
                uow.persona_values.drop(persona.id, [name])

    def _persona_view(
        self, uow: UnitOfWork, persona: PersonaRecord, world_name: str
    ) -> PersonaView:
        consents = [
            ConsentView(c.item, c.granted_at, c.withdrawn_at)
            for c in uow.consents.for_persona(persona.id)
        ]
        return PersonaView(persona.id, persona.world_id, world_name, persona.created_at, consents)

    def _refuse_if_sanctioned_platform_wide(
        self, uow: UnitOfWork, person_id: str, world_id: str, now: datetime
    ) -> None:
        """A platform-scope sanction reaches the personas the person had when it was
        decided; a persona opened since would escape it, so none is opened while one runs
        (or is yet to begin). The person's other personas are found forward, as always."""
        # A platform decision being made now is then seen, or waits and reaches this one.
        uow.personas.take_turns_for(self.ctx.pseudonyms.lookup("person-turn", person_id))
        others = [p.id for p in owned_personas(self.ctx, uow, person_id) if p.world_id != world_id]
        running = uow.moderation.sanctions.platform_not_over(others, now)
        if running:
            ends = [s.ends_at for s in running]
            until = (
                "without end" if None in ends else f"until {max(e for e in ends if e).isoformat()}"
            )
            raise SanctionInForce(f"a platform-wide {running[0].measure} runs {until}")

    def join(self, who: PersonPrincipal, world_id: str, consent: Sequence[str]) -> Joined:
        """Join a world (or return the existing persona), consenting to the chosen items."""
        if len(consent) > MAX_CONSENT_ITEMS:
            raise InvalidInput("too many consent items", [FieldError(("consent",), "too many")])
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            world = uow.worlds.get(world_id) if len(world_id) <= 64 else None
            if world is None:
                raise NotFound("no such world")
            terms = parse_terms(world.purposes, self.ctx.catalog)
            plan = plan_join(terms, consent, self.ctx.catalog)
            _, values = self._values(uow, who.person_id)
            missing = sorted(
                item
                for item in terms.required_items()
                if self.ctx.catalog.parse_item(item).attribute not in values
            )
            if missing:
                raise MissingAttribute(
                    f"set these attributes before joining: {', '.join(missing)}",
                    [FieldError(("consent",), f"no value for {item}") for item in missing],
                )
            persona_id = self.ctx.pseudonyms.persona_id(world.id, who.person_id)
            persona = uow.personas.get(persona_id)
            created = False
            if persona is None:
                self._refuse_if_sanctioned_platform_wide(uow, who.person_id, world.id, now)
                persona, created = self._open_persona(uow, persona_id, world.id, who.person_id, now)
            # Concurrent joins (and consent changes) of this persona take turns from here.
            uow.personas.lock([persona_id])
            person = uow.persons.get(who.person_id)
            if person is not None:
                # Standing counts the assurance level; a world sees it only through this
                # per-persona copy, never through a link to the person.
                uow.moderation.assurance.put(persona_id, person.assurance)
            granted = sum(
                uow.consents.grant(persona_id, item, now) for item in sorted(plan.granted)
            )
            if granted:
                uow.outbox.append(
                    Event(EventType.CONSENT_GRANTED, now, {"world_id": world.id, "items": granted})
                )
            self._sync_persona(uow, persona_id, values)
            return Joined(self._persona_view(uow, persona, world.name), created)

    def _open_persona(
        self, uow: UnitOfWork, persona_id: str, world_id: str, person_id: str, now: datetime
    ) -> tuple[PersonaRecord, bool]:
        """A new persona, or the one a concurrent join of the same person and world made
        after this one looked (READ COMMITTED); True when this join made it."""
        self.ctx.vault.new_key(persona_owner(persona_id))  # keeps a key made meanwhile
        persona = PersonaRecord(
            persona_id,
            world_id,
            self.ctx.pseudonyms.seal_link(persona_id, world_id, person_id),
            now,
        )
        try:
            with uow.conn.begin_nested():
                uow.personas.add(persona)
        except IntegrityError:
            existing = uow.personas.get(persona_id)
            if existing is None:
                raise
            return existing, False
        uow.outbox.append(Event(EventType.PERSONA_CREATED, now, {"world_id": world_id}))
        return persona, True

    def personas(self, who: PersonPrincipal) -> list[PersonaView]:
        with self.ctx.uow(write=False) as uow:
            names = {w.id: w.name for w in uow.worlds.all()}
            return [
                self._persona_view(uow, p, names.get(p.world_id, ""))
                for p in owned_personas(self.ctx, uow, who.person_id)
            ]

    def set_consent(
        self, who: PersonPrincipal, persona_id: str, item: str, granted: bool
    ) -> PersonaView:
        """Grant an item the world asks for, or withdraw one (item by item)."""
        canonical = str(self.ctx.catalog.parse_item(item))
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            persona = owned_persona(self.ctx, uow, who.person_id, persona_id)
            uow.personas.lock([persona.id])  # consent changes of one persona take turns
            world = uow.worlds.get(persona.world_id)
            if world is None:
                raise NotFound("no such persona")
            if canonical not in parse_terms(world.purposes, self.ctx.catalog).items():
                raise InvalidInput(
                    f"the world does not ask for {canonical}", [FieldError(("item",), "not asked")]
                )
            if granted:
                changed = uow.consents.grant(persona_id, canonical, now)
                kind = EventType.CONSENT_GRANTED
            else:
                changed = uow.consents.withdraw(persona_id, canonical, now)
                kind = EventType.CONSENT_WITHDRAWN
            if changed:
                uow.outbox.append(Event(kind, now, {"world_id": world.id, "items": 1}))
                _, values = self._values(uow, who.person_id)
                self._sync_persona(uow, persona_id, values)
            return self._persona_view(uow, persona, world.name)

    def disclosures(self, who: PersonPrincipal, limit: int = 200) -> list[DisclosureView]:
        with self.ctx.uow(write=False) as uow:
            names = {w.id: w.name for w in uow.worlds.all()}
            ids = [p.id for p in owned_personas(self.ctx, uow, who.person_id)]
            return [
                DisclosureView(d.persona_id, d.world_id, names.get(d.world_id, ""), d.at, d.items)
                for d in uow.disclosures.for_personas(ids, limit)
            ]
