"""Sealing personal values under per-owner data keys; the services never hold key bytes.

Two kinds of owner have a data key: a person (their attribute values) and a
persona (its copy of the values its consents need). The record's identity is
the associated data, so a sealed value moved to another row does not open.
Destroying an owner's key (``shred``) makes every copy of its values, backups
included, unreadable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from personae.crypto import envelope
from personae.crypto.keystore import KeyStore
from personae.crypto.pseudonyms import lookup_hash, open_escrow, persona_id, seal_escrow

JSONValue = Any


def person_owner(person_id: str) -> str:
    return f"person:{person_id}"


def persona_owner(persona: str) -> str:
    return f"persona:{persona}"


def _aad(owner: str, name: str) -> bytes:
    return f"personae/value/{owner}/{name}".encode()


class Vault:
    """Seals and opens JSON values for an owner; opens many with one key fetch."""

    def __init__(self, keystore: KeyStore) -> None:
        self._keystore = keystore

    def new_key(self, owner: str) -> None:
        self._keystore.create_data_key(owner)

    def seal(self, owner: str, values: Mapping[str, JSONValue]) -> dict[str, bytes]:
        key = self._keystore.data_key(owner)
        return {
            name: envelope.seal(key, orjson.dumps(value), _aad(owner, name))
            for name, value in values.items()
        }

    def open(self, owner: str, sealed: Mapping[str, bytes]) -> dict[str, JSONValue]:
        if not sealed:
            return {}
        key = self._keystore.data_key(owner)
        return {
            name: orjson.loads(envelope.open_sealed(key, blob, _aad(owner, name)))
            for name, blob in sealed.items()
        }

    def shred(self, owner: str) -> bool:
        return self._keystore.destroy_data_key(owner)


class Pseudonyms:
    """Persona ids, the escrowed reverse link and keyed lookup hashes, keys kept inside."""

    def __init__(self, keystore: KeyStore) -> None:
        self._keystore = keystore

    def persona_id(self, world_id: str, person_id: str) -> str:
        return persona_id(self._keystore.secret("pseudonym"), world_id, person_id)

    def seal_link(self, persona: str, world_id: str, person_id: str) -> bytes:
        return seal_escrow(self._keystore.secret("escrow"), persona, world_id, person_id)

    def open_link(self, persona: str, world_id: str, sealed: bytes) -> str:
        """Only an approved unmasking may call this (lawful access, platform-scope decision)."""
        return open_escrow(self._keystore.secret("escrow"), persona, world_id, sealed)

    def lookup(self, kind: str, *parts: str) -> bytes:
        return lookup_hash(self._keystore.secret("lookup"), kind, *parts)
