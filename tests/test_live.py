"""A real `orderlink serve` on a real socket: the docs' curl examples verbatim (curl is a client
too: marked `clients`), durability across `kill -9`, and the one-binding-per-order invariant under
concurrency. fast-bitrix24 and the other client libraries: tests/test_clients_*.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from .live import (
    LiveServer,
    assert_kill_9_keeps_an_acknowledged_write,
    assert_parallel_adds_leave_one_binding,
)

pytestmark = pytest.mark.live

DOCS_PLACEHOLDER = "https://**put_your_bitrix24_address**/rest/**put_your_user_id_here**/**put_your_webhook_here**/"
EXAMPLES = json.loads((Path(__file__).parent / "data" / "docs_curl_examples.json").read_text())


def _same_shape(actual: object, documented: object) -> None:
    """Same keys and JSON types all the way down (values of `time` naturally differ)."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict)
        assert set(documented) <= set(actual), (documented, actual)
        for key, value in documented.items():
            _same_shape(actual[key], value)
    elif isinstance(documented, float | int) and not isinstance(documented, bool):
        assert isinstance(actual, float | int)
        assert not isinstance(actual, bool)
    else:
        assert type(actual) is type(documented), (actual, documented)


@pytest.mark.clients
class TestDocsCurlExamples:
    """Each crm.orderentity.* page's cURL (Webhook) example, run by curl with only the address
    swapped, in the order deletebyfilter, add, list, getFields, on a portal seeded with the rows
    the examples name (`orderlink serve --seed-examples`)."""

    @pytest.mark.parametrize(
        "example", EXAMPLES, ids=[e["page"].rsplit("/", 1)[1] for e in EXAMPLES]
    )
    def test_curl_example_answers_as_documented(
        self, live_server: LiveServer, example: dict[str, object]
    ) -> None:
        command = str(example["curl"]).replace(DOCS_PLACEHOLDER, live_server.webhook_url)
        completed = subprocess.run(
            ["bash", "-c", command.rstrip() + " -s -w '\\n%{http_code} %{content_type}'"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        body, status_line = completed.stdout.rsplit("\n", 1)
        assert status_line == "200 application/json; charset=utf-8"
        answer = json.loads(body)
        documented = example["response"]
        assert isinstance(documented, dict)
        assert answer["result"] == documented["result"]
        assert set(answer) == set(documented)
        _same_shape(answer["time"], documented["time"])


class TestDurability:
    def test_acknowledged_write_survives_kill_9(self, tmp_path: Path) -> None:
        assert_kill_9_keeps_an_acknowledged_write(tmp_path / "durable.db")


class TestConcurrency:
    def test_parallel_adds_for_one_order_leave_one_binding(self, live_server: LiveServer) -> None:
        hook = live_server.webhook_url
        assert_parallel_adds_leave_one_binding(hook)
        httpx.post(
            hook + "crm.orderentity.add",
            json={"fields": {"orderId": 5128, "ownerId": 6938, "ownerTypeId": 2}},
        )
