"""FCM and APNs end to end: native devices registered with their app, sent with that app's own
credentials through the HTTP/2 sandboxes, every outcome in the ledger."""

from __future__ import annotations

import pytest

from tests.delivery.helpers import device_row, send, wait_deliveries, wait_status
from tests.support import factories as f

REGISTER = "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { device { id } } }"


async def native_app(api, sandbox, *, project: str, team: str, topic: str = "com.example.app"):
    app = await f.make_app(api)
    await f.set_fcm(api, app, sandbox.issue_service_account(project))
    await f.set_apns(api, app, sandbox.issue_apns_key(team), topic=topic)
    channel = await f.make_channel(api, app)
    return app, channel


async def subscribed(api, app, channel, platform: str) -> dict:
    device = await f.make_native_device(api, app, platform)
    await f.subscribe(api, device, channel)
    return device


async def test_an_android_and_an_ios_device_receive_with_their_apps_credentials(api, sandbox):
    app, channel = await native_app(api, sandbox, project="android-project", team="TEAM000001")
    android = await subscribed(api, app, channel, "FCM")
    ios = await subscribed(api, app, channel, "APNS")
    sent = await send(api, app, channelId=channel["id"], title="Hello", body="native", data={"k": 1},
                      priority="HIGH", ttl=120, collapseKey="news")
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=2)
    assert all(r["attempts"] == 1 and r["error"] is None for r in rows)
    await wait_status(sent["id"], "COMPLETED")
    (fcm,) = sandbox.messages(to=android["token"])
    assert fcm["provider"] == "fcm" and fcm["project"] == "android-project" and fcm["http_version"] == "2"
    assert fcm["message"]["notification"] == {"title": "Hello", "body": "native"}
    assert fcm["message"]["android"] == {"priority": "HIGH", "ttl": "120s", "collapse_key": "news"}
    assert fcm["message"]["data"] == {"k": "1", "notificationId": sent["id"]}
    (apns,) = sandbox.messages(to=ios["token"])
    assert apns["provider"] == "apns" and apns["team"] == "TEAM000001" and apns["http_version"] == "2"
    assert apns["headers"]["apns-topic"] == "com.example.app"
    assert apns["headers"]["apns-push-type"] == "alert" and apns["headers"]["apns-priority"] == "10"
    assert apns["headers"]["apns-collapse-id"] == "news" and int(apns["headers"]["apns-expiration"]) > 0
    assert apns["message"]["aps"]["alert"] == {"title": "Hello", "body": "native"}


async def test_a_data_only_notification_is_a_background_push(api, sandbox):
    app, channel = await native_app(api, sandbox, project="silent-project", team="TEAM000002")
    ios = await subscribed(api, app, channel, "APNS")
    android = await subscribed(api, app, channel, "FCM")
    sent = await send(api, app, channelId=channel["id"], data={"sync": True})
    await wait_deliveries(sent["id"], "DELIVERED", count=2)
    (apns,) = sandbox.messages(to=ios["token"])
    assert apns["headers"]["apns-push-type"] == "background" and apns["headers"]["apns-priority"] == "5"
    assert apns["message"]["aps"] == {"content-available": 1}
    (fcm,) = sandbox.messages(to=android["token"])
    assert "notification" not in fcm["message"]


async def test_two_apps_credentials_never_cross(api, sandbox):
    a, channel_a = await native_app(api, sandbox, project="project-a", team="TEAMAAAAAA", topic="com.a.app")
    b, channel_b = await native_app(api, sandbox, project="project-b", team="TEAMBBBBBB", topic="com.b.app")
    devices = {
        "a": [await subscribed(api, a, channel_a, "FCM"), await subscribed(api, a, channel_a, "APNS")],
        "b": [await subscribed(api, b, channel_b, "FCM"), await subscribed(api, b, channel_b, "APNS")],
    }
    sent_a = await send(api, a, channelId=channel_a["id"], title="for a")
    sent_b = await send(api, b, channelId=channel_b["id"], title="for b")
    await wait_deliveries(sent_a["id"], "DELIVERED", count=2)
    await wait_deliveries(sent_b["id"], "DELIVERED", count=2)
    for name, project, team, topic in (("a", "project-a", "TEAMAAAAAA", "com.a.app"),
                                       ("b", "project-b", "TEAMBBBBBB", "com.b.app")):
        fcm_device, apns_device = devices[name]
        (fcm,) = sandbox.messages(to=fcm_device["token"])
        (apns,) = sandbox.messages(to=apns_device["token"])
        assert fcm["project"] == project and fcm["message"]["notification"]["title"] == f"for {name}"
        assert apns["team"] == team and apns["headers"]["apns-topic"] == topic


async def test_a_native_device_joins_only_its_own_apps_channels(api, sandbox):
    a, _ = await native_app(api, sandbox, project="own-project", team="TEAMOWN001")
    b = await f.make_app(api)
    other = await f.make_channel(api, b)
    device = await f.make_native_device(api, a, "FCM")
    error = await api.error(
        "mutation($t: String!, $c: ID!) { subscribe(deviceToken: $t, channelId: $c) { id } }",
        {"t": device["token"], "c": other["id"]}, device_key=device["key"],
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    public = await api.error(
        'mutation($t: String!) { subscribe(deviceToken: $t, name: "anyone-news") { id } }',
        {"t": device["token"]}, device_key=device["key"],
    )
    assert public["extensions"]["code"] == "FORBIDDEN"
    from api.channels.tables import Channel

    assert not await Channel.exists().where(Channel.name == "anyone-news")  # none made on the way
    # With its app's API key the name is looked up in that app: a missing one is NOT_FOUND.
    missing = await api.error(
        'mutation($t: String!) { subscribe(deviceToken: $t, name: "not-a-channel") { id } }',
        {"t": device["token"]}, device_key=device["key"], api_key=a.api_key,
    )
    assert missing["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("fields", "code"), [
    ({"platform": "FCM", "token": "fcm-token-without-app:APA91bxxxxxxxxxxxxxxxx"}, "BAD_USER_INPUT"),
    ({"platform": "APNS", "token": "not-hex", "appId": None}, "BAD_USER_INPUT"),
    ({"platform": "EXPO", "token": "ExponentPushToken[x]", "appId": "1"}, "BAD_USER_INPUT"),
    ({"platform": "APNS", "token": "ab" * 32, "appId": "999999"}, "NOT_FOUND"),
])
async def test_registration_needs_an_existing_app_for_native_tokens_only(api, fields, code):
    error = await api.error(REGISTER, {"i": fields})
    assert error["extensions"]["code"] == code
    from api.devices.tables import Device

    assert await Device.count() == 0


@pytest.mark.parametrize(("platform", "fault", "error"), [
    ("FCM", "UNREGISTERED", "UNREGISTERED"),
    ("FCM", "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("APNS", "Unregistered", "Unregistered"),
    ("APNS", "BadDeviceToken", "BadDeviceToken"),
])
async def test_a_dead_token_fails_and_its_device_is_deactivated(api, sandbox, platform, fault, error):
    app, channel = await native_app(api, sandbox, project="dead-project", team="TEAMDEAD01")
    device = await subscribed(api, app, channel, platform)
    sandbox.faults({"provider": platform.lower(), "match": device["token"], "fault": fault})
    sent = await send(api, app, channelId=channel["id"], title="gone")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == error and row["attempts"] == 1
    dead = await device_row(device["id"])
    assert dead["active"] is False and dead["inactive_reason"] == error


@pytest.mark.parametrize(("platform", "fault", "error"), [
    ("FCM", "SENDER_ID_MISMATCH", "SENDER_ID_MISMATCH"),
    ("FCM", "THIRD_PARTY_AUTH_ERROR", "THIRD_PARTY_AUTH_ERROR"),
    ("APNS", "InvalidProviderToken", "InvalidProviderToken"),
])
async def test_a_credentials_error_fails_the_delivery_and_keeps_the_device(api, sandbox, platform, fault, error):
    app, channel = await native_app(api, sandbox, project="cred-project", team="TEAMCRED01")
    device = await subscribed(api, app, channel, platform)
    sandbox.faults({"provider": platform.lower(), "match": device["token"], "fault": fault})
    sent = await send(api, app, channelId=channel["id"], title="wrong key")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == error and row["attempts"] == 1
    assert (await device_row(device["id"]))["active"] is True


@pytest.mark.parametrize(("platform", "fault"), [
    ("FCM", "QUOTA_EXCEEDED"), ("FCM", "UNAVAILABLE"), ("FCM", "INTERNAL"), ("FCM", "http_500"), ("FCM", "http_429"),
    ("APNS", "TooManyRequests"), ("APNS", "InternalServerError"), ("APNS", "ServiceUnavailable"),
    ("APNS", "http_500"), ("APNS", "http_429"),
])
async def test_a_transient_error_is_retried_until_delivered(api, sandbox, platform, fault):
    app, channel = await native_app(api, sandbox, project="retry-project", team="TEAMRETRY1")
    device = await subscribed(api, app, channel, platform)
    sandbox.faults({"provider": platform.lower(), "match": device["token"], "fault": fault, "times": 2,
                    "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="again")
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1)
    assert row["attempts"] == 3 and row["error"] is None
    assert len(sandbox.messages(to=device["token"])) == 1
    assert (await device_row(device["id"]))["active"] is True


async def test_a_timeout_is_retried(api, sandbox):
    app, channel = await native_app(api, sandbox, project="slow-project", team="TEAMSLOW01")
    device = await subscribed(api, app, channel, "APNS")
    sandbox.faults({"provider": "apns", "match": device["token"], "fault": "timeout", "times": 1, "seconds": 1.5})
    sent = await send(api, app, channelId=channel["id"], title="late")
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1, within=10)
    assert row["attempts"] == 2


async def test_an_app_without_credentials_fails_its_native_deliveries_and_keeps_the_devices(api, sandbox):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    devices = [await subscribed(api, app, channel, "FCM"), await subscribed(api, app, channel, "APNS")]
    sent = await send(api, app, channelId=channel["id"], title="no keys")
    rows = await wait_deliveries(sent["id"], "FAILED", count=2)
    assert {r["error"] for r in rows} == {"CredentialsMissing"}
    assert sandbox.stats()["requests"].get("fcm", 0) == 0 and sandbox.stats()["requests"].get("apns", 0) == 0
    for d in devices:
        assert (await device_row(d["id"]))["active"] is True


async def test_a_revoked_service_account_fails_as_credentials(api, sandbox):
    app = await f.make_app(api)
    account = sandbox.issue_service_account("revoked-project")
    await f.set_fcm(api, app, account)
    channel = await f.make_channel(api, app)
    device = await subscribed(api, app, channel, "FCM")
    sandbox.state.native.revoke(account["client_email"])
    sent = await send(api, app, channelId=channel["id"], title="revoked")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == "THIRD_PARTY_AUTH_ERROR"
    assert (await device_row(device["id"]))["active"] is True


async def test_the_apps_own_expo_token_is_sent_and_others_use_the_servers(api, sandbox):
    own = await f.make_app(api)
    await api.ok("mutation($a: ID!) { setExpoAccessToken(appId: $a, token: \"own-expo-token\") { id } }",
                 {"a": own.id}, token=own.owner.token)
    plain = await f.make_app(api)
    for app, expected in ((own, "Bearer own-expo-token"), (plain, None)):
        channel = await f.make_channel(api, app)
        device = await f.make_expo_device(api)
        await f.subscribe(api, device, channel)
        sent = await send(api, app, channelId=channel["id"], title="expo")
        await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
        (message,) = sandbox.messages(to=device["token"])
        assert message["authorization"] == expected


@pytest.mark.parametrize("platform", ["FCM", "APNS"])
async def test_a_native_device_recovers_its_key_with_a_code_pushed_with_its_apps_credentials(api, sandbox, platform):
    app, _ = await native_app(api, sandbox, project="verify-project", team="TEAMVERIFY")
    device = await f.make_native_device(api, app, platform)
    sandbox.reset()
    assert (await api.ok(f"mutation($t: String!) {{ requestDeviceVerification(platform: {platform}, token: $t) }}",
                         {"t": device["token"]}, device_key=None))["requestDeviceVerification"] is True
    (push,) = sandbox.messages(to=device["token"])
    if platform == "FCM":
        assert "notification" not in push["message"] and push["project"] == "verify-project"  # data only
        code = push["message"]["data"]["code"]
        assert set(push["message"]["data"]) == {"type", "code"}
    else:
        assert push["headers"]["apns-push-type"] == "background" and push["team"] == "TEAMVERIFY"
        code = push["message"]["data"]["code"]
    fresh = await api.ok("mutation($t: String!, $c: String!) { verifyDevice(token: $t, code: $c) { deviceKey } }",
                         {"t": device["token"], "c": code}, device_key=None)
    assert fresh["verifyDevice"]["deviceKey"] not in (None, device["key"])
