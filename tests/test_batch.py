"""batch (settings/how-to-call-rest-api/batch.md): commands, references, halt, result maps."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from orderlink import errors
from orderlink.batch import MISSING, php_array, resolve, split_command
from orderlink.registry import Role

from .conftest import Portal

pytestmark = pytest.mark.anyio

TIME_KEYS = {"start", "finish", "duration", "processing", "date_start", "date_finish"}


class TestReferences:
    maps: ClassVar[dict[str, dict[str, Any]]] = {
        "result": {
            "bind": {"dealOrder": {"orderId": 5125, "ownerId": 6933}},
            "rows": {"orderEntity": [{"orderId": 1}, {"orderId": 2}]},
        },
        "result_error": {"bad": {"error": "0", "error_description": "x"}},
        "result_total": {"rows": 2},
        "result_next": {},
        "result_time": {},
    }
    earlier: ClassVar[set[str]] = {"bind", "rows", "bad"}

    def test_nested_path_keeps_the_type_of_a_whole_value(self) -> None:
        assert resolve("$result[bind][dealOrder][orderId]", self.maps, self.earlier) == 5125

    def test_list_index(self) -> None:
        assert resolve("$result[rows][orderEntity][1][orderId]", self.maps, self.earlier) == 2

    def test_arrays_stay_arrays(self) -> None:
        assert resolve("$result[rows][orderEntity]", self.maps, self.earlier) == [
            {"orderId": 1},
            {"orderId": 2},
        ]

    def test_inside_longer_text(self) -> None:
        text = "order $result[bind][dealOrder][orderId] of $result_total[rows]"
        assert resolve(text, self.maps, self.earlier) == "order 5125 of 2"

    def test_inside_nested_parameters(self) -> None:
        params = {"filter": {"@orderId": ["$result[rows][orderEntity][0][orderId]", "7"]}}
        assert resolve(params, self.maps, self.earlier) == {"filter": {"@orderId": [1, "7"]}}

    @pytest.mark.parametrize(
        "reference",
        ["$result[bad][anything]", "$result[bind][nope]", "$result[rows][orderEntity][9]"],
    )
    def test_failed_command_or_missing_path_becomes_empty(self, reference: str) -> None:
        assert resolve(reference, self.maps, self.earlier) == ""

    @pytest.mark.parametrize("reference", ["$result[later][x]", "$result[][x]"])
    def test_reference_to_no_earlier_command_is_an_error(self, reference: str) -> None:
        with pytest.raises(errors.ArgumentError):
            resolve(reference, self.maps, self.earlier)

    def test_missing_is_a_sentinel_not_a_value(self) -> None:
        assert MISSING is not None


class TestCommands:
    def test_method_and_query(self) -> None:
        assert split_command("crm.orderentity.list?filter%5B%3EorderId%5D=5&select[]=orderId") == (
            "crm.orderentity.list",
            {"filter": {">orderId": "5"}, "select": ["orderId"]},
        )

    def test_empty_query_and_json_suffix(self) -> None:
        assert split_command("crm.orderentity.getFields.json?") == ("crm.orderentity.getFields", {})

    @pytest.mark.parametrize("value", [None, 5, {"method": "x"}, "", "   ", "?a=1"])
    def test_not_a_method_query_string(self, value: object) -> None:
        with pytest.raises(errors.ArgumentError):
            split_command(value)

    def test_php_arrays(self) -> None:
        assert php_array({}) == []
        assert php_array({"0": "a", "1": "b"}) == ["a", "b"]
        assert php_array({"1": "b"}) == {"1": "b"}
        assert php_array({"x": 1}) == {"x": 1}


async def seeded(portal: Portal) -> None:
    for order_id, deal_id in ((5125, 6933), (5127, 6937)):
        await portal.add_order(order_id)
        await portal.add_deal(deal_id)


class TestWire:
    async def test_independent_and_linked_commands(self, portal: Portal) -> None:
        await seeded(portal)
        body = (
            await portal.call(
                "batch",
                {
                    "halt": 0,
                    "cmd": {
                        "bind": "crm.orderentity.add?fields[orderId]=5125&fields[ownerId]=6933&fields[ownerTypeId]=2",
                        "check": "crm.orderentity.list?filter[orderId]=$result[bind][dealOrder][orderId]",
                        "fields": "crm.orderentity.getFields",
                    },
                },
            )
        ).json()
        outer = body["result"]
        assert set(outer) == {
            "result",
            "result_error",
            "result_total",
            "result_next",
            "result_time",
        }
        assert outer["result"]["bind"] == {
            "dealOrder": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}
        }
        assert outer["result"]["check"]["orderEntity"] == [
            {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}
        ]
        assert outer["result_error"] == []
        assert outer["result_total"] == {"check": 1}
        assert outer["result_next"] == []
        assert set(outer["result_time"]) == {"bind", "check", "fields"}
        assert set(outer["result_time"]["bind"]) >= TIME_KEYS
        assert set(body["time"]) >= TIME_KEYS

    async def test_list_cmd_gives_list_maps(self, portal: Portal) -> None:
        outer = (
            await portal.call(
                "batch", {"cmd": ["crm.orderentity.getFields", "crm.orderentity.list"]}
            )
        ).json()["result"]
        assert isinstance(outer["result"], list)
        assert len(outer["result"]) == 2
        assert outer["result_total"] == {"1": 0}

    async def test_form_encoded_batch_with_double_encoded_commands(self, portal: Portal) -> None:
        await seeded(portal)
        # The command's own query is percent-encoded once more inside the form value.
        form = (
            "halt=0&cmd%5Ba%5D=crm.orderentity.add%3Ffields%255BorderId%255D%3D5125"
            "%26fields%255BownerId%255D%3D6933%26fields%255BownerTypeId%255D%3D2"
            "&cmd%5Bb%5D=crm.orderentity.list%3Ffilter%5B%3EorderId%5D%3D%24result%5Ba%5D%5BdealOrder%5D%5BorderId%5D"
        )
        outer = (await portal.call("batch", form=form)).json()["result"]
        assert outer["result"]["a"]["dealOrder"]["orderId"] == 5125
        assert outer["result_total"] == {"b": 0}

    async def test_errors_per_command_and_still_http_200(self, portal: Portal) -> None:
        response = await portal.call(
            "batch",
            {
                "cmd": {
                    "ok": "crm.orderentity.getFields",
                    "bad": "crm.orderentity.add?fields[orderId]=1",
                    "none": "no.such",
                }
            },
        )
        assert response.status_code == 200
        outer = response.json()["result"]
        assert set(outer["result"]) == {"ok"}
        assert outer["result_error"] == {
            "bad": {"error": "0", "error_description": "Required fields: ownerId, ownerTypeId"},
            "none": {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"},
        }
        assert set(outer["result_time"]) == {"ok"}

    async def test_halt_stops_at_first_error_and_reports_nothing_after(
        self, portal: Portal
    ) -> None:
        outer = (
            await portal.call(
                "batch",
                {"halt": "true", "cmd": {"a": "no.such", "b": "crm.orderentity.getFields"}},
            )
        ).json()["result"]
        assert outer == {
            "result": [],
            "result_error": {
                "a": {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
            },
            "result_total": [],
            "result_next": [],
            "result_time": [],
        }

    async def test_insufficient_scope_inside_batch_has_empty_description(
        self, portal: Portal
    ) -> None:
        # batch.md's error example prints `"error_description": ""` for this code.
        hook = await portal.webhook_for(Role.STORE_ADMIN, scopes=("sale",))
        outer = (
            await portal.call("batch", {"cmd": {"x": "crm.orderentity.list"}}, hook=hook)
        ).json()["result"]
        assert outer["result_error"] == {
            "x": {"error": "insufficient_scope", "error_description": ""}
        }

    async def test_nested_batch_is_refused_per_command(self, portal: Portal) -> None:
        outer = (
            await portal.call("batch", {"cmd": {"inner": "batch?cmd[x]=crm.orderentity.getFields"}})
        ).json()["result"]
        assert outer["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"

    async def test_commands_past_fifty_fail_with_length_exceeded(self, portal: Portal) -> None:
        cmd = {f"c{i}": "crm.orderentity.getFields" for i in range(53)}
        outer = (await portal.call("batch", {"cmd": cmd})).json()["result"]
        assert len(outer["result"]) == 50
        assert outer["result_error"] == {
            f"c{i}": {
                "error": "ERROR_BATCH_LENGTH_EXCEEDED",
                "error_description": "Max batch length exceeded",
            }
            for i in (50, 51, 52)
        }

    async def test_absurd_length_is_refused_whole(self, portal: Portal) -> None:
        response = await portal.call("batch", {"cmd": ["crm.orderentity.getFields"] * 1001})
        assert response.status_code == 400
        assert response.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"

    @pytest.mark.parametrize("cmd", ["crm.orderentity.getFields", 42, True])
    async def test_cmd_that_is_neither_map_nor_list(self, portal: Portal, cmd: object) -> None:
        response = await portal.call("batch", {"cmd": cmd})
        assert response.status_code == 400
        assert response.json()["error"] == "ERROR_ARGUMENT"

    async def test_command_that_is_not_a_string_fails_alone(self, portal: Portal) -> None:
        outer = (
            await portal.call(
                "batch", {"cmd": {"a": {"method": "x"}, "b": "crm.orderentity.getFields"}}
            )
        ).json()["result"]
        assert outer["result_error"]["a"]["error"] == "ERROR_ARGUMENT"
        assert "b" in outer["result"]

    async def test_empty_cmd_is_an_empty_answer(self, portal: Portal) -> None:
        outer = (await portal.call("batch", {"cmd": {}})).json()["result"]
        assert outer == {
            key: []
            for key in ("result", "result_error", "result_total", "result_next", "result_time")
        }

    async def test_commands_run_with_the_callers_role(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        outer = (
            await portal.call(
                "batch",
                {
                    "cmd": {
                        "w": "crm.orderentity.add?fields[orderId]=1&fields[ownerId]=1&fields[ownerTypeId]=2"
                    }
                },
                hook=hook,
            )
        ).json()["result"]
        assert outer["result_error"] == {
            "w": {"error": "200040300020", "error_description": "Access Denied"}
        }
