"""`personae retention`: run the retention sweep now (serve also runs it periodically)."""

from __future__ import annotations

from typing import Annotated

import typer

from personae.cli.main import _services, handles_errors

retention_app: typer.Typer = typer.Typer(
    help="Retention: delete what has expired.", no_args_is_help=True
)


@retention_app.command("sweep")
@handles_errors
def sweep(
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=50_000, help="Rows per transaction.")
    ] = None,
) -> None:
    """Delete every expired record not under a legal hold, in batches; print the summary."""
    services = _services()
    try:
        report = services.retention.sweep(batch_size)
    finally:
        services.close()
    typer.echo(report.summary())
