"""Field schemas: what an entity's fields are called on the wire, where they are stored, their type.

A method family renders the same stored value its own way (sale.order: numbers, crm.deal: strings,
crm.item: typed), so a field records the stored kind and the documented descriptor, and each
family's module does its rendering.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

# How a value is stored and compared: the listing engine coerces filter values by this.
Kind = Literal["int", "float", "text", "flag", "datetime", "json"]

FILTER_OPS: tuple[str, ...] = (
    "!%=", "!=%", ">=", "<=", "!@", "=%", "%=", "!%", "!=", ">", "<", "@", "%", "=", "!",
)  # fmt: skip


# How long a stored string may be, as a portal's MySQL columns are declared: most strings are
# varchar(255), counted in characters; comments and descriptions are TEXT, 65,535 bytes. A
# portal runs MySQL without strict mode (Bitrix's server requirements refuse
# STRICT_TRANS_TABLES), so a longer value is cut to fit and the call succeeds.
VARCHAR_CHARS = 255
TEXT_BYTES = 65_535
LONG_TEXT_COLUMNS = frozenset(
    {"comments", "source_description", "additional_info", "user_description"}
)


def fit_text(column: str, text: str) -> str:
    """`text` cut as the portal's column would store it (see VARCHAR_CHARS)."""
    if column not in LONG_TEXT_COLUMNS:
        return text[:VARCHAR_CHARS]
    if len(text) * 4 <= TEXT_BYTES:
        return text
    # MySQL cuts a TEXT value at the last whole character that fits in its bytes.
    return text.encode("utf-8")[:TEXT_BYTES].decode("utf-8", errors="ignore")


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the wire name, as getFields/fields print it
    column: str  # the storage column
    kind: Kind
    type: str  # the descriptor type (`integer`, `double`, `char`, `crm_status`, ...)
    required: bool = False
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    title: str = ""
    # Other names accepted in select/filter/order/fields (e.g. `ORDER_ID` for `orderId`).
    aliases: tuple[str, ...] = ()
    filterable: bool = True
    sortable: bool = True
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


class Schema:
    """An entity's fields in wire order, looked up by wire name or alias."""

    def __init__(
        self,
        table: str,
        fields: Iterable[Field],
        *,
        case_insensitive: bool = False,
        filter_ops: tuple[str, ...] = FILTER_OPS,
    ) -> None:
        self.table = table
        self.fields = tuple(fields)
        self.case_insensitive = case_insensitive
        self.filter_ops = tuple(sorted(filter_ops, key=len, reverse=True))
        self._by_name: dict[str, Field] = {}
        for f in self.fields:
            for name in (f.name, *f.aliases):
                self._by_name[self._key(name)] = f

    def _key(self, name: str) -> str:
        return name.upper() if self.case_insensitive else name

    def get(self, name: str) -> Field | None:
        return self._by_name.get(self._key(name))

    def __getitem__(self, name: str) -> Field:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]


def field(
    name: str,
    column: str,
    kind: Kind,
    type_: str,
    title: str = "",
    flags: str = "",
    empty: Any = None,
    *,
    upper: str | None = None,
    aliases: tuple[str, ...] = (),
    **extra: Any,
) -> Field:
    """A field as a family's fields method lists it: `flags` holds R(equired), O (read-only),
    I(mmutable), M(ultiple); `empty` is what a row without a value shows; `upper` is crm.item's
    `upperName`, a second name the field answers to (first of its aliases)."""
    return Field(
        name, column, kind, type_, title=title,
        aliases=(upper, *aliases) if upper is not None else aliases, required="R" in flags,
        read_only="O" in flags, immutable="I" in flags, multiple="M" in flags,
        extra={"empty": empty, **extra},
    )  # fmt: skip


def flag_descriptors(fields: Iterable[Field]) -> dict[str, dict[str, Any]]:
    """The sale module's four-key field descriptors, as crm-order-entity-get-fields.md and
    sale-order-get-fields.md print them (alphabetical keys)."""
    return {
        f.name: {
            "isImmutable": f.immutable,
            "isReadOnly": f.read_only,
            "isRequired": f.required,
            "type": f.type,
        }
        for f in fields
    }


def column_of(name: str) -> str:
    """The column a wire name is stored in: `ORDER_TOPIC` -> `order_topic` (the legacy crm
    dialect), `dateCanceled` -> `date_canceled` (the sale module's)."""
    if name.upper() == name:
        return name.lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def named(name: str, kind: Kind, type_: str, title: str = "", flags: str = "", empty: Any = None,
          **extra: Any) -> Field:  # fmt: skip
    """`field` for a field stored in the column its name gives (`column_of`)."""
    return field(name, column_of(name), kind, type_, title, flags, empty, **extra)
