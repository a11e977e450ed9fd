"""user.*: the portal's users, as user.get, user.search, user.fields and user.current print them,
and user.add/user.update writing them.

Pages: api-reference/user/{user-get,user-search,user-fields,user-current,user-add,user-update,
user-scope}.md. The rules read like the portal's own user service, which these pages describe:
the parameters' names in any case; the filter is `FILTER` when it is an object, else the
request's own top-level names (user-get.md's example sends `UF_DEPARTMENT` beside `SORT`); a
name that is no field of the caller's scope is skipped, never refused; `SORT` + `ORDER` order
the list (ID ascending otherwise); 50 a page by `start`; an empty page is a bare `[]`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any

import orjson

from orderlink import coerce, errors, listing
from orderlink.families.handlers import parse_list
from orderlink.records import days
from orderlink.registry import Call, MethodTable, Page
from orderlink.rules import users
from orderlink.schema import Field, Kind, Schema
from orderlink.storage.base import Condition, ConditionGroup, ListQuery, Row

table = MethodTable(docs="api-reference/user/")

_KINDS: dict[str, Kind] = {"ID": "int", "ACTIVE": "flag", "DATE_REGISTER": "datetime",
                           "PERSONAL_BIRTHDAY": "datetime"}  # fmt: skip
# What the users table stores (the UF_* values in `user_fields`); LAST_LOGIN, IS_ONLINE,
# TIMESTAMP_X and LAST_ACTIVITY_DATE are not kept, files are not stored.
_UNSTORED = frozenset({"LAST_LOGIN", "IS_ONLINE", "TIMESTAMP_X", "LAST_ACTIVITY_DATE"})
STORED = tuple(name for name in users.FIELDS if name not in users.CUSTOM | users.FILES | _UNSTORED)
SCHEMA = Schema(
    "users",
    [Field(n, users.column(n), _KINDS.get(n, "text"), "string") for n in STORED],
)
_COLUMNS = [*(f.column for f in SCHEMA), "user_fields"]
_WORD = re.compile(r"\S+")


def _scope_of(call: Call) -> str:
    # Dispatch let the call in, so the caller has one of the three (principal.IMPLIED).
    return users.strongest(call.principal.scopes) or users.BRIEF


def _upper(raw: Any) -> dict[str, Any]:
    """A PHP array's keys upper-cased (the portal's `array_change_key_case`)."""
    if isinstance(raw, list):
        raw = {str(index): value for index, value in enumerate(raw)}
    return {str(key).upper(): value for key, value in raw.items()} if isinstance(raw, dict) else {}


# -- rendering --------------------------------------------------------------------------------


def _day(value: Any, call: Call) -> str:
    if value is None:
        return ""
    of = datetime.fromtimestamp(int(value), call.ctx.zone).date()
    return coerce.iso(float(days.midnight(of, call.ctx.zone)), call.ctx.zone)


def render(
    call: Call, row: Row, names: tuple[str, ...], *, always: frozenset[str] = users.ALWAYS
) -> dict[str, Any]:
    """One user as user.get prints it: `names` in order, each key only when the profile holds a
    value for it, except the ones every answer has (`always`)."""
    me = int(row["id"]) == call.principal.user_id
    custom = orjson.loads(row.get("user_fields") or "{}")
    out: dict[str, Any] = {}
    for name in names:
        value: Any
        if name == "ID":
            value = str(row["id"])
        elif name == "ACTIVE":
            value = row["active"] == "Y"
        elif name == "DATE_REGISTER":
            # A user made before registration dates were kept: the Unix epoch's day.
            value = _day(row["date_register"] or 0, call)
        elif name == "PERSONAL_BIRTHDAY":
            value = _day(row["personal_birthday"], call)
        elif name == "LAST_LOGIN":
            # No sessions here: the caller is the one user known to be signed in right now.
            value = coerce.iso(call.ctx.clock.now(), call.ctx.zone) if me else ""
        elif name == "IS_ONLINE":
            value = "Y" if me else "N"
        elif name in users.OPAQUE_DATES:
            value = {}  # user-get.md's example prints these two dates as `{}`
        elif name in users.FILES:
            value = None
        elif name in users.CUSTOM:
            value = custom.get(name, "" if name == "UF_EMPLOYMENT_DATE" else None)
        else:
            value = row.get(users.column(name))
        if value is None and name in always:
            value = ""
        if value is not None:
            out[name] = value
    return out


# -- the filter -------------------------------------------------------------------------------


class _Never(Exception):
    """A condition no user meets (user-get.md: a date that is no date retrieves no records)."""


def _filter_source(params: dict[str, Any]) -> dict[str, Any]:
    found = params.get("FILTER")
    if isinstance(found, dict) or (isinstance(found, list) and found):
        return _upper(found)
    return params


def _engine_filter(
    source: dict[str, Any], visible: frozenset[str], *, search: bool, zone: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(conditions for the listing engine, the special keys) from the portal's filter."""
    engine: dict[str, Any] = {}
    special: dict[str, Any] = {}
    specials = {"IS_ONLINE", "HAS_DEPARTAMENT", "NAME_SEARCH"} | (
        {"FIND", "UF_DEPARTMENT_NAME"} if search else set()
    )
    for key, value in source.items():
        prefix, name = listing.split_key(key, SCHEMA)
        if name in specials:
            special[name] = value
            continue
        if name not in visible or name in users.FILES or name in _UNSTORED:
            continue
        if search and not prefix and name in users.SEARCHED:
            special[name] = value  # user-search.md: matched from the start of the value
            continue
        if name == "ID":
            value = _ids(value)
        elif name == "ACTIVE":
            value = users.active_flag(value)
            prefix = prefix or "="
        elif name in ("DATE_REGISTER", "PERSONAL_BIRTHDAY"):
            values = value if isinstance(value, list) else [value]
            if any(coerce.to_datetime(v, zone) is None for v in values):
                raise _Never
        elif not (prefix or name in users.CUSTOM or name == "USER_TYPE" or _many(value)):
            # A string field without a prefix compares as LIKE with the value's own wildcards:
            # user-get.md filters `"NAME": "Iv%"` for "a name starting with".
            prefix = "=%"
        engine[prefix + name] = value
    return engine, special


def _many(value: Any) -> bool:
    return isinstance(value, list | dict)


def _ids(value: Any) -> Any:
    """ID values as the portal reads them, PHP's intval: a non-number is 0 (matches nobody)."""
    if isinstance(value, list):
        return [_ids(item) for item in value]
    if isinstance(value, dict):
        return [_ids(item) for item in value.values()]
    number = coerce.to_int(value)
    if number is None and isinstance(value, str):
        match = re.match(r"\s*[+-]?\d+", value)
        number = int(match.group()) if match else 0
    return number if number is not None else 0


def _right_like(column: str, text: str) -> Condition:
    escaped = text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    return Condition(column, "like", escaped + "%")


def _special_conditions(
    call: Call, special: dict[str, Any], visible: frozenset[str]
) -> list[Condition | ConditionGroup]:
    found: list[Condition | ConditionGroup] = []
    if "IS_ONLINE" in special:
        online = users.active_flag(special["IS_ONLINE"]) == "Y"
        found.append(Condition("id", "=" if online else "!=", call.principal.user_id))
    if special.get("HAS_DEPARTAMENT") == "Y":
        found.append(Condition("user_fields", "!=", None, key="UF_DEPARTMENT"))
    find = special.get("NAME_SEARCH", special.get("FIND"))
    if find is not None:
        # user-search.md: every word of FIND is looked for in the name fields (from their
        # start) or is the user's ID; a word found nowhere leaves the user out.
        for word in _WORD.findall(coerce.to_text(find) or ""):
            number = coerce.to_int(word)
            either: list[Condition | ConditionGroup] = [
                _right_like(users.column(name), word) for name in users.SEARCHED if name in visible
            ]
            if number is not None:
                either.append(Condition("id", "=", number))
            found.append(ConditionGroup("or", tuple(either)))
        return found
    for name in users.SEARCHED:
        text = coerce.to_text(special.get(name)) if name in special else None
        if text:
            found.append(_right_like(users.column(name), text))
    if special.get("UF_DEPARTMENT_NAME"):
        # Departments have no names here (department.* is not served): nobody is in one.
        found.append(Condition("id", "=", 0))
    return found


# -- the methods ------------------------------------------------------------------------------


async def _list(call: Call, *, search: bool) -> Any:
    params = _upper(call.params)
    scope = _scope_of(call)
    names = users.visible(scope)
    visible = frozenset(names)
    try:
        engine, special = _engine_filter(
            _filter_source(params), visible, search=search, zone=call.ctx.zone
        )
    except _Never:
        return []
    sort = params.get("SORT")
    direction = params.get("ORDER")
    order: dict[str, str] = {}
    if isinstance(sort, str) and isinstance(direction, str) and sort.upper() in visible:
        wanted = direction.strip().upper()
        order[sort.upper()] = "DESC" if wanted == "DESC" else "ASC"
    parsed = parse_list(
        call,
        {"filter": engine, "order": order, "start": params.get("START")},
        SCHEMA,
        error=errors.UserArgumentError,
        default_order=(("id", False),),
        custom=listing.CustomFields(
            "user_fields", lambda name: name if name in users.CUSTOM & visible else None
        ),
    )
    conditions = (*parsed.query.conditions, *_special_conditions(call, special, visible))
    query = dataclasses.replace(parsed.query, columns=_COLUMNS, conditions=conditions)
    found = await call.store.list(query)
    if not found.rows:
        return []  # the portal's answer for an empty page: no `total`
    shown = _selected(params.get("SELECT"), names)
    rows = [render(call, row, shown) for row in found.rows]
    total, following = parsed.page(found)
    return Page(rows, total, following)


def _selected(raw: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """user-get.md's `select`: the scope's fields that are named, `*` all, `UF_*` the custom
    ones; unknown names are skipped."""
    wanted = set(listing.names(raw))
    if not wanted or "*" in wanted:
        return names
    picked = tuple(n for n in names if n in wanted or ("UF_*" in wanted and n in users.CUSTOM))
    return picked or names


@table.method("user.get", scope=users.BRIEF, page="user-get.md")
async def user_get(call: Call) -> Any:
    """Users by filter, 50 a page, with the fields the caller's user scope reveals."""
    return await _list(call, search=False)


@table.method("user.search", scope=users.BRIEF, page="user-search.md")
async def user_search(call: Call) -> Any:
    """user.get with FIND and the name fields matched from their start."""
    return await _list(call, search=True)


@table.method("user.fields", scope=users.BRIEF, page="user-fields.md")
async def user_fields(call: Call) -> Any:
    """The profile fields the caller's user scope reveals, with their titles."""
    return {name: users.TITLES[name] for name in users.visible(_scope_of(call))}


# user-current.md's keys, which it prints whether set or not (dates as text, not `{}`).
_CURRENT_ALWAYS = users.ALWAYS | {"XML_ID", "TIME_ZONE"}


@table.method("user.current", scope=users.BRIEF, page="user-current.md")
async def user_current(call: Call) -> Any:
    """The calling user's record, with the fields its user scope reveals."""
    row = await call.store.get(call.portal, "users", call.principal.user_id)
    if row is None:  # the credential's user is gone (cannot happen through the CLI)
        raise errors.UserCoreError()
    names = users.visible(_scope_of(call))
    shown = render(call, row, names, always=_CURRENT_ALWAYS & frozenset(names))
    registered = shown.get("DATE_REGISTER")
    for name in users.OPAQUE_DATES & frozenset(names):
        # The page prints them as dates; no activity or change time is kept: registration.
        shown[name] = registered if registered else coerce.iso(0.0, call.ctx.zone)
    return shown


# -- writes -----------------------------------------------------------------------------------


def profile_columns(fields: dict[str, Any], zone: Any) -> Row:
    """The users columns a user.add/user.update request writes (names already upper-case);
    unknown names, read-only ones and files are skipped, as the portal skips them."""
    columns: Row = {}
    custom: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in users.TITLES or name in users.READ_ONLY or name in users.FILES:
            continue
        if (name.startswith(("PERSONAL_", "WORK_")) and name != "PERSONAL_BIRTHDAY"
                and not isinstance(value, str)):  # fmt: skip
            # The portal's own type check (user-add.md lists it among ERROR_ARGUMENT).
            raise errors.UserArgumentError("invalid_type_field")
        if name in users.CUSTOM:
            if name == "UF_DEPARTMENT" and not isinstance(value, list) and value not in ("", None):
                value = [value]
            custom[name] = value
        elif name == "ACTIVE":
            columns["active"] = users.active_flag(value)
        elif name == "PERSONAL_BIRTHDAY":
            columns["personal_birthday"] = days.day(value, zone) if value else None
        else:
            text = coerce.to_text(value)
            if text is None:
                raise errors.UserArgumentError("invalid_type_field")
            columns[users.column(name)] = text.strip() if name == "EMAIL" else text
    if custom:
        columns["user_fields"] = custom  # merged with the stored values by the caller
    return columns


async def _email_taken(call: Call, email: str, other_than: int = 0) -> bool:
    query = ListQuery(
        "users", call.portal, ["id"],
        [Condition("email", "like", listing.like_pattern(email, True).replace("%", "\\%")),
         Condition("id", "!=", other_than)],
        limit=1, count=False,
    )  # fmt: skip
    return bool((await call.store.list(query)).rows)


@table.method("user.add", scope=users.FULL, page="user-add.md")
async def user_add(call: Call) -> Any:
    """Invite a user: its e-mail is required and unique; answers the new id."""
    if not call.principal.is_admin:
        raise errors.UserCoreError()
    fields = _upper(call.params)
    email = coerce.to_text(fields.get("EMAIL")) or ""
    if not users.valid_email(email.strip()):
        raise errors.UserArgumentError("wrong_email")
    columns = profile_columns(fields, call.ctx.zone)
    if await _email_taken(call, columns["email"]):
        raise errors.UserArgumentError("A user with this email already exists")
    custom = columns.pop("user_fields", {})
    if not custom.get("UF_DEPARTMENT"):
        # user-add.md: an intranet user must be given UF_DEPARTMENT (extranet users, which
        # need workgroups, are not served here).
        raise errors.UserArgumentError("no_extranet_field")
    columns["user_fields"] = orjson.dumps(custom).decode()
    name = str(columns.pop("name", ""))
    user = await call.store.add_user(
        call.portal, name, 0, profile=columns, now=call.ctx.clock.now()
    )
    return user.id


@table.method("user.update", scope=users.FULL, page="user-update.md")
async def user_update(call: Call) -> Any:
    """Change a user's profile (an administrator any user's, a user its own but its activity).

    A user that is not an administrator cannot change its own ACTIVE or UF_DEPARTMENT."""
    fields = _upper(call.params)
    user_id = _ids(fields.get("ID"))
    if not isinstance(user_id, int) or user_id <= 0:
        raise errors.UserCoreError()
    admin = call.principal.is_admin
    if not admin and user_id != call.principal.user_id:
        raise errors.UserCoreError()
    old = await call.store.get(call.portal, "users", user_id)
    if old is None:
        raise errors.UserCoreError("")  # user-update.md: an empty text for a wrong ID
    columns = profile_columns(fields, call.ctx.zone)
    if not admin:
        columns.pop("active", None)
        columns.get("user_fields", {}).pop("UF_DEPARTMENT", None)
    if "email" in columns:
        if not users.valid_email(columns["email"]):
            raise errors.UserArgumentError("wrong_email")
        if await _email_taken(call, columns["email"], other_than=user_id):
            raise errors.UserArgumentError("A user with this email already exists")
    if "user_fields" in columns:
        merged = {**orjson.loads(old["user_fields"] or "{}"), **columns["user_fields"]}
        columns["user_fields"] = orjson.dumps(merged).decode()
    if not await call.store.update_user(call.portal, user_id, columns):
        raise errors.UserCoreError("")
    return True
