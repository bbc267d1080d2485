"""The report's per-day totals: the edges of the calendar, and extension in any chunks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from personae.translog.leaves import format_time
from personae.translog.report import ReportIndex, build_report

FIRST = datetime(1000, 1, 1, tzinfo=UTC)  # strftime writes years < 1000 unpadded
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def _e(kind: str, at: datetime, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "time": format_time(at), **payload}


def _entries(count: int, seed: int) -> list[dict[str, Any]]:
    """A mixed log over a few weeks: decisions, appeals, lawful requests, holds."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        at = start + timedelta(hours=rng.randrange(24 * 21))
        kind = rng.choice(["decision", "appeal", "received", "decided", "hold", "other"])
        if kind == "decision":
            out.append(
                _e(
                    "moderation.decision_made",
                    at,
                    measure=rng.choice(["ban", "warning"]),
                    clauses=rng.choice(["world:1", "world:1,platform:2", ""]),
                    automated=rng.random() < 0.3,
                    handling_seconds=rng.randrange(10_000),
                )
            )
        elif kind == "appeal":
            outcome = rng.choice(["upheld", "reversed"])
            out.append(_e("moderation.appeal_decided", at, outcome=outcome, handling_seconds=i))
        elif kind == "received":
            out.append(
                _e(
                    "lawful.request_received",
                    at,
                    request_id=f"r{i % 7}",
                    jurisdiction=rng.choice(["DE", "US"]),
                    process_type="subpoena",
                )
            )
        elif kind == "decided":
            out.append(_e("lawful.request_decided", at, request_id=f"r{i % 7}", decision="narrow"))
        elif kind == "hold":
            out.append(_e("lawful.hold_created", at, hold_id=f"h{i}", basis="preservation"))
        else:
            out.append(_e("world.registered", at, world_id=f"w{i}"))
    return out


@pytest.mark.parametrize(
    ("start", "end", "counted"),
    [
        (None, date.max, 2),
        (date.max, None, 1),
        (date.max, date.max, 1),
        (date.min, date.min, 0),
        (date.min, date.max, 2),
        (None, date.min, 0),
    ],
)
def test_the_first_and_last_representable_days_are_valid_bounds(
    start: date | None, end: date | None, counted: int
) -> None:
    entries = [_e("world.registered", FIRST, world_id="a"), _e("world.registered", LAST)]
    report = build_report(entries, start, end)
    assert report.entries == counted
    assert report.to_dict()["end"] == (end.isoformat() if end else None)


def test_the_last_second_of_the_end_day_counts_and_the_next_does_not() -> None:
    day = date(2026, 3, 10)
    end_of_day = datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)
    entries = [
        _e("world.registered", end_of_day),
        _e("world.registered", end_of_day + timedelta(seconds=1)),
        _e("world.registered", datetime(2026, 3, 10, tzinfo=UTC) - timedelta(seconds=1)),
    ]
    assert build_report(entries, day, day).entries == 1


@pytest.mark.parametrize("seed", range(5))
def test_extending_in_any_chunks_gives_the_report_of_one_pass(seed: int) -> None:
    entries = _entries(400, seed)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(entries)), 6))
    index = ReportIndex()
    for first, stop in zip([0, *cuts], [*cuts, len(entries)], strict=True):
        index.extend(entries[first:stop])
        assert index.size == stop
    days = [None, date(2026, 3, 1), date(2026, 3, 7), date(2026, 3, 21), date(2026, 4, 1)]
    for start in days:
        for end in days:
            if start is not None and end is not None and start > end:
                continue
            assert index.report(start, end) == build_report(entries, start, end)


def test_a_lawful_handling_time_spans_days_and_periods() -> None:
    opened = datetime(2026, 3, 1, 9, tzinfo=UTC)
    entries = [
        _e("lawful.request_received", opened, request_id="r1", jurisdiction="DE"),
        _e("lawful.request_decided", opened + timedelta(days=3), request_id="r1", decision="x"),
    ]
    index = ReportIndex()
    index.extend(entries[:1])
    index.extend(entries[1:])
    later = index.report(date(2026, 3, 4), date(2026, 3, 4))
    assert later.lawful_requests.received == 0
    assert later.lawful_requests.median_handling_seconds == 3 * 86400
