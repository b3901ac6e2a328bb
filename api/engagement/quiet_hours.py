"""Quiet hours: a daily window of local wall-clock time ("22:00" to "07:00" in a person's IANA
time zone) during which non-critical pushes wait.

Computed on local wall time, so a window means the same hours on the days clocks change: on a
23-hour or 25-hour night it is an hour shorter or longer in UTC, as the person lives it. A window
end that falls in a spring-forward gap (02:30 on a night that skips 02:00-03:00) ends at the
first moment the local clock reads 02:30 or later (03:00, just after the gap); one that occurs
twice (autumn) ends at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.errors import BadUserInput

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


@dataclass(frozen=True)
class QuietHours:
    start: str  # "HH:MM"
    end: str
    time_zone: str

    def ends_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the window `now` falls in ends (UTC), or None when `now` is outside it."""
        return window_end(now, self.start, self.end, self.time_zone)


def parse_time(name: str, value: str) -> dt.time:
    match = _HHMM.match(value)
    if not match:
        raise BadUserInput(f"{name} must be a time of day as HH:MM (00:00-23:59)")
    return dt.time(int(match[1]), int(match[2]))


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """An IANA zone by name; BAD_USER_INPUT for anything zoneinfo does not know."""
    if len(name) > 64 or not _ZONE.match(name):
        raise BadUserInput("timeZone must be an IANA time zone name, e.g. Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadUserInput(f"unknown time zone {name!r}: use an IANA name, e.g. Europe/Berlin") from None


def validate(start: str, end: str, time_zone: str) -> QuietHours:
    if parse_time("quietHours.start", start) == parse_time("quietHours.end", end):
        raise BadUserInput("quietHours.start and quietHours.end must differ")
    zone(time_zone)
    return QuietHours(start, end, time_zone)


def window_end(now: dt.datetime, start: str, end: str, time_zone: str) -> dt.datetime | None:
    tz = zone(time_zone)
    local = now.astimezone(tz)
    begins, ends, clock = parse_time("start", start), parse_time("end", end), local.time().replace(tzinfo=None)
    if begins < ends:  # within one day, e.g. 13:00-14:00
        inside, end_day = begins <= clock < ends, local.date()
    else:  # across midnight, e.g. 22:00-07:00
        inside = clock >= begins or clock < ends
        end_day = local.date() if clock < ends else local.date() + dt.timedelta(days=1)
    if not inside:
        return None
    until = _first_moment_at_or_after(dt.datetime.combine(end_day, ends), tz)
    return until if until > now else None


def _first_moment_at_or_after(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first instant (UTC) at which the local clock reads `wall` or later. fold=0 gives the
    first of two occurrences; a time inside a gap is found by searching the transition."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # In a gap: fold=1 reads it with the offset after the jump (an instant before the gap), fold=0
    # with the one before (after it). The jump lies between; a minute-exact search finds it.
    low, high = wall.replace(tzinfo=tz, fold=1).astimezone(dt.UTC), first
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high
