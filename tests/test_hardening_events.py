"""Issue 12, events: whose token a delivery carries (26), where a delivery may go, at bind time
and again at each delivery (29), handler URLs a portal refuses and how the log shows odd ones
(10), no credentials in delivery logs (9), and the application token sealed under a key kept
outside the database (32). On both stores, with a real receiver where a delivery is observed."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from orderlink.app import create_app
from orderlink.bootstrap import bootstrap
from orderlink.cli import main
from orderlink.clock import FrozenClock
from orderlink.destinations import Refused, pinned
from orderlink.registry import Role
from orderlink.sealing import is_sealed
from orderlink.settings import Settings

from .conftest import Portal, pg_execute
from .oauth_apps import TestApp, register, tokens
from .receiver import Receiver
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio


def resolver(*answers: Sequence[str]) -> Callable[[str, int], Awaitable[Sequence[str]]]:
    """A name resolver that gives `answers` in turn (the last one from then on): a name that
    changes its address between deliveries, without asking any real DNS server."""
    queue = list(answers)

    async def lookup(host: str, port: int) -> Sequence[str]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return lookup


async def manager_token(portal: Portal, app: TestApp) -> tuple[int, str]:
    hook = await portal.webhook_for(Role.STORE_MANAGER)
    manager = int(hook.split("/")[2])
    return manager, (await tokens(portal, app, user_id=manager))["access_token"]


async def finished(portal: Portal) -> tuple[str, str, int]:
    """Run the deliverer until the latest delivery is no longer pending."""
    for _ in range(300):
        portal.app.deliverer.wake()
        await portal.app.deliverer.deliver_due()
        (latest,) = await portal.store.deliveries(None, 1)
        if latest.status != "pending":
            return latest.status, latest.last_status, latest.attempts
    raise AssertionError("the delivery stayed pending")


class TestWhoseTokenADeliveryCarries:
    """Point 26 (high). api-reference/events/event-bind.md: "for a user without admin rights,
    events are set on behalf of the current user"; `auth_type` is the user whose authorization
    the handler gets. Never the token of whoever caused the event."""

    async def test_the_admin_updating_a_deal_gives_a_managers_handler_only_the_managers_token(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        app = await register(portal)
        manager, token = await manager_token(portal, app)
        await rest(
            portal, token, "event.bind", {"event": "ONCRMDEALUPDATE", "handler": receiver.url()}
        )
        deal_id = await portal.ok("crm.deal.add", {"fields": {"TITLE": "admin's"}})
        await portal.ok("crm.deal.update", {"id": deal_id, "fields": {"TITLE": "changed"}})
        (body,) = await deliveries(portal, receiver, 1)
        auth = body["auth"]
        assert auth["user_id"] == str(manager)
        profile = await rest(portal, auth["access_token"], "profile", {})
        assert (profile["ID"], profile["ADMIN"]) == (str(manager), False)
        # An admin-only write (a store administrator's role) stays refused with that token ...
        denied = await portal.client.post(
            "/rest/crm.orderentity.add",
            json={"auth": auth["access_token"],
                  "fields": {"orderId": 1, "ownerId": int(deal_id), "ownerTypeId": 2}},
        )  # fmt: skip
        assert denied.json()["error"] == "200040300020", denied.text
        # ... and its refresh token renews the manager's authorization, not the admin's.
        renewed = await portal.client.post(
            "/oauth/token/",
            data={"grant_type": "refresh_token", "client_id": app.client_id,
                  "client_secret": app.client_secret, "refresh_token": auth["refresh_token"]},
        )  # fmt: skip
        assert renewed.status_code == 200, renewed.text
        assert renewed.json()["user_id"] == manager

    async def test_an_admin_may_choose_the_user_a_handler_is_authorized_as(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        app = await register(portal)
        manager, _ = await manager_token(portal, app)
        admin = (await tokens(portal, app))["access_token"]
        await rest(
            portal,
            admin,
            "event.bind",
            {"event": "ONCRMDEALADD", "handler": receiver.url(), "auth_type": manager},
        )
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "by the admin"}})
        (body,) = await deliveries(portal, receiver, 1)
        assert body["auth"]["user_id"] == str(manager)


class TestHandlerUrls:
    """Point 10. The rest module's handler check (shared by event.bind and placement.bind;
    api-reference/widgets/placement-bind.md and the bizproc pages list its codes) answers
    ERROR_WRONG_HANDLER_URL "Wrong handler URL" for a URL without a host and
    ERROR_UNSUPPORTED_PROTOCOL "Unsupported handler protocol" for a scheme other than http(s);
    event-bind.md itself documents only ERROR_EVENT_NOT_FOUND."""

    @pytest.mark.parametrize(
        ("url", "code", "text"),
        [
            ("http://", "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
            ("app.example/h", "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
            ("javascript:alert(1)", "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
            ("http://[::1", "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
            ("http://a.example/x\r\nX: 1", "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
            ("http://a.example/" + "x" * 100_000, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
            ("ftp://a.example/h", "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol"),
        ],
    )
    async def test_bind_refuses_with_the_portals_codes(
        self, portal: Portal, url: str, code: str, text: str
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        response = await portal.client.post(
            "/rest/event.bind", json={"auth": token, "event": "ONCRMDEALADD", "handler": url}
        )
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == code
        assert body["error_description"].startswith(text)
        assert await rest(portal, token, "event.get", {}) == []

    async def test_a_handler_stored_before_the_rules_can_still_be_unbound(
        self, portal: Portal
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        odd = "http://a.example/x\r\nInjected: 1"
        row = await portal.store.default_portal()
        await portal.store.bind_handler(
            row.id, app.app.id, "ONCRMDEALADD", odd, auth_type=0, offline=False,
            user_id=1, now=0.0,
        )  # fmt: skip
        result = await rest(
            portal, token, "event.unbind", {"event": "ONCRMDEALADD", "handler": odd}
        )
        assert result == {"count": 1}

    async def test_events_log_prints_an_odd_stored_url_on_one_row_without_credentials(
        self, portal: Portal, database_url: str
    ) -> None:
        """Also point 9: the log never shows `user:pass@`. Such a URL could only be stored
        before the rules; its delivery is refused, not sent."""
        app = await register(portal)
        row = await portal.store.default_portal()
        odd = "http://user:s3cretpass@a.example/x\r\nInjected: 1\t2"
        await portal.store.bind_handler(
            row.id, app.app.id, "ONCRMDEALADD", odd, auth_type=0, offline=False,
            user_id=1, now=0.0,
        )  # fmt: skip
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "x"}})
        status, last, _ = await finished(portal)
        assert status == "failed"
        assert last.startswith("Refused: ")
        # The CLI runs its own event loop: off this test's loop, in a thread.
        result = await asyncio.to_thread(
            CliRunner().invoke, main, ["events", "log", "--database", database_url]
        )
        assert result.exit_code == 0, result.output
        header, line = result.output.rstrip("\n").split("\n")
        assert header.split("\t")[:3] == ["id", "event", "handler"]
        assert line.split("\t")[2] == "http://***@a.example/x\\x0d\\x0aInjected: 1\\x092"
        assert len(line.split("\t")) == len(header.split("\t"))
        assert "s3cretpass" not in result.output


class TestDestinationsAtDelivery:
    """Point 29: a name accepted at event.bind is resolved again at each delivery, every
    address it gives is checked, and the request goes to the address that passed: a name that
    moves to a metadata or link-local address (DNS rebinding) gets no token."""

    async def test_a_name_that_moves_to_the_metadata_address_gets_no_more_deliveries(
        self, portal: Portal, receiver: Receiver, caplog: pytest.LogCaptureFixture
    ) -> None:
        portal.app.deliverer.lookup = resolver(["127.0.0.1"], ["169.254.169.254"])
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        handler = f"http://user:s3cretpass@rebind.invalid:{receiver.port}/handler"
        await rest(portal, token, "event.bind", {"event": "ONCRMDEALADD", "handler": handler})
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "first"}})
        (first,) = await deliveries(portal, receiver, 1)  # pinned to 127.0.0.1, no real DNS
        assert first["path"] == "/handler"
        with caplog.at_level(logging.DEBUG):
            await portal.ok("crm.deal.add", {"fields": {"TITLE": "second"}})
            status, last, attempts = await finished(portal)
        assert (status, attempts) == ("failed", 1)  # refused for good: no retry
        assert last == (
            "Refused: rebind.invalid resolves to 169.254.169.254: 169.254.169.254 is a "
            "link-local or cloud metadata address"
        )
        assert len(receiver.received) == 1
        messages = [record.getMessage() for record in caplog.records]
        assert any("refused" in message for message in messages)
        assert all("s3cretpass" not in message for message in messages)

    async def test_every_address_of_a_name_must_pass(self) -> None:
        settings = Settings()
        lookup = resolver(["10.0.0.5", "fe80::1%2"])
        with pytest.raises(Refused, match="fe80::1"):
            await pinned("https://app.example.com/h", settings, lookup)

    async def test_public_policy_refuses_a_public_looking_name_that_resolves_privately(
        self,
    ) -> None:
        public = Settings(event_handler_policy="public")
        with pytest.raises(Refused, match="not a public address"):
            await pinned("https://app.example.com/h", public, resolver(["10.0.0.5"]))
        found = await pinned("https://app.example.com/h", public, resolver(["8.8.8.8"]))
        assert found == ipaddress.ip_address("8.8.8.8")

    async def test_the_request_keeps_the_handlers_name_for_host_and_tls(
        self, portal: Portal
    ) -> None:
        portal.app.deliverer.lookup = resolver(["10.0.0.7"])
        url, headers, extensions = await portal.app.deliverer.target(
            "https://user:pw@app.example.com:8443/h?x=1"
        )
        assert str(url) == "https://user:pw@10.0.0.7:8443/h?x=1"
        assert headers["host"] == "app.example.com:8443"
        assert extensions == {"sni_hostname": "app.example.com"}

    async def test_orderlinks_own_address_is_refused_by_name_and_by_resolution(self) -> None:
        settings = Settings(port=8123)
        with pytest.raises(Refused, match="own address"):
            await pinned("http://localhost:8123/rest/", settings, resolver(["127.0.0.1"]))
        with pytest.raises(Refused, match="own address"):
            await pinned("http://app.test:8123/rest/", settings, resolver(["127.0.0.1"]))


class TestAppAddUrls:
    """Point 29: `app add --redirect-uri` took "" and `javascript:`; a redirect URI is an
    absolute http(s) URL without a fragment (RFC 6749 3.1.2), a handler URL also one deliveries
    may reach."""

    @pytest.mark.parametrize(
        ("flag", "value"),
        [
            ("--redirect-uri", ""),
            ("--redirect-uri", "javascript:alert(1)"),
            ("--redirect-uri", "/callback"),
            ("--redirect-uri", "https://app.example/cb#x"),
            ("--handler-url", "javascript:alert(1)"),
            ("--handler-url", "http://169.254.169.254/latest/"),
        ],
    )
    def test_refused(self, tmp_path: Path, flag: str, value: str) -> None:
        db = f"sqlite:///{tmp_path / 'o.db'}"
        args = ["app", "add", "--name", "A", "--scope", "crm", "--database", db]
        if flag == "--handler-url":
            args += ["--redirect-uri", "https://app.example/cb"]
        result = CliRunner().invoke(main, [*args, flag, value])
        assert result.exit_code == 2, result.output
        assert "Invalid value" in result.output
        listed = CliRunner().invoke(main, ["app", "list", "--database", db])
        assert listed.output.strip().splitlines()[1:] == []

    def test_local_http_redirects_are_fine(self, tmp_path: Path) -> None:
        db = f"sqlite:///{tmp_path / 'o.db'}"
        result = CliRunner().invoke(main, [
            "app", "add", "--name", "A", "--scope", "crm", "--database", db,
            "--redirect-uri", "http://localhost:3000/cb", "--handler-url",
            "http://127.0.0.1:3000/install",
        ])  # fmt: skip
        assert result.exit_code == 0, result.output


async def stored_tokens(database_url: str) -> list[str]:
    """application_token as the database holds it, read around orderlink."""
    if database_url.startswith("sqlite:"):
        conn = sqlite3.connect(database_url[len("sqlite:///") :])
        try:
            return [row[0] for row in conn.execute("SELECT application_token FROM app_installs")]
        finally:
            conn.close()
    schema = database_url.rsplit("schema=", 1)[1]
    rows = await pg_execute(f"SELECT application_token FROM {schema}.app_installs")
    return [row[0] for row in rows]


async def set_stored_token(database_url: str, value: str) -> None:
    if database_url.startswith("sqlite:"):
        conn = sqlite3.connect(database_url[len("sqlite:///") :])
        with conn:
            conn.execute("UPDATE app_installs SET application_token = ?", (value,))
        conn.close()
        return
    schema = database_url.rsplit("schema=", 1)[1]
    await pg_execute(f"UPDATE {schema}.app_installs SET application_token = $1", value)


class TestSealedApplicationToken:
    """Point 32: docs/decisions.md says secrets are stored as digests; application_token has to
    be read back for every delivery (_includes/auth-params-in-events.md), so it is sealed with
    AES-GCM under a key kept outside the database (sealing.py)."""

    async def test_the_database_holds_no_clear_application_token(
        self, portal: Portal, database_url: str, receiver: Receiver
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        await rest(
            portal, token, "event.bind", {"event": "ONCRMDEALADD", "handler": receiver.url()}
        )
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "x"}})
        (body,) = await deliveries(portal, receiver, 1)
        clear = body["auth"]["application_token"]
        assert len(clear) == 32
        (stored,) = await stored_tokens(database_url)
        assert is_sealed(stored)
        assert clear not in stored
        if database_url.startswith("sqlite:"):
            path = Path(database_url[len("sqlite:///") :])
            for file in (path, path.with_name(path.name + "-wal")):
                if file.exists():
                    assert clear.encode() not in file.read_bytes(), file

    async def test_a_restart_delivers_the_same_token_and_clear_values_get_sealed(
        self, database_url: str
    ) -> None:
        """Three server runs on one database; before the third, the column holds the token in
        clear, as a database written before sealing did: opening seals it, idempotently."""
        settings = Settings(database=database_url, rate_limit=False)
        clock = FrozenClock()
        receiver = Receiver()
        seen: list[str] = []
        registered: TestApp | None = None
        try:
            for run in range(3):
                async with running(settings, clock) as portal:
                    if registered is None:
                        registered = await register(portal)
                        token = (await tokens(portal, registered))["access_token"]
                        await rest(portal, token, "event.bind",
                                   {"event": "ONCRMDEALADD", "handler": receiver.url()})  # fmt: skip
                    token = (await tokens(portal, registered))["access_token"]
                    await rest(portal, token, "crm.deal.add", {"fields": {"TITLE": str(run)}})
                    bodies = await deliveries(portal, receiver, run + 1)
                    seen.append(bodies[-1]["auth"]["application_token"])
                if run == 1:
                    await set_stored_token(database_url, seen[0])
        finally:
            receiver.close()
        assert seen[0] == seen[1] == seen[2]
        (stored,) = await stored_tokens(database_url)
        assert is_sealed(stored)


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: FrozenClock) -> AsyncIterator[Portal]:
    """One server run in this process, as the `portal` fixture makes it."""
    app = create_app(settings, clock=clock)
    await app.startup()
    try:
        started = await bootstrap(app.store, settings, clock)
        hook = f"/rest/1/{started.webhook_code}/" if started.webhook_code else ""
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Portal(app, client, hook)
    finally:
        await app.shutdown()


class TestSecretKey:
    """Point 32: where the key lives, and what happens without it."""

    def test_the_key_file_is_created_once_beside_the_database_with_mode_0600(
        self, tmp_path: Path
    ) -> None:
        db = f"sqlite:///{tmp_path / 'o.db'}"
        added = CliRunner().invoke(main, [
            "app", "add", "--name", "A", "--scope", "crm", "--database", db,
            "--redirect-uri", "https://app.example/cb", "--json",
        ])  # fmt: skip
        client_id = json.loads(added.output.strip().splitlines()[-1])["client_id"]
        key = tmp_path / "o.db.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        first = key.read_text()
        installed = CliRunner().invoke(
            main, ["app", "install", "--client-id", client_id, "--database", db]
        )
        assert installed.exit_code == 0, installed.output
        assert key.read_text() == first

    def test_a_missing_key_file_is_a_clear_message_at_startup(self, tmp_path: Path) -> None:
        db = f"sqlite:///{tmp_path / 'o.db'}"
        added = CliRunner().invoke(main, [
            "app", "add", "--name", "A", "--scope", "crm", "--database", db,
            "--redirect-uri", "https://app.example/cb", "--json",
        ])  # fmt: skip
        client_id = json.loads(added.output.strip().splitlines()[-1])["client_id"]
        CliRunner().invoke(main, ["app", "install", "--client-id", client_id, "--database", db])
        (tmp_path / "o.db.key").unlink()
        served = subprocess.run(
            [sys.executable, "-m", "orderlink", "serve", "--database", db, "--port", "0"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "ORDERLINK_SECRET_KEY": "", "ORDERLINK_SECRET_KEY_FILE": ""},
        )  # fmt: skip
        assert served.returncode == 1
        assert "secret key file" in served.stderr
        assert "o.db.key is missing" in served.stderr
        assert "Traceback" not in served.stderr + served.stdout
        assert not (tmp_path / "o.db.key").exists()  # no new key that would hide the old one

    def test_a_wrong_key_is_refused_and_the_variable_replaces_the_file(
        self, tmp_path: Path
    ) -> None:
        from orderlink.sealing import new_key_text

        db = f"sqlite:///{tmp_path / 'o.db'}"
        key = new_key_text()
        env = {"ORDERLINK_SECRET_KEY": key}
        added = CliRunner().invoke(main, [
            "app", "add", "--name", "A", "--scope", "crm", "--database", db,
            "--redirect-uri", "https://app.example/cb", "--json",
        ], env=env)  # fmt: skip
        client_id = json.loads(added.output.strip().splitlines()[-1])["client_id"]
        installed = CliRunner().invoke(
            main, ["app", "install", "--client-id", client_id, "--database", db], env=env
        )
        assert installed.exit_code == 0, installed.output
        assert not (tmp_path / "o.db.key").exists()
        listed = CliRunner().invoke(main, ["app", "list", "--database", db], env=env)
        assert listed.exit_code == 0, listed.output
        wrong = CliRunner().invoke(
            main, ["app", "list", "--database", db], env={"ORDERLINK_SECRET_KEY": new_key_text()}
        )
        assert wrong.exit_code == 1
        assert "does not open the application tokens" in wrong.output
        assert wrong.exception is None or isinstance(wrong.exception, SystemExit)
