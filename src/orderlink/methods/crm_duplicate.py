"""crm.duplicate.findbycomm: the contacts and companies that hold a phone or an e-mail.

Page: api-reference/crm/duplicates/crm-duplicate-find-by-comm.md (and the tutorial
tutorials/crm/how-to-get-lists/search-by-phone-and-email.md: nothing found is `[]`, not an
object). Leads are searched too on a portal; orderlink has none, so it answers as a portal
without leads. Phones match without their extension, e-mails without case
(`rules.customers.comm_code`). Errors carry an empty code and the texts the CRM REST proxy
raises (the page's table lists them without their period).
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors
from orderlink.entity_types import COMPANY, CONTACT, DEAL, LEAD
from orderlink.families.readers import top_level
from orderlink.records.values import decode
from orderlink.registry import Call, MethodTable
from orderlink.rules import customers
from orderlink.storage.base import Condition, ListQuery, Table

table = MethodTable(scope="crm", docs="api-reference/crm/duplicates/")


# The page: "Maximum number of values — 20"; each value finds up to 20 items, leads first, then
# contacts, then companies ("If 20 or more duplicates are found for one object, the other types
# are not returned").
MAX_VALUES = 20
MAX_FOUND = 20
# entity_type by name or entityTypeId (crm/data-types.md, "Object Types"); LEAD: none here.
_TYPES = {"LEAD": LEAD, "DEAL": DEAL, "CONTACT": CONTACT, "COMPANY": COMPANY}
_SEARCHED: tuple[tuple[int, str, Table], ...] = (
    (CONTACT, "CONTACT", "contacts"),
    (COMPANY, "COMPANY", "companies"),
)
_PAGE = 500  # rows read at a time while searching


def _entity_type(params: dict[str, Any]) -> int | None:
    """`entity_type` (also `entityType`) by name or number; None: every type (not given, or a
    name the CRM does not know, as its owner-type lookup reads it)."""
    raw = params.get("entity_type", params.get("entitytype"))
    text = "" if raw is None else str(raw).strip().upper()
    number = coerce.to_int(text)
    if number is not None:
        return number if number in _TYPES.values() else None
    return _TYPES.get(text)


def _values(raw: Any) -> list[Any] | None:
    if isinstance(raw, dict):
        return list(raw.values())
    return raw if isinstance(raw, list) else None


def _codes(kind: str, values: list[Any]) -> list[str]:
    """The first 20 distinct values as match codes; a value that is no string, or empty, is
    skipped, one more is ignored (the page's limit, which a portal does not refuse)."""
    codes: list[str] = []
    for value in values:
        if not isinstance(value, str) or value == "":
            continue
        code = customers.comm_code(kind, value)
        if code in codes:
            continue
        codes.append(code)
        if len(codes) >= MAX_VALUES:
            break
    return codes


async def _holders(call: Call, table_: Table, kind: str, codes: list[str]) -> dict[str, list[int]]:
    """For each code, the ids (ascending) of `table_`'s rows whose multi-field holds it; read
    page by page, only rows that have a phone (an e-mail)."""
    column = kind.lower()
    found: dict[str, list[int]] = {code: [] for code in codes}
    last = 0
    while True:
        conditions = [Condition(f"has_{column}", "=", "Y"), Condition("id", ">", last)]
        query = ListQuery(table_, call.portal, ["id", column], conditions,
                          order=(("id", False),), limit=_PAGE, count=False)  # fmt: skip
        rows = (await call.store.list(query)).rows
        for row in rows:
            items = decode(row[column] or "[]")
            for code in customers.matches(items if isinstance(items, list) else [], codes, kind):
                found[code].append(int(row["id"]))
        if len(rows) < _PAGE:
            return found
        last = int(rows[-1]["id"])


@table.method("crm.duplicate.findbycomm", page="crm-duplicate-find-by-comm.md")
async def find_by_comm(call: Call) -> Any:
    """Contacts and companies holding one of up to 20 phones or e-mails; `[]` when none."""
    params = top_level(call.params)
    raw = params.get("type")
    kind = "" if raw is None else str(raw).strip().upper()
    if kind not in ("EMAIL", "PHONE"):
        if kind == "":
            raise errors.LegacyCrmError("Communication type is not defined.")
        raise errors.LegacyCrmError(f"Communication type '{kind}' is not supported in current "
                                    "context.")  # fmt: skip
    values = _values(params.get("values"))
    if not values:
        raise errors.LegacyCrmError("Communication values is not defined.")
    wanted = _entity_type(params)
    if wanted == DEAL:
        raise errors.LegacyCrmError("Deal is not supported in current context.")
    codes = [code for code in _codes(kind, values) if code]
    searched = [s for s in _SEARCHED if wanted is None or wanted == s[0]]
    holders = {name: await _holders(call, t, kind, codes) for _, name, t in searched if codes}
    result: dict[str, list[int]] = {}
    for code in codes:
        room = MAX_FOUND
        for _, name, _ in searched:
            for item in holders[name][code][:room]:
                ids = result.setdefault(name, [])
                if item not in ids:
                    ids.append(item)
            room -= len(holders[name][code][:room])
            if room <= 0:
                break
    # PHP's empty array: nothing found is `[]` (the tutorial's warning), else an object.
    return result or []
