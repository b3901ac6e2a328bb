"""Trust that holds after the fact: live streams and open sockets lose what their caller lost,
ids are never reused, and a push token is an address, not a credential (issue 10, findings 1-3).

Each test here failed before the fix it names; all run over real HTTP and WebSocket against the
test server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from api.security import issue_jwt
from tests.api.conftest import expo_token, make_world
from tests.delivery.helpers import wait_deliveries
from tests.support import factories as f
from tests.support.graphql import socket

APP_STREAM = "subscription($a: ID) { notifications(appId: $a) { id title channel { id } } }"
DEVICE_STREAM = "subscription($t: String) { notifications(deviceToken: $t) { id title } }"
DELIVERY_STREAM = "subscription($a: ID!) { deliveryEvents(appId: $a) { id status } }"
QUIET = 1.0  # how long a stream must stay silent to count as "received nothing"


async def next_message(sock, op_id: str, timeout: float = 5) -> dict:
    return await sock.receive(op_id, timeout)


async def silent(sock, op_id: str) -> bool:
    try:
        message = await sock.receive(op_id, QUIET)
    except TimeoutError:
        return True
    raise AssertionError(f"expected nothing, got {message}")


def verification_code(sandbox, token: str) -> str:
    """The code of the last verification push the sandbox received for this Expo token."""
    pushes = [m["message"]["data"] for m in sandbox.messages(token) if (m["message"].get("data") or {}).get("code")]
    return pushes[-1]["code"]


def ended_with(message: dict, *codes: str) -> None:
    """The stream ended with an error that has one of these codes."""
    if message["type"] == "next":
        errors = message["payload"].get("errors")
        assert errors, f"expected the stream to end with an error, got {message}"
    else:
        assert message["type"] == "error", message
        errors = message["payload"]
    assert errors[0]["extensions"]["code"] in codes, errors


async def test_ids_are_never_reused(api):
    """Finding 1: SQLite handed a deleted app's id (and a channel's, a device's) to the next one."""
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    device = await f.make_expo_device(api)
    await api.ok("mutation($c: ID!) { deleteChannel(id: $c) }", {"c": channel["id"]}, api_key=app.api_key)
    await api.ok("mutation($a: ID!) { deleteApp(id: $a) }", {"a": app.id}, token=app.owner.token)
    from api.devices.tables import Device

    await Device.delete().where(Device.id == int(device["id"]))  # retention removes device rows too
    again = await f.make_app(api)
    again_channel = await f.make_channel(api, again)
    again_device = await f.make_expo_device(api)
    assert int(again.id) > int(app.id)
    assert int(again_channel["id"]) > int(channel["id"])
    assert int(again_device["id"]) > int(device["id"])


async def test_an_app_stream_ends_when_the_app_is_deleted_and_never_sees_the_next_app(api):
    """Finding 1: user B's stream on app 4 kept running after B deleted it, and received the
    private notifications of the app user A created next (which got id 4 again)."""
    b = await f.make_app(api, name="B")
    async with socket(api.url, {"authorization": f"Bearer {b.owner.token}"}) as sock:
        stream = await sock.start(APP_STREAM, {"a": b.id})
        deliveries = await sock.start(DELIVERY_STREAM, {"a": b.id})
        await asyncio.sleep(0.3)
        await api.ok("mutation($a: ID!) { deleteApp(id: $a) }", {"a": b.id}, token=b.owner.token)
        a = await f.make_app(api, name="A")
        private = await f.make_channel(api, a, name="secret", visibility="PRIVATE")
        device = await f.make_expo_device(api)
        code = await f.access_code(api, a, ["secret"])
        await api.ok("mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
                     {"c": code["code"], "t": device["token"]})
        await f.send(api, a, channelId=private["id"], title="A's secret")
        ended_with(await next_message(sock, stream), "NOT_FOUND", "UNAUTHENTICATED")
        ended_with(await next_message(sock, deliveries), "NOT_FOUND", "UNAUTHENTICATED")


async def test_a_channel_stream_ends_when_the_channel_is_deleted(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    other = await f.make_channel(api, app, name="other")
    async with socket(api.url) as sock:
        stream = await sock.start('subscription($a: ID) { notifications(appId: $a, channel: "news") { id } }',
                                  {"a": app.id})
        await asyncio.sleep(0.3)
        await f.send(api, app, channelId=news["id"], title="one")
        assert (await next_message(sock, stream))["type"] == "next"
        await api.ok("mutation($c: ID!) { deleteChannel(id: $c) }", {"c": news["id"]}, api_key=app.api_key)
        ended_with(await next_message(sock, stream), "NOT_FOUND")  # at once, with no event to carry it
        recreated = await f.make_channel(api, app, name="news")
        assert int(recreated["id"]) > int(news["id"])
        await f.send(api, app, channelId=other["id"], title="elsewhere")


async def test_a_device_stream_stops_at_once_after_unsubscribe_and_ends_after_unregister(api):
    """Finding 1: a device's stream kept receiving channels it had left, and outlived the device."""
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    sport = await f.make_channel(api, app, name="sport")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    await f.subscribe(api, device, sport)
    async with socket(api.url, {"deviceKey": device["key"]}) as sock:
        stream = await sock.start(DEVICE_STREAM, {"t": device["token"]})
        await asyncio.sleep(0.3)
        await api.ok("mutation($t: String!, $c: ID) { unsubscribe(deviceToken: $t, channelId: $c) }",
                     {"t": device["token"], "c": news["id"]})
        await f.send(api, app, channelId=news["id"], title="left")
        await f.send(api, app, channelId=sport["id"], title="still here")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "still here"
        await api.ok("mutation($t: String!) { unregisterDevice(deviceToken: $t) }", {"t": device["token"]})
        await f.send(api, app, channelId=sport["id"], title="after unregister")
        ended_with(await next_message(sock, stream), "UNAUTHENTICATED")


async def listening(runtime, topic: str, present: bool = True) -> None:
    """Until the (in-process) server's live hub has a stream listening to `topic`, or none: the
    grant or withdrawal reached the stream, which checks its access and follows it."""
    deadline = time.monotonic() + 10
    while (topic in runtime.live._subscribers) != present:
        assert time.monotonic() < deadline, f"no stream {'came to listen' if present else 'left'} {topic}"
        await asyncio.sleep(0.02)


async def test_a_device_stream_receives_channels_joined_while_it_is_open(api, runtime):
    """A device that subscribed to a channel, or redeemed an access code, while its stream was
    open received nothing from those channels until it reconnected: the stream's topics were
    fixed when it opened. A channel left again is not received."""
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    sport = await f.make_channel(api, app, name="sport")
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    vip_code = await f.access_code(api, app, ["vip"])
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    async with socket(api.url, {"deviceKey": device["key"]}) as sock:
        stream = await sock.start(DEVICE_STREAM, {"t": device["token"]})
        await listening(runtime, f"channel:{news['id']}")
        await f.subscribe(api, device, sport)
        await listening(runtime, f"channel:{sport['id']}")  # the grant reaches the stream through the hub
        await f.send(api, app, channelId=sport["id"], title="joined")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "joined"

        await api.ok("mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
                     {"c": vip_code["code"], "t": device["token"]})
        await listening(runtime, f"channel:{vip['id']}")
        await f.send(api, app, channel="vip", title="for members")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "for members"

        await api.ok("mutation($t: String!, $c: ID) { unsubscribe(deviceToken: $t, channelId: $c) }",
                     {"t": device["token"], "c": sport["id"]})
        await listening(runtime, f"channel:{sport['id']}", present=False)
        await f.send(api, app, channelId=sport["id"], title="left again")
        await f.send(api, app, channelId=news["id"], title="news")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "news"
        assert await silent(sock, stream)


async def test_a_private_subscription_without_its_grant_counts_for_nothing(api, runtime):
    """A subscription to a private channel left without its grant (subscribe racing a withdrawal,
    which deleted the subscriptions before the grants, before subscribe held the grant until it
    had written) was listed, and followed by an open stream at the next check. Made here by
    deleting the grant alone; it must count for nothing."""
    w = await make_world(api)  # the device follows news and, through its grant, vip
    async with socket(api.url, {"deviceKey": w.device["key"]}) as sock:
        stream = await sock.start(DEVICE_STREAM, {"t": w.device["token"]})
        await listening(runtime, f"channel:{w.private['id']}")
        from api.devices.tables import DeviceAccessGrant

        await DeviceAccessGrant.delete().where(DeviceAccessGrant.device == int(w.device["id"]))
        await runtime.live.access_changed(f"device:{w.device['id']}", granted=True)  # the racing subscribe's
        await listening(runtime, f"channel:{w.private['id']}", present=False)
        await f.send(api, w.app, channelId=w.private["id"], title="vip only")
        await f.send(api, w.app, channelId=w.public["id"], title="news for all")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "news for all"
    mine = await api.ok("query($t: String) { channels(deviceToken: $t) { name } }", {"t": w.device["token"]})
    assert [c["name"] for c in mine["channels"]] == ["news"]


async def test_the_migration_deletes_private_subscriptions_the_race_left_without_a_grant(api):
    """Such a row, left by the race above before the fix, was still pushed to: the channel fan-out
    reads subscriptions alone. The migration deletes it, and only it."""
    import importlib

    from api.channels.tables import ChannelSubscription
    from api.devices.tables import DeviceAccessGrant

    migration = importlib.import_module("migrations.booper_2026_11_30t22_00_00_000000")
    w = await make_world(api)  # the device follows news and, through its grant, vip
    other = w.other_device  # redeems a code for vip (which subscribes it) and keeps its grant
    code = await f.access_code(api, w.app, ["vip"])
    await api.ok("mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
                 {"c": code["code"], "t": other["token"]})
    await DeviceAccessGrant.delete().where(DeviceAccessGrant.device == int(w.device["id"]))
    before = await f.send(api, w.app, channelId=w.private["id"], title="vip only")
    # The hole: the ungranted device still gets a delivery of the private channel.
    assert sorted(d["device"] for d in await wait_deliveries(before["id"], "DELIVERED", count=2)) == sorted(
        [int(w.device["id"]), int(other["id"])])

    assert await migration.delete_ungranted_subscriptions() == 1
    assert await migration.delete_ungranted_subscriptions() == 0
    left = await ChannelSubscription.select(ChannelSubscription.device, ChannelSubscription.channel).where(
        ChannelSubscription.device.is_in([int(w.device["id"]), int(other["id"])]))
    assert sorted((r["device"], r["channel"]) for r in left) == sorted(
        [(int(w.device["id"]), int(w.public["id"])), (int(other["id"]), int(w.private["id"]))])
    after = await f.send(api, w.app, channelId=w.private["id"], title="vip only, again")
    assert [d["device"] for d in await wait_deliveries(after["id"], "DELIVERED", count=1)] == [int(other["id"])]


async def test_a_device_stream_ends_when_its_provider_reports_the_token_dead(api, sandbox):
    """A stream outlived its device by up to a minute when the provider, not the device, ended it
    (DeviceNotRegistered): channel events kept coming until the stream's periodic check."""
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    sandbox.faults({"provider": "expo", "match": device["token"], "fault": "DeviceNotRegistered"})
    async with socket(api.url, {"deviceKey": device["key"]}) as sock:
        stream = await sock.start(DEVICE_STREAM, {"t": device["token"]})
        await asyncio.sleep(0.3)
        sent = await f.send(api, app, channelId=news["id"], title="last one")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "last one"
        await wait_deliveries(sent["id"], "FAILED", count=1)
        ended_with(await next_message(sock, stream, timeout=3), "UNAUTHENTICATED")


async def test_a_private_channel_stream_ends_when_the_subscription_is_deleted(api):
    """Finding 1: deleteSubscription withdrew a device's access to a private channel, but not from its stream."""
    w = await make_world(api)
    async with socket(api.url, {"deviceKey": w.device["key"]}) as sock:
        stream = await sock.start(DEVICE_STREAM, {"t": w.device["token"]})
        await asyncio.sleep(0.3)
        await api.ok("mutation($s: ID!) { deleteSubscription(id: $s) }", {"s": w.private_subscription},
                     api_key=w.app.api_key)
        await f.send(api, w.app, channelId=w.private["id"], title="vip only")
        await f.send(api, w.app, channelId=w.public["id"], title="news for all")
        message = await next_message(sock, stream)
        assert message["payload"]["data"]["notifications"]["title"] == "news for all"


async def test_a_revoked_key_stops_working_on_an_open_socket(api):
    """Finding 2: after revokeApiKey, an open socket could still create access codes, send and read tokens."""
    w = await make_world(api)
    async with socket(api.url, {"apiKey": w.app.api_key}) as sock:
        stream = await sock.start(APP_STREAM, {"a": w.app.id})
        code = 'mutation { createAccessCode(input: {channels: ["vip"]}) { code } }'
        assert not (await sock.execute(code)).get("errors")
        key_id = (await api.ok("query($a: ID!) { app(id: $a) { apiKeys { id } } }", {"a": w.app.id},
                               token=w.owner.token))["app"]["apiKeys"][0]["id"]
        await api.ok("mutation($k: ID!) { revokeApiKey(id: $k) { id } }", {"k": key_id}, token=w.owner.token)
        for query in (
            code,
            'mutation { sendNotification(input: {channel: "vip", title: "x"}) { id } }',
            "query($c: ID!) { subscribers(channelId: $c) { nodes { device { id } } } }",
        ):
            body = await sock.execute(query, {"c": w.private["id"]} if "$c" in query else None)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
        # The owner still sends; the revoked key's stream must not see it.
        await api.ok('mutation($c: ID) { sendNotification(input: {channelId: $c, title: "t"}) { id } }',
                     {"c": w.public["id"]}, token=w.owner.token)
        ended_with(await next_message(sock, stream), "UNAUTHENTICATED")


async def test_an_expired_login_ends_its_socket_operations(api, runtime):
    """Finding 2: an expired JWT kept working on the socket it opened."""
    w = await make_world(api)
    from api.users.tables import User

    version = (await User.select(User.token_version).where(User.id == int(w.owner.user_id)).first())["token_version"]
    short = issue_jwt(int(w.owner.user_id), runtime.secret_key, ttl=2, version=version)
    started = time.time()
    async with socket(api.url, {"authorization": f"Bearer {short}"}) as sock:
        stream = await sock.start(APP_STREAM, {"a": w.app.id})
        assert not (await sock.execute("{ me { id } }")).get("errors")
        await asyncio.sleep(max(0.0, started + 3 - time.time()))
        body = await sock.execute("query($a: ID!) { app(id: $a) { name } }", {"a": w.app.id})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
        await f.send(api, w.app, channelId=w.public["id"], title="after expiry")
        ended_with(await next_message(sock, stream), "UNAUTHENTICATED")


async def test_apps_read_only_tokens_they_supplied(api):
    """Finding 3: app B read device D's token through its public channel's subscribers, and the
    token then opened A's private inbox with no credentials at all."""
    w = await make_world(api)  # D follows A's public and private channels
    b_public = await f.make_channel(api, w.other_app, name="b-news")
    await f.subscribe(api, w.device, b_public)
    seen = await api.ok("query($c: ID!) { subscribers(channelId: $c) { nodes { device { id token tokenHint } } } }",
                        {"c": b_public["id"]}, api_key=w.other_app.api_key)
    device = seen["subscribers"]["nodes"][0]["device"]
    assert device["token"] is None and device["id"] == w.device["id"]
    assert device["tokenHint"] == w.device["token"].rstrip("]")[-6:]
    await f.send(api, w.app, channelId=w.private["id"], title="A's private news")
    inbox = "query($t: String) { notifications(deviceToken: $t) { nodes { title } } }"
    assert await api.code(inbox, {"t": w.device["token"]}, device_key=None) == "UNAUTHENTICATED"
    assert await api.code(inbox, {"t": w.device["token"]}, device_key=w.other_device["key"]) == "UNAUTHENTICATED"
    mine = await api.ok(inbox, {"t": w.device["token"]})
    assert [n["title"] for n in mine["notifications"]["nodes"]] == ["A's private news"]
    # An app that registered a token itself reads it back; the device always does.
    token = expo_token()
    supplied = await api.ok(
        "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { device { id } deviceKey } }",
        {"t": token}, api_key=w.other_app.api_key,
    )
    await api.ok("mutation($t: String!, $c: ID) { subscribe(deviceToken: $t, channelId: $c) { id } }",
                 {"t": token, "c": b_public["id"]}, device_key=supplied["registerDevice"]["deviceKey"])
    seen = await api.ok("query($c: ID!) { subscribers(channelId: $c) { nodes { device { id token } } } }",
                        {"c": b_public["id"]}, api_key=w.other_app.api_key)
    tokens = {n["device"]["id"]: n["device"]["token"] for n in seen["subscribers"]["nodes"]}
    assert tokens == {w.device["id"]: None, supplied["registerDevice"]["device"]["id"]: token}


async def test_a_known_token_does_not_hand_over_the_device(api):
    """Finding 3: registering someone's token gave the caller that device."""
    w = await make_world(api)
    again = "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { deviceKey } }"
    assert await api.code(again, {"t": w.device["token"]}, device_key=None) == "CONFLICT"
    assert await api.code(again, {"t": w.device["token"]}, api_key=w.app.api_key, device_key=None) == "CONFLICT"
    refreshed = await api.ok(again, {"t": w.device["token"]})  # with its own key: a refresh, same key
    assert refreshed["registerDevice"]["deviceKey"] == w.device["key"]


async def test_a_lost_key_is_recovered_by_proving_the_token(api, sandbox):
    """requestDeviceVerification pushes a one-time code (data only) to the token; verifyDevice with it
    rotates the key: the old one stops working, the device keeps its channels."""
    w = await make_world(api)
    token = w.device["token"]
    sandbox.control.delete("/sandbox/messages").raise_for_status()
    assert (await api.ok("mutation($t: String!) { requestDeviceVerification(platform: EXPO, token: $t) }",
                         {"t": token}, device_key=None))["requestDeviceVerification"] is True
    pushes = [m["message"] for m in sandbox.messages(token)]
    assert len(pushes) == 1 and not pushes[0].get("title") and not pushes[0].get("body")  # data only
    assert pushes[0]["data"]["type"] == "booper.deviceVerification"
    code = pushes[0]["data"]["code"]
    verify = "mutation($t: String!, $c: String!) { verifyDevice(token: $t, code: $c) { device { id } deviceKey } }"
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
    assert await api.code(verify, {"t": token, "c": wrong}, device_key=None) == "BAD_USER_INPUT"
    fresh = (await api.ok(verify, {"t": token, "c": code}, device_key=None))["verifyDevice"]
    assert fresh["device"]["id"] == w.device["id"] and fresh["deviceKey"] != w.device["key"]
    channels = "query($t: String) { channels(deviceToken: $t) { name } }"
    assert await api.code(channels, {"t": token}, device_key=w.device["key"]) == "UNAUTHENTICATED"
    names = await api.ok(channels, {"t": token}, device_key=fresh["deviceKey"])
    assert sorted(c["name"] for c in names["channels"]) == ["news", "vip"]
    assert await api.code(verify, {"t": token, "c": code}, device_key=None) == "BAD_USER_INPUT"  # single use


async def _limiter_keys(runtime) -> list[str]:
    limiter = runtime.limiter
    if limiter._redis is not None:
        return [k.decode() async for k in limiter._redis.scan_iter(match="booper:rl:*", count=1000)]
    return [str(k) for k in limiter._memory.storage]


async def test_verification_requests_are_counted_per_token_under_its_digest(api, sandbox, settings, runtime):
    """Three requests an hour per token (BOOPER_VERIFICATION_RATE), whatever the address; the
    limiter's key holds a digest of the token, not the token (up to 2 KB each)."""
    w = await make_world(api)
    token = w.device["token"]
    settings.trusted_proxies = "127.0.0.1/32"
    request = "mutation($t: String!) { requestDeviceVerification(platform: EXPO, token: $t) }"
    for i in range(3):
        body = await api.raw(request, {"t": token}, device_key=None,
                             headers={"x-forwarded-for": f"198.51.100.{i + 1}"})
        assert body["data"]["requestDeviceVerification"] is True, body
    body = await api.raw(request, {"t": token}, device_key=None, headers={"x-forwarded-for": "198.51.100.9"})
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED", body
    other = await f.make_expo_device(api)
    assert (await api.ok(request, {"t": other["token"]}, device_key=None))["requestDeviceVerification"] is True
    keys = [k for k in await _limiter_keys(runtime) if "verify-request-token" in k]
    assert keys and not any(token in k or other["token"] in k for k in keys), keys


async def test_a_web_push_verification_code_is_readable_only_by_the_browser(api, sandbox):
    """The Web Push payload is encrypted to the subscription: the sandbox, holding the browser's
    private keys, decrypts it; what crossed the network is ciphertext."""
    device = await f.make_web_device(api, sandbox)
    sandbox.control.delete("/sandbox/messages").raise_for_status()
    await api.ok("mutation($t: String!) { requestDeviceVerification(platform: WEB, token: $t) }",
                 {"t": device["token"]}, device_key=None)
    received = sandbox.messages()
    assert len(received) == 1 and "error" not in received[0], received
    payload = json.loads(received[0]["payload"])  # decrypted by the sandbox with the browser's keys
    assert payload["type"] == "booper.deviceVerification" and payload["code"].isdigit()
    fresh = await api.ok("mutation($t: String!, $c: String!) { verifyDevice(token: $t, code: $c) { deviceKey } }",
                         {"t": device["token"], "c": payload["code"]}, device_key=None)
    assert fresh["verifyDevice"]["deviceKey"].startswith("dk_")


async def test_verification_codes_burn_after_five_wrong_tries(api, sandbox):
    w = await make_world(api)
    token = w.device["token"]
    await api.ok("mutation($t: String!) { requestDeviceVerification(platform: EXPO, token: $t) }", {"t": token})
    code = verification_code(sandbox, token)
    verify = "mutation($t: String!, $c: String!) { verifyDevice(token: $t, code: $c) { deviceKey } }"
    wrong = [str((int(code) + i) % 10 ** len(code)).zfill(len(code)) for i in range(1, 6)]
    results = await asyncio.gather(*[api.raw(verify, {"t": token, "c": c}, device_key=None) for c in wrong])
    assert all(r["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" for r in results)
    assert await api.code(verify, {"t": token, "c": code}, device_key=None) == "BAD_USER_INPUT"


@pytest.mark.parametrize("state", ["unregistered", "rotated"])
async def test_a_device_key_stops_working_after_unregister_or_rotation(api, sandbox, state):
    w = await make_world(api)
    token, old = w.device["token"], w.device["key"]
    if state == "unregistered":
        await api.ok("mutation($t: String!) { unregisterDevice(deviceToken: $t) }", {"t": token})
    else:
        await api.ok("mutation($t: String!) { requestDeviceVerification(platform: EXPO, token: $t) }", {"t": token})
        code = verification_code(sandbox, token)
        await api.ok("mutation($t: String!, $c: String!) { verifyDevice(token: $t, code: $c) { deviceKey } }",
                     {"t": token, "c": code})
    for query in (
        "query($t: String) { notifications(deviceToken: $t) { nodes { id } } }",
        "mutation($t: String!, $c: ID) { subscribe(deviceToken: $t, channelId: $c) { id } }",
        "mutation($t: String!) { unregisterDevice(deviceToken: $t) }",
    ):
        assert await api.code(query, {"t": token, "c": w.public["id"]}, device_key=old) == "UNAUTHENTICATED"


async def test_log_out_everywhere_ends_the_users_open_sockets_and_streams(api):
    """A JWT ended by logOutEverywhere (or account deletion) stops on sockets it opened, at once."""
    w = await make_world(api)
    async with socket(api.url, {"authorization": f"Bearer {w.owner.token}"}) as sock:
        stream = await sock.start(APP_STREAM, {"a": w.app.id})
        assert not (await sock.execute("{ me { id } }")).get("errors")
        await api.ok("mutation { logOutEverywhere }", token=w.owner.token)
        ended_with(await next_message(sock, stream), "UNAUTHENTICATED")
        body = await sock.execute("query($a: ID!) { app(id: $a) { name } }", {"a": w.app.id})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
