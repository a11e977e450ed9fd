"""sale.paysystem.list and sale.delivery.getlist: the payment systems and delivery services the
ids of sale.payment's `paySystemId` and sale.shipment's `deliveryId` name.

Pages: api-reference/pay-system/sale-pay-system-list.md, api-reference/sale/delivery/delivery/
sale-delivery-get-list.md, api-reference/sale/data-types.md (sale_paysystem,
sale_delivery_service). Both answer a bare array of UPPER_SNAKE objects, without `total`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from orderlink import coerce, errors, listing
from orderlink.families.handlers import guarded
from orderlink.families.readers import top_level
from orderlink.registry import Call, MethodTable, Role
from orderlink.rules.order_contents import DELIVERY_SERVICES, PAY_SYSTEMS

table = MethodTable(scope="sale")

# The pages' filter prefixes, longest first so `!=%` is not read as `!=`.
_PREFIXES = ("!=%", "!%=", ">=", "<=", "!=", "!@", "=%", "%=", "!%", "=", "!", ">", "<", "@", "%")


def _like(text: str, pattern: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.lower().split("%"))
    return re.fullmatch(regex, text.lower(), re.DOTALL) is not None


def _holds(op: str, actual: Any, wanted: Any) -> bool:
    if op in ("@", "!@") or isinstance(wanted, list | dict):
        options = list(wanted.values()) if isinstance(wanted, dict) else wanted
        options = options if isinstance(options, list) else [options]
        hit = any(coerce.comparable(actual) == coerce.comparable(v) for v in options)
        return hit != op.startswith("!")
    if op in ("%", "!%"):
        hit = str(wanted).lower() in str(actual or "").lower()
        return hit != (op == "!%")
    if op in ("=%", "%=", "!=%", "!%="):
        return _like(str(actual or ""), str(wanted)) != op.startswith("!")
    left, right = coerce.comparable(actual), coerce.comparable(wanted)
    return {"=": left == right, "!=": left != right, "!": left != right, ">": left > right,
            ">=": left >= right, "<": left < right, "<=": left <= right}[op]  # fmt: skip


def _field(name: str, known: Sequence[str]) -> str:
    upper = name.upper()
    if upper not in known:
        # Inferred: the pages' ERROR_CHECK_FAILURE, "validation error of incoming parameters".
        raise errors.CheckFailure(f"Unknown field: {name[:100]}")
    return upper


def _object(raw: Any, name: str) -> dict[str, Any]:
    if raw in (None, "", []):
        return {}
    if not isinstance(raw, dict):
        raise errors.CheckFailure(f"Parameter '{name}' must be array")
    return raw


def _answer(call: Call, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` as SELECT, FILTER and ORDER pick, print and order them (names in any case)."""
    params = top_level(call.params)
    known = list(rows[0])
    found = list(rows)
    for key, wanted in _object(params.get("filter"), "filter").items():
        text = str(key)
        op = next((p for p in _PREFIXES if text.startswith(p) and len(text) > len(p)), "=")
        name = _field(text[len(op) :] if text.startswith(op) else text, known)
        found = [r for r in found if _holds(op, r[name], wanted)]
    for key, direction in reversed(list(_object(params.get("order"), "order").items())):
        name = _field(str(key), known)
        text = direction.strip().upper() if isinstance(direction, str) else ""
        if text not in ("ASC", "DESC"):
            raise errors.CheckFailure(f"Invalid order direction for field {name}")
        found.sort(key=lambda r: coerce.comparable(r[name]), reverse=text == "DESC")
    asked = listing.names(params.get("select"))
    picked = known if "*" in asked else [_field(n, known) for n in asked] or known
    return [{k: r[k] for k in known if k in picked} for r in found]


# The page's scope is `pay_system`, which orderlink's credentials do not carry: served under
# `sale`, the scope sale.payment.* is in (docs/decisions.md).
@guarded(table, "sale.paysystem.list", doc="api-reference/pay-system/sale-pay-system-list.md",
         role=Role.STORE_ADMIN, denied=errors.SettingsAccessDenied)  # fmt: skip
async def pay_system_list(call: Call) -> Any:
    """The portal's payment systems (three, fixed), as SELECT, FILTER and ORDER ask."""
    return _answer(call, PAY_SYSTEMS)


@guarded(table, "sale.delivery.getlist",
         doc="api-reference/sale/delivery/delivery/sale-delivery-get-list.md",
         role=Role.STORE_ADMIN, denied=errors.SettingsAccessDenied)  # fmt: skip
async def delivery_list(call: Call) -> Any:
    """The portal's delivery services (three, fixed), as SELECT, FILTER and ORDER ask."""
    return _answer(call, DELIVERY_SERVICES)
