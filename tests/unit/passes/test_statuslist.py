"""Token Status List: bit order, compression, spec examples, limits and signed tokens."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.passes.pass_world import World, new_key

from personae.crypto.jose import JoseError, b64url_encode, verify_compact
from personae.crypto.statuslist import (
    STATUS_LIST_TYP,
    clear_bit,
    decode_lst,
    decode_status_list,
    encode_lst,
    get_bit,
    new_status_list,
    set_bit,
    status_at,
    status_list_token,
)
from personae.verify import StaticIssuerKeys
from personae.verify._status_token import StatusTokenInvalid, verify_status_list_token


def test_capacity_rounds_up_to_whole_bytes() -> None:
    assert len(new_status_list(1)) == 1
    assert len(new_status_list(8)) == 1
    assert len(new_status_list(9)) == 2
    assert not any(new_status_list(1 << 16))
    with pytest.raises(ValueError):
        new_status_list(0)


def test_index_zero_is_the_least_significant_bit_of_byte_zero() -> None:
    data = new_status_list(16)
    set_bit(data, 0)
    assert data == bytearray([0b0000_0001, 0])
    set_bit(data, 9)
    assert data == bytearray([0b0000_0001, 0b0000_0010])
    assert get_bit(data, 9) == 1
    assert get_bit(data, 8) == 0
    clear_bit(data, 0)
    assert data == bytearray([0, 0b0000_0010])


@pytest.mark.parametrize("idx", [-1, 16, 1000])
def test_out_of_range_indexes_are_refused(idx: int) -> None:
    data = new_status_list(16)
    with pytest.raises(IndexError):
        set_bit(data, idx)
    assert status_at(data, idx, 1) is None


def test_draft_example_one_bit() -> None:
    # draft-ietf-oauth-status-list §4.1: statuses 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1.
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    data = new_status_list(16)
    for idx, status in enumerate(statuses):
        if status:
            set_bit(data, idx)
    assert bytes(data) == bytes([0xB9, 0xA3])
    assert encode_lst(data) == "eNrbuRgAAhcBXQ"
    assert decode_lst("eNrbuRgAAhcBXQ") == bytes([0xB9, 0xA3])


def test_draft_example_two_bits() -> None:
    data = decode_lst("eNo76fITAAPfAgc")
    assert data == bytes([0xC9, 0x44, 0xF9])
    assert [status_at(data, i, 2) for i in range(12)] == [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


@given(st.sets(st.integers(min_value=0, max_value=4095)))
def test_compression_round_trips(revoked: set[int]) -> None:
    data = new_status_list(4096)
    for idx in revoked:
        set_bit(data, idx)
    decoded = decode_lst(encode_lst(data))
    assert {i for i in range(4096) if status_at(decoded, i, 1)} == revoked


def test_zip_bombs_and_trailing_data_are_refused() -> None:
    bomb = b64url_encode(zlib.compress(bytes(1 << 20), 9))
    with pytest.raises(ValueError, match="too large"):
        decode_lst(bomb, max_bytes=1 << 16)
    trailing = b64url_encode(zlib.compress(b"\x01\x02") + b"junk")
    with pytest.raises(ValueError, match="trailing"):
        decode_lst(trailing)
    truncated = b64url_encode(zlib.compress(bytes(100))[:-3])
    with pytest.raises(ValueError):
        decode_lst(truncated)
    with pytest.raises(ValueError, match="ZLIB"):
        decode_lst(b64url_encode(b"not zlib at all"))
    with pytest.raises(JoseError):
        decode_lst("not base64url!")


@pytest.mark.parametrize(
    "claim",
    [None, [], {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}, {"bits": True, "lst": "x"}, {"bits": 1}],
)
def test_malformed_status_list_claims_are_refused(claim: object) -> None:
    with pytest.raises(ValueError):
        decode_status_list(claim)


def test_status_list_token_is_signed_and_verifiable(alg: str) -> None:
    key = new_key(alg)
    data = new_status_list(64)
    set_bit(data, 5)
    token = status_list_token(
        key,
        "k1",
        uri=World.STATUS_URI,
        data=data,
        issued_at=World.NOW,
        expires_at=World.NOW + 600,
        ttl=300,
        issuer=World.ISSUER,
    )
    header, payload = verify_compact(token, key.public_key())
    assert header == {"typ": STATUS_LIST_TYP, "kid": "k1", "alg": alg}
    assert payload["sub"] == World.STATUS_URI
    assert (payload["iat"], payload["exp"], payload["ttl"]) == (World.NOW, World.NOW + 600, 300)
    assert payload["status_list"]["bits"] == 1
    assert decode_status_list(payload["status_list"]) == (1, bytes(data))

    keys = StaticIssuerKeys(World.ISSUER, {"k1": key.public_key()})
    checked = verify_status_list_token(
        token.encode(),
        uri=World.STATUS_URI,
        issuer=World.ISSUER,
        issuer_keys=keys,
        now=World.NOW,
        skew_seconds=60,
        max_list_bytes=1 << 20,
    )
    assert (checked.bits, checked.data, checked.ttl, checked.exp) == (
        1,
        bytes(data),
        300,
        World.NOW + 600,
    )


def test_status_list_token_checks(alg: str) -> None:
    key, other = new_key(alg), new_key(alg)
    keys = StaticIssuerKeys(World.ISSUER, {"k1": key.public_key()})

    def token(signer: object = key, **overrides: object) -> bytes:
        args: dict[str, object] = {
            "uri": World.STATUS_URI,
            "data": new_status_list(8),
            "issued_at": World.NOW,
            "expires_at": World.NOW + 600,
            "ttl": 300,
        }
        args.update(overrides)
        return status_list_token(signer, "k1", **args).encode()  # type: ignore[arg-type]

    def check(raw: bytes, now: int = World.NOW, uri: str = World.STATUS_URI) -> None:
        verify_status_list_token(
            raw,
            uri=uri,
            issuer=World.ISSUER,
            issuer_keys=keys,
            now=now,
            skew_seconds=60,
            max_list_bytes=1 << 20,
        )

    check(token())
    with pytest.raises(StatusTokenInvalid, match="signature"):
        check(token(other))
    with pytest.raises(StatusTokenInvalid, match="another URI"):
        check(token(), uri=World.STATUS_URI + "x")
    with pytest.raises(StatusTokenInvalid, match="expired"):
        check(token(), now=World.NOW + 600)
    with pytest.raises(StatusTokenInvalid, match="future"):
        check(token(), now=World.NOW - 3600)
    with pytest.raises(StatusTokenInvalid, match="another issuer"):
        check(token(issuer="https://elsewhere.example"))
    forged = World.sign(key, {"typ": "JWT", "kid": "k1"}, World.jws_parts(token().decode())[1])
    with pytest.raises(StatusTokenInvalid, match="not a status list token"):
        check(forged.encode())
    with pytest.raises(StatusTokenInvalid, match="malformed"):
        check(b"a.b")
