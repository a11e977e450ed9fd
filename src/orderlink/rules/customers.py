"""Contact and company rules, whichever family writes the row: multi-fields, the HAS_* flags,
the defaults of a new one, linked ids.

Pages: api-reference/crm/data-types.md (crm_multifield), crm/contacts/crm-contact-update.md
("Working with Multiple Fields"), crm-contact-add.md and crm-company-add.md (defaults).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from orderlink.records.values import decode, encode
from orderlink.rules.deals import authored
from orderlink.storage.base import Row

# The multi-fields, by wire name; each is stored as a JSON list in the column of its name.
MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
# What a value added without VALUE_TYPE is typed as (data-types.md lists WORK first for phone,
# e-mail and website; a messenger has no WORK, OTHER is its catch-all).
DEFAULT_VALUE_TYPE = {"PHONE": "WORK", "EMAIL": "WORK", "WEB": "WORK", "IM": "OTHER",
                      "LINK": "USER"}  # fmt: skip

Item = dict[str, str]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _items(given: Any) -> list[Mapping[str, Any]]:
    """The items of a multi-field value: a list, a PHP-keyed object, or one item on its own."""
    if isinstance(given, Mapping):
        if any(k in given for k in ("VALUE", "ID", "VALUE_TYPE", "DELETE")):
            return [given]
        given = list(given.values())
    if not isinstance(given, list):
        return []
    return [item for item in given if isinstance(item, Mapping)]


def merge(type_id: str, old: list[Item], given: Any, next_id: int) -> tuple[list[Item], int]:
    """A multi-field after a write: an item with a known ID changes that value, or deletes it
    with `DELETE: Y` or no/empty VALUE; an item without ID adds a value (an empty one is
    ignored); values not named stay. Returns the items and the next free value id."""
    items = [dict(item) for item in old]
    by_id = {item["ID"]: item for item in items}
    for raw in _items(given):
        value = _text(raw.get("VALUE"))
        value_type = _text(raw.get("VALUE_TYPE")).upper()
        known = by_id.get(_text(raw.get("ID")))
        if known is not None:
            if _text(raw.get("DELETE")).upper() == "Y" or not value:
                items.remove(known)
            else:
                known["VALUE"] = value
                if value_type:
                    known["VALUE_TYPE"] = value_type
        elif value:
            added = {"ID": str(next_id), "VALUE_TYPE": value_type or DEFAULT_VALUE_TYPE[type_id],
                     "VALUE": value, "TYPE_ID": type_id}  # fmt: skip
            items.append(added)
            next_id += 1
    return items, next_id


def stored_items(row: Row | None, type_id: str) -> list[Item]:
    if row is None:
        return []
    found = decode(row.get(type_id.lower()) or "[]")
    return found if isinstance(found, list) else []


def next_value_id(row: Row | None) -> int:
    """Value ids are the row's own: one past the largest any of its multi-fields holds."""
    ids = [int(item["ID"]) for name in MULTIFIELDS for item in stored_items(row, name)]
    return max(ids, default=0) + 1


def written_multifields(old: Row | None, fields: Mapping[str, Any]) -> Row:
    """The multi-field columns a `fields` object writes (names in any case), and the HAS_*
    flags that follow from them."""
    given = {str(k).upper(): v for k, v in fields.items() if str(k).upper() in MULTIFIELDS}
    if not given:
        return {}
    next_id = next_value_id(old)
    values: Row = {}
    lists: dict[str, list[Item]] = {n: stored_items(old, n) for n in MULTIFIELDS}
    for name, raw in given.items():
        lists[name], next_id = merge(name, lists[name], raw, next_id)
        values[name.lower()] = encode(lists[name])
    values.update(has_flags(lists))
    return values


def has_flags(lists: Mapping[str, list[Item]]) -> Row:
    """HAS_PHONE / HAS_EMAIL; HAS_IMOL is an open-line messenger (VALUE_TYPE IMOL/OPENLINE)."""
    imol = any(i.get("VALUE_TYPE") in ("IMOL", "OPENLINE") for i in lists.get("IM", []))
    return {
        "has_phone": "Y" if lists.get("PHONE") else "N",
        "has_email": "Y" if lists.get("EMAIL") else "N",
        "has_imol": "Y" if imol else "N",
    }


def new_customer(columns: Row, *, user: int, now: float) -> Row:
    """A new contact's or company's columns: crm-contact-add.md / crm-company-add.md defaults
    (OPENED Y, the caller responsible) under whatever the request set."""
    return {**authored(user, int(now)), **{k: v for k, v in columns.items() if v is not None}}


def changed_customer(columns: Row, *, user: int, now: float) -> Row:
    return {**columns, "modify_by_id": user, "date_modify": int(now)}


# A phone's dial characters (digits and what separates an extension), and an extension: `;`
# or `#` with the digits after it, or `,` with digits, after the number's run of digits.
_DIAL = re.compile(r"[^0-9#*,;]")
_EXTENSION = re.compile(r"([0-9]+)[;#]*[0-9,]*")


def comm_code(kind: str, value: str) -> str:
    """What a phone or e-mail is matched by (crm-duplicate-find-by-comm.md: "The search does
    not consider the phone extension"): a phone's digits without the extension (`+7 (999)
    123-45-67;12` -> `79991234567`), an e-mail trimmed and in lower case. "" matches nothing."""
    if kind == "PHONE":
        return _EXTENSION.sub(r"\1", _DIAL.sub("", value))
    return value.strip().lower()


def matches(items: Iterable[Item], codes: Collection[str], kind: str) -> list[str]:
    """The `codes` (comm_code) a multi-field holds, in the order of `codes`."""
    held = {comm_code(kind, str(item.get("VALUE", ""))) for item in items}
    return [code for code in codes if code and code in held]


def binding_items(ids: list[int], key: str) -> list[dict[str, Any]]:
    """A deal's contacts as crm-deal-contact-items-get.md prints them: the first is primary,
    SORT steps by 10 in order (the order is kept, a given SORT value is not)."""
    return [{key: item, "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
            for i, item in enumerate(ids)]  # fmt: skip


def bound_ids(items: list[tuple[int, int, bool]]) -> list[int]:
    """(id, SORT, IS_PRIMARY) bindings -> ids in order: by SORT (given order on ties), the first
    primary one first (crm-deal-contact-items-set.md: none primary, the first is), each once."""
    ordered = sorted(enumerate(items), key=lambda pair: (pair[1][1], pair[0]))
    ids = [item_id for _, (item_id, _, _) in ordered]
    primary = next((item_id for item_id, _, flag in items if flag), None)
    if primary is not None:
        ids.remove(primary)
        ids.insert(0, primary)
    return list(dict.fromkeys(ids))
