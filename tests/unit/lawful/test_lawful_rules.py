"""The compel table, approvals, notice timing, holds and retention periods: pure rules."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from personae.domain.lawful_access import (
    COMPELS,
    HOLD_PERIODS,
    Category,
    HoldBasis,
    HoldWindow,
    Outcome,
    ProcessType,
    Status,
    TargetScope,
    approvable,
    notice_time,
    outcome_of,
)
from personae.domain.retention import RETENTION, RecordClass, RetentionPolicy
from personae.errors import Conflict, InvalidInput
from personae.services.production import PackageBuilder, production_scope
from personae.store.lawful_repo import LawfulRequestRecord

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
C = Category


def request(
    process: ProcessType, asked: list[str], approved: list[str] | None
) -> LawfulRequestRecord:
    return LawfulRequestRecord(
        id="lr_1",
        authority="A",
        authority_verification="v",
        jurisdiction="US",
        process_type=process.value,
        document_ref="d",
        document_sha256="0" * 64,
        target_world_id="w",
        target_persona_id="p",
        target_scope="persona",
        categories=asked,
        range_start=NOW,
        range_end=NOW,
        nondisclosure_until=None,
        deadline=NOW,
        justification=None,
        status=Status.APPROVED.value,
        intake_by="s1",
        intake_at=NOW,
        decided_by="s2",
        approved_categories=approved,
    )


def test_the_compel_table_grows_with_the_process() -> None:
    assert COMPELS[ProcessType.SUBPOENA].compels == {C.SUBSCRIBER}
    assert COMPELS[ProcessType.COURT_ORDER].compels == {
        C.SUBSCRIBER,
        C.IDENTITY,
        C.DISCLOSURES,
        C.MODERATION,
    }
    assert COMPELS[ProcessType.SEARCH_WARRANT].compels == set(Category)
    assert not COMPELS[ProcessType.SUBPOENA].may_unmask
    assert COMPELS[ProcessType.PRESERVATION].hold is HoldBasis.US_2703F
    assert COMPELS[ProcessType.EU_PRESERVATION_ORDER].hold is HoldBasis.EU_PRESERVATION
    assert set(COMPELS) == set(ProcessType)


def test_approval_stays_within_request_and_law() -> None:
    asked = frozenset({C.SUBSCRIBER, C.ATTRIBUTES})
    with pytest.raises(InvalidInput, match="cannot compel attributes"):
        approvable(ProcessType.COURT_ORDER, asked, asked, TargetScope.PERSONA)
    with pytest.raises(InvalidInput, match="did not ask"):
        approvable(ProcessType.COURT_ORDER, asked, frozenset({C.IDENTITY}), TargetScope.PERSONA)
    ok = approvable(ProcessType.COURT_ORDER, asked, frozenset({C.SUBSCRIBER}), TargetScope.PERSONA)
    assert ok == {C.SUBSCRIBER}
    with pytest.raises(InvalidInput):
        approvable(ProcessType.SUBPOENA, asked, frozenset({C.SUBSCRIBER}), TargetScope.PERSON)


def test_outcomes_and_notice_times() -> None:
    both = frozenset({C.SUBSCRIBER, C.IDENTITY})
    assert outcome_of(ProcessType.COURT_ORDER, both, both) is Outcome.PRODUCED_FULL
    assert (
        outcome_of(ProcessType.COURT_ORDER, both, frozenset({C.SUBSCRIBER}))
        is Outcome.PRODUCED_PART
    )
    assert outcome_of(ProcessType.PRESERVATION, frozenset(), frozenset()) is Outcome.PRESERVED
    ninety = timedelta(days=90)
    order = NOW + timedelta(days=30)
    assert notice_time(ProcessType.SUBPOENA, NOW, None, ninety) == NOW
    assert notice_time(ProcessType.SUBPOENA, NOW, order, ninety) == order
    assert notice_time(ProcessType.EMERGENCY, NOW, None, ninety) == NOW + ninety
    assert notice_time(ProcessType.EMERGENCY, NOW, order, ninety) == order


def test_holds_extend_once() -> None:
    window = HoldWindow.opened(HoldBasis.EU_PRESERVATION, NOW)
    assert window.ends_at == NOW + timedelta(days=60)
    extended = window.extended()
    assert extended.ends_at == NOW + timedelta(days=120)
    with pytest.raises(Conflict):
        extended.extended()
    assert HOLD_PERIODS[HoldBasis.US_2703F] == timedelta(days=90)


def test_every_record_class_has_a_period() -> None:
    policy = RetentionPolicy.defaults()
    assert set(policy.periods) == set(RecordClass) == set(RETENTION)
    assert policy.periods[RecordClass.DISCLOSURES] == timedelta(days=365)
    assert policy.periods[RecordClass.SESSIONS] == timedelta(days=30)
    with pytest.raises(ValueError, match="no retention period"):
        RetentionPolicy({RecordClass.SESSIONS: timedelta(days=1)})


def test_the_package_builder_cannot_be_asked_for_a_category() -> None:
    # By construction: build() takes the request and nothing that names categories.
    params = list(inspect.signature(PackageBuilder.build).parameters)
    assert params == ["self", "uow", "request", "now"]
    # The scope is the approval, never what was asked ...
    asked = request(ProcessType.SEARCH_WARRANT, ["subscriber", "attributes"], ["subscriber"])
    assert production_scope(asked) == {C.SUBSCRIBER}
    # ... intersected with the compel table, even if a stored approval says more.
    tampered = request(
        ProcessType.SUBPOENA, ["subscriber"], ["subscriber", "attributes", "identity"]
    )
    assert production_scope(tampered) == {C.SUBSCRIBER}
    # An unapproved request has no scope at all (emergency aside).
    with pytest.raises(Conflict):
        production_scope(replace(asked, status=Status.RECEIVED.value, decided_by=None))
    with pytest.raises(Conflict):
        production_scope(replace(asked, status=Status.REJECTED.value))
    emergency = replace(
        request(ProcessType.EMERGENCY, ["subscriber"], None),
        status=Status.RECEIVED.value,
        decided_by=None,
    )
    assert production_scope(emergency) == {C.SUBSCRIBER}
