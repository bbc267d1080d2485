"""Review findings in lawful access and legal holds, over HTTP on both databases.

Litigation holds cannot be chained; a renewal needs a new document; naive or
extreme dates are a 422; an emergency reviewer's objection stops the production and
only the agreeing officers download; a request never closed is still swept.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.conftest import START
from tests.helpers import AGE_GATE, ALICE, PASSWORD, join, register, world
from tests.integration.test_lawful_due_process import DOC, events, intake_body, officer, sign_in

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.domain.lawful_access import Category, ProcessType, TargetScope
from personae.domain.staff import Role
from personae.errors import Conflict, InvalidInput
from personae.services.auth import StaffPrincipal
from personae.services.lawful_access import Intake
from personae.store import tables as t

PROBLEM = "application/problem+json"


def doc(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def target(services: Services, client: TestClient) -> tuple[str, str]:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    return aurora, persona_in(client, aurora, "alice")


def persona_in(client: TestClient, world_id: str, handle: str) -> str:
    return join(client, register(client, handle, ALICE), world_id, ["birth_date@age_over_18"])


def rows(services: Services, table: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def request_row(services: Services, rid: str) -> Any:
    with services.ctx.uow(write=False) as uow:
        return uow.lawful_requests.get(rid)


# -- 1. a litigation hold cannot be chained ----------------------------------------------


def test_a_litigation_hold_cannot_be_reopened_while_running_or_recently_ended(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, persona = target(services, client)
    other = persona_in(client, aurora, "bob")
    ana = officer(services, client, "ana")
    body = {"world_id": aurora, "persona_id": persona}
    first = client.post("/v1/lawful/holds", headers=ana, json=body)
    assert first.status_code == 201, first.text

    again = client.post("/v1/lawful/holds", headers=ana, json=body)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert rows(services, t.legal_holds) == 1 and len(events(services, "hold.created")) == 1
    # Another persona is not affected.
    assert (
        client.post(
            "/v1/lawful/holds", headers=ana, json={"world_id": aurora, "persona_id": other}
        ).status_code
        == 201
    )
    extended = client.post(f"/v1/lawful/holds/{first.json()['id']}/extend", headers=ana)
    assert extended.status_code == 200  # 90 + 90 days: it lasts 180 days

    clock.advance(timedelta(days=181))
    assert services.retention.sweep().holds_ended == 2
    ana = sign_in(client, "ana")
    # Ended a day ago after 180 days: refused until 180 days after its end.
    assert client.post("/v1/lawful/holds", headers=ana, json=body).status_code == 409
    clock.set(START + timedelta(days=360) - timedelta(seconds=1))
    ana = sign_in(client, "ana")
    assert client.post("/v1/lawful/holds", headers=ana, json=body).status_code == 409
    assert rows(services, t.legal_holds) == 2 and len(events(services, "hold.created")) == 2
    clock.set(START + timedelta(days=360))
    ana = sign_in(client, "ana")
    reopened = client.post("/v1/lawful/holds", headers=ana, json=body)
    assert reopened.status_code == 201, reopened.text
    assert len(events(services, "hold.created")) == 3


def test_two_officers_holding_one_persona_at_once_make_one_hold(
    services: Services, client: TestClient
) -> None:
    aurora, persona = target(services, client)
    officers = [
        StaffPrincipal(
            services.staff.create(n, PASSWORD, Role.LEGAL_OFFICER).id, n, Role.LEGAL_OFFICER, None
        )
        for n in ("ana", "ben", "cyd", "dan")
    ]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(officers))

    def attempt(actor: StaffPrincipal) -> None:
        barrier.wait()
        try:
            services.holds.litigation_hold(actor, aurora, persona)
            outcomes.append("held")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(o,)) for o in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["held"]
    assert rows(services, t.legal_holds) == 1


# -- 2. a renewal needs a new document ---------------------------------------------------


def test_a_nondisclosure_renewal_refuses_a_document_already_used(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, persona = target(services, client)
    ana = officer(services, client, "ana")
    made = client.post("/v1/lawful/requests", headers=ana, json=intake_body(clock, aurora, persona))
    rid = made.json()["id"]
    path = f"/v1/lawful/requests/{rid}/nondisclosure"
    until = (clock.now() + timedelta(days=200)).isoformat()

    def renew(digest: str) -> Any:
        return client.post(
            path, headers=ana, json={"document_ref": "R", "document_sha256": digest, "until": until}
        )

    for same in (DOC, DOC.upper()):  # the original document, however it is spelled
        refused = renew(same)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        assert any("document_sha256" in e["loc"] for e in refused.json()["errors"])
    first, second = doc("renewal one"), doc("renewal two")
    assert renew(first).status_code == 200
    assert renew(first).status_code == 422  # an earlier renewal's document
    assert renew(second).status_code == 200
    record = request_row(services, rid)
    assert [r["document_sha256"] for r in record.renewals] == [first, second]
    assert len(events(services, "lawful.nondisclosure_renewed")) == 2


# -- 3. naive or extreme dates are a 422 ---------------------------------------------------

BAD_DATES = [
    "2026-12-01T00:00:00",  # naive
    "0001-01-01T00:00:00+01:00",  # would overflow into year 0 in UTC
    "9999-12-31T23:59:59-01:00",  # would overflow into year 10000 in UTC
    "1850-06-01T00:00:00+00:00",  # implausible
]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize("field", ["range_start", "range_end", "deadline", "nondisclosure_until"])
def test_intake_refuses_naive_or_extreme_dates(
    services: Services, client: TestClient, clock: FixedClock, field: str, value: str
) -> None:
    aurora, persona = target(services, client)
    ana = officer(services, client, "ana")
    body = intake_body(clock, aurora, persona, **{field: value})
    response = client.post("/v1/lawful/requests", headers=ana, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["loc"] for e in response.json()["errors"]] == [["body", field]]
    assert value not in response.text
    assert rows(services, t.lawful_requests) == 0
    assert events(services, "lawful.request_received") == []


@pytest.mark.parametrize("value", BAD_DATES)
def test_renewal_refuses_naive_or_extreme_dates(
    services: Services, client: TestClient, clock: FixedClock, value: str
) -> None:
    aurora, persona = target(services, client)
    ana = officer(services, client, "ana")
    made = client.post("/v1/lawful/requests", headers=ana, json=intake_body(clock, aurora, persona))
    rid = made.json()["id"]
    before = request_row(services, rid)
    renewal = {"document_ref": "R", "document_sha256": doc("renewal"), "until": value}
    response = client.post(f"/v1/lawful/requests/{rid}/nondisclosure", headers=ana, json=renewal)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM and value not in response.text
    assert request_row(services, rid) == before
    assert events(services, "lawful.nondisclosure_renewed") == []


def test_the_service_refuses_naive_or_extreme_dates_from_any_adapter(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, persona = target(services, client)
    staff = services.staff.create("ana", PASSWORD, Role.LEGAL_OFFICER)
    ana = StaffPrincipal(staff.id, "ana", Role.LEGAL_OFFICER, None)
    now = clock.now()
    good = Intake(
        authority="Zarnia Police",
        authority_verification="call-back",
        jurisdiction="FR",
        process_type=ProcessType.SUBPOENA,
        document_ref="Z-1",
        document_sha256=DOC,
        world_id=aurora,
        persona_id=persona,
        scope=TargetScope.PERSONA,
        categories=[Category.SUBSCRIBER],
        range_start=now - timedelta(days=3),
        range_end=now,
        deadline=now + timedelta(days=3),
    )
    naive = datetime(2026, 12, 1)
    for bad in (
        {"deadline": naive},
        {"range_end": naive},
        {"nondisclosure_until": naive},
        {"range_start": datetime(1, 1, 1, tzinfo=UTC)},
    ):
        with pytest.raises(InvalidInput):
            services.lawful.intake(ana, Intake(**{**good.__dict__, **bad}))
    assert rows(services, t.lawful_requests) == 0
    services.lawful.intake(ana, good)
    assert rows(services, t.lawful_requests) == 1


# -- 4. the emergency reviewer's objection; who downloads ---------------------------------


Headers = dict[str, str]


def emergency(
    services: Services, client: TestClient, clock: FixedClock
) -> tuple[str, Headers, Headers, Headers]:
    """An emergency request taken in by ana and executed by ben: (id, ana, ben, cyd)."""
    aurora, persona = target(services, client)
    ana, ben, cyd = (officer(services, client, n) for n in ("ana", "ben", "cyd"))
    body = intake_body(
        clock,
        aurora,
        persona,
        process_type="emergency",
        categories=["subscriber", "identity"],
        nondisclosure_until=None,
        justification="credible threat to life posted in a public room",
    )
    rid = client.post("/v1/lawful/requests", headers=ana, json=body).json()["id"]
    executed = client.post(f"/v1/lawful/requests/{rid}/execute", headers=ben)
    assert executed.status_code == 200, executed.text
    return rid, ana, ben, cyd


def test_an_emergency_objection_stops_download_and_hand_over(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    rid, ana, ben, cyd = emergency(services, client, clock)
    package = f"/v1/lawful/requests/{rid}/package"
    handover = f"/v1/lawful/requests/{rid}/handover"
    assert client.get(package, headers=ana).status_code == 404  # the intake officer
    assert client.get(package, headers=ben).status_code == 200  # the executing officer
    objection = {"outcome": "objected", "reason": "no threat: a quote from a film"}
    reviewed = client.post(f"/v1/lawful/requests/{rid}/review", headers=cyd, json=objection)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "closed" and reviewed.json()["outcome"] == "rejected"

    for who in (ben, ana, cyd):
        got = client.get(package, headers=who)
        assert got.status_code == (409 if who is ben else 404), got.text
        handed = client.post(handover, headers=who, json={"handover": "e-mail"})
        assert handed.status_code == (409 if who is ben else 404), handed.text
        assert handed.headers["content-type"] == PROBLEM
    # The production is withdrawn: package and its key destroyed, nothing handed over.
    with services.ctx.uow(write=False) as uow:
        assert uow.packages.get(rid) is None
    assert not services.keystore.has_data_key(f"lawful:{rid}")
    assert events(services, "lawful.handed_over") == []
    assert events(services, "lawful.emergency_reviewed") == [
        {"request_id": rid, "outcome": "objected"}
    ]
    assert [e["outcome"] for e in events(services, "lawful.request_closed")] == ["rejected"]
    record = request_row(services, rid)
    assert record.notice_id is None and record.handover is None


def test_an_upheld_emergency_is_for_its_executor_and_reviewer_only(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    rid, ana, ben, cyd = emergency(services, client, clock)
    package = f"/v1/lawful/requests/{rid}/package"
    upheld = {"outcome": "upheld", "reason": "the threat was specific"}
    assert client.post(f"/v1/lawful/requests/{rid}/review", headers=cyd, json=upheld).is_success
    assert client.get(package, headers=ana).status_code == 404
    assert client.get(package, headers=ben).status_code == 200
    assert client.get(package, headers=cyd).status_code == 200
    handed = client.post(
        f"/v1/lawful/requests/{rid}/handover", headers=cyd, json={"handover": "portal"}
    )
    assert handed.status_code == 200 and handed.json()["outcome"] == "produced_full"


def test_an_objection_after_the_hand_over_still_closes_the_package(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    rid, _ana, ben, cyd = emergency(services, client, clock)
    handed = client.post(
        f"/v1/lawful/requests/{rid}/handover", headers=ben, json={"handover": "phone"}
    )
    assert handed.status_code == 200
    objection = {"outcome": "objected", "reason": "not an emergency"}
    reviewed = client.post(f"/v1/lawful/requests/{rid}/review", headers=cyd, json=objection)
    assert reviewed.status_code == 200 and reviewed.json()["outcome"] == "produced_full"
    assert client.get(f"/v1/lawful/requests/{rid}/package", headers=ben).status_code == 409


# -- 5. a request never closed is swept -----------------------------------------------------


def test_a_request_never_closed_is_swept_from_its_deadline(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, persona = target(services, client)
    ana, ben = officer(services, client, "ana"), officer(services, client, "ben")
    # Approved and executed (a sealed package), never handed over; deadline in 10 days.
    body = intake_body(clock, aurora, persona, process_type="subpoena", categories=["subscriber"])
    executed = client.post("/v1/lawful/requests", headers=ana, json=body).json()["id"]
    approve = {"decision": "approve"}
    client.post(f"/v1/lawful/requests/{executed}/decision", headers=ben, json=approve)
    assert client.post(f"/v1/lawful/requests/{executed}/execute", headers=ben).is_success
    # Never decided, with a deadline far away: counted from a year after intake at most.
    far = intake_body(clock, aurora, persona, deadline="8000-01-01T00:00:00+00:00")
    idle = client.post("/v1/lawful/requests", headers=ana, json=far).json()["id"]
    assert services.keystore.has_data_key(f"lawful:{executed}")

    clock.advance(timedelta(days=10 + 729))
    assert services.retention.sweep().deleted["lawful_requests"] == 0
    clock.advance(timedelta(days=2))
    assert services.retention.sweep().deleted["lawful_requests"] == 1
    assert not services.keystore.has_data_key(f"lawful:{executed}")
    with services.ctx.uow(write=False) as uow:
        assert uow.lawful_requests.get(executed) is None and uow.packages.get(executed) is None
        assert uow.lawful_requests.get(idle) is not None

    clock.set(START + timedelta(days=365 + 729))
    assert services.retention.sweep().deleted["lawful_requests"] == 0
    clock.set(START + timedelta(days=365 + 731))
    assert services.retention.sweep().deleted["lawful_requests"] == 1
    assert rows(services, t.lawful_requests) == 0 and rows(services, t.lawful_packages) == 0
