"""Log key rotation and `log verify --repin`: a new key is pinned only on the old key's word.

The verifier talks HTTP to the app in-process; a man in the middle is an httpx
transport that answers from a log of its own making, relaying the genuine server
where it wants (it can relay, never forge, what the old key signed).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from personae.bootstrap import Services
from personae.domain.events import Event, EventType
from personae.http.app import create_app
from personae.services.transparency_sequencer import ed25519
from personae.store.translog_repo import TranslogRepo
from personae.translog.checkpoint import (
    Checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verifier_key,
)
from personae.translog.client import ENTRIES_PAGE, LogClient
from personae.translog.leaves import encode_entry
from personae.translog.merkle import (
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    leaf_hash,
    root,
)
from personae.translog.verifier import (
    VerificationFailed,
    Verified,
    ed25519_thumbprint,
    parse_key,
    verify_log,
)

URL = "http://log.example"


def log(services: Services, count: int, start: int = 0) -> None:
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        for i in range(start, start + count):
            repo.append_event(Event(EventType.WORLD_REGISTERED, now, {"world_id": f"w_{i}"}))
    services.transparency.sequence_pending(batch_size=4)


def genuine(services: Services) -> TestClient:
    return TestClient(create_app(services), base_url=URL, raise_server_exceptions=False)


def verify(http: httpx.Client, state: Path, *, repin: bool = False) -> Verified:
    return verify_log(LogClient(http), state, URL, repin=repin)


def leaves_of(services: Services) -> list[bytes]:
    size = services.transparency.checkpoint().size
    with services.engine.connect() as conn:
        return [data for _, data in TranslogRepo(conn).entries(0, size)]


def stored_note(services: Services, size: int) -> str:
    found = services.transparency.checkpoint(min_size=size)
    assert found.size == size
    return found.note


def signs(note: str, key_text: str) -> bool:
    key = parse_key(key_text)
    try:
        parse_checkpoint(note, key.name, key.public_key)
    except ValueError:
        return False
    return True


# -- the server: rotation announced under the old key -------------------------------------


def test_the_rotation_is_checkpointed_under_the_old_key_before_the_new_key_is_stored(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    log(services, 3)
    old = services.transparency.public_key().verifier_key
    keystore = services.ctx.keystore
    store = keystore._store_secret  # type: ignore[attr-defined]
    seen: list[int] = []

    def storing(kid: str, purpose: str, kind: str, material: bytes) -> None:
        if purpose == "log":  # the moment the new key becomes usable
            head = services.transparency.checkpoint()
            entry = json.loads(services.transparency.entries(head.size - 1, head.size)[0][1])
            assert (entry["type"], entry["new_kid"]) == ("key.rotated", kid)
            assert signs(head.note, old)
            assert kid not in [k.kid for k in keystore.verification_keys("log")]
            seen.append(head.size)
        store(kid, purpose, kind, material)

    monkeypatch.setattr(keystore, "_store_secret", storing)
    rotation = services.transparency.rotate_log_key()
    assert seen == [4] and rotation.size == 4
    note = stored_note(services, 4)  # the old key's, countersigned by the new one
    assert signs(note, old) and signs(note, rotation.verifier_key)


def test_a_failure_before_the_key_is_stored_leaves_no_unlogged_key(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    log(services, 3)
    keystore = services.ctx.keystore
    kids = [k.kid for k in keystore.verification_keys("log")]

    def crash(*args: object) -> None:
        raise RuntimeError("killed before the key was stored")

    monkeypatch.setattr(keystore, "_store_secret", crash)
    with pytest.raises(RuntimeError, match="killed"):
        services.transparency.rotate_log_key()
    monkeypatch.undo()
    assert [k.kid for k in keystore.verification_keys("log")] == kids
    # Logged (a key that never signs, harmless), under the old key; the log goes on.
    entry = json.loads(services.transparency.entries(3, 4)[0][1])
    assert entry["type"] == "key.rotated" and entry["new_kid"] not in kids
    log(services, 1, start=3)
    assert services.transparency.self_check().size == 5

    def refuse(**kwargs: object) -> None:
        raise RuntimeError("the log could not be written")

    monkeypatch.setattr(services.transparency.sequencer, "sequence_pending", refuse)
    with pytest.raises(RuntimeError, match="could not be written"):
        services.transparency.rotate_log_key()
    assert [k.kid for k in keystore.verification_keys("log")] == kids  # not logged: not stored


def test_checkpoints_are_served_by_size(services: Services) -> None:
    log(services, 10)  # checkpoints at 4, 8, 10
    http = genuine(services)
    for asked, size in ((0, 4), (4, 4), (5, 8), (9, 10), (10, 10)):
        response = http.get("/v1/log/checkpoint", params={"min_size": asked})
        assert response.status_code == 200 and response.text.split("\n")[1] == str(size)
    assert http.get("/v1/log/checkpoint").text.split("\n")[1] == "10"
    for bad, status in (("11", 400), ("-1", 400), (str(2**70), 400), ("x", 422)):
        response = http.get("/v1/log/checkpoint", params={"min_size": bad})
        assert response.status_code == status, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"


# -- the verifier: following genuine rotations --------------------------------------------


def test_repin_follows_a_rotation_the_old_key_signed(services: Services, tmp_path: Path) -> None:
    http, state = genuine(services), tmp_path / "state"
    log(services, 3)
    verify(http, state)
    rotation = services.transparency.rotate_log_key()
    log(services, 2, start=3)
    with pytest.raises(VerificationFailed, match="--repin"):
        verify(http, state)
    result = verify(http, state, repin=True)
    assert result.pinned == rotation.verifier_key and result.size == 6
    assert verify(http, state).pinned is None


def test_repin_from_the_rotation_checkpoint_itself(services: Services, tmp_path: Path) -> None:
    """The verifier saw the rotation's checkpoint (countersigned) under the old key: the
    key.rotated entry is then below the size it pinned, and is found there."""
    http, state, fresh = genuine(services), tmp_path / "state", tmp_path / "fresh"
    log(services, 3)
    verify(http, state)
    rotation = services.transparency.rotate_log_key()
    assert verify(http, state).size == 4  # still the old key, which signed size 4
    assert verify(http, fresh).pinned == rotation.verifier_key  # first use: the new key
    log(services, 3, start=3)
    assert verify(http, state, repin=True).pinned == rotation.verifier_key


def test_repin_follows_two_rotations(services: Services, tmp_path: Path) -> None:
    http, state = genuine(services), tmp_path / "state"
    log(services, 5)
    verify(http, state)
    services.transparency.rotate_log_key()
    log(services, 6, start=5)
    last = services.transparency.rotate_log_key()
    log(services, 2, start=11)
    result = verify(http, state, repin=True)
    assert result.pinned == last.verifier_key and result.previous_size == 5


def test_a_key_rotated_without_a_word_from_the_old_key_is_refused(
    services: Services, tmp_path: Path
) -> None:
    """As before this fix: the key.rotated entry sits under the new key's checkpoint only."""
    http, state = genuine(services), tmp_path / "state"
    log(services, 3)
    verify(http, state)
    old = services.transparency.sequencer.keys()[0]
    new = services.ctx.keystore.rotate_signing_key("log", "EdDSA")
    with services.ctx.uow() as uow:
        uow.outbox.append(
            Event(
                EventType.KEY_ROTATED,
                services.ctx.clock.now(),
                {"key": "log", "old_kid": old.kid, "new_kid": new.kid},
            )
        )
    log(services, 1, start=3)
    with pytest.raises(VerificationFailed, match=r"no key\.rotated entry in the log key"):
        verify(http, state, repin=True)


# -- a man in the middle -------------------------------------------------------------------


class Mitm:
    """Answers from ``leaves`` and a head ``note`` signed by a key of its choosing; relays
    the genuine server's checkpoints and consistency proofs up to ``notes_upto`` entries,
    and its entries and inclusion proofs up to ``data_upto``."""

    def __init__(
        self,
        real: TestClient,
        leaves: list[bytes],
        key: Ed25519PrivateKey,
        *,
        previous: list[str],
        notes_upto: int,
        data_upto: int = 0,
    ) -> None:
        self.real, self.leaves, self.previous = real, leaves, previous
        self.notes_upto, self.data_upto = notes_upto, data_upto
        self.origin = parse_key(previous[0]).name
        self.hashes = [leaf_hash(data) for data in leaves]
        head = Checkpoint(self.origin, len(leaves), root(self.hashes))
        self.note = sign_checkpoint(head, self.origin, key)
        self.key = verifier_key(self.origin, key.public_key())

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.answer), base_url=URL)

    def relay(self, request: httpx.Request) -> httpx.Response:
        got = self.real.get(request.url.path, params=dict(request.url.params))
        return httpx.Response(got.status_code, content=got.content, headers=got.headers)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path, {k: int(v) for k, v in request.url.params.items()}
        if path == "/v1/log/checkpoint":
            relay = q.get("min_size", self.notes_upto + 1) <= self.notes_upto
            return self.relay(request) if relay else httpx.Response(200, text=self.note)
        if path == "/v1/log/public-key":
            body = {"verifier_key": self.key, "previous_verifier_keys": self.previous}
            return httpx.Response(200, json=body)
        if path == "/v1/log/proofs/consistency" and q["to"] <= self.notes_upto:
            return self.relay(request)  # genuine proofs between what the old key signed
        upto = q.get("end", q.get("size", q.get("to", 0)))
        if upto <= self.data_upto:
            return self.relay(request)
        if path == "/v1/log/entries":
            first, stop = q["start"], min(q["end"], q["start"] + ENTRIES_PAGE)
            page = [self._entry(i) for i in range(first, stop)]
            return httpx.Response(200, json={"entries": page})
        if path == "/v1/log/proofs/inclusion":
            proof = inclusion_proof_from_leaves(self.hashes[: q["size"]], q["index"])
        else:
            proof = consistency_proof_from_leaves(self.hashes[: q["to"]], q["from"])
        return httpx.Response(200, json={"hashes": [_b64(h) for h in proof]})

    def _entry(self, index: int) -> dict[str, Any]:
        return {"index": index, "leaf": _b64(self.leaves[index])}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _announcing(services: Services, old_kid: str, key: Ed25519PrivateKey) -> bytes:
    """A key.rotated entry handing the log key ``old_kid`` over to ``key``."""
    entry = {
        "type": "key.rotated",
        "time": "2026-11-26T12:00:00Z",
        "key": "log",
        "old_kid": old_kid,
        "new_kid": ed25519_thumbprint(key.public_key()),
    }
    return encode_entry(entry)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("where", "refusal"),
    [
        ("appended", "no key.rotated entry in the log key .* signed \\(size 5\\)"),
        ("in place of a logged entry", "entry 4, a key.rotated entry, is not in the checkpoint"),
    ],
)
def test_a_man_in_the_middle_cannot_get_its_own_key_pinned(
    services: Services, tmp_path: Path, where: str, refusal: str
) -> None:
    """It serves a consistent log of its own, with a key.rotated entry naming its key, and
    signs the head with it: no checkpoint the pinned key signed includes that entry."""
    real, state = genuine(services), tmp_path / "state"
    log(services, 3)
    verify(real, state)
    log(services, 2, start=3)
    pinned = services.transparency.public_key().verifier_key
    old_kid = services.transparency.sequencer.keys()[0].kid
    evil = Ed25519PrivateKey.generate()
    leaves = leaves_of(services)
    if where == "appended":
        leaves.append(_announcing(services, old_kid, evil))
    else:
        leaves[4] = _announcing(services, old_kid, evil)
    mitm = Mitm(real, leaves, evil, previous=[pinned], notes_upto=5)
    with pytest.raises(VerificationFailed, match="not re-pinning: " + refusal):
        verify(mitm.client(), state, repin=True)
    assert verify(real, state).pinned is None  # still the genuine key, at size 5


def test_a_new_key_head_that_forks_from_the_rotation_checkpoint_is_refused(
    services: Services, tmp_path: Path
) -> None:
    """Whoever holds the new key cannot rewrite what the old key signed, even where the
    rewrite still extends the checkpoint the verifier saw."""
    real, state = genuine(services), tmp_path / "state"
    log(services, 3)
    verify(real, state)
    log(services, 2, start=3)
    pinned = services.transparency.public_key().verifier_key
    services.transparency.rotate_log_key()  # key.rotated at index 5, old key signs size 6
    new = ed25519(services.transparency.sequencer.keys()[0])
    leaves = leaves_of(services)
    leaves[3] = b'{"time":"2026-11-26T12:00:00Z","type":"world.registered","world_id":"w_x"}'
    leaves += leaves[:2]
    mitm = Mitm(real, leaves, new, previous=[pinned], notes_upto=6, data_upto=6)
    refusal = r"the checkpoint the new key signed \(size 8\) does not extend .* \(size 6\)"
    with pytest.raises(VerificationFailed, match=refusal):
        verify(mitm.client(), state, repin=True)
