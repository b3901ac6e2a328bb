"""The FCM body built once per notification around the device token is byte for byte what the
message would be, encoded per device."""

from __future__ import annotations

import orjson
import pytest

from api.delivery import native_payload


def note(**kw) -> dict:
    return {"id": 7, "title": "Hello", "body": "World", "data": {"a": 1, "b": "two"}, "priority": "DEFAULT",
            "ttl": None, "collapse_key": None, **kw}


@pytest.mark.parametrize("n", [
    note(),
    note(title=None, body=None, data=None, ttl=0, priority="NORMAL"),  # a data message
    note(ttl=3600, collapse_key="scores", presentation={"image": "https://x/i.png", "url": "https://x", "badge": 3}),
    note(title="Ünïcödé \"quoted\" \\ </script>", data={"nested": {"k": [1, 2]}}),
])
@pytest.mark.parametrize("token", ["fcm-token:APA91b", 'odd "token" \\ é'])
def test_the_body_around_the_token_is_the_message_encoded_whole(n, token):
    head, tail = native_payload.fcm_body_around_token(n)
    assert head + orjson.dumps(token) + tail == orjson.dumps({"message": native_payload.fcm_message(token, n)})


def test_deliveries_with_another_badge_or_digest_are_another_variant():
    assert native_payload.variant(note()) == native_payload.variant(note(data={"other": "data"}))
    assert native_payload.variant(note()) != native_payload.variant(note(presentation={"badge": 2}))
    assert native_payload.variant(note()) != native_payload.variant(note(digest_count=3))
    assert native_payload.variant(note()) != native_payload.variant(note(id=8))
