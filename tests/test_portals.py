"""Many portals on one server (issue 15, part 1): isolation, reset, snapshots, export/import,
and the `orderlink portal ...` commands against a running server, on both stores."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orderlink import portals
from orderlink.app import create_app
from orderlink.clock import FrozenClock
from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import (
    PORTAL_TABLES,
    REFERENCE_BY,
    REFERENCE_LISTS,
    REFERENCES,
    RESET_TABLES,
    STATE_TABLES,
    Store,
)

from .conftest import Portal, drop_schema, fresh_schema_url, pg_execute
from .live import free_port, start_server
from .test_store_parity import _columns, _seed

pytestmark = pytest.mark.anyio

# Every *.list a portal answers, with what it needs: one portal's rows never show in another's.
LISTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("crm.orderentity.list", {}),
    ("crm.deal.list", {}),
    ("crm.contact.list", {}),
    ("crm.company.list", {}),
    ("crm.item.list", {"entityTypeId": 2}),
    ("crm.item.list", {"entityTypeId": 31}),
    ("sale.order.list", {}),
    ("sale.basketitem.list", {}),
    ("sale.payment.list", {}),
    ("sale.shipment.list", {}),
    ("sale.propertygroup.list", {}),
    ("sale.property.list", {}),
    ("sale.propertyvalue.list", {}),
    ("sale.persontype.list", {}),
    ("crm.deal.userfield.list", {}),
    ("crm.category.list", {"entityTypeId": 2}),
    ("crm.status.list", {}),
)


async def rows_of(url: str, table: str, portal_id: int) -> int:
    sql = f"SELECT COUNT(*) FROM {table} WHERE portal_id = "
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            return int(conn.execute(sql + "?", (portal_id,)).fetchone()[0])
        finally:
            conn.close()
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    rows = await pg_execute(sql.replace("FROM ", f"FROM {schema}.") + "$1", portal_id)
    return int(rows[0][0])


def hook_path(url: str) -> str:
    return urlsplit(url).path


async def second(portal: Portal, **kw: Any) -> tuple[int, str]:
    created = await portals.create(portal.store, portal.app.settings, FrozenClock(), **kw)
    return created.portal.id, hook_path(created.webhook)


async def answers(portal: Portal, hook: str) -> list[Any]:
    found = []
    for method, params in LISTS:
        response = await portal.call(method, params, hook=hook)
        assert response.status_code == 200, (method, response.text)
        found.append(response.json()["result"])
    return found


class TestIsolation:
    async def test_a_new_portal_starts_as_a_new_bitrix24_portal(self, portal: Portal) -> None:
        """Payer types 1 and 2 and the general funnel 0 are every portal's own
        (sale-person-type-list.md, crm-category-list.md), so their ids repeat per portal."""
        portal_id, hook = await second(portal, name="b")
        assert portal_id == 2
        types = await portal.ok("sale.persontype.list", {}, hook=hook)
        assert [t["id"] for t in types["personTypes"]] == [1, 2]
        funnels = await portal.ok("crm.category.list", {"entityTypeId": 2}, hook=hook)
        assert [c["id"] for c in funnels["categories"]] == [0]
        added = await portal.ok(
            "crm.category.add", {"entityTypeId": 2, "fields": {"name": "B"}}, hook=hook
        )
        assert added["category"]["id"] == 1
        mine = await portal.ok("crm.category.add", {"entityTypeId": 2, "fields": {"name": "A"}})
        assert mine["category"]["id"] == 1  # portal 1's own first funnel
        user = await portal.ok("user.current", {}, hook=hook)
        assert user["ID"] == "1"

    async def test_writes_in_one_portal_are_invisible_in_another(self, portal: Portal) -> None:
        _, hook = await second(portal)
        before = await answers(portal, hook)
        state = await portal.store.portal_state(2)
        await _seed_more(portal)  # every table of portal 1, through the store
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": "one"}})
        order = await portal.add_order()
        await portal.ok(
            "crm.orderentity.add",
            {"fields": {"orderId": order, "ownerId": deal, "ownerTypeId": 2}},
        )
        assert await answers(portal, hook) == before
        assert await portal.store.portal_state(2) == state
        # Portal 1's ids are not found from portal 2, and cannot be written there.
        response = await portal.call("crm.deal.get", {"id": deal}, hook=hook)
        assert response.status_code == 400, response.text
        response = await portal.call(
            "crm.orderentity.add",
            {"fields": {"orderId": order, "ownerId": deal, "ownerTypeId": 2}},
            hook=hook,
        )
        assert response.status_code == 400, response.text
        assert (await portal.ok("crm.orderentity.list", {}))["orderEntity"]

    async def test_every_table_with_a_portal_id_is_a_portal_table(self, portal: Portal) -> None:
        """delete, reset and snapshots reach a portal's rows through PORTAL_TABLES: a table
        that carries a portal_id and is missing there would outlive its portal."""
        columns = await _columns(portal.app.settings.database)
        with_portal = {
            table for table, column in columns
            if column == "portal_id" and not table.startswith("snap__")
        }  # fmt: skip
        assert with_portal == set(PORTAL_TABLES)
        assert set(RESET_TABLES) < set(STATE_TABLES) | {"event_outbox", "journal", "faults"}


# Columns of portal tables that end like a reference but hold no server-wide id: per-portal
# user ids, per-portal payer types and funnels, string codes, ids of things orderlink does not
# keep (leads, quotes, catalog products, locations, sale companies, pay systems, deliveries).
NOT_REFERENCES = {
    "portal_id", "user_id", "app_id@oauth_codes", "app_id@event_outbox", "handler_id",
    "assigned_by_id", "created_by_id", "modify_by_id", "moved_by_id", "responsible_id",
    "emp_status_id", "emp_marked_id", "emp_canceled_id", "emp_payed_id", "emp_paid_id",
    "emp_return_id", "emp_responsible_id", "emp_deducted_id", "emp_allow_delivery_id",
    "date_responsible_id", "person_type_id", "category_id", "props_group_id@property_groups",
    "xml_id", "person_type_xml_id", "status_xml_id", "pay_system_xml_id", "delivery_xml_id",
    "catalog_xml_id", "product_xml_id", "order_props_xml_id", "client_id", "member_id",
    "status_id", "stage_id", "previous_stage_id", "stage_semantic_id", "entity_id", "type_id",
    "source_id", "currency_id", "origin_id", "originator_id", "lead_id", "quote_id",
    "uf_quote_id", "webform_id", "location_id", "address_loc_addr_id",
    "reg_address_loc_addr_id", "face_id", "company_id@orders", "company_id@payments",
    "company_id@shipments", "affiliate_id", "recurring_id", "pay_system_id", "delivery_id",
    "ps_invoice_id", "product_id", "store_id", "discount_type_id", "user_type_id",
    "owner_type_id", "id@users", "id@deal_categories", "id@person_types", "id@event_outbox", "id@portal_domains", "id@journal", "id@faults",
    # A smart process's id is the portal's own; its entityTypeId and workplace name no row.
    "id@crm_types", "entity_type_id", "custom_section_id",
}  # fmt: skip


async def test_every_id_column_of_a_portal_table_is_classified(
    portal: Portal,
) -> None:
    """`portal import` moves ids through storage/base.py REFERENCES: a new column naming
    another row by id must be listed there (or here, when it names nothing that moves)."""
    columns = await _columns(portal.app.settings.database)
    unclassified = []
    for table, column in columns:
        if table not in PORTAL_TABLES or not re.search(r"_ids?2?$|^id$", column):
            continue
        key = (table, column)
        if key in REFERENCES or key in REFERENCE_LISTS or key in REFERENCE_BY:
            continue
        if column in NOT_REFERENCES or f"{column}@{table}" in NOT_REFERENCES:
            continue
        unclassified.append(f"{table}.{column}")
    assert sorted(unclassified) == []


async def _seed_more(portal: Portal) -> None:
    """Portal 1 (the store's default portal) gets a row in every table, as the parity test's
    seed writes them."""
    await _seed(portal.store)


class TestLifecycle:
    async def test_delete_takes_every_row_and_its_webhooks_stop(self, portal: Portal) -> None:
        portal_id, hook = await second(portal)
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "x"}}, hook=hook)
        await portals.delete(portal.store, portal_id)
        response = await portal.call("crm.deal.list", {}, hook=hook)
        assert response.status_code == 401, response.text
        assert await portal.store.portal(portal_id) is None
        for table in PORTAL_TABLES:
            assert await rows_of(portal.app.settings.database, table, portal_id) == 0, table
        with pytest.raises(portals.NoSuchPortal):
            await portals.delete(portal.store, portal_id)
        with pytest.raises(portals.PortalError, match="default portal"):
            await portals.delete(portal.store, 1)

    async def test_reset_empties_the_data_and_keeps_who_may_call(self, portal: Portal) -> None:
        portal_id, hook = await second(portal)
        fresh = await portal.store.portal_state(portal_id)
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "x"}}, hook=hook)
        await portal.ok("crm.category.add", {"entityTypeId": 2, "fields": {"name": "F"}}, hook=hook)
        await portal.ok("sale.persontype.add", {"fields": {"name": "P"}}, hook=hook)
        await portals.reset(portal.store, portal_id, FrozenClock())
        assert _without_ids(await portal.store.portal_state(portal_id)) == _without_ids(fresh)
        assert (await portal.ok("crm.deal.list", {}, hook=hook)) == []
        await portals.reset(portal.store, portal_id, FrozenClock(), seed_examples=True)
        bound = await portal.ok("crm.orderentity.list", {}, hook=hook)
        assert len(bound["orderEntity"]) == 3

    async def test_restore_brings_back_exactly_the_snapshot(self, portal: Portal) -> None:
        portal_id, hook = await second(portal)
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": "kept"}}, hook=hook)
        await portal.ok("crm.contact.add", {"fields": {"NAME": "Ann",
                        "PHONE": [{"VALUE": "+100", "VALUE_TYPE": "WORK"}]}}, hook=hook)  # fmt: skip
        clock = FrozenClock()
        await portals.snapshot(portal.store, portal_id, "base", clock)
        saved = await portal.store.portal_state(portal_id)
        await portal.ok("crm.deal.update", {"id": deal, "fields": {"TITLE": "changed"}}, hook=hook)
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "later"}}, hook=hook)
        await portals.restore(portal.store, portal_id, "base")
        assert await portal.store.portal_state(portal_id) == saved
        got = await portal.ok("crm.deal.get", {"id": deal}, hook=hook)
        assert got["TITLE"] == "kept"
        # Ids handed out after the snapshot are not handed out again.
        again = await portal.ok("crm.deal.add", {"fields": {"TITLE": "new"}}, hook=hook)
        assert again > deal + 1
        with pytest.raises(portals.PortalError, match="no snapshot"):
            await portals.restore(portal.store, portal_id, "missing")
        with pytest.raises(portals.PortalError, match="snapshot name"):
            await portals.snapshot(portal.store, portal_id, "../x", clock)

    async def test_restore_after_changes_through_an_order_and_its_children(
        self, portal: Portal
    ) -> None:
        """A restore puts back only the rows that differ (core.restore_snapshot): a changed
        order takes its unchanged basket items with it (ON DELETE CASCADE), and they come
        back with the rest."""
        portal_id, hook = await second(portal)
        order = (await portal.ok("sale.order.add", {"fields": {"lid": "s1", "personTypeId": 1,
                 "currency": "USD"}}, hook=hook))["order"]["id"]  # fmt: skip
        await portal.ok("sale.basketitem.add", {"fields": {"orderId": order, "productId": 0,
                        "currency": "USD", "quantity": 2, "price": 5, "name": "kept"}},
                        hook=hook)  # fmt: skip
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": "owner"}}, hook=hook)
        binding = {"orderId": order, "ownerId": deal, "ownerTypeId": 2}
        await portal.ok("crm.orderentity.add", {"fields": binding}, hook=hook)
        await portals.snapshot(portal.store, portal_id, "base", FrozenClock())
        saved = await portal.store.portal_state(portal_id)
        await portal.ok("sale.order.update", {"id": order, "fields": {"comments": "later"}},
                        hook=hook)  # fmt: skip
        await portal.ok("crm.orderentity.deleteByFilter", {"fields": binding}, hook=hook)
        await portal.ok("sale.basketitem.add", {"fields": {"orderId": order, "productId": 0,
                        "currency": "USD", "quantity": 1, "price": 1, "name": "later"}},
                        hook=hook)  # fmt: skip
        await portals.restore(portal.store, portal_id, "base")
        assert await portal.store.portal_state(portal_id) == saved
        await portals.restore(portal.store, portal_id, "base")  # nothing differs: no change
        assert await portal.store.portal_state(portal_id) == saved

    async def test_restore_after_a_change_a_foreign_key_holds_on_to(self, portal: Portal) -> None:
        """A changed user its unchanged webhook points at (no cascade) cannot be put back row
        by row: the restore copies the whole snapshot instead, and still ends exact."""
        portal_id, hook = await second(portal)
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "kept"}}, hook=hook)
        await portals.snapshot(portal.store, portal_id, "base", FrozenClock())
        saved = await portal.store.portal_state(portal_id)
        (admin,) = [u for u in saved["users"] if u["is_admin"]]
        changed = await portal.ok("user.update", {"ID": admin["id"], "NAME": "Renamed"}, hook=hook)
        assert changed is True
        assert await portal.store.portal_state(portal_id) != saved
        await portals.restore(portal.store, portal_id, "base")
        assert await portal.store.portal_state(portal_id) == saved

    async def test_export_and_import_move_ids_and_keep_references(
        self, portal: Portal, more_databases: Any, tmp_path: Path
    ) -> None:
        """A portal's ids are unique on a server, so an import moves them to free ones, and
        every row that names one (a binding's owner, a deal's contact) moves with it."""
        portal_id, hook = await second(portal, name="fixture", plan="enterprise")
        contact = await portal.ok("crm.contact.add", {"fields": {"NAME": "Ann"}}, hook=hook)
        deal = await portal.ok(
            "crm.deal.add", {"fields": {"TITLE": "shared", "CONTACT_ID": contact}}, hook=hook
        )
        order = await _order(portal, hook)
        await portal.ok(
            "crm.orderentity.add",
            {"fields": {"orderId": order, "ownerId": deal, "ownerTypeId": 2}},
            hook=hook,
        )
        file = tmp_path / "fixture.json"
        assert await portals.export(portal.store, portal_id, file) > 0
        assert file.stat().st_mode & 0o777 == 0o600
        assert "access_hash" not in file.read_text()  # no OAuth tokens leave the server
        other: Store = create_store(Settings(database=more_databases()))
        await other.open()
        try:
            await other.bootstrap(now=0.0)
            for store in (portal.store, other):  # the same server, and another one
                created = await portals.import_file(store, portal.app.settings, FrozenClock(), file)
                assert created.portal.name == "fixture"
                assert created.portal.plan == "enterprise"
                new_hook = hook_path(created.webhook)
                client = portal.client
                if store is other:
                    client = await _client_for(other, portal.app.settings)
                bound = await _ok(client, new_hook, "crm.orderentity.list", {})
                [binding] = bound["orderEntity"]
                got = await _ok(client, new_hook, "crm.deal.get", {"id": binding["ownerId"]})
                assert got["TITLE"] == "shared"
                named = await _ok(client, new_hook, "crm.contact.get", {"id": got["CONTACT_ID"]})
                assert named["NAME"] == "Ann"
                if store is portal.store:
                    assert binding["ownerId"] != deal  # moved past the original
                    # The file's webhook stays with the portal that has it.
                    assert (await portal.call("crm.deal.list", {}, hook=hook)).status_code == 200
                else:
                    await client.aclose()
        finally:
            await other.close()

    async def test_a_bad_file_is_refused_with_a_reason(
        self, portal: Portal, tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.json"
        for text in ("not json", "[]", '{"format": "other"}'):
            bad.write_text(text)
            with pytest.raises(portals.PortalError, match="export"):
                await portals.import_file(portal.store, portal.app.settings, FrozenClock(), bad)
        assert [p.id for p in await portal.store.portals()] == [1]


async def _order(portal: Portal, hook: str) -> int:
    result = await portal.ok(
        "sale.order.add",
        {"fields": {"lid": "s1", "personTypeId": 1, "currency": "USD"}},
        hook=hook,
    )
    return int(result["order"]["id"])


async def _client_for(store: Store, settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, store=store)
    await app.startup()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _ok(client: httpx.AsyncClient, hook: str, method: str, params: Any) -> Any:
    response = await client.post(hook + method, json=params)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _without_ids(state: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {t: [{k: v for k, v in r.items() if k != "id"} for r in rows]
            for t, rows in state.items()}  # fmt: skip


# -- the commands, against a running server on the same database ---------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'portals.db'}"
        schema = None
    else:
        database, schema = fresh_schema_url(request.getfixturevalue("postgres_url"))
    server = start_server(database, "--no-rate-limit", port=free_port())
    try:
        yield server
    finally:
        server.stop()
        if schema is not None:
            drop_schema(schema)


def cli(server: Any, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "orderlink", *args, "--database", server.database_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    return done.stdout.splitlines()


def test_portal_commands_while_the_server_runs(served: Any, tmp_path: Path) -> None:
    added = json.loads(cli(served, "portal", "add", "--name", "shop", "--json")[-1])
    assert list(added) == ["id", "name", "webhook"]
    assert added["name"] == "shop"
    assert added["id"] >= 2
    assert added["webhook"].startswith(f"{served.base_url}/rest/1/")
    hook = added["webhook"]
    made = httpx.post(hook + "crm.deal.add", json={"fields": {"TITLE": "mine"}}, timeout=10)
    assert made.status_code == 200, made.text
    assert httpx.post(served.webhook_url + "crm.deal.list", json={}).json()["result"] == []
    listed = [json.loads(line) for line in cli(served, "portal", "list", "--json")]
    assert [p["id"] for p in listed] == [1, added["id"]]
    pid = str(added["id"])
    cli(served, "portal", "snapshot", pid, "one")
    httpx.post(hook + "crm.deal.add", json={"fields": {"TITLE": "two"}}, timeout=10)
    cli(served, "portal", "restore", pid, "one")
    titles = [d["TITLE"] for d in httpx.post(hook + "crm.deal.list", json={}).json()["result"]]
    assert titles == ["mine"]
    file = tmp_path / "shop.json"
    cli(served, "portal", "export", pid, str(file))
    cli(served, "portal", "reset", pid)
    assert httpx.post(hook + "crm.deal.list", json={}).json()["result"] == []
    cli(served, "portal", "delete", pid)
    assert httpx.post(hook + "crm.deal.list", json={}).status_code == 401
    imported = json.loads(cli(served, "portal", "import", str(file), "--json")[-1])
    assert imported["name"] == "shop"
    assert imported["id"] > added["id"]
    # The imported portal's webhooks keep their URLs; a new admin webhook comes with it.
    titles = [d["TITLE"] for d in httpx.post(hook + "crm.deal.list", json={}).json()["result"]]
    assert titles == ["mine"]
    assert httpx.post(imported["webhook"] + "crm.deal.list", json={}).status_code == 200


def test_a_portal_added_with_a_domain_answers_on_it(served: Any) -> None:
    """Issue 18: `portal add --domain D`; a request whose Host is D is that portal's, and
    another portal's webhook there is INVALID_CREDENTIALS."""
    added = json.loads(cli(served, "portal", "add", "--domain", "shop.bitrix24.test", "--json")[-1])
    on_domain = {"Host": "shop.bitrix24.test"}
    mine = httpx.post(added["webhook"] + "crm.deal.list", json={}, headers=on_domain)
    assert mine.status_code == 200, mine.text
    other = httpx.post(served.webhook_url + "crm.deal.list", json={}, headers=on_domain)
    assert other.status_code == 401, other.text
    assert other.json()["error"] == "INVALID_CREDENTIALS"
    taken = subprocess.run(
        [sys.executable, "-m", "orderlink", "portal", "add", "--domain", "shop.bitrix24.test",
         "--database", served.database_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert taken.returncode == 1
    assert "already a domain of portal" in taken.stderr
    listed = [json.loads(line)["id"] for line in cli(served, "portal", "list", "--json")]
    assert listed == [1, added["id"]]  # the refused portal was not made


def test_unknown_portals_fail_clearly(served: Any) -> None:
    for args in (("delete", "99"), ("reset", "99"), ("snapshot", "99", "a"),
                 ("restore", "99", "a")):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "orderlink", "portal", *args,
             "--database", served.database_url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout
        assert "no portal 99" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.replace(rate_limit=True)


async def test_a_portal_has_the_limits_of_its_plan(limited: Settings) -> None:
    """limits.md: the bucket is 50 requests (drain 2/s) on a standard plan, 250 (5/s) on an
    enterprise one; a portal's `--plan` picks its own (the clock is frozen: nothing drains)."""
    app = create_app(limited, clock=FrozenClock())
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await app.store.bootstrap(now=0.0)
            portal = Portal(app, client, "")
            await _limits_by_plan(portal)
    finally:
        await app.shutdown()


async def _limits_by_plan(portal: Portal) -> None:
    _, enterprise = await second(portal, plan="enterprise")
    _, standard = await second(portal, plan="standard")
    answered = {}
    for hook in (enterprise, standard):
        codes = [(await portal.call("crm.deal.list", {}, hook=hook)).status_code
                 for _ in range(60)]  # fmt: skip
        answered[hook] = codes
    assert set(answered[enterprise]) == {200}
    assert answered[standard][:50] == [200] * 50
    assert set(answered[standard][50:]) == {503}


def added_member(database: str, portal_id: int) -> str:
    conn = sqlite3.connect(database[len("sqlite:///") :])
    try:
        return str(
            conn.execute("SELECT member_id FROM portals WHERE id = ?", (portal_id,)).fetchone()[0]
        )
    finally:
        conn.close()


def test_user_webhook_and_app_commands_take_a_portal(tmp_path: Path) -> None:
    """`--portal ID` on user/webhook/app commands: what they make belongs to that portal."""
    from click.testing import CliRunner

    from orderlink.cli import main

    database = f"sqlite:///{tmp_path / 'p.db'}"

    def run(*args: str, code: int = 0) -> list[str]:
        result = CliRunner().invoke(main, [*args, "--database", database])
        assert result.exit_code == code, result.output
        return result.output.splitlines()

    added = json.loads(run("portal", "add", "--json")[-1])
    pid = str(added["id"])
    user = run("user", "add", "--name", "Bob Lee", "--store-role", "admin", "--portal", pid)[-1]
    assert user == "2"
    assert [line.split("\t")[1] for line in run("user", "list", "--portal", pid)[1:]] == [
        "Administrator", "Bob Lee"]  # fmt: skip
    assert len(run("user", "list")) == 2  # the default portal has only its administrator
    run("webhook", "add", "--user-id", "2", "--scope", "crm", "--portal", pid)
    assert len(run("webhook", "list", "--portal", pid)) == 3  # header, admin's, Bob's
    made = run("app", "add", "--name", "A", "--scope", "crm", "--portal", pid,
               "--redirect-uri", "https://app.example/cb")  # fmt: skip
    assert len(run("app", "list", "--portal", pid)) == 2
    assert len(run("app", "list")) == 1
    # An app of portal 2 installs there, for that portal's user 1, and its tokens are its.
    client_id = next(line for line in made if line.startswith("client_id: ")).split(": ")[1]
    run("app", "install", "--client-id", client_id)
    issued = json.loads(run("token", "issue", "--client-id", client_id, "--user-id", "1",
                            "--json")[-1])  # fmt: skip
    assert issued["member_id"] == added_member(database, int(pid))
    assert run("app", "uninstall", "--client-id", client_id)[-1] == "uninstalled"
    missing = run("user", "list", "--portal", "99", code=1)
    assert "no portal 99" in missing[-1]


def test_the_portal_commands_in_this_process(tmp_path: Path) -> None:
    """The portal commands through click's runner (the live test above runs them as
    subprocesses): each answers as documented without a server, and fails cleanly."""
    from click.testing import CliRunner

    from orderlink.cli import main

    database = f"sqlite:///{tmp_path / 'c.db'}"

    def run(*args: str, code: int = 0) -> list[str]:
        result = CliRunner().invoke(main, [*args, "--database", database])
        assert result.exit_code == code, result.output
        return result.output.splitlines()

    added = json.loads(run("portal", "add", "--name", "a", "--plan", "enterprise", "--json")[-1])
    pid = str(added["id"])
    assert run("portal", "add", "--seed-examples")[-1].startswith("http://127.0.0.1:8080/rest/1/")
    refused = run("portal", "reset", pid, "--seed-examples", code=1)[-1]
    assert "holds the docs' example rows" in refused
    assert run("portal", "list")[0] == "id\tname\tplan\tsnapshots"
    assert run("portal", "snapshot", pid, "one") == [f"saved snapshot one of portal {pid}"]
    assert run("portal", "restore", pid, "one") == [f"restored portal {pid} to one"]
    assert run("portal", "reset", pid) == [f"reset portal {pid}"]
    file = tmp_path / "a.json"
    assert run("portal", "export", pid, str(file))[0].startswith(f"exported portal {pid}")
    assert run("portal", "delete", pid) == [f"deleted portal {pid}"]
    assert run("portal", "import", str(file))[-1].startswith("http://")
    assert "no portal 99" in run("portal", "restore", "99", "one", code=1)[-1]
    assert "not a readable portal export" in run(
        "portal", "import", str(tmp_path / "c.db"), code=1)[-1]  # fmt: skip


def test_the_fault_and_journal_commands_in_this_process(tmp_path: Path) -> None:
    """fault add/list/remove/clear and journal through click's runner, on a second portal
    (tests/test_faults.py drives them against a live server as subprocesses)."""
    from click.testing import CliRunner

    from orderlink.cli import main

    database = f"sqlite:///{tmp_path / 'f.db'}"

    def run(*args: str, code: int = 0) -> list[str]:
        result = CliRunner().invoke(main, [*args, "--database", database])
        assert result.exit_code == code, result.output
        return result.output.splitlines()

    pid = str(json.loads(run("portal", "add", "--json")[-1])["id"])
    first = run("fault", "add", "--portal", pid, "--method", "crm.deal.add",
                "--error", "QUERY_LIMIT_EXCEEDED", "--times", "2")[-1]  # fmt: skip
    run("fault", "add", "--portal", pid, "--delay", "0.5", "--json")
    run("fault", "add", "--portal", pid, "--drop", "--probability", "0.5", "--seed", "7")
    listed = [json.loads(line) for line in run("fault", "list", "--json")]
    assert len(listed) == 3
    assert {f["portal_id"] for f in listed} == {int(pid)}
    assert len(run("fault", "list")) >= 3
    run("fault", "remove", first.split()[-1])
    assert len([json.loads(line) for line in run("fault", "list", "--json")]) == 2
    run("fault", "clear", "--portal", pid)
    assert run("fault", "list", "--json") == []
    run("fault", "add", "--portal", pid, code=2)  # neither --error, --delay nor --drop
    assert run("journal", "--portal", pid, "--json") == []
    assert run("journal", "--portal", pid)[0].startswith("id\ttime\tmethod")


async def test_an_export_edited_by_hand_is_refused_whole(portal: Portal, tmp_path: Path) -> None:
    """Bad input never half-writes: an export whose rows do not fit (an unknown table, an
    unknown column, text for an id) is refused with its reason, and no portal is left."""
    portal_id, _ = await second(portal)
    await portal.ok("crm.deal.add", {"fields": {"TITLE": "x"}}, hook=(await second(portal))[1])
    document = await portals.export_document(portal.store, portal_id)
    bad_tables = [
        {**document["tables"], "no_such_table": [{"id": 1}]},
        {**document["tables"], "deals": [{"id": 1, "no_such_column": 1}]},
        {**document["tables"], "deals": [{"id": "one", "title": "t"}]},
    ]
    before = [p.id for p in await portal.store.portals()]
    for tables in bad_tables:
        with pytest.raises(portals.PortalError, match="do not fit"):
            await portals.import_document(
                portal.store, portal.app.settings, FrozenClock(), {**document, "tables": tables}
            )
        assert [p.id for p in await portal.store.portals()] == before
