"""The people pages' and direct sends' pure helpers: identifiers in URLs, the send page's
identifiers and device ids, quiet hours, and API errors placed on their field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard import forms
from dashboard.people_forms import (
    MAX_TARGETS,
    api_error_field,
    check_quiet_hours,
    default_zone,
    export_filename,
    parse_device_ids,
    parse_identifiers,
    person_identifier,
    person_path,
    person_segment,
    time_zones,
    unknown_people,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "identifier",
    ["user-42", "ada@example.com", "a/b", "50%", "?x=1#y", ".", "..", "~", "~~x", "ü ñ 空", "a.b"],
)
def test_identifier_survives_the_url_path(identifier):
    segment = person_segment(identifier)
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert segment not in (".", "..")  # a browser resolves dot segments away
    assert person_identifier(segment) == identifier


def test_person_path():
    assert person_path("7", "a/b c") == "/apps/7/people/a%2Fb%20c"
    assert person_path("7", "..") == "/apps/7/people/~.."


def test_identifiers_split_on_commas_and_newlines_once_each():
    ids, problem = parse_identifiers(" user-1, user-2\nuser-1\r\n\n,user-3 ")
    assert problem is None
    assert ids == ["user-1", "user-2", "user-3"]


def test_identifiers_refused_with_a_reason():
    assert parse_identifiers(" , \n")[1] == "Name at least one person (their identifier)."
    assert "at most 128" in parse_identifiers("x" * 129)[1]
    assert "control characters" in parse_identifiers("a\tb")[1]
    many = "\n".join(f"u{i}" for i in range(MAX_TARGETS + 1))
    assert "At most 1,000 people" in parse_identifiers(many)[1]
    assert parse_identifiers("\n".join(f"u{i}" for i in range(MAX_TARGETS)))[1] is None


def test_device_ids():
    assert parse_device_ids("17, 18\n17") == (["17", "18"], None)
    assert "not a device id" in parse_device_ids("17, abc")[1]
    assert "not a device id" in parse_device_ids("0")[1]
    assert "not a device id" in parse_device_ids("١٢")[1]  # digits, but not ASCII ones
    assert parse_device_ids("")[1] == "Name at least one device id."


def test_send_form_to_people_and_devices():
    people = forms.check_send_form(
        forms.SendForm(target="people", identifiers="u1,u2", title="Hi", app_id="7"), now=NOW
    )
    assert people.ok
    assert people.payload["identifiers"] == ["u1", "u2"] and people.payload["appId"] == "7"
    assert "channelId" not in people.payload
    devices = forms.check_send_form(
        forms.SendForm(target="devices", device_ids="5", body="x", app_id="7"), now=NOW
    )
    assert devices.payload["deviceIds"] == ["5"] and "identifiers" not in devices.payload
    bad = forms.check_send_form(forms.SendForm(target="people", title="Hi"), now=NOW)
    assert set(bad.errors) == {"identifiers"}
    # The channel target is as before: the channel is required.
    assert set(forms.check_send_form(forms.SendForm(title="Hi"), now=NOW).errors) == {"channel"}


def test_quiet_hours_checked_per_field():
    assert check_quiet_hours("22:00", "07:00", "Europe/Berlin") == {}
    assert set(check_quiet_hours("25:00", "7", "Europe/Berlin")) == {"start", "end"}
    assert check_quiet_hours("22:00", "22:00", "UTC") == {"end": "The end must differ from the start."}
    assert set(check_quiet_hours("22:00", "07:00", "Mars/Olympus")) == {"zone"}
    assert check_quiet_hours("22:00", "07:00", "US/Eastern") == {}  # an alias zoneinfo knows


def test_time_zones_and_the_default():
    zones = time_zones()
    assert "Europe/Berlin" in zones and "America/New_York" in zones and zones[-1] == "UTC"
    assert not any(z.startswith(("Etc/", "posix/", "right/")) for z in zones)
    assert default_zone("Asia/Tokyo") == "Asia/Tokyo"
    assert default_zone("Nowhere/Else") == "UTC"
    assert default_zone(None) == "UTC"


@pytest.mark.parametrize(
    ("message", "fields", "expected"),
    [
        ("quietHours.start must be a time of day as HH:MM (00:00-23:59)", {"start", "end"}, "start"),
        ("quietHours.start and quietHours.end must differ", {"start", "end"}, "end"),
        ("unknown time zone 'X/Y': use an IANA name, e.g. Europe/Berlin", {"zone"}, "zone"),
        ("channel not found: mutedChannelIds must be channels of the app", {"muted"}, "muted"),
        ("each identifier must have 1-128 characters", {"identifiers", "title"}, "identifiers"),
        ("identifiers may name at most 1000 at once", {"identifiers"}, "identifiers"),
        ("device not found", {"device_ids"}, "device_ids"),
        ("invalid device id: 'x'", {"device_ids"}, "device_ids"),
        ("channel not found", {"channel", "title"}, "channel"),
        ("ttl must be between 0 and 2419200 seconds", {"ttl", "channel"}, "ttl"),
        ("device not found", {"identifiers"}, None),  # not a field on the form: the form's
        (None, {"title"}, None),
    ],
)
def test_api_errors_land_on_their_field(message, fields, expected):
    assert api_error_field(message, fields) == expected


def test_export_filename():
    assert export_filename("ada@example.com") == "person-ada_example.com.json"
    assert export_filename("../../etc") == "person-etc.json"
    assert export_filename("空") == "person-export.json"
    assert len(export_filename("x" * 500)) <= len("person-.json") + 60


def test_unknown_people_are_named_after_a_send():
    assert unknown_people(["a", "b"], ["b", "a"]) is None
    assert unknown_people(["ghost"], None) == "1 of the 1 person named no person of this app and got nothing: 'ghost'."
    words = unknown_people(["a", "x1", "x2", "x3", "x4"], ["a"])
    assert words.startswith("4 of the 5 people") and "'x3' …" in words and "x4" not in words
