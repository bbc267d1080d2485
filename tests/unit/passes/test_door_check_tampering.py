"""Tampering with disclosures or the key binding is refused, with the reason that names it."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest
from tests.unit.passes.pass_world import World, disclosure, handmade_pass, nested, new_key

from personae.crypto.jose import JoseError, b64url_decode, load_public_jwk
from personae.verify._disclosures import _Unpacker

# -- disclosures ---------------------------------------------------------------


def test_altered_disclosure(world: World) -> None:
    issued = world.issue()
    salt, name, _ = orjson.loads(b64url_decode(issued.disclosures["age_over_18"]))
    altered, _ = disclosure(salt, name, False)
    world.rejects(world.bind(issued.jwt + "~" + altered + "~"), "digest_not_found")


def test_dropped_disclosure_after_binding_breaks_sd_hash(world: World) -> None:
    presentation = world.present()
    jwt, first, _second, kb = presentation.split("~")
    world.rejects("~".join((jwt, first, kb)), "kb_sd_hash")


def test_added_disclosure_after_binding_breaks_sd_hash(world: World) -> None:
    issued = world.issue()
    presentation = world.present(issued.sd_jwt, disclose=["country"])
    head, kb = presentation.rsplit("~", 1)
    world.rejects(f"{head}~{issued.disclosures['age_band']}~{kb}", "kb_sd_hash")


def test_duplicated_disclosure(world: World) -> None:
    issued = world.issue()
    twice = issued.disclosures["country"]
    world.rejects(world.bind(f"{issued.jwt}~{twice}~{twice}~"), "duplicate_disclosure")


def test_foreign_disclosure_from_another_pass(world: World) -> None:
    mine, other = world.issue(), world.issue()
    foreign = other.disclosures["country"]
    world.rejects(world.bind(f"{mine.jwt}~{foreign}~"), "digest_not_found")


def test_disclosure_whose_digest_is_not_in_sd(world: World) -> None:
    invented, _ = disclosure("c2FsdHNhbHRzYWx0", "age_over_21", True)
    world.rejects(world.bind(f"{world.issue().jwt}~{invented}~"), "digest_not_found")


def test_empty_disclosure(world: World) -> None:
    sd_jwt = world.issue().jwt + "~~"
    sd_hash = World.segment(hashlib.sha256(sd_jwt.encode()).digest())
    kb = World.sign(
        world.holder_key,
        {"typ": "kb+jwt"},
        {"iat": World.NOW, "aud": World.AUDIENCE, "nonce": World.NONCE, "sd_hash": sd_hash},
    )
    world.rejects(sd_jwt + kb, "malformed")


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (("s", "x", 1), "array", "bad_disclosure"),
        (("s", 1), "object", "bad_disclosure"),
        (("s", "_sd", ["x"]), "object", "bad_disclosure"),
        (("s", "...", 1), "object", "bad_disclosure"),
        (("s", "sub", "PERSONA8"), "object", "bad_disclosure"),
        (("s", "nbf", 0), "object", "bad_disclosure"),
        ((1, "x", 1), "object", "bad_disclosure"),
        (("s", 5, 1), "object", "bad_disclosure"),
        (("s", "x", 1, 2), "object", "bad_disclosure"),
        (("s", "x", nested(40)), "object", "malformed"),
    ],
    ids=[
        "triple-in-array",
        "pair-in-object",
        "named-_sd",
        "named-dots",
        "overrides-plain-claim",
        "registered-claim",
        "salt-not-string",
        "name-not-string",
        "four-elements",
        "too-deep",
    ],
)
def test_disclosure_shape(
    es_world: World, content: tuple[Any, ...], where: str, reason: str
) -> None:
    encoded, digest = disclosure(*content)
    structure = {"_sd": [digest]} if where == "object" else {"list": [{"...": digest}]}
    es_world.rejects(es_world.bind(handmade_pass(es_world, structure, [encoded])), reason)


def test_disclosure_that_is_not_an_array(es_world: World) -> None:
    encoded = World.segment(orjson.dumps({"salt": "s", "name": "x"}))
    digest = World.segment(hashlib.sha256(encoded.encode()).digest())
    sd_jwt = handmade_pass(es_world, {"_sd": [digest]}, [encoded])
    es_world.rejects(es_world.bind(sd_jwt), "bad_disclosure")


def test_same_claim_disclosed_twice(es_world: World) -> None:
    first, first_digest = disclosure("s1", "age_over_18", True)
    second, second_digest = disclosure("s2", "age_over_18", False)
    sd_jwt = handmade_pass(es_world, {"_sd": [first_digest, second_digest]}, [first, second])
    es_world.rejects(es_world.bind(sd_jwt), "bad_disclosure")


def test_digest_occurring_twice(es_world: World) -> None:
    encoded, digest = disclosure("s", "x", 1)
    twice = handmade_pass(es_world, {"_sd": [digest, digest]}, [encoded])
    es_world.rejects(es_world.bind(twice), "duplicate_digest")
    _, element = disclosure("s", 2)
    spread = handmade_pass(es_world, {"_sd": [element], "list": [{"...": element}]}, [])
    es_world.rejects(es_world.bind(spread), "duplicate_digest")


@pytest.mark.parametrize(
    "structure",
    [{"_sd": "not-a-list"}, {"_sd": [1]}, {"_sd": [["x"]]}, {"list": [{"...": 1}]}],
    ids=["sd-string", "sd-number", "sd-list", "dots-number"],
)
def test_malformed_digests(es_world: World, structure: dict[str, Any]) -> None:
    es_world.rejects(es_world.bind(handmade_pass(es_world, structure, [])), "malformed")


# -- the key-binding JWT ---------------------------------------------------------


def test_missing_kb_jwt(world: World) -> None:
    world.rejects(world.issue().sd_jwt, "kb_missing")


def test_kb_jwt_swapped_from_another_presentation(world: World) -> None:
    issued = world.issue()
    one = world.present(issued.sd_jwt, disclose=["country"])
    two = world.present(issued.sd_jwt, disclose=["age_band"])
    world.rejects(one.rsplit("~", 1)[0] + "~" + two.rsplit("~", 1)[1], "kb_sd_hash")


def test_kb_jwt_signed_by_another_holder(world: World, alg: str) -> None:
    world.rejects(world.present(holder_key=new_key(alg)), "kb_bad_signature")


def test_kb_jwt_with_the_other_algorithm(world: World, alg: str) -> None:
    other = new_key("EdDSA" if alg == "ES256" else "ES256")
    world.rejects(world.present(holder_key=other), "kb_alg_not_allowed")


def test_wrong_audience(world: World) -> None:
    world.rejects(world.present(audience="https://other-world.example"), "kb_wrong_aud")


@pytest.mark.parametrize("nonce", ["a-different-nonce", "", "n-0S6_WzA2Mj "])
def test_wrong_or_unknown_nonce(world: World, nonce: str) -> None:
    world.rejects(world.present(), "kb_wrong_nonce", nonce=nonce)


def test_kb_jwt_with_wrong_typ_or_claims(es_world: World) -> None:
    sd_jwt = es_world.issue().sd_jwt.split("~")[0] + "~"
    sd_hash = World.segment(hashlib.sha256(sd_jwt.encode()).digest())
    good = {"iat": World.NOW, "aud": World.AUDIENCE, "nonce": World.NONCE, "sd_hash": sd_hash}
    key = es_world.holder_key

    def kb(header: dict[str, Any], payload: dict[str, Any]) -> str:
        return sd_jwt + World.sign(key, header, payload)

    es_world.verify(kb({"typ": "kb+jwt"}, good))
    es_world.rejects(kb({"typ": "JWT"}, good), "kb_wrong_typ")
    es_world.rejects(kb({"typ": "kb+jwt", "crit": ["x"]}, good), "malformed")
    es_world.rejects(kb({"typ": "kb+jwt"}, {**good, "sd_hash": "x"}), "kb_sd_hash")
    es_world.rejects(kb({"typ": "kb+jwt"}, {**good, "iat": "now"}), "malformed")
    es_world.rejects(kb({"typ": "kb+jwt"}, {**good, "aud": [World.AUDIENCE]}), "kb_wrong_aud")
    es_world.rejects(
        kb({"typ": "kb+jwt"}, {k: v for k, v in good.items() if k != "nonce"}), "kb_wrong_nonce"
    )
    deep = {**good, "extra": nested(40)}
    es_world.rejects(kb({"typ": "kb+jwt"}, deep), "malformed")


def test_kb_alg_none(es_world: World) -> None:
    sd_jwt = es_world.issue().sd_jwt.split("~")[0] + "~"
    header = World.segment(orjson.dumps({"typ": "kb+jwt", "alg": "none"}))
    payload = World.segment(orjson.dumps({"iat": World.NOW, "aud": World.AUDIENCE}))
    es_world.rejects(f"{sd_jwt}{header}.{payload}.", "kb_alg_not_allowed")


@pytest.mark.parametrize("header_alg", [[], {}, ["ES256"], None])
def test_kb_alg_that_is_not_a_string(es_world: World, header_alg: Any) -> None:
    sd_jwt = es_world.issue().sd_jwt.split("~")[0] + "~"
    header = World.segment(orjson.dumps({"typ": "kb+jwt", "alg": header_alg}))
    payload = World.segment(orjson.dumps({"iat": World.NOW, "aud": World.AUDIENCE}))
    es_world.rejects(f"{sd_jwt}{header}.{payload}.AA", "kb_alg_not_allowed")


class _LookupsOnly(dict[str, bytes]):
    """Disclosures by digest that count lookups and refuse to be walked whole."""

    lookups = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.lookups += 1
        return super().get(key, default)

    def items(self) -> Any:
        raise AssertionError("every disclosure walked for one object")

    def __iter__(self) -> Any:
        raise AssertionError("every disclosure walked for one object")


def test_disclosures_are_looked_up_once_per_digest() -> None:
    # Walking every presented disclosure for each object holding ``_sd`` made an
    # unsigned presentation of many small objects and many disclosures cost 42 ms
    # before any signature was checked (found in review): the work must grow with
    # the payload plus the disclosures, not their product.
    count = 300
    made = [disclosure(f"salt{i}", "k", i) for i in range(count)]
    by_digest = _LookupsOnly({digest: encoded.encode() for encoded, digest in made})
    payload = {"a": [{"_sd": [digest, f"decoy{i}"]} for i, (_, digest) in enumerate(made)]}
    unpacker = _Unpacker(by_digest, {})
    claims = unpacker.object(payload, 1, ())
    assert claims == {"a": [{"k": i} for i in range(count)]}
    assert unpacker.used == count
    assert by_digest.lookups == 2 * count  # one per digest, decoys included


# The Ed25519 encodings of points of small order (order 1, 2, 4, 8, and the non-canonical
# y >= p), with and without the sign bit.
SMALL_ORDER_ED25519 = [
    bytes.fromhex(h)
    for h in (
        "01" + "00" * 31,
        "00" * 32,
        "ec" + "ff" * 30 + "7f",
        "ed" + "ff" * 30 + "7f",
        "ee" + "ff" * 30 + "7f",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    )
]
SMALL_ORDER_ED25519 += [raw[:31] + bytes([raw[31] | 0x80]) for raw in SMALL_ORDER_ED25519]


@pytest.mark.parametrize("raw", SMALL_ORDER_ED25519, ids=lambda raw: raw.hex()[:8])
def test_holder_key_of_small_order(es_world: World, raw: bytes) -> None:
    # With such a key, R = identity and s = 0 verify on any message (found in review):
    # a pass bound to it could be presented by anyone who ever saw it.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": World.segment(raw)}
    sd_jwt = handmade_pass(es_world, {}, [], cnf={"jwk": jwk})
    sd_hash = World.segment(hashlib.sha256(sd_jwt.encode()).digest())
    header = World.segment(orjson.dumps({"typ": "kb+jwt", "alg": "EdDSA"}))
    claims = {"iat": World.NOW, "aud": World.AUDIENCE, "nonce": World.NONCE, "sd_hash": sd_hash}
    forged = World.segment(b"\x01" + bytes(63))
    presentation = f"{sd_jwt}{header}.{World.segment(orjson.dumps(claims))}.{forged}"
    es_world.rejects(presentation, "malformed")
    with pytest.raises(JoseError):
        load_public_jwk(jwk)
