"""`personae lawful`: check a production package's signature and manifest offline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from personae.cli.main import _fail, _services, handles_errors
from personae.crypto.jose import JoseError, split_compact, verify_compact
from personae.services.production import SIGNING_PURPOSE
from personae.translog.entries import canonical_json

lawful_app: typer.Typer = typer.Typer(help="Lawful access.", no_args_is_help=True)


@lawful_app.command("verify-package")
@handles_errors
def verify_package(
    file: Annotated[Path, typer.Argument(help="The package as downloaded (compact JWS).")],
) -> None:
    """Verify the operator's signature and that the data matches the manifest's SHA-256."""
    token = file.read_text("ascii").strip()
    services = _services()
    try:
        keys = {k.kid: k for k in services.keystore.verification_keys(SIGNING_PURPOSE)}
    finally:
        services.close()
    try:
        header = split_compact(token)[0]
        key = keys.get(str(header.get("kid")))
        if key is None:
            raise _fail("signed by a key this operator does not hold", 2)
        _, payload = verify_compact(token, key.public_key)
    except JoseError as exc:
        raise _fail(f"not a valid package: {exc}", 2) from None
    manifest, data = payload["manifest"], payload["data"]
    if hashlib.sha256(canonical_json(data)).hexdigest() != manifest["data_sha256"]:
        raise _fail("the data does not match the manifest's SHA-256", 2)
    counts = ", ".join(f"{k}={v}" for k, v in manifest["record_counts"].items())
    typer.echo(f"valid package for request {manifest['request_id']}: {counts}")
