"""registerDevice (Expo tokens, Web Push subscriptions), unregisterDevice, webPushPublicKey."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.channels.tables import ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from tests.api.conftest import b64url, row_counts
from tests.support import factories as f

REGISTER = (
    "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) {"
    " device { id platform token tokenHint identifier active createdAt lastSeenAt } deviceKey } }"
)
UNREGISTER = "mutation($t: String!) { unregisterDevice(deviceToken: $t) }"


def new_keys() -> tuple[str, str]:
    """A browser's subscription keys: an uncompressed P-256 public point and 16 random bytes."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point), b64url(b"0123456789abcdef")


@pytest.mark.parametrize("token", ["ExponentPushToken[abc-DEF_123]", "ExpoPushToken[xyz:1.2=+/]"])
async def test_register_an_expo_device(api, token):
    registration = (await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": token}}))["registerDevice"]
    data = registration["device"]
    assert data["platform"] == "EXPO" and data["token"] == token and data["tokenHint"] == token[-7:-1]
    assert registration["deviceKey"].startswith("dk_")
    assert data["active"] is True and data["identifier"] is None and data["lastSeenAt"] is not None
    rows = await Device.select()
    assert [(r["platform"], r["token"], r["active"], r["p256dh"]) for r in rows] == [
        ("EXPO", token, True, None)
    ]
    assert str(rows[0]["id"]) == data["id"]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "ExponentPushToken[]",
        "ExponentPushToken[abc",
        "ExponentPushToken[a b]",
        "ExponentPushToken[abc]extra",
        "exponentpushtoken[abc]",
        "ExponentPushToken[" + "a" * 201 + "]",
        "https://fcm.googleapis.com/fcm/send/abc",
    ],
)
async def test_register_refuses_malformed_expo_tokens(api, token):
    assert await api.code(REGISTER, {"i": {"platform": "EXPO", "token": token}}) == "BAD_USER_INPUT"
    assert await Device.count() == 0


async def test_register_a_web_push_subscription(api, sandbox):
    sub = sandbox.subscribe()
    variables = {"i": {"platform": "WEB", "token": sub["endpoint"], "webPushKeys": sub["keys"]}}
    data = (await api.ok(REGISTER, variables))["registerDevice"]["device"]
    assert data["platform"] == "WEB" and data["token"] == sub["endpoint"]
    assert data["tokenHint"] == sub["endpoint"][-6:]
    row = await Device.select().first()
    assert (row["p256dh"], row["auth"]) == (sub["keys"]["p256dh"], sub["keys"]["auth"])


async def test_register_accepts_the_browsers_push_services(api):
    p256dh, auth = new_keys()
    for endpoint in [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
        "https://web.push.apple.com/QGu",
        "https://wns2-par02p.notify.windows.com/w/?token=x",
    ]:
        variables = {
            "i": {
                "platform": "WEB",
                "token": endpoint,
                "webPushKeys": {"p256dh": p256dh, "auth": auth},
            }
        }
        assert (await api.ok(REGISTER, variables))["registerDevice"]["device"]["token"] == endpoint
    assert await Device.count() == 4


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:9/push/abc",
        "http://10.0.0.1/push",
        "https://evil.example/push/abc",
        "https://fcm.googleapis.com.evil.example/push",
        "https://notify.windows.com/push",  # the wildcard means a subdomain
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://user:pw@fcm.googleapis.com/fcm/send/abc",
        "ftp://fcm.googleapis.com/x",
        "fcm.googleapis.com/fcm/send/abc",
        "not a url",
        # Parsers disagree on these hosts (a browser reads the backslash as a slash).
        "https://evil.example\\.notify.windows.com/push",
        "https://evil.example%2f.notify.windows.com/push",
        "https://evil.example\t.notify.windows.com/push",
        "https://fcm.googleapis.com/" + "a" * 2048,
    ],
)
async def test_register_refuses_endpoints_off_the_push_services(api, endpoint):
    p256dh, auth = new_keys()
    variables = {
        "i": {"platform": "WEB", "token": endpoint, "webPushKeys": {"p256dh": p256dh, "auth": auth}}
    }
    assert await api.code(REGISTER, variables) == "BAD_USER_INPUT"
    assert await Device.count() == 0


def _bad_keys() -> list[tuple[str, str]]:
    p256dh, auth = new_keys()
    point = base64.urlsafe_b64decode(p256dh + "==")
    off_curve = b64url(b"\x04" + b"\x01" * 64)
    compressed = b64url(b"\x02" + point[1:33])
    return [
        ("not base64 !!", auth),
        (b64url(b"short"), auth),
        (off_curve, auth),
        (compressed, auth),
        (p256dh, b64url(b"15 bytes long!!")),
        (p256dh, b64url(b"17 bytes long!!!!")),
        (p256dh, "***"),
        ("", auth),
        (p256dh, ""),
    ]


@pytest.mark.parametrize("keys", _bad_keys())
async def test_register_refuses_invalid_web_push_keys(api, sandbox, keys):
    endpoint = sandbox.subscribe()["endpoint"]
    variables = {
        "i": {
            "platform": "WEB",
            "token": endpoint,
            "webPushKeys": {"p256dh": keys[0], "auth": keys[1]},
        }
    }
    error = await api.error(REGISTER, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await Device.count() == 0


async def test_web_devices_need_keys(api, sandbox):
    endpoint = sandbox.subscribe()["endpoint"]
    assert (
        await api.code(REGISTER, {"i": {"platform": "WEB", "token": endpoint}}) == "BAD_USER_INPUT"
    )
    assert await Device.count() == 0


async def test_register_again_refreshes_keys_and_reactivates(api, sandbox):
    sub = sandbox.subscribe()
    first = (
        await api.ok(
            REGISTER,
            {"i": {"platform": "WEB", "token": sub["endpoint"], "webPushKeys": sub["keys"]}},
        )
    )["registerDevice"]
    await Device.update({Device.active: False, Device.inactive_reason: "http_410"}).where(
        Device.id == int(first["device"]["id"])
    )
    p256dh, auth = new_keys()
    # The browser re-subscribes with new keys and presents its device key (the client sends it).
    again = (
        await api.ok(
            REGISTER,
            {
                "i": {
                    "platform": "WEB",
                    "token": sub["endpoint"],
                    "webPushKeys": {"p256dh": p256dh, "auth": auth},
                }
            },
        )
    )["registerDevice"]
    assert again["device"]["id"] == first["device"]["id"] and again["device"]["active"] is True
    assert again["deviceKey"] == first["deviceKey"]
    assert again["device"]["lastSeenAt"] >= first["device"]["lastSeenAt"]
    rows = await Device.select()
    assert len(rows) == 1
    assert (rows[0]["p256dh"], rows[0]["auth"], rows[0]["active"], rows[0]["inactive_reason"]) == (
        p256dh,
        auth,
        True,
        None,
    )


async def test_register_an_expo_token_twice_is_one_device(api):
    token = "ExponentPushToken[same]"
    a = (await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": token}}))["registerDevice"]
    # With its key (padded token: the key is sent explicitly) it refreshes and keeps the key.
    b = (
        await api.ok(
            REGISTER, {"i": {"platform": "EXPO", "token": f"  {token} "}}, device_key=a["deviceKey"]
        )
    )["registerDevice"]
    assert a["device"]["id"] == b["device"]["id"] and b["deviceKey"] == a["deviceKey"]
    assert await Device.count() == 1


async def test_the_app_that_registered_a_token_refreshes_it_with_a_new_key(api):
    # An app's server may register its users' tokens with its API key; registering again rotates
    # the key (the server lost it, or hands a new one to a reinstalled app): the old key stops.
    app, other = await f.make_app(api), await f.make_app(api)
    token = "ExponentPushToken[supplied]"
    variables = {"i": {"platform": "EXPO", "token": token}}
    first = (await api.ok(REGISTER, variables, api_key=app.api_key, device_key=None))["registerDevice"]
    again = (await api.ok(REGISTER, variables, api_key=app.api_key, device_key=None))["registerDevice"]
    assert again["device"]["id"] == first["device"]["id"] and again["deviceKey"] != first["deviceKey"]
    assert await api.code(REGISTER, variables, api_key=other.api_key, device_key=None) == "CONFLICT"
    assert await api.code(UNREGISTER, {"t": token}, device_key=first["deviceKey"]) == "UNAUTHENTICATED"
    assert await api.ok(UNREGISTER, {"t": token}, device_key=again["deviceKey"]) == {"unregisterDevice": True}


async def test_unregister_stops_everything_for_the_device(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    other = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    await f.subscribe(api, other, news)
    code = await f.access_code(api, app, ["vip"], identifier="who")
    await api.ok(
        "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
        {"c": code["code"], "t": device["token"]},
    )

    assert await api.ok(UNREGISTER, {"t": device["token"]}) == {"unregisterDevice": True}
    row = await Device.select().where(Device.id == int(device["id"])).first()
    assert (row["active"], row["inactive_reason"], row["identifier"], row["key_hash"]) == (
        False,
        "unregistered",
        None,
        None,
    )
    assert [s["device"] for s in await ChannelSubscription.select()] == [int(other["id"])]
    assert await DeviceAccessGrant.count() == 0
    # Its key stopped working with it (the client still sends the old one).
    assert (
        await api.code(
            'mutation($t: String!) { subscribe(deviceToken: $t, name: "x") { id } }',
            {"t": device["token"]},
        )
        == "UNAUTHENTICATED"
    )

    # Registering again brings it back, without its old subscriptions or grants, with a new key.
    again = (await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": device["token"]}}))[
        "registerDevice"
    ]
    assert again["device"]["id"] == device["id"] and again["device"]["active"] is True
    assert again["deviceKey"] != device["key"]
    assert await ChannelSubscription.count() == 1


async def test_unregister_an_unknown_token_is_unauthenticated(api):
    # Without a key nobody is the device, known or not: the answer does not tell which.
    before = await row_counts()
    assert await api.code(UNREGISTER, {"t": "ExponentPushToken[never]"}) == "UNAUTHENTICATED"
    known = await f.make_expo_device(api)
    assert await api.code(UNREGISTER, {"t": known["token"]}, device_key=None) == "UNAUTHENTICATED"
    assert (
        await api.code(UNREGISTER, {"t": "ExponentPushToken[never]"}, device_key=known["key"])
        == "UNAUTHENTICATED"
    )
    assert await row_counts() == {**before, "devices": before["devices"] + 1}
    assert (await Device.select(Device.active).first())["active"] is True


async def test_web_push_public_key_is_an_uncompressed_p256_point(api):
    key = (await api.ok("{ webPushPublicKey }"))["webPushPublicKey"]
    assert "=" not in key
    point = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(point) == 65 and point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    assert (await api.ok("{ webPushPublicKey }"))["webPushPublicKey"] == key
