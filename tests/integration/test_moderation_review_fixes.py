"""Review findings on moderation, each failing on the code before its fix (both databases):
effective measures in standing, impossible or past times, a claim racing an escalation,
double submissions, the appeals queue per world, and coarse sanction ends for worlds."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from starlette.testclient import TestClient
from tests.helpers import ALICE, bearer, join, register
from tests.moderation_helpers import decision, issue_pass, person_report, policy_world, staff
from typer.testing import CliRunner

from personae.bootstrap import Services
from personae.cli.main import app
from personae.domain.moderation import CaseAction
from personae.services import decisions as decisions_module
from personae.services.standing import coarse_end
from personae.store import tables as t
from personae.store.moderation_repo import Appeals, Cases

PROBLEM_JSON = "application/problem+json"


def _world(services: Services, client: TestClient) -> dict[str, Any]:
    aurora, key = policy_world(services, client, "Aurora")
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    bob = register(client, "bob", {"birth_date": "1990-01-01"})
    mod = staff(services, client, "mod.one", aurora)
    return {"world": aurora, "key": key, "alice": alice, "persona": persona, "bob": bob, "mod": mod}


def _case(services: Services, client: TestClient, clause_id: str = "harassment") -> dict[str, Any]:
    s = _world(services, client)
    assert person_report(client, s["bob"], s["world"], s["persona"], clause_id).status_code == 201
    [case] = client.get("/v1/moderation/queue", headers=s["mod"]).json()["cases"]
    return {**s, "case": case["id"]}


def _decide(client: TestClient, mod: dict[str, str], case_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/moderation/cases/{case_id}/decision", headers=mod, json=body)


def _appeal(client: TestClient, who: dict[str, str], decision_id: str) -> Any:
    return client.post(
        f"/v1/me/decisions/{decision_id}/appeal", headers=who, json={"statement": "not me"}
    )


def _wait_for(services: Services) -> float:
    """How long a request waits for a concurrent one: on SQLite the other queues on the
    writer lock until this one ends, so waiting for it longer would only stall."""
    return 0.5 if services.engine.dialect.name == "sqlite" else 30.0


def _concurrently(
    services: Services, request: Callable[[], int]
) -> tuple[threading.Thread, list[int]]:
    """Start ``request`` on another thread and wait for it (up to ``_wait_for``)."""
    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(request()))
    thread.start()
    thread.join(timeout=_wait_for(services))
    return thread, statuses


def _mine(client: TestClient, who: dict[str, str], world_id: str) -> dict[str, Any]:
    [found] = [
        s for s in client.get("/v1/me/standing", headers=who).json() if s["world_id"] == world_id
    ]
    return found


# -- 1. a decision modified to no action on appeal is not upheld ----------------------------


def test_a_decision_modified_to_no_action_on_appeal_no_longer_counts_as_upheld(
    services: Services, client: TestClient
) -> None:
    s = _case(services, client)
    second = staff(services, client, "mod.two", s["world"])
    # A second case in the same world, whose ban is modified to a warning: still upheld.
    assert person_report(client, s["bob"], s["world"], s["persona"], "spam").status_code == 201
    cases = client.get("/v1/moderation/queue", headers=s["mod"]).json()["cases"]
    [spam] = [c["id"] for c in cases if c["clause_id"] == "spam"]
    outcomes = {s["case"]: "no_action", spam: "warning"}
    for case_id, measure in outcomes.items():
        clause = "spam" if case_id == spam else "harassment"
        made = _decide(client, s["mod"], case_id, decision("ban", ends_at=None, clause_id=clause))
        assert made.status_code == 201, made.text
        filed = _appeal(client, s["alice"], made.json()["id"])
        assert filed.status_code == 201, filed.text
        modified = client.post(
            f"/v1/moderation/appeals/{filed.json()['id']}/decision",
            headers=second,
            json={"outcome": "modified", "reasons": "on reflection", "measure": measure},
        )
        assert modified.status_code == 200, modified.text
    reasons = _mine(client, s["alice"], s["world"])["reasons"]
    assert "upheld decisions in this world: 1" in reasons, reasons


# -- 2. times a decision may name ----------------------------------------------------------


def test_impossible_and_past_times_are_422_and_change_nothing(
    services: Services, client: TestClient
) -> None:
    s = _case(services, client)
    issue_pass(client, s["alice"], s["persona"])
    start = services.ctx.clock.now()
    bad: list[tuple[dict[str, Any], str, str]] = [
        ({**decision(), "ends_at": "9999-12-31T23:00:00-05:00"}, "ends_at", "9999"),
        ({**decision(), "starts_at": "0001-01-01T00:00:00+05:00"}, "starts_at", "0001"),
        (
            {
                **decision(),
                "starts_at": "2026-11-01T00:00:00+00:00",
                "ends_at": "2026-11-20T00:00:00+00:00",
            },
            "ends_at",
            "2026-11-20",
        ),
        (
            {
                **decision(),
                "starts_at": "2026-12-05T00:00:00+00:00",
                "ends_at": "2026-12-04T00:00:00+00:00",
            },
            "ends_at",
            "2026-12-04",
        ),
    ]
    for body, field, given in bad:
        response = _decide(client, s["mod"], s["case"], body)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert field in {e["loc"][-1] for e in response.json()["errors"]}
        assert given not in response.text  # no echo of the input
    with services.ctx.uow(write=False) as uow:
        assert uow.moderation.decisions.for_case(s["case"]) is None
        assert uow.moderation.sanctions.in_force(s["persona"], start, pending=True) == []
        assert all(p.revoked_at is None for p in uow.passes.for_persona(s["persona"]))

    # A backdated suspension still running is fine; an appeal cannot end it in the past
    # (that would revoke the passes again for good) nor at an impossible time.
    backdated = {**decision(), "starts_at": (start - timedelta(days=5)).isoformat()}
    made = _decide(client, s["mod"], s["case"], backdated)
    assert made.status_code == 201, made.text
    filed = _appeal(client, s["alice"], made.json()["id"])
    second = staff(services, client, "mod.two", s["world"])
    url = f"/v1/moderation/appeals/{filed.json()['id']}/decision"
    modify = {"outcome": "modified", "reasons": "shorter", "measure": "suspension"}
    for ends in ((start - timedelta(days=1)).isoformat(), "9999-12-31T23:00:00-05:00"):
        response = client.post(url, headers=second, json={**modify, "ends_at": ends})
        assert response.status_code == 422, (ends, response.text)
        assert ends[:10] not in response.text
    with services.ctx.uow(write=False) as uow:
        appeal = uow.moderation.appeals.get(filed.json()["id"])
        assert appeal is not None and appeal.status == "pending"
    later = (start + timedelta(days=2)).isoformat()
    assert client.post(url, headers=second, json={**modify, "ends_at": later}).status_code == 200


def test_the_cli_refuses_durations_past_any_storable_date(tmp_path: Path) -> None:
    env = {
        "PERSONAE_DATA_DIR": str(tmp_path / "data"),
        "PERSONAE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    result = CliRunner().invoke(
        app,
        [
            "moderation", "decide", "case_x", "--as", "mod", "--measure", "suspension",
            "--clause", "spam", "--explanation", "e", "--facts", "f", "--days", "3000000",
        ],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output


# -- 3. a claim racing an escalation --------------------------------------------------------


def test_a_world_moderator_cannot_decide_a_case_escalated_meanwhile(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _case(services, client)
    colleague = staff(services, client, "mod.two", s["world"])
    real_review = decisions_module.review
    escalations: list[tuple[threading.Thread, list[int]]] = []

    def review_then_escalate(*args: Any) -> Any:
        reviewing = real_review(*args)
        if args[3] is CaseAction.DECIDE and not escalations:
            # The colleague escalates after this reviewer's permission was read.
            escalations.append(
                _concurrently(
                    services,
                    lambda: (
                        client.post(
                            f"/v1/moderation/cases/{s['case']}/escalate",
                            headers=colleague,
                            json={"reason": "threats: platform matter"},
                        ).status_code
                    ),
                )
            )
        return reviewing

    monkeypatch.setattr(decisions_module, "review", review_then_escalate)
    decided = _decide(client, s["mod"], s["case"], decision())
    [(thread, escalated)] = escalations
    thread.join()
    outcome = (decided.status_code, escalated[0])
    with services.ctx.uow(write=False) as uow:
        case = uow.moderation.cases.get(s["case"])
        made = uow.moderation.decisions.for_case(s["case"])
        sanctions = uow.moderation.sanctions.in_force(s["persona"], services.ctx.clock.now())
    assert case is not None
    if services.engine.dialect.name == "sqlite":
        assert outcome == (201, 409)  # writers take turns: the decision came first
    else:
        assert outcome == (409, 200)  # the escalation committed first: the claim fails
        assert decided.json()["status"] == 409
    if outcome == (409, 200):
        assert case.status == "escalated" and made is None and sanctions == []
    else:
        assert case.status == "decided" and case.escalated_at is None and made is not None


# -- 4. double submissions -----------------------------------------------------------------


def test_a_double_submitted_appeal_is_one_appeal_and_a_409(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _case(services, client)
    made = _decide(client, s["mod"], s["case"], decision())
    assert made.status_code == 201
    barrier = threading.Barrier(2)
    real = Appeals.for_decision

    def checked_together(self: Appeals, decision_id: str) -> Any:
        found = real(self, decision_id)
        # Both requests pass the check before either inserts (PostgreSQL); on SQLite the
        # other request waits for the writer lock meanwhile and the barrier breaks.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=_wait_for(services))
        return found

    monkeypatch.setattr(Appeals, "for_decision", checked_together)
    statuses: list[int] = []

    def file() -> None:
        statuses.append(_appeal(client, s["alice"], made.json()["id"]).status_code)

    threads = [threading.Thread(target=file) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    with services.engine.connect() as conn:
        count = select(func.count()).select_from(t.appeals)
        assert conn.execute(count).scalar_one() == 1


def test_opening_a_case_racing_a_report_is_one_case_and_no_500(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _world(services, client)
    real = Cases.open_for
    reports: list[tuple[threading.Thread, list[int]]] = []
    first = threading.Event()

    def checked_then_reported(self: Cases, open_key: str) -> Any:
        found = real(self, open_key)
        if not first.is_set():  # the moderator's check: a report opens the case right after it
            first.set()
            reports.append(
                _concurrently(
                    services,
                    lambda: person_report(client, s["bob"], s["world"], s["persona"]).status_code,
                )
            )
        return found

    monkeypatch.setattr(Cases, "open_for", checked_then_reported)
    opened = client.post(
        "/v1/moderation/cases",
        headers=s["mod"],
        json={"persona_id": s["persona"], "clause_id": "harassment", "note": "seen it myself"},
    )
    [(thread, reported)] = reports
    thread.join()
    assert reported == [201]
    if services.engine.dialect.name == "sqlite":
        assert opened.status_code == 201  # the report waited, then folded into it
    else:
        assert opened.status_code == 409, opened.text  # the report's case came first
        assert opened.headers["content-type"].startswith(PROBLEM_JSON)
    with services.engine.connect() as conn:
        rows = conn.execute(select(t.cases.c.id, t.cases.c.report_count)).all()
        notes = conn.execute(select(func.count()).select_from(t.case_notes)).scalar_one()
    assert [r.report_count for r in rows] == [1]
    assert notes == (1 if opened.status_code == 201 else 0)  # nothing half-written


# -- 5. the appeals queue is chosen per world before its limit -------------------------------


def test_a_worlds_pending_appeals_are_not_crowded_out_by_older_ones_elsewhere(
    services: Services, client: TestClient
) -> None:
    s = _case(services, client)
    ours = _appeal(
        client, s["alice"], _decide(client, s["mod"], s["case"], decision()).json()["id"]
    ).json()["id"]
    guild, _ = policy_world(services, client, "Guild")
    carol = register(client, "carol", {"birth_date": "1985-01-01"})
    theirs = join(client, carol, guild, ["birth_date@age_over_18"])
    assert person_report(client, s["bob"], guild, theirs).status_code == 201
    guild_mod = staff(services, client, "mod.guild", guild)
    [case] = client.get("/v1/moderation/queue", headers=guild_mod).json()["cases"]
    assert _appeal(client, carol, _decide(client, guild_mod, case["id"], decision()).json()["id"])
    # 1,000 more pending appeals in Guild, all older than Aurora's.
    with services.engine.begin() as conn:
        case_row = conn.execute(select(t.cases).where(t.cases.c.world_id == guild)).one()._asdict()
        decision_row = (
            conn.execute(select(t.decisions).where(t.decisions.c.world_id == guild)).one()._asdict()
        )
        appeal_row = (
            conn.execute(select(t.appeals).where(t.appeals.c.decision_id == decision_row["id"]))
            .one()
            ._asdict()
        )
        older = appeal_row["filed_at"] - timedelta(days=1)
        n = range(1000)
        conn.execute(insert(t.cases), [{**case_row, "id": f"case_old{i:04d}"} for i in n])
        conn.execute(
            insert(t.decisions),
            [{**decision_row, "id": f"dec_old{i:04d}", "case_id": f"case_old{i:04d}"} for i in n],
        )
        conn.execute(
            insert(t.appeals),
            [
                {
                    **appeal_row,
                    "id": f"apl_old{i:04d}",
                    "decision_id": f"dec_old{i:04d}",
                    "filed_at": older - timedelta(seconds=i),
                }
                for i in n
            ],
        )
    second = staff(services, client, "mod.two", s["world"])
    for reviewer in (s["mod"], second):
        pending = client.get("/v1/moderation/appeals", headers=reviewer).json()
        assert [a["id"] for a in pending] == [ours]
    guild_sees = client.get("/v1/moderation/appeals", headers=guild_mod).json()
    assert len(guild_sees) == 100 and ours not in {a["id"] for a in guild_sees}
    assert guild_sees[0]["id"] == "apl_old0999"  # oldest first


# -- 6. worlds see a sanction's end as a day -----------------------------------------------


def test_worlds_see_a_platform_sanctions_end_only_as_a_day(
    services: Services, client: TestClient
) -> None:
    s = _world(services, client)
    guild, guild_key = policy_world(services, client, "Guild")
    in_guild = join(client, s["alice"], guild, ["birth_date@age_over_18"])
    threat = person_report(
        client, s["bob"], s["world"], s["persona"], "violence-threats", "platform"
    )
    assert threat.status_code == 201
    [case] = client.get("/v1/moderation/queue", headers=s["mod"]).json()["cases"]
    url = f"/v1/moderation/cases/{case['id']}"
    assert (
        client.post(f"{url}/escalate", headers=s["mod"], json={"reason": "threats"}).status_code
        == 200
    )
    trust = staff(services, client, "trust.safety")
    exact = "2026-12-03T12:34:56.789012+00:00"
    body = decision(
        ends_at=exact, clause_id="violence-threats", scope="platform", clause_scope="platform"
    )
    assert _decide(client, trust, case["id"], body).status_code == 201
    day = datetime(2026, 12, 4, tzinfo=UTC)
    for persona, key in ((s["persona"], s["key"]), (in_guild, guild_key)):
        seen = client.get(f"/v1/worlds/me/personas/{persona}/standing", headers=bearer(key))
        [measure] = seen.json()["measures"]
        assert measure["measure"] == "suspension"
        assert datetime.fromisoformat(measure["ends_at"]) == day, measure
        assert "34:56" not in seen.text
    # The person is shown the end exactly, in their own view.
    ends = [m["ends_at"] for m in _mine(client, s["alice"], guild)["measures"]]
    assert [datetime.fromisoformat(e) for e in ends] == [datetime.fromisoformat(exact)]


def test_coarse_end_rounds_up_to_midnight_utc() -> None:
    minus5 = timezone(timedelta(hours=-5))
    assert coarse_end(None) is None
    assert coarse_end(datetime(2026, 12, 4, tzinfo=UTC)) == datetime(2026, 12, 4, tzinfo=UTC)
    assert coarse_end(datetime(2026, 12, 3, 0, 0, 1, tzinfo=UTC)) == datetime(
        2026, 12, 4, tzinfo=UTC
    )
    assert coarse_end(datetime(2026, 12, 3, 20, tzinfo=minus5)) == datetime(2026, 12, 5, tzinfo=UTC)
    assert coarse_end(datetime(9999, 12, 31, 1, tzinfo=UTC)) is not None
