"""The `personae` command line: serve, demo, admin, keys, db."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from sqlalchemy import make_url

from personae.bootstrap import Services, build
from personae.config import Settings
from personae.domain.staff import Role
from personae.errors import PersonaeError, mapping_for
from personae.services.totp import Enrolment

app = typer.Typer(
    help="personae: one person, one identity, an unlinkable persona per world.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
admin_app = typer.Typer(help="Operator tasks: staff accounts and worlds.", no_args_is_help=True)
keys_app = typer.Typer(help="Key management.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")

P = ParamSpec("P")
R = TypeVar("R")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"personae: {message}", err=True)
    return typer.Exit(code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """One line on stderr and the error's exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except PersonaeError as exc:
            raise _fail(exc.detail, mapping_for(exc).exit_code) from None
        except OSError as exc:
            raise _fail(f"{exc.strerror or exc} ({exc.filename or 'I/O'})", 1) from None

    return wrapper


def _services(**overrides: Any) -> Services:
    return build(Settings(**overrides))


# -- serve and demo -----------------------------------------------------------


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load demo data into an empty store.")
    ] = False,
) -> None:
    """Run the HTTP service (migrating an empty or older database first)."""
    import uvicorn

    from personae.cli.seed import load, save, seed
    from personae.http.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    services = _services()
    # Never sequence onto a log that fails its check: say why, and do not start.
    services.transparency.self_check()
    if demo:
        path = services.settings.data_dir / "demo-credentials.json"
        with services.ctx.uow(write=False) as uow:
            empty = not uow.worlds.all()
        if empty:
            save(seed(services), path)
        if path.exists():
            _print_demo_help(load(path), host, port, path)
    uvicorn.run(
        create_app(services, sweeper=True, sequencer=True),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
    )


def _print_demo_help(creds: Any, host: str, port: int, path: Path) -> None:
    base = f"http://{host}:{port}"
    aurora = creds.worlds["Aurora Plaza"]
    persona = creds.alice_personas["Aurora Plaza"]
    typer.echo(
        f"""
personae is starting on {base} with demo data (secrets in {path}).

  Interactive API docs:  {base}/docs

  # Alice signs in and looks at her identity, personas and who saw what
  curl -s -X POST {base}/v1/sessions -H 'content-type: application/json' \\
       -d '{{"handle": "alice", "password": "{creds.person_password}"}}'
  curl -s {base}/v1/me -H 'authorization: Bearer {creds.alice_token}'
  curl -s {base}/v1/me/personas -H 'authorization: Bearer {creds.alice_token}'

  # Aurora Plaza asks about Alice's persona: it gets age_over_18, never the date
  curl -s {base}/v1/worlds/me/personas/{persona} -H 'authorization: Bearer {aurora["api_key"]}'
  curl -s {base}/v1/me/disclosures -H 'authorization: Bearer {creds.alice_token}'

  # What each world asks for, per purpose (public)
  curl -s {base}/v1/worlds
"""
    )


@app.command()
@handles_errors
def demo() -> None:
    """Tell the story: register, join two worlds, each world sees a different persona."""
    from personae.cli.demo import run_story

    run_story(typer.echo)


# -- admin --------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@admin_app.command("create-staff")
@handles_errors
def create_staff(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, moderator, legal_officer or auditor")],
    world: Annotated[str | None, typer.Option(help="World id, for a world moderator.")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Create a staff account (the password is asked for, never taken as an argument)."""
    services = _services()
    enrolled: list[Enrolment] = []
    record = services.staff.create(
        username,
        _read_password(password_stdin),
        role,
        world,
        # In the account's own transaction: never an account without its second factor.
        also=lambda uow, member: enrolled.append(services.two_factor.enrol_in(uow, member)),
    )
    (enrolment,) = enrolled
    scope = f" for world {record.world_id}" if record.world_id else ""
    typer.echo(f"created {record.role} {record.username}{scope}")
    typer.echo("second factor (TOTP, RFC 6238; shown once — add it to an authenticator app now):")
    typer.echo(f"  secret: {enrolment.secret_base32}")
    typer.echo(f"  uri:    {enrolment.uri}")


@admin_app.command("create-world")
@handles_errors
def create_world(
    file: Annotated[Path, typer.Argument(help="JSON: {name, contact, purposes: [...]}")],
) -> None:
    """Register a world from a JSON file; prints its API key once."""
    try:
        spec = json.loads(file.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise _fail(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}", 2) from None
    if not isinstance(spec, dict):
        raise _fail(f"{file} must hold a JSON object", 2)
    services = _services()
    ttl = spec.get("pass_ttl_seconds")
    if ttl is not None and not isinstance(ttl, int):
        raise _fail("pass_ttl_seconds must be a whole number of seconds", 2)
    registered = services.worlds.register_unchecked(
        str(spec.get("name", "")), str(spec.get("contact", "")), spec.get("purposes"), ttl
    )
    typer.echo(f"world id: {registered.world.id}")
    typer.echo(f"api key:  {registered.api_key}   (shown once; store it now)")


@admin_app.command("list-worlds")
@handles_errors
def list_worlds() -> None:
    """List registered worlds and what they ask for."""
    for world in _services().worlds.list_worlds():
        items = [i["item"] for p in world.purposes for i in p["items"]]
        typer.echo(f"{world.id}  {world.name}  asks: {', '.join(items)}")


# -- keys and db ----------------------------------------------------------------


@keys_app.command("rotate")
@handles_errors
def rotate() -> None:
    """Re-wrap every data key under a new master key (values are not re-encrypted)."""
    report = _services().staff.rotate_master_key()
    typer.echo(
        f"master key {report.old_kid} -> {report.new_kid}: "
        f"{report.data_keys} data keys and {report.secrets} secrets re-wrapped"
    )


@keys_app.command("rotate-pass")
@handles_errors
def rotate_pass(
    publish_ahead: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Seconds the new key is published before it signs "
            "(default: PERSONAE_PASS_KEY_PUBLISH_AHEAD_SECONDS, 2 hours; 0 signs at once).",
        ),
    ] = None,
) -> None:
    """Sign new world passes with a new key, published first so that offline doors
    know it before they meet it; the old key stays published until the last pass it
    signed has expired. Running servers follow within a minute of the switch."""
    services = _services()
    ahead = (
        services.settings.pass_key_publish_ahead_seconds if publish_ahead is None else publish_ahead
    )
    rotation = services.passes.rotate_signing_key(timedelta(seconds=ahead))
    typer.echo(
        f"{rotation.new.kid} is published now and signs passes from "
        f"{rotation.signs_from.isoformat(timespec='seconds')}; {rotation.old_kid} stays "
        f"published at least until {rotation.old_published_until.isoformat(timespec='seconds')}"
    )


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Bring the database schema to the newest revision."""
    services = _services()
    url = make_url(services.settings.resolved_database_url())
    # Never the password: this line ends up in shell and CI logs.
    typer.echo(f"database at the newest revision ({url.render_as_string(hide_password=True)})")


if __name__ == "__main__":  # pragma: no cover
    # `python -m personae.cli.main`: run the importable module, so that the feature
    # groups below (which import this module by name) see one module, not a copy.
    from personae.cli.main import app as _app

    raise SystemExit(_app())

# Feature command groups import ``handles_errors`` from here, so they are added last.
from personae.cli import lawful, moderation, privacy, retention  # noqa: E402

app.add_typer(lawful.lawful_app, name="lawful")
app.add_typer(privacy.privacy_app, name="privacy")
app.add_typer(retention.retention_app, name="retention")
app.add_typer(moderation.moderation_app, name="moderation")

from personae.cli.log import log_app, transparency_app  # noqa: E402

app.add_typer(log_app, name="log")
app.add_typer(transparency_app, name="transparency")
