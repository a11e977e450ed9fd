"""One entity family as data: what the generic handlers (`families.handlers`) need to serve it.

A family module declares its field table and one `Family`; what differs between families is
either a value here (envelope keys, readers, default order) or a hook for a rule of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from orderlink import errors
from orderlink.listing import CustomFields
from orderlink.records.projection import View
from orderlink.records.reading import Changes, ErrorFactory
from orderlink.registry import Call
from orderlink.schema import Field, Schema
from orderlink.storage.base import Emit, Row, Table, entity_table

Params = dict[str, Any]
# What add/update/delete answer: the saved entity (in its envelope), its id, `true`, `[]` or
# null (userfieldconfig-delete.md).
Answer = Literal["entity", "id", "true", "empty", "null"]
# (action ADD/UPDATE/DELETE, user, time, id or "{id}", the new values / the old row / {})
Events = Callable[[str, int, float, "int | str", Row], tuple[Emit, ...]]


def plural(noun: str) -> str:
    """`noun` with an s, a `y` after a consonant as `ies`: every family's list envelope
    (`payments`, `properties`) and the plural its method summaries use."""
    if noun[-1:] == "y" and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def same(params: Params) -> Params:
    return params


def unchanged_view(view: View, params: Params) -> View:
    return view


@dataclass(frozen=True, slots=True)
class Created:
    """A new row's columns, and the templates the insert fills in with its id."""

    values: Row
    templates: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class Family:
    """Everything the generic handlers know about one family."""

    schema: Schema  # the fields, in the order the fields method lists them
    # Where the rows are: the schema's table.
    table: Table = dataclasses.field(init=False)
    view: View  # one entity as get (and add/update, when they answer it) prints it
    list_schema: Schema  # what the listing engine filters and orders by
    # How list rows print: a View that reads `select` itself, or None: the listing engine's
    # selected fields, each printed by `view.value`.
    list_view: View | None
    read_id: Callable[[Params], int]
    read_fields: Callable[[Params], dict[str, Any]]
    not_found: Callable[[], errors.B24Error]
    invalid: ErrorFactory  # a value its field cannot hold
    list_error: Callable[[str], errors.B24Error]
    events: Events
    descriptor: Callable[[Field], dict[str, Any]]
    # The keys answers are wrapped in (`{"order": {...}}`); None for a bare answer.
    envelope: str | None
    list_envelope: str | None
    fields_envelope: str | None
    answers: tuple[Answer, Answer, Answer]  # add, update, delete
    # An entity answer carries `"total": 1` beside `result` (sale-basket-item-add.md).
    counted: bool = False
    # The call's parameters as the family reads them (legacy families: names in any case).
    params: Callable[[Params], Params] = same
    # get's id reader when it differs (0: not found without a look-up).
    read_get_id: Callable[[Params], int] | None = None
    # Required fields by wire name, checked on add in this order (RequiredFields).
    required: tuple[str, ...] = ()
    # Required fields an update must give too (sale-person-type-update.md: "Required fields:
    # name").
    update_required: tuple[str, ...] = ()
    dynamic: bool = False  # custom fields and parent links in `fields`
    newest_first: bool = False
    # A list's order when `order` names none (userfieldconfig-list.md: sort, then id); None:
    # by id (`newest_first`: descending).
    default_order: tuple[tuple[str, bool], ...] | None = None
    refuse_unknown_order: bool = False
    filter_groups: bool = False
    custom: CustomFields | None = None
    uf_mask: str | None = None
    viewed: Callable[[View, Params], View] = unchanged_view
    # A table several families share (custom-field definitions of deals, contacts, companies;
    # the items of smart processes in `crm_items`): the (column, value) this family's rows
    # hold. add writes it, list sees only those rows, get/update/delete answer `foreign()`
    # (else `not_found()`) for another family's row.
    share: tuple[str, Any] | None = None
    foreign: Callable[[], errors.B24Error] | None = None
    # -- hooks for the family's own rules ---------------------------------------------------
    # Values read from a request that must name something that exists (raises).
    check: Callable[[Call, Changes], Awaitable[None]] | None = None
    # The request's `fields` -> columns; default: the schema's writable fields read by kind.
    read: Callable[[Family, Call, dict[str, Any], Row | None], Awaitable[Row]] | None = None
    # A new row's columns from the request's, at the time given.
    create: Callable[[Call, Row, float], Awaitable[Created]] | None = None
    # An update's columns from the old row and the request's; None: nothing is saved.
    change: Callable[[Call, Row, Row, float], Awaitable[Row | None]] | None = None
    # The entity as its answer prints it, per action, with what `embedded` read for it.
    present: Callable[[Family, Call, Row, str, dict[str, Any]], dict[str, Any]] | None = None
    # Collections an answer embeds, read from the store per action (sale.order.get's basket,
    # payments, shipments and property values).
    embedded: Callable[[Call, Row, str], Awaitable[dict[str, Any]]] | None = None
    # Descriptors the fields method adds after the schema's (a deal's custom fields), by name.
    more_fields: Callable[[Call], Awaitable[dict[str, Any]]] | None = None
    # Before a delete, with the row as stored: raises to refuse it (a shipped shipment, a payer
    # type an order uses). The DELETE events are told of that row.
    deleting: Callable[[Call, Row], Awaitable[None]] | None = None
    # A delete's events, when they name more than the row (an order's payments and shipments
    # go with it, each deleted from the database: sale/events/on-payment-deleted.md); given the
    # row as stored, the user and the time. None: `events("DELETE", ...)`.
    delete_events: Callable[[Call, Row, int, float], Awaitable[tuple[Emit, ...]]] | None = None
    # After an add, update or delete went through, with the row as stored (on delete: as it
    # was): what the change settles elsewhere (an order's price follows its basket).
    settled: Callable[[Call, Row], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", entity_table(self.schema.table))

    def owned(self, row: Row | None) -> Row | None:
        """`row`, after checking it is this family's own (`share`)."""
        if row is not None and self.share is not None:
            column, value = self.share
            if row.get(column) != value:
                raise self.foreign() if self.foreign is not None else self.not_found()
        return row

    def entity(self, call: Call, row: Row, action: str, extra: dict[str, Any] | None = None) -> Any:
        if self.present is not None:
            shown = self.present(self, call, row, action, extra or {})
        else:
            shown = self.viewed(self.view, call.params).render(row, call.ctx.zone)
        return shown if self.envelope is None else {self.envelope: shown}
