"""The wire protocol around every method: routes, verbs, encodings, envelopes and system errors
(protocol.md; settings/how-to-call-rest-api/general-principles.md, _includes/system-errors.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from .conftest import Portal

pytestmark = pytest.mark.anyio


class TestRoutes:
    @pytest.mark.parametrize(
        "suffix",
        [
            "crm.orderentity.getFields",
            "crm.orderentity.getFields.json",
            "crm.orderentity.getFields/",
            "crm.orderentity.getFields.json/",
            "CRM.ORDERENTITY.GETFIELDS",
        ],
    )
    async def test_method_url_forms(self, portal: Portal, suffix: str) -> None:
        response = await portal.client.post(portal.hook + suffix, json={})
        assert response.status_code == 200
        assert "orderEntity" in response.json()["result"]

    async def test_repeated_slashes_collapse_and_nothing_redirects(self, portal: Portal) -> None:
        path = portal.hook.replace("/rest/", "/rest//") + "/crm.orderentity.getFields"
        response = await portal.client.post(path, json={})
        assert response.status_code == 200

    async def test_get_with_query_string(self, portal: Portal) -> None:
        response = await portal.client.get(
            portal.hook + "crm.orderentity.list?start=0&select[]=orderId"
        )
        assert response.status_code == 200
        assert response.json()["result"] == {"orderEntity": []}

    async def test_unknown_parameters_are_ignored(self, portal: Portal) -> None:
        response = await portal.client.post(
            portal.hook + "crm.orderentity.getFields?bx24_request_id=abc&bx24_sdk_ver=1.0",
            json={"start": 0, "bx24_sdk_type": "x"},
        )
        assert response.status_code == 200

    async def test_unknown_method_is_404(self, portal: Portal) -> None:
        response = await portal.call("crm.orderentity.explode")
        assert response.status_code == 404
        assert response.json() == {
            "error": "ERROR_METHOD_NOT_FOUND",
            "error_description": "Method not found!",
        }

    async def test_rest_api_v3_prefix_is_not_served(self, portal: Portal) -> None:
        response = await portal.client.post("/rest/api/crm.orderentity.list", json={})
        assert response.status_code in (401, 404)
        assert set(response.json()) == {"error", "error_description"}


class TestAuth:
    @pytest.mark.parametrize(
        "hook",
        ["/rest/1/wrongcode123456/", "/rest/2/{code}/", "/rest/abc/{code}/", "/rest/1/{code}x/"],
    )
    async def test_bad_webhook_is_401(self, portal: Portal, hook: str) -> None:
        code = portal.hook.split("/")[3]
        response = await portal.call("crm.orderentity.list", hook=hook.format(code=code))
        assert response.status_code == 401
        assert response.json() == {
            "error": "INVALID_CREDENTIALS",
            "error_description": "Invalid request credentials",
        }

    async def test_token_route_without_a_token_is_401(self, portal: Portal) -> None:
        response = await portal.client.post("/rest/crm.orderentity.list", json={})
        assert response.status_code == 401
        assert response.json()["error"] == "NO_AUTH_FOUND"

    async def test_scope_outside_the_webhook_is_401(self, portal: Portal) -> None:
        from orderlink.registry import Role

        hook = await portal.webhook_for(Role.STORE_ADMIN, scopes=("sale",))
        response = await portal.call("crm.orderentity.list", hook=hook)
        assert response.status_code == 401
        assert response.json() == {
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the webhook token",
        }

    async def test_revoked_webhook_stops_working(self, portal: Portal) -> None:
        portal_row = await portal.store.default_portal()
        (webhook,) = await portal.store.list_webhooks(portal_row.id)
        assert (await portal.call("crm.orderentity.list")).status_code == 200
        assert await portal.store.revoke_webhook(portal_row.id, webhook.id)
        assert (await portal.call("crm.orderentity.list")).status_code == 401


class TestEnvelope:
    async def test_time_object_is_complete_and_consistent(self, portal: Portal) -> None:
        body = (await portal.call("crm.orderentity.getFields")).json()
        time = body["time"]
        assert time["finish"] >= time["start"]
        assert time["duration"] == pytest.approx(time["finish"] - time["start"])
        assert isinstance(time["processing"], float)
        for key in ("date_start", "date_finish"):
            parsed = datetime.fromisoformat(time[key])
            assert parsed.utcoffset() is not None
            assert time[key].endswith("+00:00")
        assert isinstance(time["operating"], float | int)
        assert isinstance(time["operating_reset_at"], int)

    async def test_errors_carry_only_error_and_description(self, portal: Portal) -> None:
        body = (await portal.call("crm.orderentity.add", {"fields": {}})).json()
        assert set(body) == {"error", "error_description"}


class TestBadInput:
    """Never a 500, never a traceback, never a partial write."""

    @pytest.mark.one_store
    @pytest.mark.parametrize(
        "body",
        [b"{", b'{"fields": {"orderId": 1,}}', b"null", b'"fields"', b"\xff\xfe\xfd"],
    )
    async def test_malformed_json_is_400(self, portal: Portal, body: bytes) -> None:
        response = await portal.client.post(
            portal.hook + "crm.orderentity.add",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_REQUEST"

    @pytest.mark.one_store
    async def test_huge_body_is_refused_before_it_is_read(self, portal: Portal) -> None:
        limit = portal.app.settings.max_body_bytes
        response = await portal.client.post(
            portal.hook + "crm.orderentity.add",
            content=b"a=" + b"x" * limit,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413
        assert response.json()["error"] == "INVALID_REQUEST"

    @pytest.mark.parametrize(
        "fields",
        ["5125", ["5125", "6933", "2"], 42, {"orderId": "abc", "ownerId": 1, "ownerTypeId": 2},
         {"orderId": 1.5, "ownerId": 1, "ownerTypeId": 2}, {"orderId": {"x": 1}, "ownerId": 1, "ownerTypeId": 2},
         {"orderId": "9" * 40, "ownerId": 1, "ownerTypeId": 2}, {"orderId": True, "ownerId": 1, "ownerTypeId": 2}],
    )  # fmt: skip
    async def test_wrong_field_types_are_400_and_write_nothing(
        self, portal: Portal, fields: object
    ) -> None:
        await portal.add_order(1)
        await portal.add_deal(1)
        response = await portal.call("crm.orderentity.add", {"fields": fields})
        assert response.status_code == 400
        assert response.json()["error"] in ("0", "100")
        assert (await portal.ok("crm.orderentity.list"))["orderEntity"] == []

    @pytest.mark.parametrize(
        "filter_",
        [
            {"orderId; DROP TABLE bindings; --": 1},
            {"1=1 OR orderId": 1},
            {"unknownField": 1},
            {">=orderId": "abc"},
            {"@ownerId": [1, "x"]},
            ["orderId", 1],
            "orderId=1",
        ],
    )
    async def test_bad_filters_are_400(self, portal: Portal, filter_: object) -> None:
        response = await portal.call("crm.orderentity.list", {"filter": filter_})
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"error", "error_description"}

    async def test_bad_sort_direction_is_400(self, portal: Portal) -> None:
        response = await portal.call("crm.orderentity.list", {"order": {"orderId": "sideways"}})
        assert response.status_code == 400
        assert "allowed sort directions are ASC, DESC" in response.json()["error_description"]

    async def test_unknown_sort_fields_are_ignored(self, portal: Portal) -> None:
        # fast-bitrix24's get_all always sends {"ID": "ASC"}.
        response = await portal.call("crm.orderentity.list", {"order": {"ID": "ASC"}})
        assert response.status_code == 200

    async def test_absurdly_long_values_are_refused(self, portal: Portal) -> None:
        response = await portal.call(
            "crm.orderentity.add",
            {"fields": {"orderId": "1" * 100_000, "ownerId": 1, "ownerTypeId": 2}},
        )
        assert response.status_code == 400

    async def test_php_bracket_garbage_in_a_form_body(self, portal: Portal) -> None:
        response = await portal.call(
            "crm.orderentity.add", form="fields[[orderId]]=1&fields]=2&[x]=3&fields[ownerId=4"
        )
        assert response.status_code == 400
        assert response.json()["error"] in ("0", "100")

    @pytest.mark.one_store
    async def test_unknown_paths_answer_json_404(self, portal: Portal) -> None:
        response = await portal.client.get("/favicon.ico")
        assert response.status_code == 404
        assert set(response.json()) == {"error", "error_description"}


class TestAccessLog:
    """`--access-log` never writes a webhook code, a token or a client secret."""

    @pytest.mark.parametrize(
        ("path", "query", "expected"),
        [
            (
                "/rest/1/k3x9q2m7a1b4c8d0/crm.orderentity.list",
                b"",
                "/rest/1/***/crm.orderentity.list",
            ),
            (
                "/rest/crm.orderentity.list",
                b"auth=abc&start=50",
                "/rest/crm.orderentity.list?auth=***&start=50",
            ),
            (
                "/oauth/token/",
                b"grant_type=refresh_token&client_id=local.x&client_secret=S3cret&refresh_token=r",
                "/oauth/token/?grant_type=refresh_token&client_id=local.x&client_secret=***&refresh_token=***",
            ),
        ],
    )
    def test_masked(self, path: str, query: bytes, expected: str) -> None:
        from orderlink.app import masked

        assert masked({"path": path, "query_string": query}) == expected

    @pytest.mark.live
    def test_live_access_log_masks_secrets(self, tmp_path: Path) -> None:
        import httpx

        from .live import start_server

        server = start_server(tmp_path / "log.db", "--access-log", "--no-rate-limit")
        try:
            code = server.webhook_url.rstrip("/").rsplit("/", 1)[1]
            httpx.post(server.webhook_url + "crm.orderentity.getFields", json={})
            httpx.get(server.base_url + "/oauth/token/?client_secret=TopSecret1&refresh_token=R")
        finally:
            server.stop()
        logged = "".join(line for line in server.output if "orderlink.access" in line)
        assert '"POST /rest/1/***/crm.orderentity.getFields HTTP/1.1" 200' in logged
        assert "client_secret=***" in logged
        assert code not in logged
        assert "TopSecret1" not in "".join(server.output)
