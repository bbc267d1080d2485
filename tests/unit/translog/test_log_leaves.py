"""Log entries from events: canonical bytes, commitments in place of personas, nothing personal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.domain.events import ALLOWED_KEYS, Event, EventType
from personae.translog.entries import SALT_SIZE, canonical_json, commitment
from personae.translog.leaves import (
    RESERVED_FIELDS,
    PendingEvent,
    UnloggableEvent,
    build_entry,
    decode_entry,
    encode_entry,
    format_time,
    parse_time,
    prepare_leaves,
)
from personae.translog.merkle import leaf_hash

AT = datetime(2026, 11, 26, 12, 30, 15, 987654, tzinfo=UTC)

# Names that would carry personal data; no event type may allow one as a payload key.
PERSONAL = {
    "person_id",
    "persona_id",
    "persona",
    "person",
    "subject",
    "name",
    "legal_name",
    "handle",
    "email",
    "birth_date",
    "address",
    "reporter",
    "explanation",
    "reasons",
    "attributes",
    "value",
    "ip",
}


def _pending(event_id: int = 1, **kw: object) -> PendingEvent:
    defaults: dict[str, object] = {
        "type": "world.registered",
        "occurred_at": AT,
        "payload": {"world_id": "w_1"},
    }
    defaults.update(kw)
    return PendingEvent(event_id, **defaults)  # type: ignore[arg-type]


def test_an_entry_is_canonical_json_of_type_time_and_payload() -> None:
    (leaf,) = prepare_leaves([_pending(payload={"world_id": "w_1", "items": 2})], 7)
    assert leaf.index == 7 and leaf.event_id == 1
    assert (
        leaf.entry
        == b'{"items":2,"time":"2026-11-26T12:30:15Z","type":"world.registered","world_id":"w_1"}'
    )
    assert leaf.hash == leaf_hash(leaf.entry)
    assert leaf.salt is None and leaf.persona_id is None


def test_time_is_utc_to_the_second_and_round_trips() -> None:
    local = AT.astimezone(timezone(timedelta(hours=-5)))
    assert format_time(local) == "2026-11-26T12:30:15Z"
    assert parse_time(format_time(local)) == AT.replace(microsecond=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(AT.replace(tzinfo=None))


def test_a_persona_is_logged_only_as_a_salted_commitment() -> None:
    salts = iter([bytes([1]) * SALT_SIZE, bytes([2]) * SALT_SIZE])
    leaves = prepare_leaves(
        [_pending(1, persona_id="PERSONAABC"), _pending(2, persona_id="PERSONAABC")],
        0,
        make_salt=lambda: next(salts),
    )
    first, second = (decode_entry(leaf.entry) for leaf in leaves)
    assert b"PERSONAABC" not in leaves[0].entry + leaves[1].entry
    assert first["subject"] == hashlib.sha256(bytes([1]) * SALT_SIZE + b"PERSONAABC").hexdigest()
    assert first["subject"] == commitment(leaves[0].salt or b"", "PERSONAABC")
    # fresh salt per entry: two entries about one persona cannot be linked
    assert first["subject"] != second["subject"]
    assert [leaf.persona_id for leaf in leaves] == ["PERSONAABC", "PERSONAABC"]


@pytest.mark.parametrize(
    ("pending", "reason"),
    [
        (_pending(type="person.renamed"), "unknown type 'person.renamed'"),
        (
            _pending(payload={"world_id": "w", "person_id": "p_1"}),
            "may not carry \\['person_id'\\]",
        ),
        (_pending(payload={"world_id": ["not", "scalar"]}), "must be a scalar"),
        (_pending(payload={"world_id": 2**60}), "outbox event 1"),
    ],
    ids=["unknown type", "key not allowed", "not a scalar", "beyond 2**53"],
)
def test_an_event_that_breaks_the_rules_is_not_logged(pending: PendingEvent, reason: str) -> None:
    with pytest.raises(UnloggableEvent, match=reason):
        prepare_leaves([pending], 0)


def test_no_payload_key_may_take_a_field_the_log_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ALLOWED_KEYS, EventType.WORLD_REGISTERED, frozenset({"time"}))
    event = Event(EventType.WORLD_REGISTERED, AT, {"time": "yesterday"})
    with pytest.raises(UnloggableEvent, match="reserved entry fields \\['time'\\]"):
        build_entry(event)


def test_no_event_type_allows_a_personal_key() -> None:
    for kind, keys in ALLOWED_KEYS.items():
        assert not keys & PERSONAL, kind
        assert not keys & RESERVED_FIELDS, kind
    assert set(ALLOWED_KEYS) == set(EventType)


BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # persona ids are base32 HMACs
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20)
)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(sorted(EventType)),
    data=st.data(),
    persona=st.one_of(st.none(), st.text(alphabet=BASE32, min_size=26, max_size=26)),
)
def test_entries_hold_only_allowed_keys_and_never_the_persona(
    kind: EventType, data: st.DataObject, persona: str | None
) -> None:
    keys = sorted(ALLOWED_KEYS[kind])
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    payload = {key: data.draw(_scalars) for key in chosen}
    pending = PendingEvent(3, str(kind), AT, payload, persona)
    (leaf,) = prepare_leaves([pending], 0)
    entry = decode_entry(leaf.entry)
    assert set(entry) <= {"type", "time"} | set(ALLOWED_KEYS[kind]) | (
        {"subject"} if persona else set()
    )
    assert entry["type"] == kind and entry["time"] == "2026-11-26T12:30:15Z"
    assert {k: entry[k] for k in chosen} == payload
    if persona is not None:
        assert entry["subject"] == commitment(leaf.salt or b"", persona)
        assert persona.encode() not in leaf.entry or persona in payload.values()


@pytest.mark.parametrize(
    "data", [b"\xff", b"[1]", b'{"type": 1, "time": "t"}', b'{"type": "x"}', b"{"]
)
def test_decoding_refuses_what_is_not_an_entry(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_entry(data)


_json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**54), 2**54),
    st.text(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(
    entry=st.dictionaries(
        st.one_of(st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True), st.text(max_size=4)),
        _json_values,
        max_size=8,
    )
)
def test_the_fast_encoder_writes_exactly_rfc8785(entry: dict[str, object]) -> None:
    try:
        expected = canonical_json(entry)  # type: ignore[arg-type]
    except ValueError:
        with pytest.raises(ValueError):
            encode_entry(entry)  # type: ignore[arg-type]
        return
    assert encode_entry(entry) == expected  # type: ignore[arg-type]


def test_the_fast_encoder_escapes_as_rfc8785_does() -> None:
    entry = {"a": 'quote" back\\ nl\n tab\t ctl\x01\x1f del\x7f \u2028 é 😀', "b": -(2**53) + 1}
    assert encode_entry(entry) == canonical_json(entry)  # type: ignore[arg-type]
