"""What every service is given: a unit-of-work factory, the clock, keys and the catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from personae.clock import Clock
from personae.crypto.evidence import TrustList
from personae.crypto.keystore import KeyStore
from personae.crypto.passwords import PasswordHashing
from personae.crypto.vault import Pseudonyms, Vault
from personae.domain.catalog import Catalog
from personae.store.uow import UnitOfWork


@dataclass(frozen=True)
class ServiceContext:
    """The collaborators of the use cases; built once in bootstrap."""

    uow: Callable[..., UnitOfWork]
    clock: Clock
    keystore: KeyStore
    vault: Vault
    pseudonyms: Pseudonyms
    catalog: Catalog
    passwords: PasswordHashing
    trust_list: TrustList
    session_ttl_seconds: int
