"""Custom-field and parent-link naming (api-reference/crm/universal/index.md)."""

from __future__ import annotations

import pytest

from orderlink.records.custom_fields import parent_type, uf_camel, uf_upper


@pytest.mark.parametrize(
    ("upper", "camel"),
    [
        ("UF_CRM_3_DIGIT", "ufCrm3Digit"),
        ("UF_CRM_3_1747309727", "ufCrm3_1747309727"),
        ("UF_CRM_1747309879", "ufCrm_1747309879"),
        ("UF_CRM_12_MY_FIELD", "ufCrm12MyField"),
        ("UF_CRM_A1B2", "ufCrm_A1B2"),
    ],
)
def test_uf_camel_and_back(upper: str, camel: str) -> None:
    assert uf_camel(upper) == camel
    assert uf_upper(camel) == upper
    assert uf_upper(upper) == upper


@pytest.mark.parametrize("name", ["TITLE", "ufCrm", "uf_crm_1", "UF_CRM_", "ufcrm_1", ""])
def test_uf_upper_refuses_what_is_no_custom_field(name: str) -> None:
    assert uf_upper(name) is None


def test_parent_type_reads_both_spellings() -> None:
    assert parent_type("PARENT_ID_1220") == 1220
    assert parent_type("parentId2") == 2
    assert parent_type("PARENT_ID_0") is None
    assert parent_type("parentIdx") is None
