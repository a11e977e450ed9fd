"""The sale module's families (orders, their contents, payer types, order properties and values):
`{"personType": ...}`-style envelopes, typed values, code 0 for a value a field cannot hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from orderlink import errors
from orderlink.families.family import Events, Family, plural
from orderlink.families.handlers import crud, no_events, serve
from orderlink.families.readers import positive_id, sale_fields
from orderlink.records import values as wire
from orderlink.records.projection import View
from orderlink.records.reading import ErrorFactory, Unreadable
from orderlink.registry import MethodTable, Role
from orderlink.schema import Field, Schema, flag_descriptors


def sale_value(f: Field, value: Any, zone: tzinfo) -> Any:
    """sale.* typed values, except a number the page types `string` (`sort`) prints as one."""
    if f.kind == "int" and f.type == "string" and value is not None:
        return str(value)
    return wire.typed(f, value, zone)


def invalid(name: str, exc: Unreadable) -> errors.B24Error:
    return errors.SaveError(f'Invalid value for field "{name}"')


def _descriptor(f: Field) -> dict[str, Any]:
    return flag_descriptors((f,))[f.name]


def _view(schema: Schema) -> View:
    return View(schema, tuple(f.name for f in schema), sale_value, str, str)


def sale_family(
    schema: Schema,
    envelope: str,
    not_found: Callable[[], errors.B24Error],
    *,
    view: View | None = None,
    invalid: ErrorFactory = invalid,
    events: Events = no_events,
    **hooks: Any,
) -> Family:
    """A sale family: `{envelope: ...}` answers (a list's rows in `{plural(envelope): [...]}`),
    add and update answer the row, delete `true`; `view` prints it (default: every field in the
    schema's order, `sale_value`); no events unless `events` raises them."""
    return Family(
        schema=schema,
        view=view or _view(schema),
        list_schema=schema,
        list_view=None,
        read_id=positive_id(not_found, missing=errors.IdNotSpecified),
        read_fields=sale_fields,
        not_found=not_found,
        invalid=invalid,
        list_error=errors.SaveError,
        events=events,
        descriptor=_descriptor,
        envelope=envelope,
        list_envelope=plural(envelope),
        fields_envelope=envelope,
        answers=("entity", "entity", "true"),
        **hooks,
    )


# What a sale family's methods say where the family says nothing else (`crud`'s templates).
SUMMARIES = {
    "get": "One {noun}.",
    "list": "{Nouns} matching a filter, 50 per page, ascending by id unless told.",
    "fields": "Every {noun} field with its four descriptor flags.",
}


def serve_sale(
    table: MethodTable,
    family: Family,
    noun: str,
    *,
    docs: str = "",
    fields_name: str = "getFields",
    without: tuple[str, ...] = (),
    **summaries: str,
) -> None:
    """`serve` as the sale module serves a family: store managers read, store administrators
    write, digit codes as JSON numbers. The docs folder (the table's, unless `docs` names
    another) names the methods: `api-reference/sale/<folder>/` documents
    `sale.<folder without dashes>.*` on its pages `sale-<folder>-<action>.md`; a summary not
    given is the one `SUMMARIES` writes for `noun`."""
    docs = docs or table.docs
    folder = docs.rstrip("/").rsplit("/", 1)[-1]
    methods = crud(f"sale.{folder.replace('-', '')}", f"sale-{folder}", fields_name, noun=noun,
                   standard=SUMMARIES, without=without, **summaries)  # fmt: skip
    serve(table, family, methods, docs=docs, read_role=Role.STORE_MANAGER,
          write_role=Role.STORE_ADMIN, numeric_codes=True)  # fmt: skip
