"""Deal rules, whichever family writes the `deals` row (crm.deal.*, crm.item entityTypeId 2).

Pages: api-reference/crm/main-entities-fields.md (stages), crm-deal-add.md, crm-item-add.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from orderlink.records.days import today
from orderlink.records.values import decode, encode
from orderlink.rules.portal import BASE_CURRENCY
from orderlink.storage.base import Row


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


def staged(values: Row, stage: str, user: int, now: int) -> None:
    """Move to `stage`: its semantic, whether it is the funnel's first, who and when; a won or
    lost stage closes the deal."""
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
        ids = decode(values["contact_ids"])
        values["contact_id"] = ids[0] if ids else 0
    elif "contact_id" in values and "contact_ids" not in values:
        values["contact_ids"] = encode([values["contact_id"]] if values["contact_id"] else [])


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
        "begindate": today(now, zone),
        "closedate": today(now, zone, plus_days=7),
    }
    values.update({k: v for k, v in columns.items() if v is not None})
    sync_contacts(values)
    staged(values, values.get("stage_id") or first_stage(values["category_id"]), user, stamp)
    return values


def changed_deal(old: Row, columns: Row, *, user: int, now: float) -> Row:
    """The columns an update writes: the request's, plus what follows from a stage or funnel
    change, plus who and when."""
    values = dict(columns)
    stamp = int(now)
    sync_contacts(values)
    stage = moved_to(old, values, first_stage)
    if stage:
        staged(values, stage, user, stamp)
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
