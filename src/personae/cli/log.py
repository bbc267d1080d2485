"""`personae log` (sequence, check, verify, show, rotate-key) and `personae transparency report`."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from personae.cli.main import _fail, _services, handles_errors
from personae.services.transparency_sequencer import AfterLeaves
from personae.translog.checkpoint import CheckpointError, parse_checkpoint
from personae.translog.client import LogClient, LogClientError
from personae.translog.verifier import (
    VerificationFailed,
    default_state_dir,
    parse_key,
    state_dir_for,
    verify_log,
)

log_app: typer.Typer = typer.Typer(
    help="The transparency log: sequence, check, verify, show.", no_args_is_help=True
)
transparency_app: typer.Typer = typer.Typer(
    help="Public numbers computed from the transparency log.", no_args_is_help=True
)

VERIFY_FAILED = 9
"""Exit code of a log that fails verification (unreachable or malformed answers: 1)."""
CRASH_EXIT = 17


def _http(url: str) -> httpx.Client:
    """The HTTP client the verifier uses (tests put the app in-process behind it)."""
    return httpx.Client(base_url=url, timeout=30)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _crash_hook(batch: int | None) -> AfterLeaves | None:
    """Fault injection: end the process, uncommitted, once batch ``batch`` wrote its leaves."""
    if batch is None:
        return None
    seen = 0

    def crash() -> None:
        nonlocal seen
        seen += 1
        if seen >= batch:
            os._exit(CRASH_EXIT)

    return crash


@log_app.command("sequence")
@handles_errors
def sequence(
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=50_000, help="Events per transaction.")
    ] = None,
    crash_after_leaves: Annotated[int | None, typer.Option(hidden=True, min=1)] = None,
) -> None:
    """Check the stored log, then log every pending event (one transaction per batch)."""
    services = _services()
    try:
        services.transparency.self_check()
        done = services.transparency.sequence_pending(
            batch_size=batch_size, after_leaves=_crash_hook(crash_after_leaves)
        )
    finally:
        services.close()
    typer.echo(
        f"logged {done.events} events in {done.batches} batches; "
        f"checkpoint at size {done.size}, root {_b64(done.root_hash)}"
    )


@log_app.command("check")
@handles_errors
def check() -> None:
    """Check every stored leaf and node, and the last checkpoint's root and signature."""
    services = _services()
    try:
        audit = services.transparency.self_check()
    finally:
        services.close()
    typer.echo(
        f"ok: {audit.size} entries, every leaf and node agrees with the signed checkpoint "
        f"(root {_b64(audit.root_hash)})"
    )


@log_app.command("verify")
def verify(
    url: Annotated[str, typer.Option(help="Base URL of the personae service.")],
    full: Annotated[
        bool, typer.Option("--full", help="Fetch every entry and recompute the root.")
    ] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where pinned keys and seen checkpoints are kept.", show_default=False),
    ] = None,
    repin: Annotated[
        bool,
        typer.Option(
            "--repin",
            help="Follow a log key rotation: only one announced in a checkpoint the pinned key"
            " signed.",
        ),
    ] = False,
) -> None:
    """Verify a log independently: signature, consistency with last time, optionally all."""
    directory = state_dir_for(state_dir or default_state_dir(), url)
    try:
        with _http(url) as http:
            result = verify_log(LogClient(http), directory, url, full=full, repin=repin)
    except VerificationFailed as exc:
        raise _fail(str(exc), VERIFY_FAILED) from None
    except LogClientError as exc:
        raise _fail(str(exc), 1) from None
    except OSError as exc:
        raise _fail(f"{exc.strerror or exc} ({exc.filename or 'state dir'})", 1) from None
    typer.echo(result.summary())


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def describe(index: int, data: bytes) -> str:
    """One entry on one line: index, time, type, then its fields."""
    try:
        entry = json.loads(data)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return f"#{index:<7} (not a JSON object: {len(data)} bytes)"
    kind, at = entry.pop("type", "?"), entry.pop("time", "?")
    fields = "  ".join(f"{k}={_value(v)}" for k, v in sorted(entry.items()))
    return f"#{index:<7} {at}  {kind:<32} {fields}".rstrip()


def _remote_recent(url: str, count: int) -> list[tuple[int, bytes]]:
    with _http(url) as http:
        client = LogClient(http)
        key = parse_key(client.verifier_key())
        size = parse_checkpoint(client.checkpoint(), key.name, key.public_key).size
        start = max(0, size - count)
        return list(enumerate(client.entries(start, size), start)) if size else []


@log_app.command("show")
@handles_errors
def show(
    count: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries.")] = 20,
    url: Annotated[
        str | None, typer.Option(help="Read a served log instead of the local store.")
    ] = None,
) -> None:
    """Print the most recent entries, oldest first."""
    if url is not None:
        try:
            recent = _remote_recent(url, count)
        except (LogClientError, CheckpointError, VerificationFailed) as exc:
            raise _fail(str(exc), 1) from None
    else:
        services = _services()
        try:
            recent = services.transparency.recent(count)
        finally:
            services.close()
    if not recent:
        typer.echo("the log is empty")
    for index, data in recent:
        typer.echo(describe(index, data))


@log_app.command("rotate-key")
@handles_errors
def rotate_key() -> None:
    """Rotate the log signing key; the rotation is logged and checkpointed under the old key
    (which verifiers pinned to it follow with `log verify --repin`), then the new key signs."""
    services = _services()
    try:
        rotation = services.transparency.rotate_log_key()
    finally:
        services.close()
    typer.echo(
        f"log key {rotation.old_kid} -> {rotation.new_kid}; logged, checkpoint at size "
        f"{rotation.size} signed by the old key and countersigned by {rotation.verifier_key}"
    )


_DAY = ["%Y-%m-%d"]


@transparency_app.command("report")
@handles_errors
def report(
    start: Annotated[
        datetime | None, typer.Option("--from", formats=_DAY, help="First day (UTC).")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=_DAY, help="Last day, inclusive.")
    ] = None,
) -> None:
    """The public numbers, computed from log entries alone, as JSON."""
    services = _services()
    try:
        head, figures = services.transparency.report(
            start.date() if start else None, end.date() if end else None
        )
    finally:
        services.close()
    body = {"checkpoint": {"size": head.size, "root": _b64(head.root_hash)}, **figures.to_dict()}
    typer.echo(json.dumps(body, indent=2))
