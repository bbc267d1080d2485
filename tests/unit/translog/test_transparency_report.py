"""The transparency report over synthetic entries: every figure, the period, handling times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from personae.translog.leaves import format_time
from personae.translog.report import build_report

DAY = datetime(2026, 3, 10, tzinfo=UTC)


def _e(kind: str, at: datetime, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "time": format_time(at), **payload}


def _decision(
    at: datetime, measure: str, clauses: str, automated: bool, **kw: Any
) -> dict[str, Any]:
    return _e(
        "moderation.decision_made",
        at,
        decision_id=f"dec_{at.timestamp():.0f}",
        case_id="c_1",
        world_id="w_1",
        measure=measure,
        clauses=clauses,
        automated=automated,
        **kw,
    )


ENTRIES = [
    _e("person.registered", DAY, assurance="IAL1", evidence="self_asserted"),
    _e(
        "moderation.report_received",
        DAY,
        world_id="w_1",
        clause_scope="world",
        reporter_kind="person",
    ),
    _e(
        "moderation.report_received",
        DAY,
        world_id="w_1",
        clause_scope="world",
        reporter_kind="world",
    ),
    _e(
        "moderation.report_received",
        DAY,
        world_id="w_1",
        clause_scope="platform",
        reporter_kind="person",
    ),
    _decision(DAY, "suspension", "world:3.2,platform:1.1", False, handling_seconds=3600),
    _decision(DAY, "suspension", "world:3.2", True, handling_seconds=60),
    _decision(DAY, "warning", "world:2.0", False, handling_seconds=600),
    _decision(DAY, "ban", "", False),
    _e("moderation.appeal_decided", DAY, appeal_id="a_1", outcome="reversed", handling_seconds=100),
    _e("moderation.appeal_decided", DAY, appeal_id="a_2", outcome="upheld", handling_seconds=300),
    _e("moderation.appeal_decided", DAY, appeal_id="a_3", outcome="modified"),
    _e("moderation.platform_scope_opened", DAY, decision_id="dec_x", case_id="c_1"),
    # a request received before the period and decided inside it still has a handling time
    _e(
        "lawful.request_received",
        DAY - timedelta(days=20),
        request_id="lr_old",
        jurisdiction="FR",
        process_type="court_order",
    ),
    _e(
        "lawful.request_received",
        DAY,
        request_id="lr_1",
        jurisdiction="DE",
        process_type="subpoena",
    ),
    _e(
        "lawful.request_received",
        DAY,
        request_id="lr_2",
        jurisdiction="DE",
        process_type="court_order",
    ),
    _e("lawful.request_decided", DAY + timedelta(hours=2), request_id="lr_1", decision="rejected"),
    _e("lawful.request_decided", DAY + timedelta(days=1), request_id="lr_old", decision="approved"),
    _e(
        "lawful.request_decided",
        DAY + timedelta(days=1),
        request_id="lr_unknown",
        decision="narrowed",
    ),
    _e("lawful.produced", DAY + timedelta(days=1), request_id="lr_old", records=3),
    _e(
        "lawful.unmasked",
        DAY + timedelta(days=1),
        request_id="lr_old",
        jurisdiction="FR",
        process_type="court_order",
    ),
    _e(
        "lawful.request_closed",
        DAY + timedelta(days=2),
        request_id="lr_old",
        outcome="produced_full",
        accounts=1,
    ),
    _e(
        "lawful.request_closed",
        DAY + timedelta(days=2),
        request_id="lr_1",
        outcome="rejected",
        accounts=2,
    ),
    _e("hold.created", DAY, hold_id="h_1", basis="preservation_order", days=90),
    _e("hold.created", DAY, hold_id="h_2", basis="litigation", days=90),
    _e("hold.extended", DAY, hold_id="h_1", basis="preservation_order", days=90),
    _e("hold.ended", DAY + timedelta(days=3), hold_id="h_2", basis="litigation"),
    _e(
        "moderation.decision_made",
        DAY + timedelta(days=40),
        measure="mute",
        clauses="world:9",
        automated=False,
    ),
]


def test_every_figure_over_the_whole_log() -> None:
    report = build_report(ENTRIES, None, None)
    assert report.entries == len(ENTRIES)
    assert report.notices_by_reporter == {"person": 2, "world": 1}
    mod = report.moderation
    assert mod.decisions == 5
    assert mod.by_measure == {"ban": 1, "mute": 1, "suspension": 2, "warning": 1}
    assert mod.by_clause == {
        "platform:1.1": 1,
        "unspecified": 1,
        "world:2.0": 1,
        "world:3.2": 2,
        "world:9": 1,
    }
    assert (mod.automated, mod.not_automated) == (1, 4)
    assert mod.median_handling_seconds == 600.0
    assert report.appeals.decided == 3
    assert report.appeals.by_outcome == {"modified": 1, "reversed": 1, "upheld": 1}
    assert report.appeals.reversals == 1
    assert report.appeals.median_handling_seconds == 200.0
    lawful = report.lawful_requests
    assert lawful.received == 3
    assert lawful.by_country == {"DE": 2, "FR": 1}
    assert lawful.by_process_type == {"court_order": 2, "subpoena": 1}
    assert lawful.decisions == {"approved": 1, "narrowed": 1, "rejected": 1}
    assert lawful.outcomes == {"produced_full": 1, "rejected": 1}
    assert lawful.accounts_specified == 3
    assert lawful.productions == 1
    # lr_1 took 2 h, lr_old 21 days; lr_unknown has no receipt in the log
    assert lawful.median_handling_seconds == (2 * 3600 + 21 * 86400) / 2
    holds = report.legal_holds
    assert (holds.placed, holds.extended, holds.ended) == (2, 1, 1)
    assert holds.by_basis == {"litigation": 1, "preservation_order": 1}
    assert report.unmaskings.lawful == 1
    assert report.unmaskings.lawful_by_country == {"FR": 1}
    assert report.unmaskings.platform_moderation == 1


def test_the_period_selects_by_day_inclusive_of_both_ends() -> None:
    day = DAY.date()
    report = build_report(ENTRIES, day + timedelta(days=1), day + timedelta(days=2))
    assert report.entries == 6
    assert report.moderation.decisions == 0
    assert report.lawful_requests.received == 0
    assert report.lawful_requests.decisions == {"approved": 1, "narrowed": 1}
    assert report.lawful_requests.median_handling_seconds == 21 * 86400
    assert report.lawful_requests.outcomes == {"produced_full": 1, "rejected": 1}
    assert report.unmaskings.lawful == 1
    only_first_day = build_report(ENTRIES, day, day)
    assert only_first_day.moderation.decisions == 4
    assert only_first_day.lawful_requests.decisions == {"rejected": 1}
    assert only_first_day.lawful_requests.median_handling_seconds == 2 * 3600


def test_an_empty_period_reports_zeros_and_no_medians() -> None:
    report = build_report(ENTRIES, date(2030, 1, 1), None)
    body = report.to_dict()
    assert body["start"] == "2030-01-01" and body["end"] is None
    assert body["entries"] == 0
    assert body["moderation"] == {
        "decisions": 0,
        "by_measure": {},
        "by_clause": {},
        "automated": 0,
        "not_automated": 0,
        "median_handling_seconds": None,
    }
    assert body["appeals"]["median_handling_seconds"] is None
