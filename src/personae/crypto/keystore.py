"""The KeyStore protocol and its file-backed implementation: master, data, secret and signing keys.

Layout under ``<data_dir>/keys`` (directory 0700, files 0600):

* ``master.json`` — the master keys by key id, and which one is current. Only this
  file can unwrap anything else.
* ``keystore.db`` — an SQLite file kept apart from the main database, so a copy of
  the main database (a backup, a dump) never carries the keys that open it. It
  holds the per-owner data keys and the service secrets, each wrapped by a master
  key under AES-256-GCM with its owner or purpose as associated data.

Destroying an owner's data key (crypto-shredding) deletes its row with SQLite's
``secure_delete`` on, so the wrapped key does not survive in free pages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from personae.crypto import envelope
from personae.crypto.jose import PrivateKey, PublicKey, b64url_encode, public_jwk
from personae.errors import KeystoreError

#: How long a process signs with the active key it read before it looks again.
SIGNING_KEY_RECHECK_SECONDS = 60.0

SecretPurpose = Literal["pseudonym", "escrow", "lookup"]
SigningAlg = Literal["ES256", "EdDSA"]
SECRET_PURPOSES: tuple[SecretPurpose, ...] = ("pseudonym", "escrow", "lookup")


@dataclass(frozen=True)
class SigningKey:
    """A private signing key with its key id (the RFC 7638 JWK thumbprint)."""

    kid: str
    purpose: str
    private_key: PrivateKey

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class Rotation:
    """What a master key rotation did."""

    old_master_kid: str
    new_master_kid: str
    data_keys_rewrapped: int
    secrets_rewrapped: int


class KeyStore(Protocol):
    """Every key personae uses. A KMS or HSM can implement the same protocol."""

    def create_data_key(self, owner: str) -> bytes: ...
    def data_key(self, owner: str) -> bytes: ...
    def destroy_data_key(self, owner: str) -> bool: ...
    def secret(self, purpose: SecretPurpose) -> bytes: ...
    def signing_key(self, purpose: str, alg: SigningAlg) -> SigningKey: ...
    def verification_keys(self, purpose: str) -> list[SigningKey]: ...
    def rotate_signing_key(
        self, purpose: str, alg: SigningAlg, *, before_use: Callable[[str], None] | None = None
    ) -> SigningKey: ...
    def rotate_master(self) -> Rotation: ...
    def current_master_kid(self) -> str: ...


def jwk_thumbprint(key: PublicKey) -> str:
    """RFC 7638 thumbprint of a public key, base64url."""
    jwk = public_jwk(key)
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def _now() -> str:
    # Key bookkeeping only (not domain time): when a key was made.
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600 from the first byte."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    owner TEXT PRIMARY KEY, master_kid TEXT NOT NULL, wrapped BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    kid TEXT PRIMARY KEY, purpose TEXT NOT NULL, kind TEXT NOT NULL,
    master_kid TEXT NOT NULL, wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL, active INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS secrets_by_purpose ON secrets (purpose, active);
"""


class FileKeyStore:
    """The default KeyStore: a master key file and a separate SQLite key database."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self._dir, 0o700)
        self._master_path = self._dir / "master.json"
        self._lock = threading.RLock()
        self._masters: dict[str, bytes] = {}
        self._current = ""
        self._load_or_create_master()
        db_path = self._dir / "keystore.db"
        if not db_path.exists():
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._secret_cache: dict[str, bytes] = {}
        self._signing_cache: dict[str, SigningKey] = {}
        self._signing_checked: dict[str, float] = {}
        for purpose in SECRET_PURPOSES:
            self.secret(purpose)

    # -- master keys ---------------------------------------------------------

    def _load_or_create_master(self) -> None:
        if not self._master_path.exists():
            kid = "mk-" + os.urandom(6).hex()
            self._masters = {kid: envelope.new_key()}
            self._current = kid
            self._save_master()
            return
        self._read_master()

    def _read_master(self) -> None:
        try:
            doc = json.loads(self._master_path.read_text("utf-8"))
            self._masters = {k: base64.b64decode(v) for k, v in doc["keys"].items()}
            self._current = doc["current"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeystoreError(f"cannot read master key file {self._master_path}") from exc
        if self._current not in self._masters:
            raise KeystoreError("master key file names a current key it does not hold")

    def _save_master(self) -> None:
        doc = {
            "current": self._current,
            "keys": {k: base64.b64encode(v).decode("ascii") for k, v in self._masters.items()},
        }
        _write_private(self._master_path, json.dumps(doc, indent=1).encode("utf-8"))

    def _master(self, kid: str) -> bytes:
        if kid not in self._masters:
            self._read_master()  # another process may have rotated
        try:
            return self._masters[kid]
        except KeyError:
            raise KeystoreError(f"master key {kid} is not in the keystore") from None

    def current_master_kid(self) -> str:
        return self._current

    # -- data keys -----------------------------------------------------------

    @staticmethod
    def _data_aad(owner: str) -> bytes:
        return b"personae/data-key/" + owner.encode("utf-8")

    def create_data_key(self, owner: str) -> bytes:
        key = envelope.new_key()
        wrapped = envelope.seal(self._master(self._current), key, self._data_aad(owner))
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO data_keys (owner, master_kid, wrapped) VALUES (?, ?, ?)",
                    (owner, self._current, wrapped),
                )
            except sqlite3.IntegrityError:
                return self.data_key(owner)
        return key

    def create_data_keys(self, owners: list[str]) -> list[bytes]:
        """Many new data keys in one keystore transaction (bulk loading, migrations)."""
        master = self._master(self._current)
        keys = [envelope.new_key() for _ in owners]
        rows = [
            (owner, self._current, envelope.seal(master, key, self._data_aad(owner)))
            for owner, key in zip(owners, keys, strict=True)
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO data_keys (owner, master_kid, wrapped) VALUES (?, ?, ?)", rows
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return keys

    def data_key(self, owner: str) -> bytes:
        with self._lock:
            row = self._db.execute(
                "SELECT master_kid, wrapped FROM data_keys WHERE owner = ?", (owner,)
            ).fetchone()
        if row is None:
            raise KeystoreError("no data key for this owner (never made, or destroyed)")
        return envelope.open_sealed(self._master(row[0]), row[1], self._data_aad(owner))

    def has_data_key(self, owner: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM data_keys WHERE owner = ?", (owner,)).fetchone()
        return row is not None

    def destroy_data_key(self, owner: str) -> bool:
        """Delete the owner's data key for good (crypto-shredding); False if there was none.

        ``secure_delete`` overwrites the row in the database file, but the write-ahead
        log still holds the pages that carried the wrapped key (from its creation, and
        from any later write to its page) until the log is reset: so it is checkpointed
        and truncated here, on every call (a call for a key already gone finishes what
        an interrupted one left). Raises KeystoreError if the log cannot be emptied now
        (another process kept writing for the whole busy timeout): then call again.
        """
        with self._lock:
            cur = self._db.execute("DELETE FROM data_keys WHERE owner = ?", (owner,))
            busy, _log_frames, _copied = self._db.execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
        if busy:
            raise KeystoreError("the keystore's log could not be emptied now; destroy again")
        return cur.rowcount > 0

    # -- secrets and signing keys -------------------------------------------

    @staticmethod
    def _secret_aad(kid: str, purpose: str) -> bytes:
        return f"personae/secret/{purpose}/{kid}".encode()

    def _store_secret(self, kid: str, purpose: str, kind: str, material: bytes) -> None:
        wrapped = envelope.seal(
            self._master(self._current), material, self._secret_aad(kid, purpose)
        )
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE secrets SET active = 0 WHERE purpose = ?", (purpose,))
                self._db.execute(
                    "INSERT INTO secrets (kid, purpose, kind, master_kid, wrapped,"
                    " created_at, active) VALUES (?, ?, ?, ?, ?, ?, 1)",
                    (kid, purpose, kind, self._current, wrapped, _now()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _secret_rows(self, purpose: str, active_only: bool) -> list[tuple[str, str, str, bytes]]:
        sql = "SELECT kid, kind, master_kid, wrapped FROM secrets WHERE purpose = ?"
        if active_only:
            sql += " AND active = 1"
        with self._lock:
            return list(self._db.execute(sql + " ORDER BY created_at DESC, rowid DESC", (purpose,)))

    def _open_secret(self, purpose: str, kid: str, master_kid: str, wrapped: bytes) -> bytes:
        return envelope.open_sealed(
            self._master(master_kid), wrapped, self._secret_aad(kid, purpose)
        )

    def secret(self, purpose: SecretPurpose) -> bytes:
        """A 256-bit service secret (pseudonym, escrow, lookup); made on first use."""
        if purpose in self._secret_cache:
            return self._secret_cache[purpose]
        rows = self._secret_rows(purpose, active_only=True)
        if not rows:
            self._store_secret(
                f"{purpose}-{os.urandom(6).hex()}", purpose, "aes256", envelope.new_key()
            )
            rows = self._secret_rows(purpose, active_only=True)
        kid, _kind, master_kid, wrapped = rows[0]
        value = self._open_secret(purpose, kid, master_kid, wrapped)
        self._secret_cache[purpose] = value
        return value

    def _load_signing(self, purpose: str, row: tuple[str, str, str, bytes]) -> SigningKey:
        kid, _kind, master_kid, wrapped = row
        der = self._open_secret(purpose, kid, master_kid, wrapped)
        private = serialization.load_der_private_key(der, password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
            raise KeystoreError("signing key of an unsupported type")
        return SigningKey(kid=kid, purpose=purpose, private_key=private)

    def rotate_signing_key(
        self, purpose: str, alg: SigningAlg, *, before_use: Callable[[str], None] | None = None
    ) -> SigningKey:
        """A new active signing key for ``purpose``; older ones stay for verification.

        ``before_use`` is called with the new key's id before the key is stored, so
        that what must be known before any process can use the key (when it may start
        to sign) is recorded first.
        """
        private: PrivateKey = (
            ec.generate_private_key(ec.SECP256R1())
            if alg == "ES256"
            else ed25519.Ed25519PrivateKey.generate()
        )
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        kid = jwk_thumbprint(private.public_key())
        if before_use is not None:
            before_use(kid)
        self._store_secret(kid, purpose, alg, der)
        key = SigningKey(kid=kid, purpose=purpose, private_key=private)
        self._signing_cache[purpose] = key
        self._signing_checked[purpose] = time.monotonic() + SIGNING_KEY_RECHECK_SECONDS
        return key

    def signing_key(self, purpose: str, alg: SigningAlg) -> SigningKey:
        """The active signing key for ``purpose``, made on first use with ``alg``.

        Looked up again at most every ``SIGNING_KEY_RECHECK_SECONDS``, so a key
        rotated by another process (``personae keys rotate-pass``) signs from then on.
        """
        cached = self._signing_cache.get(purpose)
        if cached is not None and self._signing_checked.get(purpose, 0.0) > time.monotonic():
            return cached
        rows = self._secret_rows(purpose, active_only=True)
        if not rows:
            return self.rotate_signing_key(purpose, alg)
        key = cached if cached is not None and cached.kid == rows[0][0] else None
        if key is None:
            key = self._load_signing(purpose, rows[0])
        self._signing_cache[purpose] = key
        self._signing_checked[purpose] = time.monotonic() + SIGNING_KEY_RECHECK_SECONDS
        return key

    def verification_keys(self, purpose: str) -> list[SigningKey]:
        """Every key ever used for ``purpose`` (newest first), for checking old signatures."""
        return [self._load_signing(purpose, row) for row in self._secret_rows(purpose, False)]

    # -- rotation ------------------------------------------------------------

    def rotate_master(self) -> Rotation:
        """A new master key; every data key and secret is re-wrapped under it in one transaction.

        Values sealed under data keys are untouched: they keep opening, because the
        data keys themselves do not change. The old master key is kept (marked not
        current) so a restored older copy of keystore.db still opens.
        """
        with self._lock:
            old = self._current
            new = "mk-" + os.urandom(6).hex()
            self._masters[new] = envelope.new_key()
            self._save_master()  # the new key exists before anything depends on it
            self._db.execute("BEGIN IMMEDIATE")
            try:
                data_rows = list(
                    self._db.execute("SELECT owner, master_kid, wrapped FROM data_keys")
                )
                for owner, master_kid, wrapped in data_rows:
                    aad = self._data_aad(owner)
                    key = envelope.open_sealed(self._master(master_kid), wrapped, aad)
                    self._db.execute(
                        "UPDATE data_keys SET master_kid = ?, wrapped = ? WHERE owner = ?",
                        (new, envelope.seal(self._masters[new], key, aad), owner),
                    )
                secret_rows = list(
                    self._db.execute("SELECT kid, purpose, master_kid, wrapped FROM secrets")
                )
                for kid, purpose, master_kid, wrapped in secret_rows:
                    aad = self._secret_aad(kid, purpose)
                    material = envelope.open_sealed(self._master(master_kid), wrapped, aad)
                    self._db.execute(
                        "UPDATE secrets SET master_kid = ?, wrapped = ? WHERE kid = ?",
                        (new, envelope.seal(self._masters[new], material, aad), kid),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._current = new
            self._save_master()
        return Rotation(old, new, len(data_rows), len(secret_rows))

    def close(self) -> None:
        self._db.close()
