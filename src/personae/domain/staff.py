"""Staff roles and what each may do: one table, read by the services."""

from __future__ import annotations

import re
from enum import StrEnum

from personae.errors import FieldError, InvalidInput


class Role(StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    LEGAL_OFFICER = "legal_officer"
    AUDITOR = "auditor"


class Action(StrEnum):
    REGISTER_WORLD = "register_world"
    LIST_WORLDS = "list_worlds"
    PUBLISH_PLATFORM_POLICY = "publish_platform_policy"
    HANDLE_LAWFUL_REQUESTS = "handle_lawful_requests"
    MANAGE_LEGAL_HOLDS = "manage_legal_holds"


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(
        {Action.REGISTER_WORLD, Action.LIST_WORLDS, Action.PUBLISH_PLATFORM_POLICY}
    ),
    Role.MODERATOR: frozenset(),
    Role.LEGAL_OFFICER: frozenset({Action.HANDLE_LAWFUL_REQUESTS, Action.MANAGE_LEGAL_HOLDS}),
    Role.AUDITOR: frozenset({Action.LIST_WORLDS}),
}

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def may(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def check_staff_shape(username: str, role: Role, world_id: str | None) -> None:
    """A valid username; only a moderator may be scoped to one world."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            "username must be 3-64 of [a-z0-9._-]", [FieldError(("username",), "invalid")]
        )
    if world_id is not None and role is not Role.MODERATOR:
        raise InvalidInput(
            "only a moderator can be scoped to a world", [FieldError(("world_id",), "moderators")]
        )
