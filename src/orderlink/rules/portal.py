"""What every portal has here: one site, four currencies (payer types are rows: 0007_props)."""

from __future__ import annotations

from typing import Any

# The one site of a portal: sale-order-add.md, `lid` "Has a constant value 's1'".
SITE = "s1"
# The two payer types every portal starts with (sale-person-type-list.md; the store seeds them).
INDIVIDUAL, LEGAL_ENTITY = 1, 2
# Currencies (api-reference/crm/data-types.md, crm_currency): every value a string. USD, EUR and
# CAD as crm-currency-list.md prints them (its second, non-base USD row is a copy slip), plus RUB.
BASE_CURRENCY = "USD"
CURRENCIES: tuple[dict[str, Any], ...] = (
    {"CURRENCY": "USD", "AMOUNT_CNT": "1", "AMOUNT": "1.0000", "SORT": "100", "BASE": "Y",
     "FULL_NAME": "United States Dollar", "LID": "en", "FORMAT_STRING": "# $", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2024-01-29T10:28:40+00:00"},
    {"CURRENCY": "RUB", "AMOUNT_CNT": "100", "AMOUNT": "1.0900", "SORT": "200", "BASE": "N",
     "FULL_NAME": "Russian Ruble", "LID": "en", "FORMAT_STRING": "# ₽", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2023-03-21T13:19:50+00:00"},
    {"CURRENCY": "EUR", "AMOUNT_CNT": "1", "AMOUNT": "1.0800", "SORT": "300", "BASE": "N",
     "FULL_NAME": "Euro", "LID": "en", "FORMAT_STRING": "# €", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2023-03-21T13:19:50+00:00"},
    {"CURRENCY": "CAD", "AMOUNT_CNT": "1", "AMOUNT": "0.7300", "SORT": "500", "BASE": "N",
     "FULL_NAME": "Canadian Dollar", "LID": "en", "FORMAT_STRING": "# CAD", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2023-03-21T13:19:50+00:00"},
)  # fmt: skip
CURRENCY_CODES = frozenset(c["CURRENCY"] for c in CURRENCIES)
