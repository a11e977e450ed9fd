"""Funnel and stage rules (api-reference/crm/status/index.md, crm-status-add.md)."""

from __future__ import annotations

import pytest

from orderlink.rules import funnels


@pytest.mark.parametrize(
    ("entity", "category"),
    [("DEAL_STAGE", 0), ("DEAL_STAGE_1", 1), ("DEAL_STAGE_12", 12), ("DEAL_STAGE_0", None),
     ("DEAL_STAGE_", None), ("DEAL_STAGE_01", None), ("SOURCE", None), ("DEAL_TYPE", None)],
)  # fmt: skip
def test_stage_lists_name_their_funnel(entity: str, category: int | None) -> None:
    assert funnels.category_of_entity(entity) == category
    if category is not None:
        assert funnels.stage_entity(category) == entity


def test_a_stage_code_gets_its_funnels_prefix_once() -> None:
    """crm-status-add.md: DECISION in funnel 1 is saved as C1:DECISION, C1:DECISION as is."""
    assert funnels.prefixed(1, "DECISION") == "C1:DECISION"
    assert funnels.prefixed(1, "C1:DECISION") == "C1:DECISION"
    assert funnels.prefixed(0, "DECISION") == "DECISION"


def test_a_new_funnel_gets_the_general_stages_under_its_prefix() -> None:
    general = funnels.default_stages(0)
    second = funnels.default_stages(2)
    assert [r["status_id"] for r in second] == ["C2:" + r["status_id"] for r in general]
    assert {r["entity_id"] for r in second} == {"DEAL_STAGE_2"}
    assert {r["category_id"] for r in general} == {None}
    assert {r["category_id"] for r in second} == {2}


def test_extra_semantics() -> None:
    """crm-status-list.md: LOSE is `failure`, APOLOGY (also F) `apology`."""
    assert funnels.extra_semantics(None, "NEW", "LOSE") == "process"
    assert funnels.extra_semantics("S", "WON", "LOSE") == "success"
    assert funnels.extra_semantics("F", "LOSE", "LOSE") == "failure"
    assert funnels.extra_semantics("F", "APOLOGY", "LOSE") == "apology"
