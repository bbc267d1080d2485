"""Who is calling: person and staff sessions, world API keys, and the principals they yield."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from personae.crypto import tokens
from personae.domain.persons import normalize_handle
from personae.domain.staff import Role
from personae.errors import InvalidInput, NotAuthenticated
from personae.services.context import ServiceContext
from personae.store.uow import UnitOfWork

MAX_SECRET_LENGTH = 512


@dataclass(frozen=True)
class PersonPrincipal:
    person_id: str


@dataclass(frozen=True)
class StaffPrincipal:
    staff_id: str
    username: str
    role: Role
    world_id: str | None


@dataclass(frozen=True)
class WorldPrincipal:
    world_id: str
    name: str


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: datetime


_FAILED = "handle or password is wrong"


def open_session(
    ctx: ServiceContext, uow: UnitOfWork, kind: str, principal_id: str
) -> IssuedSession:
    """A new opaque session token; only its hash is stored."""
    now = ctx.clock.now()
    prefix = tokens.PERSON_SESSION if kind == "person" else tokens.STAFF_SESSION
    token = tokens.new_token(prefix)
    expires = now + timedelta(seconds=ctx.session_ttl_seconds)
    uow.sessions.add(tokens.token_hash(token), kind, principal_id, now, expires)
    return IssuedSession(token, expires)


# A world calls on every visitor; its key is looked up once per this many seconds.
# (World keys are not revocable yet; revocation will have to clear this cache.)
WORLD_KEY_CACHE_SECONDS = 30.0
WORLD_KEY_CACHE_SIZE = 4096


class AuthService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._worlds: dict[bytes, tuple[WorldPrincipal, float]] = {}

    def person_sign_in(self, handle: str, password: str) -> IssuedSession:
        """A session for a person; the same answer for an unknown handle and a wrong password."""
        if len(password) > MAX_SECRET_LENGTH:
            raise NotAuthenticated(_FAILED)
        try:
            canonical = normalize_handle(handle)
        except InvalidInput:
            raise NotAuthenticated(_FAILED) from None
        with self.ctx.uow() as uow:
            person = uow.persons.by_handle_hash(self.ctx.pseudonyms.lookup("handle", canonical))
            ok = self.ctx.passwords.verify(person.password_hash if person else None, password)
            if person is None or not ok or person.status != "active":
                raise NotAuthenticated(_FAILED)
            return open_session(self.ctx, uow, "person", person.id)

    def _session(self, uow: UnitOfWork, token: str, kind: str) -> str:
        record = uow.sessions.get(tokens.token_hash(token))
        if record is None or record.principal_kind != kind:
            raise NotAuthenticated("missing, unknown or expired credentials")
        if record.expires_at <= self.ctx.clock.now():
            raise NotAuthenticated("missing, unknown or expired credentials")
        return record.principal_id

    def person(self, token: str) -> PersonPrincipal:
        if not token.startswith(tokens.PERSON_SESSION) or len(token) > MAX_SECRET_LENGTH:
            raise NotAuthenticated("missing, unknown or expired credentials")
        with self.ctx.uow(write=False) as uow:
            person_id = self._session(uow, token, "person")
            person = uow.persons.get(person_id)
            if person is None or person.status != "active":
                raise NotAuthenticated("missing, unknown or expired credentials")
            return PersonPrincipal(person_id)

    def staff(self, token: str) -> StaffPrincipal:
        if not token.startswith(tokens.STAFF_SESSION) or len(token) > MAX_SECRET_LENGTH:
            raise NotAuthenticated("missing, unknown or expired credentials")
        with self.ctx.uow(write=False) as uow:
            member = uow.staff.get(self._session(uow, token, "staff"))
            if member is None:
                raise NotAuthenticated("missing, unknown or expired credentials")
            return StaffPrincipal(member.id, member.username, Role(member.role), member.world_id)

    def cached_world(self, api_key: str) -> WorldPrincipal | None:
        """The world behind a key looked up in the last few seconds, without I/O; else None."""
        return self._cached_world(tokens.token_hash(api_key))

    def _cached_world(self, key_hash: bytes) -> WorldPrincipal | None:
        cached = self._worlds.get(key_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def world(self, api_key: str) -> WorldPrincipal:
        if not api_key.startswith(tokens.WORLD_KEY) or len(api_key) > MAX_SECRET_LENGTH:
            raise NotAuthenticated("missing, unknown or expired credentials")
        key_hash = tokens.token_hash(api_key)
        cached = self._cached_world(key_hash)
        if cached is not None:
            return cached
        with self.ctx.uow(write=False) as uow:
            world = uow.worlds.by_api_key_hash(key_hash)
        if world is None:
            raise NotAuthenticated("missing, unknown or expired credentials")
        principal = WorldPrincipal(world.id, world.name)
        if len(self._worlds) >= WORLD_KEY_CACHE_SIZE:
            self._worlds.clear()
        self._worlds[key_hash] = (principal, time.monotonic() + WORLD_KEY_CACHE_SECONDS)
        return principal

    def sign_out(self, token: str) -> None:
        with self.ctx.uow() as uow:
            uow.sessions.remove(tokens.token_hash(token))
