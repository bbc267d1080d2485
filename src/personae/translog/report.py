"""The transparency report: public numbers computed from decoded log entries alone.

Anyone holding the log can recompute it: the report reads nothing but entries
(``translog.leaves.decode_entry``), selects those whose ``time`` falls on a day of
the period, and counts. Handling times come from the entries too: a decision's or
an appeal's ``handling_seconds``, and for lawful requests the time from the
``lawful.request_received`` entry to the ``lawful.request_decided`` entry of the
same public request id (wherever before it in the log the first one is).

``ReportIndex`` keeps running per-day totals, extended entry by entry in log order,
so a server reads each entry once however many reports it answers; any period's
report merges the days it covers. ``build_report`` is the same over a list.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from personae.domain.events import EventType
from personae.translog.leaves import parse_time

UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class Moderation:
    decisions: int = 0
    by_measure: dict[str, int] = field(default_factory=dict)
    by_clause: dict[str, int] = field(default_factory=dict)
    automated: int = 0
    not_automated: int = 0
    median_handling_seconds: float | None = None


@dataclass(frozen=True)
class Appeals:
    decided: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    reversals: int = 0
    median_handling_seconds: float | None = None


@dataclass(frozen=True)
class LawfulRequests:
    received: int = 0
    by_country: dict[str, int] = field(default_factory=dict)
    by_process_type: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    accounts_specified: int = 0
    productions: int = 0
    median_handling_seconds: float | None = None


@dataclass(frozen=True)
class LegalHolds:
    placed: int = 0
    extended: int = 0
    ended: int = 0
    by_basis: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unmaskings:
    lawful: int = 0
    lawful_by_country: dict[str, int] = field(default_factory=dict)
    platform_moderation: int = 0


@dataclass(frozen=True)
class TransparencyReport:
    """The numbers for days ``start``..``end`` (inclusive, UTC; None: unbounded)."""

    start: date | None
    end: date | None
    entries: int
    notices_by_reporter: dict[str, int]
    moderation: Moderation
    appeals: Appeals
    lawful_requests: LawfulRequests
    legal_holds: LegalHolds
    unmaskings: Unmaskings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO 8601 text."""
        body = asdict(self)
        body["start"] = self.start.isoformat() if self.start else None
        body["end"] = self.end.isoformat() if self.end else None
        return body


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return str(value) if value is not None and value != "" else UNSPECIFIED


def _int(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))


class _Tally:
    """Counters of some entries: one day's, or a period's (the merge of its days)."""

    def __init__(self) -> None:
        self.c: dict[str, Counter[str]] = {}
        self.handling: dict[str, list[int]] = {"decision": [], "appeal": [], "lawful": []}
        self.entries = 0

    def add(self, group: str, key: str, by: int = 1) -> None:
        self.c.setdefault(group, Counter())[key] += by

    def get(self, group: str) -> Counter[str]:
        return self.c.get(group, Counter())

    def total(self, group: str) -> int:
        return sum(self.get(group).values())

    def merge(self, other: _Tally) -> None:
        for group, counter in other.c.items():
            self.c.setdefault(group, Counter()).update(counter)
        for kind, values in other.handling.items():
            self.handling[kind].extend(values)
        self.entries += other.entries


def _count(
    tally: _Tally, entry: Mapping[str, Any], at: datetime, received: Mapping[str, datetime]
) -> None:
    kind = entry["type"]
    if kind == EventType.REPORT_RECEIVED:
        tally.add("notices", _text(entry, "reporter_kind"))
    elif kind == EventType.DECISION_MADE:
        tally.add("measure", _text(entry, "measure"))
        for clause in _text(entry, "clauses").split(","):
            tally.add("clause", clause.strip() or UNSPECIFIED)
        tally.add("automated", "yes" if entry.get("automated") is True else "no")
        if (seconds := _int(entry, "handling_seconds")) is not None:
            tally.handling["decision"].append(seconds)
    elif kind == EventType.APPEAL_DECIDED:
        tally.add("appeal", _text(entry, "outcome"))
        if (seconds := _int(entry, "handling_seconds")) is not None:
            tally.handling["appeal"].append(seconds)
    elif kind == EventType.PLATFORM_SCOPE_OPENED:
        tally.add("platform_unmasking", "opened")
    elif kind == EventType.LAWFUL_REQUEST_RECEIVED:
        tally.add("country", _text(entry, "jurisdiction"))
        tally.add("process", _text(entry, "process_type"))
    elif kind == EventType.LAWFUL_REQUEST_DECIDED:
        tally.add("decision", _text(entry, "decision"))
        opened = received.get(_text(entry, "request_id"))
        if opened is not None and opened <= at:
            tally.handling["lawful"].append(int((at - opened).total_seconds()))
    elif kind == EventType.LAWFUL_REQUEST_CLOSED:
        tally.add("outcome", _text(entry, "outcome"))
        tally.add("accounts", "total", _int(entry, "accounts") or 0)
    elif kind == EventType.LAWFUL_PRODUCED:
        tally.add("production", "made")
    elif kind == EventType.LAWFUL_UNMASKED:
        tally.add("unmasking", _text(entry, "jurisdiction"))
    elif kind in (EventType.HOLD_CREATED, EventType.HOLD_EXTENDED, EventType.HOLD_ENDED):
        tally.add("hold", str(kind))
        if kind == EventType.HOLD_CREATED:
            tally.add("hold_basis", _text(entry, "basis"))


class ReportIndex:
    """Per-day totals of a log's first ``size`` entries, extended in log order.

    Memory grows with the days the log spans, the handling times it records and
    the lawful requests it names, not with its entries.
    """

    def __init__(self) -> None:
        self.size = 0
        self._days: dict[date, _Tally] = {}
        self._received: dict[str, datetime] = {}

    def extend(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Count the entries that follow the ones counted so far."""
        for entry in entries:
            at = parse_time(entry["time"])
            if entry["type"] == EventType.LAWFUL_REQUEST_RECEIVED:
                self._received[_text(entry, "request_id")] = at
            day = at.date()  # the UTC day: entry times are UTC
            tally = self._days.get(day)
            if tally is None:
                tally = self._days[day] = _Tally()
            tally.entries += 1
            _count(tally, entry, at, self._received)
            self.size += 1

    def report(self, start: date | None, end: date | None) -> TransparencyReport:
        """The numbers for days ``start``..``end`` (inclusive; None: unbounded).

        Days are compared as dates, so no bound is ever computed past the last
        representable day (``to=9999-12-31`` is a valid period end).
        """
        tally = _Tally()
        for day, totals in self._days.items():
            if (start is None or start <= day) and (end is None or day <= end):
                tally.merge(totals)
        return _report(tally, start, end)


def build_report(
    entries: Iterable[Mapping[str, Any]], start: date | None, end: date | None
) -> TransparencyReport:
    """Count the entries whose time falls on days ``start``..``end`` (one pass, in log order)."""
    index = ReportIndex()
    index.extend(entries)
    return index.report(start, end)


def _report(tally: _Tally, start: date | None, end: date | None) -> TransparencyReport:
    automated = tally.get("automated")
    holds = tally.get("hold")
    return TransparencyReport(
        start=start,
        end=end,
        entries=tally.entries,
        notices_by_reporter=_sorted(tally.get("notices")),
        moderation=Moderation(
            decisions=tally.total("measure"),
            by_measure=_sorted(tally.get("measure")),
            by_clause=_sorted(tally.get("clause")),
            automated=automated["yes"],
            not_automated=automated["no"],
            median_handling_seconds=_median(tally.handling["decision"]),
        ),
        appeals=Appeals(
            decided=tally.total("appeal"),
            by_outcome=_sorted(tally.get("appeal")),
            reversals=tally.get("appeal")["reversed"],
            median_handling_seconds=_median(tally.handling["appeal"]),
        ),
        lawful_requests=LawfulRequests(
            received=tally.total("country"),
            by_country=_sorted(tally.get("country")),
            by_process_type=_sorted(tally.get("process")),
            decisions=_sorted(tally.get("decision")),
            outcomes=_sorted(tally.get("outcome")),
            accounts_specified=tally.get("accounts")["total"],
            productions=tally.total("production"),
            median_handling_seconds=_median(tally.handling["lawful"]),
        ),
        legal_holds=LegalHolds(
            placed=holds[EventType.HOLD_CREATED],
            extended=holds[EventType.HOLD_EXTENDED],
            ended=holds[EventType.HOLD_ENDED],
            by_basis=_sorted(tally.get("hold_basis")),
        ),
        unmaskings=Unmaskings(
            lawful=tally.total("unmasking"),
            lawful_by_country=_sorted(tally.get("unmasking")),
            platform_moderation=tally.total("platform_unmasking"),
        ),
    )
