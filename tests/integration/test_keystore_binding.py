"""A database refuses to start with another keystore than the one it was made with."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import make_settings
from tests.helpers import ALICE

from personae.bootstrap import build
from personae.domain.persons import EvidenceKind
from personae.errors import KeystoreError
from personae.services.registry import Registration


def test_a_database_refuses_another_keystore(tmp_path: Path, database_url: str) -> None:
    # Started from another directory (the data directory defaults to a relative path),
    # a server made a new keystore on the same database: nothing opened any more, and
    # the same evidence could register a second time (found in review).
    first = build(make_settings(tmp_path / "one", database_url))
    try:
        first.registry.register(
            Registration("alice", "a long test passphrase", EvidenceKind.SELF_ASSERTED, None, ALICE)
        )
    finally:
        first.close()
    again = build(make_settings(tmp_path / "one", database_url))  # the same keystore: fine
    again.close()
    with pytest.raises(KeystoreError, match="another keystore"):
        build(make_settings(tmp_path / "two", database_url))
