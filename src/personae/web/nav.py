"""Navigation: one table of links and who may see each; the server enforces access regardless."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from personae.domain.moderation import reviewer_kind
from personae.domain.staff import Action, Role, may


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str


def _reviews(role: Role) -> bool:
    # A moderator scoped to a world and platform trust & safety both review cases.
    return reviewer_kind(role, None) is not None


def _may(action: Action) -> Callable[[Role], bool]:
    return lambda role: may(role, action)


PERSON_LINKS: tuple[NavLink, ...] = (
    NavLink("Home", "/"),
    NavLink("My identity", "/me/identity"),
    NavLink("My worlds", "/me/worlds"),
    NavLink("Who saw what", "/me/disclosures"),
    NavLink("Passes", "/me/passes"),
    NavLink("Inbox", "/me/inbox"),
    NavLink("Standing", "/me/standing"),
    NavLink("Account", "/me/account"),
)

STAFF_LINKS: tuple[tuple[NavLink, Callable[[Role], bool]], ...] = (
    (NavLink("Staff home", "/staff"), lambda role: True),
    (NavLink("Moderation queue", "/staff/queue"), _reviews),
    (NavLink("Appeals", "/staff/appeals"), _reviews),
    (NavLink("Lawful requests", "/staff/lawful"), _may(Action.HANDLE_LAWFUL_REQUESTS)),
    (NavLink("Legal holds", "/staff/holds"), _may(Action.MANAGE_LEGAL_HOLDS)),
    (
        NavLink("Retention", "/staff/retention"),
        lambda role: role in (Role.ADMIN, Role.AUDITOR, Role.LEGAL_OFFICER),
    ),
)

PUBLIC_LINKS: tuple[NavLink, ...] = (
    NavLink("Worlds", "/worlds"),
    NavLink("Transparency", "/transparency"),
)


def staff_may(role: Role, href: str) -> bool:
    """Whether ``role`` may open the staff section at ``href`` (the pages check this too)."""
    return any(link.href == href and rule(role) for link, rule in STAFF_LINKS)


def nav_for(person: bool, role: Role | None) -> list[NavLink]:
    if role is not None:
        return [link for link, rule in STAFF_LINKS if rule(role)]
    if person:
        return list(PERSON_LINKS)
    return [NavLink("Home", "/"), *PUBLIC_LINKS]
