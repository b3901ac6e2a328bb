"""People pages and direct sends: pure helpers (no Reflex, no I/O).

A person's identifier is the app's own key for one of its users (an email, "user-42", anything of
1-128 characters without control characters), so it travels in a URL path segment encoded, and
what a person typed into the send page's "people" or "devices" box is checked here before the
API sees it (which checks again).
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import quote, unquote
from zoneinfo import available_timezones

MAX_IDENTIFIER = 128  # the API's limit (api/people/tables.py)
MAX_TARGETS = 1000  # identifiers or device ids in one send (the API's MAX_DIRECT_TARGETS)
DEFAULT_ZONE = "UTC"
_SPLIT = re.compile(r"[,\n\r]+")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
# An escape for the segments a browser would resolve away ("." and "..", even percent-encoded)
# and for identifiers that start with it; quote() never encodes "~".
_ESCAPE = "~"


# -- identifiers in URLs -----------------------------------------------------------------


def person_segment(identifier: str) -> str:
    """The identifier as one URL path segment: percent-encoded (a "/" too), and "~"-prefixed
    when it is a dot segment or starts with "~" (person_identifier reverses it)."""
    segment = quote(identifier, safe="")
    if identifier in (".", "..") or identifier.startswith(_ESCAPE):
        segment = _ESCAPE + segment
    return segment


def person_identifier(segment: str) -> str:
    """The identifier a path segment made by person_segment names."""
    identifier = unquote(segment)
    return identifier[len(_ESCAPE) :] if segment.startswith(_ESCAPE) else identifier


def person_path(app_id: str, identifier: str) -> str:
    return f"/apps/{app_id}/people/{person_segment(identifier)}"


def export_filename(identifier: str) -> str:
    """A file name for a person's export: the identifier's safe characters, at most 60."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", identifier).strip("._")[:60]
    return f"person-{safe or 'export'}.json"


# -- identifiers and device ids typed into the send page -----------------------------------


def identifier_problem(identifier: str) -> str | None:
    if not identifier:
        return "An identifier can't be empty."
    if len(identifier) > MAX_IDENTIFIER:
        return f"Identifiers have at most {MAX_IDENTIFIER} characters."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in identifier):
        return "Identifiers can't contain control characters."
    return None


def _items(text: str) -> list[str]:
    """Comma or newline separated items, trimmed, empty ones dropped, duplicates once."""
    return list(dict.fromkeys(s.strip() for s in _SPLIT.split(text or "") if s.strip()))


def _quoted(value: str, keep: int = 40) -> str:
    return repr(value if len(value) <= keep else value[: keep - 1] + "…")


def parse_identifiers(text: str) -> tuple[list[str], str | None]:
    """The persons a direct send names: (identifiers, None) or ([], what is wrong)."""
    items = _items(text)
    if not items:
        return [], "Name at least one person (their identifier)."
    if len(items) > MAX_TARGETS:
        return [], f"At most {MAX_TARGETS:,} people at once ({len(items):,} given)."
    for item in items:
        problem = identifier_problem(item)
        if problem:
            return [], f"{_quoted(item)}: {problem}"
    return items, None


def parse_device_ids(text: str) -> tuple[list[str], str | None]:
    """The devices a direct send names (their ids, as the Devices page shows them)."""
    items = _items(text)
    if not items:
        return [], "Name at least one device id."
    if len(items) > MAX_TARGETS:
        return [], f"At most {MAX_TARGETS:,} devices at once ({len(items):,} given)."
    for item in items:
        if not (item.isascii() and item.isdigit() and len(item) <= 19 and int(item) > 0):
            return [], f"{_quoted(item)} is not a device id (a number, as on the Devices page)."
    return items, None


# -- quiet hours --------------------------------------------------------------------------


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zones the time zone select offers: the regions' names, then UTC."""
    names = sorted(z for z in available_timezones() if z.split("/", 1)[0] in _REGIONS and "/" in z)
    return (*names, DEFAULT_ZONE)


def default_zone(browser_zone: str | None) -> str:
    """The browser's zone when the select offers it, else UTC."""
    return browser_zone if browser_zone in time_zones() else DEFAULT_ZONE


def check_quiet_hours(start: str, end: str, zone: str) -> dict[str, str]:
    """Errors per field ("start", "end", "zone") of a quiet-hours window; empty when valid."""
    errors: dict[str, str] = {}
    for key, value in (("start", start), ("end", end)):
        if not _HHMM.match(value or ""):
            errors[key] = "A time of day, HH:MM (00:00-23:59)."
    if not errors and start == end:
        errors["end"] = "The end must differ from the start."
    if not zone or (zone not in time_zones() and zone not in available_timezones()):
        errors["zone"] = "Choose a time zone."
    return errors


# -- API errors on the right field ----------------------------------------------------------

# (words in the API's message, the form field it is about), most specific first.
_FIELD_HINTS = (
    ("quietHours.start and quietHours.end", "end"),
    ("quietHours.start", "start"),
    ("quietHours.end", "end"),
    ("time zone", "zone"),
    ("timeZone", "zone"),
    ("muted", "muted"),
    ("identifier", "identifiers"),
    ("person", "identifiers"),
    ("deviceIds", "device_ids"),
    ("device", "device_ids"),
    ("channel", "channel"),
    ("title", "title"),
    ("data must", "data"),
    ("collapseKey", "collapse_key"),
    ("ttl", "ttl"),
    ("sendAt", "send_at"),
)


def api_error_field(message: str | None, fields: tuple[str, ...] | set[str]) -> str | None:
    """The form field (of `fields`) an API error message is about, or None for the form."""
    text = message or ""
    for words, key in _FIELD_HINTS:
        if words in text and key in fields:
            return key
    return None


def unknown_people(asked: list[str], reached: list[str] | None) -> str | None:
    """After a send to people: words for the identifiers that name no person of the app (the
    API sends them nothing and creates no one), or None when every one was a person."""
    have = set(reached or [])
    missing = [i for i in asked if i not in have]
    if not missing:
        return None
    shown = ", ".join(_quoted(i, 24) for i in missing[:3]) + (" …" if len(missing) > 3 else "")
    people = "person" if len(asked) == 1 else "people"
    return (
        f"{len(missing)} of the {len(asked)} {people} named no person of this app and got "
        f"nothing: {shown}."
    )
