"""Deal rules, whichever family writes the `deals` row (crm.deal.*, crm.item entityTypeId 2).

Pages: api-reference/crm/main-entities-fields.md (stages), crm-deal-add.md, crm-item-add.md. A
deal's stages are its funnel's (`rules.funnels.Funnel`, read from the store by the caller).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from orderlink.records.days import today
from orderlink.records.values import decode, encode
from orderlink.rules.funnels import Funnel
from orderlink.rules.portal import BASE_CURRENCY
from orderlink.storage.base import Row


def staged(values: Row, stage: str, funnel: Funnel, user: int, now: int) -> None:
    """Move to `stage` of `funnel`: its semantic, whether it is the funnel's first, who and
    when; a won or lost stage closes the deal."""
    semantic = funnel.semantic(stage)
    values.update(
        stage_id=stage,
        stage_semantic_id=semantic,
        is_new="Y" if stage == funnel.first else "N",
        moved_by_id=user,
        moved_time=now,
    )
    if semantic != "P":
        values["closed"] = "Y"
    elif "closed" not in values:
        values["closed"] = "N"


def target_category(old: Row | None, columns: Row) -> int:
    """The funnel a deal is in after this write: the one given, else its own (0 when new)."""
    given = columns.get("category_id")
    return int(given if given is not None else (old or {}).get("category_id") or 0)


def sync_contacts(values: Row) -> None:
    """CONTACT_ID is the first of CONTACT_IDS (crm-deal-add.md sends [84,83], get shows 84)."""
    if "contact_ids" in values and "contact_id" not in values:
        ids = decode(values["contact_ids"])
        values["contact_id"] = ids[0] if ids else 0
    elif "contact_id" in values and "contact_ids" not in values:
        values["contact_ids"] = encode([values["contact_id"]] if values["contact_id"] else [])


def authored(user: int, stamp: int) -> Row:
    """A new legacy crm row's author and times (a deal, contact or company; crm-deal-add.md,
    crm-contact-add.md): open to everyone, the caller responsible, made and last touched now."""
    return {
        "opened": "Y",
        "assigned_by_id": user,
        "created_by_id": user,
        "modify_by_id": user,
        "date_create": stamp,
        "date_modify": stamp,
        "last_activity_time": stamp,
        "last_activity_by": user,
    }


def planned(now: float, zone: tzinfo) -> Row:
    """What a new deal or smart-process item is unless the request says otherwise
    (crm-item-add.md): in the general funnel, in the base currency, begun today, closing in a
    week."""
    return {
        "category_id": 0,
        "currency_id": BASE_CURRENCY,
        "begindate": today(now, zone),
        "closedate": today(now, zone, plus_days=7),
    }


def given_over(defaults: Row, columns: Row) -> Row:
    """`defaults` under the values the request set, CONTACT_ID and CONTACT_IDS in step."""
    values = {**defaults, **{k: v for k, v in columns.items() if v is not None}}
    sync_contacts(values)
    return values


def new_deal(columns: Row, *, funnel: Funnel, user: int, now: float, zone: tzinfo) -> Row:
    """A new deal's columns: the documented defaults (crm-deal-add.md, crm-item-add.md) under
    whatever the request set."""
    stamp = int(now)
    values = given_over({**planned(now, zone), **authored(user, stamp)}, columns)
    staged(values, values.get("stage_id") or funnel.first, funnel, user, stamp)
    return values


def changed_deal(old: Row, columns: Row, *, funnel: Funnel, user: int, now: float) -> Row:
    """The columns an update writes: the request's, plus what follows from a stage or funnel
    change, plus who and when."""
    values = dict(columns)
    stamp = int(now)
    sync_contacts(values)
    stage = moved_to(old, values, lambda category: funnel.first)
    if stage:
        staged(values, stage, funnel, user, stamp)
    values.update(modify_by_id=user, date_modify=stamp)
    return values


def moved_to(old: Row, values: Row, first: Callable[[int], str]) -> str | None:
    """The stage an update moves to (taken out of `values`), None when it stays: the stage given,
    else the `first` stage of a new funnel."""
    category = int(values.get("category_id", old["category_id"]) or 0)
    stage = values.pop("stage_id", None) or (
        first(category) if category != old["category_id"] else None
    )
    return stage if stage and stage != old["stage_id"] else None


def title_template(values: Row, name: str) -> dict[str, str]:
    """`Deal #{id}` / `Invoice #{id}` for an untitled new row, filled in by the insert."""
    return {} if values.get("title") else {"title": name + " #{id}"}
