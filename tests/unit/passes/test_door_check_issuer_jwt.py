"""Forged or ill-formed issuer JWTs are refused: alg none, HMAC, foreign keys, bad claims."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from tests.unit.passes.pass_world import World, handmade_pass, new_key

from personae.crypto.jose import public_jwk

# -- the issuer JWT ------------------------------------------------------------


def test_alg_none(world: World) -> None:
    _, payload = world.jws_parts(world.issue().jwt)
    header = orjson.dumps({"typ": "dc+sd-jwt", "alg": "none", "kid": "k1"})
    unsigned = World.segment(header) + "." + World.segment(orjson.dumps(payload)) + "."
    world.rejects(world.bind(unsigned + "~"), "alg_not_allowed")


@pytest.mark.parametrize("header_alg", [[], {}, ["ES256"], {"ES256": 1}, 256, None])
def test_alg_that_is_not_a_string(world: World, header_alg: Any) -> None:
    # A JSON array or object cannot be looked up in a set: it must still be a refusal,
    # not a TypeError escaping the door (found in review).
    _, payload = world.jws_parts(world.issue().jwt)
    header = orjson.dumps({"typ": "dc+sd-jwt", "alg": header_alg, "kid": "k1"})
    unsigned = World.segment(header) + "." + World.segment(orjson.dumps(payload)) + ".AA"
    world.rejects(world.bind(unsigned + "~"), "alg_not_allowed")


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
def test_hs256_signed_with_the_public_key(world: World, alg: str, secret_form: str) -> None:
    _, payload = world.jws_parts(world.issue().jwt)
    public = world.issuer_key.public_key()
    secret = (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if secret_form == "pem"
        else orjson.dumps(public_jwk(public))
    )

    def forged(header_alg: str) -> str:
        header = orjson.dumps({"typ": "dc+sd-jwt", "alg": header_alg, "kid": "k1"})
        signing_input = World.segment(header) + "." + World.segment(orjson.dumps(payload))
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return world.bind(signing_input + "." + World.segment(mac) + "~")

    world.rejects(forged("HS256"), "alg_not_allowed")
    world.rejects(forged(alg), "bad_signature")  # an HMAC where a signature belongs


def test_alg_confusion_between_key_types(world: World, alg: str) -> None:
    other_alg = "EdDSA" if alg == "ES256" else "ES256"
    impostor = new_key(other_alg)
    issued = world.issue(signing_key=impostor)
    world.rejects(world.present(issued.sd_jwt), "alg_not_allowed")


def test_signed_by_another_key_with_a_known_kid(world: World, alg: str) -> None:
    issued = world.issue(signing_key=new_key(alg))
    world.rejects(world.present(issued.sd_jwt), "bad_signature")


def test_unknown_kid(world: World) -> None:
    world.rejects(world.present(world.issue(kid="k2").sd_jwt), "unknown_kid")


def test_unknown_issuer(es_world: World) -> None:
    sd_jwt = handmade_pass(es_world, {}, [], iss="https://impostor.example")
    es_world.rejects(es_world.bind(sd_jwt), "unknown_issuer")


@pytest.mark.parametrize("typ", ["JWT", "vc+sd-jwt", "kb+jwt", None])
def test_wrong_typ(es_world: World, typ: str | None) -> None:
    header = {"kid": "k1"} if typ is None else {"typ": typ, "kid": "k1"}
    es_world.rejects(es_world.bind(handmade_pass(es_world, {}, [], header=header)), "wrong_typ")


def test_crit_header_is_refused(es_world: World) -> None:
    header = {"typ": "dc+sd-jwt", "kid": "k1", "crit": ["exp"]}
    es_world.rejects(es_world.bind(handmade_pass(es_world, {}, [], header=header)), "malformed")


def test_other_digest_algorithm(es_world: World) -> None:
    sd_jwt = handmade_pass(es_world, {}, [], _sd_alg="sha-512")
    es_world.rejects(es_world.bind(sd_jwt), "bad_sd_alg")


@pytest.mark.parametrize(
    "registered",
    [
        {"iss": None},
        {"vct": None},
        {"sub": None},
        {"exp": None},
        {"exp": "tomorrow"},
        {"exp": True},
        {"iat": "yesterday"},
        {"cnf": None},
        {"cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}}},
        {"status": None},
        {"status": {"status_list": {"idx": -1, "uri": "x"}}},
        {"status": {"status_list": {"idx": 1.5, "uri": "x"}}},
    ],
    ids=[
        "no-iss",
        "no-vct",
        "no-sub",
        "no-exp",
        "exp-string",
        "exp-bool",
        "iat-string",
        "no-cnf",
        "cnf-bad-key",
        "no-status",
        "negative-idx",
        "float-idx",
    ],
)
def test_missing_or_mistyped_registered_claims(es_world: World, registered: dict[str, Any]) -> None:
    es_world.rejects(es_world.bind(handmade_pass(es_world, {}, [], **registered)), "malformed")


def test_holder_key_not_on_the_curve(es_world: World) -> None:
    jwk = public_jwk(es_world.holder_key)
    jwk["y"] = jwk["x"]
    es_world.rejects(es_world.bind(handmade_pass(es_world, {}, [], cnf={"jwk": jwk})), "malformed")


def test_private_holder_key_in_cnf(es_world: World) -> None:
    jwk = {**public_jwk(es_world.holder_key), "d": "AAAA"}
    es_world.rejects(es_world.bind(handmade_pass(es_world, {}, [], cnf={"jwk": jwk})), "malformed")
