"""`personae log` and `personae transparency` on the command line; the verifier against a server.

The verifier talks HTTP to the app in-process (its httpx client is the app's test
client); the server's database is tampered with directly, as an intruder would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, update
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from personae.bootstrap import Services
from personae.cli.main import app
from personae.domain.events import Event, EventType
from personae.http.app import create_app
from personae.store import tables as t
from personae.store.translog_repo import TranslogRepo
from personae.translog.audit import completed_ranges

runner = CliRunner()
URL = "http://log.example"
VERIFY_FAILED = 9  # the exit code of a log that fails verification


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "PERSONAE_DATA_DIR": str(tmp_path / "data"),
        "PERSONAE_DATABASE_URL": database_url,
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


@pytest.fixture
def served(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The verifier's HTTP requests go to the app over ``services``."""

    def client(url: str) -> httpx.Client:
        return TestClient(create_app(services), base_url=url, raise_server_exceptions=False)

    monkeypatch.setattr("personae.cli.log._http", client)
    yield services


def append(services: Services, count: int, start: int = 0) -> None:
    now = services.ctx.clock.now()
    with services.ctx.uow() as uow:
        repo = TranslogRepo(uow.conn)
        for i in range(start, start + count):
            repo.append_event(Event(EventType.WORLD_REGISTERED, now, {"world_id": f"w_{i}"}))


def log(services: Services, count: int, start: int = 0) -> None:
    append(services, count, start)
    services.transparency.sequence_pending(batch_size=4)


def verify(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, ["log", "verify", "--url", URL, *args], env=env)


def failed(result: Result, *fragments: str) -> str:
    assert result.exit_code == VERIFY_FAILED, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    for fragment in fragments:
        assert fragment in line, line
    return line


def change(services: Services, statement: object) -> None:
    with services.engine.begin() as conn:
        conn.execute(statement)  # type: ignore[call-overload]


def test_verify_pins_the_key_then_checks_consistency(served: Services, env: dict[str, str]) -> None:
    log(served, 9)
    first = verify(env, "--full")
    assert first.exit_code == 0, first.output
    assert "at size 9" in first.output and "recomputed from all 9 entries" in first.output
    assert "pinned key " + served.transparency.public_key().verifier_key in first.output
    kept = Path(env["XDG_STATE_HOME"]) / "personae" / "logs" / "log.example"
    assert (kept / "state.json").exists() and (kept / "leaves").stat().st_size == 9 * 32

    log(served, 4, start=9)
    second = verify(env)
    assert second.exit_code == 0, second.output
    assert "at size 13" in second.output and "consistent with size 9 seen before" in second.output
    assert "pinned" not in second.output


@pytest.mark.parametrize("history", [True, False], ids=["seen-before", "first-run"])
def test_verify_full_names_an_altered_entry(
    served: Services, env: dict[str, str], tmp_path: Path, history: bool
) -> None:
    log(served, 12)
    if history:
        assert verify(env, "--full").exit_code == 0
    forged = b'{"time":"2026-11-26T12:00:00Z","type":"world.registered","world_id":"w_evil"}'
    leaves = t.log_leaves
    change(served, update(leaves).where(leaves.c.leaf_index == 5).values(entry=forged))
    assert verify(env).exit_code == 0  # signature and consistency are intact
    result = verify(env, "--full")
    if history:
        failed(result, "rewritten: entry 5 differs from the one verified before")
    else:
        failed(result, "entry 5 does not match the signed checkpoint (size 12)")


def test_verify_names_where_a_log_was_truncated(served: Services, env: dict[str, str]) -> None:
    log(served, 10)  # checkpoints at 4, 8 and 10
    assert verify(env).exit_code == 0
    nodes = t.log_nodes
    stale = [(level, first) for level, first, _ in completed_ranges(8, 10)]
    for level, first in stale:
        change(served, delete(nodes).where(nodes.c.level == level, nodes.c.node_index >= first))
    change(served, delete(t.log_leaves).where(t.log_leaves.c.leaf_index >= 8))
    change(served, delete(t.log_checkpoints).where(t.log_checkpoints.c.size > 8))
    assert served.transparency.self_check().size == 8  # consistent in itself, but shorter
    failed(verify(env), "truncated: the log has 8 entries but 10 were seen before", "index 8")


def _rewrite_history(services: Services, event_id: int) -> None:
    """What an operator holding the log key could do: rebuild the log with one event changed."""
    for table in (t.log_salts, t.log_checkpoints, t.log_nodes, t.log_leaves):
        change(services, delete(table))
    outbox = t.outbox_events
    change(services, update(outbox).values(sequenced=False))
    change(
        services, update(outbox).where(outbox.c.id == event_id).values(payload={"world_id": "w_x"})
    )
    services.transparency.sequence_pending()


@pytest.mark.parametrize("history", [True, False], ids=["seen-before", "no-history"])
def test_verify_names_the_first_entry_of_a_fork(
    served: Services, env: dict[str, str], history: bool
) -> None:
    log(served, 9)
    assert verify(env, *(["--full"] if history else [])).exit_code == 0
    _rewrite_history(served, event_id=7)  # the entry at index 6
    log(served, 3, start=9)
    result = verify(env)
    if history:
        failed(
            result, "fork:", "size 12", "(size 9)", "entry 6 differs from the one verified before"
        )
    else:
        failed(result, "fork:", "a run with --full keeps them")


def test_verify_refuses_a_forged_checkpoint(served: Services, env: dict[str, str]) -> None:
    log(served, 5)
    assert verify(env).exit_code == 0
    note = served.transparency.checkpoint().note
    origin, _, root_line, rest = note.split("\n", 3)
    forged = "\n".join([origin, "6", root_line, rest])
    cps = t.log_checkpoints
    change(served, update(cps).where(cps.c.size == 5).values(note=forged))
    failed(verify(env), "does not verify under the pinned log key")


def test_verify_follows_a_rotated_key_only_when_asked(
    served: Services, env: dict[str, str]
) -> None:
    log(served, 3)
    assert verify(env).exit_code == 0
    rotation = served.transparency.rotate_log_key()
    log(served, 2, start=3)  # signed by the new key alone
    failed(verify(env), "the server now presents key " + rotation.verifier_key, "--repin")
    repinned = verify(env, "--repin")
    assert repinned.exit_code == 0, repinned.output
    assert "pinned key " + rotation.verifier_key in repinned.output
    assert verify(env).exit_code == 0


def test_a_key_the_log_never_announced_is_not_repinned(
    served: Services, env: dict[str, str]
) -> None:
    log(served, 3)
    assert verify(env).exit_code == 0
    served.ctx.keystore.rotate_signing_key("log", "EdDSA")  # no key.rotated entry
    log(served, 1, start=3)
    failed(verify(env, "--repin"), "not re-pinning: no key.rotated entry in the log key")


def test_verify_says_when_the_log_cannot_be_reached(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["log", "verify", "--url", "http://127.0.0.1:9"], env=env)
    assert result.exit_code == 1
    assert "cannot reach the log at http://127.0.0.1:9" in result.output


def test_operator_commands_sequence_check_show_report_rotate(
    services: Services, env: dict[str, str]
) -> None:
    append(services, 5)
    result = runner.invoke(app, ["log", "sequence", "--batch-size", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("logged 5 events in 3 batches; checkpoint at size 5, root ")

    result = runner.invoke(app, ["log", "check"], env=env)
    assert result.exit_code == 0 and result.output.startswith("ok: 5 entries"), result.output

    result = runner.invoke(app, ["log", "show", "--count", "2"], env=env)
    lines = result.output.strip().split("\n")
    assert [line.split()[0] for line in lines] == ["#3", "#4"]
    assert "world.registered" in lines[0] and "world_id=w_3" in lines[0]

    day = services.ctx.clock.now().date().isoformat()
    result = runner.invoke(app, ["transparency", "report", "--from", day, "--to", day], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["checkpoint"]["size"] == 5 and body["entries"] == 5

    result = runner.invoke(app, ["log", "rotate-key"], env=env)
    assert result.exit_code == 0, result.output
    assert "logged, checkpoint at size 6 signed by" in result.output
    assert "key.rotated" in runner.invoke(app, ["log", "show", "--count", "1"], env=env).output


def test_show_reads_a_served_log(served: Services, env: dict[str, str]) -> None:
    log(served, 3)
    result = runner.invoke(app, ["log", "show", "--url", URL, "--count", "5"], env=env)
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.strip().split("\n")] == ["#0", "#1", "#2"]


def test_check_and_sequence_refuse_a_damaged_log_in_one_line(
    services: Services, env: dict[str, str]
) -> None:
    log(services, 6)
    leaves = t.log_leaves
    change(services, update(leaves).where(leaves.c.leaf_index == 2).values(entry=b"{}"))
    append(services, 1, start=6)
    for command in (["log", "check"], ["log", "sequence"]):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 8, result.output
        assert result.output.strip().count("\n") == 0
        assert "leaf 2: its entry does not hash to its stored leaf hash" in result.output
    assert services.transparency.checkpoint().size == 6
