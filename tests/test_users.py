"""user.get, user.search, user.fields, user.current, user.add and user.update over the portal's
users (api-reference/user/), on both stores."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from orderlink.auth import hash_secret, new_webhook_code
from orderlink.registry import Role
from orderlink.storage import migrations

from .conftest import Portal, error_of

pytestmark = pytest.mark.anyio


async def hook_of(portal: Portal, user_id: int, *scopes: str) -> str:
    """A webhook of an existing user with these scopes."""
    found = await portal.store.default_portal()
    code = new_webhook_code()
    await portal.store.add_webhook(found.id, user_id, hash_secret(code), scopes, 0.0)
    return f"/rest/{user_id}/{code}/"


async def add_user(portal: Portal, name: str, **profile: Any) -> int:
    found = await portal.store.default_portal()
    user = await portal.store.add_user(found.id, name, 0, profile=profile, now=0.0)
    return int(user.id)


@pytest.fixture
async def staff(portal: Portal) -> dict[str, Any]:
    """The administrator and three employees, and webhooks of the administrator per scope."""
    await add_user(portal, "John", last_name="Smith", email="test@gmail.com",
                   work_position="Courier", personal_city="New York")  # fmt: skip
    await add_user(portal, "Ivan", last_name="Ivanov", email="ivan@example.com",
                   personal_city="Los Angeles", second_name="Petrovich")  # fmt: skip
    await add_user(portal, "Anna", last_name="Johnson", email="anna@example.com", active="N")
    return {
        scope: await hook_of(portal, 1, scope) for scope in ("user", "user_basic", "user_brief")
    }


async def ids(portal: Portal, method: str, params: dict[str, Any], hook: str) -> list[int]:
    return [int(row["ID"]) for row in await portal.ok(method, params, hook=hook)]


class TestUserGet:
    async def test_lists_every_user_by_id_with_a_total(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        response = await portal.call("user.get", {}, hook=staff["user"])
        body = response.json()
        assert [row["ID"] for row in body["result"]] == ["1", "2", "3", "4"]
        assert body["total"] == 4
        assert "next" not in body

    async def test_a_row_has_the_examples_keys_in_their_order(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        """user-get.md's second user: the keys every row prints; a value never given (XML_ID,
        TIME_ZONE) is left out, as the example leaves out what its user lacks."""
        row = (await portal.ok("user.get", {"ID": 2}, hook=staff["user"]))[0]
        assert list(row) == [
            "ID", "ACTIVE", "NAME", "LAST_NAME", "EMAIL", "LAST_LOGIN", "DATE_REGISTER",
            "IS_ONLINE", "TIMESTAMP_X", "LAST_ACTIVITY_DATE", "PERSONAL_GENDER",
            "PERSONAL_BIRTHDAY", "PERSONAL_CITY", "WORK_POSITION", "UF_EMPLOYMENT_DATE",
            "UF_DEPARTMENT", "USER_TYPE",
        ]  # fmt: skip
        assert row["ACTIVE"] is True
        assert row["NAME"] == "John"
        assert row["DATE_REGISTER"] == "1970-01-01T00:00:00+00:00"
        assert row["TIMESTAMP_X"] == {}
        assert row["IS_ONLINE"] == "N"
        assert row["UF_DEPARTMENT"] == [1]
        assert row["USER_TYPE"] == "employee"

    async def test_the_caller_is_online_and_signed_in(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        row = (await portal.ok("user.get", {"ID": 1}, hook=staff["user"]))[0]
        assert row["IS_ONLINE"] == "Y"
        assert row["LAST_LOGIN"].endswith("+00:00")
        online = await ids(portal, "user.get", {"FILTER": {"IS_ONLINE": "Y"}}, staff["user"])
        assert online == [1]

    async def test_top_level_names_filter_when_there_is_no_filter_object(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        """user-get.md's cURL example sends UF_DEPARTMENT beside SORT/ORDER/start."""
        params = {"UF_DEPARTMENT": 1, "SORT": "ID", "ORDER": "desc"}
        assert await ids(portal, "user.get", params, staff["user"]) == [4, 3, 2, 1]

    @pytest.mark.parametrize(
        ("filter_", "expected"),
        [
            ({"NAME": "Iv%"}, [3]),  # user-get.md: "a name starting with"
            ({"!%LAST_NAME": "son"}, [1, 2, 3]),
            ({"@PERSONAL_CITY": ["New York", "Los Angeles"]}, [2, 3]),
            ({"ACTIVE": True}, [1, 2, 3]),
            ({"ACTIVE": "N"}, [4]),
            ({"USER_TYPE": "employee"}, [1, 2, 3, 4]),
            ({">=ID": 3}, [3, 4]),
            ({"ID": [2, 4]}, [2, 4]),
            ({"ID": "abc"}, []),
            ({"EMAIL": "ivan@example.com"}, [3]),
            ({"NAME_SEARCH": "smi"}, [2]),
            ({"NO_SUCH_FIELD": 1, "name": "Anna"}, [4]),  # unknown names are skipped
            ({"DATE_REGISTER": "not a date"}, []),  # user-get.md: retrieves no records
        ],
    )
    async def test_filters(
        self,
        portal: Portal,
        staff: dict[str, str],
        filter_: dict[str, Any],
        expected: list[int],
    ) -> None:
        assert await ids(portal, "user.get", {"filter": filter_}, staff["user"]) == expected

    async def test_an_empty_page_is_a_bare_list_without_total(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        """The portal's user service returns an empty result without paging keys."""
        body = (await portal.call("user.get", {"FILTER": {"ID": 99}}, hook=staff["user"])).json()
        assert body["result"] == []
        assert "total" not in body

    async def test_pages_of_fifty_with_next(self, portal: Portal, staff: dict[str, str]) -> None:
        for n in range(60):
            await add_user(portal, f"Temp{n}")
        first = (await portal.call("user.get", {}, hook=staff["user"])).json()
        assert (len(first["result"]), first["total"], first["next"]) == (50, 64, 50)
        second = (await portal.call("user.get", {"start": 50}, hook=staff["user"])).json()
        assert len(second["result"]) == 14
        assert "next" not in second

    async def test_select_picks_fields_and_masks(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        rows = await portal.ok("user.get", {"ID": 2, "select": ["ID", "EMAIL"]}, hook=staff["user"])
        assert rows == [{"ID": "2", "EMAIL": "test@gmail.com"}]
        rows = await portal.ok("user.get", {"ID": 2, "select": ["UF_*"]}, hook=staff["user"])
        assert rows == [{"UF_EMPLOYMENT_DATE": "", "UF_DEPARTMENT": [1]}]

    async def test_the_brief_scope_reveals_no_contact_details(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        """user-scope.md: user_brief has no EMAIL; a filter on it is skipped, not refused."""
        brief = (await portal.ok("user.get", {"ID": 2}, hook=staff["user_brief"]))[0]
        assert "EMAIL" not in brief
        assert brief["NAME"] == "John"
        basic = (await portal.ok("user.get", {"ID": 2}, hook=staff["user_basic"]))[0]
        assert basic["EMAIL"] == "test@gmail.com"
        assert "LAST_LOGIN" not in basic
        skipped = {"filter": {"EMAIL": "ivan@example.com"}}
        assert await ids(portal, "user.get", skipped, staff["user_brief"]) == [1, 2, 3, 4]

    async def test_needs_a_user_scope(self, portal: Portal) -> None:
        response = await portal.call("user.get")
        assert response.status_code == 401
        assert response.json()["error"] == "insufficient_scope"


class TestUserSearch:
    @pytest.mark.parametrize(
        ("filter_", "expected"),
        [
            ({"FIND": "Iv"}, [3]),
            ({"FIND": "john"}, [2, 4]),  # NAME John, LAST_NAME Johnson
            ({"FIND": "John Smi"}, [2]),  # every word must be found
            ({"FIND": "3"}, [3]),  # a number is also the ID
            ({"NAME": "Jo"}, [2]),  # from the start of the value
            ({"NAME": "ohn"}, []),
            ({"LAST_NAME": "Iva", "NAME": "Iv"}, [3]),
            ({"WORK_POSITION": "Cour"}, [2]),
            ({"UF_DEPARTMENT_NAME": "Sales"}, []),
        ],
    )
    async def test_find_and_name_fields(
        self,
        portal: Portal,
        staff: dict[str, str],
        filter_: dict[str, Any],
        expected: list[int],
    ) -> None:
        assert await ids(portal, "user.search", {"FILTER": filter_}, staff["user"]) == expected


async def test_user_fields_per_scope(portal: Portal, staff: dict[str, str]) -> None:
    full = await portal.ok("user.fields", hook=staff["user"])
    assert full["EMAIL"] == "E-Mail"
    assert list(full)[:4] == ["ID", "XML_ID", "ACTIVE", "NAME"]
    assert list(full)[-1] == "USER_TYPE"
    brief = await portal.ok("user.fields", hook=staff["user_brief"])
    assert "EMAIL" not in brief
    assert "WORK_POSITION" in brief


async def test_user_current_reads_the_stored_profile(portal: Portal) -> None:
    user_id = await add_user(portal, "Anna", last_name="Lee", email="anna@shop.example")
    hook = await hook_of(portal, user_id, "user_basic")
    current = await portal.ok("user.current", hook=hook)
    assert (current["NAME"], current["LAST_NAME"], current["EMAIL"]) == (
        "Anna", "Lee", "anna@shop.example",
    )  # fmt: skip


class TestUserAdd:
    async def test_adds_an_employee_and_answers_its_id(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        fields = {"EMAIL": "newuser1@example.com", "UF_DEPARTMENT": [1], "NAME": "New"}
        new_id = await portal.ok("user.add", fields, hook=staff["user"])
        assert new_id == 5
        row = (await portal.ok("user.get", {"ID": new_id}, hook=staff["user"]))[0]
        assert (row["NAME"], row["EMAIL"], row["ACTIVE"]) == ("New", "newuser1@example.com", True)

    @pytest.mark.parametrize(
        ("fields", "text"),
        [
            ({"UF_DEPARTMENT": [1]}, "wrong_email"),
            ({"EMAIL": "not-an-address", "UF_DEPARTMENT": [1]}, "wrong_email"),
            ({"EMAIL": "TEST@gmail.com", "UF_DEPARTMENT": [1]},
             "A user with this email already exists"),
            ({"EMAIL": "x@example.com"}, "no_extranet_field"),
            ({"EMAIL": "x@example.com", "UF_DEPARTMENT": 1, "WORK_CITY": 5},
             "invalid_type_field"),
        ],
    )  # fmt: skip
    async def test_refusals(
        self, portal: Portal, staff: dict[str, str], fields: dict[str, Any], text: str
    ) -> None:
        body = await error_of(portal, "user.add", fields, hook=staff["user"])
        assert body == {"error": "ERROR_ARGUMENT", "error_description": text}

    async def test_needs_the_full_scope_and_an_administrator(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        fields = {"EMAIL": "a@example.com", "UF_DEPARTMENT": [1]}
        narrow = await portal.call("user.add", fields, hook=staff["user_basic"])
        assert narrow.status_code == 401
        hook = await portal.webhook_for(Role.STORE_ADMIN, scopes=("user",))
        body = await error_of(portal, "user.add", fields, hook=hook)
        assert body == {"error": "ERROR_CORE", "error_description": "access_denied"}


class TestUserUpdate:
    async def test_an_administrator_changes_and_dismisses(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        changed = {"ID": 2, "LAST_NAME": "Smythe", "ACTIVE": "N", "PERSONAL_MOBILE": "+1 555"}
        assert await portal.ok("user.update", changed, hook=staff["user"]) is True
        row = (await portal.ok("user.get", {"ID": 2}, hook=staff["user"]))[0]
        assert (row["LAST_NAME"], row["ACTIVE"], row["PERSONAL_MOBILE"]) == (
            "Smythe", False, "+1 555",
        )  # fmt: skip

    async def test_a_dismissed_employees_webhook_stops_working(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        """user-update.md: ACTIVE N dismisses the employee; a portal then refuses their
        credentials, so their webhooks stop answering."""
        hook = await hook_of(portal, 2, "user")
        assert (await portal.call("user.current", hook=hook)).status_code == 200
        await portal.ok("user.update", {"ID": 2, "ACTIVE": False}, hook=staff["user"])
        assert (await portal.call("user.current", hook=hook)).status_code == 401

    async def test_a_user_may_change_only_its_own_profile_not_its_activity(
        self, portal: Portal, staff: dict[str, str]
    ) -> None:
        hook = await hook_of(portal, 2, "user")
        assert await portal.ok("user.update", {"ID": 2, "NAME": "Jon", "ACTIVE": "N"}, hook=hook)
        current = await portal.ok("user.current", hook=hook)
        assert (current["NAME"], current["ACTIVE"]) == ("Jon", True)
        body = await error_of(portal, "user.update", {"ID": 3, "NAME": "X"}, hook=hook)
        assert body == {"error": "ERROR_CORE", "error_description": "access_denied"}

    @pytest.mark.parametrize(("user_id", "text"), [(0, "access_denied"), (99, "")])
    async def test_a_bad_id(
        self, portal: Portal, staff: dict[str, str], user_id: int, text: str
    ) -> None:
        body = await error_of(portal, "user.update", {"ID": user_id}, hook=staff["user"])
        assert body == {"error": "ERROR_CORE", "error_description": text}


class TestUsersMigration:
    """Migration 14: a name saved as one line becomes NAME and LAST_NAME split at its first
    space, exactly as `profile` printed it before, so no caller sees a different name."""

    ROWS = ((1, "Administrator"), (2, "Shop manager"), (3, "Mary Ann Lee"))
    SPLIT = ((1, "Administrator", ""), (2, "Shop", "manager"), (3, "Mary", "Ann Lee"))

    def test_sqlite(self, tmp_path: Path) -> None:
        conn = sqlite3.connect(tmp_path / "old.db")
        steps = migrations.migrations("sqlite")
        for step in steps[:13]:
            conn.executescript(step.sql)
        conn.execute("INSERT INTO portals (domain, member_id, created_at) VALUES ('p', 'm', 0)")
        conn.executemany("INSERT INTO users (portal_id, id, name) VALUES (1, ?, ?)", self.ROWS)
        conn.executescript(steps[13].sql)
        found = conn.execute("SELECT id, name, last_name FROM users ORDER BY id").fetchall()
        assert found == list(self.SPLIT)

    def test_postgres(self, postgres_url: str) -> None:
        import asyncpg

        from .conftest import drop_schema, run_aside

        schema = f"t_{secrets.token_hex(6)}"

        async def migrate() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(postgres_url, timeout=3)
            try:
                await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}")
                steps = migrations.migrations("postgres")
                for step in steps[:13]:
                    await conn.execute(step.sql)
                await conn.execute(
                    "INSERT INTO portals (domain, member_id, created_at) VALUES ('p', 'm', 0)"
                )
                portal = await conn.fetchval("SELECT id FROM portals")
                for user_id, name in self.ROWS:
                    await conn.execute(
                        "INSERT INTO users (portal_id, id, name) VALUES ($1, $2, $3)",
                        portal, user_id, name,
                    )  # fmt: skip
                await conn.execute(steps[13].sql)
                rows = await conn.fetch("SELECT id, name, last_name FROM users ORDER BY id")
                return [tuple(row) for row in rows]
            finally:
                await conn.close()

        try:
            assert run_aside(migrate) == list(self.SPLIT)
        finally:
            drop_schema(schema)
