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
_CURRENCY_KEYS = (
    "CURRENCY", "AMOUNT_CNT", "AMOUNT", "SORT", "BASE", "FULL_NAME", "LID", "FORMAT_STRING",
    "DEC_POINT", "THOUSANDS_SEP", "DECIMALS", "DATE_UPDATE",
)  # fmt: skip


def _currency(code: str, count: str, amount: str, sort: str, base: str, name: str, shown: str,
              updated: str) -> dict[str, Any]:  # fmt: skip
    """A crm_currency row; the language, separators and decimals are the same for all four."""
    values = (code, count, amount, sort, base, name, "en", shown, ".", "&nbsp;", "2", updated)
    return dict(zip(_CURRENCY_KEYS, values, strict=True))


CURRENCIES: tuple[dict[str, Any], ...] = (
    _currency("USD", "1", "1.0000", "100", "Y", "United States Dollar", "# $",
              "2024-01-29T10:28:40+00:00"),
    _currency("RUB", "100", "1.0900", "200", "N", "Russian Ruble", "# ₽",
              "2023-03-21T13:19:50+00:00"),
    _currency("EUR", "1", "1.0800", "300", "N", "Euro", "# €", "2023-03-21T13:19:50+00:00"),
    _currency("CAD", "1", "0.7300", "500", "N", "Canadian Dollar", "# CAD",
              "2023-03-21T13:19:50+00:00"),
)  # fmt: skip
CURRENCY_CODES = frozenset(c["CURRENCY"] for c in CURRENCIES)
