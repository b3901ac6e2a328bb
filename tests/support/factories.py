"""Factories with keyword arguments, each going through the public GraphQL API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from tests.support.graphql import GraphQLClient

_seq = itertools.count(1)


@dataclass
class Owner:
    token: str
    user_id: str
    email: str


@dataclass
class AppHandle:
    id: str
    api_key: str
    owner: Owner


async def make_user(api: GraphQLClient, *, email: str | None = None, password: str = "correct horse") -> Owner:
    email = email or f"user{next(_seq)}@example.com"
    data = await api.ok(
        "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token user { id } } }",
        {"e": email, "p": password},
    )
    return Owner(data["signUp"]["token"], data["signUp"]["user"]["id"], email)


async def make_app(api: GraphQLClient, *, owner: Owner | None = None, name: str = "App", plan: str | None = None) -> AppHandle:
    owner = owner or await make_user(api)
    data = await api.ok(
        "mutation($n: String!) { createApp(name: $n) { app { id } apiKey { secret } } }",
        {"n": name},
        token=owner.token,
    )
    app = AppHandle(data["createApp"]["app"]["id"], data["createApp"]["apiKey"]["secret"], owner)
    if plan:
        from api.apps import service

        await service.set_plan(int(app.id), plan)
    return app


async def make_channel(api: GraphQLClient, app: AppHandle, *, name: str | None = None, visibility: str = "PUBLIC") -> dict:
    data = await api.ok(
        "mutation($a: ID!, $n: String!, $v: ChannelVisibility!) {"
        " createChannel(appId: $a, name: $n, visibility: $v) { id name visibility } }",
        {"a": app.id, "n": name or f"ch{next(_seq)}", "v": visibility},
        api_key=app.api_key,
    )
    return data["createChannel"]


async def make_expo_device(api: GraphQLClient, *, token: str | None = None) -> dict:
    token = token or f"ExponentPushToken[dev{next(_seq)}]"
    data = await api.ok(
        "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t})"
        " { device { id token active } deviceKey } }",
        {"t": token},
    )
    return {**data["registerDevice"]["device"], "key": data["registerDevice"]["deviceKey"]}


async def make_web_device(api: GraphQLClient, sandbox) -> dict:
    sub = sandbox.subscribe()
    data = await api.ok(
        "mutation($t: String!, $p: String!, $a: String!) { registerDevice(input: {platform: WEB, token: $t,"
        " webPushKeys: {p256dh: $p, auth: $a}}) { device { id token active } deviceKey } }",
        {"t": sub["endpoint"], "p": sub["keys"]["p256dh"], "a": sub["keys"]["auth"]},
    )
    return {**data["registerDevice"]["device"], "key": data["registerDevice"]["deviceKey"]}


async def subscribe(api: GraphQLClient, device: dict, channel: dict) -> dict:
    data = await api.ok(
        "mutation($t: String!, $c: ID!) { subscribe(deviceToken: $t, channelId: $c) { id } }",
        {"t": device["token"], "c": channel["id"]},
    )
    return data["subscribe"]


async def access_code(api: GraphQLClient, app: AppHandle, channels: list[str], *, identifier: str | None = None,
                      expires_at: str | None = None) -> dict:
    data = await api.ok(
        "mutation($i: CreateAccessCodeInput!) { createAccessCode(input: $i) { code expiresAt identifier"
        " channels { id name } } }",
        {"i": {"channels": channels, "identifier": identifier, "expiresAt": expires_at}},
        api_key=app.api_key,
    )
    return data["createAccessCode"]


async def send(api: GraphQLClient, app: AppHandle | None, **fields) -> dict:
    data = await api.ok(
        "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id status } }",
        {"i": fields},
        api_key=app.api_key if app else None,
    )
    return data["sendNotification"]


def fcm_token() -> str:
    return f"fcm-{next(_seq)}:APA91b" + "x" * 120


def apns_token() -> str:
    return f"{next(_seq):064x}"


async def make_native_device(api: GraphQLClient, app: AppHandle, platform: str, *, token: str | None = None) -> dict:
    """An FCM or APNS device registered with its app (RegisterDeviceInput.appId)."""
    token = token or (fcm_token() if platform == "FCM" else apns_token())
    data = await api.ok(
        "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { device { id token active platform }"
        " deviceKey } }",
        {"i": {"platform": platform, "token": token, "appId": app.id}},
    )
    return {**data["registerDevice"]["device"], "key": data["registerDevice"]["deviceKey"]}


async def set_fcm(api: GraphQLClient, app: AppHandle, service_account: dict) -> dict:
    import json

    data = await api.ok(
        "mutation($a: ID!, $i: FcmCredentialsInput) { setFcmCredentials(appId: $a, input: $i) {"
        " providers { fcmProjectId } } }",
        {"a": app.id, "i": {"serviceAccountJson": json.dumps(service_account)}}, token=app.owner.token,
    )
    return data["setFcmCredentials"]["providers"]


async def set_apns(api: GraphQLClient, app: AppHandle, key: dict, *, topic: str = "com.example.app",
                   production: bool = False) -> dict:
    data = await api.ok(
        "mutation($a: ID!, $i: ApnsCredentialsInput) { setApnsCredentials(appId: $a, input: $i) {"
        " providers { apnsKeyId apnsTopic } } }",
        {"a": app.id, "i": {"keyId": key["key_id"], "teamId": key["team_id"], "privateKey": key["private_key"],
                            "topic": topic, "production": production}},
        token=app.owner.token,
    )
    return data["setApnsCredentials"]["providers"]
