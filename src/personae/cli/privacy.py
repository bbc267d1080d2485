"""`personae privacy`: a person's data export for the operator (Art. 15/20 requests by mail)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from personae.cli.main import _services, handles_errors

privacy_app: typer.Typer = typer.Typer(help="Data subject rights.", no_args_is_help=True)


@privacy_app.command("export")
@handles_errors
def export(handle: Annotated[str, typer.Argument(help="The person's sign-in handle.")]) -> None:
    """Print everything held about the person as JSON (on stdout)."""
    services = _services()
    try:
        document = services.export.for_handle(handle)
    finally:
        services.close()
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
