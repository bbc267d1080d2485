"""The door check accepts genuine presentations and returns exactly what was disclosed."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.unit.passes.pass_world import World, disclosure, handmade_pass, new_key

from personae.crypto.jose import b64url_decode, b64url_encode
from personae.crypto.statuslist import clear_bit, set_bit
from personae.verify import (
    REASONS,
    DoorCheck,
    IssuerKey,
    PassRejected,
    StaticStatusLists,
    StatusRef,
    _door,
    bind_presentation,
    disclosable_claims,
    select_disclosures,
)


def test_genuine_presentation_is_admitted(world: World) -> None:
    verified = world.verify(world.present())
    assert verified.persona_id == "PERSONA7"
    assert verified.claims == {"age_over_18": True, "country": "NL"}
    assert verified.vct == World.VCT
    assert verified.issuer == World.ISSUER
    assert verified.kid == "k1"
    assert (verified.iat, verified.exp) == (World.NOW - 60, World.NOW + 3600)


@pytest.mark.parametrize(("issuer_alg", "holder_alg"), [("ES256", "EdDSA"), ("EdDSA", "ES256")])
def test_mixed_issuer_and_holder_algorithms(issuer_alg: str, holder_alg: str) -> None:
    world = World(issuer_key=new_key(issuer_alg), holder_key=new_key(holder_alg))
    assert world.verify(world.present()).claims == {"age_over_18": True, "country": "NL"}


def test_undisclosed_claims_are_absent(world: World) -> None:
    issued = world.issue()
    assert world.verify(world.present(issued.sd_jwt, disclose=())).claims == {}
    everything = world.verify(world.present(issued.sd_jwt, disclose=World.CLAIMS))
    assert everything.claims == World.CLAIMS
    only_band = world.verify(world.present(issued.sd_jwt, disclose=["age_band"]))
    assert only_band.claims == {"age_band": "25-34"}


def test_disclosable_claims_lists_what_a_pass_can_show(world: World) -> None:
    assert disclosable_claims(world.issue().sd_jwt) == World.CLAIMS
    with pytest.raises(ValueError, match="cannot disclose"):
        world.present(disclose=["birth_date"])


def test_time_can_be_an_aware_datetime(world: World) -> None:
    presentation = world.present()
    at = datetime.fromtimestamp(World.NOW, UTC)
    assert world.door.verify(presentation, World.NONCE, at).persona_id == "PERSONA7"
    with pytest.raises(ValueError, match="aware"):
        world.door.verify(presentation, World.NONCE, datetime(2026, 1, 1))


def test_revocation_and_reinstatement_take_effect_at_once(world: World) -> None:
    presentation = world.present()
    world.verify(presentation)
    set_bit(world.status, 7)
    world.rejects(presentation, "revoked")
    clear_bit(world.status, 7)
    world.verify(presentation)


def test_a_caller_that_reads_the_status_itself_is_told_where(world: World) -> None:
    presentation = world.present()
    set_bit(world.status, 7)
    verified, status = world.door.verify_except_status(presentation, World.NONCE, World.NOW)
    assert verified.persona_id == "PERSONA7"
    assert status == StatusRef(World.ISSUER, World.STATUS_URI, 7)
    world.rejects(presentation, "revoked")  # verify reads it
    # Every other check still runs.
    with pytest.raises(PassRejected) as refused:
        world.door.verify_except_status(presentation, "another nonce", World.NOW)
    assert refused.value.reason == "kb_wrong_nonce"


def test_other_indexes_do_not_affect_a_pass(world: World) -> None:
    set_bit(world.status, 6)
    set_bit(world.status, 8)
    world.verify(world.present())


def test_status_unavailable_for_an_unknown_list_or_index(world: World) -> None:
    world.rejects(world.present(world.issue(status_idx=1 << 20).sd_jwt), "status_unavailable")
    elsewhere = handmade_pass(world, {}, [], status={"status_list": {"idx": 1, "uri": "x:y"}})
    world.rejects(world.present(elsewhere, disclose=()), "status_unavailable")


def test_validity_window_with_skew(world: World) -> None:
    presentation = world.present(world.issue(expires_at=World.NOW + 30).sd_jwt)
    world.verify(presentation, now=World.NOW + 60)  # expired 30 s ago, within 60 s skew
    world.rejects(presentation, "expired", now=World.NOW + 90)
    future = world.present(world.issue(issued_at=World.NOW + 90).sd_jwt)
    world.rejects(future, "not_yet_valid")
    not_before = handmade_pass(world, {}, [], nbf=World.NOW + 120)
    world.rejects(world.present(not_before, disclose=()), "not_yet_valid")


def test_key_binding_freshness_window(world: World) -> None:
    issued = world.issue()
    door = world.make_door(kb_max_age=120, skew_seconds=10)
    for age, ok in ((0, True), (130, True), (131, False), (-10, True), (-11, False)):
        presentation = world.present(issued.sd_jwt, issued_at=World.NOW - age)
        if ok:
            door.verify(presentation, World.NONCE, World.NOW)
        else:
            with pytest.raises(PassRejected) as caught:
                door.verify(presentation, World.NONCE, World.NOW)
            assert caught.value.reason == "kb_stale"


def test_accepted_credential_types(world: World) -> None:
    presentation = world.present()
    world.make_door(vcts=[World.VCT]).verify(presentation, World.NONCE, World.NOW)
    door = world.make_door(vcts=["https://registry.example/vct/other-world"])
    with pytest.raises(PassRejected) as caught:
        door.verify(presentation, World.NONCE, World.NOW)
    assert caught.value.reason == "wrong_vct"


def _flip_signature(jwt: str) -> str:
    signing_input, _, signature = jwt.rpartition(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 1
    return signing_input + "." + b64url_encode(bytes(raw))


def test_a_door_that_saw_a_pass_still_checks_everything(world: World, alg: str) -> None:
    issued = world.issue()
    presentation = world.present(issued.sd_jwt)
    world.verify(presentation)  # the door now remembers this pass
    world.rejects(presentation, "kb_wrong_nonce", nonce="another")
    world.rejects(presentation, "expired", now=World.NOW + 7200)
    world.rejects(presentation, "kb_stale", now=World.NOW + 1000)
    world.rejects(world.present(issued.sd_jwt, holder_key=new_key(alg)), "kb_bad_signature")
    forged = _flip_signature(issued.jwt) + issued.sd_jwt[len(issued.jwt) :]
    world.rejects(world.present(forged), "bad_signature")
    set_bit(world.status, 7)
    world.rejects(presentation, "revoked")


def test_nested_and_array_disclosures_are_rebuilt(es_world: World) -> None:
    street, street_digest = disclosure("salt-street", "street", "Canal 1")
    city, city_digest = disclosure("salt-city", "city", "Utrecht")
    fr, fr_digest = disclosure("salt-fr", "FR")
    de, de_digest = disclosure("salt-de", "DE")
    _, decoy = disclosure("decoy")
    # A recursive disclosure: the whole address is disclosable, and inside it, the street.
    address, address_digest = disclosure(
        "salt-address", "address", {"_sd": [street_digest], "country": "NL"}
    )
    sd_jwt = handmade_pass(
        es_world,
        {
            "_sd": sorted([address_digest, decoy]),
            "home": {"_sd": [city_digest], "planet": "Earth"},
            "nationalities": [{"...": fr_digest}, {"...": de_digest}, "plain"],
        },
        [street, city, fr, de, address],
    )
    everything = es_world.verify(
        es_world.present(sd_jwt, disclose=["address", "home", "nationalities"])
    )
    assert everything.claims == {
        "address": {"street": "Canal 1", "country": "NL"},
        "home": {"city": "Utrecht", "planet": "Earth"},
        "nationalities": ["FR", "DE", "plain"],
    }
    partial = bind_presentation(
        "~".join((sd_jwt.split("~")[0], fr, address, "")),
        es_world.holder_key,
        audience=World.AUDIENCE,
        nonce=World.NONCE,
        issued_at=World.NOW,
    )
    assert es_world.verify(partial).claims == {
        "address": {"country": "NL"},
        "home": {"planet": "Earth"},
        "nationalities": ["FR", "plain"],
    }
    # The street without the address that holds its digest: nothing signed refers to it.
    orphan = bind_presentation(
        "~".join((sd_jwt.split("~")[0], street, "")),
        es_world.holder_key,
        audience=World.AUDIENCE,
        nonce=World.NONCE,
        issued_at=World.NOW,
    )
    es_world.rejects(orphan, "digest_not_found")


def test_select_disclosures_keeps_issued_order_and_nested_parts(es_world: World) -> None:
    inner, inner_digest = disclosure("s1", "inner", 1)
    outer, outer_digest = disclosure("s2", "outer", {"_sd": [inner_digest]})
    other, other_digest = disclosure("s3", "other", 2)
    sd_jwt = handmade_pass(es_world, {"_sd": [outer_digest, other_digest]}, [inner, outer, other])
    chosen = select_disclosures(sd_jwt, ["outer"])
    assert chosen.split("~")[1:-1] == [inner, outer]


def test_reason_codes_are_documented() -> None:
    assert {"malformed", "bad_signature", "kb_sd_hash", "revoked"} <= REASONS
    assert repr(PassRejected("revoked")) == "PassRejected('revoked')"


def test_door_memory_is_bounded_and_only_holds_verified_passes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_door, "PASS_CACHE_SIZE", 2)
    door = world.make_door()
    refused = world.present()
    with pytest.raises(PassRejected):
        door.verify(refused, "wrong nonce", World.NOW)
    assert not door._passes and not door._holder_keys and not door._disclosures
    presentations = [world.present() for _ in range(3)]
    for presentation in presentations:
        door.verify(presentation, World.NONCE, World.NOW)
    assert len(door._passes) == 2
    for presentation in presentations:  # the evicted one is simply parsed again
        assert door.verify(presentation, World.NONCE, World.NOW).persona_id == "PERSONA7"


def test_concurrent_door_checks(es_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_door, "PASS_CACHE_SIZE", 3)
    presentations = [es_world.present() for _ in range(8)]
    door = es_world.make_door()

    def check(i: int) -> str:
        return door.verify(presentations[i % 8], World.NONCE, World.NOW).persona_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(check, range(200))) == {"PERSONA7"}


class _SwappableKeys:
    """An issuer whose key under ``k1`` can be replaced, as after a key compromise."""

    def __init__(self, key: Any) -> None:
        self.key = IssuerKey.from_key(World.ISSUER, "k1", key)

    def trusts(self, issuer: str) -> bool:
        return issuer == World.ISSUER

    def key_for(self, issuer: str, kid: str, now: float) -> IssuerKey | None:
        return self.key if kid == "k1" else None


def test_a_returning_pass_keeps_its_issuer_signature_only_under_the_same_key(
    world: World, alg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[bytes] = []
    real = _door.signature_ok

    def counting(key: Any, key_alg: str, signing_input: bytes, signature: bytes | None) -> bool:
        checked.append(signing_input)
        return real(key, key_alg, signing_input, signature)

    monkeypatch.setattr(_door, "signature_ok", counting)
    keys = _SwappableKeys(world.issuer_key.public_key())
    door = DoorCheck(keys, World.AUDIENCE, StaticStatusLists({World.STATUS_URI: world.status}))
    issued = world.issue()
    jwt_input = issued.jwt.rpartition(".")[0].encode("ascii")

    door.verify(world.present(issued.sd_jwt), World.NONCE, World.NOW)
    assert checked.count(jwt_input) == 1 and len(checked) == 2
    # The same pass again: the same bytes under the same key object; the KB-JWT is new.
    door.verify(world.present(issued.sd_jwt, nonce="n2"), "n2", World.NOW)
    assert checked.count(jwt_input) == 1 and len(checked) == 3

    # Another key under the same kid: the remembered answer no longer applies.
    keys.key = IssuerKey.from_key(World.ISSUER, "k1", new_key(alg).public_key())
    with pytest.raises(PassRejected) as refused:
        door.verify(world.present(issued.sd_jwt, nonce="n3"), "n3", World.NOW)
    assert refused.value.reason == "bad_signature"
    assert checked.count(jwt_input) == 2
    # And a key the issuer no longer has refuses before any signature.
    keys.key = None  # type: ignore[assignment]
    with pytest.raises(PassRejected) as refused:
        door.verify(world.present(issued.sd_jwt, nonce="n4"), "n4", World.NOW)
    assert refused.value.reason == "unknown_kid"


def test_how_much_a_door_remembers_is_its_own(world: World, alg: str) -> None:
    forgetful = world.make_door(remember=0)
    presentation = world.present()
    for _ in range(2):
        assert forgetful.verify(presentation, World.NONCE, World.NOW).persona_id == "PERSONA7"
    assert not forgetful._passes and not forgetful._holder_keys and not forgetful._disclosures
    one = world.make_door(remember=1)
    claims = {f"claim_{i}": i for i in range(6)}
    for holder in (new_key(alg), new_key(alg)):
        visitor = World(issuer_key=world.issuer_key, holder_key=holder, status=world.status)
        shown = visitor.present(visitor.issue(claims=claims).sd_jwt, disclose=tuple(claims))
        one.verify(shown, World.NONCE, World.NOW)
    # One pass, one holder key, and at most eight disclosures of the twelve it saw.
    assert len(one._passes) == 1 and len(one._holder_keys) == 1
    assert len(one._disclosures) == 8
    with pytest.raises(ValueError):
        world.make_door(remember=-1)


def test_a_door_reads_again_only_key_binding_headers_that_verified(es_world: World) -> None:
    door = es_world.make_door()
    sd_jwt = es_world.issue().sd_jwt.split("~")[0] + "~"
    sd_hash = World.segment(hashlib.sha256(sd_jwt.encode()).digest())
    good = {"iat": World.NOW, "aud": World.AUDIENCE, "nonce": World.NONCE, "sd_hash": sd_hash}

    def shown(header: dict[str, Any], payload: dict[str, Any]) -> tuple[str, bytes]:
        kb = World.sign(es_world.holder_key, header, payload)
        return sd_jwt + kb, kb.split(".")[0].encode()

    refused, refused_header = shown({"typ": "kb+jwt", "n": -1}, {**good, "sd_hash": "x"})
    with pytest.raises(PassRejected):
        door.verify(refused, World.NONCE, World.NOW)
    assert refused_header not in door._kb_headers
    # Anyone can vary a header's bytes: the door keeps a few, newest in.
    for n in range(3 * _door._KB_HEADER_CACHE_SIZE):
        admitted, header = shown({"typ": "kb+jwt", "n": n}, good)
        assert door.verify(admitted, World.NONCE, World.NOW).persona_id == "PERSONA7"
        assert header in door._kb_headers
        assert len(door._kb_headers) <= _door._KB_HEADER_CACHE_SIZE
    # A remembered header is still checked as a whole presentation: its signature too.
    admitted, _ = shown({"typ": "kb+jwt", "n": 0}, good)
    head, _, _signature = admitted.rpartition(".")
    with pytest.raises(PassRejected):
        door.verify(head + "." + "A" * 86, World.NONCE, World.NOW)
