"""Moderation retention: whole cases go six months after their appeal window closed, unless
an appeal is pending, a sanction or strike still runs, or a legal hold covers them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Table, func, select
from starlette.testclient import TestClient
from tests.conftest import START
from tests.helpers import ALICE, PASSWORD, bearer, join, register
from tests.moderation_helpers import decision, issue_pass, person_report, policy_world, staff

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.vault import person_owner
from personae.domain.lawful_access import HoldBasis, TargetScope
from personae.domain.retention import RecordClass
from personae.domain.staff import Role
from personae.services.auth import StaffPrincipal
from personae.services.holds import open_hold
from personae.services.moderation_retention import ModerationSweep
from personae.store import tables as t
from personae.store.moderation_repo import CaseRecord, NoteRecord, ReportRecord

ADULT = {"birth_date": "1990-01-01"}
CONSENT = ["birth_date@age_over_18"]
TABLES: tuple[Table, ...] = (
    t.cases,
    t.reports,
    t.case_notes,
    t.decisions,
    t.appeals,
    t.strikes,
    t.sanctions,
    t.sanction_passes,
)


def _decide(
    client: TestClient, mod: dict[str, str], persona: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Decide the open case on ``persona`` in the moderator's queue; the statement."""
    cases = client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    [case] = [c for c in cases if c["persona_id"] == persona]
    response = client.post(f"/v1/moderation/cases/{case['id']}/decision", headers=mod, json=body)
    assert response.status_code == 201, response.text
    statement: dict[str, Any] = response.json()
    return statement


def _login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/v1/staff/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def _counts(services: Services) -> dict[str, int]:
    with services.engine.connect() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in TABLES
        }


def _case_rows(services: Services, case_id: str) -> dict[str, int]:
    """How many rows of each table belong to one case (sanctions by the personas named)."""
    with services.engine.connect() as conn:
        decision_ids = list(
            conn.execute(select(t.decisions.c.id).where(t.decisions.c.case_id == case_id)).scalars()
        )

        def count(table: Table, where: Any) -> int:
            return int(
                conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
            )

        return {
            "cases": count(t.cases, t.cases.c.id == case_id),
            "reports": count(t.reports, t.reports.c.case_id == case_id),
            "case_notes": count(t.case_notes, t.case_notes.c.case_id == case_id),
            "decisions": len(decision_ids),
            "appeals": count(t.appeals, t.appeals.c.decision_id.in_(decision_ids)),
            "strikes": count(t.strikes, t.strikes.c.decision_id.in_(decision_ids)),
        }


def _sanctions_on(services: Services, *personas: str) -> list[str]:
    with services.engine.connect() as conn:
        q = select(t.sanctions.c.id).where(t.sanctions.c.persona_id.in_(personas))
        return list(conn.execute(q).scalars())


def _closed_without_decision(services: Services, world_id: str, persona: str) -> str:
    """A case closed with no decision (no code path makes one yet): stored directly."""
    case_id = "case_closed_no_decision"
    with services.ctx.uow() as uow:
        uow.moderation.cases.add(
            CaseRecord(
                id=case_id,
                world_id=world_id,
                persona_id=persona,
                clause_scope="world",
                clause_id="spam",
                severity="low",
                source="report",
                status="closed",
                priority=350,
                queue=None,
                open_key=None,
                assignee=None,
                report_count=1,
                created_at=START,
                escalated_at=None,
                decided_at=START,
            )
        )
        uow.moderation.reports.add(
            ReportRecord(
                id="rep_closed_no_decision",
                case_id=case_id,
                world_id=world_id,
                persona_id=persona,
                clause_scope="world",
                clause_id="spam",
                policy_version=1,
                reporter=f"world:{world_id}",
                location="the market",
                explanation="adverts",
                good_faith=True,
                credible=True,
                unfounded=False,
                received_at=START,
            )
        )
        uow.moderation.notes.add(
            NoteRecord("note_closed_no_decision", case_id, "staff", "internal", "dup", START)
        )
    return case_id


def test_a_sweep_deletes_expired_cases_whole_and_keeps_every_other(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = policy_world(services, client, "Aurora")
    guild, _ = policy_world(services, client, "Guild")
    mod = staff(services, client, "mod.one", aurora)
    second = staff(services, client, "mod.two", aurora)
    trust = staff(services, client, "trust.safety")
    bob = register(client, "bob", ADULT)
    personas: dict[str, str] = {}
    people: dict[str, dict[str, str]] = {}
    for name in ("alice", "paula", "dave", "erin", "frank", "gina", "carol", "henry"):
        people[name] = register(client, name, ALICE if name == "alice" else ADULT)
        personas[name] = join(client, people[name], aurora, CONSENT)
        clause = ("violence-threats", "platform") if name == "gina" else ("harassment", "world")
        assert person_report(client, bob, aurora, personas[name], *clause).status_code == 201
    paula_in_guild = join(client, people["paula"], guild, CONSENT)
    issue_pass(client, people["alice"], personas["alice"])
    issue_pass(client, people["dave"], personas["dave"])
    case_of = {
        c["persona_id"]: c["id"]
        for c in client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    }

    # Alice: a week's suspension (her pass revoked), a note, an appeal upheld by another
    # reviewer (the case is closed) — expired once the window closed six months ago.
    note = client.post(
        f"/v1/moderation/cases/{case_of[personas['alice']]}/notes",
        headers=mod,
        json={"text": "thank you, we acted on this", "visibility": "reporter"},
    )
    assert note.status_code == 201
    alice_decision = _decide(client, mod, personas["alice"], decision())
    appeal = client.post(
        f"/v1/me/decisions/{alice_decision['id']}/appeal",
        headers=people["alice"],
        json={"statement": "not me"},
    )
    assert appeal.status_code == 201
    upheld = client.post(
        f"/v1/moderation/appeals/{appeal.json()['id']}/decision",
        headers=second,
        json={"outcome": "upheld", "reasons": "the recording is clear"},
    )
    assert upheld.status_code == 200, upheld.text
    # Paula: a platform-scope week's suspension, in force on both her personas.
    escalated = client.post(
        f"/v1/moderation/cases/{case_of[personas['paula']]}/escalate",
        headers=mod,
        json={"reason": "she does it in every world"},
    )
    assert escalated.status_code == 200
    _decide(client, trust, personas["paula"], decision(scope="platform"))
    assert len(_sanctions_on(services, personas["paula"], paula_in_guild)) == 2
    # Dave: a ban without end. Erin: a week's suspension, held later. Frank: a pending
    # appeal. Gina: a warning whose critical strike counts for two years.
    _decide(client, mod, personas["dave"], decision("ban", ends_at=None))
    _decide(client, mod, personas["erin"], decision())
    frank = _decide(client, mod, personas["frank"], decision())
    assert client.post(
        f"/v1/me/decisions/{frank['id']}/appeal",
        headers=people["frank"],
        json={"statement": "someone used my account"},
    ).is_success
    warning = decision(
        "warning", ends_at=None, clause_id="violence-threats", clause_scope="platform"
    )
    _decide(client, mod, personas["gina"], warning)
    closed = _closed_without_decision(services, aurora, personas["henry"])
    # Carol: decided 200 days later, so her window is still open. Henry's case stays undecided.
    clock.set(START + timedelta(days=200))
    later = decision("warning", ends_at=None, clause_id="spam")  # its strike lapses at 90 days
    _decide(client, _login(client, "mod.one"), personas["carol"], later)

    expired = [case_of[personas["alice"]], case_of[personas["paula"]]]
    kept = {
        name: case_of[personas[name]]
        for name in ("dave", "erin", "frank", "gina", "carol", "henry")
    }
    assert all(_case_rows(services, expired[0]).values())  # Alice's case has a row of each
    closed_rows = _case_rows(services, closed)
    assert (closed_rows["cases"], closed_rows["reports"], closed_rows["decisions"]) == (1, 1, 0)

    # A day before the appeal windows closed six months ago, only the case closed without
    # a decision has expired (six months after its closure): its case, report and note.
    clock.set(START + timedelta(days=183 + 183 - 1))
    first = _counts(services)
    assert services.retention.sweep(batch_size=2).deleted["moderation"] == 3
    assert not any(_case_rows(services, closed).values())
    before = _counts(services)
    assert sum(first.values()) - sum(before.values()) == 3
    assert all(_case_rows(services, expired[0]).values())

    # Past it: Erin's persona is under a litigation hold when the sweep runs.
    clock.set(START + timedelta(days=183 + 183 + 1))
    officer = services.staff.create("ana", PASSWORD, Role.LEGAL_OFFICER)
    ana = StaffPrincipal(officer.id, "ana", Role.LEGAL_OFFICER, None)
    services.holds.litigation_hold(ana, aurora, personas["erin"])
    alice_sanctions = _sanctions_on(services, personas["alice"])
    assert alice_sanctions
    report = services.retention.sweep(batch_size=2)
    after = _counts(services)

    deleted = sum(before.values()) - sum(after.values())
    assert report.deleted["moderation"] == deleted > 0
    for case_id in expired:
        assert not any(_case_rows(services, case_id).values()), case_id
    assert _sanctions_on(services, personas["alice"], personas["paula"], paula_in_guild) == []
    with services.engine.connect() as conn:
        left = select(t.sanction_passes).where(t.sanction_passes.c.sanction_id.in_(alice_sanctions))
        assert conn.execute(left).first() is None
    for name, case_id in kept.items():
        assert _case_rows(services, case_id)["cases"] == 1, name
        assert _case_rows(services, case_id)["reports"] == 1, name
    for name in ("dave", "erin", "frank", "gina", "carol"):
        assert _case_rows(services, kept[name])["decisions"] == 1, name
    assert _sanctions_on(services, personas["dave"]) and _sanctions_on(services, personas["erin"])
    # What went: two cases, each with all its rows, and nothing else.
    assert before["cases"] - after["cases"] == 2
    assert before["decisions"] - after["decisions"] == 2
    assert before["sanctions"] - after["sanctions"] == 3  # Alice's, and Paula's two
    assert before["sanction_passes"] - after["sanction_passes"] == 1
    assert before["appeals"] - after["appeals"] == 1
    assert before["strikes"] - after["strikes"] == 2
    assert before["case_notes"] - after["case_notes"] == 2  # Alice's, Paula's escalation
    assert before["reports"] - after["reports"] == 2
    sweep = services.retention.class_sweeps[RecordClass.MODERATION]
    assert isinstance(sweep, ModerationSweep)
    assert (sweep.last.cases, sweep.last.held_skipped, sweep.last.in_force_kept) == (2, 1, 1)
    with services.ctx.uow(write=False) as uow:
        swept = [e.payload for e in uow.outbox.all() if e.type == "retention.swept"]
    assert swept[-1]["moderation"] == deleted

    # A second sweep finds nothing more to delete.
    assert services.retention.sweep(batch_size=2).deleted["moderation"] == 0
    assert _counts(services) == after

    # Once the hold has ended, Erin's case goes too; the others still stay.
    clock.advance(timedelta(days=91))
    assert services.retention.sweep(batch_size=2).deleted["moderation"] > 0
    assert not any(_case_rows(services, kept["erin"]).values())
    assert _sanctions_on(services, personas["erin"]) == []
    for name in ("dave", "frank", "gina", "carol", "henry"):
        assert _case_rows(services, kept[name])["cases"] == 1, name


def _person_ids(services: Services) -> set[str]:
    with services.engine.connect() as conn:
        return set(conn.execute(select(t.persons.c.id)).scalars())


def test_a_hold_on_another_reached_persona_or_on_a_reporter_keeps_the_case(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    aurora, _ = policy_world(services, client, "Aurora")
    guild, _ = policy_world(services, client, "Guild")
    mod = staff(services, client, "mod.one", aurora)
    trust = staff(services, client, "trust.safety")
    known = _person_ids(services)
    bob = register(client, "bob", ADULT)
    [bob_id] = _person_ids(services) - known
    paula = register(client, "paula", ADULT)
    in_aurora = join(client, paula, aurora, CONSENT)
    in_guild = join(client, paula, guild, CONSENT)
    erin = join(client, register(client, "erin", ADULT), aurora, CONSENT)
    rita = register(client, "rita", ADULT)  # Paula's reporter, under no hold
    assert person_report(client, rita, aurora, in_aurora).status_code == 201
    assert person_report(client, bob, aurora, erin).status_code == 201
    case_of = {
        c["persona_id"]: c["id"]
        for c in client.get("/v1/moderation/queue", headers=mod).json()["cases"]
    }
    assert client.post(
        f"/v1/moderation/cases/{case_of[in_aurora]}/escalate", headers=mod, json={"reason": "all"}
    ).is_success
    _decide(client, trust, in_aurora, decision(scope="platform"))
    _decide(client, mod, erin, decision())

    # Past retention: a litigation hold on Paula's other persona only (the platform
    # decision's sanction names it), and a hold on Bob, the person who reported Erin.
    clock.set(START + timedelta(days=183 + 183 + 1))
    officer = services.staff.create("ana", PASSWORD, Role.LEGAL_OFFICER)
    ana = StaffPrincipal(officer.id, "ana", Role.LEGAL_OFFICER, None)
    services.holds.litigation_hold(ana, guild, in_guild)
    with services.ctx.uow() as uow:
        open_hold(
            services.ctx,
            uow,
            basis=HoldBasis.LITIGATION,
            scope=TargetScope.PERSON,
            world_id=aurora,
            persona_id=erin,
            covered_owners=[person_owner(bob_id)],
            by=officer.id,
            request_id=None,
            now=clock.now(),
        )
    assert services.retention.sweep(batch_size=1).deleted["moderation"] == 0
    for persona in (in_aurora, erin):
        assert all(
            _case_rows(services, case_of[persona])[k] for k in ("cases", "reports", "decisions")
        )
    sweep = services.retention.class_sweeps[RecordClass.MODERATION]
    assert isinstance(sweep, ModerationSweep) and sweep.last.held_skipped == 2

    # The holds end by themselves: both cases go, with the sanctions on both personas.
    clock.advance(timedelta(days=91))
    assert services.retention.sweep(batch_size=1).deleted["moderation"] > 0
    for persona in (in_aurora, erin):
        assert not any(_case_rows(services, case_of[persona]).values())
    assert _sanctions_on(services, in_aurora, in_guild, erin) == []
