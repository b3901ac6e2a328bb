"""Helpers for the people tests: link devices to persons, read persons back, sign identities."""

from __future__ import annotations

import hashlib
import hmac
import itertools

from tests.support import factories as f
from tests.support.graphql import GraphQLClient

REGISTER = (
    "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { device { id token identifier } deviceKey } }"
)
IDENTIFY = (
    "mutation($d: ID!, $p: String, $a: ID) { identifyDevice(deviceId: $d, identifier: $p, appId: $a)"
    " { id identifier } }"
)
PERSON = (
    "query($a: ID!, $p: String!) { person(appId: $a, identifier: $p) { identifier unreadCount online"
    " devices { id identifier active } createdAt } }"
)
SECRET = "query($a: ID!) { app(id: $a) { identitySecret } }"


def sign(secret: str, identifier: str) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


async def identity_secret(api: GraphQLClient, app: f.AppHandle) -> str:
    return (await api.ok(SECRET, {"a": app.id}, token=app.owner.token))["app"]["identitySecret"]


async def person(api: GraphQLClient, app: f.AppHandle, identifier: str) -> dict | None:
    return (await api.ok(PERSON, {"a": app.id, "p": identifier}, api_key=app.api_key))["person"]


async def identify(api: GraphQLClient, app: f.AppHandle, device: dict, identifier: str | None) -> dict:
    return (await api.ok(IDENTIFY, {"d": device["id"], "p": identifier}, api_key=app.api_key))["identifyDevice"]


async def device_of(api: GraphQLClient, app: f.AppHandle, identifier: str, *, web_sandbox=None) -> dict:
    """A device registered by the app's server for this person (its API key supplies the token)."""
    if web_sandbox is not None:
        sub = web_sandbox.subscribe()
        fields = {"platform": "WEB", "token": sub["endpoint"], "webPushKeys": sub["keys"]}
    else:
        fields = {"platform": "EXPO", "token": f"ExponentPushToken[person-{next(fields_seq)}]"}
    data = await api.ok(REGISTER, {"i": {**fields, "identifier": identifier}}, api_key=app.api_key)
    return {**data["registerDevice"]["device"], "key": data["registerDevice"]["deviceKey"]}


fields_seq = itertools.count(1)
