"""Rate limits and daily quotas under real concurrency, through the real server."""

from __future__ import annotations

import asyncio

from api.notifications.tables import DailyUsage, Notification
from tests.support import factories as f

SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"


async def _codes(api, n: int, fields: dict, **auth) -> list[str | None]:
    async def one(i: int):
        body = await api.raw(SEND, {"i": {**fields, "title": f"n{i}"}}, **auth)
        return body["errors"][0] if body.get("errors") else None

    return await asyncio.gather(*(one(i) for i in range(n)))


async def test_app_rate_limit_is_exact_under_concurrency_and_says_when_to_retry(api, settings):
    settings.app_rate = "10/minute"
    app = await f.make_app(api, plan="BUSINESS")
    await f.make_channel(api, app, name="news")
    errors = await _codes(api, 25, {"channel": "news"}, api_key=app.api_key)
    refused = [e for e in errors if e]
    assert len(refused) == 15
    assert {e["extensions"]["code"] for e in refused} == {"RATE_LIMITED"}
    assert all(1 <= e["extensions"]["retryAfter"] <= 60 for e in refused)
    assert await Notification.count() == 10


async def test_anonymous_sends_are_limited_per_channel_and_per_ip(api, settings):
    settings.anonymous_channel_rate = "5/minute"
    settings.anonymous_ip_rate = "8/minute"
    first = await _codes(api, 7, {"channel": "public-a"})
    assert sum(e is None for e in first) == 5  # the channel's limit
    second = await _codes(api, 7, {"channel": "public-b"})
    # The IP has 8 in all: 5 were used on public-a (refusals count too: 2 more), so 1 left.
    assert sum(e is None for e in second) == 1
    assert {e["extensions"]["code"] for e in first + second if e} == {"RATE_LIMITED"}


async def test_trusted_proxy_forwarded_for_decides_the_client_ip(api, settings):
    settings.anonymous_ip_rate = "2/minute"
    settings.trusted_proxies = "127.0.0.1/32"
    for client in ("198.51.100.1", "198.51.100.2"):
        headers = {"x-forwarded-for": f"{client}, 127.0.0.1"}
        results = [await api.raw(SEND, {"i": {"channel": f"c-{client}", "body": "x"}}, headers=headers)
                   for _ in range(3)]
        assert [bool(r.get("errors")) for r in results] == [False, False, True]


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(api, settings):
    settings.anonymous_ip_rate = "2/minute"
    settings.trusted_proxies = ""
    results = [
        await api.raw(SEND, {"i": {"channel": "spoof", "body": "x"}}, headers={"x-forwarded-for": f"203.0.113.{i}"})
        for i in range(3)
    ]
    assert [bool(r.get("errors")) for r in results] == [False, False, True]


async def test_daily_quota_is_exact_under_concurrency(api, settings):
    settings.quota_free = 12
    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    errors = await _codes(api, 30, {"channel": "news"}, api_key=app.api_key)
    assert sum(e is None for e in errors) == 12
    assert {e["extensions"]["code"] for e in errors if e} == {"QUOTA_EXCEEDED"}
    assert await Notification.count() == 12
    usage = await DailyUsage.select(DailyUsage.count).first()
    assert usage["count"] == 12
    data = await api.ok("query($a: ID!) { app(id: $a) { usage { notificationsToday dailyQuota } } }",
                        {"a": app.id}, api_key=app.api_key)
    assert data["app"]["usage"] == {"notificationsToday": 12, "dailyQuota": 12}


async def test_business_apps_have_no_quota_and_idempotent_repeats_take_none(api, settings):
    settings.quota_free = 2
    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    for _ in range(3):
        await f.send(api, app, channel="news", title="same", idempotencyKey="k-1")
    assert await Notification.count() == 1
    assert (await DailyUsage.select(DailyUsage.count).first())["count"] == 1
    business = await f.make_app(api, plan="BUSINESS")
    await f.make_channel(api, business, name="news")
    errors = await _codes(api, 5, {"channel": "news"}, api_key=business.api_key)
    assert errors == [None] * 5
    data = await api.ok("query($a: ID!) { app(id: $a) { usage { dailyQuota notificationsToday } } }",
                        {"a": business.id}, api_key=business.api_key)
    # Unlimited: counted outside the send's transaction (api/notifications/usage.py), still exact.
    assert data["app"]["usage"] == {"dailyQuota": None, "notificationsToday": 5}


async def test_log_in_is_throttled_per_address_and_per_account(api, settings):
    owner = await f.make_user(api, email="victim@example.com")
    settings.auth_rate = "3/minute"
    await api_reset_limiter(api)
    query = 'mutation($e: String!) { logIn(email: $e, password: "wrong password") { token } }'
    codes = [await api.code(query, {"e": owner.email}) for _ in range(4)]
    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]
    # Another account from the same address is refused too: the address used its budget.
    assert await api.code(query, {"e": "someone@example.com"}) == "RATE_LIMITED"


async def test_device_registration_is_throttled_per_address(api, settings):
    settings.device_rate = "2/minute"
    results = [await api.raw('mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { device { id } } }',
                             {"t": f"ExponentPushToken[r{i}]"}) for i in range(3)]
    assert [bool(r.get("errors")) for r in results] == [False, False, True]
    assert results[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_per_address_limits_count_an_ipv6_slash_64_as_one_client(api, settings):
    """One subscriber holds a whole /64: counted per address, it had 2^64 budgets for device
    registrations, sign-ups and anonymous sends (only access-code redeems counted the /64)."""
    settings.trusted_proxies = "127.0.0.1/32"
    settings.device_rate = "2/minute"
    register = 'mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { device { id } } }'
    results = [await api.raw(register, {"t": f"ExponentPushToken[v6-{i}]"},
                             headers={"x-forwarded-for": f"2001:db8:1:2::{i + 1:x}"}) for i in range(3)]
    assert [bool(r.get("errors")) for r in results] == [False, False, True]
    assert results[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    other = await api.raw(register, {"t": "ExponentPushToken[v6-other]"},
                          headers={"x-forwarded-for": "2001:db8:1:3::1"})  # another /64
    assert not other.get("errors")
    settings.anonymous_ip_rate = "1/minute"
    first = await api.raw(SEND, {"i": {"channel": "v6-news", "title": "a"}}, headers={"x-forwarded-for": "2001:db8:9::1"})
    second = await api.raw(SEND, {"i": {"channel": "v6-news", "title": "b"}}, headers={"x-forwarded-for": "2001:db8:9::2"})
    assert not first.get("errors") and second["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def api_reset_limiter(api) -> None:
    from api.runtime import get_runtime

    await get_runtime().limiter.reset()


CREATE_APP = "mutation($n: String!) { createApp(name: $n) { app { id } } }"
CREATE_CHANNEL = "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n) { id } }"
CREATE_KEY = "mutation($a: ID!) { createApiKey(appId: $a) { secret } }"
REVOKE_KEY = "mutation($k: ID!) { revokeApiKey(id: $k) { revokedAt } }"


def _quota(body: dict) -> bool:
    return bool(body.get("errors")) and body["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"


async def test_an_app_holds_at_most_its_allowance_of_channels_even_when_created_at_once(api, settings):
    """An app's key could create channels at its rate limit all day, each listed whole by
    App.channels. Concurrent creates must not pass the allowance together."""
    from api.channels.tables import Channel

    settings.app_rate = "1000/second"
    settings.max_channels_per_app = 5
    app = await f.make_app(api)
    other = await f.make_app(api)
    await f.make_channel(api, app, name="first")
    bodies = await asyncio.gather(*(api.raw(CREATE_CHANNEL, {"a": app.id, "n": f"c{i}"}, api_key=app.api_key)
                                    for i in range(12)))
    assert sum(not b.get("errors") for b in bodies) == 4
    refused = [b for b in bodies if b.get("errors")]
    assert all(_quota(b) for b in refused), refused
    assert "BOOPER_MAX_CHANNELS_PER_APP" in refused[0]["errors"][0]["message"]
    assert await Channel.count().where(Channel.app == int(app.id)) == 5
    again = await api.raw(CREATE_CHANNEL, {"a": app.id, "n": "first"}, api_key=app.api_key)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"  # at the allowance, a taken name is still that
    await f.make_channel(api, other, name="first")  # another app's allowance is its own
    channels = await api.ok("query($a: ID!) { app(id: $a) { channels { id name } } }", {"a": app.id},
                            api_key=app.api_key)
    doomed = next(c for c in channels["app"]["channels"] if c["name"] == "first")
    await api.ok("mutation($c: ID!) { deleteChannel(id: $c) }", {"c": doomed["id"]}, api_key=app.api_key)
    await f.make_channel(api, app, name="after-a-delete")


async def test_an_account_holds_at_most_its_allowance_of_apps(api, settings):
    from api.apps.tables import App

    settings.max_apps_per_user = 2
    owner = await f.make_user(api)
    bodies = await asyncio.gather(*(api.raw(CREATE_APP, {"n": f"a{i}"}, token=owner.token) for i in range(5)))
    assert sum(not b.get("errors") for b in bodies) == 2
    assert all(_quota(b) for b in bodies if b.get("errors"))
    assert await App.count().where(App.owner == int(owner.user_id)) == 2
    await f.make_app(api)  # another account's allowance is its own


async def test_an_app_holds_at_most_its_allowance_of_live_api_keys(api, settings):
    settings.max_api_keys_per_app = 3
    app = await f.make_app(api)  # its first key is one
    token = app.owner.token
    bodies = await asyncio.gather(*(api.raw(CREATE_KEY, {"a": app.id}, token=token) for _ in range(4)))
    assert sum(not b.get("errors") for b in bodies) == 2
    assert all(_quota(b) for b in bodies if b.get("errors"))
    keys = await api.ok("query($a: ID!) { app(id: $a) { apiKeys { id revokedAt } } }", {"a": app.id}, token=token)
    assert len(keys["app"]["apiKeys"]) == 3
    await api.ok(REVOKE_KEY, {"k": keys["app"]["apiKeys"][-1]["id"]}, token=token)
    await api.ok(CREATE_KEY, {"a": app.id}, token=token)  # a revoked key frees its place
    assert _quota(await api.raw(CREATE_KEY, {"a": app.id}, token=token))


async def test_revoking_keys_in_a_loop_keeps_only_the_latest_revoked_ones(api, settings, monkeypatch):
    """The live-key allowance alone let an owner create and revoke keys in a loop: each revoked
    key stayed, listed by App.apiKeys, without end."""
    from api import allowances

    monkeypatch.setattr(allowances, "KEPT_REVOKED_KEYS", 2)
    settings.max_api_keys_per_app = 2
    app = await f.make_app(api)
    token = app.owner.token
    revoked = []
    for _ in range(5):
        await api.ok(CREATE_KEY, {"a": app.id}, token=token)
        keys = (await api.ok("query($a: ID!) { app(id: $a) { apiKeys { id revokedAt } } }", {"a": app.id},
                             token=token))["app"]["apiKeys"]
        newest = max((k for k in keys if k["revokedAt"] is None), key=lambda k: int(k["id"]))
        await api.ok(REVOKE_KEY, {"k": newest["id"]}, token=token)
        revoked.append(newest["id"])
    keys = (await api.ok("query($a: ID!) { app(id: $a) { apiKeys { id revokedAt } } }", {"a": app.id},
                         token=token))["app"]["apiKeys"]
    assert sorted(k["id"] for k in keys if k["revokedAt"]) == sorted(revoked[-2:])
    assert len([k for k in keys if k["revokedAt"] is None]) == 1  # the app's first key, untouched


async def test_subscribing_is_throttled_per_device(api, settings):
    """A subscribe and unsubscribe loop on any app's public channel told that app's webhook of a
    newly registered device on every turn, with no limit."""
    settings.subscribe_rate = "3/minute"
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    device, other = await f.make_expo_device(api), await f.make_expo_device(api)
    turn = "mutation($t: String!, $c: ID!) { subscribe(deviceToken: $t, channelId: $c) { id } }"
    leave = "mutation($t: String!, $c: ID!) { unsubscribe(deviceToken: $t, channelId: $c) }"
    for _ in range(3):
        await api.ok(turn, {"t": device["token"], "c": channel["id"]}, device_key=device["key"])
        await api.ok(leave, {"t": device["token"], "c": channel["id"]}, device_key=device["key"])
    refused = await api.raw(turn, {"t": device["token"], "c": channel["id"]}, device_key=device["key"])
    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    await api.ok(turn, {"t": other["token"], "c": channel["id"]}, device_key=other["key"])  # its own budget


SUBSCRIBE = "mutation($t: String!, $c: ID, $n: String) { subscribe(deviceToken: $t, channelId: $c, name: $n) { id } }"


async def test_a_device_follows_at_most_its_allowance_of_channels_even_when_subscribing_at_once(api, settings):
    """Subscribing by new public names made a channel and a subscription on every call, without
    end, each re-read by the device's stream. Concurrent subscribes must not pass the allowance
    together; at it, no public channel is made on the way to the refusal."""
    from api.channels.tables import Channel, ChannelSubscription

    settings.max_subscriptions_per_device = 3
    app = await f.make_app(api)
    channels = [await f.make_channel(api, app, name=f"c{i}") for i in range(6)]
    device, other = await f.make_expo_device(api), await f.make_expo_device(api)
    bodies = await asyncio.gather(*(api.raw(SUBSCRIBE, {"t": device["token"], "c": c["id"]},
                                            device_key=device["key"]) for c in channels))
    assert sum(not b.get("errors") for b in bodies) == 3, bodies
    refused = [b for b in bodies if b.get("errors")]
    assert all(_quota(b) for b in refused), refused
    assert "BOOPER_MAX_SUBSCRIPTIONS_PER_DEVICE" in refused[0]["errors"][0]["message"]
    assert await ChannelSubscription.count().where(ChannelSubscription.device == int(device["id"])) == 3
    followed = [c for c, b in zip(channels, bodies) if not b.get("errors")]
    again = await api.raw(SUBSCRIBE, {"t": device["token"], "c": followed[0]["id"]}, device_key=device["key"])
    assert not again.get("errors"), again  # one it follows already is no new row
    settings.max_subscriptions_per_device = 2  # lowered since: past it, following again still works
    again = await api.raw(SUBSCRIBE, {"t": device["token"], "c": followed[1]["id"]}, device_key=device["key"])
    assert not again.get("errors"), again
    settings.max_subscriptions_per_device = 3
    by_name = await api.raw(SUBSCRIBE, {"t": device["token"], "n": "brand-new-name"}, device_key=device["key"])
    assert _quota(by_name), by_name
    assert not await Channel.exists().where(Channel.name == "brand-new-name")
    unknown = await api.raw(SUBSCRIBE, {"t": device["token"], "c": "99999999"}, device_key=device["key"])
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # at the allowance, nothing is still that
    await api.ok(SUBSCRIBE, {"t": other["token"], "c": channels[5]["id"]}, device_key=other["key"])  # its own
    leave = "mutation($t: String!, $c: ID!) { unsubscribe(deviceToken: $t, channelId: $c) }"
    await api.ok(leave, {"t": device["token"], "c": followed[0]["id"]}, device_key=device["key"])
    await api.ok(SUBSCRIBE, {"t": device["token"], "n": "brand-new-name"}, device_key=device["key"])


async def test_an_access_code_needs_room_for_its_channels_and_stays_unused_without(api, settings):
    """redeemAccessCode subscribed the device to all of the code's channels whatever it already
    followed: a way past the allowance. Refused, the code is not spent, nor is a guess."""
    from api.access_codes.tables import AccessCode
    from api.devices.tables import DeviceAccessGrant

    settings.max_subscriptions_per_device = 3
    settings.access_code_unscoped_failures = 2
    app = await f.make_app(api)
    news, sport = await f.make_channel(api, app, name="news"), await f.make_channel(api, app, name="sport")
    for name in ("vip", "staff"):
        await f.make_channel(api, app, name=name, visibility="PRIVATE")
    code = await f.access_code(api, app, ["vip", "staff"])
    device = await f.make_expo_device(api)
    for channel in (news, sport):
        await api.ok(SUBSCRIBE, {"t": device["token"], "c": channel["id"]}, device_key=device["key"])
    redeem = "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { name } }"
    for _ in range(3):  # more than the budget of wrong guesses (2 here): none was spent
        refused = await api.raw(redeem, {"c": code["code"], "t": device["token"]}, device_key=device["key"])
        assert _quota(refused), refused
    assert (await AccessCode.select(AccessCode.redeemed_at).first())["redeemed_at"] is None
    assert await DeviceAccessGrant.count() == 0
    leave = "mutation($t: String!, $c: ID!) { unsubscribe(deviceToken: $t, channelId: $c) }"
    await api.ok(leave, {"t": device["token"], "c": sport["id"]}, device_key=device["key"])
    joined = await api.ok(redeem, {"c": code["code"], "t": device["token"]}, device_key=device["key"])
    assert sorted(c["name"] for c in joined["redeemAccessCode"]) == ["staff", "vip"]
    # At the allowance, a code for channels it follows already takes no room: let through.
    again = await f.access_code(api, app, ["vip"])
    assert (await api.ok(redeem, {"c": again["code"], "t": device["token"]},
                         device_key=device["key"]))["redeemAccessCode"] == [{"name": "vip"}]
    names = await api.ok("query($t: String) { channels(deviceToken: $t) { name } }", {"t": device["token"]},
                         device_key=device["key"])
    assert sorted(c["name"] for c in names["channels"]) == ["news", "staff", "vip"]
