"""The `id` and `fields` parameters, read the way each protocol dialect reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderlink import coerce, errors
from orderlink.records.reading import Unreadable, fields_object
from orderlink.schema import Schema

Params = dict[str, Any]


def positive_id(
    bad: Callable[[], errors.B24Error], missing: Callable[[], errors.B24Error] | None = None
) -> Callable[[Params], int]:
    """A reader of `id`: a positive integer, else `bad()`; `missing()` when it is not given at
    all, where the family tells the two apart (sale.order: IdNotSpecified)."""

    def read(params: Params) -> int:
        raw = params.get("id")
        if missing is not None and (raw is None or raw == "" or raw == []):
            raise missing()
        number = coerce.to_int(raw)
        if number is None or number <= 0:
            raise bad()
        return number

    return read


def id_or_zero(params: Params) -> int:
    """The crm module's invoice REST service reads a missing or bad id as 0 (not found)."""
    return coerce.to_int(params.get("id")) or 0


def sale_fields(params: Params) -> dict[str, Any]:
    """sale.*: `fields` missing or empty is FieldsNotSpecified."""
    raw = params.get("fields")
    if raw is None or raw == "" or raw == [] or raw == {}:
        raise errors.FieldsNotSpecified()
    fields = fields_object(raw)
    if fields is None:
        raise errors.FieldsNotSpecified("Parameter `fields` must be an object")
    return fields


def object_param(name: str, *, optional: bool = False) -> Callable[[Params], dict[str, Any]]:
    """A reader of the object `name` as crm.item.* and the universal methods read `fields`: it
    must be given (`optional`: left out, nothing changes; crm-type-update.md,
    userfieldconfig-update.md); `""` is an empty object."""

    def read(params: Params) -> dict[str, Any]:
        raw = params.get(name)
        if raw is None:
            if optional:
                return {}
            raise errors.MissingParameter(name)
        found = fields_object(raw if raw != "" else [])
        if found is None:
            raise errors.InvalidArgValue(f"Invalid value of parameter {{{name}}}")
        return found

    return read


item_fields = object_param("fields")


def legacy_fields(params: Params) -> dict[str, Any]:
    """Legacy crm.*: `fields` (and `params`, when given) must be arrays."""
    fields = fields_object(params.get("fields"))
    if fields is None:
        raise errors.LegacyCrmError("Parameter 'fields' must be array.")
    extra = params.get("params")
    if extra not in (None, "") and fields_object(extra) is None:
        raise errors.LegacyCrmError("Parameter 'params' must be array.")
    return fields


def top_level(params: Params) -> Params:
    """Top-level names in any case: the cURL examples send `FIELDS`/`ID`, the tables `fields`."""
    out: Params = {}
    for key, value in params.items():
        lowered = key.lower()
        if lowered not in out or key == lowered:
            out[lowered] = value
    return out


def legacy_invalid(schema: Schema) -> Callable[[str, Unreadable | None], errors.B24Error]:
    """Legacy crm.*'s error for a value its field cannot hold: crm-deal-add.md's
    `Invalid value for the "Currency" field` names the field by its title."""

    def invalid(name: str, exc: Unreadable | None = None) -> errors.B24Error:
        found = schema.get(name)
        title = found.title if found else name
        return errors.LegacyCrmError(f'Invalid value for the "{title}" field')

    return invalid
