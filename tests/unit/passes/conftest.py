"""Fixtures for world pass tests: a world in each signature algorithm."""

from __future__ import annotations

import pytest
from tests.unit.passes.pass_world import World, new_key


@pytest.fixture(params=["ES256", "EdDSA"])
def alg(request: pytest.FixtureRequest) -> str:
    """Each supported signature algorithm in turn."""
    return str(request.param)


@pytest.fixture
def world(alg: str) -> World:
    """A world whose issuer and holder both sign with ``alg``."""
    return World(issuer_key=new_key(alg), holder_key=new_key(alg))


@pytest.fixture
def es_world() -> World:
    """A world with ES256 issuer and holder keys."""
    return World(issuer_key=new_key("ES256"), holder_key=new_key("ES256"))
