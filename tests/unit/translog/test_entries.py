"""Log entry encoding: RFC 8785 canonical JSON and salted persona commitments."""

from __future__ import annotations

import hashlib

import pytest

from personae.translog.entries import (
    SALT_SIZE,
    JsonValue,
    canonical_json,
    commitment,
    entry_leaf_hash,
    new_salt,
)


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # RFC 8785 §3.2.3: U+1F600 is the surrogate pair D83D DE00, so it sorts before U+FB33.
    entry = {"\ufb33": 3, "\U0001f600": 5, "\u20ac": 1, "\u00f6": 7, "\u0080": 6, "1": 4, "\r": 2}
    assert canonical_json(entry) == (
        '{"\\r":2,"1":4,"\u0080":6,"\u00f6":7,"\u20ac":1,"\U0001f600":5,"\ufb33":3}'.encode()
    )


def test_no_whitespace_and_canonical_numbers() -> None:
    entry: dict[str, JsonValue] = {"b": [1, True, None, 1.0, 1e21], "a": {"z": "x", "y": -0.0}}
    assert canonical_json(entry) == b'{"a":{"y":0,"z":"x"},"b":[1,true,null,1,1e+21]}'


@pytest.mark.parametrize(
    "entry",
    [{"n": float("nan")}, {"n": float("inf")}, {"n": 2**53}, {1: "non-string key"}, {"s": {1, 2}}],
    ids=["nan", "infinity", "integer beyond 2**53 - 1", "non-string key", "set"],
)
def test_what_jcs_cannot_represent_is_refused(entry: dict[object, object]) -> None:
    with pytest.raises(ValueError):
        canonical_json(entry)  # type: ignore[arg-type]


def test_entry_leaf_hash_is_the_rfc9162_leaf_of_the_canonical_bytes() -> None:
    entry: dict[str, JsonValue] = {"kind": "sanction", "seq": 7}
    expected = hashlib.sha256(b'\x00{"kind":"sanction","seq":7}').digest()
    assert entry_leaf_hash(entry) == expected
    assert entry_leaf_hash({"seq": 7, "kind": "sanction"}) == expected


def test_commitment_is_hex_sha256_of_salt_and_persona() -> None:
    salt = bytes(range(SALT_SIZE))
    value = commitment(salt, "persona-\u00e9")
    assert value == hashlib.sha256(salt + "persona-\u00e9".encode()).hexdigest()
    assert len(value) == 64
    assert value == value.lower()
    assert commitment(bytes(SALT_SIZE), "persona-\u00e9") != value
    assert commitment(salt, "persona-e") != value


@pytest.mark.parametrize("length", [0, 16, SALT_SIZE - 1, SALT_SIZE + 1])
def test_commitment_refuses_a_salt_of_the_wrong_length(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        commitment(bytes(length), "persona")


def test_new_salts_are_fresh() -> None:
    salts = {new_salt() for _ in range(8)}
    assert len(salts) == 8
    assert all(len(salt) == SALT_SIZE for salt in salts)
