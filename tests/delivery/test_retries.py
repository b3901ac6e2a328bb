"""Transient failures are retried with backoff until delivered; persistent ones end FAILED."""

from __future__ import annotations

import time

import pytest

from api import backoff as retry_delays
from tests.delivery.helpers import (
    device_row,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)
from tests.support import factories as f


def sub_id(device: dict) -> str:
    return device["token"].rsplit("/", 1)[1]


@pytest.mark.parametrize("fault", ["http_500", "http_502", "http_429"])
async def test_expo_request_failures_are_retried_then_delivered(api, sandbox, fault):
    app, channel, devices = await setup_channel(api, expo=2)
    sandbox.faults({"provider": "expo", "fault": fault, "times": 2, "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="persist")
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=2)
    assert [r["attempts"] for r in rows] == [3, 3]
    assert all(r["error"] is None for r in rows)  # the last outcome wins
    assert sandbox.stats()["requests"]["expo"] == 3
    for d in devices:
        assert len(sandbox.messages(to=d["token"])) == 1
    await wait_status(sent["id"], "COMPLETED")


async def test_web_push_5xx_and_429_are_retried_then_delivered(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=0)
    a = await f.make_web_device(api, sandbox)
    b = await f.make_web_device(api, sandbox)
    for d in (a, b):
        await f.subscribe(api, d, channel)
    sandbox.faults(
        {
            "provider": "webpush",
            "match": sub_id(a),
            "fault": "http_503",
            "times": 2,
            "retry_after": 0,
        },
        {
            "provider": "webpush",
            "match": sub_id(b),
            "fault": "http_429",
            "times": 1,
            "retry_after": 0,
        },
    )
    sent = await send(api, app, channelId=channel["id"], title="again")
    rows = {r["device"]: r for r in await wait_deliveries(sent["id"], "DELIVERED", count=2)}
    assert rows[int(a["id"])]["attempts"] == 3
    assert rows[int(b["id"])]["attempts"] == 2
    assert len(sandbox.messages(to=sub_id(a))) == 1
    assert len(sandbox.messages(to=sub_id(b))) == 1


async def test_retry_after_is_honoured(api, sandbox):
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "fault": "http_429", "times": 2, "retry_after": 0.4})
    started = time.time()
    sent = await send(api, app, channelId=channel["id"], title="slow down")
    await wait_deliveries(sent["id"], "DELIVERED", count=1)
    (message,) = sandbox.messages(to=device["token"])
    assert message["received_at"] - started >= 0.8  # two waits of at least Retry-After each


async def test_a_retry_waits_in_the_ledger_with_its_error(api, sandbox, settings):
    settings.retry_base_delay = 0.6  # long enough to look at the row between attempts
    settings.retry_max_delay = 0.6
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1})
    sent = await send(api, app, channelId=channel["id"], title="later")

    async def waiting():
        rows = await wait_deliveries(sent["id"], "PENDING", count=1)
        return rows[0] if rows[0]["attempts"] == 1 else None

    from tests.delivery.helpers import eventually

    row = await eventually(waiting, what="a PENDING delivery after one failed attempt")
    assert row["error"] == "http_500"
    assert row["next_attempt_at"] > row["updated_at"]
    assert row["lease_until"] is None
    assert (await wait_status(sent["id"], "QUEUED"))["sent_at"] is None
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1)
    assert row["attempts"] == 2


@pytest.mark.parametrize("platform", ["EXPO", "WEB"])
async def test_persistent_failure_ends_failed_after_max_attempts(api, sandbox, platform):
    app, channel, devices = await setup_channel(api, expo=1 if platform == "EXPO" else 0)
    if platform == "WEB":
        devices = [await f.make_web_device(api, sandbox)]
        await f.subscribe(api, devices[0], channel)
    provider = "expo" if platform == "EXPO" else "webpush"
    sandbox.faults({"provider": provider, "fault": "http_500", "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="doomed")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["attempts"] == 3
    assert row["error"] == "http_500"
    assert (await device_row(devices[0]["id"]))["active"] is True  # not the device's fault
    await wait_status(sent["id"], "COMPLETED")
    assert sandbox.stats()["requests"][provider] == 3
    assert sandbox.messages() == []


async def test_a_timeout_is_transient(api, sandbox):
    # BOOPER_PROVIDER_TIMEOUT is 1 s in the tests; the sandbox stalls longer once.
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "fault": "timeout", "times": 1, "seconds": 1.5})
    sent = await send(api, app, channelId=channel["id"], title="patience")
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1, within=8)
    assert row["attempts"] == 2
    assert len(sandbox.messages(to=device["token"])) == 1


async def test_message_rate_exceeded_ticket_is_transient(api, sandbox):
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults(
        {"provider": "expo", "match": device["token"], "fault": "MessageRateExceeded", "times": 1}
    )
    sent = await send(api, app, channelId=channel["id"], title="x")
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1)
    assert row["attempts"] == 2


def test_backoff_grows_exponentially_with_jitter_and_respects_retry_after():
    for attempts in range(1, 8):
        cap = min(10.0, 0.1 * 2 ** (attempts - 1))
        delays = [retry_delays.backoff(attempts, 0.1, 10.0, None) for _ in range(200)]
        assert all(0.025 <= d <= cap for d in delays)
        assert max(delays) > cap / 2  # really spread over the window
    assert min(retry_delays.backoff(1, 0.1, 10.0, 3.0) for _ in range(50)) >= 3.0
    assert max(retry_delays.backoff(30, 0.1, 10.0, None) for _ in range(50)) <= 10.0


async def test_ttl_zero_is_tried_once_and_never_retried(api, sandbox):
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1, "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="now or never", ttl=0)
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == "Expired"
    assert sandbox.messages() == []
    assert sandbox.stats()["requests"]["expo"] == 1
