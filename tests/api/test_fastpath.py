"""Prepared sends (api/graphql/fastpath.py) answer exactly as the general executor does.

Each case runs twice through the real server: with prepared plans, then with them turned off,
and the two responses must be equal (ids and timestamps of two different rows aside)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.graphql.fastpath import PreparedSends
from tests.support import factories as f

SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { %s } }"
ALL_LEAVES = "id title body data priority collapseKey ttl status sendAt createdAt sentAt __typename"
VOLATILE = ("id", "createdAt", "ident", "made")


def _comparable(body: dict) -> dict:
    for data in (body.get("data") or {}).values():
        for key in VOLATILE:
            if data and key in data:
                assert data[key] is not None
                data[key] = "<varies>"
    return body


async def _both(api, monkeypatch, query: str, variables: dict | None, **auth) -> tuple[dict, dict, int]:
    """(prepared response, general response, requests the plans answered)."""
    served = PreparedSends.served
    prepared = await api.raw(query, variables, **auth)
    answered = PreparedSends.served - served
    monkeypatch.setattr(PreparedSends, "enabled", False)
    try:
        general = await api.raw(query, variables, **auth)
    finally:
        monkeypatch.setattr(PreparedSends, "enabled", True)
    return _comparable(prepared), _comparable(general), answered


@pytest.fixture
async def world(api):
    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")
    await f.make_channel(api, app, name="vault", visibility="PRIVATE")
    return app


CASES = [
    ("every leaf", SEND % ALL_LEAVES, {"i": {"channel": "news", "title": "T", "body": "B", "data": {"k": [1, "x"]},
                                             "priority": "HIGH", "collapseKey": "c", "ttl": 60}}),
    ("aliases", "mutation Named($i: SendNotificationInput!) { s: sendNotification(input: $i) { ident: id made: "
                "createdAt state: status } }", {"i": {"channel": "news", "title": "T"}}),
    ("scheduled", SEND % "id status sendAt", {"i": {"channel": "news", "title": "later",
                                                     "sendAt": "2099-01-01T00:00:00+00:00"}}),
    ("literal input", 'mutation { sendNotification(input: {channel: "news", body: "inline"}) { id body } }', None),
    ("unknown channel", SEND % "id", {"i": {"channel": "nowhere", "title": "T"}}),
    ("nothing to say", SEND % "id", {"i": {"channel": "news"}}),
    ("bad ttl", SEND % "id", {"i": {"channel": "news", "title": "T", "ttl": -1}}),
    ("too large", SEND % "id", {"i": {"channel": "news", "body": "x" * 5000}}),
    ("both channel forms", SEND % "id", {"i": {"channel": "news", "channelId": "1", "title": "T"}}),
    ("bad idempotency key", SEND % "id", {"i": {"channel": "news", "title": "T", "idempotencyKey": "has space"}}),
    # Nested inputs (engagement's display options) reach the resolver as input objects on both paths.
    ("rich fields", SEND % "id critical url image badge", {"i": {
        "channel": "news", "title": "T", "critical": True, "url": "https://example.com/a", "badge": 2,
        "image": "https://example.com/i.png", "expo": {"sound": "default", "interruptionLevel": "PASSIVE"},
        "webPush": {"tag": "t", "actions": [{"action": "open", "title": "Open"}]}}}),
    ("bad rich field", SEND % "id", {"i": {"channel": "news", "title": "T",
                                            "webPush": {"actions": [{"action": "a", "title": "A"}] * 3}}}),
]


@pytest.mark.parametrize(("name", "query", "variables"), CASES, ids=[c[0] for c in CASES])
async def test_prepared_and_general_answers_are_the_same(api, world, monkeypatch, name, query, variables):
    prepared, general, answered = await _both(api, monkeypatch, query, variables, api_key=world.api_key)
    assert answered == 1, "this document should have been answered by a prepared plan"
    assert prepared == general


@pytest.mark.parametrize("accept", [None, "application/json", "application/json, text/plain; q=0.5"])
async def test_both_doors_answer_alike(api, world, monkeypatch, accept):
    """Plain JSON requests are answered by the front door (api/http/prepared.py); others reach the
    plan through Strawberry's view (execute_single). Status, type and body match the general path."""
    import httpx

    headers = {"x-api-key": world.api_key, **({"accept": accept} if accept else {})}
    variables = {"i": {"channel": "news", "title": "T", "ttl": 5}}
    bad = {"i": {"channel": "news", "title": "T", "ttl": -5}}

    async def post(body: dict) -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post(f"{api.url}/graphql", json=body, headers=headers)

    for v in (variables, bad):
        served = PreparedSends.served
        fast = await post({"query": SEND % "title ttl status", "variables": v})
        assert PreparedSends.served == served + 1
        monkeypatch.setattr(PreparedSends, "enabled", False)
        general = await post({"query": SEND % "title ttl status", "variables": v})
        monkeypatch.setattr(PreparedSends, "enabled", True)
        assert (fast.status_code, fast.headers["content-type"]) == (general.status_code, general.headers["content-type"])
        assert fast.json() == general.json()


async def test_errors_of_callers_match_too(api, world, monkeypatch):
    stranger = await f.make_app(api)
    query = SEND % "id title"
    for auth, variables, code in [
        ({}, {"i": {"channel": "vault", "appId": world.id, "title": "T"}}, "UNAUTHENTICATED"),
        ({"api_key": stranger.api_key}, {"i": {"channel": "vault", "appId": world.id, "title": "T"}}, "NOT_FOUND"),
        ({"api_key": "bpr_not_a_key"}, {"i": {"channel": "news", "title": "T"}}, "UNAUTHENTICATED"),
    ]:
        prepared, general, answered = await _both(api, monkeypatch, query, variables, **auth)
        assert prepared == general
        assert prepared["errors"][0]["extensions"]["code"] == code, prepared
        assert prepared["errors"][0]["path"] == ["sendNotification"]
        assert answered == 1


async def test_quota_and_idempotency_match(api, monkeypatch, settings):
    settings.quota_free = 2
    app = await f.make_app(api, plan="FREE")
    await f.make_channel(api, app, name="news")
    once = {"i": {"channel": "news", "title": "once", "idempotencyKey": "k-1"}}
    prepared, general, _ = await _both(api, monkeypatch, SEND % "id title", once, api_key=app.api_key)
    assert prepared == general  # the repeat returns the first row: one unit of quota taken
    fresh = {"i": {"channel": "news", "title": "new"}}
    prepared, general, _ = await _both(api, monkeypatch, SEND % "id", fresh, api_key=app.api_key)
    assert prepared["data"] is not None and general["data"] is None
    assert general["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"
    prepared, general, _ = await _both(api, monkeypatch, SEND % "id", fresh, api_key=app.api_key)
    assert prepared == general and prepared["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"


@pytest.mark.parametrize(
    ("name", "query", "variables"),
    [
        ("nested object", SEND % "id channel { name }", {"i": {"channel": "news", "title": "T"}}),
        ("app-only field", SEND % "id deliveryCounts { pending }", {"i": {"channel": "news", "title": "T"}}),
        ("fragment", "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { ...F } }"
                     " fragment F on Notification { id }", {"i": {"channel": "news", "title": "T"}}),
        ("directive", "mutation($i: SendNotificationInput!, $x: Boolean!) { sendNotification(input: $i)"
                      " { id title @include(if: $x) } }", {"i": {"channel": "news", "title": "T"}, "x": False}),
        ("two fields", "mutation($i: SendNotificationInput!) { a: sendNotification(input: $i) { id }"
                       " b: sendNotification(input: $i) { id } }", {"i": {"channel": "news", "title": "T"}}),
        ("escape", 'mutation { sendNotification(input: {channel: "news", title: "\\u00e9t\\u00e9"}) { title } }',
         None),
        ("variable error", SEND % "id", {"i": {"channel": "news", "ttl": "soon"}}),
        ("missing variable", SEND % "id", None),
        ("unknown field", SEND % "id colour", {"i": {"channel": "news", "title": "T"}}),
        ("nul in variables", SEND % "id", {"i": {"channel": "news", "title": "a\x00b"}}),
        ("31 aliases", "mutation($i: SendNotificationInput!) { s: sendNotification(input: $i) { "
                       + " ".join(f"a{k}: id" for k in range(30)) + " } }", {"i": {"channel": "news", "title": "T"}}),
        ("over 2000 tokens", 'mutation { sendNotification(input: {channel: "news", title: "T", data: {'
                             + " ".join(f"k{k}: 1" for k in range(700)) + "}}) { id } }", None),
    ],
)
async def test_other_shapes_take_the_general_path_unchanged(api, world, monkeypatch, name, query, variables):
    prepared, general, answered = await _both(api, monkeypatch, query, variables, api_key=world.api_key)
    assert answered == 0
    assert prepared == general


async def test_a_prepared_send_is_delivered_like_any_other(api, world, sandbox):
    device = await f.make_expo_device(api)
    channel = (await api.ok("query { channels { id name } }", api_key=world.api_key))["channels"]
    news = next(c for c in channel if c["name"] == "news")
    await f.subscribe(api, device, news)
    served = PreparedSends.served
    sent = await f.send(api, world, channel="news", title="prepared")
    assert PreparedSends.served == served + 1
    deadline = dt.datetime.now() + dt.timedelta(seconds=10)
    while dt.datetime.now() < deadline:
        data = await api.ok("query($i: ID!) { notification(id: $i) { status deliveryCounts { delivered } } }",
                            {"i": sent["id"]}, api_key=world.api_key)
        if data["notification"]["status"] == "COMPLETED":
            break
        await api_sleep()
    assert data["notification"] == {"status": "COMPLETED", "deliveryCounts": {"delivered": 1}}


async def api_sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)
