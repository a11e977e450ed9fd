"""What the test-kit tests share (faults, the journal, the admin API): a second portal, the admin
API of an in-process app, and a live server on either store driven by the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderlink.auth import hash_secret, new_webhook_code

from .conftest import STORES, Portal, drop_schema, fresh_schema_url
from .live import LiveServer, start_server

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
BEARER = {"authorization": f"Bearer {ADMIN_TOKEN}"}


async def second_portal(portal: Portal, scopes: tuple[str, ...] = ("crm", "sale")) -> str:
    """Portal 2, made directly in the store as the portal commands will (a portals row, its
    administrator, a webhook): the path of that webhook."""
    await portal.store.load(
        "portals", [{"id": 2, "domain": "two.local", "member_id": "two", "created_at": 0.0}]
    )
    user = await portal.store.add_user(2, "Second admin", 2)
    code = new_webhook_code()
    await portal.store.add_webhook(2, user.id, hash_secret(code), scopes, 0.0)
    return f"/rest/{user.id}/{code}/"


async def api(
    portal: Portal, verb: str, path: str, body: Any = None, **params: Any
) -> httpx.Response:
    """A request to the in-process app's admin API with the admin token."""
    return await portal.client.request(
        verb, "/_orderlink/api" + path, json=body, params=params or None, headers=BEARER
    )


@dataclass
class Live:
    """`orderlink serve` in a subprocess on one store, and the CLI beside it."""

    server: LiveServer
    database: str  # the URL both use
    admin_token: str

    @property
    def hook(self) -> str:
        return self.server.webhook_url

    def cli(self, *args: str) -> list[str]:
        """`python -m orderlink ARGS --database URL`: its output lines (exit code 0)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINK_")}
        done = subprocess.run(
            [sys.executable, "-m", "orderlink", *args, "--database", self.database],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.splitlines()

    def cli_json(self, *args: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.cli(*args, "--json")]

    def admin(self, verb: str, path: str, body: Any = None) -> httpx.Response:
        return httpx.request(
            verb, self.server.base_url + "/_orderlink/api" + path, json=body,
            headers={"authorization": f"Bearer {self.admin_token}"}, verify=self.verify,
        )  # fmt: skip

    @property
    def verify(self) -> Any:
        import ssl

        if self.server.ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self.server.ca_file))


def printed_admin_token(server: LiveServer) -> str:
    found = [m.group(1) for line in server.output if (m := re.match(r"admin token: (\S+)", line))]
    assert len(found) == 1, server.output
    return found[0]


def live_on(
    store: str, request: pytest.FixtureRequest, tmp_path: Path, *flags: str
) -> Iterator[Live]:
    """A live server on a fresh database of `store` ("sqlite" or "postgres"), with `flags`."""
    schema = None
    tls_dir = tmp_path / "tls"
    if store == "sqlite":
        url = f"sqlite:///{tmp_path / 'orderlink.db'}"
    else:
        url, schema = fresh_schema_url(request.getfixturevalue("postgres_url"))
    tls = ("--tls", "--tls-dir", str(tls_dir)) if "--tls" in flags else ()
    rest = tuple(flag for flag in flags if flag != "--tls")
    ca_file = tls_dir / "orderlink-ca.pem" if tls else None
    server = start_server(url, *tls, *rest, ca_file=ca_file)
    try:
        yield Live(server, url, printed_admin_token(server))
    finally:
        server.stop()
        if schema is not None:
            drop_schema(schema)


__all__ = ["ADMIN_TOKEN", "BEARER", "STORES", "Live", "api", "live_on", "second_portal"]
