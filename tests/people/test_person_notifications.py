"""Person.notifications: what reached a person (channel sends to their devices, direct sends naming
them), newest first, paged, with the person's read state and their devices' outcomes; the app's
owner or key only; nothing of another person or app; none after the person is erased."""

from __future__ import annotations

import datetime as dt

from tests.delivery.helpers import send, wait_deliveries
from tests.people.support import device_of, identify
from tests.support import factories as f

RECENT = (
    "query($a: ID!, $p: String!, $n: Int, $after: String, $d: Int) { person(appId: $a, identifier: $p) {"
    " notifications(first: $n, after: $after) { nodes { notification { id title status createdAt } read"
    " deliveryCounts { pending sent delivered failed held skipped } deliveries(first: $d) { status reason"
    " device { id } } } pageInfo { endCursor hasNextPage } } } }"
)
MARK = "mutation($t: String!, $n: [ID!]!) { markRead(deviceToken: $t, notificationIds: $n) }"
ERASE = "mutation($a: ID!, $p: String!) { erasePerson(appId: $a, identifier: $p) }"


async def recent(api, app, identifier: str, *, first: int = 20, after: str | None = None, deliveries: int = 10,
                 **auth) -> dict | None:
    auth = auth or {"api_key": app.api_key}
    variables = {"a": app.id, "p": identifier, "n": first, "after": after, "d": deliveries}
    person = (await api.ok(RECENT, variables, **auth))["person"]
    return person["notifications"] if person else None


def ids(page: dict) -> list[str]:
    return [n["notification"]["id"] for n in page["nodes"]]


async def test_what_reached_the_person_newest_first_with_read_state_and_outcomes(api, sandbox):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    phone, tablet = await device_of(api, app, "user-42"), await device_of(api, app, "user-42")
    neighbour = await device_of(api, app, "user-7")
    for device in (tablet, neighbour):
        await f.subscribe(api, device, news)
    direct = await send(api, app, identifiers=["user-42"], title="direct")
    await wait_deliveries(direct["id"], "SENT", "DELIVERED", count=2)
    channel = await send(api, app, channelId=news["id"], title="news")
    await wait_deliveries(channel["id"], "SENT", "DELIVERED", count=2)
    theirs = await send(api, app, identifiers=["user-7"], title="not for user-42")
    await wait_deliveries(theirs["id"], "SENT", "DELIVERED", count=1)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    scheduled = await send(api, app, identifiers=["user-42"], title="later", sendAt=later)
    await api.ok(MARK, {"t": phone["token"], "n": [direct["id"]]})

    for auth in ({"api_key": app.api_key}, {"token": app.owner.token}):
        page = await recent(api, app, "user-42", **auth)
        assert ids(page) == [scheduled["id"], channel["id"], direct["id"]]
        assert page["pageInfo"]["hasNextPage"] is False
    by_id = {n["notification"]["id"]: n for n in page["nodes"]}
    # Scheduled: named by the send, no delivery yet.
    assert by_id[scheduled["id"]]["notification"]["status"] == "SCHEDULED"
    assert by_id[scheduled["id"]]["deliveries"] == [] and by_id[scheduled["id"]]["read"] is False
    # Read on the phone: read for the person; the channel send is not.
    assert by_id[direct["id"]]["read"] is True and by_id[channel["id"]]["read"] is False
    # Outcomes for the person's own devices only (the neighbour's delivery of the channel send is not theirs).
    assert sorted(d["device"]["id"] for d in by_id[direct["id"]]["deliveries"]) == sorted([phone["id"], tablet["id"]])
    assert [d["device"]["id"] for d in by_id[channel["id"]]["deliveries"]] == [tablet["id"]]
    counts = by_id[channel["id"]]["deliveryCounts"]
    assert counts["sent"] + counts["delivered"] == 1 and counts["failed"] == counts["pending"] == 0
    direct_counts = by_id[direct["id"]]["deliveryCounts"]
    assert direct_counts["sent"] + direct_counts["delivered"] == 2
    assert by_id[direct["id"]]["notification"]["title"] == "direct"
    # The neighbour sees their own two, not user-42's direct send.
    assert ids(await recent(api, app, "user-7")) == [theirs["id"], channel["id"]]


async def test_pages_follow_the_cursor_and_deliveries_are_bounded(api, sandbox):
    app = await f.make_app(api)
    for _ in range(3):
        await device_of(api, app, "user-42")
    sent = []
    for i in range(5):
        note = await send(api, app, identifiers=["user-42"], title=f"n{i}")
        await wait_deliveries(note["id"], "SENT", "DELIVERED", count=3)
        sent.append(note["id"])
    seen, after, pages = [], None, 0
    while True:
        page = await recent(api, app, "user-42", first=2, after=after, deliveries=2)
        pages += 1
        seen += ids(page)
        for node in page["nodes"]:
            # At most `first` deliveries; the counts count all three devices.
            assert len(node["deliveries"]) == 2
            assert node["deliveryCounts"]["sent"] + node["deliveryCounts"]["delivered"] == 3
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sent[::-1] and pages == 3
    variables = {"a": app.id, "p": "user-42", "n": 2, "d": 1}
    assert await api.code(RECENT, {**variables, "n": 0}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert await api.code(RECENT, {**variables, "n": 101}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert await api.code(RECENT, {**variables, "d": 21}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert await api.code(RECENT, {**variables, "after": "bm9wZQ"}, api_key=app.api_key) == "BAD_USER_INPUT"


async def test_another_app_or_user_gets_nothing(api, sandbox):
    app = await f.make_app(api)
    await device_of(api, app, "user-42")
    note = await send(api, app, identifiers=["user-42"], title="mine")
    await wait_deliveries(note["id"], "SENT", "DELIVERED", count=1)
    other = await f.make_app(api)
    variables = {"a": app.id, "p": "user-42", "n": 20, "d": 10}
    assert await api.code(RECENT, variables, api_key=other.api_key) == "NOT_FOUND"
    assert await api.code(RECENT, variables, token=other.owner.token) == "NOT_FOUND"
    assert await api.code(RECENT, variables) == "UNAUTHENTICATED"
    # The other app's person of the same identifier, on a device of their own, sees none of it.
    await device_of(api, other, "user-42")
    assert (await recent(api, other, "user-42"))["nodes"] == []


async def test_a_person_erased_afterwards_has_none(api, sandbox):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    phone = await device_of(api, app, "user-42")
    await f.subscribe(api, phone, channel)
    for fields in ({"identifiers": ["user-42"]}, {"channelId": channel["id"]}):
        note = await send(api, app, title="before", **fields)
        await wait_deliveries(note["id"], "SENT", "DELIVERED", count=1)
    assert len((await recent(api, app, "user-42"))["nodes"]) == 2
    assert (await api.ok(ERASE, {"a": app.id, "p": "user-42"}, api_key=app.api_key))["erasePerson"] is True
    assert await recent(api, app, "user-42") is None
    # The same identifier again, on the same device: a new person, with no history.
    await identify(api, app, phone, "user-42")
    assert (await recent(api, app, "user-42"))["nodes"] == []


async def test_the_cost_rule_counts_the_pages(api):
    app = await f.make_app(api)
    deep = (
        "query($a: ID!) { people(appId: $a, first: 100) { nodes { notifications(first: 100) { nodes {"
        " deliveries(first: 20) { status } } } } } }"
    )
    error = await api.error(deep, {"a": app.id}, api_key=app.api_key)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["cost"] > 100 * 100 * 20
    shallow = "query($a: ID!) { people(appId: $a, first: 20) { nodes { notifications(first: 5) { nodes { read } } } } }"
    assert (await api.ok(shallow, {"a": app.id}, api_key=app.api_key))["people"]["nodes"] == []
