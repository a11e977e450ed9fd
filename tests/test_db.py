"""`orderlink db ...`, migrations on start, and the health endpoints."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from orderlink.cli import main
from orderlink.settings import Settings
from orderlink.storage import create_store, migrations

from .live import start_server


def run(*args: str) -> list[str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def seed(url: str) -> None:
    run("user", "add", "--name", "Ann", "--store-role", "manager", "--database", url)
    run("webhook", "add", "--user-id", "2", "--scope", "crm", "--database", url)


class TestCopy:
    def test_copies_every_table_verifies_and_is_safe_to_rerun(self, tmp_path: Path) -> None:
        source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        seed(source)
        conn = sqlite3.connect(tmp_path / "a.db")
        with conn:
            conn.execute(
                "INSERT INTO orders (id, portal_id, lid, person_type_id, currency) VALUES (7, 1, 's1', 1, 'USD')"
            )
            conn.execute("INSERT INTO deals (id, portal_id, title) VALUES (9, 1, 'd')")
            conn.execute("INSERT INTO bindings VALUES (1, 7, 2, 9)")
        conn.close()
        first = run("db", "copy", "--from", source, "--to", target)
        assert "bindings\t1 in source\t1 added\t1 in destination\tok" in first
        assert "users\t2 in source\t2 added\t2 in destination\tok" in first
        again = run("db", "copy", "--from", source, "--to", target)
        assert "bindings\t1 in source\t0 added\t1 in destination\tok" in again
        status = run("db", "status", "--database", target)
        assert "bindings\t1" in status
        assert "webhooks\t1" in status

    def test_a_copied_webhook_keeps_working(self, tmp_path: Path) -> None:
        source, target = f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "b.db"
        url = run("webhook", "add", "--user-id", "1", "--scope", "crm", "--database", source)[-1]
        run("db", "copy", "--from", source, "--to", f"sqlite:///{target}")
        server = start_server(target, "--no-rate-limit")
        try:
            hook = url.replace("http://127.0.0.1:8080", server.base_url)
            assert httpx.post(hook + "crm.orderentity.getFields", json={}).status_code == 200
        finally:
            server.stop()


class TestMigrations:
    def test_upgrade_and_status(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'm.db'}"
        latest = migrations.latest("sqlite")
        expected = f"schema version {latest} (latest {latest})"
        assert run("db", "upgrade", "--database", url)[-1] == expected
        assert run("db", "status", "--database", url)[0] == expected

    def test_a_database_newer_than_the_code_is_refused(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'n.db'}"
        run("db", "upgrade", "--database", url)
        conn = sqlite3.connect(tmp_path / "n.db")
        with conn:
            conn.execute("INSERT INTO schema_version VALUES (99, 'future', 0)")
        conn.close()
        result = CliRunner().invoke(main, ["db", "status", "--database", url])
        assert result.exit_code == 1
        assert "schema version 99" in result.output
        assert "upgrade orderlink" in result.output

    def test_serve_without_auto_upgrade_refuses_pending_migrations(self, tmp_path: Path) -> None:
        path = tmp_path / "old.db"  # no migration applied yet
        done = subprocess.run(
            [sys.executable, "-m", "orderlink", "serve", "--no-auto-upgrade",
             "--database", f"sqlite:///{path}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1
        assert "orderlink db upgrade" in done.stderr
        latest = migrations.latest("sqlite")
        upgraded = run("db", "upgrade", "--database", f"sqlite:///{path}")[-1]
        assert upgraded == f"schema version {latest} (latest {latest})"


@pytest.mark.live
def test_health_endpoints(tmp_path: Path) -> None:
    server = start_server(tmp_path / "h.db", "--no-rate-limit")
    try:
        assert httpx.get(server.base_url + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(server.base_url + "/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "database": "ok", "limits": "ok"}
    finally:
        server.stop()


@pytest.mark.live
def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    import signal
    import threading
    import time

    path = tmp_path / "g.db"
    run("db", "upgrade", "--database", f"sqlite:///{path}")
    run("user", "add", "--name", "x", "--store-role", "none", "--database", f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    with conn:
        rows = range(1, 150_001)
        conn.executemany(
            "INSERT INTO orders (id, portal_id, lid, person_type_id, currency) VALUES (?, 1, 's1', 1, 'USD')",
            ((i,) for i in rows),
        )
        conn.executemany("INSERT INTO bindings VALUES (1, ?, 2, ?)", ((i, i) for i in rows))
    conn.close()
    server = start_server(path, "--no-rate-limit", "--start-minus-one", "all")
    answers: list[tuple[httpx.Response, float]] = []

    def slow_list() -> None:
        url = server.webhook_url + "crm.orderentity.list"
        answers.append((httpx.post(url, json={"start": -1}, timeout=60), time.monotonic()))

    try:
        thread = threading.Thread(target=slow_list)
        thread.start()
        time.sleep(0.1)  # the request is being served
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        # uvicorn re-raises SIGTERM once it has shut down gracefully.
        assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        server.stop()
    response, answered = answers[0]
    assert answered > signalled, "the request finished before the signal: make it slower"
    assert response.status_code == 200
    assert response.json()["total"] == 150_000
    assert any("Finished server process" in line for line in server.output)


class TestTokenFamiliesMigration:
    """Migration 5 (issue 12, point 28): a pair stored before token families becomes a family
    of its own, so a later replay can revoke nothing but itself."""

    ROW = ("a" * 64, "b" * 64, 1, 1, 1, 10.0, 20.0, 0.0)

    def test_sqlite(self, tmp_path: Path) -> None:
        conn = sqlite3.connect(tmp_path / "old.db")
        steps = migrations.migrations("sqlite")
        for step in steps[:4]:
            conn.executescript(step.sql)
        conn.execute(
            "INSERT INTO tokens (access_hash, refresh_hash, portal_id, app_id, user_id, "
            "access_expires_at, refresh_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.ROW,
        )
        conn.executescript(steps[4].sql)
        assert conn.execute("SELECT family FROM tokens").fetchall() == [("a" * 64,)]
        assert conn.execute("SELECT COUNT(*) FROM spent_credentials").fetchone() == (0,)

    def test_postgres(self, postgres_url: str) -> None:
        import asyncpg

        from .conftest import drop_schema, run_aside

        schema = f"t_{secrets.token_hex(6)}"

        async def migrate() -> list[object]:
            conn = await asyncpg.connect(postgres_url, timeout=3)
            try:
                await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}")
                steps = migrations.migrations("postgres")
                for step in steps[:4]:
                    await conn.execute(step.sql)
                await conn.execute(
                    "INSERT INTO tokens (access_hash, refresh_hash, portal_id, app_id, user_id, "
                    "access_expires_at, refresh_expires_at, created_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    *self.ROW,
                )
                await conn.execute(steps[4].sql)
                return [r["family"] for r in await conn.fetch("SELECT family FROM tokens")]
            finally:
                await conn.close()

        try:
            assert run_aside(migrate) == ["a" * 64]
        finally:
            drop_schema(schema)


class TestCopyKeys:
    """`db copy` unseals application tokens with the source's key and seals them with the
    destination's: a server started with `--secret-key-file` can still move its data."""

    def test_custom_key_files_on_both_sides(self, tmp_path: Path) -> None:
        source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        key_a, key_b = str(tmp_path / "a.key"), str(tmp_path / "b.key")
        app = run("app", "add", "--name", "A", "--scope", "crm", "--redirect-uri",
                  "https://app.example/cb", "--json", "--database", source,
                  "--secret-key-file", key_a)  # fmt: skip
        client_id = json.loads(app[-1])["client_id"]
        run("app", "install", "--client-id", client_id, "--user-id", "1",
            "--database", source, "--secret-key-file", key_a)  # fmt: skip
        refused = CliRunner().invoke(main, ["db", "copy", "--from", source, "--to", target])
        assert refused.exit_code != 0  # the source's default key is not the one it was sealed with
        run("db", "copy", "--from", source, "--to", target,
            "--from-key-file", key_a, "--to-key-file", key_b)  # fmt: skip

        async def token(url: str, key: str) -> str:
            store = create_store(Settings(database=url, secret_key_file=key))
            await store.open()
            try:
                found = await store.app(client_id)
                assert found is not None
                install = await store.install_of(found.portal_id, found.id)
                assert install is not None
                return install.application_token
            finally:
                await store.close()

        assert asyncio.run(token(target, key_b)) == asyncio.run(token(source, key_a))
        assert Path(key_b).exists()
