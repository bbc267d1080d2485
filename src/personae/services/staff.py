"""Use cases of the operator: staff accounts and key rotation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from personae.crypto import tokens
from personae.domain.events import Event, EventType
from personae.domain.persons import check_password
from personae.domain.staff import Role, check_staff_shape
from personae.errors import Conflict, NotFound
from personae.services.context import ServiceContext
from personae.store.records import StaffRecord
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class KeyRotationReport:
    old_kid: str
    new_kid: str
    data_keys: int
    secrets: int


class StaffService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def create(
        self,
        username: str,
        password: str,
        role: Role,
        world_id: str | None = None,
        *,
        also: Callable[[UnitOfWork, StaffRecord], object] | None = None,
    ) -> StaffRecord:
        """A staff account; ``also`` runs in the same transaction (e.g. enrolling its
        second factor), so a failure there leaves no account behind."""
        username = username.strip().lower()
        check_staff_shape(username, role, world_id)
        check_password(password, username)
        record = StaffRecord(
            tokens.new_id("s_"),
            username,
            self.ctx.passwords.hash(password),
            role.value,
            world_id,
            self.ctx.clock.now(),
        )
        with self.ctx.uow() as uow:
            if uow.staff.by_username(username) is not None:
                raise Conflict(f"staff username {username!r} is taken")
            if world_id is not None and uow.worlds.get(world_id) is None:
                raise NotFound("no such world")
            uow.staff.add(record)
            if also is not None:
                also(uow, record)
        return record

    def rotate_master_key(self) -> KeyRotationReport:
        """Re-wrap every data key and secret under a new master key, and log that it happened."""
        rotation = self.ctx.keystore.rotate_master()
        with self.ctx.uow() as uow:
            uow.outbox.append(
                Event(
                    EventType.KEY_ROTATED,
                    self.ctx.clock.now(),
                    {
                        "key": "master",
                        "old_kid": rotation.old_master_kid,
                        "new_kid": rotation.new_master_kid,
                        "rewrapped": rotation.data_keys_rewrapped + rotation.secrets_rewrapped,
                    },
                )
            )
        return KeyRotationReport(
            rotation.old_master_kid,
            rotation.new_master_kid,
            rotation.data_keys_rewrapped,
            rotation.secrets_rewrapped,
        )
