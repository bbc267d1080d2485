"""A unit of work whose BEGIN fails gives its connection back and its writer lock up."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from personae.bootstrap import Services
from personae.store.uow import writer_lock


def test_a_failed_begin_leaks_no_connection(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The connection stayed checked out until garbage collection (found in review).
    before = services.engine.pool.checkedout()  # type: ignore[attr-defined]

    def busy(self: Connection) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(Connection, "begin", busy)
    with pytest.raises(RuntimeError) as caught, services.ctx.uow():
        pass
    monkeypatch.undo()
    # The traceback is still held (as a logging handler may hold it): only an explicit
    # close gives the connection back, not the garbage collector.
    assert "locked" in str(caught.value)
    assert services.engine.pool.checkedout() == before  # type: ignore[attr-defined]
    del caught
    lock = writer_lock(services.engine)
    if lock is not None:  # SQLite: the in-process writer lock is free again
        assert lock.acquire(blocking=False)
        lock.release()
    with services.ctx.uow(write=False) as uow:
        assert uow.worlds.ids() is not None
