"""Faults (faults.py): a portal that answers calls the way real portals fail, per portal, on
both stores; then each kind as real clients meet it on a live server, set by the CLI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from orderlink import errors, faults
from orderlink.settings import Settings
from orderlink.storage import create_store

from .conftest import Portal
from .testkit import ADMIN_TOKEN, STORES, Live, api, live_on, second_portal

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN, fault_header=True
    )


async def add(portal: Portal, portal_id: int = 1, **fault: Any) -> dict[str, Any]:
    response = await api(portal, "POST", f"/portals/{portal_id}/faults", fault)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()["fault"]
    return found


async def settle(portal: Portal) -> None:
    """Let the firings in flight reach the store (they are written after the call)."""
    await portal.app.faults.close()


class TestSystemErrors:
    async def test_every_system_error_answers_its_documented_status_and_body(
        self, portal: Portal
    ) -> None:
        """_includes/system-errors.md and protocol.md 4.6: the envelope and status each code
        has in errors.py, for any method."""
        for cls in faults.SYSTEM_ERRORS:
            await add(portal, method="crm.deal.list", error=cls.code, times=1)
            response = await portal.call("crm.deal.list")
            assert response.status_code == cls.status, cls.code
            assert response.json() == {"error": cls.code, "error_description": cls.description}
        assert (await portal.call("crm.deal.list")).status_code == 200

    @pytest.mark.parametrize(
        ("code", "status", "wire"),
        [
            ("query_limit_exceeded", 503, "QUERY_LIMIT_EXCEEDED"),
            ("OPERATION_TIME_LIMIT", 429, "OPERATION_TIME_LIMIT"),
            ("Overload_Limit", 503, "OVERLOAD_LIMIT"),
            ("EXPIRED_TOKEN", 401, "expired_token"),
            ("PORTAL_DELETED", 500, "PORTAL_DELETED"),
            ("ERROR_BATCH_LENGTH_EXCEEDED", 400, "ERROR_BATCH_LENGTH_EXCEEDED"),
        ],
    )
    async def test_a_code_in_any_case_is_stored_as_documented(
        self, portal: Portal, code: str, status: int, wire: str
    ) -> None:
        added = await add(portal, error=code)
        assert (added["error"], added["status"]) == (wire, status)
        response = await portal.call("crm.deal.fields")
        assert (response.status_code, response.json()["error"]) == (status, wire)

    async def test_an_unknown_code_is_refused_with_the_known_ones(self, portal: Portal) -> None:
        response = await api(portal, "POST", "/portals/1/faults", {"error": "NO_SUCH_ERROR"})
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_REQUEST"
        assert "QUERY_LIMIT_EXCEEDED" in response.json()["error_description"]


class TestWhichCalls:
    async def test_times_hits_the_next_calls_only_and_counts_them(self, portal: Portal) -> None:
        await add(portal, method="crm.deal.list", error="QUERY_LIMIT_EXCEEDED", times=2)
        statuses = [(await portal.call("crm.deal.list")).status_code for _ in range(4)]
        assert statuses == [503, 503, 200, 200]
        await settle(portal)
        listed = (await api(portal, "GET", "/portals/1/faults")).json()["faults"]
        assert [(f["times"], f["fired"]) for f in listed] == [(2, 2)]

    async def test_a_named_method_is_matched_in_any_case_and_other_methods_pass(
        self, portal: Portal
    ) -> None:
        await add(portal, method="crm.orderentity.deleteByFilter", error="INTERNAL_SERVER_ERROR")
        assert (await portal.call("CRM.ORDERENTITY.DELETEBYFILTER.json")).status_code == 500
        assert (await portal.call("crm.orderentity.getFields")).status_code == 200

    async def test_an_alias_is_the_method_it_names(self, portal: Portal) -> None:
        """b24pysdk calls `crm.orderentity.Fields` for crm.orderentity.getFields."""
        await add(portal, method="crm.orderentity.getfields", error="OVERLOAD_LIMIT")
        assert (await portal.call("crm.orderentity.Fields")).status_code == 503

    async def test_no_method_hits_every_method(self, portal: Portal) -> None:
        await add(portal, error="OVERLOAD_LIMIT")
        for method in ("crm.deal.list", "batch", "no.such.method"):
            assert (await portal.call(method)).json()["error"] == "OVERLOAD_LIMIT"

    async def test_probability_with_a_seed_repeats_its_draws(self, portal: Portal) -> None:
        await add(portal, method="crm.deal.fields", error="QUERY_LIMIT_EXCEEDED",
                  probability=0.5, seed=7)  # fmt: skip
        first = [(await portal.call("crm.deal.fields")).status_code for _ in range(40)]
        assert 5 < first.count(503) < 35
        # Removed and added again: a new fault, drawing from the same seed afresh.
        await api(portal, "DELETE", "/portals/1/faults")
        await add(portal, method="crm.deal.fields", error="QUERY_LIMIT_EXCEEDED",
                  probability=0.5, seed=7)  # fmt: skip
        again = [(await portal.call("crm.deal.fields")).status_code for _ in range(40)]
        assert again == first

    async def test_a_delay_comes_before_the_answer(self, portal: Portal) -> None:
        await add(portal, method="crm.deal.fields", delay=0.2, times=1)
        began = time.monotonic()
        assert (await portal.call("crm.deal.fields")).status_code == 200
        assert time.monotonic() - began >= 0.2
        began = time.monotonic()
        await portal.call("crm.deal.fields")
        assert time.monotonic() - began < 0.2

    async def test_a_delay_and_an_error_together(self, portal: Portal) -> None:
        await add(portal, error="OPERATION_TIME_LIMIT", delay=0.1)
        began = time.monotonic()
        assert (await portal.call("crm.deal.fields")).status_code == 429
        assert time.monotonic() - began >= 0.1


class TestProxyAndConnection:
    async def test_html_502_is_the_front_proxys_page(self, portal: Portal) -> None:
        await add(portal, error="HTML_502")
        response = await portal.call("crm.deal.list")
        assert response.status_code == 502
        assert response.headers["content-type"] == "text/html"
        assert "<title>502 Bad Gateway</title>" in response.text

    async def test_a_drop_answers_nothing(self, portal: Portal) -> None:
        """In process there is no connection to close: the app raises instead (a live server
        closes it, see TestRealClients)."""
        await add(portal, drop=True, times=1)
        with pytest.raises(ConnectionAbortedError):
            await portal.call("crm.deal.list")
        assert (await portal.call("crm.deal.list")).status_code == 200


class TestInsideBatch:
    async def test_a_fault_on_a_method_fails_only_that_command(self, portal: Portal) -> None:
        await add(portal, method="crm.deal.fields", error="QUERY_LIMIT_EXCEEDED")
        cmd = {"a": "crm.deal.list", "b": "crm.deal.fields", "c": "crm.orderentity.getFields"}
        response = await portal.call("batch", {"cmd": cmd})
        assert response.status_code == 200
        inner = response.json()["result"]
        assert set(inner["result"]) == {"a", "c"}
        assert inner["result_error"] == {
            "b": {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        }

    async def test_times_counts_batch_commands_too(self, portal: Portal) -> None:
        """A command's savepoint is rolled back when it fails; the firing still counts."""
        await add(portal, method="crm.deal.fields", error="INTERNAL_SERVER_ERROR", times=1)
        cmd = {"a": "crm.deal.fields", "b": "crm.deal.fields", "c": "crm.deal.fields"}
        inner = (await portal.call("batch", {"cmd": cmd})).json()["result"]
        assert set(inner["result_error"]) == {"a"}
        assert set(inner["result"]) == {"b", "c"}
        await settle(portal)
        assert (await api(portal, "GET", "/portals/1/faults")).json()["faults"][0]["fired"] == 1

    async def test_a_fault_naming_no_method_fails_the_whole_batch(self, portal: Portal) -> None:
        await add(portal, error="QUERY_LIMIT_EXCEEDED", times=1)
        response = await portal.call("batch", {"cmd": {"a": "crm.deal.list"}})
        assert response.status_code == 503

    async def test_pages_and_drops_are_about_requests_not_commands(self, portal: Portal) -> None:
        await add(portal, method="crm.deal.list", error="HTML_502")
        await add(portal, method="crm.deal.list", drop=True)
        inner = (await portal.call("batch", {"cmd": {"a": "crm.deal.list"}})).json()["result"]
        assert set(inner["result"]) == {"a"}


class TestPerPortal:
    async def test_a_fault_of_one_portal_never_touches_another(self, portal: Portal) -> None:
        other = await second_portal(portal)
        await add(portal, portal_id=2, error="PORTAL_DELETED")
        assert (await portal.call("crm.deal.list")).status_code == 200
        assert (await portal.call("crm.deal.list", hook=other)).json()["error"] == "PORTAL_DELETED"
        await api(portal, "DELETE", "/portals/2/faults")
        await add(portal, portal_id=1, error="OVERLOAD_LIMIT")
        assert (await portal.call("crm.deal.list", hook=other)).status_code == 200
        assert (await api(portal, "GET", "/portals/2/faults")).json() == {"faults": []}

    async def test_a_fault_another_process_adds_hits_the_next_call(
        self, portal: Portal, settings: Settings
    ) -> None:
        """The CLI is another process with its own connection: the server notices through the
        store's auth version (SQLite's data_version, PostgreSQL's NOTIFY), not a query per
        call."""
        assert (await portal.call("crm.deal.list")).status_code == 200
        other = create_store(settings)
        await other.open()
        try:
            added = await other.add_fault(
                1, method="", error="QUERY_LIMIT_EXCEEDED", dropped=False, delay=0.0, times=None,
                probability=1.0, seed=None, now=0.0,
            )  # fmt: skip
            await _eventually(lambda: portal.call("crm.deal.list"), 503)
            await other.remove_fault(added.id)
            await _eventually(lambda: portal.call("crm.deal.list"), 200)
        finally:
            await other.close()


async def _eventually(call: Any, status: int) -> None:
    """Within a second: PostgreSQL's notification crosses a connection; SQLite's change is
    read at most every few milliseconds."""
    deadline = time.monotonic() + 1
    while (await call()).status_code != status:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


class TestHeader:
    async def test_the_header_answers_one_call_with_its_error(self, portal: Portal) -> None:
        headers = {"x-orderlink-fault": "expired_token"}
        response = await portal.client.post(portal.hook + "crm.deal.list", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": "expired_token",
            "error_description": "The access token provided has expired",
        }
        assert (await portal.call("crm.deal.list")).status_code == 200

    async def test_delay_drop_and_pages(self, portal: Portal) -> None:
        url = portal.hook + "crm.deal.fields"
        began = time.monotonic()
        slow = await portal.client.post(url, headers={"x-orderlink-fault": "delay=0.1"})
        assert slow.status_code == 200
        assert time.monotonic() - began >= 0.1
        page = await portal.client.post(url, headers={"x-orderlink-fault": "HTML_504"})
        assert page.status_code == 504
        assert "Gateway Time-out" in page.text
        with pytest.raises(ConnectionAbortedError):
            await portal.client.post(url, headers={"x-orderlink-fault": "drop"})

    async def test_a_bad_header_is_a_bitrix24_error(self, portal: Portal) -> None:
        response = await portal.client.post(
            portal.hook + "crm.deal.list", headers={"x-orderlink-fault": "delay=soon"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_REQUEST"

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    async def test_without_the_setting_the_header_is_ignored(
        self, database_url: str, portal: Portal
    ) -> None:
        portal.app.settings = portal.app.settings.replace(fault_header=False)
        response = await portal.client.post(
            portal.hook + "crm.deal.list", headers={"x-orderlink-fault": "QUERY_LIMIT_EXCEEDED"}
        )
        assert response.status_code == 200


class TestChecks:
    @pytest.mark.parametrize(
        ("fault", "says"),
        [
            ({}, "needs an error, a drop or a delay"),
            ({"error": "HTML_502", "drop": True}, "not both"),
            ({"delay": 601}, "from 0 to 600"),
            ({"delay": "1"}, "a number"),
            ({"times": 0, "error": "OVERLOAD_LIMIT"}, "at least 1"),
            ({"probability": 0, "error": "OVERLOAD_LIMIT"}, "above 0"),
            ({"error": "HTML_418"}, "unknown error"),
            ({"method": "a b", "error": "OVERLOAD_LIMIT"}, "method name"),
            ({"drop": "yes"}, "true or false"),
            ({"colour": "red"}, "unknown keys"),
        ],
    )
    async def test_a_bad_fault_is_refused_and_nothing_is_added(
        self, portal: Portal, fault: dict[str, Any], says: str
    ) -> None:
        response = await api(portal, "POST", "/portals/1/faults", fault)
        assert response.status_code == 400
        assert says in response.json()["error_description"]
        assert (await api(portal, "GET", "/portals/1/faults")).json() == {"faults": []}


def test_every_fault_error_is_an_error_class_of_its_own_code() -> None:
    codes = [cls.code.lower() for cls in faults.SYSTEM_ERRORS]
    assert len(codes) == len(set(codes))
    assert all(issubclass(cls, errors.RequestError) for cls in faults.SYSTEM_ERRORS)


# -- real clients on a live server, faults set by the CLI ---------------------------------------


@pytest.fixture(scope="module", params=STORES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """`orderlink serve --tls` on each store (b24pysdk speaks only HTTPS)."""
    yield from live_on(request.param, request, tmp_path_factory.mktemp("faults"), "--tls",
                       "--no-rate-limit")  # fmt: skip


@pytest.fixture
def clean(live: Live) -> Iterator[Live]:
    yield live
    live.cli("fault", "clear")


def add_by_cli(live: Live, *flags: str) -> int:
    return int(live.cli("fault", "add", "--portal", "1", *flags)[-1])


@pytest.mark.live
class TestCli:
    def test_add_list_remove_clear(self, clean: Live) -> None:
        first = add_by_cli(clean, "--method", "crm.deal.list", "--error", "QUERY_LIMIT_EXCEEDED",
                           "--times", "2")  # fmt: skip
        second = add_by_cli(clean, "--delay", "0.5", "--drop")
        listed = clean.cli_json("fault", "list")
        assert [(f["id"], f["method"], f["error"], f["status"], f["times"]) for f in listed] == [
            (first, "crm.deal.list", "QUERY_LIMIT_EXCEEDED", 503, 2),
            (second, None, None, None, None),
        ]
        assert listed[1]["drop"]
        assert listed[1]["delay"] == 0.5
        text = clean.cli("fault", "list")
        assert text[0] == "id\tportal\thits\tanswer\tfired"
        assert "the next 2 calls of crm.deal.list\tQUERY_LIMIT_EXCEEDED (503)\t0 of 2" in text[1]
        assert clean.cli("fault", "remove", str(second)) == [f"removed {second}"]
        assert clean.cli("fault", "clear", "--portal", "1") == ["removed 1 fault(s)"]
        assert clean.cli_json("fault", "list") == []

    def test_the_running_server_sees_a_fault_on_its_next_call(self, clean: Live) -> None:
        url = clean.hook + "crm.deal.fields"
        assert httpx.post(url, verify=clean.verify).status_code == 200
        add_by_cli(clean, "--method", "crm.deal.fields", "--error", "expired_token", "--times", "1")
        assert httpx.post(url, verify=clean.verify).json()["error"] == "expired_token"
        assert httpx.post(url, verify=clean.verify).status_code == 200
        assert clean.cli_json("fault", "list")[0]["fired"] == 1

    def test_error_is_required_unless_delay_or_drop(self, clean: Live) -> None:
        import subprocess
        import sys

        done = subprocess.run(
            [sys.executable, "-m", "orderlink", "fault", "add", "--method", "crm.deal.list",
             "--database", clean.database], capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 2
        assert "needs an error, a drop or a delay" in done.stderr

    def test_an_unknown_portal_is_refused(self, clean: Live) -> None:
        import subprocess
        import sys

        done = subprocess.run(
            [sys.executable, "-m", "orderlink", "fault", "add", "--portal", "9", "--error",
             "OVERLOAD_LIMIT", "--database", clean.database],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert "no portal 9" in done.stderr


@pytest.mark.live
@pytest.mark.clients
class TestFastBitrix24:
    """fast-bitrix24 retries every 5xx and every dropped connection, backing off, and gives up
    after MAX_RETRIES (10) failures in a row with RuntimeError("All attempts ... exhausted");
    it sees a batch command's error as ErrorInServerResponseException."""

    @pytest.fixture
    async def bx(self, clean: Live) -> Any:
        from fast_bitrix24 import BitrixAsync

        connector = aiohttp.TCPConnector(ssl=clean.verify)
        async with aiohttp.ClientSession(connector=connector, raise_for_status=True) as session:
            yield BitrixAsync(clean.hook, verbose=False, client=session)

    @pytest.mark.parametrize(
        "flags",
        [("--error", "QUERY_LIMIT_EXCEEDED"), ("--error", "HTML_502"), ("--drop",),
         ("--error", "INTERNAL_SERVER_ERROR")],
        ids=["503", "html-502", "drop", "500"],
    )  # fmt: skip
    async def test_it_retries_and_then_succeeds(
        self, bx: Any, clean: Live, flags: tuple[str, ...]
    ) -> None:
        add_by_cli(clean, "--method", "crm.deal.fields", "--times", "2", *flags)
        answer = await bx.call("crm.deal.fields", raw=True)
        assert "ID" in answer["result"]
        assert clean.cli_json("fault", "list")[0]["fired"] == 2

    async def test_it_gives_up_as_documented(
        self, bx: Any, clean: Live, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from fast_bitrix24 import srh

        monkeypatch.setattr(srh, "MAX_RETRIES", 2)  # its back-off would take 17 s at 10
        add_by_cli(clean, "--method", "crm.deal.fields", "--error", "QUERY_LIMIT_EXCEEDED")
        with pytest.raises(RuntimeError, match="All attempts to get data from server exhausted"):
            await bx.call("crm.deal.fields", raw=True)
        assert clean.cli_json("fault", "list")[0]["fired"] == 3

    async def test_a_delay_is_waited_out(self, bx: Any, clean: Live) -> None:
        add_by_cli(clean, "--method", "crm.deal.fields", "--delay", "0.3")
        began = time.monotonic()
        await bx.call("crm.deal.fields", raw=True)
        assert time.monotonic() - began >= 0.3

    async def test_a_command_of_its_batch_fails_alone(self, bx: Any, clean: Live) -> None:
        """`call` sends its items as a batch: the fault is that command's result_error."""
        from fast_bitrix24.server_response import ErrorInServerResponseException

        add_by_cli(clean, "--method", "crm.deal.get", "--error", "OPERATION_TIME_LIMIT")
        with pytest.raises(ErrorInServerResponseException, match="OPERATION_TIME_LIMIT"):
            await bx.call("crm.deal.get", [{"id": 1}, {"id": 2}])


@pytest.mark.live
@pytest.mark.clients
class TestB24pysdk:
    """b24pysdk maps a JSON error to its typed exception by code (by status for codes it does
    not know), retries only a 503 (three attempts), and raises a JSON-decode error for a body
    that is not JSON."""

    @pytest.fixture
    def hook(self, clean: Live, monkeypatch: pytest.MonkeyPatch) -> Any:
        from urllib.parse import urlsplit

        from b24pysdk import BitrixWebhook, Config

        assert clean.server.ca_file is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(clean.server.ca_file))
        config = Config()
        delays = (config.default_initial_retry_delay, config.default_retry_delay_increment)
        config.configure(default_initial_retry_delay=0.05, default_retry_delay_increment=0.05)
        parts = urlsplit(clean.hook)
        yield BitrixWebhook(domain=parts.netloc,
                            webhook_token=parts.path.removeprefix("/rest/").strip("/"))  # fmt: skip
        config.configure(default_initial_retry_delay=delays[0],
                         default_retry_delay_increment=delays[1])  # fmt: skip

    @pytest.mark.parametrize(
        ("code", "typed"),
        [
            ("expired_token", "BitrixAPIExpiredToken"),
            ("invalid_token", "BitrixAPIInvalidToken"),
            ("insufficient_scope", "BitrixAPIInsufficientScope"),
            ("OPERATION_TIME_LIMIT", "BitrixAPIOperationTimeLimit"),
            ("OVERLOAD_LIMIT", "BitrixAPIOverloadLimit"),
            ("PORTAL_DELETED", "BitrixAPIPortalDeleted"),
            ("INTERNAL_SERVER_ERROR", "BitrixAPIInternalServerError"),
            ("ERROR_UNEXPECTED_ANSWER", "BitrixAPIErrorUnexpectedAnswer"),
            ("QUERY_LIMIT_EXCEEDED", "BitrixAPIQueryLimitExceeded"),
            ("HTML_502", "BitrixResponseJSONDecodeError"),
        ],
    )
    def test_each_fault_is_its_typed_error(
        self, hook: Any, clean: Live, code: str, typed: str
    ) -> None:
        import b24pysdk.errors

        add_by_cli(clean, "--method", "crm.deal.fields", "--error", code)
        with pytest.raises(getattr(b24pysdk.errors, typed)):
            hook.call_method("crm.deal.fields")

    def test_a_503_is_retried_until_it_passes(self, hook: Any, clean: Live) -> None:
        add_by_cli(clean, "--method", "crm.deal.fields", "--error", "QUERY_LIMIT_EXCEEDED",
                   "--times", "2")  # fmt: skip
        assert "ID" in hook.call_method("crm.deal.fields")["result"]

    def test_a_dropped_connection_is_a_request_error(self, hook: Any, clean: Live) -> None:
        from b24pysdk.errors import BitrixRequestError

        add_by_cli(clean, "--method", "crm.deal.fields", "--drop")
        with pytest.raises(BitrixRequestError):
            hook.call_method("crm.deal.fields")
