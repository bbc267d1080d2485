"""Staff pages over a real app: the decision form, appeals by another reviewer, four eyes."""

from __future__ import annotations

from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, world
from tests.web.helpers import csrf, sign_up, staff_member, staff_sign_in

from personae.bootstrap import Services
from personae.domain.staff import Role
from personae.services.auth import PersonPrincipal, WorldPrincipal
from personae.services.reports import ReportInput

CLAUSES = [
    {"id": "harassment", "title": "Harassment", "text": "Do not harass.", "severity": "medium"},
]
DECISION = {
    "measure": "suspension",
    "scope": "world",
    "ends_at": "2026-12-26",
    "facts": "Repeated insults in the plaza after two warnings.",
    "automated": "no",
    "clause": "world:harassment",
    "explanation": "Insulting members again and again is harassment.",
    "appeal_window_days": "183",
}


def reported_persona(services: Services, client: TestClient) -> tuple[str, str]:
    """A world with a policy, Alice signed in on ``client`` and a case on her persona."""
    aurora, _ = world(services, "Aurora", AGE_GATE)
    services.policies.publish_unchecked(aurora, CLAUSES)
    sign_up(client, "alice")
    client.post(
        "/me/identity",
        data={
            "csrf_token": csrf(client, "/me/identity"),
            "name": "birth_date",
            "value": "1990-01-01",
        },
    )
    token = csrf(client, f"/worlds/{aurora}/join")
    client.post(
        f"/worlds/{aurora}/join", data={"csrf_token": token, "consent": ["birth_date@age_over_18"]}
    )
    alice = PersonPrincipal(services.auth.person(client.cookies["personae_session"]).person_id)
    persona = services.registry.personas(alice)[0].persona_id
    services.reports.report_from_world(
        WorldPrincipal(aurora, "Aurora"),
        ReportInput(persona, "world", "harassment", "plaza", "insults in chat", True),
    )
    return aurora, persona


def test_decision_appeal_and_reversal_by_another_reviewer(
    services: Services, client: TestClient
) -> None:
    aurora, _persona = reported_persona(services, client)
    first, second = TestClient(client.app), TestClient(client.app)
    staff_sign_in(
        first, services, "mod.one", staff_member(services, "mod.one", Role.MODERATOR, aurora)
    )
    queue = first.get("/staff/queue").text
    case_id = queue.split('href="/staff/cases/')[1].split('"')[0]
    case_page = first.get(f"/staff/cases/{case_id}")
    assert "insults in chat" in case_page.text and "decision-form" in case_page.text
    assert case_page.text.count(" required") >= 7  # the browser refuses an incomplete form

    token = csrf(first, f"/staff/cases/{case_id}")
    incomplete = first.post(f"/staff/cases/{case_id}/decide", data={"csrf_token": token})
    assert incomplete.status_code == 422
    for field in ("measure", "scope", "automated", "clause"):
        assert f'id="e-{field}"' in incomplete.text or "say whether automated" in incomplete.text
    no_facts = first.post(
        f"/staff/cases/{case_id}/decide", data={"csrf_token": token, **DECISION, "facts": ""}
    )
    assert no_facts.status_code == 422 and "state the facts" in no_facts.text
    decided = first.post(f"/staff/cases/{case_id}/decide", data={"csrf_token": token, **DECISION})
    assert decided.status_code == 200 and "Decided" in decided.text

    inbox = client.get("/me/inbox").text
    assert "Repeated insults in the plaza" in inbox and "Appeal this decision" in inbox
    decision_id = inbox.split('action="/me/decisions/')[1].split("/")[0]
    appealed = client.post(
        f"/me/decisions/{decision_id}/appeal",
        data={
            "csrf_token": csrf(client, "/me/inbox"),
            "statement": "It was a quote from a film, not an insult.",
        },
    )
    assert appealed.status_code == 200 and "appeal was filed" in appealed.text

    # The deciding reviewer never sees the appeal; a second one does, and reverses it.
    assert "No appeal awaits you" in first.get("/staff/appeals").text
    staff_sign_in(
        second, services, "mod.two", staff_member(services, "mod.two", Role.MODERATOR, aurora)
    )
    listing = second.get("/staff/appeals").text
    appeal_id = listing.split('href="/staff/appeals/')[1].split('"')[0]
    assert first.get(f"/staff/appeals/{appeal_id}").status_code == 404
    page = second.get(f"/staff/appeals/{appeal_id}")
    assert "a quote from a film" in page.text
    reversed_ = second.post(
        f"/staff/appeals/{appeal_id}",
        data={
            "csrf_token": csrf(second, f"/staff/appeals/{appeal_id}"),
            "outcome": "reversed",
            "reasons": "A quotation, not aimed at anyone.",
        },
        follow_redirects=False,
    )
    assert reversed_.status_code == 303
    outcome = client.get("/me/inbox").text
    assert "reversed" in outcome and "A quotation, not aimed at anyone." in outcome


def test_a_lawful_request_needs_a_second_officer(services: Services, client: TestClient) -> None:
    aurora, persona = reported_persona(services, TestClient(client.app))
    one, two = TestClient(client.app), TestClient(client.app)
    staff_sign_in(
        one, services, "legal.one", staff_member(services, "legal.one", Role.LEGAL_OFFICER)
    )
    staff_sign_in(
        two, services, "legal.two", staff_member(services, "legal.two", Role.LEGAL_OFFICER)
    )
    intake = {
        "authority": "Zarnia Police",
        "authority_verification": "called back",
        "jurisdiction": "fr",
        "process_type": "subpoena",
        "document_ref": "ZP-1",
        "document_sha256": "a" * 64,
        "world_id": aurora,
        "persona_id": persona,
        "scope": "persona",
        "categories": ["subscriber"],
        "range_start": "2026-10-01",
        "range_end": "2026-11-27",
        "deadline": "2026-12-10",
    }
    missing = one.post(
        "/staff/lawful",
        data={"csrf_token": csrf(one, "/staff/lawful"), **intake, "document_sha256": ""},
    )
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text
    made = one.post(
        "/staff/lawful",
        data={"csrf_token": csrf(one, "/staff/lawful"), **intake},
        follow_redirects=False,
    )
    assert made.status_code == 303
    path = made.headers["location"]
    mine = one.get(path).text
    assert "a second legal officer must decide" in mine and "Approve" not in mine
    own = one.post(path + "/decision", data={"csrf_token": csrf(one, path), "decision": "approve"})
    assert own.status_code == 403
    approved = two.post(
        path + "/decision", data={"csrf_token": csrf(two, path), "decision": "approve"}
    )
    assert approved.status_code == 200 and "approved" in approved.text
    executed = two.post(path + "/execute", data={"csrf_token": csrf(two, path)})
    assert executed.status_code == 200 and "signed package" in executed.text
    package = two.get(path + "/package")
    assert package.status_code == 200 and package.text.count(".") == 2


def test_the_retention_page_shows_periods_and_the_last_sweeps(
    services: Services, client: TestClient
) -> None:
    auditor = TestClient(client.app)
    staff_sign_in(auditor, services, "aud.one", staff_member(services, "aud.one", Role.AUDITOR))
    before = auditor.get("/staff/retention")
    assert before.status_code == 200
    assert "Retention periods" in before.text and "No sweep has run yet." in before.text
    services.retention.sweep()
    after = auditor.get("/staff/retention")
    assert "What each recent sweep deleted" in after.text
    assert "No sweep has run yet." not in after.text
