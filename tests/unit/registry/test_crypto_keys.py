"""Envelope sealing, the file keystore and pseudonyms."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from personae.crypto import envelope
from personae.crypto.keystore import FileKeyStore, jwk_thumbprint
from personae.crypto.pseudonyms import (
    is_persona_id,
    lookup_hash,
    open_escrow,
    persona_id,
    seal_escrow,
)
from personae.crypto.vault import Vault
from personae.errors import KeystoreError


def test_seal_opens_only_with_the_same_key_and_context() -> None:
    key = envelope.new_key()
    sealed = envelope.seal(key, b"1991-04-12", b"person:1/birth_date")
    assert b"1991" not in sealed
    assert envelope.open_sealed(key, sealed, b"person:1/birth_date") == b"1991-04-12"
    with pytest.raises(KeystoreError):
        envelope.open_sealed(key, sealed, b"person:2/birth_date")
    with pytest.raises(KeystoreError):
        envelope.open_sealed(envelope.new_key(), sealed, b"person:1/birth_date")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KeystoreError):
        envelope.open_sealed(key, tampered, b"person:1/birth_date")
    with pytest.raises(KeystoreError):
        envelope.open_sealed(key, b"\x02" + sealed[1:], b"person:1/birth_date")
    assert envelope.seal(key, b"x", b"") != envelope.seal(key, b"x", b"")  # fresh nonces


def test_keystore_files_are_private_and_survive_reopening(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    key = store.create_data_key("person:1")
    pseudonym = store.secret("pseudonym")
    signing = store.signing_key("pass", "ES256")
    files = sorted((tmp_path / "keys").iterdir())
    assert {p.name for p in files} >= {"master.json", "keystore.db", "keystore.db-wal"}
    for path in files:  # SQLite's WAL and shared-memory files too: they hold wrapped keys
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    store.close()
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700

    again = FileKeyStore(tmp_path / "keys")
    assert again.data_key("person:1") == key
    assert again.secret("pseudonym") == pseudonym
    assert again.signing_key("pass", "ES256").kid == signing.kid
    assert signing.kid == jwk_thumbprint(signing.public_key)
    assert again.secret("escrow") != again.secret("pseudonym") != again.secret("lookup")


def test_destroyed_data_keys_are_gone(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    vault = Vault(store)
    vault.new_key("person:1")
    sealed = vault.seal("person:1", {"legal_name": "Ada"})
    assert vault.open("person:1", sealed) == {"legal_name": "Ada"}
    assert vault.shred("person:1") is True
    assert vault.shred("person:1") is False
    with pytest.raises(KeystoreError):
        vault.open("person:1", sealed)


def test_a_destroyed_data_key_leaves_no_copy_in_the_keystore_files(tmp_path: Path) -> None:
    # secure_delete clears the database file only: the write-ahead log kept the wrapped
    # key, which the master key then opened (found in review).
    store = FileKeyStore(tmp_path)
    store.create_data_key("person:victim")
    store.create_data_key("person:bystander")
    with store._lock:
        (wrapped,) = store._db.execute(
            "SELECT wrapped FROM data_keys WHERE owner = 'person:victim'"
        ).fetchone()
    assert any(wrapped in path.read_bytes() for path in tmp_path.glob("keystore.db*"))
    assert store.destroy_data_key("person:victim")
    for path in tmp_path.glob("keystore.db*"):
        assert wrapped not in path.read_bytes(), path.name
    assert store.data_key("person:bystander")
    assert not store.destroy_data_key("person:victim")
    store.close()


def test_master_rotation_rewraps_everything_and_old_blobs_still_open(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    vault = Vault(store)
    for i in range(5):
        vault.new_key(f"person:{i}")
    sealed = vault.seal("person:3", {"x": 1})
    escrow = store.secret("escrow")
    signing = store.signing_key("log", "EdDSA")
    rotation = store.rotate_master()
    assert rotation.data_keys_rewrapped == 5
    assert rotation.secrets_rewrapped >= 4
    assert store.current_master_kid() == rotation.new_master_kid
    store.close()
    reopened = FileKeyStore(tmp_path / "keys")
    assert Vault(reopened).open("person:3", sealed) == {"x": 1}
    assert reopened.secret("escrow") == escrow
    assert reopened.signing_key("log", "EdDSA").kid == signing.kid
    rows = reopened._db.execute("SELECT DISTINCT master_kid FROM data_keys").fetchall()
    assert rows == [(rotation.new_master_kid,)]


def test_signing_key_rotation_keeps_old_keys_for_verification(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    first = store.signing_key("pass", "ES256")
    second = store.rotate_signing_key("pass", "ES256")
    assert store.signing_key("pass", "ES256").kid == second.kid
    assert [k.kid for k in store.verification_keys("pass")] == [second.kid, first.kid]


def test_a_corrupt_master_file_is_a_clear_error(tmp_path: Path) -> None:
    FileKeyStore(tmp_path / "keys").close()
    (tmp_path / "keys" / "master.json").write_text("{not json")
    with pytest.raises(KeystoreError, match="master key file"):
        FileKeyStore(tmp_path / "keys")


def test_persona_ids_are_keyed_deterministic_and_per_world() -> None:
    key = b"k" * 32
    a = persona_id(key, "w_1", "p_1")
    assert a == persona_id(key, "w_1", "p_1")
    assert a != persona_id(key, "w_2", "p_1")
    assert a != persona_id(key, "w_1", "p_2")
    assert a != persona_id(b"j" * 32, "w_1", "p_1")
    # framing: moving a character between the two parts gives another id
    assert persona_id(key, "w_1p", "_1") != persona_id(key, "w_1", "p_1")
    assert is_persona_id(a) and len(a) == 32
    assert not is_persona_id(a.upper()) and not is_persona_id(a[:-1])


def test_escrow_opens_only_for_its_persona_and_world() -> None:
    key = b"e" * 32
    sealed = seal_escrow(key, "persona1", "w_1", "person-42")
    assert b"person-42" not in sealed
    assert open_escrow(key, "persona1", "w_1", sealed) == "person-42"
    with pytest.raises(KeystoreError):
        open_escrow(key, "persona2", "w_1", sealed)
    with pytest.raises(KeystoreError):
        open_escrow(key, "persona1", "w_2", sealed)


def test_lookup_hashes_are_keyed_and_typed() -> None:
    assert lookup_hash(b"a" * 32, "handle", "alice") != lookup_hash(b"b" * 32, "handle", "alice")
    assert lookup_hash(b"a" * 32, "handle", "alice") != lookup_hash(b"a" * 32, "evidence", "alice")
