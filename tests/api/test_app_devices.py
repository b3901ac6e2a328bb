"""Query.devices: an app's devices for its owner or key, searched, filtered, paged, with their
subscriptions to the app's channels (issue 11, the dashboard's devices page)."""

from __future__ import annotations

from api.devices.tables import Device
from tests.support import factories as f

DEVICES = (
    "query($a: ID!, $s: String, $active: Boolean, $first: Int!, $after: String) {"
    " devices(appId: $a, search: $s, active: $active, first: $first, after: $after) {"
    " nodes { device { id identifier tokenHint active } subscriptions { id channel { name } } }"
    " pageInfo { endCursor hasNextPage } } }"
)


async def _ids(api, app, **variables) -> list[str]:
    data = await api.ok(DEVICES, {"a": app.id, "first": 20, **variables}, token=app.owner.token)
    return [n["device"]["id"] for n in data["devices"]["nodes"]]


async def test_the_apps_devices_with_their_subscriptions_searched_and_filtered(api):
    app = await f.make_app(api)
    other = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    theirs = await f.make_channel(api, other, name="theirs")
    a = await f.make_expo_device(api)
    b = await f.make_expo_device(api)
    c = await f.make_expo_device(api)
    dead = await f.make_expo_device(api)
    await f.subscribe(api, a, news)
    code = await f.access_code(api, app, ["vip"], identifier="customer-7")
    await api.ok(
        "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
        {"c": code["code"], "t": b["token"]},
    )
    await f.subscribe(api, c, theirs)  # another app's device only
    await f.subscribe(api, dead, news)
    await Device.update({Device.active: False}).where(Device.id == int(dead["id"]))

    data = await api.ok(DEVICES, {"a": app.id, "first": 20}, token=app.owner.token)
    nodes = data["devices"]["nodes"]
    assert [n["device"]["id"] for n in nodes] == [dead["id"], b["id"], a["id"]]  # newest first
    by_id = {n["device"]["id"]: n for n in nodes}
    assert [s["channel"]["name"] for s in by_id[a["id"]]["subscriptions"]] == ["news"]
    assert [s["channel"]["name"] for s in by_id[b["id"]]["subscriptions"]] == ["vip"]
    assert by_id[b["id"]]["device"]["identifier"] == "customer-7"

    assert await _ids(api, app, s="customer-7") == [b["id"]]
    assert await _ids(api, app, s=a["token"].rstrip("]")[-6:]) == [a["id"]]  # its token hint
    assert await _ids(api, app, s="%") == []  # a wildcard is text, not a pattern
    assert await _ids(api, app, s="customer-") == []  # identifiers match exactly
    assert await _ids(api, app, active=True) == [b["id"], a["id"]]
    assert await _ids(api, app, active=False) == [dead["id"]]
    keyed = await api.ok(DEVICES, {"a": app.id, "first": 20}, api_key=app.api_key)
    assert [n["device"]["id"] for n in keyed["devices"]["nodes"]] == [dead["id"], b["id"], a["id"]]


async def test_devices_page_by_cursor(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    devices = [await f.make_expo_device(api) for _ in range(3)]
    for d in devices:
        await f.subscribe(api, d, news)
    first = await api.ok(DEVICES, {"a": app.id, "first": 2}, token=app.owner.token)
    page = first["devices"]
    assert len(page["nodes"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = await api.ok(DEVICES, {"a": app.id, "first": 2, "after": page["pageInfo"]["endCursor"]},
                        token=app.owner.token)
    seen = [n["device"]["id"] for n in page["nodes"] + rest["devices"]["nodes"]]
    assert seen == [d["id"] for d in reversed(devices)]
    assert not rest["devices"]["pageInfo"]["hasNextPage"]


async def test_only_the_owner_and_the_apps_key_see_its_devices(api):
    app = await f.make_app(api)
    stranger = await f.make_app(api)
    variables = {"a": app.id, "first": 20}
    assert await api.code(DEVICES, variables, token=stranger.owner.token) == "NOT_FOUND"
    assert await api.code(DEVICES, variables, api_key=stranger.api_key) == "NOT_FOUND"
    assert await api.code(DEVICES, variables) == "UNAUTHENTICATED"
    assert await api.code(DEVICES, {**variables, "first": 0}, token=app.owner.token) == "BAD_USER_INPUT"
    assert await api.code(DEVICES, {**variables, "after": "bogus"}, token=app.owner.token) == "BAD_USER_INPUT"
