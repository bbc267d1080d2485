"""C2SP signed notes and checkpoints: the Go reference vectors, layout, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import json
import string
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from personae.translog.checkpoint import (
    MAX_NOTE_BYTES,
    MAX_NOTE_LINES,
    MAX_TREE_SIZE,
    Checkpoint,
    CheckpointError,
    VerifierKey,
    key_id,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "c2sp_signed_note.json").read_text("utf-8")
)
EM_DASH = "\u2014"
ORIGIN = "personae.example/log"
ROOT = hashlib.sha256(b"some root").digest()


def signer_from_vector(text: str) -> tuple[str, Ed25519PrivateKey]:
    """Decode Go's PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed) test key."""
    private, key, name, _, encoded = text.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01
    return name, Ed25519PrivateKey.from_private_bytes(raw[1:])


PETER_NAME, PETER = signer_from_vector(VECTORS["signer_key"])
ENOCH = parse_verifier_key(VECTORS["other_verifier_key"])
TEXT: str = VECTORS["text"]
SIGNED: str = VECTORS["signed_note"]
ENOCH_LINE: str = VECTORS["other_signature_line"]


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def signed(key: Ed25519PrivateKey, size: int = 42, root: bytes = ROOT) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, root), ORIGIN, key)


# --- the reference vectors of golang.org/x/mod/sumdb/note


def test_verifier_key_matches_the_reference() -> None:
    assert verifier_key(PETER_NAME, PETER.public_key()) == VECTORS["verifier_key"]
    parsed = parse_verifier_key(VECTORS["verifier_key"])
    assert parsed.name == PETER_NAME
    assert parsed.public_key == PETER.public_key()
    assert parsed.key_id.hex() == "c74f20a3"
    assert parsed.encode() == VECTORS["verifier_key"]


def test_signing_matches_the_reference_byte_for_byte() -> None:
    assert sign_note(TEXT, PETER_NAME, PETER) == SIGNED


def test_opening_the_reference_note_ignores_other_keys() -> None:
    assert open_note(SIGNED + ENOCH_LINE, PETER_NAME, PETER.public_key()) == TEXT
    assert open_note(SIGNED + ENOCH_LINE, ENOCH.name, ENOCH.public_key) == TEXT
    with pytest.raises(CheckpointError, match="no signature by key 'EnochRoot'"):
        open_note(SIGNED, ENOCH.name, ENOCH.public_key)


def test_duplicate_signatures_by_the_key_are_accepted_if_all_verify() -> None:
    line = SIGNED[len(TEXT) + 1 :]
    assert open_note(SIGNED + line + ENOCH_LINE + line, PETER_NAME, PETER.public_key()) == TEXT
    forged = line[:60] + "ABCD" + line[60:]
    with pytest.raises(CheckpointError, match="invalid signature by key 'PeterNeumann'"):
        open_note(SIGNED + forged, PETER_NAME, PETER.public_key())


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        SIGNED[:-1],
        "\x01" + SIGNED,
        "\udcff" + SIGNED,
        SIGNED.replace("PeterNeumann", "Bad Name"),
        SIGNED + "Unexpected line.\n",
        SIGNED.replace(EM_DASH, "-"),
        SIGNED.replace(f"{EM_DASH} ", EM_DASH),
        SIGNED.replace("AM=\n", "AM\n"),
        SIGNED.replace("\n\n", "\r\n\n"),
        SIGNED + f"{EM_DASH} PeterNeumann AAAA\n",
        SIGNED.replace("PeterNeumann", "Peter+Neumann"),
    ],
    ids=[
        "no signatures",
        "blank line only",
        "no final newline",
        "control character",
        "not UTF-8",
        "name with space",
        "text after signatures",
        "hyphen for em dash",
        "no space after em dash",
        "unpadded base64",
        "carriage return",
        "signature shorter than key ID",
        "plus in key name",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(CheckpointError):
        open_note(note, PETER_NAME, PETER.public_key())


def test_every_mangled_verifier_key_is_refused() -> None:
    # As golang.org/x/mod's TestNewVerifier: every proper substring, every changed character.
    good = VECTORS["verifier_key"]
    for start in range(len(good)):
        for end in range(start + 1, len(good) + 1):
            if (start, end) != (0, len(good)):
                with pytest.raises(CheckpointError):
                    parse_verifier_key(good[start:end])
    for i in range(len(good)):
        with pytest.raises(CheckpointError):
            parse_verifier_key(good[:i] + chr(ord(good[i]) + 1) + good[i + 1 :])
    for bad in VECTORS["bad_verifier_keys"]:
        with pytest.raises(CheckpointError):
            parse_verifier_key(bad)


# --- checkpoints


def test_checkpoint_body_matches_the_tlog_checkpoint_example() -> None:
    example = VECTORS["checkpoint_body"]
    origin, size, root_b64, _ = example.split("\n")
    checkpoint = Checkpoint(origin, int(size), base64.b64decode(root_b64))
    assert checkpoint.body() == example


def test_checkpoint_round_trip(log_key: Ed25519PrivateKey) -> None:
    for checkpoint in [
        Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest()),
        Checkpoint(ORIGIN, 42, ROOT),
        Checkpoint(ORIGIN, MAX_TREE_SIZE, ROOT, ("extension one", "two")),
    ]:
        note = sign_checkpoint(checkpoint, ORIGIN, log_key)
        assert parse_checkpoint(note, ORIGIN, log_key.public_key()) == checkpoint
        assert parse_checkpoint(note, ORIGIN, log_key.public_key(), origin=ORIGIN) == checkpoint


def test_checkpoint_note_layout(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key, size=1234)
    body = f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\n"
    assert note.startswith(body + "\n" + EM_DASH + " " + ORIGIN + " ")
    assert note.endswith("\n")
    assert note.count("\n") == 5
    blob = base64.b64decode(note.split("\n")[4].split(" ")[2], validate=True)
    assert len(blob) == 4 + 64
    public = log_key.public_key().public_bytes_raw()
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert blob[:4] == expected_id == key_id(ORIGIN, log_key.public_key())
    log_key.public_key().verify(blob[4:], body.encode())
    encoded_key = base64.b64encode(b"\x01" + public).decode()
    assert (
        verifier_key(ORIGIN, log_key.public_key()) == f"{ORIGIN}+{expected_id.hex()}+{encoded_key}"
    )


def _resign_body(note: str, body: str) -> str:
    """The note's signature block under another body: what a tamperer can produce."""
    return body + note[note.rindex("\n\n") + 1 :]


def test_tampered_size_is_refused(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key, size=42)
    tampered = _resign_body(note, note.split("\n\n")[0].replace("\n42\n", "\n43\n") + "\n")
    with pytest.raises(CheckpointError, match="invalid signature"):
        parse_checkpoint(tampered, ORIGIN, log_key.public_key())


def test_tampered_root_is_refused(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key)
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    tampered = note.replace(base64.b64encode(ROOT).decode(), other)
    with pytest.raises(CheckpointError, match="invalid signature"):
        parse_checkpoint(tampered, ORIGIN, log_key.public_key())


def test_tampered_signature_is_refused(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key)
    prefix, encoded = note[:-1].rsplit(" ", 1)
    blob = bytearray(base64.b64decode(encoded))
    for position in (4, 40, 67):  # signature bytes, after the key ID
        blob[position] ^= 1
        tampered = f"{prefix} {base64.b64encode(bytes(blob)).decode()}\n"
        with pytest.raises(CheckpointError, match="invalid signature"):
            parse_checkpoint(tampered, ORIGIN, log_key.public_key())
        blob[position] ^= 1


def test_other_key_name_or_key_finds_no_signature(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key)
    renamed = note.replace(f"{EM_DASH} {ORIGIN} ", f"{EM_DASH} evil.example/log ")
    with pytest.raises(CheckpointError, match="no signature by key"):
        parse_checkpoint(renamed, ORIGIN, log_key.public_key())
    with pytest.raises(CheckpointError, match="no signature by key"):
        parse_checkpoint(note, "evil.example/log", log_key.public_key())
    with pytest.raises(CheckpointError, match="no signature by key"):
        parse_checkpoint(note, ORIGIN, Ed25519PrivateKey.generate().public_key())


def test_checkpoint_from_another_log_is_refused(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key)
    with pytest.raises(CheckpointError, match=r"not 'other\.example/log'"):
        parse_checkpoint(note, ORIGIN, log_key.public_key(), origin="other.example/log")


ROOT_B64 = base64.b64encode(ROOT).decode()
_B64_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
# Same 32 bytes, but a nonzero unused low bit in the last character.
NON_CANONICAL_ROOT = ROOT_B64[:-2] + _B64_ALPHABET[_B64_ALPHABET.index(ROOT_B64[-2]) | 1] + "="


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n42\n", "origin, a size and a root"),
        (f"\n42\n{ROOT_B64}\n", "origin is non-empty"),
        (f"{ORIGIN}\n042\n{ROOT_B64}\n", "decimal"),
        (f"{ORIGIN}\n+42\n{ROOT_B64}\n", "decimal"),
        (f"{ORIGIN}\n 42\n{ROOT_B64}\n", "decimal"),
        (f"{ORIGIN}\n4e2\n{ROOT_B64}\n", "decimal"),
        (f"{ORIGIN}\n\u0664\u0662\n{ROOT_B64}\n", "decimal"),
        (f"{ORIGIN}\n\n{ROOT_B64}\n", "decimal"),
        (f"{ORIGIN}\n{MAX_TREE_SIZE + 1}\n{ROOT_B64}\n", "at most"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT + b'x').decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n42\n{ROOT_B64.rstrip('=')}\n", "not valid base64"),
        (f"{ORIGIN}\n42\n{ROOT.hex()}\n", "32 bytes|base64"),
        (f"{ORIGIN}\n42\n{NON_CANONICAL_ROOT}\n", "canonical"),
        (f"{ORIGIN}\n42\n{ROOT_B64}\n\nextension after a blank line\n", "extension"),
    ],
)
def test_signed_but_malformed_checkpoints_are_refused(
    log_key: Ed25519PrivateKey, body: str, message: str
) -> None:
    note = sign_note(body, ORIGIN, log_key)
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint(note, ORIGIN, log_key.public_key())


def test_oversized_notes_are_refused(log_key: Ed25519PrivateKey) -> None:
    big = Checkpoint(ORIGIN, 1, ROOT, ("x" * MAX_NOTE_BYTES,))
    with pytest.raises(CheckpointError, match=f"at most {MAX_NOTE_BYTES} bytes"):
        sign_checkpoint(big, ORIGIN, log_key)
    note = signed(log_key)
    padded = note + note[note.rindex("\n\n") + 2 :] * (MAX_NOTE_BYTES // 100)
    with pytest.raises(CheckpointError, match=f"at most {MAX_NOTE_BYTES} bytes"):
        parse_checkpoint(padded, ORIGIN, log_key.public_key())
    many = Checkpoint(ORIGIN, 1, ROOT, tuple("e" for _ in range(MAX_NOTE_LINES)))
    with pytest.raises(CheckpointError, match=f"at most {MAX_NOTE_LINES} lines"):
        sign_checkpoint(many, ORIGIN, log_key)
    with pytest.raises(CheckpointError, match=f"at most {MAX_NOTE_LINES} lines"):
        parse_checkpoint(note + "\n" * MAX_NOTE_LINES, ORIGIN, log_key.public_key())


def test_sixteen_cosignatures_fit(log_key: Ed25519PrivateKey) -> None:
    note = signed(log_key)
    others = "".join(
        sign_note(
            Checkpoint(ORIGIN, 42, ROOT).body(), f"witness{i}.example", Ed25519PrivateKey.generate()
        ).split("\n\n")[1]
        for i in range(16)
    )
    assert parse_checkpoint(note + others, ORIGIN, log_key.public_key()).size == 42


@pytest.mark.parametrize(
    "make",
    [
        lambda: Checkpoint("", 1, ROOT),
        lambda: Checkpoint("two\nlines", 1, ROOT),
        lambda: Checkpoint(ORIGIN, -1, ROOT),
        lambda: Checkpoint(ORIGIN, MAX_TREE_SIZE + 1, ROOT),
        lambda: Checkpoint(ORIGIN, True, ROOT),
        lambda: Checkpoint(ORIGIN, 1, ROOT[:31]),
        lambda: Checkpoint(ORIGIN, 1, ROOT, ("",)),
        lambda: Checkpoint(ORIGIN, 1, ROOT, ("a\nb",)),
        lambda: VerifierKey("", Ed25519PrivateKey.generate().public_key()),
        lambda: VerifierKey("a b", Ed25519PrivateKey.generate().public_key()),
        lambda: VerifierKey("a+b", Ed25519PrivateKey.generate().public_key()),
        lambda: VerifierKey("a\u00a0b", Ed25519PrivateKey.generate().public_key()),
    ],
)
def test_invalid_values_cannot_be_built(make: Any) -> None:
    with pytest.raises(CheckpointError):
        make()


def test_sign_note_refuses_text_it_could_not_open(log_key: Ed25519PrivateKey) -> None:
    with pytest.raises(CheckpointError, match="ends with a newline"):
        sign_note("no newline", ORIGIN, log_key)
    with pytest.raises(CheckpointError, match="control character"):
        sign_note("tab\there\n", ORIGIN, log_key)
    with pytest.raises(CheckpointError, match="key name"):
        sign_note("fine\n", "bad name", log_key)


def test_verifier_keys_whose_base64_holds_a_plus_parse() -> None:
    """Standard base64 may contain "+", the field separator: only the first two split."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from personae.translog.checkpoint import parse_verifier_key, verifier_key

    seen_plus = 0
    for _ in range(64):
        public = Ed25519PrivateKey.generate().public_key()
        text = verifier_key("example.org/log", public)
        if "+" in text.split("+", 2)[2]:
            seen_plus += 1
        parsed = parse_verifier_key(text)
        assert parsed.public_key.public_bytes_raw() == public.public_bytes_raw()
    assert seen_plus > 0  # 64 random keys: about half carry a "+" in their base64
