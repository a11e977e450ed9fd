"""The journal (journal.py): every call a portal gets, recorded after its answer, with secrets
masked, bounded per portal, read newest first through the admin API and `orderlink journal`;
and near misses (an unknown method's nearest name)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderlink import journal
from orderlink.registry import Role
from orderlink.settings import Settings
from orderlink.storage.base import JournalQuery

from .conftest import Portal
from .oauth_apps import register, tokens
from .testkit import ADMIN_TOKEN, STORES, Live, api, live_on, second_portal

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN)


async def entries(portal: Portal, portal_id: int = 1, **query: Any) -> list[dict[str, Any]]:
    response = await api(portal, "GET", f"/portals/{portal_id}/journal", **query)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["journal"]
    return found


class TestOneCall:
    async def test_a_call_is_recorded_with_what_it_was_answered(self, portal: Portal) -> None:
        answer = await portal.call("crm.deal.add", {"fields": {"TITLE": "Journal"}})
        [entry] = await entries(portal)
        assert entry["method"] == "crm.deal.add"
        assert entry["status"] == 200
        assert entry["params"] == {"fields": {"TITLE": "Journal"}}
        assert entry["answer"] == answer.json()
        assert entry["truncated"] is False
        assert (entry["transport"], entry["user_id"], entry["portal_id"]) == ("webhook", 1, 1)
        assert entry["credential"].startswith("webhook:")
        assert entry["time"] == portal.app.clock.now()
        assert entry["duration"] >= 0
        assert entry["batch"] is None
        assert entry["decisions"]["scope"] == {"needs": "crm", "granted": True}
        assert entry["decisions"]["operating"] == {"spent": 0.0, "limit": 480.0,
                                                   "refused": False}  # fmt: skip

    async def test_a_call_whose_row_cannot_be_made_is_left_out_not_failed(
        self, portal: Portal, caplog: pytest.LogCaptureFixture
    ) -> None:
        # The row is made as the answer goes out (journal.record): a value it cannot serialise
        # must cost the journal that entry, never the call its answer.
        code = portal.hook.strip("/").split("/")[-1]
        principal = await portal.app.auth.webhook("1", code)
        trace = journal.Trace(time.time(), 0.0, principal, "crm.deal.add", {"x": object()})
        portal.app.journal.record(trace, 200, b"{}", 0.0)
        assert "not recorded" in caplog.text
        await portal.call("crm.deal.list")
        assert [e["method"] for e in await entries(portal)] == ["crm.deal.list"]

    async def test_a_refusal_is_recorded_with_its_status_and_body(self, portal: Portal) -> None:
        manager = await portal.webhook_for(Role.STORE_ADMIN, scopes=("sale",))
        refused = await portal.call("crm.deal.list", hook=manager)
        assert refused.status_code == 401
        [entry] = await entries(portal)
        assert (entry["status"], entry["answer"]) == (401, refused.json())
        assert entry["decisions"]["scope"] == {"needs": "crm", "granted": False}
        assert entry["user_id"] == 2

    async def test_a_store_role_decision_is_recorded(self, portal: Portal) -> None:
        manager = await portal.webhook_for(Role.STORE_MANAGER)
        await portal.call("crm.orderentity.add", {"fields": {}}, hook=manager)
        [entry] = await entries(portal)
        assert entry["decisions"]["role"] == {"needs": "admin", "has": "manager",
                                              "granted": False}  # fmt: skip

    async def test_an_oauth_call_names_its_transport_and_masks_the_token(
        self, portal: Portal
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        response = await portal.client.post("/rest/crm.deal.fields", json={"auth": token})
        assert response.status_code == 200
        [entry] = await entries(portal)
        assert (entry["transport"], entry["credential"]) == ("oauth", f"app:{app.app.id}")
        assert entry["params"] == {"auth": "***"}

    async def test_unauthenticated_calls_belong_to_no_portal_and_are_not_recorded(
        self, portal: Portal
    ) -> None:
        await portal.call("crm.deal.list", hook="/rest/1/wrongcode123456/")
        assert await entries(portal) == []

    async def test_a_rate_limit_decision_is_recorded(
        self, portal: Portal, settings: Settings
    ) -> None:
        portal.app.settings = settings.replace(rate_limit=True)
        await portal.call("crm.deal.fields")
        assert (await entries(portal))[0]["decisions"]["rate_limit"] == "admitted"


class TestSecrets:
    async def test_tokens_codes_passwords_and_secrets_are_masked(self, portal: Portal) -> None:
        params = {
            "fields": {"TITLE": "t", "PASSWORD": "hunter2", "CODE": "kept"},
            "client_secret": "s3cret",
            "code": "authcode",
            "handler": "https://x.example/rest/1/abcdefgh12345678/crm.deal.list",
            "cmd": {"a": "crm.deal.list?auth=tok&filter[ID]=1&refresh_token=r"},
        }
        await portal.call("crm.deal.fields", params)
        shown = (await entries(portal))[0]["params"]
        assert shown == {
            "fields": {"TITLE": "t", "PASSWORD": "***", "CODE": "kept"},
            "client_secret": "***",
            "code": "***",
            "handler": "https://x.example/rest/1/***/crm.deal.list",
            "cmd": {"a": "crm.deal.list?auth=***&filter[ID]=1&refresh_token=***"},
        }

    async def test_the_stored_row_holds_no_secret(self, portal: Portal) -> None:
        await portal.call("crm.deal.fields", {"auth": "AUTHTOKEN", "password": "PASSWORD1"})
        await portal.app.journal.flush()
        rows = await portal.store.journal(JournalQuery(1))
        text = repr(rows)
        assert "AUTHTOKEN" not in text
        assert "PASSWORD1" not in text
        assert portal.hook.split("/")[3] not in text  # the webhook's code


class TestBatch:
    async def test_each_command_with_its_references_resolved_and_its_own_answer(
        self, portal: Portal
    ) -> None:
        cmd = {
            "deal": "crm.deal.add?fields[TITLE]=Batch",
            "get": "crm.deal.get?id=$result[deal]",
            "bad": "crm.deal.get?id=0",
            "none": "crm.deal.lsit",
        }
        outer = (await portal.call("batch", {"cmd": cmd})).json()
        [entry] = await entries(portal)
        assert entry["method"] == "batch"
        assert entry["params"] == {"cmd": cmd}
        deal_id = outer["result"]["result"]["deal"]
        by_id = {command["id"]: command for command in entry["batch"]}
        assert list(by_id) == ["deal", "get", "bad", "none"]
        assert by_id["deal"]["result"] == deal_id
        assert by_id["get"]["params"] == {"id": deal_id}
        assert by_id["get"]["result"]["TITLE"] == "Batch"
        assert by_id["bad"]["status"] == 400
        assert by_id["bad"]["error"] == outer["result"]["result_error"]["bad"]
        assert by_id["none"]["error"]["error"] == "ERROR_METHOD_NOT_FOUND"
        assert by_id["none"]["did_you_mean"] == "crm.deal.list"
        assert by_id["deal"]["decisions"]["scope"] == {"needs": "crm", "granted": True}
        assert entry["decisions"]["scope"] == {"needs": "basic", "granted": True}

    async def test_a_fault_that_fires_is_recorded_on_its_command(self, portal: Portal) -> None:
        await api(portal, "POST", "/portals/1/faults",
                  {"method": "crm.deal.fields", "error": "QUERY_LIMIT_EXCEEDED"})  # fmt: skip
        await portal.call("batch", {"cmd": {"a": "crm.deal.fields", "b": "crm.deal.list"}})
        [entry] = await entries(portal)
        first, second = entry["batch"]
        assert first["faults"][0]["error"] == "QUERY_LIMIT_EXCEEDED"
        assert first["status"] == 503
        assert "faults" not in second
        assert entry["faults"] == []

    async def test_a_large_command_result_is_cut(
        self, portal: Portal, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Only when the commands as a whole are over the answer's limit."""
        monkeypatch.setattr(journal, "COMMAND_RESULT_LIMIT", 1000)
        await portal.call("batch", {"cmd": {"big": "crm.deal.fields"}})
        assert "truncated" not in (await entries(portal))[0]["batch"][0]
        monkeypatch.setattr(journal, "ANSWER_LIMIT", 2000)
        await portal.call("batch", {"cmd": {"big": "crm.deal.fields", "small": "crm.deal.add"}})
        big, small = (await entries(portal))[0]["batch"]
        assert big["truncated"] is True
        assert isinstance(big["result"], str)
        assert len(big["result"].encode()) <= 1000
        assert "truncated" not in small
        assert small["error"]["error"] == ""


class TestFaultsAndMisses:
    async def test_a_firing_is_recorded(self, portal: Portal) -> None:
        added = await api(portal, "POST", "/portals/1/faults",
                          {"error": "OVERLOAD_LIMIT", "delay": 0.01})  # fmt: skip
        await portal.call("crm.deal.list")
        [entry] = await entries(portal)
        assert entry["status"] == 503
        assert entry["faults"] == [{"id": added.json()["fault"]["id"], "source": "fault",
                                    "error": "OVERLOAD_LIMIT", "drop": False, "delay": 0.01}]  # fmt: skip

    async def test_a_dropped_call_is_recorded_without_an_answer(self, portal: Portal) -> None:
        await api(portal, "POST", "/portals/1/faults", {"drop": True})
        with pytest.raises(ConnectionAbortedError):
            await portal.call("crm.deal.list")
        [entry] = await entries(portal)
        assert (entry["status"], entry["answer"], entry["dropped"]) == (0, "", True)

    async def test_an_unknown_method_suggests_the_nearest_in_a_header_and_the_journal(
        self, portal: Portal
    ) -> None:
        """The ERROR_METHOD_NOT_FOUND body is what portals answer and tests pin it
        (test_protocol.py), so the hint travels beside it (docs/decisions.md)."""
        response = await portal.call("crm.orderentity.deletebyfiltr")
        assert response.status_code == 404
        assert response.json() == {"error": "ERROR_METHOD_NOT_FOUND",
                                   "error_description": "Method not found!"}  # fmt: skip
        assert response.headers["x-orderlink-did-you-mean"] == "crm.orderentity.deleteByFilter"
        assert (await entries(portal))[0]["did_you_mean"] == "crm.orderentity.deleteByFilter"

    async def test_a_name_like_no_method_gets_no_suggestion(self, portal: Portal) -> None:
        response = await portal.call("crm.orderentity.explode")
        assert "x-orderlink-did-you-mean" not in response.headers
        assert (await entries(portal))[0]["did_you_mean"] is None


class TestBounds:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN,
                        journal_limit=5)  # fmt: skip

    async def test_each_portal_keeps_its_newest_calls(self, portal: Portal) -> None:
        other = await second_portal(portal)
        for n in range(8):
            await portal.call("crm.deal.fields", {"n": n})
        await portal.call("crm.deal.list", hook=other)
        assert [e["params"]["n"] for e in await entries(portal)] == [7, 6, 5, 4, 3]
        [theirs] = await entries(portal, 2)
        assert (theirs["method"], theirs["portal_id"]) == ("crm.deal.list", 2)

    async def test_a_large_answer_and_large_parameters_are_cut(self, portal: Portal) -> None:
        huge = "x" * (journal.PARAMS_LIMIT + 10)
        cmd = {f"f{i}": "crm.deal.fields" for i in range(20)}
        response = await portal.call("batch", {"cmd": cmd, "pad": huge})
        assert len(response.content) > journal.ANSWER_LIMIT
        [entry] = await entries(portal)
        assert entry["truncated"] is True
        assert isinstance(entry["answer"], str)
        assert len(entry["answer"].encode()) <= journal.ANSWER_LIMIT
        assert response.text.startswith(entry["answer"])
        assert isinstance(entry["params"], str)  # cut JSON is shown as its text
        assert len(entry["params"]) <= journal.PARAMS_LIMIT


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestOff:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN,
                        journal_limit=0)  # fmt: skip

    async def test_a_limit_of_zero_records_nothing(self, portal: Portal) -> None:
        await portal.call("crm.deal.fields")
        assert await entries(portal) == []


class TestReading:
    async def test_filters_and_newest_first(self, portal: Portal, settings: Settings) -> None:
        await portal.call("crm.deal.fields")
        portal.app.clock.advance(10)  # type: ignore[attr-defined]
        await portal.call("crm.deal.list")
        await portal.call("no.such")
        await portal.call("CRM.DEAL.LIST")
        assert [e["method"] for e in await entries(portal)] == [
            "CRM.DEAL.LIST", "no.such", "crm.deal.list", "crm.deal.fields",
        ]  # fmt: skip
        assert [e["method"] for e in await entries(portal, method="crm.deal.list")] == [
            "CRM.DEAL.LIST", "crm.deal.list",
        ]  # fmt: skip
        assert [e["method"] for e in await entries(portal, status=404)] == ["no.such"]
        assert len(await entries(portal, limit=2)) == 2
        since = portal.app.clock.now() - 5
        assert len(await entries(portal, since=since)) == 3
        newest = (await entries(portal))[0]["id"]
        assert await entries(portal, after=newest) == []
        iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(since))
        assert len(await entries(portal, since=iso)) == 3

    @pytest.mark.parametrize(
        "query",
        [{"limit": "0"}, {"limit": "1001"}, {"status": "x"}, {"since": "yesterday"},
         {"since": "2024-06-25T13:43:26"}],
    )  # fmt: skip
    async def test_a_bad_query_is_refused(self, portal: Portal, query: dict[str, str]) -> None:
        response = await api(portal, "GET", "/portals/1/journal", **query)
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_REQUEST"

    async def test_an_unknown_portal_is_not_found(self, portal: Portal) -> None:
        response = await api(portal, "GET", "/portals/7/journal")
        assert response.status_code == 404
        assert response.json() == {"error": "NOT_FOUND", "error_description": "No portal 7"}


# -- `orderlink journal` beside a live server ---------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    yield from live_on(request.param, request, tmp_path_factory.mktemp("journal"),
                       "--no-rate-limit")  # fmt: skip


def written(live: Live) -> None:
    """The server writes its journal some milliseconds after a call (a second at most, under
    load: journal.py); another process reads only what is written. A read through the admin
    API writes what waits first, so the CLI below sees every call made before it."""
    assert live.admin("GET", "/portals/1/journal?limit=1").status_code == 200


@pytest.mark.live
class TestCli:
    def test_json_lines_newest_first_with_a_batch_and_its_commands(self, live: Live) -> None:
        httpx.post(live.hook + "crm.deal.fields", json={})
        cmd = {"a": "crm.deal.add?fields[TITLE]=Cli", "b": "crm.deal.get?id=$result[a]"}
        batch = httpx.post(live.hook + "batch", json={"cmd": cmd}).json()
        written(live)
        shown = live.cli_json("journal", "--limit", "2")
        assert [e["method"] for e in shown] == ["batch", "crm.deal.fields"]
        newest = shown[0]
        assert {"time", "method", "status", "params", "duration", "batch"} <= set(newest)
        assert newest["params"] == {"cmd": cmd}
        deal_id = batch["result"]["result"]["a"]
        assert [(c["id"], c["params"]) for c in newest["batch"]] == [
            ("a", {"fields": {"TITLE": "Cli"}}), ("b", {"id": deal_id}),
        ]  # fmt: skip
        assert newest["batch"][1]["result"]["ID"] == str(deal_id)

    def test_filters_and_the_text_table(self, live: Live) -> None:
        httpx.post(live.hook + "crm.orderentity.deletebyfiltr", json={})
        written(live)
        shown = live.cli_json("journal", "--portal", "1", "--method",
                              "CRM.ORDERENTITY.DELETEBYFILTR")  # fmt: skip
        assert [(e["status"], e["did_you_mean"]) for e in shown] == [
            (404, "crm.orderentity.deleteByFilter")
        ]
        lines = live.cli("journal", "--limit", "1")
        assert lines[0] == "id\ttime\tmethod\tstatus\tms\tcaller\tnotes"
        assert "\tcrm.orderentity.deletebyfiltr\t404\t" in lines[1]
        assert lines[1].endswith("did you mean crm.orderentity.deleteByFilter?")

    def test_the_admin_api_reads_the_same_journal(self, live: Live) -> None:
        httpx.post(live.hook + "crm.deal.list", json={"start": 0})
        answer = live.admin("GET", "/portals/1/journal?limit=1&method=crm.deal.list")
        assert answer.status_code == 200
        assert answer.json()["journal"][0]["params"] == {"start": 0}


def test_masking_leaves_other_values_alone() -> None:
    value = {"a": [1, "x=1", {"auth": "t"}], "b": None, "code": "c", "n": {"code": "kept"}}
    assert journal.mask(value) == {
        "a": [1, "x=1", {"auth": "***"}], "b": None, "code": "***", "n": {"code": "kept"},
    }  # fmt: skip


def test_journal_follow_prints_new_calls_as_they_come(tmp_path: Path) -> None:
    """`orderlink journal --follow`: what is there, then each new call as a server records it."""
    import select
    import subprocess
    import sys

    from .live import start_server

    database = tmp_path / "follow.db"
    server = start_server(database, "--no-rate-limit")
    follower = subprocess.Popen(
        [sys.executable, "-m", "orderlink", "journal", "--follow", "--json",
         "--database", f"sqlite:///{database}"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        httpx.post(server.webhook_url + "crm.orderentity.getfields", json={}, timeout=10)
        ready, _, _ = select.select([follower.stdout], [], [], 20)
        assert ready, "no line within 20 s"
        entry = json.loads(follower.stdout.readline())
        assert entry["method"].lower() == "crm.orderentity.getfields"
        assert entry["status"] == 200
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        if follower.stdout is not None:
            follower.stdout.close()
        server.stop()
