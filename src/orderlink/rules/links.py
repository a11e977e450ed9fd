"""Bindings of one owner to its linked items (a contact's companies, a company's contacts), as
crm.contact.company.* and crm.company.contact.* read and change them. No store, no wire format.

Pages: api-reference/crm/contacts/company/index.md ("How the Relationship Is Structured"),
crm-contact-company-add.md, crm-contact-company-items-set.md and their crm.company.contact.*
twins. A list is ordered by SORT (ties: the order the links were made); exactly one binding is
primary: the one marked, else the first (index.md: "the first of the remaining links becomes
the primary one" when the primary one goes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STEP = 10  # crm-contact-company-add.md: a SORT left out is `i + 10`


@dataclass(frozen=True, slots=True)
class Binding:
    item: int
    sort: int
    primary: bool


def resolved(bindings: Iterable[Binding]) -> list[Binding]:
    """`bindings` by SORT (stable), with one primary: the first marked, else the first."""
    ordered = sorted(bindings, key=lambda b: b.sort)
    chosen = next((b.item for b in ordered if b.primary), ordered[0].item if ordered else None)
    return [dataclasses.replace(b, primary=b.item == chosen) for b in ordered]


def stored(rows: Sequence[Mapping[str, Any]], item: str, sort: str, primary: str) -> list[Binding]:
    """Link rows (already by SORT, then id) as bindings, under their column names."""
    return resolved(Binding(int(r[item]), int(r[sort]), r[primary] == "Y") for r in rows)


def ids(bindings: Sequence[Binding]) -> list[int]:
    """The items primary first, then by SORT: a contact's COMPANY_IDS (COMPANY_ID the first)."""
    return [b.item for b in bindings if b.primary] + [b.item for b in bindings if not b.primary]


def printed(bindings: Sequence[Binding], key: str) -> list[dict[str, Any]]:
    """crm-contact-company-items-get.md: `{"COMPANY_ID": 7, "SORT": 100, "ROLE_ID": 0,
    "IS_PRIMARY": "Y"}` (ROLE_ID is reserved: always 0)."""
    return [{key: b.item, "SORT": b.sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if b.primary else "N"}
            for b in bindings]  # fmt: skip


def _top(bindings: Iterable[Binding]) -> int:
    return max((b.sort for b in bindings if b.sort > 0), default=0)


def added(
    bindings: Sequence[Binding], item: int, sort: int | None, primary: bool
) -> list[Binding] | None:
    """One more binding (crm-contact-company-add.md); None when `item` is bound already (the
    method answers false and changes nothing, SORT and IS_PRIMARY included). SORT left out is
    the largest positive one plus 10; the new one is primary when asked or when it is the
    first."""
    if any(b.item == item for b in bindings):
        return None
    new = Binding(item, _top(bindings) + STEP if sort is None else sort, primary or not bindings)
    if new.primary:
        bindings = [dataclasses.replace(b, primary=False) for b in bindings]
    return resolved([*bindings, new])


def removed(bindings: Sequence[Binding], item: int) -> list[Binding] | None:
    """One binding less; None when `item` is not bound (the method answers false)."""
    kept = [b for b in bindings if b.item != item]
    return None if len(kept) == len(bindings) else resolved(kept)


def replaced(
    bindings: Sequence[Binding], given: Sequence[tuple[int, int | None, bool]]
) -> list[Binding]:
    """crm-contact-company-items-set.md: the (item, SORT or None, IS_PRIMARY) given, each item
    once. A SORT left out keeps a bound item's SORT, else is `i + 10` from the largest SORT bound
    or given; the first marked primary is primary, else the first given."""
    before = {b.item: b.sort for b in bindings}
    top = max(_top(bindings), max((s for _, s, _ in given if s is not None), default=0))
    out: dict[int, Binding] = {}
    for item, sort, primary in given:
        if item in out:
            continue
        if sort is None:
            if item in before:
                sort = before[item]
            else:
                top += STEP
                sort = top
        out[item] = Binding(item, sort, primary)
    chosen = next((b.item for b in out.values() if b.primary), next(iter(out), None))
    return resolved(dataclasses.replace(b, primary=b.item == chosen) for b in out.values())


def numbered(items: Iterable[int]) -> list[Binding]:
    """Bindings in the order given (a contact's COMPANY_IDS, a company's CONTACT_ID): SORT 10,
    20, ..., the first primary."""
    unique = list(dict.fromkeys(i for i in items if i > 0))
    return [Binding(item, (n + 1) * STEP, n == 0) for n, item in enumerate(unique)]
