"""Demo data: one admin, two worlds, three persons with attributes (serve --demo)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from personae.bootstrap import Services
from personae.domain.persons import EvidenceKind
from personae.domain.staff import Role
from personae.services.auth import PersonPrincipal
from personae.services.registry import Registration

AURORA: dict[str, Any] = {
    "name": "Aurora Plaza",
    "contact": "safety@aurora-plaza.example",
    "purposes": [
        {
            "name": "age gate",
            "description": "Aurora Plaza hosts adult social spaces.",
            "items": [
                {"item": "birth_date@age_over_18", "required": True, "why": "adults only"},
            ],
        },
        {
            "name": "matchmaking",
            "description": "Suggest rooms where people speak your languages.",
            "items": [
                {"item": "languages@exact", "required": False, "why": "room suggestions"},
                {"item": "country_of_residence@region", "required": False, "why": "time zones"},
            ],
        },
    ],
}

GUILDHALL: dict[str, Any] = {
    "name": "Guildhall",
    "contact": "trust@guildhall.example",
    "purposes": [
        {
            "name": "professional rooms",
            "description": "Rooms for people of a profession, checked at the door.",
            "items": [
                {"item": "occupation@major_group", "required": True, "why": "room access"},
                {"item": "birth_date@age_band", "required": False, "why": "mentoring pairs"},
            ],
        }
    ],
}

PERSONS: list[dict[str, Any]] = [
    {
        "handle": "alice",
        "attributes": {
            "birth_date": "1991-04-12",
            "country_of_residence": "FR",
            "languages": ["fr", "en"],
            "legal_name": "Alice Martin",
            "occupation": "2512",
        },
    },
    {
        "handle": "bob",
        "attributes": {
            "birth_date": "2003-09-30",
            "country_of_residence": "KE",
            "languages": ["sw", "en"],
            "occupation": "7411",
        },
    },
    {
        "handle": "chen",
        "attributes": {
            "birth_date": "1978-01-05",
            "country_of_residence": "SG",
            "languages": ["zh", "en", "ms"],
            "occupation": "2211",
            "affiliation": "Harbourfront Clinic",
        },
    },
]


@dataclass(frozen=True)
class DemoCredentials:
    admin_username: str
    admin_password: str
    person_password: str
    worlds: dict[str, dict[str, str]]  # name -> {"id", "api_key"}
    alice_token: str
    alice_personas: dict[str, str]  # world name -> persona id


def seed(services: Services) -> DemoCredentials:
    """Load the demo story's data into an empty store; returns the secrets it made."""
    # Hex cannot spell a handle (alice, bob, chen, admin), which the password policy refuses.
    admin_password = "demo-staff-" + secrets.token_hex(8)
    person_password = "demo-person-" + secrets.token_hex(8)
    services.staff.create("admin", admin_password, Role.ADMIN)
    worlds = {}
    for spec in (AURORA, GUILDHALL):
        registered = services.worlds.register_unchecked(
            spec["name"], spec["contact"], spec["purposes"]
        )
        worlds[spec["name"]] = {"id": registered.world.id, "api_key": registered.api_key}
    tokens = {}
    for person in PERSONS:
        result = services.registry.register(
            Registration(
                handle=person["handle"],
                password=person_password,
                evidence=EvidenceKind.SELF_ASSERTED,
                evidence_token=None,
                attributes=person["attributes"],
            )
        )
        tokens[person["handle"]] = result.session.token
    alice = services.auth.person(tokens["alice"])
    personas = {
        "Aurora Plaza": _join(
            services,
            alice,
            worlds["Aurora Plaza"]["id"],
            ["birth_date@age_over_18", "languages@exact"],
        ),
        "Guildhall": _join(services, alice, worlds["Guildhall"]["id"], ["occupation@major_group"]),
    }
    return DemoCredentials(
        "admin", admin_password, person_password, worlds, tokens["alice"], personas
    )


def _join(services: Services, who: PersonPrincipal, world_id: str, consent: list[str]) -> str:
    return services.registry.join(who, world_id, consent).persona.persona_id


def save(credentials: DemoCredentials, path: Path) -> None:
    """Keep the demo's secrets beside the data, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(credentials), out, indent=2)


def load(path: Path) -> DemoCredentials:
    return DemoCredentials(**json.loads(path.read_text("utf-8")))
