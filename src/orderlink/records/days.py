"""Calendar days in the portal zone: a `date` field stores the midnight of its day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from orderlink import coerce


def day(value: Any, zone: tzinfo) -> int | None:
    """A `date` field takes the calendar day written in the value, whatever its offset
    (crm-deal-add.md sends `$(date --iso-8601=seconds)`; crm-deal-get.md prints that day)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    # crm-contact-add.md sends BIRTHDATE as "11.11.2001": the portal's own DD.MM.YYYY format.
    if len(text) == 10 and text[2] == "." and text[5] == ".":
        text = f"{text[6:]}-{text[3:5]}-{text[:2]}"
    try:
        of = date.fromisoformat(text[:10])
    except ValueError:
        return None
    if not coerce.EARLIEST.date() <= of <= coerce.LATEST.date():
        return None
    return midnight(of, zone)


def midnight(of: date, zone: tzinfo) -> int:
    return int(datetime.combine(of, time.min, tzinfo=zone).timestamp())


def today(now: float, zone: tzinfo, *, plus_days: int = 0) -> int:
    return midnight(datetime.fromtimestamp(now, zone).date() + timedelta(days=plus_days), zone)
