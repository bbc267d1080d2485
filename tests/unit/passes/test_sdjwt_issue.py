"""Issuing passes: the SD-JWT VC layout, disclosures, digests and decoys (RFC 9901)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from tests.unit.passes.pass_world import World

from personae.crypto.jose import b64url_decode, b64url_encode, public_jwk, verify_compact
from personae.crypto.sdjwt import disclosure_digest, issue_pass


def _decoded(disclosure: str) -> list[Any]:
    value: list[Any] = orjson.loads(b64url_decode(disclosure))
    return value


def test_rfc9901_example_digests() -> None:
    # RFC 9901 §5.1 examples: an object property and an array element disclosure.
    assert (
        disclosure_digest("WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0")
        == "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
    )
    assert (
        disclosure_digest("WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0")
        == "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"
    )


def test_layout_header_and_registered_claims(world: World, alg: str) -> None:
    issued = world.issue(decoys=0)
    header, payload = verify_compact(issued.jwt, world.issuer_key.public_key())
    assert header == {"typ": "dc+sd-jwt", "alg": alg, "kid": "k1"}
    assert payload["iss"] == World.ISSUER
    assert payload["vct"] == World.VCT
    assert payload["sub"] == "PERSONA7"
    assert payload["iat"] == World.NOW - 60
    assert payload["exp"] == World.NOW + 3600
    assert payload["cnf"] == {"jwk": public_jwk(world.holder_key)}
    assert payload["status"] == {"status_list": {"idx": 7, "uri": World.STATUS_URI}}
    assert payload["_sd_alg"] == "sha-256"
    assert not set(World.CLAIMS) & set(payload)  # every claim is only a digest


def test_serialisation_is_jwt_then_disclosures_each_followed_by_tilde(world: World) -> None:
    issued = world.issue()
    parts = issued.sd_jwt.split("~")
    assert parts[0] == issued.jwt
    assert parts[-1] == ""
    assert parts[1:-1] == list(issued.disclosures.values())


def test_one_disclosure_per_claim_with_128_bit_salt(world: World) -> None:
    issued = world.issue()
    assert set(issued.disclosures) == set(World.CLAIMS)
    salts = set()
    for name, disclosure in issued.disclosures.items():
        salt, claim_name, value = _decoded(disclosure)
        assert claim_name == name
        assert value == World.CLAIMS[name]
        assert len(b64url_decode(salt)) == 16
        salts.add(salt)
    assert len(salts) == len(World.CLAIMS)


def test_digests_are_sorted_and_cover_disclosures_plus_decoys(world: World) -> None:
    issued = world.issue(decoys=5)
    _, payload = world.jws_parts(issued.jwt)
    digests = payload["_sd"]
    assert digests == sorted(digests)
    assert len(digests) == len(set(digests)) == len(World.CLAIMS) + 5
    expected = {
        b64url_encode(hashlib.sha256(d.encode("ascii")).digest())
        for d in issued.disclosures.values()
    }
    assert expected <= set(digests)
    assert all(len(b64url_decode(d)) == 32 for d in digests)


def test_two_passes_share_no_salt_or_digest(world: World) -> None:
    first, second = world.issue(), world.issue()
    assert not set(first.disclosures.values()) & set(second.disclosures.values())
    assert not set(world.jws_parts(first.jwt)[1]["_sd"]) & set(
        world.jws_parts(second.jwt)[1]["_sd"]
    )


def test_accepts_aware_datetimes(world: World) -> None:
    issued = world.issue()
    at = datetime.fromtimestamp(World.NOW, UTC)
    again = issue_pass(
        world.issuer_key,
        "k1",
        issuer=World.ISSUER,
        vct=World.VCT,
        subject="PERSONA7",
        issued_at=at,
        expires_at=datetime.fromtimestamp(World.NOW + 60, UTC),
        holder_jwk=public_jwk(world.holder_key),
        status_uri=World.STATUS_URI,
        status_idx=1,
        claims={"age_over_18": True},
    )
    assert world.jws_parts(again.jwt)[1]["iat"] == World.NOW
    assert world.jws_parts(issued.jwt)[0]["kid"] == "k1"


@pytest.mark.parametrize("name", ["iss", "sub", "exp", "cnf", "status", "vct", "_sd", "..."])
def test_reserved_claim_names_are_refused(world: World, name: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        world.issue(claims={name: "x"})


@pytest.mark.parametrize(
    "value", [{"_sd": ["x"]}, [{"...": "x"}], {"nested": {"_sd": []}}], ids=["sd", "dots", "deep"]
)
def test_values_that_look_like_sd_structure_are_refused(world: World, value: Any) -> None:
    with pytest.raises(ValueError, match="reserved"):
        world.issue(claims={"thing": value})


@pytest.mark.parametrize(
    "overrides",
    [
        {"issued_at": World.NOW, "expires_at": World.NOW},
        {"status_idx": -1},
        {"decoys": -1},
    ],
    ids=["empty-window", "negative-index", "negative-decoys"],
)
def test_bad_parameters_are_refused(world: World, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        world.issue(**overrides)


def test_private_or_unknown_holder_keys_are_refused(world: World) -> None:
    base: dict[str, Any] = {
        "issuer": World.ISSUER,
        "vct": World.VCT,
        "subject": "P",
        "issued_at": World.NOW,
        "expires_at": World.NOW + 60,
        "status_uri": World.STATUS_URI,
        "status_idx": 0,
        "claims": {},
    }
    private = {**public_jwk(world.holder_key), "d": "AAAA"}
    for jwk in (private, {"kty": "RSA", "n": "x", "e": "AQAB"}, {}):
        with pytest.raises(ValueError, match="holder_jwk"):
            issue_pass(world.issuer_key, "k1", holder_jwk=jwk, **base)


def test_naive_datetimes_are_refused(world: World) -> None:
    with pytest.raises(ValueError, match="aware"):
        world.issue(issued_at=datetime(2026, 1, 1))  # type: ignore[arg-type]
