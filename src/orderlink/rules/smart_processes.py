"""Smart-process rules, with no wire format: which entityTypeIds a type may have, its relations
and linked user fields, and the defaults and stage moves of its items (smart invoices, type 31,
are one of them).

Pages: api-reference/crm/universal/user-defined-object-types/{crm-type-add,crm-type-update}.md,
api-reference/crm/data-types.md (type, type.relations, type.linkedUserFields),
api-reference/crm/universal/crm-item-add.md (the SPA tab: defaults, `DT{entityTypeId}_{categoryId}`
stages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import tzinfo
from typing import Any

from orderlink import coerce
from orderlink.entity_types import COMPANY, CONTACT
from orderlink.records.values import decode, encode
from orderlink.rules.deals import given_over, moved_to, planned, sync_contacts
from orderlink.storage.base import Row

# crm-type-add.md: "an even integer that is greater than or equal to 1030, or in the range from
# 128 to 192". Ids given are checked against both; ids made up are the next even one.
FIRST_RANGE = (128, 192)
SECOND_RANGE_START = 1030


def allowed_entity_type_id(type_id: int) -> bool:
    low, high = FIRST_RANGE
    return low <= type_id <= high or (type_id >= SECOND_RANGE_START and type_id % 2 == 0)


def next_entity_type_id(taken: Iterable[int]) -> int:
    """The entityTypeId a type added without one gets: the next even number past the largest a
    type of the portal has (128 for the first), the second range once the first is full."""
    top = max(taken, default=FIRST_RANGE[0] - 2)
    candidate = top + 2 - top % 2
    if FIRST_RANGE[1] < candidate < SECOND_RANGE_START:
        candidate = SECOND_RANGE_START
    return candidate


# The type's settings, by wire name, in the order crm-type-get.md prints them, with their column
# and default (crm-type-add.md: all N but isSetOpenPermissions; payments and counters are
# system settings no request sets).
SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("isCategoriesEnabled", "is_categories_enabled", "N"),
    ("isStagesEnabled", "is_stages_enabled", "N"),
    ("isBeginCloseDatesEnabled", "is_begin_close_dates_enabled", "N"),
    ("isClientEnabled", "is_client_enabled", "N"),
    ("isUseInUserfieldEnabled", "is_use_in_userfield_enabled", "N"),
    ("isLinkWithProductsEnabled", "is_link_with_products_enabled", "N"),
    ("isMycompanyEnabled", "is_mycompany_enabled", "N"),
    ("isDocumentsEnabled", "is_documents_enabled", "N"),
    ("isSourceEnabled", "is_source_enabled", "N"),
    ("isObserversEnabled", "is_observers_enabled", "N"),
    ("isRecyclebinEnabled", "is_recyclebin_enabled", "N"),
    ("isAutomationEnabled", "is_automation_enabled", "N"),
    ("isBizProcEnabled", "is_biz_proc_enabled", "N"),
    ("isSetOpenPermissions", "is_set_open_permissions", "Y"),
    ("isPaymentsEnabled", "is_payments_enabled", "N"),
    ("isCountersEnabled", "is_counters_enabled", "N"),
)

# The item fields a setting switches on (object-fields.md#spa: "Available only when the ...
# setting is enabled"); the other smart-item fields every type has.
OPTIONAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "is_stages_enabled": ("movedTime", "movedBy", "stageId", "previousStageId"),
    "is_begin_close_dates_enabled": ("begindate", "closedate"),
    "is_client_enabled": ("companyId", "contactId", "contactIds", "contacts"),
    "is_link_with_products_enabled": ("currencyId", "isManualOpportunity", "opportunity",
                                      "taxValue"),
    "is_mycompany_enabled": ("mycompanyId",),
    "is_source_enabled": ("sourceId", "sourceDescription"),
    "is_observers_enabled": ("observers",),
}  # fmt: skip


def enabled_fields(type_row: Row, names: Iterable[str]) -> list[str]:
    """`names` without the fields the type's settings leave out."""
    off = {n for column, fields in OPTIONAL_FIELDS.items() if type_row.get(column) != "Y"
           for n in fields}  # fmt: skip
    return [n for n in names if n not in off]


# crm-type-add.md "Binding to user fields": the three places a type can be shown in.
LINKED_USER_FIELDS = (
    "CALENDAR_EVENT|UF_CRM_CAL_EVENT", "TASKS_TASK|UF_CRM_TASK", "TASKS_TASK_TEMPLATE|UF_CRM_TASK",
)  # fmt: skip
# crm-type-add.md's answer: a type with the Client field is the child of contacts and companies.
PREDEFINED_PARENTS = (CONTACT, COMPANY)


def _given_true(value: Any) -> bool:
    """crm-type-add.md: these settings take "true" or "false"; `Y` and `N` do not work."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _listed(raw: Any) -> list[Any]:
    if isinstance(raw, dict):
        return list(raw.values())
    return raw if isinstance(raw, list) else []


def read_relations(raw: Any, client_enabled: bool) -> str:
    """The relations a request sets, as stored: `{"parent": [...], "child": [...]}` of
    `{entityTypeId, isChildrenListEnabled Y/N}`. crm-type-update.md: an entry that cannot be
    saved is silently left out; a predefined one cannot be set."""
    given = raw if isinstance(raw, dict) else {}
    out: dict[str, list[dict[str, Any]]] = {}
    for side in ("parent", "child"):
        kept: dict[int, dict[str, Any]] = {}
        for entry in _listed(given.get(side)):
            type_id = coerce.to_int(entry.get("entityTypeId")) if isinstance(entry, dict) else None
            if type_id is None or type_id <= 0 or type_id in kept:
                continue
            if side == "parent" and client_enabled and type_id in PREDEFINED_PARENTS:
                continue
            listed = _given_true(entry.get("isChildrenListEnabled"))
            kept[type_id] = {"entityTypeId": type_id, "isChildrenListEnabled": "Y" if listed
                             else "N"}  # fmt: skip
        out[side] = list(kept.values())
    return encode(out)


def relations(row: Row) -> dict[str, list[dict[str, Any]]]:
    """type.relations as crm-type-get.md prints it: the predefined parents (contacts and
    companies, with the Client field) first, then the stored ones, each with `isPredefined`."""
    stored = decode(row.get("relations") or "{}")
    shown: dict[str, list[dict[str, Any]]] = {}
    for side in ("parent", "child"):
        entries = []
        if side == "parent" and row.get("is_client_enabled") == "Y":
            entries = [{"entityTypeId": t, "isChildrenListEnabled": "Y", "isPredefined": "Y"}
                       for t in PREDEFINED_PARENTS]  # fmt: skip
        entries += [{**e, "isPredefined": "N"} for e in stored.get(side, [])
                    if not (entries and e["entityTypeId"] in PREDEFINED_PARENTS)]  # fmt: skip
        shown[side] = entries
    return shown


def parent_types(row: Row) -> list[int]:
    """The types whose items an item of this type may name as parent (`parentId{N}`)."""
    return [e["entityTypeId"] for e in relations(row)["parent"]
            if e["entityTypeId"] not in PREDEFINED_PARENTS]  # fmt: skip


def read_linked_user_fields(raw: Any, enabled: bool) -> str:
    """crm-type-add.md: considered only with `isUseInUserfieldEnabled = Y`; "true" shows the
    type in that place."""
    given = raw if isinstance(raw, dict) and enabled else {}
    return encode({key: "Y" if _given_true(given.get(key)) else "N" for key in LINKED_USER_FIELDS})


def linked_user_fields(row: Row) -> dict[str, str]:
    stored = decode(row.get("linked_user_fields") or "{}")
    return {key: stored.get(key, "N") for key in LINKED_USER_FIELDS}


# -- items ----------------------------------------------------------------------------------


def first_stage(type_id: int, category: int) -> str:
    """crm-item-add.md (SPA): stages are `DT{entityTypeId}_{categoryId}:{code}`, NEW first."""
    return f"DT{type_id}_{category}:NEW"


def new_item(
    columns: Row, *, first: Callable[[int], str], user: int, now: float, zone: tzinfo
) -> Row:
    """A new smart-process item's columns: crm-item-add.md's defaults (the caller responsible,
    open, the base currency, begins today and closes in a week, the funnel's first stage) under
    the request's values."""
    stamp = int(now)
    values = given_over({
        **planned(now, zone),
        "opened": "Y",
        "assigned_by_id": user,
        "created_by": user,
        "updated_by": user,
        "moved_by": user,
        "created_time": stamp,
        "updated_time": stamp,
        "moved_time": stamp,
        "last_activity_time": stamp,
        "last_activity_by": user,
    }, columns)  # fmt: skip
    if not values.get("stage_id"):
        values["stage_id"] = first(values["category_id"])
    return values


def changed_item(old: Row, columns: Row, *, first: Callable[[int], str], user: int,
                 now: float) -> Row:  # fmt: skip
    """The columns an update writes: the request's, the stage move it implies (the previous
    stage kept), who and when."""
    values = dict(columns)
    stamp = int(now)
    sync_contacts(values)
    stage = moved_to(old, values, first)
    if stage:
        values.update(
            stage_id=stage, previous_stage_id=old["stage_id"], moved_by=user, moved_time=stamp
        )
    values.update(updated_by=user, updated_time=stamp)
    return values
