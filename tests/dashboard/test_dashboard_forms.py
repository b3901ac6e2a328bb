"""Form validation and display helpers (no browser, no API)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from dashboard import forms

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("email", "ok"),
    [("a@b.co", True), ("", False), ("nope", False), ("a@b", False), ("a b@c.de", False)],
)
def test_email(email, ok):
    assert (forms.validate_email(email) is None) is ok


def test_password_rules_differ_for_sign_up_and_log_in():
    assert forms.validate_password("") == "Enter your password."
    assert forms.validate_password("short") is None
    assert "at least 8" in forms.validate_password("short", new=True)
    assert forms.validate_password("long enough", new=True) is None


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("orders", True),
        ("orders.shipped-1_a", True),
        ("", False),
        ("has space", False),
        ("x" * 64, True),
        ("x" * 65, False),
        ("émoji", False),
    ],
)
def test_channel_name(name, ok):
    assert (forms.validate_channel_name(name) is None) is ok


def test_app_name():
    assert forms.validate_app_name("  ") == "Give the app a name."
    assert forms.validate_app_name("Shop") is None
    assert forms.validate_app_name("x" * 101)


@pytest.mark.parametrize(
    ("text", "value", "error"),
    [
        ("", None, None),
        ('{"a": 1}', {"a": 1}, None),
        ("[1, 2]", None, "Data must be a JSON object"),
        ("{a: 1}", None, "Not valid JSON"),
        ('"x"', None, "Data must be a JSON object"),
    ],
)
def test_json_data(text, value, error):
    parsed, problem = forms.parse_json_data(text)
    assert parsed == value
    if error is None:
        assert problem is None
    else:
        assert problem.startswith(error)


def test_json_error_says_where():
    _, problem = forms.parse_json_data('{\n  "a": 1,\n}')
    assert "line 3" in problem


@pytest.mark.parametrize(
    ("text", "value", "bad"),
    [
        ("", None, False),
        ("60", 60, False),
        ("0", 0, False),
        ("-1", None, True),
        ("1.5", None, True),
        ("abc", None, True),
        (str(forms.MAX_TTL + 1), None, True),
    ],
)
def test_ttl(text, value, bad):
    ttl, problem = forms.parse_ttl(text)
    assert ttl == value
    assert (problem is not None) is bad


def test_schedule_converts_browser_local_time_to_utc():
    # Browser at UTC+2: getTimezoneOffset() is -120.
    when, problem = forms.parse_schedule("2026-11-24T15:30", -120, now=NOW)
    assert problem is None
    assert when == "2026-11-24T13:30:00Z"


def test_schedule_must_be_in_the_future():
    _, problem = forms.parse_schedule("2026-11-24T11:00", 0, now=NOW)
    assert problem == "The schedule time must be in the future."
    _, problem = forms.parse_schedule("tomorrow", 0, now=NOW)
    assert problem == "Pick a date and time."
    assert forms.parse_schedule("", 0, now=NOW) == (None, None)


def test_send_form_builds_the_api_input():
    check = forms.check_send_form(
        forms.SendForm(
            channel_id="ch_1",
            title=" Hello ",
            body="World",
            data='{"orderId": 42}',
            priority="HIGH",
            collapse_key="order-42",
            ttl="3600",
            send_at="2026-11-25T09:00",
            tz_offset_minutes=60,
        ),
        now=NOW,
    )
    assert check.ok, check.errors
    assert check.payload == {
        "channelId": "ch_1",
        "title": "Hello",
        "body": "World",
        "data": {"orderId": 42},
        "priority": "HIGH",
        "collapseKey": "order-42",
        "ttl": 3600,
        "sendAt": "2026-11-25T10:00:00Z",
    }
    # With the page's app: the API refuses a channel of another app (a stale page's list).
    mine = forms.check_send_form(forms.SendForm(channel_id="ch_1", title="Hi", app_id="7"), now=NOW)
    assert mine.payload == {"channelId": "ch_1", "appId": "7", "title": "Hi", "priority": "DEFAULT"}


def test_send_form_reports_every_problem_per_field():
    check = forms.check_send_form(
        forms.SendForm(
            channel_id="", data="{bad", ttl="-5", send_at="2020-01-01T00:00", priority="LOUD"
        ),
        now=NOW,
    )
    assert not check.ok
    assert set(check.errors) == {"channel", "data", "ttl", "send_at", "priority"}


def test_send_form_needs_something_to_say():
    check = forms.check_send_form(forms.SendForm(channel_id="c"), now=NOW)
    assert check.errors == {"body": "Write a title, a body or some data."}
    assert forms.check_send_form(forms.SendForm(channel_id="c", data='{"x": 1}'), now=NOW).ok


def test_send_form_refuses_oversized_payload_before_the_api_does():
    check = forms.check_send_form(forms.SendForm(channel_id="c", body="x" * 5000), now=NOW)
    # Under the field to shorten (finding 5: it was under Data, with nothing highlighted).
    assert set(check.errors) == {"body"}
    assert "at most 4096" in check.errors["body"]
    big_data = forms.SendForm(channel_id="c", title="hi", data=json.dumps({"x": "y" * 5000}))
    assert set(forms.check_send_form(big_data, now=NOW).errors) == {"data"}


def _jwt(claims: dict) -> str:
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'HS256'})}.{b64(claims)}.signature"


def test_jwt_expiry():
    fresh = _jwt({"sub": "u1", "exp": (NOW + timedelta(hours=1)).timestamp()})
    stale = _jwt({"sub": "u1", "exp": (NOW - timedelta(seconds=1)).timestamp()})
    assert not forms.jwt_expired(fresh, now=NOW)
    assert forms.jwt_expired(stale, now=NOW)
    assert forms.jwt_expired("", now=NOW)
    assert not forms.jwt_expired("not-a-jwt", now=NOW)  # unreadable: the API decides


def test_display_helpers():
    assert forms.format_time("2026-11-24T12:00:00+00:00") == "2026-11-24 12:00:00 UTC"
    assert forms.format_time(None) == "—"
    assert forms.format_ago("2026-11-24T11:58:00Z", now=NOW) == "2 minutes ago"
    assert forms.format_ago("2026-11-24T12:00:10Z", now=NOW) == "in a moment"
    assert forms.format_countdown(299) == "4:59"
    assert forms.format_countdown(0) == "expired"
    assert forms.format_quota(5, None) == "5 / unlimited"
    assert forms.format_quota(1200, 1000) == "1,200 / 1,000"
    assert forms.quota_percent(50, 100) == 50
    assert forms.quota_percent(5000, 100) == 100
    assert forms.short_token("ExponentPushToken[abcdefghijklmnopqrstuvwxyz]", 20).endswith("…")


def test_edit_form():
    check = forms.check_edit_form(" New title ", "", '{"v": 2}')
    assert check.ok and check.payload == {"title": "New title", "body": None, "data": {"v": 2}}
    assert forms.check_edit_form("", "", "").errors == {"body": "Write a title, a body or some data."}
    assert "JSON object" in forms.check_edit_form("t", "", "[1]").errors["data"]
    assert "1024" in forms.check_edit_form("x" * 1025, "", "").errors["title"]
    assert "bytes" in forms.check_edit_form("t", "b" * 5000, "").errors["body"]


def test_digest_window():
    assert forms.parse_digest_window("") == (0, None)
    assert forms.parse_digest_window("0") == (0, None)
    assert forms.parse_digest_window("300") == (300, None)
    assert forms.parse_digest_window("4")[1].startswith("Between 5")
    assert forms.parse_digest_window("86401")[1].startswith("Between 5")
    assert forms.parse_digest_window("1.5")[1] == "The digest window is a whole number of seconds."
    assert [forms.format_window(s) for s in (None, 0, 60, 300, 3600, 7200, 90)] == [
        "off", "off", "1 min", "5 min", "1 h", "2 h", "90 s"
    ]
