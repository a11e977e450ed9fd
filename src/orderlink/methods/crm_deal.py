"""crm.deal.*: legacy deals, UPPER_SNAKE fields and every value a string; and the deal rules
crm.item (entityTypeId 2) shares, since both read the same `deals` rows.

Pages: api-reference/crm/deals/{crm-deal-add,crm-deal-get,crm-deal-list,crm-deal-update,
crm-deal-delete,crm-deal-fields}.md, api-reference/crm/main-entities-fields.md (stages).
Errors carry an empty code and the documented text. Every portal user has CRM rights here.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from orderlink import coerce, errors, events, listing, records
from orderlink.methods.sale_order import BASE_CURRENCY, CURRENCY_CODES
from orderlink.registry import Call, MethodTable, Page
from orderlink.schema import Field, Schema, described
from orderlink.storage.base import Row, Store

table = MethodTable()

DOCS = "api-reference/crm/deals/"
DAY = 86400


_f = described  # the crm.*.fields entries of this family


# crm-deal-fields.md, in its order, with its titles, statusType and settings.
SCHEMA = Schema(
    "deals",
    [
        _f("ID", "id", "int", "integer", "ID", "O"),
        _f("TITLE", "title", "text", "string", "Title", empty=""),
        _f("TYPE_ID", "type_id", "text", "crm_status", "Type", statusType="DEAL_TYPE"),
        _f("CATEGORY_ID", "category_id", "int", "crm_category", "Sales Funnel", "I", 0),
        _f("STAGE_ID", "stage_id", "text", "crm_status", "Deal Stage", "", "",
           statusType="DEAL_STAGE"),
        _f("STAGE_SEMANTIC_ID", "stage_semantic_id", "text", "string", "Stage Group", "O"),
        _f("IS_NEW", "is_new", "flag", "char", "New Deal", "O", "N"),
        _f("IS_RECURRING", "is_recurring", "flag", "char", "Recurring Deal", "", "N"),
        _f("IS_RETURN_CUSTOMER", "is_return_customer", "flag", "char", "Repeat Deal", "", "N"),
        _f("IS_REPEATED_APPROACH", "is_repeated_approach", "flag", "char", "Repeated Approach",
           "", "N"),
        _f("PROBABILITY", "probability", "int", "integer", "Probability"),
        _f("CURRENCY_ID", "currency_id", "text", "crm_currency", "Currency"),
        _f("OPPORTUNITY", "opportunity", "float", "double", "Amount", "", 0.0),
        _f("IS_MANUAL_OPPORTUNITY", "is_manual_opportunity", "flag", "char",
           "IS_MANUAL_OPPORTUNITY", "", "N"),
        _f("TAX_VALUE", "tax_value", "float", "double", "Tax Rate", "", 0.0),
        _f("COMPANY_ID", "company_id", "int", "crm_company", "Company", "", 0,
           settings={"parentEntityTypeId": 4}),
        _f("CONTACT_ID", "contact_id", "int", "crm_contact", "Contact", "", 0, isDeprecated=True),
        _f("CONTACT_IDS", "contact_ids", "json", "crm_contact", "Contacts", "M"),
        _f("QUOTE_ID", "quote_id", "int", "crm_quote", "Estimate", "O",
           settings={"parentEntityTypeId": 7}),
        _f("BEGINDATE", "begindate", "datetime", "date", "Start Date"),
        _f("CLOSEDATE", "closedate", "datetime", "date", "Close Date"),
        _f("OPENED", "opened", "flag", "char", "Available to All", "", "N"),
        _f("CLOSED", "closed", "flag", "char", "Closed", "", "N"),
        _f("COMMENTS", "comments", "text", "string", "Comment"),
        _f("ASSIGNED_BY_ID", "assigned_by_id", "int", "user", "Responsible"),
        _f("CREATED_BY_ID", "created_by_id", "int", "user", "Created By", "O"),
        _f("MODIFY_BY_ID", "modify_by_id", "int", "user", "Modified By", "O"),
        _f("MOVED_BY_ID", "moved_by_id", "int", "user", "MOVED_BY_ID", "O"),
        _f("DATE_CREATE", "date_create", "datetime", "datetime", "Creation Date", "O"),
        _f("DATE_MODIFY", "date_modify", "datetime", "datetime", "Modification Date", "O"),
        _f("MOVED_TIME", "moved_time", "datetime", "datetime", "MOVED_TIME", "O"),
        _f("SOURCE_ID", "source_id", "text", "crm_status", "Source", statusType="SOURCE"),
        _f("SOURCE_DESCRIPTION", "source_description", "text", "string",
           "Additional Info about Source"),
        _f("LEAD_ID", "lead_id", "int", "crm_lead", "Lead", "O",
           settings={"parentEntityTypeId": 1}),
        _f("ADDITIONAL_INFO", "additional_info", "text", "string", "Additional Information"),
        _f("LOCATION_ID", "location_id", "text", "location", "Location"),
        _f("ORIGINATOR_ID", "originator_id", "text", "string", "External Source"),
        _f("ORIGIN_ID", "origin_id", "text", "string", "Identifier in External Source"),
        _f("UTM_SOURCE", "utm_source", "text", "string", "Advertising System"),
        _f("UTM_MEDIUM", "utm_medium", "text", "string", "Traffic Type"),
        _f("UTM_CAMPAIGN", "utm_campaign", "text", "string", "Campaign Identifier"),
        _f("UTM_CONTENT", "utm_content", "text", "string", "Campaign Content"),
        _f("UTM_TERM", "utm_term", "text", "string", "Campaign Search Condition"),
        _f("LAST_ACTIVITY_TIME", "last_activity_time", "datetime", "datetime",
           "LAST_ACTIVITY_TIME", "O"),
        _f("LAST_ACTIVITY_BY", "last_activity_by", "int", "user", "LAST_ACTIVITY_BY", "O"),
    ],
    case_insensitive=True,
)  # fmt: skip
LIST_SCHEMA = records.listing_schema(SCHEMA)

# crm-deal-get.md's key order; CONTACT_IDS is never returned (crm-deal-fields.md).
VIEW = records.View(
    SCHEMA,
    (
        "ID", "TITLE", "TYPE_ID", "STAGE_ID", "PROBABILITY", "CURRENCY_ID", "OPPORTUNITY",
        "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "LEAD_ID", "COMPANY_ID", "CONTACT_ID", "QUOTE_ID",
        "BEGINDATE", "CLOSEDATE", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID",
        "DATE_CREATE", "DATE_MODIFY", "OPENED", "CLOSED", "COMMENTS", "ADDITIONAL_INFO",
        "LOCATION_ID", "CATEGORY_ID", "STAGE_SEMANTIC_ID", "IS_NEW", "IS_RECURRING",
        "IS_RETURN_CUSTOMER", "IS_REPEATED_APPROACH", "SOURCE_ID", "SOURCE_DESCRIPTION",
        "ORIGINATOR_ID", "ORIGIN_ID", "MOVED_BY_ID", "MOVED_TIME", "LAST_ACTIVITY_TIME",
        "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", records.PARENTS,
        "LAST_ACTIVITY_BY", records.UF,
    ),
    records.strings,
    uf_name=lambda name: name,
    parent_name=lambda type_id: f"PARENT_ID_{type_id}",
    dynamic_value=records.as_text,
    select_order=True,
)  # fmt: skip


# -- deal rules shared with crm.item (entityTypeId 2) -----------------------------------------


def first_stage(category: int) -> str:
    """Funnels other than the general one prefix their stages: `C1:NEW`."""
    return "NEW" if category == 0 else f"C{category}:NEW"


def first_stage_of(stage: str) -> str:
    """The first stage of the funnel `stage` belongs to."""
    prefix, _, _ = stage.rpartition(":")
    return f"{prefix}:NEW" if prefix else "NEW"


def stage_semantic(stage: str) -> str:
    """main-entities-fields.md: WON is S(uccess), LOSE and APOLOGY F(ailure), the rest P."""
    bare = stage.split(":", 1)[1] if ":" in stage else stage
    return "S" if bare == "WON" else "F" if bare in ("LOSE", "APOLOGY") else "P"


def _staged(values: Row, stage: str, user: int, now: int) -> None:
    semantic = stage_semantic(stage)
    values.update(
        stage_id=stage,
        stage_semantic_id=semantic,
        is_new="Y" if stage == first_stage_of(stage) else "N",
        moved_by_id=user,
        moved_time=now,
    )
    if semantic != "P":
        values["closed"] = "Y"
    elif "closed" not in values:
        values["closed"] = "N"


def sync_contacts(values: Row) -> None:
    """CONTACT_ID is the first of CONTACT_IDS (crm-deal-add.md sends [84,83], get shows 84)."""
    if "contact_ids" in values and "contact_id" not in values:
        ids = records.decode(values["contact_ids"])
        values["contact_id"] = ids[0] if ids else 0
    elif "contact_id" in values and "contact_ids" not in values:
        values["contact_ids"] = records.encode(
            [values["contact_id"]] if values["contact_id"] else []
        )


def new_deal(columns: Row, *, user: int, now: float, zone: tzinfo) -> Row:
    """A new deal's columns: the documented defaults (crm-deal-add.md, crm-item-add.md) under
    whatever the request set."""
    stamp = int(now)
    values: Row = {
        "category_id": 0,
        "currency_id": BASE_CURRENCY,
        "opened": "Y",
        "assigned_by_id": user,
        "created_by_id": user,
        "modify_by_id": user,
        "date_create": stamp,
        "date_modify": stamp,
        "last_activity_time": stamp,
        "last_activity_by": user,
        "begindate": records.today(now, zone),
        "closedate": records.today(now, zone, plus_days=7),
    }
    values.update({k: v for k, v in columns.items() if v is not None})
    sync_contacts(values)
    _staged(values, values.get("stage_id") or first_stage(values["category_id"]), user, stamp)
    return values


def changed_deal(old: Row, columns: Row, *, user: int, now: float) -> Row:
    """The columns an update writes: the request's, plus what follows from a stage or funnel
    change, plus who and when."""
    values = dict(columns)
    stamp = int(now)
    sync_contacts(values)
    category = int(values.get("category_id", old["category_id"]) or 0)
    stage = values.pop("stage_id", None) or (
        first_stage(category) if category != old["category_id"] else None
    )
    if stage and stage != old["stage_id"]:
        _staged(values, stage, user, stamp)
    values.update(modify_by_id=user, date_modify=stamp)
    return values


def title_template(values: Row, name: str) -> dict[str, str]:
    """`Deal #{id}` / `Invoice #{id}` for an untitled new row, filled in by the insert."""
    return {} if values.get("title") else {"title": name + " #{id}"}


async def delete_deal(store: Store, portal: int, deal_id: int, user: int, at: float) -> bool:
    """Delete a deal: its bindings go with it, invoices lose their link to it (Store.delete)."""
    emits = await events.wanted(store, portal, (events.deal("DELETE", user, at, deal_id),))
    return await store.delete(portal, "deals", deal_id, events=emits)


# -- parameters of the legacy families (crm.deal.*, crm.invoice.*) ----------------------------


def top_level(params: dict[str, Any]) -> dict[str, Any]:
    """Top-level names in any case: the cURL examples send `FIELDS`/`ID`, the tables `fields`."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        lowered = key.lower()
        if lowered not in out or key == lowered:
            out[lowered] = value
    return out


def legacy_id(params: dict[str, Any]) -> int:
    number = coerce.to_int(params.get("id"))
    if number is None or number <= 0:
        # crm-deal-delete.md's example prints the period the tables leave out.
        raise errors.LegacyCrmError("ID is not defined or invalid.")
    return number


def legacy_fields(params: dict[str, Any]) -> dict[str, Any]:
    fields = records.fields_object(params.get("fields"))
    if fields is None:
        raise errors.LegacyCrmError("Parameter 'fields' must be array.")
    extra = params.get("params")
    if extra not in (None, "") and records.fields_object(extra) is None:
        raise errors.LegacyCrmError("Parameter 'params' must be array.")
    return fields


# -- crm.deal.* --------------------------------------------------------------------------------


def _invalid(name: str, exc: records.Unreadable) -> errors.B24Error:
    # crm-deal-add.md: `Invalid value for the "Currency" field` names the field by its title.
    found = SCHEMA.get(name)
    return errors.LegacyCrmError(f'Invalid value for the "{found.title if found else name}" field')


def _read(call: Call, fields: dict[str, Any], *, update: bool) -> records.Changes:
    changes = records.read_fields(
        fields,
        SCHEMA,
        call.ctx.zone,
        # crm-deal-update.md leaves CATEGORY_ID out: the funnel changes through crm.item.update.
        accept=lambda f: not f.read_only and not (update and f.immutable),
        error=_invalid,
        dynamic=True,
    )
    currency = changes.columns.get("currency_id")
    if currency and currency not in CURRENCY_CODES:
        raise errors.LegacyCrmError('Invalid value for the "Currency" field')
    category = changes.columns.get("category_id")
    if category is not None and category < 0:
        raise errors.LegacyCrmError('Invalid value for the "Sales Funnel" field')
    return changes


@table.method("crm.deal.add", scope="crm", doc=DOCS + "crm-deal-add.md")
async def add(call: Call) -> Any:
    """Create a deal; answers its id as a number."""
    params = top_level(call.params)
    changes = _read(call, legacy_fields(params), update=False)
    values = new_deal(
        changes.merged({}),
        user=call.principal.user_id,
        now=call.ctx.clock.now(),
        zone=call.ctx.zone,
    )
    emits = (events.deal("ADD", call.principal.user_id, call.ctx.clock.now()),)
    return await call.store.insert(
        call.portal,
        "deals",
        values,
        templates=title_template(values, "Deal"),
        events=await events.wanted(call.store, call.portal, emits),
    )


@table.method("crm.deal.get", scope="crm", doc=DOCS + "crm-deal-get.md")
async def get(call: Call) -> Any:
    """One deal, every value a string, with its custom fields."""
    row = await call.store.get(call.portal, "deals", legacy_id(top_level(call.params)))
    if row is None:
        raise errors.LegacyCrmError("Not found")
    return VIEW.render(row, call.ctx.zone)


@table.method("crm.deal.update", scope="crm", doc=DOCS + "crm-deal-update.md")
async def update(call: Call) -> Any:
    """Change the fields given; others stay as they are."""
    params = top_level(call.params)
    deal_id = legacy_id(params)
    fields = legacy_fields(params)
    old = await call.store.get(call.portal, "deals", deal_id)
    if old is None:
        raise errors.LegacyCrmError("Not found")
    changes = _read(call, fields, update=True)
    values = changed_deal(
        old, changes.merged(old), user=call.principal.user_id, now=call.ctx.clock.now()
    )
    emits = (events.deal("UPDATE", call.principal.user_id, call.ctx.clock.now(), deal_id),)
    wanted = await events.wanted(call.store, call.portal, emits)
    if await call.store.update(call.portal, "deals", deal_id, values, events=wanted) is None:
        raise errors.LegacyCrmError("Not found")
    return True


@table.method("crm.deal.delete", scope="crm", doc=DOCS + "crm-deal-delete.md")
async def delete(call: Call) -> Any:
    """Delete a deal and the bindings of orders to it."""
    user, at = call.principal.user_id, call.ctx.clock.now()
    if not await delete_deal(call.store, call.portal, legacy_id(top_level(call.params)), user, at):
        raise errors.LegacyCrmError("Not found")
    return True


async def legacy_list(
    call: Call, view: records.View, schema: Schema, *, newest_first: bool
) -> Page:
    """One page of a legacy `crm.*.list`: a bare array, `*` and `UF_*` selected by default."""
    params = top_level(call.params)
    selection = view.selection(params.get("select"), uf_mask="UF_*")
    parsed = listing.parse(
        {
            "select": view.engine_select(selection),
            "filter": params.get("filter"),
            "order": params.get("order"),
            "start": params.get("start"),
        },
        schema,
        portal_id=call.portal,
        error=errors.LegacyCrmError,
        zone=call.ctx.zone,
        default_order=(("id", newest_first),),
        tie_breaker="id",
        start_minus_one=call.ctx.settings.start_minus_one,
        custom=records.CUSTOM_FIELDS,
    )
    found = await call.store.list(parsed.query)
    rows = [view.render(row, call.ctx.zone, selection) for row in found.rows]
    total, following = parsed.page(found)
    return Page(rows, total, following)


@table.method("crm.deal.list", scope="crm", doc=DOCS + "crm-deal-list.md")
async def list_(call: Call) -> Any:
    """Deals matching a filter, 50 per page, oldest first: a bare array, `*`, `UF_*` by default."""
    # crm-deal-list.md lists no `!%`, `!=%`, `!%=` prefixes; they are accepted here as on every
    # other list page (crm-item-list.md, sale-order-list.md) rather than read as field names.
    return await legacy_list(call, VIEW, LIST_SCHEMA, newest_first=False)


@table.method("crm.deal.fields", scope="crm", doc=DOCS + "crm-deal-fields.md")
async def get_fields(call: Call) -> Any:
    """Every deal field with its descriptor (no `upperName`, as the page prints them)."""
    return {f.name: descriptor(f, upper_name=None) for f in SCHEMA}


def descriptor(f: Field, *, upper_name: str | None) -> dict[str, Any]:
    """crm_rest_field_description in the key order crm-deal-fields.md / crm-item-fields.md print."""
    out: dict[str, Any] = {
        "type": f.type,
        "isRequired": f.required,
        "isReadOnly": f.read_only,
        "isImmutable": f.immutable,
        "isMultiple": f.multiple,
        "isDynamic": False,
    }
    if f.extra.get("isDeprecated"):
        out["isDeprecated"] = True
    if "statusType" in f.extra:
        out["statusType"] = f.extra["statusType"]
    out["title"] = f.title
    if "settings" in f.extra:
        out["settings"] = f.extra["settings"]
    if upper_name is not None:
        out["upperName"] = upper_name
    return out
