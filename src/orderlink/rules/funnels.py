"""Deal funnels and their stages, whatever answers them (crm.category.*, crm.status.*,
crm.dealcategory.*, and the deal families that check a deal's stage).

Pages: api-reference/crm/status/{index,crm-status-list,crm-status-add,crm-status-entity-types}.md,
api-reference/crm/universal/category/crm-category-list.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orderlink import fresh_portal
from orderlink.storage.base import Row

DEAL_STAGE = fresh_portal.GENERAL_STAGE_LIST
GENERAL = fresh_portal.GENERAL_FUNNEL
DEFAULT_STAGES = fresh_portal.DEFAULT_STAGES


def stage_entity(category: int) -> str:
    """index.md: `DEAL_STAGE` for the general funnel, `DEAL_STAGE_{id}` for another."""
    return DEAL_STAGE if category == 0 else f"{DEAL_STAGE}_{category}"


def category_of_entity(entity_id: str) -> int | None:
    """The funnel a stage list belongs to; None when `entity_id` is no deal stage list."""
    if entity_id == DEAL_STAGE:
        return 0
    head, _, tail = entity_id.rpartition("_")
    if head == DEAL_STAGE and tail.isdigit() and tail[0] != "0":
        return int(tail)
    return None


def prefix(category: int) -> str:
    """crm-status-add.md: stages of funnel 1 are saved as `C1:{code}`."""
    return "" if category == 0 else f"C{category}:"


def prefixed(category: int, status_id: str) -> str:
    """A new stage's code: the funnel's prefix added unless it is there already."""
    mark = prefix(category)
    return status_id if status_id.startswith(mark) else mark + status_id


def default_stages(category: int) -> list[Row]:
    """The stages a new funnel starts with (the general funnel's, under its prefix)."""
    return fresh_portal.stage_rows(stage_entity(category), prefix(category), category or None)


def extra_semantics(semantics: str | None, status_id: str, final_failure: str | None) -> str:
    """crm-status-list.md's EXTRA.SEMANTICS: the funnel's first failure stage is `failure`,
    later ones `apology`."""
    if semantics == "S":
        return "success"
    if semantics == "F":
        return "failure" if status_id == final_failure else "apology"
    return "process"


@dataclass(frozen=True, slots=True)
class Funnel:
    """One funnel's stages in SORT order, as (STATUS_ID, SEMANTICS) pairs."""

    category: int
    stages: Sequence[tuple[str, str | None]]

    @property
    def first(self) -> str:
        return self.stages[0][0] if self.stages else prefix(self.category) + "NEW"

    def final(self, semantics: str) -> str | None:
        """The first stage of a group (`S`, `F`): crm-status-entity-types.md's FINAL_*_FIELD."""
        return next((s for s, m in self.stages if m == semantics), None)

    def has(self, stage: str) -> bool:
        return any(s == stage for s, _ in self.stages)

    def semantic(self, stage: str) -> str:
        """The deal's STAGE_SEMANTIC_ID for `stage`: S, F, or P (in progress)."""
        return next((m or "P" for s, m in self.stages if s == stage), "P")
