"""Pages about worlds: the public list and policies, joining, my worlds, consents, disclosures."""

from __future__ import annotations

from starlette.responses import Response

from personae.domain.policy import PLATFORM
from personae.domain.worlds import terms_from_json
from personae.errors import InvalidInput
from personae.web.core import (
    Viewer,
    ViewerDep,
    field_errors,
    form,
    page_router,
    redirect,
    render,
    text,
)

router = page_router()


@router.get("/worlds")
def worlds(who: ViewerDep) -> Response:
    return render(
        who,
        "worlds.html",
        title="Worlds",
        worlds=who.svc.worlds.list_worlds(),
        platform=who.svc.policies.versions(PLATFORM),
    )


@router.get("/worlds/{world_id}")
def world(who: ViewerDep, world_id: str) -> Response:
    found = who.svc.worlds.get(world_id)
    terms = terms_from_json(found.purposes, who.svc.ctx.catalog)
    versions = who.svc.policies.versions(found.id)
    return render(
        who,
        "world.html",
        title=found.name,
        world=found,
        terms=terms,
        versions=list(reversed(versions)),
    )


def _join_page(
    who: Viewer, world_id: str, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    who.need_person()
    found = who.svc.worlds.get(world_id)
    terms = terms_from_json(found.purposes, who.svc.ctx.catalog)
    return render(
        who,
        "join.html",
        status,
        title=f"Join {found.name}",
        world=found,
        terms=terms,
        errors=errors or {},
    )


@router.get("/worlds/{world_id}/join")
def join_form(who: ViewerDep, world_id: str) -> Response:
    return _join_page(who, world_id)


@router.post("/worlds/{world_id}/join")
async def join(who: ViewerDep, world_id: str) -> Response:
    person = who.need_person()
    data = await form(who)
    consent = [v for v in data.getlist("consent") if isinstance(v, str)][:100]
    try:
        who.svc.registry.join(person, world_id, consent)
    except InvalidInput as exc:
        errors = field_errors(exc)
        errors["_"] = exc.detail
        return _join_page(who, world_id, 422, errors)
    return redirect(who, "/me/worlds")


@router.get("/me/worlds")
def my_worlds(who: ViewerDep) -> Response:
    person = who.need_person()
    personas = who.svc.registry.personas(person)
    joined = {p.world_id for p in personas}
    asked = {
        p.persona_id: sorted(
            terms_from_json(who.svc.worlds.get(p.world_id).purposes, who.svc.ctx.catalog).items()
        )
        for p in personas
    }
    others = [w for w in who.svc.worlds.list_worlds() if w.id not in joined]
    return render(
        who, "my_worlds.html", title="My worlds", personas=personas, asked=asked, others=others
    )


@router.post("/me/worlds/{persona_id}/consent")
async def consent(who: ViewerDep, persona_id: str) -> Response:
    person = who.need_person()
    data = await form(who)
    grant = text(data, "action", 10) == "grant"
    persona = who.svc.registry.set_consent(person, persona_id, text(data, "item", 80), grant)
    if who.request.headers.get("hx-request") == "true":
        asked = sorted(
            terms_from_json(
                who.svc.worlds.get(persona.world_id).purposes, who.svc.ctx.catalog
            ).items()
        )
        return render(who, "persona_card.html", title="My worlds", p=persona, items=asked)
    return redirect(who, "/me/worlds#p-" + persona.persona_id)


@router.get("/me/disclosures")
def disclosures(who: ViewerDep) -> Response:
    person = who.need_person()
    return render(
        who,
        "disclosures.html",
        title="Who saw what",
        disclosures=who.svc.registry.disclosures(person),
    )
