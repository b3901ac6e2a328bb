"""Quiet hours on local wall time: several zones, windows across midnight, DST nights, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from api.engagement.quiet_hours import validate, window_end
from api.errors import BadUserInput

U = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=U)


@pytest.mark.parametrize(
    "now, start, end, zone, expected",
    [
        # Across midnight in Berlin (UTC+1 in January): 22:00-07:00 local is 21:00-06:00 UTC.
        (at(2026, 1, 10, 20, 59), "22:00", "07:00", "Europe/Berlin", None),
        (at(2026, 1, 10, 21, 0), "22:00", "07:00", "Europe/Berlin", at(2026, 1, 11, 6, 0)),
        (at(2026, 1, 11, 3, 0), "22:00", "07:00", "Europe/Berlin", at(2026, 1, 11, 6, 0)),
        (at(2026, 1, 11, 6, 0), "22:00", "07:00", "Europe/Berlin", None),  # the end is not inside
        # The same instant is daytime in New York (UTC-5) and night in Tokyo (UTC+9, no DST).
        (at(2026, 1, 11, 15, 0), "22:00", "07:00", "America/New_York", None),
        (at(2026, 1, 11, 15, 0), "22:00", "07:00", "Asia/Tokyo", at(2026, 1, 11, 22, 0)),
        # Kolkata's half-hour offset (UTC+5:30); a window within one day (13:00-14:00 local).
        (at(2026, 1, 11, 7, 45), "13:00", "14:00", "Asia/Kolkata", at(2026, 1, 11, 8, 30)),
        (at(2026, 1, 11, 8, 30), "13:00", "14:00", "Asia/Kolkata", None),
        # Spring forward in Berlin (29 March 2026, 02:00 -> 03:00): the night is an hour shorter in
        # UTC; 07:00 local is now 05:00 UTC.
        (at(2026, 3, 28, 22, 0), "22:00", "07:00", "Europe/Berlin", at(2026, 3, 29, 5, 0)),
        # An end inside the gap (02:30 never happens): released when the clock jumps to 03:00.
        (at(2026, 3, 28, 23, 0), "22:00", "02:30", "Europe/Berlin", at(2026, 3, 29, 1, 0)),
        # Fall back (25 October 2026, 03:00 -> 02:00): 25-hour night, 07:00 local is 06:00 UTC.
        (at(2026, 10, 24, 20, 0), "22:00", "07:00", "Europe/Berlin", at(2026, 10, 25, 6, 0)),
        # An end that happens twice (02:30 CEST, then 02:30 CET): the first one ends it.
        (at(2026, 10, 24, 23, 0), "22:00", "02:30", "Europe/Berlin", at(2026, 10, 25, 0, 30)),
        (at(2026, 10, 25, 0, 45), "22:00", "02:30", "Europe/Berlin", None),
        # New York springs forward on 8 March 2026 (2:00 -> 3:00): 22:00-07:00 EST then EDT.
        (at(2026, 3, 8, 3, 0), "22:00", "07:00", "America/New_York", at(2026, 3, 8, 11, 0)),
    ],
)
def test_window_end(now, start, end, zone, expected):
    assert window_end(now, start, end, zone) == expected


@pytest.mark.parametrize(
    "start, end, zone, fragment",
    [
        ("24:00", "07:00", "UTC", "HH:MM"),
        ("7:00", "08:00", "UTC", "HH:MM"),
        ("22:00", "22:00", "UTC", "must differ"),
        ("22:00", "07:00", "Mars/Olympus", "unknown time zone"),
        ("22:00", "07:00", "../../etc/passwd", "IANA"),
        ("22:00", "07:00", "", "IANA"),
    ],
)
def test_bad_quiet_hours_are_refused(start, end, zone, fragment):
    with pytest.raises(BadUserInput) as refused:
        validate(start, end, zone)
    assert fragment in refused.value.message
