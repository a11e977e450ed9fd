"""crm.status.*: the CRM reference lists, here the deal funnels' stages (`DEAL_STAGE`,
`DEAL_STAGE_{categoryId}`); and crm.dealcategory.stage.list, which reads the same rows.

Pages: api-reference/crm/status/{crm-status-add,crm-status-get,crm-status-list,
crm-status-update,crm-status-delete,crm-status-fields,crm-status-entity-items,
crm-status-entity-types}.md, api-reference/crm/outdated/category-old/
crm-deal-category-stage-list.md. Every value prints as a string (CATEGORY_ID and SEMANTICS
null when empty); errors carry an empty code and the documented text, as crm.deal.*'s do.
"""

from __future__ import annotations

import re
from typing import Any

from orderlink import coerce, errors
from orderlink.entity_types import DEAL
from orderlink.families.handlers import parse_list
from orderlink.families.stages import funnel
from orderlink.methods.crm_category import OLD_DOCS, categories
from orderlink.registry import Call, MethodTable, Page
from orderlink.rules import funnels
from orderlink.schema import Schema, fit_text, named
from orderlink.storage.base import Condition, ListQuery, Row

table = MethodTable(scope="crm", docs="api-reference/crm/status/")

# crm-status-fields.md, in its order, with its types and titles.
SCHEMA = Schema(
    "crm_statuses",
    [
        named("ID", "int", "integer", "ID", "O"),
        named("ENTITY_ID", "text", "string", "Entity ID", "RI"),
        named("STATUS_ID", "text", "string", "Status", "RI"),
        named("SORT", "int", "integer", "Sorting"),
        named("NAME", "text", "string", "Name", "R"),
        named("NAME_INIT", "text", "string", "Default Name", "O"),
        named("SYSTEM", "text", "char", "System", "O"),
        named("CATEGORY_ID", "int", "integer", "CATEGORY_ID", "I"),
        named("COLOR", "text", "string", "COLOR"),
        named("SEMANTICS", "text", "char", "SEMANTICS", "I"),
    ],
    case_insensitive=True,
)
_COLUMNS = [f.column for f in SCHEMA]
# crm-status-add.md: deal stage codes are at most 22 characters of Latin letters, digits, `-`, `_`.
_STAGE_CODE = re.compile(r"[A-Za-z0-9_-]{1,22}\Z")
_AFTER_WON = (
    "Cannot create more stages after the final stage because the final successful stage already "
    "exists. Try using sort order values less than that of the final stage."
)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def render(row: Row, *, extra: str | None = None) -> dict[str, Any]:
    """A reference value as crm-status-get.md prints it; with `extra` (the funnel's final
    failure stage), the EXTRA object crm-status-list.md adds to a stage."""
    shown: dict[str, Any] = {f.name: _text(row[f.column]) for f in SCHEMA}
    if funnels.category_of_entity(row["entity_id"]) is not None:
        shown["EXTRA"] = {
            "SEMANTICS": funnels.extra_semantics(row["semantics"], row["status_id"], extra),
            "COLOR": row["color"],
        }
    return shown


async def _final_failures(call: Call, rows: list[Row]) -> dict[str, str | None]:
    """Each stage list's first failure stage (what EXTRA calls `failure`, not `apology`)."""
    found: dict[str, str | None] = {}
    for entity in {r["entity_id"] for r in rows}:
        category = funnels.category_of_entity(entity)
        stages = await funnel(call, category) if category is not None else None
        found[entity] = stages.final("F") if stages else None
    return found


def _status_id(params: dict[str, Any]) -> int:
    found = coerce.to_int(params.get("id"))
    if found is None or found <= 0:
        raise errors.LegacyCrmError("Invalid identifier.")
    return found


async def _status(call: Call) -> Row:
    row = await call.store.get(call.portal, "crm_statuses", _status_id(call.params))
    if row is None:
        raise errors.LegacyCrmError("Status is not found.")
    return row


@table.method("crm.status.fields", page="crm-status-fields.md")
async def status_fields(call: Call) -> Any:
    """The reference value fields, EXTRA included."""
    described = {
        f.name: {
            "type": f.type, "isRequired": f.required, "isReadOnly": f.read_only,
            "isImmutable": f.immutable, "isMultiple": False, "isDynamic": False,
            "title": f.title,
        }
        for f in SCHEMA
    }  # fmt: skip
    described["EXTRA"] = {
        "type": "crm_status_extra", "isRequired": False, "isReadOnly": False,
        "isImmutable": False, "isMultiple": False, "isDynamic": False,
        "title": "Additional Fields",
    }  # fmt: skip
    return described


@table.method("crm.status.list", page="crm-status-list.md")
async def status_list(call: Call) -> Any:
    """Reference values matching `filter`, in `order` (SORT by default): every match, no pages."""
    params = {k: v for k, v in call.params.items() if k.lower() in ("filter", "order")}
    parsed = parse_list(call, params, SCHEMA, error=errors.LegacyCrmError,
                        default_order=(("sort", False),))  # fmt: skip
    query = parsed.query
    found = await call.store.list(
        ListQuery(table="crm_statuses", portal_id=call.portal, columns=_COLUMNS,
                  conditions=query.conditions, order=query.order, limit=None, count=False)
    )  # fmt: skip
    failures = await _final_failures(call, found.rows)
    rows = [render(r, extra=failures.get(r["entity_id"])) for r in found.rows]
    return Page(rows, len(rows))


@table.method("crm.status.get", page="crm-status-get.md")
async def status_get(call: Call) -> Any:
    """One reference value, without EXTRA (as the page prints it)."""
    shown = render(await _status(call))
    shown.pop("EXTRA", None)
    return shown


async def _entity_stages(call: Call, entity: Any) -> list[Row]:
    """The values of stage list `entity` by SORT; unknown lists raise."""
    category = funnels.category_of_entity(entity) if isinstance(entity, str) else None
    stages = await funnel(call, category) if category is not None else None
    if category is None or stages is None:
        raise errors.LegacyCrmError("The parameter entityId is not defined or invalid.")
    found = await call.store.list(
        ListQuery(table="crm_statuses", portal_id=call.portal, columns=_COLUMNS,
                  conditions=[Condition("entity_id", "=", entity)],
                  order=[("sort", False), ("id", False)], limit=None, count=False)
    )  # fmt: skip
    return found.rows


@table.method("crm.status.entity.items", page="crm-status-entity-items.md")
async def status_entity_items(call: Call) -> Any:
    """One reference list's values by SORT: NAME, SORT (a number), STATUS_ID."""
    rows = await _entity_stages(call, call.params.get("entityId"))
    return [{"NAME": r["name"], "SORT": r["sort"], "STATUS_ID": r["status_id"]} for r in rows]


@table.method("crm.status.entity.types", page="crm-status-entity-types.md")
async def status_entity_types(call: Call) -> Any:
    """The reference lists: each deal funnel's stage list, in funnel order."""
    shown = []
    for category in (await categories(call))[0]:
        number = category["id"]
        stages = await funnel(call, number)
        assert stages is not None
        entry: dict[str, Any] = {
            "ID": funnels.stage_entity(number),
            "NAME": f"{category['name']} deal stages",
        }
        if number:
            entry["PARENT_ID"] = funnels.DEAL_STAGE
        entry["SEMANTIC_INFO"] = {
            "START_FIELD": stages.first,
            "FINAL_SUCCESS_FIELD": stages.final("S"),
            "FINAL_UNSUCCESS_FIELD": stages.final("F"),
            "FINAL_SORT": 0,
        }
        if number:
            entry["PREFIX"] = f"C{number}"
        # The page prints the general funnel's CATEGORY_ID as a number, the others' as strings.
        entry.update(
            FIELD_ATTRIBUTE_SCOPE=f"category_{number}" if number else "",
            ENTITY_TYPE_ID=DEAL,
            CATEGORY_ID=str(number) if number else 0,
        )
        shown.append(entry)
    return shown


def _fields(call: Call) -> dict[str, Any]:
    fields = call.params.get("fields")
    if not isinstance(fields, dict):
        raise errors.LegacyCrmError("Parameter 'fields' must be array.")
    return {k.upper(): v for k, v in fields.items()}


@table.method("crm.status.add", page="crm-status-add.md")
async def status_add(call: Call) -> Any:
    """A new stage (SYSTEM `N`), its code prefixed with its funnel's (`C1:`); answers its id."""
    fields = _fields(call)
    missing = [
        f"The field {k} is required." for k in ("ENTITY_ID", "STATUS_ID") if not fields.get(k)
    ]
    if missing:
        # crm-status-add.md: both messages in the same response when both are missing.
        raise errors.LegacyCrmError("<br>".join(missing))
    entity = str(fields["ENTITY_ID"])
    category = funnels.category_of_entity(entity)
    stages = await funnel(call, category) if category is not None else None
    if category is None or stages is None:
        raise errors.LegacyCrmError("Specified entity type is not supported.")
    if not fields.get("NAME"):
        raise errors.LegacyCrmError("The field Title is required.")
    code = str(fields["STATUS_ID"])
    if not _STAGE_CODE.match(code.removeprefix(funnels.prefix(category))):
        raise errors.LegacyCrmError("Error on creating status.")
    status_id = funnels.prefixed(category, code)
    if stages.has(status_id):
        raise errors.StatusExists()
    semantics = fields.get("SEMANTICS") if fields.get("SEMANTICS") in ("S", "F") else None
    sort = coerce.to_int(fields.get("SORT")) if fields.get("SORT") not in (None, "") else 10
    sort = 10 if sort is None else sort
    won = await _won_sort(call, entity, stages.final("S"))
    if semantics is None and won is not None and sort > won:
        raise errors.LegacyCrmError(_AFTER_WON)
    values = {
        "entity_id": entity, "status_id": status_id, "name": fit_text("name", str(fields["NAME"])),
        "name_init": "", "sort": sort, "system": "N", "category_id": category or None,
        "color": _text(fields.get("COLOR")), "semantics": semantics,
    }  # fmt: skip
    return await call.store.insert(call.portal, "crm_statuses", values)


async def _won_sort(call: Call, entity: str, won: str | None) -> int | None:
    if won is None:
        return None
    found = await call.store.list(
        ListQuery(table="crm_statuses", portal_id=call.portal, columns=["sort"],
                  conditions=[Condition("entity_id", "=", entity),
                              Condition("status_id", "=", won)],
                  limit=1, count=False)
    )  # fmt: skip
    return int(found.rows[0]["sort"]) if found.rows else None


@table.method("crm.status.update", page="crm-status-update.md")
async def status_update(call: Call) -> Any:
    """Change a value's NAME, SORT or COLOR; other fields are ignored."""
    row = await _status(call)
    fields = _fields(call)
    values: Row = {}
    if fields.get("NAME") not in (None, ""):
        values["name"] = fit_text("name", str(fields["NAME"]))
    if "SORT" in fields and coerce.to_int(fields["SORT"]) is not None:
        values["sort"] = coerce.to_int(fields["SORT"])
    if "COLOR" in fields:
        values["color"] = _text(fields["COLOR"])
    if await call.store.update(call.portal, "crm_statuses", row["id"], values) is None:
        raise errors.LegacyCrmError("Status is not found.")
    return True


@table.method("crm.status.delete", page="crm-status-delete.md")
async def status_delete(call: Call) -> Any:
    """Delete a value no deal is in; a system one only with `params[FORCED]=Y`."""
    row = await _status(call)
    options = call.params.get("params")
    forced = isinstance(options, dict) and coerce.to_flag(options.get("FORCED")) is True
    if row["system"] == "Y" and not forced:
        raise errors.LegacyCrmError(
            "CRM System Status can be deleted only if parameter FORCED is specified and equal "
            'to "Y".'
        )
    if funnels.category_of_entity(row["entity_id"]) is not None:
        held = await call.store.list(
            ListQuery(table="deals", portal_id=call.portal, columns=["id"], limit=1, count=False,
                      conditions=[Condition("stage_id", "=", row["status_id"])])
        )  # fmt: skip
        if held.rows:
            raise errors.LegacyCrmError("There are active items in this status.")
    await call.store.delete(call.portal, "crm_statuses", row["id"])
    return True


@table.method("crm.dealcategory.stage.list", doc=OLD_DOCS + "crm-deal-category-stage-list.md")
async def dealcategory_stage_list(call: Call) -> Any:
    """A funnel's stages (id 0 or none: the general funnel's; an unknown funnel: none), SORT as
    a string."""
    category = coerce.to_int(call.params.get("id") or 0)
    if category is None or category < 0 or await funnel(call, category) is None:
        return []
    rows = await _entity_stages(call, funnels.stage_entity(category))
    return [{"NAME": r["name"], "SORT": str(r["sort"]), "STATUS_ID": r["status_id"]} for r in rows]
