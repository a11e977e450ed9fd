"""What a new portal has before anyone writes to it: the two payer types and the general deal
funnel with its stages. The store seeds a new portal with them (and `reset` reseeds them); the
rules read the same rows. Below the store and the rules alike, so both import it.

Pages: api-reference/sale/person-type/sale-person-type-list.md,
api-reference/crm/universal/category/crm-category-list.md,
api-reference/crm/status/crm-status-list.md.
"""

from __future__ import annotations

from typing import Any

# sale-person-type-list.md: ids 1 and 2, which sale.order.add's personTypeId names.
PERSON_TYPES = ((1, "Individual", 100), (2, "Legal Entity", 110))

# crm-category-list.md: the general funnel, as the page lists it.
GENERAL_FUNNEL: dict[str, Any] = {"id": 0, "name": "General", "sort": 300, "is_default": "Y"}
GENERAL_STAGE_LIST = "DEAL_STAGE"

# crm-status-list.md's answer for DEAL_STAGE: (STATUS_ID, NAME, SORT, COLOR, SEMANTICS, SYSTEM);
# a new funnel gets the same stages under its prefix (`C1:NEW`).
DEFAULT_STAGES = (
    ("NEW", "New", 10, "#39A8EF", None, "Y"),
    ("PREPARATION", "Document preparation", 20, "#2FC6F6", None, "N"),
    ("PREPAYMENT_INVOICE", "Prepayment invoice", 30, "#55D0E0", None, "N"),
    ("EXECUTING", "In progress", 40, "#47E4C2", None, "N"),
    ("FINAL_INVOICE", "Final invoice", 50, "#FFA900", None, "N"),
    ("WON", "Deal successful", 60, "#7BD500", "S", "Y"),
    ("LOSE", "Deal failed", 70, "#FF5752", "F", "Y"),
    ("APOLOGY", "Failure reason analysis", 80, "#FF5752", "F", "N"),
)


def stage_rows(entity_id: str, code_prefix: str, category_id: int | None) -> list[dict[str, Any]]:
    """The `crm_statuses` rows of a funnel's default stages."""
    return [
        {
            "entity_id": entity_id,
            "status_id": code_prefix + code,
            "name": name,
            "name_init": name if system == "Y" else "",
            "sort": sort,
            "system": system,
            "category_id": category_id,
            "color": color,
            "semantics": semantics,
        }
        for code, name, sort, color, semantics, system in DEFAULT_STAGES
    ]


def general_stages() -> list[dict[str, Any]]:
    return stage_rows(GENERAL_STAGE_LIST, "", None)
