"""Races settled by the database: one person per handle, however many ask at once."""

from __future__ import annotations

import threading

from tests.helpers import PASSWORD

from personae.bootstrap import Services
from personae.domain.persons import EvidenceKind
from personae.errors import AlreadyRegistered
from personae.services.registry import Registration


def test_concurrent_registrations_of_one_handle_make_one_person(services: Services) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        barrier.wait()
        try:
            services.registry.register(
                Registration("samehandle", PASSWORD, EvidenceKind.SELF_ASSERTED, None, {})
            )
            outcomes.append("created")
        except AlreadyRegistered:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["created"]
    with services.ctx.uow(write=False) as uow:
        assert uow.persons.count() == 1
