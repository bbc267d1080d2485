"""The person's pages over a real app: identity with field errors, joining, consents, passes."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, world
from tests.web.helpers import csrf, sign_up

from personae.bootstrap import Services
from personae.crypto.jose import public_jwk
from personae.services.auth import WorldPrincipal


def _set(client: TestClient, name: str, value: str) -> object:
    return client.post(
        "/me/identity",
        data={"csrf_token": csrf(client, "/me/identity"), "name": name, "value": value},
    )


def test_identity_shows_field_level_messages_from_the_catalog(client: TestClient) -> None:
    sign_up(client, "alice")
    bad = _set(client, "birth_date", "1990-02-30")
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert "birth_date is not a real calendar date" in bad.text
    assert 'value="1990-02-30"' in bad.text  # the field keeps what was typed
    wrong_code = _set(client, "languages", "fr, xx-nope")
    assert wrong_code.status_code == 422 and 'class="error"' in wrong_code.text
    good = _set(client, "languages", "fr, en")
    assert good.status_code == 200
    assert "<td>fr, en</td>" in good.text and "natural" in good.text
    assert "self asserted" in good.text


def test_join_declining_an_optional_item_then_the_disclosure_shows(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    sign_up(client, "alice")
    _set(client, "birth_date", "1990-01-01")
    _set(client, "languages", "fr, en")
    join_page = client.get(f"/worlds/{aurora}/join").text
    assert "adult world" in join_page and "room suggestions" in join_page
    assert "required" in join_page and "optional" in join_page
    # Nothing ticked: the required item is missing, and the page says so.
    token = csrf(client, f"/worlds/{aurora}/join")
    refused = client.post(f"/worlds/{aurora}/join", data={"csrf_token": token})
    assert refused.status_code == 422 and "birth_date@age_over_18" in refused.text
    joined = client.post(
        f"/worlds/{aurora}/join",
        data={"csrf_token": token, "consent": ["birth_date@age_over_18"]},
    )
    assert joined.status_code == 200
    mine = services.registry.personas(services.auth.person(client.cookies["personae_session"]))
    persona = mine[0].persona_id
    assert [c.item for c in mine[0].consents] == ["birth_date@age_over_18"]
    assert "not granted" in joined.text  # languages@exact was declined

    services.worlds.resolve(WorldPrincipal(aurora, "Aurora"), persona)
    seen = client.get("/me/disclosures").text
    assert "Aurora" in seen and "birth_date@age_over_18" in seen
    assert "1990-01-01" not in seen

    # Withdraw through the htmx path: only the persona's card comes back.
    withdrawn = client.post(
        f"/me/worlds/{persona}/consent",
        data={"csrf_token": token, "item": "birth_date@age_over_18", "action": "withdraw"},
        headers={"hx-request": "true"},
    )
    assert withdrawn.status_code == 200
    assert withdrawn.text.lstrip().startswith("<section") and "<html" not in withdrawn.text
    assert "Grant" in withdrawn.text


def test_issue_and_revoke_a_pass(services: Services, client: TestClient) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    sign_up(client, "alice")
    _set(client, "birth_date", "1990-01-01")
    token = csrf(client, f"/worlds/{aurora}/join")
    client.post(
        f"/worlds/{aurora}/join", data={"csrf_token": token, "consent": ["birth_date@age_over_18"]}
    )
    persona = services.registry.personas(services.auth.person(client.cookies["personae_session"]))[
        0
    ].persona_id
    bad = client.post(
        f"/me/passes/{persona}/issue", data={"csrf_token": token, "holder_jwk": "not json"}
    )
    assert bad.status_code == 422 and "not JSON" in bad.text
    jwk = json.dumps(public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    issued = client.post(
        f"/me/passes/{persona}/issue", data={"csrf_token": token, "holder_jwk": jwk}
    )
    assert issued.status_code == 201 and "~" in issued.text  # the SD-JWT, shown once
    listed = services.passes.passes(
        services.auth.person(client.cookies["personae_session"]), persona
    )
    assert len(listed) == 1 and listed[0].revoked_at is None
    revoked = client.post(
        f"/me/passes/{persona}/{listed[0].pass_id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 200 and "revoked" in revoked.text


def test_another_persons_persona_is_not_found(services: Services, client: TestClient) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    other = TestClient(client.app)
    sign_up(other, "bob")
    _set(other, "birth_date", "1990-01-01")
    token = csrf(other, f"/worlds/{aurora}/join")
    other.post(
        f"/worlds/{aurora}/join", data={"csrf_token": token, "consent": ["birth_date@age_over_18"]}
    )
    bobs = services.registry.personas(services.auth.person(other.cookies["personae_session"]))
    sign_up(client, "alice")
    token = csrf(client, "/me/worlds")
    answer = client.post(
        f"/me/worlds/{bobs[0].persona_id}/consent",
        data={"csrf_token": token, "item": "birth_date@age_over_18", "action": "withdraw"},
    )
    assert answer.status_code == 404
    consents = services.registry.personas(services.auth.person(other.cookies["personae_session"]))[
        0
    ].consents
    assert [c.withdrawn_at for c in consents] == [None]
    assert client.get("/me/export").headers["content-disposition"].startswith("attachment")
