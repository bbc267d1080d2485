"""Interoperability with the sd-jwt reference implementation (RFC 9901), in both directions."""

from __future__ import annotations

import time
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier
from tests.unit.passes.pass_world import World, new_key

from personae.crypto.statuslist import new_status_list
from personae.verify import DoorCheck, StaticIssuerKeys, StaticStatusLists


@pytest.mark.parametrize("issuer_alg", ["ES256", "EdDSA"])
def test_reference_verifier_accepts_our_presentations(issuer_alg: str) -> None:
    # The reference verifier checks key binding with ES256 only, so the holder signs ES256.
    world = World(issuer_key=new_key(issuer_alg), holder_key=new_key("ES256"))
    presentation = world.present(disclose=["age_over_18", "languages", "standing"])
    issuer_jwk = JWK.from_pyca(world.issuer_key.public_key())
    verifier = SDJWTVerifier(
        presentation, lambda iss, header: issuer_jwk, World.AUDIENCE, World.NONCE
    )
    claims = verifier.get_verified_payload()
    assert claims["sub"] == "PERSONA7"
    assert claims["age_over_18"] is True
    assert claims["languages"] == ["nl", "en"]
    assert claims["standing"] == {"level": "good", "since": 2021}
    assert "country" not in claims and "_sd" not in claims


def test_reference_verifier_refuses_a_tampered_presentation() -> None:
    world = World(issuer_key=new_key("ES256"), holder_key=new_key("ES256"))
    presentation = world.present()
    jwt, first, _second, kb = presentation.split("~")
    issuer_jwk = JWK.from_pyca(world.issuer_key.public_key())
    with pytest.raises(ValueError, match="digest"):
        SDJWTVerifier(
            "~".join((jwt, first, kb)), lambda iss, header: issuer_jwk, World.AUDIENCE, World.NONCE
        )


def test_our_door_accepts_reference_passes_with_nested_and_array_disclosures() -> None:
    now = int(time.time())  # the reference holder stamps its KB-JWT with the real time
    issuer_key, holder_key = new_key("ES256"), new_key("ES256")
    status = new_status_list(64)
    user_claims: dict[Any, Any] = {
        "iss": World.ISSUER,
        "vct": World.VCT,
        "sub": "PERSONA7",
        "iat": now,
        "exp": now + 600,
        "status": {"status_list": {"idx": 3, "uri": World.STATUS_URI}},
        SDObj("age_over_18"): True,
        SDObj("country"): "NL",
        "address": {SDObj("street"): "Canal 1", "city": "Utrecht"},
        SDObj("home"): {SDObj("planet"): "Earth", "moons": 1},
        "nationalities": [SDObj("FR"), "DE", SDObj("NL")],
    }
    issuance = SDJWTIssuer(
        user_claims,
        JWK.from_pyca(issuer_key),
        JWK.from_pyca(holder_key),
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": "k1"},
    ).sd_jwt_issuance
    holder = SDJWTHolder(issuance)
    holder.create_presentation(
        {
            "age_over_18": True,
            "address": {"street": True},
            "home": {"planet": True},
            "nationalities": [True, False, False],
        },
        nonce=World.NONCE,
        aud=World.AUDIENCE,
        holder_key=JWK.from_pyca(holder_key),
        sign_alg="ES256",
    )
    door = DoorCheck(
        StaticIssuerKeys(World.ISSUER, {"k1": issuer_key.public_key()}),
        World.AUDIENCE,
        StaticStatusLists({World.STATUS_URI: status}),
    )
    verified = door.verify(holder.sd_jwt_presentation, World.NONCE, now)
    assert verified.persona_id == "PERSONA7"
    assert verified.claims == {
        "age_over_18": True,
        "address": {"street": "Canal 1", "city": "Utrecht"},
        "home": {"planet": "Earth", "moons": 1},
        "nationalities": ["FR", "DE"],
    }
