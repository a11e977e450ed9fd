"""sale.persontype.*: the portal's payer types, rows of their own (every portal starts with two).

Pages: api-reference/sale/person-type/{sale-person-type-add,sale-person-type-update,
sale-person-type-get,sale-person-type-list,sale-person-type-delete,
sale-person-type-get-fields}.md. Digit error codes print as JSON numbers, as on every sale page.
"""

from __future__ import annotations

from orderlink import errors
from orderlink.families.handlers import exists
from orderlink.families.readers import positive_id
from orderlink.families.sale import sale_family, serve_sale
from orderlink.records.reading import Changes
from orderlink.registry import Call, MethodTable
from orderlink.schema import Schema, named
from orderlink.storage.base import Row

table = MethodTable(scope="sale", docs="api-reference/sale/person-type/")

# sale-person-type-get-fields.md, in its order. `sort` is a `string` there and in every answer
# ("100"), but a number in the store, so that lists order and compare it as one.
SCHEMA = Schema(
    "person_types",
    [
        named("active", "flag", "string", empty="Y"),
        named("code", "text", "string"),
        named("id", "int", "integer", flags="O"),
        named("name", "text", "string", flags="R"),
        named("sort", "int", "string", empty=150),
        named("xmlId", "text", "string"),
    ],
)


async def _check(call: Call, changes: Changes) -> None:
    # sale-person-type-add.md: `code` "Must be unique"; its error example is this one. An update
    # that keeps a type's own code is no clash (the id is not known here, so update compares
    # with every other row holding it: a type is the only holder of its code).
    code = changes.columns.get("code")
    if code and await exists(call, "person_types", "code", code, _updated_id(call)):
        raise errors.PersonTypeCodeExists()


def _updated_id(call: Call) -> int:
    try:
        return positive_id(errors.PersonTypeNotFound)(call.params)
    except errors.B24Error:
        return 0


async def _deleting(call: Call, row: Row) -> None:
    # sale-person-type-delete.md: a type an order uses cannot be deleted.
    type_id = int(row["id"])
    if await exists(call, "orders", "person_type_id", type_id):
        raise errors.PersonTypeInUse(f"The payer type with ID={type_id} is used in orders")


PERSON_TYPES = sale_family(
    SCHEMA,
    "personType",
    errors.PersonTypeNotFound,
    required=("name",),
    update_required=("name",),
    check=_check,
    deleting=_deleting,
)

serve_sale(
    table,
    PERSON_TYPES,
    "payer type",
    add="Create a payer type (`sort` 150 and `active` Y unless given); answers it whole.",
    update="Change a payer type; `name` must be given every time.",
    # The page's example lacks the `result` wrapper its "Returned Data" table and the
    # sibling pages show; orderlink answers {"result": {"personTypes": [...]}, "total": ...}.
    list=(
        "Payer types matching a filter, 50 per page (every portal starts with 1 "
        "Individual and 2 Legal Entity)."
    ),
    delete="Delete a payer type no order uses.",
)
