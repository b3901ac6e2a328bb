"""Live: graphql-transport-ws subscriptions for devices, apps and public channels; the Redis hub."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from api.live.hub import LiveHub
from tests.delivery.helpers import send, setup_channel, wait_status
from tests.support import databases
from tests.support import factories as f

DEVICE_SUB = (
    "subscription($t: String) { notifications(deviceToken: $t) {"
    " id title body data status channel { name } read } }"
)
APP_SUB = (
    "subscription($a: ID) { notifications(appId: $a) { id title deliveryCounts { pending } } }"
)
CHANNEL_SUB = "subscription($c: String) { notifications(channel: $c) { id title } }"
EVENTS_SUB = (
    "subscription($a: ID!) { deliveryEvents(appId: $a) {"
    " id status attempts error ticketId notification { id } device { id token } } }"
)


async def _no_payload(next_payload, within: float = 0.4) -> None:
    with pytest.raises(TimeoutError):
        await next_payload(timeout=within)


async def _refused(api, query: str, variables: dict, connection_params: dict | None = None) -> dict:
    """The error a subscription ends with before it yields anything."""
    async with api.subscribe(query, variables, connection_params=connection_params) as next_payload:
        payload = await next_payload(timeout=3)
    assert payload.get("errors") and not payload.get("data"), payload
    return payload["errors"][0]


async def test_a_device_receives_a_notification_within_a_second(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    async with api.subscribe(DEVICE_SUB, {"t": device["token"]}) as next_payload:
        await asyncio.sleep(0.05)  # let the server register the subscription
        started = time.monotonic()
        sent = await send(
            api, app, channelId=channel["id"], title="live", body="now", data={"x": 1}
        )
        payload = await next_payload(timeout=1)
        assert time.monotonic() - started < 1
    assert payload.get("errors") is None
    assert payload["data"]["notifications"] == {
        "id": sent["id"],
        "title": "live",
        "body": "now",
        "data": {"x": 1},
        "status": "QUEUED",
        "channel": {"name": channel["name"]},
        "read": False,
    }


async def test_live_even_when_push_delivery_fails(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sandbox.faults({"provider": "expo", "fault": "http_500"})
    async with api.subscribe(DEVICE_SUB, {"t": device["token"]}) as next_payload:
        await asyncio.sleep(0.05)
        sent = await send(api, app, channelId=channel["id"], title="anyway")
        payload = await next_payload(timeout=1)
    assert payload["data"]["notifications"]["id"] == sent["id"]


async def test_a_device_gets_only_its_own_channels(api, sandbox):
    app, mine, (device,) = await setup_channel(api)
    other = await f.make_channel(api, app)
    private = await f.make_channel(api, app, visibility="PRIVATE")
    async with api.subscribe(DEVICE_SUB, {"t": device["token"]}) as next_payload:
        await asyncio.sleep(0.05)
        await send(api, app, channelId=other["id"], title="not yours")
        await send(api, app, channelId=private["id"], title="private")
        await _no_payload(next_payload)
        sent = await send(api, app, channelId=mine["id"], title="yours")
        payload = await next_payload(timeout=1)
    assert payload["data"]["notifications"]["id"] == sent["id"]


async def test_a_scheduled_notification_is_live_when_dispatched_not_when_accepted(api, sandbox):
    import datetime as dt

    app, channel, (device,) = await setup_channel(api)
    async with api.subscribe(DEVICE_SUB, {"t": device["token"]}) as next_payload:
        await asyncio.sleep(0.05)
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.6)).isoformat()
        sent = await send(api, app, channelId=channel["id"], title="later", sendAt=due)
        await _no_payload(next_payload, within=0.3)
        payload = await next_payload(timeout=3)
    assert payload["data"]["notifications"]["id"] == sent["id"]
    assert payload["data"]["notifications"]["status"] == "QUEUED"


async def test_a_device_stream_needs_the_devices_key(api, sandbox):
    """A push token is an address: without the device's key (or with another's) nothing streams."""
    _, _, (device,) = await setup_channel(api)
    other = await f.make_expo_device(api)
    for params in ({"deviceKey": None}, {"deviceKey": other["key"]}, {"deviceKey": "dk_not-a-key"}):
        error = await _refused(api, DEVICE_SUB, {"t": device["token"]}, params)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    error = await _refused(api, DEVICE_SUB, {"t": "ExponentPushToken[nobody]"}, {"deviceKey": device["key"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_app_key_follows_its_apps_notifications(api, sandbox):
    app, channel, _ = await setup_channel(api)
    second = await f.make_channel(api, app, visibility="PRIVATE")
    async with api.subscribe(
        APP_SUB, {"a": app.id}, connection_params={"apiKey": app.api_key}
    ) as next_payload:
        await asyncio.sleep(0.05)
        a = await send(api, app, channelId=channel["id"], title="a")
        b = await send(api, app, channelId=second["id"], title="b")
        got = [(await next_payload(timeout=1))["data"]["notifications"] for _ in range(2)]
    assert [g["id"] for g in got] == [a["id"], b["id"]]


async def test_another_apps_key_receives_nothing_and_is_refused(api, sandbox):
    app, channel, _ = await setup_channel(api)
    stranger = await f.make_app(api)
    error = await _refused(api, APP_SUB, {"a": app.id}, {"apiKey": stranger.api_key})
    assert error["extensions"]["code"] == "NOT_FOUND"
    async with api.subscribe(
        APP_SUB, {"a": stranger.id}, connection_params={"apiKey": stranger.api_key}
    ) as nxt:
        await asyncio.sleep(0.05)
        await send(api, app, channelId=channel["id"], title="not theirs")
        await _no_payload(nxt)


async def test_anyone_may_follow_one_public_channel_by_name(api, sandbox):
    await f.make_expo_device(api)
    first = await send(api, None, channel="town-square", title="created")
    async with api.subscribe(CHANNEL_SUB, {"c": "town-square"}) as next_payload:
        await asyncio.sleep(0.05)
        sent = await send(api, None, channel="town-square", title="hear ye")
        payload = await next_payload(timeout=1)
    assert payload["data"]["notifications"]["id"] == sent["id"] != first["id"]


async def test_a_private_channel_cannot_be_followed_anonymously(api, sandbox):
    app, channel, _ = await setup_channel(api, visibility="PRIVATE", name="vault")
    error = await _refused(
        api,
        "subscription($c: String, $a: ID) { notifications(channel: $c, appId: $a) { id } }",
        {"c": "vault", "a": app.id},
    )
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_delivery_events_stream_to_the_owner(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    params = {"authorization": f"Bearer {app.owner.token}"}
    async with api.subscribe(EVENTS_SUB, {"a": app.id}, connection_params=params) as next_payload:
        await asyncio.sleep(0.05)
        sent = await send(api, app, channelId=channel["id"], title="watch")
        statuses = []
        while "DELIVERED" not in statuses:
            event = (await next_payload(timeout=3))["data"]["deliveryEvents"]
            assert event["notification"] == {"id": sent["id"]}
            # The owner's app did not register this token itself: it sees the device by id and hint.
            assert event["device"] == {"id": device["id"], "token": None}
            statuses.append(event["status"])
    assert statuses == ["SENT", "DELIVERED"]
    await wait_status(sent["id"], "COMPLETED")


async def test_delivery_events_of_another_users_app_are_refused(api, sandbox):
    app, channel, _ = await setup_channel(api)
    stranger = await f.make_user(api)
    error = await _refused(
        api, EVENTS_SUB, {"a": app.id}, {"authorization": f"Bearer {stranger.token}"}
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    anonymous = await _refused(api, EVENTS_SUB, {"a": app.id})
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.redis
async def test_redis_hub_carries_events_between_processes():
    publisher, receiver = LiveHub(databases.REDIS_URL), LiveHub(databases.REDIS_URL)
    await publisher.start()
    await receiver.start()
    try:
        stream = receiver.subscribe(["channel:1"])
        got = asyncio.ensure_future(stream.__anext__())
        await publisher.publish("channel:2", {"n": 0})  # another topic: not for this subscriber
        await publisher.publish("channel:1", {"n": 1})
        await publisher.publish_many("channel:1", [{"n": 2}, {"n": 3}])
        assert await asyncio.wait_for(got, 2) == {"n": 1}
        assert await asyncio.wait_for(stream.__anext__(), 2) == {"n": 2}
        assert await asyncio.wait_for(stream.__anext__(), 2) == {"n": 3}
        await stream.aclose()
        assert receiver.subscriber_count == 0
    finally:
        await publisher.stop()
        await receiver.stop()


@pytest.mark.redis
async def test_deployments_on_other_databases_of_one_redis_never_see_each_others_events():
    """Redis pub/sub ignores database numbers: production on one database and staging on another
    of the same server had each received the other's events for the same topics (ids collide
    across deployments). The hub's channel carries the database number."""
    production, also_production, staging = (LiveHub(databases.redis_url(slot)) for slot in (4, 4, 5))
    for hub in (production, also_production, staging):
        await hub.start()
    try:
        ours, theirs = also_production.subscribe(["channel:1"]), staging.subscribe(["channel:1"])
        got, leaked = asyncio.ensure_future(ours.__anext__()), asyncio.ensure_future(theirs.__anext__())
        await production.publish("channel:1", {"n": 1})
        assert await asyncio.wait_for(got, 2) == {"n": 1}  # the same deployment's processes: yes
        await staging.publish("channel:1", {"n": 2})
        assert await asyncio.wait_for(leaked, 2) == {"n": 2}  # staging's own: the first it sees
        await ours.aclose()
        await theirs.aclose()
    finally:
        for hub in (production, also_production, staging):
            await hub.stop()


@pytest.mark.redis
async def test_a_publishing_only_hub_reaches_others_and_receives_nothing(monkeypatch):
    """A worker's hub (listen=False) publishes to every listening process but takes no events
    back: it has no subscribers, and decoding every delivery event it sent cost it CPU."""
    worker, api_process = LiveHub(databases.REDIS_URL), LiveHub(databases.REDIS_URL)
    await worker.start(listen=False)
    await api_process.start()
    dispatched: list[str] = []
    monkeypatch.setattr(worker, "_dispatch", lambda topic, event: dispatched.append(topic))
    try:
        stream = api_process.subscribe(["channel:1"])
        got = asyncio.ensure_future(stream.__anext__())
        await api_process.access_changed("app:1")  # every listening process takes these
        await worker.publish_many("channel:1", [{"n": 1}])
        assert await asyncio.wait_for(got, 2) == {"n": 1}
        await stream.aclose()
        assert worker._listener is None and dispatched == []
    finally:
        await worker.stop()
        await api_process.stop()


@pytest.mark.redis
async def test_a_websocket_subscriber_gets_what_another_process_publishes(
    api, sandbox, runtime, monkeypatch
):
    """The API process subscribes through Redis; a second hub stands for a worker or another API."""
    from api.notifications import events, service

    server_hub, other_process = LiveHub(databases.REDIS_URL), LiveHub(databases.REDIS_URL)
    await server_hub.start()
    await other_process.start()
    monkeypatch.setattr(runtime, "live", server_hub)
    try:
        app, channel, (device,) = await setup_channel(api)
        async with api.subscribe(DEVICE_SUB, {"t": device["token"]}) as next_payload:
            await asyncio.sleep(0.05)
            sent = await send(
                api, app, channelId=channel["id"], title="across"
            )  # published via Redis
            payload = await next_payload(timeout=1)
            assert payload["data"]["notifications"]["id"] == sent["id"]
            row = await service.get(int(sent["id"]))
            await events.publish_notification(other_process, dict(row, title="from elsewhere"))
            payload = await next_payload(timeout=1)
            assert payload["data"]["notifications"]["title"] == "from elsewhere"
    finally:
        monkeypatch.undo()
        await server_hub.stop()
        await other_process.stop()


async def test_a_subscription_with_an_unstorable_device_token_is_refused_cleanly(api):
    query = "subscription($t: String) { notifications(deviceToken: $t) { id } }"
    device = await f.make_expo_device(api)
    params = {"deviceKey": device["key"]}
    async with api.subscribe(query, {"t": "ExponentPushToken[a\u0000b]"}, connection_params=params) as next_payload:
        payload = await next_payload(timeout=5)
    # Not an internal error: the token cannot belong to the device whose key came with it.
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["UNAUTHENTICATED"]


async def test_one_event_is_executed_once_per_query_and_access_not_once_per_subscriber(api, sandbox, monkeypatch):
    """api/live/shared.py: subscribers asking the same thing with the same access share one
    execution and one encoding; a different query, access or device gets its own answer."""
    from contextlib import AsyncExitStack

    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from api.notifications.types import Notification

    executed: list[tuple[str | None, str]] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_operation

    def counting(self, serially=None):
        if isinstance(self.root_value, Notification):
            executed.append((self.root_value.row["title"], self.root_value.access.role))
        return original(self, serially)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", counting)
    app, channel, (device,) = await setup_channel(api, name="plaza")
    by_name = "subscription($c: String, $a: ID) { notifications(channel: $c, appId: $a) { %s } }"
    plain, with_body, counts_public = (by_name % s for s in ("id title", "id title body", "id deliveryCounts { pending }"))
    plaza = {"c": "plaza", "a": app.id}
    async with AsyncExitStack() as stack:
        same = [await stack.enter_async_context(api.subscribe(plain, plaza)) for _ in range(3)]
        body = await stack.enter_async_context(api.subscribe(with_body, plaza))
        refused = await stack.enter_async_context(api.subscribe(counts_public, plaza))
        owner = await stack.enter_async_context(
            api.subscribe(APP_SUB, {"a": app.id}, connection_params={"apiKey": app.api_key})
        )
        dev = await stack.enter_async_context(api.subscribe(DEVICE_SUB, {"t": device["token"]}))
        await asyncio.sleep(0.1)
        sent = await send(api, app, channelId=channel["id"], title="shared", body="once")
        same_payloads = [await nxt(timeout=2) for nxt in same]
        body_payload, refused_payload = await body(timeout=2), await refused(timeout=2)
        owner_payload, device_payload = await owner(timeout=2), await dev(timeout=2)

    assert same_payloads == [{"data": {"notifications": {"id": sent["id"], "title": "shared"}}}] * 3
    assert body_payload["data"]["notifications"] == {"id": sent["id"], "title": "shared", "body": "once"}
    assert refused_payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert isinstance(owner_payload["data"]["notifications"]["deliveryCounts"]["pending"], int)
    assert device_payload["data"]["notifications"]["read"] is False
    # Seven subscribers, five distinct (query, access) pairs: three public queries, the owner's, the device's.
    assert sorted(role for title, role in executed if title == "shared") == [
        "device", "key", "public", "public", "public"
    ]


async def test_subscribers_leaving_mid_execution_do_not_take_a_shared_result_from_the_others(
    api, sandbox, monkeypatch
):
    """A shared execution that awaits (here: the channel loader, slowed down) is shielded per
    subscriber: those that complete and go while it runs cancel only themselves."""
    from contextlib import AsyncExitStack

    from api.channels import service as channels_service

    slow = channels_service.channels_by_ids

    async def slowly(ids):
        await asyncio.sleep(0.4)
        return await slow(ids)

    app, channel, _ = await setup_channel(api, name="agora")
    query = "subscription($c: String, $a: ID) { notifications(channel: $c, appId: $a) { id channel { name } } }"
    variables = {"c": "agora", "a": app.id}
    async with AsyncExitStack() as stay:
        async with AsyncExitStack() as leave:
            for _ in range(4):  # whichever of the five runs the shared execution, most likely one of these
                await leave.enter_async_context(api.subscribe(query, variables))
            stayer = await stay.enter_async_context(api.subscribe(query, variables))
            await asyncio.sleep(0.1)
            monkeypatch.setattr(channels_service, "channels_by_ids", slowly)
            sent = await send(api, app, channelId=channel["id"], title="stay")
            await asyncio.sleep(0.15)  # the shared execution is under way; four subscribers leave
        payload = await stayer(timeout=3)
        assert payload == {"data": {"notifications": {"id": sent["id"], "channel": {"name": "agora"}}}}
        monkeypatch.setattr(channels_service, "channels_by_ids", slow)
        later = await send(api, app, channelId=channel["id"], title="and the next one")
        assert (await stayer(timeout=3))["data"]["notifications"]["id"] == later["id"]


@pytest.mark.redis
async def test_a_worker_builds_delivery_events_only_while_a_stream_in_any_process_watches():
    """The dashboard's live deliveries: a send batch's thousand delivery events are built and
    published only while some process has a deliveryEvents stream for the app (Watchers). A
    subscriber that is not watching gets nothing; once a stream in another process watches,
    the worker publishes again, and stops when it ends."""
    from types import SimpleNamespace

    from api.delivery import ledger
    from api.notifications import events

    worker, api_process = LiveHub(databases.REDIS_URL), LiveHub(databases.REDIS_URL)
    await worker.start(listen=False)
    await api_process.start()
    app_id = int(time.time_ns() % 1_000_000_000)
    topic = events.app_deliveries_topic(app_id)
    row = {"app": app_id, "id": 1, "notification": 2, "device": 3, "status": "DELIVERED", "attempts": 1,
           "error": None, "ticket_id": None, "updated_at": None}
    runtime = SimpleNamespace(live=worker)
    stream = api_process.subscribe([topic])
    try:
        got = asyncio.ensure_future(stream.__anext__())
        await ledger.publish_changes(runtime, [dict(row, id=1)])
        await asyncio.sleep(0.3)
        assert not got.done()  # nobody watched: nothing was published
        async with api_process.watchers.watching(topic):
            await ledger.publish_changes(runtime, [dict(row, id=2)])
            assert (await asyncio.wait_for(got, 2))["id"] == 2
        assert not await worker.watchers.watched(topic)
        later = asyncio.ensure_future(stream.__anext__())
        await ledger.publish_changes(runtime, [dict(row, id=3)])
        await asyncio.sleep(0.3)
        assert not later.done()
        later.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await later
    finally:
        await stream.aclose()
        await worker.stop()
        await api_process.stop()


async def test_a_grant_wakes_the_scopes_streams_but_no_sockets_caller():
    """A device joining a channel tells its streams to check again (they start listening to the
    channel); unlike a withdrawal, it leaves the access epoch alone, which would make every open
    socket of the process resolve its caller again."""
    from api.live.hub import ACCESS_PREFIX

    hub = LiveHub(None)
    await hub.start()
    try:
        queue = hub.new_queue()
        hub.attach([ACCESS_PREFIX + "device:9"], queue)
        before = hub.access_epoch
        await hub.access_changed("device:9", granted=True)
        assert queue.get_nowait() == {"access": "granted"}
        assert hub.access_epoch == before
        await hub.access_changed("device:9")
        assert queue.get_nowait() == {"access": True}
        assert hub.access_epoch > before
    finally:
        await hub.stop()


@pytest.fixture
async def memory_hub():
    """An in-memory hub (no Redis), started and stopped around the test."""
    hub = LiveHub(None)
    await hub.start()
    yield hub
    await hub.stop()


async def _full_guard(hub, verdicts: list, *, ttl: float | None = None):
    """A stream guard on channel:1 whose reader has stopped reading: its queue is full. Its check
    returns `verdicts` in turn and raises PermissionError once they run out."""
    from api.live.guard import StreamGuard
    from api.live.hub import QUEUE_LIMIT

    async def check():
        if not verdicts:
            raise PermissionError("access gone")
        return verdicts.pop(0)

    guard = StreamGuard(hub, check, ["device:9"], ttl=ttl)
    await guard.start(["channel:1"])
    for i in range(QUEUE_LIMIT):
        await hub.publish("channel:1", {"n": i})
    assert guard.queue.full()
    return guard


async def test_a_withdrawal_reaches_a_stream_whose_queue_is_full(memory_hub):
    """A reader that stopped reading had its queue full; events kept coming, and each pushed the
    oldest out, the withdrawal with them: the stream then went on with events published after its
    access was gone."""
    guard = await _full_guard(memory_hub, ["the first check"])
    await memory_hub.access_changed("device:9")
    for _ in range(2000):  # more than the queue holds: the withdrawal is pushed out of it
        await memory_hub.publish("channel:1", {"n": "after"})
    with pytest.raises(PermissionError):
        await asyncio.wait_for(guard.next_event(), 1)
    guard.stop()


async def test_a_streams_periodic_check_is_not_lost_when_its_queue_is_full(memory_hub):
    """The TTL wake-up was put in the stream's queue only when there was room, and not scheduled
    again: a stream whose queue was full at that moment never checked its access again."""
    guard = await _full_guard(memory_hub, ["the first check"], ttl=0.05)
    await asyncio.sleep(0.2)  # the wake-up is due while the queue is full
    with pytest.raises(PermissionError):
        await asyncio.wait_for(guard.next_event(), 1)
    guard.stop()


async def test_a_grant_reaches_a_stream_whose_queue_is_full_and_the_events_go_on(memory_hub):
    """A grant on a full queue is not lost either, and costs the reader no event: after the check
    the stream goes on with what is queued."""
    guard = await _full_guard(memory_hub, ["the first check", "after the grant"])
    await memory_hub.access_changed("device:9", granted=True)
    event = await asyncio.wait_for(guard.next_event(), 1)
    assert guard.allowed == "after the grant"
    assert "n" in event
    guard.stop()


async def test_a_plain_subscriber_whose_queue_is_full_still_gets_a_withdrawal_first(memory_hub):
    """LiveHub.subscribe (no guard) reads the queue as it is: an access event kept aside from a
    full queue must still reach it, before the next event, and once."""
    from api.live.hub import ACCESS_PREFIX, QUEUE_LIMIT

    stream = memory_hub.subscribe(["channel:1", ACCESS_PREFIX + "app:4"])
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)  # the generator runs up to its first wait: attached
    await memory_hub.publish("channel:1", {"n": -1})
    assert await asyncio.wait_for(first, 1) == {"n": -1}
    for i in range(QUEUE_LIMIT):
        await memory_hub.publish("channel:1", {"n": i})
    await memory_hub.access_changed("app:4")
    assert await asyncio.wait_for(stream.__anext__(), 1) == {"access": True}
    rest = [await asyncio.wait_for(stream.__anext__(), 1) for _ in range(QUEUE_LIMIT)]
    assert rest == [{"n": i} for i in range(QUEUE_LIMIT)]
    await memory_hub.access_changed("app:4")  # with room, queued in its turn: handed out once
    await memory_hub.publish("channel:1", {"n": "after"})
    assert await asyncio.wait_for(stream.__anext__(), 1) == {"access": True}
    assert await asyncio.wait_for(stream.__anext__(), 1) == {"n": "after"}
    await stream.aclose()
