"""The public log API: checkpoint, entries, proofs, key and report; 400s past the end, never 500."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from personae.bootstrap import Services
from personae.domain.events import Event, EventType
from personae.store import tables as t
from personae.store.translog_repo import TranslogRepo
from personae.translog.checkpoint import parse_checkpoint
from personae.translog.merkle import leaf_hash, verify_consistency, verify_inclusion
from personae.translog.verifier import parse_key


def _log(services: Services, count: int) -> None:
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        for i in range(count):
            kind = EventType.DECISION_MADE if i % 3 == 0 else EventType.WORLD_REGISTERED
            payload = {"measure": "ban", "automated": False} if i % 3 == 0 else {"world_id": "w"}
            repo.append_event(Event(kind, now, payload))
    services.transparency.sequence_pending(batch_size=4)


def _b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def _problem(response: object, status: int, code: str) -> dict[str, object]:
    assert getattr(response, "status_code", None) == status
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:personae:problem:{code}" and body["status"] == status
    return body


def test_before_any_batch_there_is_no_checkpoint(client: TestClient) -> None:
    _problem(client.get("/v1/log/checkpoint"), 404, "not-found")
    _problem(client.get("/v1/transparency/report"), 404, "not-found")


def test_checkpoint_entries_and_proofs_verify_with_the_public_key(
    client: TestClient, services: Services
) -> None:
    _log(services, 11)
    key = client.get("/v1/log/public-key").json()
    verifier = parse_key(key["verifier_key"])
    assert base64.b64decode(key["public_key"]) == verifier.public_key.public_bytes_raw()
    assert key["algorithm"] == "Ed25519" and key["previous_verifier_keys"] == []

    response = client.get("/v1/log/checkpoint")
    assert response.headers["content-type"].startswith("text/plain")
    head = parse_checkpoint(response.text, verifier.name, verifier.public_key, origin=key["origin"])
    assert head.size == 11

    entries = client.get("/v1/log/entries", params={"start": 0, "end": 11}).json()["entries"]
    assert [e["index"] for e in entries] == list(range(11))
    leaves = [base64.b64decode(e["leaf"]) for e in entries]
    assert json.loads(leaves[0])["type"] == "moderation.decision_made"

    for index in (0, 5, 10):
        body = client.get("/v1/log/proofs/inclusion", params={"index": index, "size": 11}).json()
        assert (body["index"], body["size"]) == (index, 11)
        assert verify_inclusion(
            leaf_hash(leaves[index]), index, 11, _b64(body["hashes"]), head.root_hash
        )
    with services.engine.connect() as conn:
        cps = t.log_checkpoints
        old_root = conn.execute(select(cps.c.root_hash).where(cps.c.size == 8)).scalar_one()
    body = client.get("/v1/log/proofs/consistency", params={"from": 8, "to": 11}).json()
    assert (body["from"], body["to"]) == (8, 11)
    assert verify_consistency(8, 11, old_root, head.root_hash, _b64(body["hashes"]))
    assert not verify_consistency(8, 11, head.root_hash, head.root_hash, _b64(body["hashes"]))
    eight = client.get("/v1/log/proofs/consistency", params={"from": 0, "to": 8}).json()
    assert eight["hashes"] == []


def test_a_page_of_entries_is_bounded(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log(services, 3)
    monkeypatch.setattr("personae.services.transparency.MAX_ENTRIES_PAGE", 2)
    page = client.get("/v1/log/entries", params={"start": 0, "end": 3}).json()["entries"]
    assert [e["index"] for e in page] == [0, 1]
    rest = client.get("/v1/log/entries", params={"start": 2, "end": 3}).json()["entries"]
    assert [e["index"] for e in rest] == [2]


@pytest.mark.parametrize(
    ("path", "params", "detail"),
    [
        ("/v1/log/entries", {"start": 0, "end": 6}, "end 6 is past the end of the log (5 entries)"),
        ("/v1/log/entries", {"start": 5, "end": 6}, "past the end"),
        ("/v1/log/entries", {"start": 3, "end": 3}, "0 <= start < end"),
        ("/v1/log/entries", {"start": -1, "end": 2}, "0 <= start < end"),
        ("/v1/log/entries", {"start": 4, "end": 2}, "0 <= start < end"),
        ("/v1/log/proofs/inclusion", {"index": 5, "size": 5}, "0 <= index < size"),
        ("/v1/log/proofs/inclusion", {"index": 0, "size": 6}, "size 6 is past the end"),
        ("/v1/log/proofs/inclusion", {"index": -1, "size": 3}, "0 <= index < size"),
        ("/v1/log/proofs/inclusion", {"index": 0, "size": 2**64}, "past the end"),
        ("/v1/log/proofs/consistency", {"from": 3, "to": 2}, "0 <= from <= to"),
        ("/v1/log/proofs/consistency", {"from": 2, "to": 9}, "size 9 is past the end"),
        ("/v1/log/proofs/consistency", {"from": -2, "to": 3}, "0 <= from <= to"),
        ("/v1/log/proofs/consistency", {"from": 0, "to": 10**30}, "past the end"),
        ("/v1/transparency/report", {"from": "2026-02-01", "to": "2026-01-01"}, "from <= to"),
    ],
)
def test_out_of_range_requests_answer_400(
    client: TestClient, services: Services, path: str, params: dict[str, object], detail: str
) -> None:
    _log(services, 5)
    body = _problem(client.get(path, params=params), 400, "bad-request")
    assert detail in str(body["detail"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/log/entries", {"start": "zero", "end": 2}),
        ("/v1/log/entries", {"start": 0}),
        ("/v1/log/proofs/inclusion", {"index": 1.5, "size": 3}),
        ("/v1/transparency/report", {"from": "last tuesday"}),
    ],
)
def test_parameters_that_are_not_numbers_or_dates_answer_422(
    client: TestClient, services: Services, path: str, params: dict[str, object]
) -> None:
    _log(services, 2)
    _problem(client.get(path, params=params), 422, "invalid-input")


def test_the_report_names_its_checkpoint(client: TestClient, services: Services) -> None:
    _log(services, 6)
    day = services.ctx.clock.now().date().isoformat()
    body = client.get("/v1/transparency/report", params={"from": day, "to": day}).json()
    head = services.transparency.checkpoint()
    assert body["checkpoint"] == {"size": 6, "root": base64.b64encode(head.root_hash).decode()}
    assert (body["start"], body["end"]) == (day, day)
    assert body["moderation"]["decisions"] == 2
    assert body["moderation"]["by_measure"] == {"ban": 2}
    assert body["entries"] == 6


def test_no_log_route_asks_for_credentials(client: TestClient, services: Services) -> None:
    _log(services, 2)
    garbage = {"authorization": "Bearer not-a-credential"}
    for path, params in [
        ("/v1/log/checkpoint", {}),
        ("/v1/log/entries", {"start": 0, "end": 2}),
        ("/v1/log/proofs/inclusion", {"index": 0, "size": 2}),
        ("/v1/log/proofs/consistency", {"from": 1, "to": 2}),
        ("/v1/log/public-key", {}),
        ("/v1/transparency/report", {}),
    ]:
        assert client.get(path, params=params).status_code == 200, path
        assert client.get(path, params=params, headers=garbage).status_code == 200, path
