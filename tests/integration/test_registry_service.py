"""Registry use cases against real databases: uniqueness, atomicity, evidence, key rotation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from tests.conftest import make_settings
from tests.helpers import AGE_GATE, ALICE, PASSWORD, world

from personae.bootstrap import Services, build
from personae.crypto.jose import public_jwk, sign_compact
from personae.domain.events import EventType
from personae.domain.persons import EvidenceKind
from personae.errors import AlreadyRegistered, EvidenceRejected, InvalidInput, KeystoreError
from personae.services.registry import Registration
from personae.store import tables as t


def _registration(handle: str, **kw: Any) -> Registration:
    return Registration(
        handle=handle,
        password=PASSWORD,
        evidence=kw.get("evidence", EvidenceKind.SELF_ASSERTED),
        evidence_token=kw.get("token"),
        attributes=kw.get("attributes", {}),
    )


def _count(services: Services, table: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_registration_writes_an_event_without_personal_data(services: Services) -> None:
    services.registry.register(_registration("alice", attributes=ALICE))
    with services.ctx.uow(write=False) as uow:
        events = uow.outbox.all()
    assert [e.type for e in events] == [EventType.PERSON_REGISTERED]
    assert events[0].payload == {"assurance": "IAL1", "evidence": "self_asserted"}


def test_a_failure_mid_transaction_leaves_no_partial_rows(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from personae.store.repositories import Outbox

    def fail(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Outbox, "append", fail)
    with pytest.raises(RuntimeError):
        services.registry.register(_registration("alice", attributes=ALICE))
    for table in (t.persons, t.person_attributes, t.evidence_bindings, t.sessions):
        assert _count(services, table) == 0


def _issuer(tmp_path: Path) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    trust = tmp_path / "trust.json"
    trust.write_bytes(
        orjson.dumps(
            {
                "issuers": [
                    {
                        "issuer": "https://id.example.gov",
                        "jwks": {"keys": [{**public_jwk(key), "kid": "k1"}]},
                        "claims": {"birthdate": "birth_date", "name": "legal_name"},
                    }
                ]
            }
        )
    )
    return key, trust


def _evidence(key: ec.EllipticCurvePrivateKey, sub: str, **claims: Any) -> str:
    now = int(time.time())
    return sign_compact(
        key,
        {"kid": "k1", "typ": "JWT"},
        {"iss": "https://id.example.gov", "sub": sub, "iat": now, "exp": now + 600, **claims},
    )


def test_trusted_issuer_evidence_gives_ial2_and_refuses_a_second_registration(
    tmp_path: Path, database_url: str
) -> None:
    key, trust = _issuer(tmp_path)
    settings = make_settings(tmp_path / "data", database_url).model_copy(
        update={"trust_list_path": trust}
    )
    services = build(settings)
    try:
        token = _evidence(key, "doc-123", birthdate="1990-01-02", name="Ada Lovelace")
        done = services.registry.register(
            _registration("ada", evidence=EvidenceKind.TRUSTED_ISSUER, token=token)
        )
        assert done.assurance == "IAL2"
        who = services.auth.person(done.session.token)
        profile = services.registry.profile(who)
        assert {a.name: (a.value, a.evidence) for a in profile.attributes} == {
            "birth_date": ("1990-01-02", "trusted_issuer"),
            "legal_name": ("Ada Lovelace", "trusted_issuer"),
        }
        with pytest.raises(InvalidInput):  # an evidence-backed value is not self-asserted over
            services.registry.set_attribute(who, "birth_date", "1991-01-01")

        again = _evidence(key, "doc-123")
        with pytest.raises(AlreadyRegistered) as refused:
            services.registry.register(
                _registration("ada2", evidence=EvidenceKind.TRUSTED_ISSUER, token=again)
            )
        assert "ada" not in refused.value.detail

        forged = ec.generate_private_key(ec.SECP256R1())
        with pytest.raises(EvidenceRejected):
            services.registry.register(
                _registration(
                    "eve", evidence=EvidenceKind.TRUSTED_ISSUER, token=_evidence(forged, "doc-999")
                )
            )
        assert _count(services, t.persons) == 1
    finally:
        services.close()


def test_rotating_the_master_key_keeps_values_opening_without_reencryption(
    services: Services,
) -> None:
    done = services.registry.register(_registration("alice", attributes=ALICE))
    who = services.auth.person(done.session.token)
    with services.engine.connect() as conn:
        before = dict(
            conn.execute(select(t.person_attributes.c.name, t.person_attributes.c.sealed)).all()
        )
    old = services.keystore.current_master_kid()
    report = services.staff.rotate_master_key()
    assert report.old_kid == old and report.new_kid != old and report.data_keys == 1
    with services.engine.connect() as conn:
        after = dict(
            conn.execute(select(t.person_attributes.c.name, t.person_attributes.c.sealed)).all()
        )
    assert before == after  # values untouched
    profile = services.registry.profile(who)
    assert {a.name: a.value for a in profile.attributes}["legal_name"] == ALICE["legal_name"]
    with services.ctx.uow(write=False) as uow:
        assert uow.outbox.all()[-1].type == EventType.KEY_ROTATED


def test_values_do_not_open_without_the_owners_key(services: Services) -> None:
    done = services.registry.register(_registration("alice", attributes=ALICE))
    who = services.auth.person(done.session.token)
    services.ctx.vault.shred(f"person:{who.person_id}")
    with pytest.raises(KeystoreError):
        services.registry.profile(who)


def test_persona_values_follow_consent(services: Services) -> None:
    aurora, _ = world(services, "Aurora", AGE_GATE)
    done = services.registry.register(_registration("alice", attributes=ALICE))
    who = services.auth.person(done.session.token)
    joined = services.registry.join(who, aurora, ["birth_date@age_over_18"])
    persona = joined.persona.persona_id
    with services.ctx.uow(write=False) as uow:
        assert set(uow.persona_values.for_persona(persona)) == {"birth_date"}
    services.registry.set_consent(who, persona, "languages@exact", True)
    with services.ctx.uow(write=False) as uow:
        assert set(uow.persona_values.for_persona(persona)) == {"birth_date", "languages"}
    services.registry.set_consent(who, persona, "birth_date@age_over_18", False)
    with services.ctx.uow(write=False) as uow:
        assert set(uow.persona_values.for_persona(persona)) == {"languages"}
