"""Fuzzing the door check: whatever arrives, the only possible failure is PassRejected."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.passes.pass_world import World, disclosure, handmade_pass, new_key

from personae.crypto.jose import b64url_encode
from personae.verify import (
    PassRejected,
    VerifiedPass,
    _codec,
    bind_presentation,
    disclosable_claims,
    select_disclosures,
)

WORLDS = {
    alg: World(issuer_key=new_key(alg), holder_key=new_key(alg)) for alg in ("ES256", "EdDSA")
}
VALID = {alg: world.present() for alg, world in WORLDS.items()}
SYMBOLS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~.=+/ é\x00{}[]":,'

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_keys = st.one_of(st.sampled_from(["_sd", "...", "sub", "iss", "x"]), st.text(max_size=5))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=30,
)


def door_outcome(alg: str, presentation: Any) -> VerifiedPass | None:
    """Verify, turning PassRejected into None; any other exception fails the test."""
    world = WORLDS[alg]
    try:
        return world.door.verify(presentation, World.NONCE, World.NOW)
    except PassRejected as rejected:
        assert str(rejected) == "pass rejected"
        return None


@FUZZ
@given(alg=st.sampled_from(sorted(WORLDS)), text=st.text(max_size=400))
def test_arbitrary_text(alg: str, text: str) -> None:
    assert door_outcome(alg, text) is None


@FUZZ
@given(alg=st.sampled_from(sorted(WORLDS)), data=st.binary(max_size=400))
def test_arbitrary_bytes_as_text(alg: str, data: bytes) -> None:
    assert door_outcome(alg, data.decode("latin-1")) is None
    assert door_outcome(alg, data) is None


@FUZZ
@given(
    alg=st.sampled_from(sorted(WORLDS)),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(SYMBOLS), st.sampled_from("rid")),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_valid_presentation(alg: str, edits: list[tuple[int, str, str]]) -> None:
    text = VALID[alg]
    for position, symbol, kind in edits:
        at = position % (len(text) + 1)
        if kind == "r":
            text = text[:at] + symbol + text[at + 1 :]
        elif kind == "i":
            text = text[:at] + symbol + text[at:]
        else:
            text = text[:at] + text[at + 1 :]
    outcome = door_outcome(alg, text)
    if outcome is not None:  # only an edit that changed nothing can still verify
        assert text == VALID[alg]


@FUZZ
@given(
    alg=st.sampled_from(sorted(WORLDS)),
    parts=st.lists(st.sampled_from(["jwt", "d", "kb", "junk", ""]), max_size=6),
)
def test_reassembled_parts(alg: str, parts: list[str]) -> None:
    jwt, *disclosures, kb = VALID[alg].split("~")
    pieces = {"jwt": jwt, "d": disclosures[0], "kb": kb, "junk": "eyJhIjoxfQ", "": ""}
    text = "~".join(pieces[p] for p in parts)
    outcome = door_outcome(alg, text)
    if outcome is not None:
        assert text == VALID[alg] or text.split("~")[0] == jwt


@FUZZ
@given(structure=st.dictionaries(json_keys, json_values, max_size=5), extra=json_values)
def test_signed_payloads_of_any_shape(structure: dict[str, Any], extra: Any) -> None:
    world = WORLDS["ES256"]
    encoded, digest = disclosure("salt", "extra", extra)
    element, element_digest = disclosure("salt", extra)
    structure = {**structure, "list": [{"...": element_digest}]}
    if isinstance(structure.get("_sd"), list):
        structure["_sd"] = [*structure["_sd"], digest]
    sd_jwt = handmade_pass(world, structure, [encoded, element])
    presentation = bind_presentation(
        sd_jwt, world.holder_key, audience=World.AUDIENCE, nonce=World.NONCE, issued_at=World.NOW
    )
    door_outcome("ES256", presentation)


@FUZZ
@given(kb_payload=st.dictionaries(json_keys, json_values, max_size=5), header=json_values)
def test_key_binding_jwts_of_any_shape(kb_payload: dict[str, Any], header: Any) -> None:
    world = WORLDS["ES256"]
    sd_jwt = world.issue().sd_jwt
    signed = World.sign(world.holder_key, {"typ": "kb+jwt"}, kb_payload)
    assert door_outcome("ES256", sd_jwt + signed) is None
    odd_header = b64url_encode(orjson.dumps(header))
    assert door_outcome("ES256", sd_jwt + odd_header + "." + signed.split(".", 1)[1]) is None


@FUZZ
@given(alg=json_values, kid=json_values, kb_alg=json_values)
def test_header_members_of_any_type(alg: Any, kid: Any, kb_alg: Any) -> None:
    # The members a door reads from headers, each any JSON value (an ``alg`` that was an
    # array once escaped as a TypeError).
    valid = VALID["ES256"]
    jwt, *disclosures, kb = valid.split("~")
    header = {"typ": "dc+sd-jwt", "alg": alg, "kid": kid}
    forged_jwt = b64url_encode(orjson.dumps(header)) + "." + jwt.split(".", 1)[1]
    forged = "~".join([forged_jwt, *disclosures, kb])
    kb_header = b64url_encode(orjson.dumps({"typ": "kb+jwt", "alg": kb_alg}))
    forged_kb = valid.rsplit("~", 1)[0] + "~" + kb_header + "." + kb.split(".", 1)[1]
    for presentation in (forged, forged_kb):
        # Only the very header that was signed can still verify.
        assert door_outcome("ES256", presentation) is None or presentation == valid


@FUZZ
@given(structure=st.dictionaries(json_keys, json_values, max_size=5), whole=json_values)
def test_holder_helpers_refuse_passes_of_any_shape_with_value_error(
    structure: dict[str, Any], whole: Any
) -> None:
    # The holder's helpers trust their pass, but a broken one is a ValueError, never a
    # TypeError or KeyError (found in review).
    world = WORLDS["ES256"]
    encoded, digest = disclosure("salt", "x", whole)
    if isinstance(structure.get("_sd"), list):
        structure["_sd"] = [*structure["_sd"], digest]
    header = orjson.dumps({"typ": "dc+sd-jwt", "alg": "ES256", "kid": "k1"})
    shapes = (
        handmade_pass(world, structure, [encoded]),
        world.raw_jws(header, orjson.dumps(whole)) + "~" + encoded + "~",
    )
    for sd_jwt in shapes:
        for names in ((), ("x",), tuple(structure)):
            try:
                disclosable_claims(sd_jwt)
                select_disclosures(sd_jwt, names)
            except ValueError:
                pass


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@FUZZ
@given(value=json_values, duplicate=st.booleans(), spaced=st.booleans(), ascii_only=st.booleans())
def test_duplicate_keys_are_found_whatever_the_formatting(
    value: Any, duplicate: bool, spaced: bool, ascii_only: bool
) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps({"k": value}, separators=separators, ensure_ascii=ascii_only)
    if duplicate:
        again = '"\\u006b"' if ascii_only else '"k"'  # "k", escaped or not
        text = text[:-1] + separators[0] + again + separators[1] + "1}"
    data = text.encode()
    if duplicate or _depth({"k": value}) > 32:
        with pytest.raises(PassRejected):
            _codec.loads(data)
    else:
        assert _codec.loads(data) == json.loads(data)
