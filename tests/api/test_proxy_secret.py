"""The dashboard's server speaks for many browsers: the API believes its X-Forwarded-For only
when it proves itself with BOOPER_PROXY_SECRET, so every log-in throttle is per person."""

from __future__ import annotations

import pytest

LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }"
SECRET = "s3cret-shared-by-the-dashboard-0123456789"


async def _refused(api, email: str, headers: dict, n: int) -> list[bool]:
    """n wrong-password log-ins; which of them the throttle refused (RATE_LIMITED)."""
    results = []
    for _ in range(n):
        body = await api.raw(LOG_IN, {"e": email, "p": "wrong password"}, headers=headers)
        codes = {e["extensions"]["code"] for e in body.get("errors") or []}
        assert codes, body  # a wrong password is never a success
        results.append("RATE_LIMITED" in codes)
    return results


async def test_forwarded_for_without_the_secret_is_ignored(api, settings):
    settings.auth_rate = "3/hour"  # hours: the sliding window counter forgives at a window edge
    settings.proxy_secret = SECRET
    # A forged address (and a wrong secret) per attempt: all count against the real peer.
    first = await _refused(api, "a@example.com", {"x-forwarded-for": "198.51.100.7"}, 3)
    forged = {"x-forwarded-for": "198.51.100.8", "x-booper-proxy": "not-the-secret"}
    second = await _refused(api, "b@example.com", forged, 1)
    assert first + second == [False, False, False, True]


async def test_forwarded_for_with_the_secret_is_believed(api, settings):
    settings.auth_rate = "3/hour"  # hours: the sliding window counter forgives at a window edge
    settings.proxy_secret = SECRET
    one = {"x-forwarded-for": "198.51.100.7", "x-booper-proxy": SECRET}
    other = {"x-forwarded-for": "198.51.100.8", "x-booper-proxy": SECRET}
    # One person's failures lock that person out, not the next person behind the same proxy.
    assert await _refused(api, "a@example.com", one, 4) == [False, False, False, True]
    assert await _refused(api, "b@example.com", other, 3) == [False, False, False]


async def test_without_a_configured_secret_the_header_proves_nothing(api, settings):
    settings.auth_rate = "3/hour"  # hours: the sliding window counter forgives at a window edge
    settings.proxy_secret = None
    forwarded = [{"x-forwarded-for": f"198.51.100.{i}", "x-booper-proxy": ""} for i in range(4)]
    results = [(await _refused(api, f"u{i}@example.com", h, 1))[0] for i, h in enumerate(forwarded)]
    assert results == [False, False, False, True]


def test_a_short_proxy_secret_is_refused_at_start():
    import pydantic

    from api.settings import Settings

    with pytest.raises(pydantic.ValidationError, match="at least 32"):
        Settings(proxy_secret="guessable")
    assert Settings(proxy_secret=SECRET).proxy_secret == SECRET
