"""The commerce neighbourhood end to end, in the order a real integration calls it: find the
buyer by phone, create the contact, a deal in a funnel of its own with product rows, the order
with its basket and property values, bind them, pay and ship, move the deal to WON, read it all
back, and delete the order to see what goes with it.

One description (tests/data/scenario_commerce.json) is run by three real clients against a live
orderlink (b24pysdk, fast-bitrix24, b24jssdk through tests/js/scenario.mjs) and once in process
on both stores; `check` reads every run's answers the same way.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .clients import Target, target_fixture  # noqa: F401 (a fixture pytest finds)
from .conftest import Portal
from .test_clients_b24jssdk import node, nodejs  # noqa: F401 (nodejs: an autouse fixture)

SCENARIO = json.loads((Path(__file__).parent / "data" / "scenario_commerce.json").read_text())
STEPS: list[dict[str, Any]] = SCENARIO["steps"]
_REF = re.compile(r"\{([a-z0-9_]+)\}")

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def fill(value: Any, kept: dict[str, Any]) -> Any:
    """`value` with each `{name}` replaced by what was kept; a string that is only `{name}`
    becomes the kept value itself (a number stays a number). tests/js/scenario.mjs does the
    same."""
    if isinstance(value, dict):
        return {key: fill(item, kept) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, kept) for item in value]
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return kept[whole.group(1)]
        return _REF.sub(lambda m: str(kept[m.group(1)]), value)
    return value


def dig(answer: Any, path: str) -> Any:
    for part in path.split("."):
        answer = answer[part]
    return answer


def variables() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    return {"tag": tag, "name": f"Buyer{tag}", "phone": f"+1555{int(tag[:6], 16) % 10**7:07d}"}


async def run(call: Call, kept: dict[str, Any]) -> dict[str, Any]:
    """Every step in order; a step marked `fails` records the refusal instead of its answer."""
    answers: dict[str, Any] = {}
    for step in STEPS:
        params = fill(step["params"], kept)
        try:
            answer = await call(step["method"], params)
        except Exception as exc:
            if not step.get("fails"):
                raise AssertionError(f"{step['id']} ({step['method']}) failed: {exc!r}") from exc
            answers[step["id"]] = {"error": _code(exc)}
            continue
        assert not step.get("fails"), f"{step['id']} should have been refused: {answer}"
        answers[step["id"]] = answer
        for name, path in step.get("keep", {}).items():
            kept[name] = dig(answer, path)
    return answers


def _code(exc: Exception) -> str:
    """A refusal's code as the client exposes it, else its text. b24pysdk's `error` property
    raises ValueError for the sale module's numeric codes (`"error": 200540400001`, as the
    sale pages print them): its text stands in then."""
    try:
        return str(getattr(exc, "error", None) or exc)
    except ValueError:
        return str(exc)


def phones(contact: dict[str, Any]) -> list[str]:
    return [item["VALUE"] for item in contact.get("PHONE") or []]


def check(answers: dict[str, Any], kept: dict[str, Any]) -> None:
    """What every client must have seen."""
    result = {key: value.get("result") for key, value in answers.items()}
    phone = kept["phone"]
    # The buyer is new: nobody has the phone (crm-duplicate-find-by-comm.md: an empty list);
    # after the add, the lookup finds exactly it.
    assert result["lookup"] == []
    assert result["found"] == {"CONTACT": [kept["contact"]]}
    funnel = kept["funnel"]
    assert [s["STATUS_ID"] for s in result["stages"]][-3:] == [
        f"C{funnel}:WON", f"C{funnel}:LOSE", f"C{funnel}:APOLOGY",
    ]  # fmt: skip
    # The order: its basket priced it, the paid payment and the shipped shipment marked it.
    order = result["read_order"]["order"]
    assert float(order["price"]) == 40.0
    assert (order["payed"], order["deducted"]) == ("Y", "Y")
    assert sorted(i["id"] for i in order["basketItems"]) == sorted(
        [kept["basket1"], kept["basket2"]]
    )
    assert [p["id"] for p in order["payments"]] == [kept["payment"]]
    assert [s["id"] for s in order["shipments"]] == [kept["shipment"]]
    assert [(v["orderPropsId"], v["value"]) for v in order["propertyValues"]] == [
        (kept["property"], phone)
    ]
    # The deal: in its funnel, WON and closed, its amount the product rows' sum, its contact.
    deal = result["read_deal"]
    assert (deal["CATEGORY_ID"], deal["STAGE_ID"]) == (str(funnel), f"C{funnel}:WON")
    assert (deal["CLOSED"], deal["STAGE_SEMANTIC_ID"]) == ("Y", "S")
    assert float(deal["OPPORTUNITY"]) == 40.0
    rows = result["read_rows"]["productRows"]
    assert [(r["productName"], r["price"], r["quantity"]) for r in rows] == [
        ("Mug", 12.5, 2), ("Tea", 5, 3),
    ]  # fmt: skip
    assert [int(c["CONTACT_ID"]) for c in result["read_contacts"]] == [kept["contact"]]
    binding = {"orderId": kept["order"], "ownerId": kept["deal"], "ownerTypeId": 2}
    assert result["read_binding"]["orderEntity"] == [binding]
    # A paid order is not deleted; refunded, it goes with its basket, payments, shipments and
    # binding, and the deal stays.
    assert "error" in answers["delete_paid"]
    assert result["delete"] is True
    assert "error" in answers["gone_order"]
    assert result["gone_basket"]["basketItems"] == []
    assert result["gone_payments"]["payments"] == []
    assert result["gone_shipments"]["shipments"] == []
    assert result["gone_binding"]["orderEntity"] == []
    assert int(result["deal_stays"]["ID"]) == kept["deal"]


class Refused(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("error_description"))
        self.error = body.get("error")


@pytest.mark.anyio
async def test_in_process(portal: Portal) -> None:
    """The description itself, on both stores, without a client in between."""

    async def call(method: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await portal.call(method, params)
        if response.status_code != 200:
            raise Refused(response.json())
        return dict(response.json())

    kept = variables()
    check(await run(call, kept), kept)


@pytest.mark.clients
@pytest.mark.live
def test_b24pysdk(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """b24pysdk's `call_method`: the whole answer; a refusal raises its BitrixAPIError."""
    from b24pysdk import BitrixWebhook

    for name, value in target.trust_env().items():
        monkeypatch.setenv(name, value)
    hook = BitrixWebhook(domain=target.domain, webhook_token=target.webhook_token)

    async def call(method: str, params: dict[str, Any]) -> dict[str, Any]:
        return dict(hook.call_method(method, params))

    kept = variables()
    check(asyncio.run(run(call, kept)), kept)


@pytest.mark.clients
@pytest.mark.live
def test_fast_bitrix24(target: Target) -> None:
    """fast-bitrix24's `call(..., raw=True)`: the whole answer; a refusal raises (it reads the
    HTTP status only)."""
    from fast_bitrix24 import BitrixAsync

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        connector = aiohttp.TCPConnector(ssl=target.ssl_context())
        async with aiohttp.ClientSession(connector=connector, raise_for_status=True) as session:
            bx = BitrixAsync(target.webhook_url, verbose=False, client=session)

            async def call(method: str, params: dict[str, Any]) -> dict[str, Any]:
                return dict(await bx.call(method, params, raw=True))

            kept = variables()
            return await run(call, kept), kept

    answers, kept = asyncio.run(scenario())
    check(answers, kept)


@pytest.mark.clients
@pytest.mark.live
def test_b24jssdk(target: Target) -> None:
    """b24jssdk's `actions.v2.call.make` through tests/js/scenario.mjs, on the same steps (Node
    and the SDK are checked by the `nodejs` fixture of test_clients_b24jssdk)."""
    kept = variables()
    case = {"webhook": target.webhook_url, "steps": STEPS, "kept": kept}
    done = node("scenario.mjs", case, target.trust_env())
    check(done["answers"], done["kept"])
