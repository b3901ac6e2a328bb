"""The permission matrix: every viewer kind against every operation of the core service.

The rule (api/graphql/permissions.py): objects the viewer may not see are NOT_FOUND, exactly
like objects that do not exist; the wrong kind of caller (an API key managing keys or apps, a
user without rights on a visible public channel) is FORBIDDEN; no credentials where some are
needed is UNAUTHENTICATED.

A device's only credential is its push token, passed as deviceToken: the "subscribed device"
and "unknown device" viewers send no headers and pass their token wherever the operation takes
one. Operations that need a device (subscribe, redeemAccessCode, ...) are called by the other
viewers with the subscribed device's token: headers neither add nor remove a device's rights.

Every refusal is also checked to have written nothing (row counts of every table unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import World, expo_token, make_world, row_counts
from tests.support import factories as f

ROOT = Path(__file__).resolve().parents[2]
VIEWERS = (
    "owner",
    "other_user",
    "app_key",
    "other_key",
    "subscribed_device",
    "unknown_device",
    "anonymous",
)
OK = "ok"
UA, FB, NF = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"
DEVICES = ("subscribed_device", "unknown_device")


def credentials(w: World, viewer: str) -> dict:
    return {
        "owner": {"token": w.owner.token},
        "other_user": {"token": w.other_owner.token},
        "app_key": {"api_key": w.app.api_key},
        "other_key": {"api_key": w.other_app.api_key},
    }.get(viewer, {})


def device_token(w: World, viewer: str, *, required: bool) -> str | None:
    if viewer == "subscribed_device":
        return w.device["token"]
    if viewer == "unknown_device":
        return w.unknown_token
    return w.device["token"] if required else None


@dataclass
class Op:
    name: str
    build: Callable[..., Any]  # async (api, world, viewer) -> (query, variables)
    expect: tuple[str, ...]  # one outcome per viewer, in VIEWERS order
    check: Callable[[World, str, dict], None] | None = None  # on the data of allowed calls
    extra: dict = field(default_factory=dict)


def q(query: str, **variables):
    async def build(api, w, viewer):
        return query, {k: (v(w, viewer) if callable(v) else v) for k, v in variables.items()}

    return build


def optional_token(w, viewer):
    return device_token(w, viewer, required=False)


def needed_token(w, viewer):
    return device_token(w, viewer, required=True)


def app_a(w, viewer):
    return w.app.id


def app_or_token(query_for_device: str, query_for_app: str):
    async def build(api, w, viewer):
        if viewer in DEVICES:
            return query_for_device, {"t": device_token(w, viewer, required=False)}
        return query_for_app, {"a": w.app.id}

    return build


async def _key_id(api, w: World) -> str:
    data = await api.ok(
        "query($a: ID!) { app(id: $a) { apiKeys { id } } }", {"a": w.app.id}, token=w.owner.token
    )
    return data["app"]["apiKeys"][0]["id"]


def revoke(api, w, viewer):
    async def build():
        return "mutation($k: ID!) { revokeApiKey(id: $k) { id revokedAt } }", {
            "k": await _key_id(api, w)
        }

    return build()


async def redeem(api, w, viewer):
    code = await f.access_code(api, w.app, ["vip"])
    return (
        "mutation($c: String!, $t: String!) {"
        " redeemAccessCode(code: $c, deviceToken: $t) { name } }",
        {"c": code["code"], "t": needed_token(w, viewer)},
    )


def sees_app_a(expected: dict[str, bool]):
    def check(w, viewer, data):
        assert (w.app.id in [a["id"] for a in data["apps"]]) is expected[viewer]

    return check


def channel_names(*names):
    def check(w, viewer, data):
        root = data["channels"] if "channels" in data else data["app"]["channels"]
        assert [c["name"] for c in root] == list(names)

    return check


def me_check(w, viewer, data):
    expected = {"owner": w.owner.user_id, "other_user": w.other_owner.user_id}.get(viewer)
    assert (data["me"] or {}).get("id") == expected


def unregister_check(w, viewer, data):
    assert data["unregisterDevice"] is (viewer != "unknown_device")


#                                owner other  key  o.key device unknown anon
OPS = [
    Op("me", q("{ me { id } }"), (OK, OK, OK, OK, OK, OK, OK), me_check),
    Op(
        "signUp",
        q('mutation { signUp(email: "new@example.com", password: "long enough") { token } }'),
        (OK, OK, OK, OK, OK, OK, OK),
    ),
    Op(
        "logIn",
        q(
            'mutation($e: String!) { logIn(email: $e, password: "correct horse") { user { id } } }',
            e=lambda w, v: w.owner.email,
        ),
        (OK, OK, OK, OK, OK, OK, OK),
    ),
    Op(
        "apps",
        q("query($t: String) { apps(deviceToken: $t) { id } }", t=optional_token),
        (OK, OK, OK, OK, OK, OK, OK),
        sees_app_a(
            {
                "owner": True,
                "other_user": False,
                "app_key": True,
                "other_key": False,
                "subscribed_device": True,
                "unknown_device": False,
                "anonymous": False,
            }
        ),
    ),
    Op(
        "app",
        q(
            "query($a: ID!, $t: String) { app(id: $a, deviceToken: $t) { id name } }",
            a=app_a,
            t=optional_token,
        ),
        (OK, NF, OK, NF, OK, NF, UA),
    ),
    Op(
        "app.channels",
        q(
            "query($a: ID!, $t: String) { app(id: $a, deviceToken: $t) { channels { name } } }",
            a=app_a,
            t=optional_token,
        ),
        (OK, NF, OK, NF, OK, NF, UA),
        channel_names("news", "vip"),
    ),
    Op(
        "app.apiKeys",
        q(
            "query($a: ID!, $t: String) { app(id: $a, deviceToken: $t) { apiKeys { id } } }",
            a=app_a,
            t=optional_token,
        ),
        (OK, NF, FB, NF, FB, NF, UA),
    ),
    Op(
        "app.usage",
        q(
            "query($a: ID!, $t: String) {"
            " app(id: $a, deviceToken: $t) { usage { activeDevices } } }",
            a=app_a,
            t=optional_token,
        ),
        (OK, NF, OK, NF, FB, NF, UA),
    ),
    Op(
        "channels",
        app_or_token(
            "query($t: String) { channels(deviceToken: $t) { name } }",
            "query($a: ID) { channels(appId: $a) { name } }",
        ),
        (OK, NF, OK, NF, OK, OK, UA),
        lambda w, viewer, data: channel_names(
            *([] if viewer == "unknown_device" else ["news", "vip"])
        )(w, viewer, data),
    ),
    Op(
        "channel.public",
        q(
            "query($c: ID, $t: String) { channel(id: $c, deviceToken: $t) { name } }",
            c=lambda w, v: w.public["id"],
            t=optional_token,
        ),
        (OK, OK, OK, OK, OK, OK, OK),
    ),
    Op(
        "channel.private",
        q(
            "query($c: ID, $t: String) { channel(id: $c, deviceToken: $t) { name } }",
            c=lambda w, v: w.private["id"],
            t=optional_token,
        ),
        (OK, NF, OK, NF, OK, NF, NF),
    ),
    Op(
        "createApp",
        q('mutation { createApp(name: "new") { app { id } } }'),
        (OK, OK, FB, FB, UA, UA, UA),
    ),
    Op(
        "deleteApp",
        q("mutation($a: ID!) { deleteApp(id: $a) }", a=app_a),
        (OK, NF, FB, FB, UA, UA, UA),
    ),
    Op(
        "createApiKey",
        q("mutation($a: ID!) { createApiKey(appId: $a) { secret } }", a=app_a),
        (OK, NF, FB, FB, UA, UA, UA),
    ),
    Op("revokeApiKey", revoke, (OK, NF, FB, FB, UA, UA, UA)),
    Op(
        "createChannel",
        q('mutation($a: ID!) { createChannel(appId: $a, name: "fresh") { id } }', a=app_a),
        (OK, NF, OK, NF, UA, UA, UA),
    ),
    Op(
        "deleteChannel.public",
        q("mutation($c: ID!) { deleteChannel(id: $c) }", c=lambda w, v: w.public["id"]),
        (OK, FB, OK, FB, UA, UA, UA),
    ),
    Op(
        "deleteChannel.private",
        q("mutation($c: ID!) { deleteChannel(id: $c) }", c=lambda w, v: w.private["id"]),
        (OK, NF, OK, NF, UA, UA, UA),
    ),
    Op(
        "subscribers.public",
        q(
            "query($c: ID!) { subscribers(channelId: $c) { nodes { id } } }",
            c=lambda w, v: w.public["id"],
        ),
        (OK, FB, OK, FB, UA, UA, UA),
    ),
    Op(
        "subscribers.private",
        q(
            "query($c: ID!) { subscribers(channelId: $c) { nodes { id } } }",
            c=lambda w, v: w.private["id"],
        ),
        (OK, NF, OK, NF, UA, UA, UA),
    ),
    # Subscriptions are only ever shown to the channel's app: to anyone else they do not exist.
    Op(
        "deleteSubscription.public",
        q("mutation($s: ID!) { deleteSubscription(id: $s) }", s=lambda w, v: w.public_subscription),
        (OK, NF, OK, NF, UA, UA, UA),
    ),
    Op(
        "deleteSubscription.private",
        q(
            "mutation($s: ID!) { deleteSubscription(id: $s) }",
            s=lambda w, v: w.private_subscription,
        ),
        (OK, NF, OK, NF, UA, UA, UA),
    ),
    Op(
        "createAccessCode",
        q(
            'mutation($a: ID) { createAccessCode(input: {channels: ["vip"], appId: $a}) { code } }',
            a=app_a,
        ),
        (OK, NF, OK, NF, UA, UA, UA),
    ),
    Op(
        "subscribe.public",
        q(
            "mutation($t: String!, $c: ID) { subscribe(deviceToken: $t, channelId: $c) { id } }",
            t=needed_token,
            c=lambda w, v: w.public["id"],
        ),
        (OK, OK, OK, OK, OK, NF, OK),
    ),
    Op(
        "subscribe.private",
        q(
            "mutation($t: String!, $c: ID) { subscribe(deviceToken: $t, channelId: $c) { id } }",
            t=needed_token,
            c=lambda w, v: w.private["id"],
        ),
        (OK, OK, OK, OK, OK, NF, OK),
    ),
    Op(
        "subscribe.byName",
        q(
            'mutation($t: String!) { subscribe(deviceToken: $t, name: "anywhere")'
            " { channel { app { id } } } }",
            t=needed_token,
        ),
        (OK, OK, NF, NF, OK, NF, OK),
    ),  # a key means its app's namespace, where "anywhere" does not exist
    Op(
        "unsubscribe",
        q(
            "mutation($t: String!, $c: ID) { unsubscribe(deviceToken: $t, channelId: $c) }",
            t=needed_token,
            c=lambda w, v: w.public["id"],
        ),
        (OK, OK, OK, OK, OK, NF, OK),
    ),
    Op("redeemAccessCode", redeem, (OK, OK, OK, OK, OK, NF, OK)),
    Op(
        "registerDevice",
        q(
            "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { id } }",
            t=lambda w, v: expo_token(),
        ),
        (OK, OK, OK, OK, OK, OK, OK),
    ),
    Op(
        "unregisterDevice",
        q("mutation($t: String!) { unregisterDevice(deviceToken: $t) }", t=needed_token),
        (OK, OK, OK, OK, OK, OK, OK),
        unregister_check,
    ),
    Op("webPushPublicKey", q("{ webPushPublicKey }"), (OK, OK, OK, OK, OK, OK, OK)),
]

CASES = [
    pytest.param(op, viewer, expected, id=f"{op.name}-{viewer}")
    for op in OPS
    for viewer, expected in zip(VIEWERS, op.expect, strict=True)
]


@pytest.mark.parametrize(("op", "viewer", "expected"), CASES)
async def test_permission_matrix(api, op: Op, viewer: str, expected: str):
    w = await make_world(api)
    query, variables = await op.build(api, w, viewer)
    before = await row_counts()
    body = await api.raw(query, variables, **credentials(w, viewer))
    if expected == OK:
        assert not body.get("errors"), body["errors"]
        if op.check:
            op.check(w, viewer, body["data"])
    else:
        assert body.get("errors"), f"expected {expected}, got data {body.get('data')}"
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected], body["errors"]
        assert await row_counts() == before


def test_the_matrix_covers_every_core_operation_of_the_contract():
    """Every query and mutation of contract.graphql gets a row above, except the ones the
    delivery issue owns."""
    from graphql import build_schema

    contract = ROOT.parent / "shared" / "design" / "contract.graphql"
    if not contract.is_file():
        pytest.skip(f"contract not found at {contract}")
    schema = build_schema(contract.read_text())
    operations = set(schema.query_type.fields) | set(schema.mutation_type.fields)
    delivery_issue = {
        "notifications",
        "notification",
        "deliveries",
        "sendNotification",
        "cancelNotification",
        "markRead",
    }
    covered = {op.name.split(".")[0] for op in OPS}
    assert operations - delivery_issue - covered == set()
