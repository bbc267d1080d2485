"""The command line: admin tasks, key rotation, schema upgrade, the demo story, error exits."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import make_url
from tests.helpers import AGE_GATE, PASSWORD
from typer.testing import CliRunner

from personae.cli.main import app
from personae.services.totp import StaffTwoFactorService

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "PERSONAE_DATA_DIR": str(tmp_path / "data"),
        "PERSONAE_DATABASE_URL": database_url,
        "PERSONAE_ARGON2_TIME_COST": "1",
        "PERSONAE_ARGON2_MEMORY_KIB": "1024",
        "PERSONAE_ARGON2_PARALLELISM": "1",
    }


def test_db_upgrade_create_staff_world_and_rotate(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "newest revision" in result.output

    result = runner.invoke(
        app,
        ["admin", "create-staff", "root", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "created admin root" in result.output
    assert PASSWORD not in result.output

    spec = tmp_path / "world.json"
    spec.write_text(json.dumps({"name": "Aurora", "contact": "a@b.example", "purposes": AGE_GATE}))
    result = runner.invoke(app, ["admin", "create-world", str(spec)], env=env)
    assert result.exit_code == 0, result.output
    assert "pwk_" in result.output

    result = runner.invoke(app, ["admin", "list-worlds"], env=env)
    assert "Aurora" in result.output and "birth_date@age_over_18" in result.output
    assert "pwk_" not in result.output

    result = runner.invoke(app, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-wrapped" in result.output


def test_errors_are_one_line_with_an_exit_code(env: dict[str, str], tmp_path: Path) -> None:
    weak = runner.invoke(
        app,
        ["admin", "create-staff", "root", "--role", "admin", "--password-stdin"],
        input="short\n",
        env=env,
    )
    assert weak.exit_code == 2
    assert weak.output.strip().count("\n") == 0
    assert "Traceback" not in weak.output

    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = runner.invoke(app, ["admin", "create-world", str(bad)], env=env)
    assert result.exit_code == 2 and "not valid JSON" in result.output

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"name": "X", "contact": "c", "purposes": [{"name": "p"}]}))
    result = runner.invoke(app, ["admin", "create-world", str(wrong)], env=env)
    assert result.exit_code == 2 and "personae:" in result.output

    missing = runner.invoke(app, ["admin", "create-world", str(tmp_path / "absent.json")], env=env)
    assert missing.exit_code == 1 and "absent.json" in missing.output

    scoped = runner.invoke(
        app,
        [
            "admin",
            "create-staff",
            "mod",
            "--role",
            "moderator",
            "--world",
            "w_none",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
    )
    assert scoped.exit_code == 5


def test_demo_tells_the_story(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert (
        "Aurora Plaza sees {'birth_date@age_over_18': True, 'languages@exact': ['fr', 'en']}" in out
    )
    assert "Guildhall sees {'occupation@major_group': '2 Professionals'}" in out
    assert "Guildhall's persona: 404" in out
    assert "1991-04-12" not in out


def test_rotating_the_pass_key_from_the_command_line(env: dict[str, str]) -> None:
    first = runner.invoke(app, ["keys", "rotate-pass"], env=env)
    assert first.exit_code == 0, first.output
    assert "is published now and signs passes from" in first.output
    second = runner.invoke(app, ["keys", "rotate-pass", "--publish-ahead", "0"], env=env)
    assert second.exit_code == 0, second.output
    new_kid = second.output.split(" is published now")[0].strip()
    assert new_kid not in first.output
    assert "stays published at least until" in second.output
    refused = runner.invoke(app, ["keys", "rotate-pass", "--publish-ahead", "-5"], env=env)
    assert refused.exit_code != 0


def test_db_upgrade_never_prints_the_database_password(env: dict[str, str]) -> None:
    # It echoed the URL as given, password included, into shell and CI logs (review).
    url = make_url(env["PERSONAE_DATABASE_URL"])
    if url.get_backend_name() == "postgresql":  # trust auth here: any password is let in
        url = url.set(username=url.username or "postgres", password="s3cret-pw")
        env = {**env, "PERSONAE_DATABASE_URL": url.render_as_string(hide_password=False)}
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "newest revision" in result.output
    assert "s3cret-pw" not in result.output


def test_the_data_directory_and_embedded_database_are_private(tmp_path: Path) -> None:
    # Created under the usual umask 022, the database was readable by every local user.
    old = os.umask(0o022)
    try:
        data = tmp_path / "data"
        result = runner.invoke(
            app,
            ["db", "upgrade"],
            env={"PERSONAE_DATA_DIR": str(data), "PERSONAE_DATABASE_URL": ""},
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.glob("personae.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert (data / "personae.db").exists()


def test_a_staff_account_is_never_left_without_its_second_factor(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The account and its TOTP enrolment were two transactions: a failure between them
    # left an account the API let in on its password alone (found in review).
    def broken(*_args: object) -> None:
        raise OSError("keystore busy")

    monkeypatch.setattr(StaffTwoFactorService, "enrol_in", broken)
    args = ["admin", "create-staff", "mod.one", "--role", "moderator", "--password-stdin"]
    failed = runner.invoke(app, args, input=PASSWORD + "\n", env=env)
    assert failed.exit_code != 0
    monkeypatch.undo()
    again = runner.invoke(app, args, input=PASSWORD + "\n", env=env)
    assert again.exit_code == 0, again.output  # the name was not taken by a half-made account
    assert "secret:" in again.output
