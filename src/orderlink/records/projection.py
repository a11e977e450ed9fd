"""What a list's `select` asks for, and how one family prints one entity (`View`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from orderlink.listing import names
from orderlink.records.custom_fields import (
    PARENTS,
    UF,
    parent_type,
    parents,
    uf_upper,
    user_fields,
)
from orderlink.records.values import Renderer
from orderlink.schema import Field, Schema
from orderlink.storage.base import Row


@dataclass(frozen=True, slots=True)
class Selection:
    """What a list's `select` asks for; `None` in `uf`/`parents` means "all of them"."""

    all_fields: bool
    names: tuple[str, ...] = ()
    uf: frozenset[str] | None = None
    parents: frozenset[int] | None = None
    # The view's `explicit` keys asked for by name; None: all of them (one entity's get).
    named: frozenset[str] | None = None

    def wants(self, name: str) -> bool:
        return self.all_fields or name in self.names

    def wants_explicit(self, name: str) -> bool:
        return self.named is None or name in self.named

    def wants_uf(self, name: str) -> bool:
        return self.uf is None or name in self.uf

    def wants_parent(self, type_id: int) -> bool:
        return self.parents is None or type_id in self.parents


ALL = Selection(all_fields=True)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class View:
    """How one family prints one entity: key order, value style, names of dynamic fields.

    `layout` names the wire keys in answer order: a schema field, `@uf`/`@parents` (expanded from
    the JSON columns), or any other key, printed from `constants` (null for a disabled field).
    """

    schema: Schema
    layout: tuple[str, ...]
    value: Renderer
    uf_name: Callable[[str], str]
    parent_name: Callable[[int], str]
    constants: Mapping[str, Any] = field(default_factory=dict)
    dynamic_value: Callable[[Any], Any] = _same
    # crm-deal-list.md answers the selected fields in `select` order; crm-item-list.md in the
    # entity's own order.
    select_order: bool = False
    # Layout keys a list prints only when `select` names them (`*` does not), and get only when
    # they hold something: crm-contact-list.md's PHONE, EMAIL, WEB, IM (crm_multifield).
    explicit: frozenset[str] = frozenset()
    # Keys left out of an answer when their stored value is null (crm-deal-userfield-get.md
    # prints LIST only for a list field).
    optional: frozenset[str] = frozenset()
    # Layout keys printed from the whole row: a contact's `fm` from its five multi-field
    # columns (crm-item-get.md), a smart process's `relations` (crm-type-get.md). `explicit`
    # and `optional` apply to them too (a null value is `optional`'s null).
    computed: Mapping[str, Callable[[Row, tzinfo], Any]] = field(default_factory=dict)

    def render(self, row: Row, zone: tzinfo, selection: Selection = ALL) -> dict[str, Any]:
        out: dict[str, Any] = {}
        layout = self.layout
        if self.select_order and not selection.all_fields:
            layout = (*(n for n in selection.names if n in self.layout), PARENTS, UF)
        for key in layout:
            if key == UF:
                if selection.uf is None or selection.uf:
                    for name, value in user_fields(row).items():
                        if selection.wants_uf(name):
                            out[self.uf_name(name)] = self.dynamic_value(value)
            elif key == PARENTS:
                if selection.parents is None or selection.parents:
                    for type_id, value in parents(row).items():
                        if selection.wants_parent(type_id):
                            out[self.parent_name(type_id)] = self.dynamic_value(value)
            elif key in self.computed:
                explicit = key in self.explicit
                if selection.wants_explicit(key) if explicit else selection.wants(key):
                    value = self.computed[key](row, zone)
                    if value is not None or key not in self.optional:
                        out[key] = value
            elif key in self.explicit:
                found = self.schema.get(key)
                if found is not None and selection.wants_explicit(key) and row.get(found.column):
                    shown = self.value(found, row[found.column], zone)
                    if shown:
                        out[key] = shown
            elif selection.wants(key):
                found = self.schema.get(key)
                if found is not None and found.column in row:
                    if row[found.column] is None and key in self.optional:
                        continue
                    out[key] = self.value(found, row[found.column], zone)
                elif found is None:
                    out[key] = self.constants.get(key)
        return out

    def selection(self, raw: Any, *, uf_mask: str | None = None) -> Selection:
        """A list's `select`: field names, `*`, custom and parent field names, and `uf_mask`
        (crm-deal-list.md: `*` is every non-custom field, `UF_*` every custom one, both by
        default). Missing, empty or naming nothing known selects everything."""
        requested = names(raw)
        nothing = Selection(all_fields=True, named=frozenset()) if self.explicit else ALL
        if not requested:
            return nothing
        fields: dict[str, None] = {}
        uf: set[str] = set()
        links: set[int] = set()
        all_uf = uf_mask is None and "*" in requested
        for name in requested:
            known = self.schema.get(name)
            if known is not None:
                fields[known.name] = None
            elif name in self.layout:
                fields[name] = None
            elif uf_mask is not None and name.upper() == uf_mask:
                all_uf = True
            elif (upper := uf_upper(name)) is not None:
                uf.add(upper)
            elif (type_id := parent_type(name)) is not None:
                links.add(type_id)
        custom = None if all_uf else frozenset(uf)
        named = frozenset(f for f in fields if f in self.explicit)
        if "*" in requested:
            return Selection(all_fields=True, uf=custom, parents=None, named=named)
        if not (fields or uf or links or all_uf):
            return nothing
        return Selection(False, tuple(fields), custom, frozenset(links), named)

    def columns(self, selection: Selection, stored: Schema) -> tuple[Field, ...]:
        """The fields of `stored` (the listing schema) a selection reads: its stored fields and
        dynamic columns, in schema order; everything when it names none of them."""
        if selection.all_fields or any(n in self.computed for n in selection.names):
            return stored.fields  # a computed key may read any column
        picked = [f.name for f in self.schema if f.name in selection.names]
        if selection.uf is None or selection.uf:
            picked.append(UF)
        if selection.parents:
            picked.append(PARENTS)
        found: dict[str, Field] = {}
        for name in picked or [self.schema.fields[0].name]:
            known = stored.get(name)
            if known is not None:
                found.setdefault(known.name, known)
        return tuple(found.values()) or stored.fields
