"""The legacy crm dialect that crm.deal, crm.invoice, crm.contact and crm.company share: top-level
names in any case, `fields` an array, bare answers (no envelope), custom fields selected as
`UF_*`, errors with an empty code (crm-deal-add.md, crm-contact-list.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderlink import errors
from orderlink.families.crm_fields import descriptor as crm_descriptor
from orderlink.families.family import Answer, Events, Family, Params
from orderlink.families.readers import legacy_fields, legacy_invalid, positive_id, top_level
from orderlink.listing import CustomFields
from orderlink.records.custom_fields import CUSTOM_FIELDS
from orderlink.records.projection import View
from orderlink.records.reading import ErrorFactory
from orderlink.schema import Field, Schema

# What a legacy family's methods say where the family says nothing else (`crud`'s templates).
SUMMARIES = {
    "add": "Create {a} {noun}; answers its id as a number.",
    "fields": "Every {noun} field with its descriptor.",
}

# An id that is missing or no positive integer (errors.LegacyBadId, crm-deal-delete.md).
_BAD_ID_READER = positive_id(errors.LegacyBadId)


def legacy_family(
    *,
    schema: Schema,
    view: View,
    events: Events,
    invalid: ErrorFactory | None = None,
    descriptor: Callable[[Field], dict[str, Any]] = crm_descriptor,
    list_schema: Schema | None = None,
    list_view: View | None = None,
    read_id: Callable[[Params], int] = _BAD_ID_READER,
    not_found: Callable[[], errors.B24Error] = errors.LegacyNotFound,
    answers: tuple[Answer, Answer, Answer] = ("id", "true", "true"),
    params: Callable[[Params], Params] = top_level,
    custom: CustomFields | None = CUSTOM_FIELDS,
    uf_mask: str | None = "UF_*",
    **hooks: Any,
) -> Family:
    """A legacy crm family; a list filters by `schema` and prints its rows as `view` prints an
    entity unless `list_schema` and `list_view` say otherwise; add answers the id, update and
    delete `true` unless `answers` differ; entities without custom fields (deal directions,
    field definitions) say `custom=None`. A value a field cannot hold names the field by its
    title (`legacy_invalid`) and a descriptor is crm_fields' unless the family has its own."""
    return Family(
        schema=schema,
        view=view,
        list_schema=list_schema or schema,
        list_view=list_view or view,
        params=params,
        read_id=read_id,
        read_fields=legacy_fields,
        not_found=not_found,
        invalid=invalid or legacy_invalid(schema),
        list_error=errors.LegacyCrmError,
        events=events,
        descriptor=descriptor,
        envelope=None,
        list_envelope=None,
        fields_envelope=None,
        answers=answers,
        custom=custom,
        uf_mask=uf_mask if custom is not None else None,
        **hooks,
    )
