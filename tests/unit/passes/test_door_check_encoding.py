"""Oversize, badly encoded, deeply nested or ambiguous (duplicate-key) input is refused."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import orjson
import pytest
from tests.unit.passes.pass_world import World, handmade_pass, nested

from personae.crypto.jose import b64url_decode
from personae.verify import MAX_PRESENTATION_BYTES

# -- size, encoding and JSON -------------------------------------------------------


def test_over_16_kib(es_world: World) -> None:
    small = es_world.present(es_world.issue(claims={"note": "x" * 8000}).sd_jwt, disclose=["note"])
    assert len(small) < MAX_PRESENTATION_BYTES
    es_world.verify(small)
    big = es_world.present(es_world.issue(claims={"note": "x" * 17000}).sd_jwt, disclose=["note"])
    es_world.rejects(big, "too_large")
    es_world.rejects("~" * (MAX_PRESENTATION_BYTES + 1), "too_large")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p.replace(".", "!", 1),
        lambda p: "=" + p,
        lambda p: p.split(".", 1)[0] + "=." + p.split(".", 1)[1],
        lambda p: p.split("~", 1)[0] + "~not*base64~" + p.split("~", 1)[1],
        lambda p: p.split("~", 1)[0] + "~A~" + p.split("~", 1)[1],
        lambda p: p.split("~", 1)[0] + "~éé~" + p.split("~", 1)[1],
        lambda p: p.split("~", 1)[0] + "~" + World.segment(b"[1,2") + "~" + p.split("~", 1)[1],
        lambda p: "a.b~" + p.split("~", 1)[1],
        lambda p: "no tilde here",
        lambda p: "~" + p,
    ],
    ids=[
        "bang",
        "leading-padding",
        "padding-in-header",
        "bad-alphabet",
        "one-char",
        "non-ascii",
        "broken-json",
        "two-part-jwt",
        "no-tilde",
        "empty-jwt",
    ],
)
def test_malformed_base64_or_json(es_world: World, mangle: Any) -> None:
    es_world.rejects(mangle(es_world.present()), "malformed")


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_non_canonical_base64_is_refused(es_world: World) -> None:
    # A 64-byte signature is 86 characters; the last one carries 2 unused bits, so its
    # successor in the alphabet decodes to the very same bytes. Only one spelling is valid.
    issued = es_world.issue()
    last = issued.jwt[-1]
    assert _ALPHABET.index(last) % 16 == 0
    twin = issued.jwt[:-1] + _ALPHABET[_ALPHABET.index(last) + 1]
    assert b64url_decode_lenient(twin.rsplit(".", 1)[1]) == b64url_decode(
        issued.jwt.rsplit(".", 1)[1]
    )
    es_world.verify(es_world.bind(issued.jwt + "~"))
    es_world.rejects(es_world.bind(twin + "~"), "malformed")


def b64url_decode_lenient(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("value", [None, b"bytes", 42])
def test_not_a_string(es_world: World, value: Any) -> None:
    es_world.rejects(value, "malformed")


def test_payload_nested_deeper_than_32_levels(es_world: World) -> None:
    ok = handmade_pass(es_world, {"deep": nested(30)}, [])
    es_world.verify(es_world.bind(ok))
    deep = handmade_pass(es_world, {"deep": nested(33)}, [])
    es_world.rejects(es_world.bind(deep), "malformed")


def test_duplicate_json_keys(es_world: World) -> None:
    jwt = es_world.issue().jwt
    header, payload = World.jws_parts(jwt)
    body = orjson.dumps(payload)
    # The same "sub" twice: which one a parser keeps is exactly the ambiguity to refuse.
    doubled = body[:-1] + b',"sub":"PERSONA8"}'
    forged = es_world.raw_jws(orjson.dumps(header), doubled)
    es_world.rejects(es_world.bind(forged + "~"), "malformed")
    spaced = es_world.raw_jws(orjson.dumps(header), body[:-1] + b', "sub": "PERSONA8"}')
    es_world.rejects(es_world.bind(spaced + "~"), "malformed")
    header_twice = b'{"typ":"dc+sd-jwt","alg":"ES256","kid":"k1","kid":"k1"}'
    es_world.rejects(es_world.bind(es_world.raw_jws(header_twice, body) + "~"), "malformed")
    escaped = body[:-1] + b',"\\u0073ub":"PERSONA8"}'  # "sub" spelled with an escape
    es_world.rejects(
        es_world.bind(es_world.raw_jws(orjson.dumps(header), escaped) + "~"), "malformed"
    )


def test_duplicate_keys_inside_a_disclosure(es_world: World) -> None:
    encoded = World.segment(b'["s","address",{"city":"A","city":"B"}]')
    digest = World.segment(hashlib.sha256(encoded.encode()).digest())
    sd_jwt = handmade_pass(es_world, {"_sd": [digest]}, [encoded])
    es_world.rejects(es_world.bind(sd_jwt), "malformed")


def test_whitespace_json_from_other_issuers_is_accepted(es_world: World) -> None:
    jwt = es_world.issue().jwt
    header, payload = World.jws_parts(jwt)

    spaced = es_world.raw_jws(json.dumps(header).encode(), json.dumps(payload, indent=1).encode())
    es_world.verify(es_world.bind(spaced + "~"))
