"""Pure rules: handles, passwords, world terms and consent plans, typed events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from personae.domain.catalog import default_catalog
from personae.domain.events import Event, EventType
from personae.domain.persons import check_password, normalize_handle
from personae.domain.staff import Action, Role, check_staff_shape, may
from personae.domain.worlds import parse_terms, plan_join
from personae.errors import (
    ConsentRequired,
    InvalidInput,
    UnknownAttribute,
    WeakPassword,
)

CATALOG = default_catalog()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_handles_are_normalized_and_checked() -> None:
    assert normalize_handle("  Alice.M ") == "alice.m"
    for bad in ("ab", "a" * 65, "al ice", "-alice", "alicé"):
        with pytest.raises(InvalidInput):
            normalize_handle(bad)


@pytest.mark.parametrize(
    "password",
    ["short", "x" * 129, "password1234", "abababababababab", "my-alice-password"],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password(password, "alice")


def test_a_good_password_passes() -> None:
    check_password("violet rain over the harbour", "alice")


def _terms(items: list[dict[str, Any]]) -> Any:
    return parse_terms([{"name": "p", "description": "d", "items": items}], CATALOG)


def test_terms_are_validated_against_the_catalog() -> None:
    terms = _terms(
        [
            {"item": "birth_date@age_over_18", "required": True, "why": "adults"},
            {"item": "languages@exact", "why": "rooms"},
        ]
    )
    assert terms.required_items() == {"birth_date@age_over_18"}
    assert terms.items() == {"birth_date@age_over_18", "languages@exact"}
    with pytest.raises(UnknownAttribute):
        _terms([{"item": "birth_date@day_of_week", "why": "x"}])
    with pytest.raises(UnknownAttribute):
        _terms([{"item": "blood_type@exact", "why": "x"}])
    with pytest.raises(InvalidInput) as missing_why:
        _terms([{"item": "languages@exact"}])
    assert missing_why.value.errors[0].loc == ("purposes", 0, "items", 0, "why")
    with pytest.raises(InvalidInput):
        parse_terms([], CATALOG)
    with pytest.raises(InvalidInput):
        parse_terms([{"name": "p", "description": "d", "items": []}], CATALOG)
    with pytest.raises(InvalidInput):
        _terms([{"item": "languages@exact", "required": "yes", "why": "x"}])


def test_join_plans_need_every_required_item_and_nothing_unasked() -> None:
    terms = _terms(
        [
            {"item": "birth_date@age_over_18", "required": True, "why": "adults"},
            {"item": "languages@exact", "why": "rooms"},
        ]
    )
    plan = plan_join(terms, ["birth_date@age_over_18"], CATALOG)
    assert plan.granted == {"birth_date@age_over_18"}
    with pytest.raises(ConsentRequired):
        plan_join(terms, ["languages@exact"], CATALOG)
    with pytest.raises(InvalidInput):
        plan_join(terms, ["birth_date@age_over_18", "legal_name@exact"], CATALOG)


def test_events_refuse_payload_keys_their_type_does_not_allow() -> None:
    Event(EventType.PERSONA_CREATED, NOW, {"world_id": "w_1"})
    with pytest.raises(ValueError, match="may not carry"):
        Event(EventType.PERSONA_CREATED, NOW, {"world_id": "w_1", "persona_id": "abc"})
    with pytest.raises(ValueError, match="scalar"):
        Event(EventType.CONSENT_GRANTED, NOW, {"world_id": ["w_1"]})  # type: ignore[dict-item]


def test_roles_and_scopes() -> None:
    assert may(Role.ADMIN, Action.REGISTER_WORLD)
    assert not may(Role.MODERATOR, Action.REGISTER_WORLD)
    check_staff_shape("mod.one", Role.MODERATOR, "w_1")
    with pytest.raises(InvalidInput):
        check_staff_shape("admin", Role.ADMIN, "w_1")
