"""Signed tree heads: C2SP signed notes and tlog checkpoints, signed with Ed25519.

Formats: c2sp.org/signed-note (Ed25519, signature type 0x01) and
c2sp.org/tlog-checkpoint. A checkpoint note reads::

    <origin>
    <tree size, decimal>
    <base64 root hash>
    [extension lines]

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>

where the signature covers the note text up to and including its last newline,
and key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4].
Verifier keys are written ``<name>+<hex key ID>+<base64(0x01 || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from personae.translog.merkle import HASH_SIZE

MAX_NOTE_BYTES = 16 * 1024
"""Largest note accepted or produced, in UTF-8 bytes."""
MAX_NOTE_LINES = 64
"""Most lines a note may have (text, blank line, signatures); the spec wants >= 16 signatures."""
MAX_TREE_SIZE = 2**64 - 1

ED25519 = 0x01
_KEY_ID_SIZE = 4
_SIGNATURE_SIZE = 64
_SIG_PREFIX = "\u2014 "  # em dash, space
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class CheckpointError(ValueError):
    """A note, checkpoint or verifier key that is malformed or does not verify."""


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte C2SP key ID of an Ed25519 note key."""
    _check_key_name(name)
    material = name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key.public_bytes_raw()
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


@dataclass(frozen=True)
class VerifierKey:
    """A note verifier: a key name and the Ed25519 public key that signs under it."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @property
    def key_id(self) -> bytes:
        """The key's 4-byte ID, as it prefixes every signature it makes."""
        return key_id(self.name, self.public_key)

    def encode(self) -> str:
        """The ``<name>+<hex key ID>+<base64(0x01 || public key)>`` text form."""
        raw = bytes([ED25519]) + self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(raw)}"


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key text that lets anyone check notes signed by ``public_key`` as ``name``."""
    return VerifierKey(name, public_key).encode()


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse and check a ``<name>+<hex key ID>+<base64(0x01 || public key)>`` verifier key."""
    # Key names hold no "+", but standard base64 may: only the first two split.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("a verifier key is <name>+<hex key ID>+<base64 key>")
    name, id_hex, key_b64 = parts
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise CheckpointError("a verifier key ID is 8 lowercase hex digits")
    raw = _b64decode(key_b64, "verifier key")
    if len(raw) != 1 + 32:
        raise CheckpointError("an Ed25519 verifier key is 33 bytes (type and public key)")
    if raw[0] != ED25519:
        raise CheckpointError(f"unsupported verifier key type 0x{raw[0]:02x}")
    key = VerifierKey(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    if key.key_id.hex() != id_hex:
        raise CheckpointError("the verifier key ID does not match its name and key")
    return key


# --- signed notes


def sign_note(text: str, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign note ``text`` (which ends in a newline) as ``key_name``; return the signed note."""
    _check_text(text)
    public_key = private_key.public_key()
    signature = private_key.sign(text.encode("utf-8"))
    blob = key_id(key_name, public_key) + signature
    note = f"{text}\n{_SIG_PREFIX}{key_name} {_b64encode(blob)}\n"
    _check_limits(note)
    return note


def cosign_note(note: str, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """``note`` with one more signature line, by ``private_key`` as ``key_name``, at its end.

    The text and the signatures already there are unchanged (a note may carry
    several signatures; a verifier ignores those by keys it does not know).
    """
    if not isinstance(note, str):
        raise CheckpointError("a note is text")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("a note needs a blank line before its signatures")
    text = note[: split + 1]
    _check_text(text)
    signature = private_key.sign(text.encode("utf-8"))
    blob = key_id(key_name, private_key.public_key()) + signature
    cosigned = f"{note}{_SIG_PREFIX}{key_name} {_b64encode(blob)}\n"
    _check_limits(cosigned)
    return cosigned


def open_note(note: str, key_name: str, public_key: Ed25519PublicKey) -> str:
    """Verify a signed note against one key; return its text (ending in a newline).

    Signatures by other keys (another name or key ID) are ignored, as the spec
    requires; every signature by this key must verify, and there must be one.
    """
    if not isinstance(note, str):
        raise CheckpointError("a note is text")
    _check_limits(note)
    _check_characters(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("a note needs a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("a note ends with a newline after its last signature")
    expected_id = key_id(key_name, public_key)
    message = text.encode("utf-8")
    verified = 0
    for line in block[:-1].split("\n"):
        name, blob = _parse_signature_line(line)
        if name != key_name or blob[:_KEY_ID_SIZE] != expected_id:
            continue
        signature = blob[_KEY_ID_SIZE:]
        try:
            if len(signature) != _SIGNATURE_SIZE:
                raise InvalidSignature
            public_key.verify(signature, message)
        except InvalidSignature:
            raise CheckpointError(f"invalid signature by key {key_name!r}") from None
        verified += 1
    if not verified:
        raise CheckpointError(f"the note has no signature by key {key_name!r}")
    return text


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise CheckpointError("a signature line starts with an em dash and a space")
    fields = line[len(_SIG_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise CheckpointError("a signature line is '— <key name> <base64 signature>'")
    name, encoded = fields
    _check_key_name(name)
    blob = _b64decode(encoded, "signature")
    if len(blob) <= _KEY_ID_SIZE:
        raise CheckpointError("a signature is a key ID followed by the signature bytes")
    return name, blob


# --- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its RFC 9162 root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise CheckpointError("a checkpoint origin is non-empty text")
        _check_characters(self.origin, "checkpoint origin", newline=False)
        size = self.size
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_TREE_SIZE:
            raise CheckpointError(f"a checkpoint size is an integer in [0, {MAX_TREE_SIZE}]")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"a checkpoint root hash is {HASH_SIZE} bytes")
        for line in self.extensions:
            if not isinstance(line, str) or not line:
                raise CheckpointError("checkpoint extension lines are non-empty text")
            _check_characters(line, "checkpoint extension line", newline=False)

    def body(self) -> str:
        """The note text: origin, size and base64 root, one per line, then any extensions."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def sign_checkpoint(checkpoint: Checkpoint, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a note signed by ``private_key`` under ``key_name``."""
    return sign_note(checkpoint.body(), key_name, private_key)


def parse_checkpoint(
    note_text: str,
    key_name: str,
    public_key: Ed25519PublicKey,
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a checkpoint note against one key and parse it.

    With ``origin``, the checkpoint must also come from that log.
    """
    lines = open_note(note_text, key_name, public_key)[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a size and a root hash line")
    first, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text):
        raise CheckpointError("a checkpoint size is a decimal number without leading zeros")
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise CheckpointError(f"a checkpoint size is at most {MAX_TREE_SIZE}")
    root_hash = _b64decode(root_text, "root hash")
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError(f"a checkpoint root hash is {HASH_SIZE} bytes")
    checkpoint = Checkpoint(first, size, root_hash, tuple(extensions))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"the checkpoint is for log {first!r}, not {origin!r}")
    return checkpoint


# --- helpers


def _check_key_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise CheckpointError("a key name is non-empty text")
    if "+" in name or any(c.isspace() or c < " " for c in name):
        raise CheckpointError("a key name has no spaces, plus signs or control characters")


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("a note text ends with a newline")
    _check_characters(text, "note text")


def _check_characters(text: str, what: str, *, newline: bool = True) -> None:
    if any(c < " " and not (newline and c == "\n") for c in text):
        raise CheckpointError(f"the {what} has a control character")


def _check_limits(note: str) -> None:
    try:
        size = len(note.encode("utf-8"))
    except UnicodeEncodeError:
        raise CheckpointError("a note is valid UTF-8") from None
    if size > MAX_NOTE_BYTES:
        raise CheckpointError(f"a note is at most {MAX_NOTE_BYTES} bytes")
    if note.count("\n") > MAX_NOTE_LINES:
        raise CheckpointError(f"a note has at most {MAX_NOTE_LINES} lines")


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: padding required, no whitespace, canonical trailing bits."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise CheckpointError(f"the {what} is not valid base64") from None
    if _b64encode(data) != text:
        raise CheckpointError(f"the {what} is not canonical base64")
    return data
