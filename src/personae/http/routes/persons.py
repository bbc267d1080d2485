"""Routes of a person: registration, sessions, profile, attributes, personas, disclosures."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response, status

from personae.domain.persons import EvidenceKind
from personae.http.deps import BearerDep, PersonDep, ServicesDep
from personae.http.schemas import (
    AttributeOut,
    AttributeValueIn,
    DisclosureOut,
    JoinIn,
    NoticeOut,
    PersonaOut,
    ProfileOut,
    RegisteredOut,
    RegisterIn,
    SessionOut,
    SignInIn,
)
from personae.services.registry import Registration
from personae.web.security import TOO_MANY_ATTEMPTS, AccountKind, charge_sign_in

router = APIRouter(prefix="/v1", tags=["persons"])

AttributeName = Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
ItemText = Path(max_length=80)
PersonaId = Path(max_length=64)


@router.post("/persons", status_code=status.HTTP_201_CREATED)
def register(body: RegisterIn, svc: ServicesDep) -> RegisteredOut:
    result = svc.registry.register(
        Registration(
            handle=body.handle,
            password=body.password,
            evidence=EvidenceKind(body.evidence.kind),
            evidence_token=body.evidence.token,
            attributes=body.attributes,
        )
    )
    return RegisteredOut(
        assurance=result.assurance, session=SessionOut.model_validate(result.session)
    )


@router.post("/sessions", status_code=status.HTTP_201_CREATED, responses=TOO_MANY_ATTEMPTS)
def sign_in(body: SignInIn, svc: ServicesDep, request: Request) -> SessionOut:
    """Sign in; limited per handle and per client address, with the pages (429)."""
    charge_sign_in(request, AccountKind.PERSON, body.handle)
    return SessionOut.model_validate(svc.auth.person_sign_in(body.handle, body.password))


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(_who: PersonDep, token: BearerDep, svc: ServicesDep) -> Response:
    svc.auth.sign_out(token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(who: PersonDep, svc: ServicesDep) -> ProfileOut:
    return ProfileOut.model_validate(svc.registry.profile(who))


@router.put("/me/attributes/{name}")
def set_attribute(
    body: AttributeValueIn, who: PersonDep, svc: ServicesDep, name: str = AttributeName
) -> AttributeOut:
    return AttributeOut.model_validate(svc.registry.set_attribute(who, name, body.value))


@router.delete("/me/attributes/{name}", status_code=status.HTTP_204_NO_CONTENT)
def remove_attribute(who: PersonDep, svc: ServicesDep, name: str = AttributeName) -> Response:
    svc.registry.remove_attribute(who, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/personas")
def my_personas(who: PersonDep, svc: ServicesDep) -> list[PersonaOut]:
    return [PersonaOut.model_validate(p) for p in svc.registry.personas(who)]


@router.post("/me/personas", status_code=status.HTTP_201_CREATED)
def join(body: JoinIn, who: PersonDep, svc: ServicesDep, response: Response) -> PersonaOut:
    joined = svc.registry.join(who, body.world_id, body.consent)
    if not joined.created:
        response.status_code = status.HTTP_200_OK
    return PersonaOut.model_validate(joined.persona)


@router.put("/me/personas/{persona_id}/consents/{item}")
def grant(
    who: PersonDep, svc: ServicesDep, persona_id: str = PersonaId, item: str = ItemText
) -> PersonaOut:
    return PersonaOut.model_validate(svc.registry.set_consent(who, persona_id, item, True))


@router.delete("/me/personas/{persona_id}/consents/{item}")
def withdraw(
    who: PersonDep, svc: ServicesDep, persona_id: str = PersonaId, item: str = ItemText
) -> PersonaOut:
    return PersonaOut.model_validate(svc.registry.set_consent(who, persona_id, item, False))


@router.get("/me/disclosures")
def my_disclosures(who: PersonDep, svc: ServicesDep) -> list[DisclosureOut]:
    return [DisclosureOut.model_validate(d) for d in svc.registry.disclosures(who)]


@router.get("/me/notices")
def my_notices(who: PersonDep, svc: ServicesDep) -> list[NoticeOut]:
    """Your inbox: statements of reasons, appeal outcomes, lawful-access notices."""
    return [NoticeOut.model_validate(n) for n in svc.notices.inbox(who)]


@router.post("/me/notices/{notice_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def read_notice(who: PersonDep, svc: ServicesDep, notice_id: str = Path(max_length=40)) -> Response:
    svc.notices.mark_read(who, notice_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
