"""Today's migrations go down and up again with data in place, on both databases."""

from __future__ import annotations

from alembic import command
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers import AGE_GATE, ALICE, join, register, world

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.crypto.jose import public_jwk
from personae.domain.moderation import Measure
from personae.store import migrate
from personae.store import tables as t


def _count(services: Services, table: object) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_the_moderation_and_pass_key_revisions_go_down_and_up_with_data(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    # moderation2's downgrade rebuilt `sanctions` on SQLite, which the foreign key of
    # sanction_passes refused once a sanction had revoked a pass (found in review).
    aurora, _ = world(services, "Aurora", AGE_GATE)
    alice = register(client, "alice", ALICE)
    persona = join(client, alice, aurora, ["birth_date@age_over_18"])
    holder = public_jwk(ec.generate_private_key(ec.SECP256R1()))
    issued = client.post(
        f"/v1/me/personas/{persona}/passes", headers=alice, json={"holder_jwk": holder}
    )
    assert issued.status_code == 201
    with services.ctx.uow(write=False) as uow:
        record = uow.personas.get(persona)
    assert record is not None
    with services.ctx.uow() as uow:
        revoked = services.decisions.enforcement.apply(
            uow,
            "dec_x",
            Measure.BAN,
            [record],
            starts_at=clock.now(),
            ends_at=None,
            now=clock.now(),
        )
    assert revoked == 1
    assert client.get("/v1/me/standing", headers=alice).status_code == 200
    before = {name: _count(services, table) for name, table in _TABLES.items()}

    config = migrate._config()
    with services.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "moderation1")
        command.downgrade(config, "passes2")
    with services.engine.connect() as conn:
        columns = {c["name"] for c in conn.dialect.get_columns(conn, "sanctions")}
    assert "platform" not in columns
    migrate.upgrade(services.engine)
    assert migrate.is_current(services.engine)
    assert {name: _count(services, table) for name, table in _TABLES.items()} == before


_TABLES = {
    "sanctions": t.sanctions,
    "sanction_passes": t.sanction_passes,
    "standing_assurance": t.standing_assurance,
    "pass_signing_keys": t.pass_signing_keys,
}
