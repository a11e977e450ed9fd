"""Deal stage rules (api-reference/crm/main-entities-fields.md) and the defaults of a new deal."""

from __future__ import annotations

from datetime import UTC

import pytest

from orderlink.rules import deals, funnels, smart_invoices
from orderlink.rules.funnels import Funnel


def funnel(category: int) -> Funnel:
    stages = funnels.default_stages(category)
    return Funnel(category, [(row["status_id"], row["semantics"]) for row in stages])


@pytest.mark.parametrize(
    ("category", "stage", "semantic"),
    [(0, "NEW", "P"), (0, "WON", "S"), (0, "LOSE", "F"), (0, "APOLOGY", "F"), (3, "C3:WON", "S"),
     (3, "C3:PREPARATION", "P"), (1, "C1:LOSE", "F")],
)  # fmt: skip
def test_a_stage_semantic_is_its_funnels(category: int, stage: str, semantic: str) -> None:
    assert funnel(category).semantic(stage) == semantic


def test_first_stages() -> None:
    assert funnel(0).first == "NEW"
    assert funnel(4).first == "C4:NEW"
    assert Funnel(4, []).first == "C4:NEW"
    assert smart_invoices.first_stage(0) == "DT31_0:N"


def test_a_new_deal_starts_in_its_funnels_first_stage() -> None:
    values = deals.new_deal({"category_id": 2}, funnel=funnel(2), user=7, now=86_400.0, zone=UTC)
    assert values["stage_id"] == "C2:NEW"
    assert values["is_new"] == "Y"
    assert values["closed"] == "N"
    assert values["assigned_by_id"] == 7
    assert values["closedate"] - values["begindate"] == 7 * 86_400


def test_winning_closes_and_moving_funnel_restarts() -> None:
    old = {"category_id": 0, "stage_id": "NEW"}
    won = deals.changed_deal(old, {"stage_id": "WON"}, funnel=funnel(0), user=3, now=10.0)
    assert (won["stage_semantic_id"], won["closed"], won["moved_by_id"]) == ("S", "Y", 3)
    moved = deals.changed_deal(old, {"category_id": 5}, funnel=funnel(5), user=3, now=10.0)
    assert moved["stage_id"] == "C5:NEW"
    same = deals.changed_deal(old, {"title": "x"}, funnel=funnel(0), user=3, now=10.0)
    assert "stage_id" not in same
    assert same["modify_by_id"] == 3


def test_contact_id_is_the_first_of_contact_ids() -> None:
    values: dict[str, object] = {"contact_ids": "[84,83]"}
    deals.sync_contacts(values)
    assert values["contact_id"] == 84
    single: dict[str, object] = {"contact_id": 5}
    deals.sync_contacts(single)
    assert single["contact_ids"] == "[5]"


def test_untitled_rows_get_a_title_template() -> None:
    assert deals.title_template({}, "Deal") == {"title": "Deal #{id}"}
    assert deals.title_template({"title": "Mine"}, "Deal") == {}
