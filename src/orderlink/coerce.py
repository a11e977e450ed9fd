"""Turning wire values into typed values: `"5125"` -> 5125, `"Y"` -> True.

Form and query encodings carry every value as a string; JSON carries native types and clients
send both (`protocol.md` section 2.3). Each function returns None for a value it cannot read, and
the caller raises the error its method family documents.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

# A number is ASCII digits only, with PHP's numeric-string whitespace around it (" \t\n\r\v\f":
# php.net/manual/en/language.types.numeric-strings.php): `int()` and `Decimal()` also read
# full-width and Arabic-Indic digits: "\uff15\uff11\uff12\uff15" would address order 5125.
_WS = "[ \t\n\r\v\f]*"
_INT = re.compile(_WS + r"[+-]?[0-9]{1,18}" + _WS + r"\Z")
_FLOAT = re.compile(
    _WS + r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?" + _WS + r"\Z"
)
_TRUE = frozenset({"y", "1", "true"})
_FALSE = frozenset({"n", "0", "false", ""})
# The dates a field accepts: every one of them prints in every UTC offset.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
# SQLite and PostgreSQL both store signed 64-bit integers.
INT_MAX = 2**63 - 1


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def comparable(value: Any) -> tuple[int, Any]:
    """`value` as SQL would order and compare it, for the lists orderlink holds in memory
    (payment systems, delivery services, currencies): nulls first, then numbers (also as
    strings: `"110"`) by value, then text without case."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        return (1, float(value))
    return (2, str(value).lower())


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -INT_MAX <= value <= INT_MAX else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) <= INT_MAX else None
    if isinstance(value, str) and _INT.match(value):
        number = int(value)
        return number if -INT_MAX <= number <= INT_MAX else None
    return None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer past 1e308
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        if not _FLOAT.match(value):
            return None
        try:
            number = float(Decimal(value.strip()))
        except (InvalidOperation, OverflowError):
            return None
        return number if math.isfinite(number) else None
    return None


def to_flag(value: Any) -> bool | None:
    """`Y`/`N`, `1`/`0`, `true`/`false`, as strings or JSON (api-reference/data-types.md)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1 if value in (0, 1) else None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def to_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    return None


def to_datetime(value: Any, zone: tzinfo) -> datetime | None:
    """ISO-8601 with or without offset, or a plain date; naive values are in the portal zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    # Stored as a Unix time and shown in any zone from -14:00 to +14:00: a moment within a day of
    # year 1 or year 9999 would be unprintable in some zone (and 500 every later read).
    if not EARLIEST <= moment <= LATEST:
        return None
    return moment


def parse_zone(name: str) -> tzinfo:
    """`UTC`, an IANA name (`Europe/Berlin`) or a fixed offset (`+02:00`)."""
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if match:
        sign = 1 if match.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    if name.strip().upper() in ("UTC", "Z", ""):
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def iso(moment: datetime | float, zone: tzinfo) -> str:
    """`2024-06-25T13:43:26+02:00`: seconds, numeric offset (api-reference/data-types.md)."""
    try:
        if not isinstance(moment, datetime):
            moment = datetime.fromtimestamp(moment, zone)
        else:
            moment = moment.astimezone(zone)
    except (ValueError, OverflowError, OSError):
        # A value stored before dates were bounded: clamp rather than fail every read.
        moment = (EARLIEST if _before_epoch(moment) else LATEST).astimezone(zone)
    return moment.replace(microsecond=0).isoformat()


def _before_epoch(moment: datetime | float) -> bool:
    if isinstance(moment, datetime):
        return moment.year < 1970
    return moment < 0


class UnixIso:
    """`iso()` for Unix times in one zone, remembering the last second it wrote: a request
    formats `date_start` and `date_finish`, almost always the same second."""

    __slots__ = ("_last", "zone")

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._last: tuple[int, str] = (-1, "")

    def __call__(self, moment: float) -> str:
        second = int(moment // 1)
        last = self._last
        if last[0] == second:
            return last[1]
        text = iso(float(second), self.zone)
        self._last = (second, text)
        return text
