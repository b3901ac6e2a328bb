"""apps, app, createApp, deleteApp, createApiKey, revokeApiKey (with lastUsedAt and revocation)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from api.access_codes.tables import AccessCode, AccessCodeChannel
from api.apps import keycache
from api.apps.tables import ApiKey, App
from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from tests.api.conftest import row_counts
from tests.support import factories as f

CREATE_APP = (
    "mutation($n: String!) { createApp(name: $n) { app { id name plan createdAt channels { id } }"
    " apiKey { secret apiKey { id prefix createdAt lastUsedAt revokedAt } } } }"
)
APPS = "query { apps { id name } }"
API_KEYS = "query($a: ID!) { app(id: $a) { apiKeys { id prefix lastUsedAt revokedAt } } }"
CREATE_KEY = (
    "mutation($a: ID!) { createApiKey(appId: $a) { secret apiKey { id prefix revokedAt } } }"
)
REVOKE_KEY = "mutation($k: ID!) { revokeApiKey(id: $k) { id revokedAt } }"
DELETE_APP = "mutation($a: ID!) { deleteApp(id: $a) }"


async def test_create_app_stores_the_app_and_only_a_hash_of_its_first_key(api):
    owner = await f.make_user(api)
    data = (await api.ok(CREATE_APP, {"n": "  Weather  "}, token=owner.token))["createApp"]
    assert data["app"]["name"] == "Weather"
    assert data["app"]["plan"] == "FREE"
    assert data["app"]["channels"] == []
    secret = data["apiKey"]["secret"]
    assert secret.startswith("bk_") and len(secret) > 40
    key = data["apiKey"]["apiKey"]
    assert key["prefix"] == secret[:10]
    assert key["lastUsedAt"] is None and key["revokedAt"] is None

    app_row = await App.select().where(App.id == int(data["app"]["id"])).first()
    assert app_row["owner"] == int(owner.user_id) and app_row["name"] == "Weather"
    key_rows = await ApiKey.select()
    assert len(key_rows) == 1
    assert key_rows[0]["app"] == app_row["id"]
    assert key_rows[0]["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(key_rows[0])


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "tab\there"])
async def test_create_app_refuses_bad_names_and_writes_nothing(api, name):
    owner = await f.make_user(api)
    before = await row_counts()
    assert await api.code(CREATE_APP, {"n": name}, token=owner.token) == "BAD_USER_INPUT"
    assert await row_counts() == before


async def test_a_64_character_app_name_is_accepted(api):
    owner = await f.make_user(api)
    data = await api.ok(CREATE_APP, {"n": "x" * 64}, token=owner.token)
    assert data["createApp"]["app"]["name"] == "x" * 64


async def test_apps_lists_only_what_the_caller_may_see(api):
    a1 = await f.make_app(api, name="one")
    a2 = await f.make_app(api, owner=a1.owner, name="two")
    other = await f.make_app(api, name="other")

    owned = (await api.ok(APPS, token=a1.owner.token))["apps"]
    assert owned == [{"id": a1.id, "name": "one"}, {"id": a2.id, "name": "two"}]
    assert (await api.ok(APPS, token=other.owner.token))["apps"] == [
        {"id": other.id, "name": "other"}
    ]
    assert (await api.ok(APPS, api_key=a2.api_key))["apps"] == [{"id": a2.id, "name": "two"}]
    assert (await api.ok(APPS))["apps"] == []


async def test_apps_of_a_device_are_those_it_follows_or_was_granted(api):
    followed = await f.make_app(api, name="followed")
    granted = await f.make_app(api, name="granted")
    await f.make_app(api, name="unrelated")
    news = await f.make_channel(api, followed, name="news")
    await f.make_channel(api, granted, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    code = await f.access_code(api, granted, ["vip"])
    await api.ok(
        "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
        {"c": code["code"], "t": device["token"]},
    )
    # Unsubscribing keeps the grant: the app stays visible to the device.
    await api.ok(
        'mutation($t: String!) { unsubscribe(deviceToken: $t, name: "vip", appId: '
        + f'"{granted.id}"'
        + ") }",
        {"t": device["token"]},
    )
    data = await api.ok(
        "query($t: String) { apps(deviceToken: $t) { id name } }", {"t": device["token"]}
    )
    assert data["apps"] == [
        {"id": followed.id, "name": "followed"},
        {"id": granted.id, "name": "granted"},
    ]
    # An unknown token, or a known one without its key, proves no device: nothing is listed.
    unknown = 'query { apps(deviceToken: "ExponentPushToken[nobody]") { id } }'
    assert await api.code(unknown) == "UNAUTHENTICATED"
    assert await api.code(unknown, device_key=device["key"]) == "UNAUTHENTICATED"
    without_key = "query($t: String) { apps(deviceToken: $t) { id } }"
    assert await api.code(without_key, {"t": device["token"]}, device_key=None) == "UNAUTHENTICATED"


async def test_app_by_id_for_its_owner_and_key_not_found_for_others(api):
    app = await f.make_app(api, name="mine")
    other = await f.make_app(api)
    query = "query($a: ID!) { app(id: $a) { id name plan } }"
    assert (await api.ok(query, {"a": app.id}, token=app.owner.token))["app"]["name"] == "mine"
    assert (await api.ok(query, {"a": app.id}, api_key=app.api_key))["app"]["id"] == app.id
    assert await api.code(query, {"a": app.id}, token=other.owner.token) == "NOT_FOUND"
    assert await api.code(query, {"a": app.id}, api_key=other.api_key) == "NOT_FOUND"
    assert await api.code(query, {"a": "987654"}, token=app.owner.token) == "NOT_FOUND"
    assert await api.code(query, {"a": app.id}) == "UNAUTHENTICATED"


async def test_the_api_key_header_and_bearer_forms_are_the_same_key(api):
    app = await f.make_app(api)
    via_header = await api.ok(APPS, api_key=app.api_key)
    via_bearer = await api.ok(APPS, headers={"authorization": f"Bearer {app.api_key}"})
    assert via_header == via_bearer == {"apps": [{"id": app.id, "name": "App"}]}


async def test_create_api_key_adds_a_working_key(api):
    app = await f.make_app(api)
    created = (await api.ok(CREATE_KEY, {"a": app.id}, token=app.owner.token))["createApiKey"]
    assert created["secret"].startswith("bk_") and created["secret"] != app.api_key
    assert created["apiKey"]["prefix"] == created["secret"][:10]
    assert await ApiKey.count().where(ApiKey.app == int(app.id)) == 2
    data = await api.ok(APPS, api_key=created["secret"])
    assert data["apps"][0]["id"] == app.id
    listed = (await api.ok(API_KEYS, {"a": app.id}, token=app.owner.token))["app"]["apiKeys"]
    assert [k["id"] for k in listed][1] == created["apiKey"]["id"]


async def test_last_used_at_is_recorded_when_a_key_is_used(api):
    app = await f.make_app(api)
    listed = (await api.ok(API_KEYS, {"a": app.id}, token=app.owner.token))["app"]["apiKeys"]
    assert listed[0]["lastUsedAt"] is None

    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await api.ok(APPS, api_key=app.api_key)
    await api.ok(APPS, api_key=app.api_key)  # a second use within the minute is fine too
    row = await ApiKey.select().first()
    assert row["last_used_at"] is not None
    listed = (await api.ok(API_KEYS, {"a": app.id}, token=app.owner.token))["app"]["apiKeys"]
    used = dt.datetime.fromisoformat(listed[0]["lastUsedAt"].replace("Z", "+00:00"))
    assert before <= used <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


async def test_last_used_at_is_refreshed_after_the_granularity(api):
    app = await f.make_app(api)
    await api.ok(APPS, api_key=app.api_key)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    await ApiKey.update({ApiKey.last_used_at: old}).where(ApiKey.app == int(app.id))
    keycache.forget()  # as if the key's cache entry had expired (api/apps/keycache.py, 5 s)
    await api.ok(APPS, api_key=app.api_key)
    row = await ApiKey.select().first()
    assert row["last_used_at"] > old + dt.timedelta(hours=1)


async def test_revoked_keys_are_refused_at_once(api):
    app = await f.make_app(api)
    key_id = (await api.ok(API_KEYS, {"a": app.id}, token=app.owner.token))["app"]["apiKeys"][0][
        "id"
    ]
    revoked = (await api.ok(REVOKE_KEY, {"k": key_id}, token=app.owner.token))["revokeApiKey"]
    assert revoked["id"] == key_id and revoked["revokedAt"] is not None
    row = await ApiKey.select().where(ApiKey.id == int(key_id)).first()
    assert row["revoked_at"] is not None

    assert await api.code(APPS, api_key=app.api_key) == "UNAUTHENTICATED"
    assert (
        await api.code(APPS, headers={"authorization": f"Bearer {app.api_key}"})
        == "UNAUTHENTICATED"
    )
    before = await row_counts()
    error = await api.error(
        'mutation($a: ID!) { createChannel(appId: $a, name: "late") { id } }',
        {"a": app.id},
        api_key=app.api_key,
    )
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert await row_counts() == before

    # Revoking again changes nothing.
    again = (await api.ok(REVOKE_KEY, {"k": key_id}, token=app.owner.token))["revokeApiKey"]
    assert again["revokedAt"] == revoked["revokedAt"]


async def test_revoke_api_key_of_someone_elses_app_is_not_found(api):
    app = await f.make_app(api)
    other = await f.make_user(api)
    key_id = (await api.ok(API_KEYS, {"a": app.id}, token=app.owner.token))["app"]["apiKeys"][0][
        "id"
    ]
    assert await api.code(REVOKE_KEY, {"k": key_id}, token=other.token) == "NOT_FOUND"
    assert await api.code(REVOKE_KEY, {"k": "424242"}, token=app.owner.token) == "NOT_FOUND"
    assert (await ApiKey.select().first())["revoked_at"] is None
    await api.ok(APPS, api_key=app.api_key)


async def test_an_unknown_api_key_is_unauthenticated(api):
    assert await api.code(APPS, api_key="bk_not-a-real-key") == "UNAUTHENTICATED"


async def test_delete_app_removes_everything_in_it(api):
    app = await f.make_app(api)
    survivor = await f.make_app(api)
    await f.make_channel(api, survivor, name="kept")
    news = await f.make_channel(api, app, name="news")
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    code = await f.access_code(api, app, ["vip"], identifier="u1")
    await f.access_code(api, app, ["vip", "news"])
    await api.ok(
        "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
        {"c": code["code"], "t": device["token"]},
    )

    assert (await api.ok(DELETE_APP, {"a": app.id}, token=app.owner.token)) == {"deleteApp": True}

    aid = int(app.id)
    assert not await App.exists().where(App.id == aid)
    assert await ApiKey.count().where(ApiKey.app == aid) == 0
    assert await Channel.count().where(Channel.app == aid) == 0
    assert await ChannelSubscription.count() == 0
    assert await DeviceAccessGrant.count() == 0
    assert await AccessCode.count() == 0
    assert await AccessCodeChannel.count() == 0
    assert await Device.count() == 1  # devices belong to no app
    assert await Channel.count() == 1  # the other app's channel is untouched
    assert await api.code(APPS, api_key=app.api_key) == "UNAUTHENTICATED"
    assert await api.code(DELETE_APP, {"a": app.id}, token=app.owner.token) == "NOT_FOUND"


async def test_usage_is_shown_to_the_owner_and_the_key(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    await f.subscribe(api, await f.make_expo_device(api), channel)
    query = (
        "query($a: ID!) { app(id: $a) { usage { notificationsToday dailyQuota activeDevices"
        " deliveries { pending sent delivered failed } } } }"
    )
    expected = {
        "notificationsToday": 0,
        "dailyQuota": 100,
        "activeDevices": 1,
        "deliveries": {"pending": 0, "sent": 0, "delivered": 0, "failed": 0},
    }
    assert (await api.ok(query, {"a": app.id}, token=app.owner.token))["app"]["usage"] == expected
    assert (await api.ok(query, {"a": app.id}, api_key=app.api_key))["app"]["usage"] == expected
