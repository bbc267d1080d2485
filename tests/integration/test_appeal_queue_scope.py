"""The staff appeals queue (services/appeal_queue.py) on both databases: the reviewer's own
decisions are left out in the query, before its limit, and one appeal's page is found by
its id and the ``review`` permission, however many appeals are pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, join, register, world
from tests.web.helpers import csrf, staff_member, staff_sign_in

from personae.bootstrap import Services
from personae.domain.moderation import Citation, Measure, Scope
from personae.domain.staff import Role
from personae.services.auth import StaffPrincipal, WorldPrincipal
from personae.services.decisions import DecisionInput
from personae.services.reports import ReportInput
from personae.store import tables as t

CLAUSES = [
    {"id": "harassment", "title": "Harassment", "text": "Do not harass.", "severity": "medium"},
]
OWN_PENDING = 1000  # more than the old queue read (limit * 2) and than its item() scanned


def _reviewer(
    services: Services, client: TestClient, username: str, world_id: str | None
) -> tuple[StaffPrincipal, TestClient]:
    """A moderator signed in to the staff pages on a client of their own."""
    secret = staff_member(services, username, Role.MODERATOR, world_id)
    browser = TestClient(client.app)
    staff_sign_in(browser, services, username, secret)
    with services.ctx.uow(write=False) as uow:
        record = uow.staff.by_username(username)
    assert record is not None
    return StaffPrincipal(record.id, username, Role.MODERATOR, world_id), browser


def _appealed_decision(
    services: Services, client: TestClient, world_id: str, handle: str, by: StaffPrincipal
) -> str:
    """A person of ``world_id`` reported, decided on by ``by``, and appealing; the appeal id."""
    who = register(client, handle, {"birth_date": "1990-01-01"})
    persona = join(client, who, world_id, ["birth_date@age_over_18"])
    services.reports.report_from_world(
        WorldPrincipal(world_id, "Aurora"),
        ReportInput(persona, "world", "harassment", "plaza", "insults in chat", True),
    )
    with services.engine.connect() as conn:
        case_id = conn.execute(
            select(t.cases.c.id).where(t.cases.c.persona_id == persona)
        ).scalar_one()
    made = services.decisions.decide(
        by,
        case_id,
        DecisionInput(
            Measure.SUSPENSION,
            Scope.WORLD,
            "Repeated insults in the plaza after two warnings.",
            (Citation("world", "harassment", "Insults are harassment."),),
            ends_at=datetime(2026, 12, 26, tzinfo=UTC),
        ),
    )
    filed = client.post(
        f"/v1/me/decisions/{made.id}/appeal", headers=who, json={"statement": "not me"}
    )
    assert filed.status_code == 201, filed.text
    appeal_id: str = filed.json()["id"]
    return appeal_id


def _older_copies(services: Services, appeal_id: str, count: int) -> None:
    """``count`` more pending appeals, older than ``appeal_id``, of copies of its decision."""
    with services.engine.begin() as conn:
        appeal = conn.execute(select(t.appeals).where(t.appeals.c.id == appeal_id)).one()._asdict()
        decision = (
            conn.execute(select(t.decisions).where(t.decisions.c.id == appeal["decision_id"]))
            .one()
            ._asdict()
        )
        case = conn.execute(select(t.cases).where(t.cases.c.id == decision["case_id"])).one()
        n = range(count)
        conn.execute(insert(t.cases), [{**case._asdict(), "id": f"case_own{i:04d}"} for i in n])
        conn.execute(
            insert(t.decisions),
            [{**decision, "id": f"dec_own{i:04d}", "case_id": f"case_own{i:04d}"} for i in n],
        )
        older = appeal["filed_at"] - timedelta(days=1)
        conn.execute(
            insert(t.appeals),
            [
                {
                    **appeal,
                    "id": f"apl_own{i:04d}",
                    "decision_id": f"dec_own{i:04d}",
                    "filed_at": older - timedelta(seconds=i),
                }
                for i in n
            ],
        )


def test_a_reviewers_own_decisions_never_crowd_out_the_appeals_they_may_handle(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    services.policies.publish_unchecked(aurora, CLAUSES)
    one, one_pages = _reviewer(services, client, "mod.one", aurora)
    two, two_pages = _reviewer(services, client, "mod.two", aurora)
    own = _appealed_decision(services, client, aurora, "alice", one)
    _older_copies(services, own, OWN_PENDING)  # mod.one's, all older than the next
    theirs = _appealed_decision(services, client, aurora, "carol", two)

    # In the query, before the limit: mod.one's queue is mod.two's one appeal, at any limit.
    for limit in (1, 100):
        assert [i.appeal.id for i in services.appeal_queue.for_reviewer(one, limit)] == [theirs]
    listing = one_pages.get("/staff/appeals")
    assert listing.status_code == 200
    assert f'href="/staff/appeals/{theirs}"' in listing.text
    assert "No appeal awaits you" not in listing.text
    assert one_pages.get(f"/staff/appeals/{theirs}").status_code == 200
    # mod.two sees every one of mod.one's, oldest first, and never their own.
    seen = [i.appeal.id for i in services.appeal_queue.for_reviewer(two, 3)]
    assert seen == [f"apl_own{i:04d}" for i in (999, 998, 997)]
    assert f'href="/staff/appeals/{theirs}"' not in two_pages.get("/staff/appeals").text
    # The API's pending list still includes the deciding reviewer's own (they see them).
    assert {a.id for a in services.appeals.pending(one, OWN_PENDING + 2)} == {
        own,
        theirs,
        *(f"apl_own{i:04d}" for i in range(OWN_PENDING)),
    }


def test_an_appeal_page_is_found_by_id_beyond_a_thousand_pending_and_only_for_its_reviewers(
    services: Services, client: TestClient
) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    services.policies.publish_unchecked(aurora, CLAUSES)
    guild, _ = world(services, "Guild", AGE_GATE)
    one, one_pages = _reviewer(services, client, "mod.one", aurora)
    two, two_pages = _reviewer(services, client, "mod.two", aurora)
    _three, three_pages = _reviewer(services, client, "mod.three", aurora)
    _elsewhere, guild_pages = _reviewer(services, client, "mod.guild", guild)
    _platform, trust_pages = _reviewer(services, client, "trust.safety", None)
    own = _appealed_decision(services, client, aurora, "alice", one)
    _older_copies(services, own, OWN_PENDING)
    theirs = _appealed_decision(services, client, aurora, "carol", two)  # the newest of 1,002

    page = three_pages.get(f"/staff/appeals/{theirs}")
    assert page.status_code == 200 and "not me" in page.text
    assert three_pages.get(f"/staff/appeals/{own}").status_code == 200
    # 404 alike for one's own decision, another world, a case not in one's scope, no appeal.
    assert two_pages.get(f"/staff/appeals/{theirs}").status_code == 404
    assert one_pages.get(f"/staff/appeals/{own}").status_code == 404
    assert one_pages.get("/staff/appeals/apl_own0000").status_code == 404
    assert guild_pages.get(f"/staff/appeals/{theirs}").status_code == 404
    assert trust_pages.get(f"/staff/appeals/{theirs}").status_code == 404  # not escalated
    assert three_pages.get("/staff/appeals/apl_nosuchappeal").status_code == 404
    assert three_pages.get("/staff/appeals/" + "x" * 200).status_code == 404

    # Once decided, the appeal is nobody's to handle.
    decided = three_pages.post(
        f"/staff/appeals/{theirs}",
        data={
            "csrf_token": csrf(three_pages, f"/staff/appeals/{theirs}"),
            "outcome": "upheld",
            "reasons": "The recording shows the insults.",
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    assert one_pages.get(f"/staff/appeals/{theirs}").status_code == 404
    assert three_pages.get(f"/staff/appeals/{theirs}").status_code == 404
