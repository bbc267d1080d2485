"""Background tasks inside `personae serve`: run a use case every N seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from personae.errors import PersonaeError

log = logging.getLogger("personae.periodic")


class PeriodicTask:
    """Runs ``task`` every ``interval`` seconds on a daemon thread until stopped.

    The task outlives a failed run: the failure is logged and the next run retries.
    A PersonaeError's detail is safe to log (a damaged log says why it refuses);
    any other exception is logged by type only, as its message may carry values.
    """

    def __init__(self, name: str, task: Callable[[], object], interval: float) -> None:
        self.name = name
        self._task = task
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.failures = 0

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._task()
            except PersonaeError as exc:
                self.failures += 1
                log.error("%s refused: %s", self.name, exc.detail)
            except Exception as exc:
                self.failures += 1
                log.error("%s failed: %s", self.name, type(exc).__name__)
            self.runs += 1
            self._stop.wait(self._interval)
