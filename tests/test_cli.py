"""The `orderlink` command: its exact subcommands, flags, output lines and environment variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from orderlink.cli import main
from orderlink.events import shown_url

from .conftest import drop_schema, fresh_schema_url
from .live import LiveServer, free_port, start_server


def run(*args: str, env: dict[str, str] | None = None) -> list[str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_user_add_prints_the_new_id_last(db: str) -> None:
    assert (
        run("user", "add", "--name", "Ann", "--store-role", "manager", "--database", db)[-1] == "2"
    )
    assert run("user", "add", "--name", "Bob", "--store-role", "none", "--database", db)[-1] == "3"


def test_user_add_takes_the_profile_and_list_prints_the_whole_name(db: str) -> None:
    """`--name` alone is split into NAME and LAST_NAME at its first space, as `profile` always
    printed it; `--last-name` and the other profile flags fill user.get's fields."""
    run("user", "add", "--name", "Shop manager", "--store-role", "manager", "--database", db)
    run("user", "add", "--name", "Mary Ann", "--last-name", "Lee", "--email", "mary@shop.example",
        "--work-position", "Buyer", "--store-role", "none", "--database", db)  # fmt: skip
    assert run("user", "list", "--database", db)[1:] == [
        "1\tAdministrator\tadmin\tyes",
        "2\tShop manager\tmanager\tno",
        "3\tMary Ann Lee\tnone\tno",
    ]
    refused = CliRunner().invoke(main, ["user", "add", "--name", "X", "--email", "MARY@shop.example",
                                        "--store-role", "none", "--database", db])  # fmt: skip
    assert refused.exit_code == 1
    assert "already exists" in refused.output
    bad = CliRunner().invoke(main, ["user", "add", "--name", "X", "--email", "nope",
                                    "--store-role", "none", "--database", db])  # fmt: skip
    assert bad.exit_code == 2


def test_webhook_add_prints_url_ending_in_slash(db: str) -> None:
    url = run(
        "webhook", "add", "--user-id", "1", "--scope", "crm", "--scope", "sale",
        "--database", db, "--base-url", "https://orders.example.com/",
    )[-1]  # fmt: skip
    assert re.fullmatch(r"https://orders\.example\.com/rest/1/[a-z0-9]{16}/", url)


def test_webhook_list_and_revoke(db: str) -> None:
    run("webhook", "add", "--user-id", "1", "--scope", "crm", "--database", db)
    header, line = run("webhook", "list", "--database", db)
    assert header == "id\tuser\tscopes\tstate"
    webhook_id = line.split("\t")[0]
    assert line.endswith("crm\tactive")
    assert run("webhook", "revoke", webhook_id, "--database", db)[-1] == f"revoked {webhook_id}"
    assert run("webhook", "list", "--database", db)[-1].endswith("revoked")


def test_webhook_for_unknown_user_fails_clearly(db: str) -> None:
    result = CliRunner().invoke(
        main, ["webhook", "add", "--user-id", "9", "--scope", "crm", "--database", db]
    )
    assert result.exit_code != 0
    assert "no user 9" in result.output


def test_flags_read_orderlink_environment_variables(db: str) -> None:
    env = {"ORDERLINK_DATABASE": db, "ORDERLINK_BASE_URL": "http://env.example:9000"}
    url = run("webhook", "add", "--user-id", "1", "--scope", "crm", env=env)[-1]
    assert url.startswith("http://env.example:9000/rest/1/")
    assert len(run("webhook", "list", env={"ORDERLINK_DATABASE": db})) == 2  # header + row


def test_methods_prints_the_catalog() -> None:
    assert run("methods")[0] == "# Methods orderlink serves"


@pytest.mark.live
def test_cli_works_while_a_server_runs_on_the_same_database(live_server: LiveServer) -> None:
    database = f"sqlite:///{live_server.database}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINK_")}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "orderlink", *args, "--database", database],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        )  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    user_id = cli("user", "add", "--name", "Manager", "--store-role", "manager")
    url = cli(
        "webhook", "add", "--user-id", user_id, "--scope", "crm", "--base-url", live_server.base_url
    )
    listed = httpx.post(url + "crm.orderentity.list", json={})
    assert listed.status_code == 200
    denied = httpx.post(
        url + "crm.orderentity.add",
        json={"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}},
    )
    assert denied.json() == {"error": "200040300020", "error_description": "Access Denied"}


def test_settings_read_the_environment_and_other_flags_do_not(db: str) -> None:
    """Issue 12 point 15: ORDERLINK_VERSION broke every command and ORDERLINK_NAME/_JSON/_LIMIT/
    _USER_ID meant different things to different commands."""
    env = {"ORDERLINK_DATABASE": db, "ORDERLINK_NAME": "Env user", "ORDERLINK_VERSION": "x",
           "ORDERLINK_USER_ID": "99", "ORDERLINK_JSON": "1"}  # fmt: skip
    assert run("user", "add", "--name", "Flag user", "--store-role", "none", env=env)[-1] == "2"
    hook = run("webhook", "add", "--user-id", "2", "--scope", "crm", env=env)[-1]
    assert "/rest/2/" in hook


def test_no_two_flags_share_a_variable_unless_they_are_one_setting() -> None:
    from orderlink.settings import Settings, env_name

    settings = {env_name(field) for field in Settings.__dataclass_fields__}
    seen: dict[str, str] = {}

    def walk(command: click.Command, path: str) -> None:
        for param in command.params:
            if not isinstance(param, click.Option) or param.envvar is None:
                continue
            names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
            for name in names:
                assert name in settings or name in (
                    "ORDERLINK_FORWARDED_ALLOW_IPS",
                    "ORDERLINK_LOG_LEVEL",
                ), (path, name)
                assert seen.setdefault(name, str(param.name)) == param.name, (path, name)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(main, "orderlink")


def test_serve_with_redis_but_without_the_extra_says_what_to_install(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain install has no redis package: `serve --redis` must refuse in one line before it
    creates anything or prints a webhook, not die in a traceback at startup."""
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` now raises ImportError
    result = CliRunner().invoke(
        main, ["serve", "--database", db, "--redis", "redis://127.0.0.1:6379/0"]
    )
    assert result.exit_code == 2
    assert "--redis needs the redis extra: pip install 'orderlink[redis]'" in result.output
    assert "Traceback" not in result.output
    assert "/rest/1/" not in result.output


class TestPrintedUrlsReachTheServer:
    """Issue 12, point 14: `serve` records the base URL it answers on in its database, and
    `webhook add`, `token issue` and the "make another" hint use it (unless `--base-url`)."""

    @pytest.fixture(params=["sqlite", "postgres"])
    def database(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path / 'served.db'}"
            return
        url, schema = fresh_schema_url(request.getfixturevalue("postgres_url"))
        try:
            yield url
        finally:
            drop_schema(schema)

    def test_webhook_add_and_token_issue_print_the_serving_port(self, database: str) -> None:
        port = free_port()
        assert port != 8080
        server = start_server(database, port=port)
        try:
            url = run("webhook", "add", "--user-id", "1", "--scope", "crm", "--database", database)
            assert url[-1].startswith(f"http://127.0.0.1:{port}/rest/1/")
            answer = httpx.post(url[-1] + "crm.orderentity.getFields", json={}, timeout=10)
            assert answer.status_code == 200, answer.text
            app = run("app", "add", "--name", "A", "--scope", "crm",
                      "--redirect-uri", "https://app.example/cb", "--database", database)  # fmt: skip
            client_id = next(line.split()[-1] for line in app if "client_id" in line)
            reply = json.loads(
                run("token", "issue", "--client-id", client_id, "--user-id", "1", "--json",
                    "--database", database)[-1]
            )  # fmt: skip
            assert reply["client_endpoint"] == f"http://127.0.0.1:{port}/rest/"
            call = httpx.post(
                reply["client_endpoint"] + "profile", json={"auth": reply["access_token"]}
            )
            assert call.status_code == 200, call.text
            given = run("webhook", "add", "--user-id", "1", "--scope", "crm",
                        "--database", database, "--base-url", "https://pub.example")  # fmt: skip
            assert given[-1].startswith("https://pub.example/rest/1/")
        finally:
            server.stop()
        again = start_server(database, port=port)
        try:
            hint = " ".join(again.output)
            assert "make another with: orderlink webhook add --user-id 1" in hint
            assert f"--database {shown_url(database)}" in hint
        finally:
            again.stop()

    def test_without_a_server_the_flags_decide(self, db: str) -> None:
        url = run("webhook", "add", "--user-id", "1", "--scope", "crm", "--database", db)
        assert url[-1].startswith("http://127.0.0.1:8080/rest/1/")
