"""Standing per persona per world: what the world reads, what the person sees and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from personae.domain.moderation import Measure
from personae.domain.persons import Assurance
from personae.domain.standing import StandingInputs, Tier, standing
from personae.errors import NotFound
from personae.services.auth import PersonPrincipal, WorldPrincipal
from personae.services.context import ServiceContext
from personae.services.personas import owned_personas
from personae.services.worlds import world_persona
from personae.store.records import PersonaRecord
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class MeasureInForce:
    measure: str
    ends_at: datetime | None


@dataclass(frozen=True)
class WorldStanding:
    """What a world reads of its persona: the tier and the measures it must enforce, each
    with its end as a day (the midnight UTC at or after it, ``coarse_end``), not an instant."""

    persona_id: str
    tier: Tier
    measures: list[MeasureInForce]


@dataclass(frozen=True)
class PersonStanding:
    """What the person sees, per persona: the tier and why."""

    persona_id: str
    world_id: str
    tier: Tier
    reasons: list[str]
    measures: list[MeasureInForce]


def _inputs(
    uow: UnitOfWork, persona: PersonaRecord, assurance: Assurance, now: datetime
) -> StandingInputs:
    """Conduct in the persona's own world only; age; assurance. Nothing else is read."""
    return StandingInputs(
        persona_age_days=max(0, (now - persona.created_at).days),
        assurance=assurance,
        upheld_decisions=uow.moderation.decisions.upheld_count(
            persona.id, persona.world_id, Measure.NO_ACTION.value, "reversed"
        ),
        active_strike_weight=uow.moderation.strikes.active_weight(
            persona.id, persona.world_id, now
        ),
    )


def coarse_end(ends_at: datetime | None) -> datetime | None:
    """A sanction's end as a world is shown it: rounded up to the next midnight UTC.

    A platform-scope decision puts the same end on every persona of the person; at
    full precision two worlds could join their personas on it.
    """
    if ends_at is None:
        return None
    utc = ends_at.astimezone(UTC)
    if utc.date() == date.max:  # a row stored before ends were bounded: no next day
        return datetime.max.replace(tzinfo=UTC)
    midnight = datetime.combine(utc.date(), time(), tzinfo=UTC)
    return midnight if midnight == utc else midnight + timedelta(days=1)


def _measures(
    uow: UnitOfWork, persona_id: str, now: datetime, *, coarse: bool
) -> list[MeasureInForce]:
    return [
        MeasureInForce(s.measure, coarse_end(s.ends_at) if coarse else s.ends_at)
        for s in uow.moderation.sanctions.in_force(persona_id, now)
    ]


class StandingService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def for_world(self, world: WorldPrincipal, persona_id: str) -> WorldStanding:
        """A world's persona's standing; unknown and other worlds' personas are alike NotFound.

        The assurance level is the one the person last confirmed for this persona
        (``for_person``); IAL1 until then.
        """
        now = self.ctx.clock.now()
        with self.ctx.uow(write=False) as uow:
            persona = world_persona(uow, world.world_id, persona_id)
            recorded = uow.moderation.assurance.get(persona.id)
            assurance = Assurance(recorded) if recorded else Assurance.IAL1
            result = standing(_inputs(uow, persona, assurance, now))
            measures = _measures(uow, persona.id, now, coarse=True)
            return WorldStanding(persona.id, result.tier, measures)

    def for_person(self, who: PersonPrincipal) -> list[PersonStanding]:
        """The person's standing in each world they joined, with its reasons.

        The person is present, so their assurance level is confirmed for each persona
        here: that is what the world's read uses (no link from persona to person is kept).
        """
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            person = uow.persons.get(who.person_id)
            if person is None:
                raise NotFound("no such person")
            assurance = Assurance(person.assurance)
            views = []
            for persona in owned_personas(self.ctx, uow, who.person_id):
                uow.moderation.assurance.put(persona.id, assurance.value)
                result = standing(_inputs(uow, persona, assurance, now))
                views.append(
                    PersonStanding(
                        persona.id,
                        persona.world_id,
                        result.tier,
                        list(result.reasons),
                        _measures(uow, persona.id, now, coarse=False),
                    )
                )
            return views
