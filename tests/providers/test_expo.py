"""ExpoClient against the sandbox Expo API over real HTTP: tickets, receipts and failures."""

import uuid

import pytest
from exponent_server_sdk import PushMessage

from api.providers.expo import ExpoClient, build_message
from api.providers.failures import (
    PermanentDeviceFailure,
    PermanentMessageFailure,
    TransientFailure,
)


def token() -> str:
    return f"ExponentPushToken[{uuid.uuid4().hex}]"


@pytest.fixture
async def expo(sandbox):
    client = ExpoClient(base_url=sandbox.base_url, timeout=2.0)
    yield client
    await client.close()


async def test_send_returns_tickets_and_receipts_confirm_delivery(expo, sandbox):
    a, b = token(), token()
    messages = [
        PushMessage(to=a, title="Hello", body="first", data={"n": 1}, priority="high", ttl=60),
        build_message(b, title="Hi", body="second", collapse_id="news", channel_id="alerts"),
    ]
    outcomes = await expo.send(messages)
    assert [o.ok for o in outcomes] == [True, True]
    assert all(o.ticket_id for o in outcomes) and outcomes[0].ticket_id != outcomes[1].ticket_id

    [got_a] = sandbox.messages(a)
    assert got_a["ticket_id"] == outcomes[0].ticket_id
    assert got_a["message"] == {"to": a, "title": "Hello", "body": "first", "data": {"n": 1},
                                "priority": "high", "ttl": 60}
    [got_b] = sandbox.messages(b)
    assert got_b["message"]["collapseId"] == "news"
    assert got_b["message"]["channelId"] == "alerts"

    ids = [o.ticket_id for o in outcomes]
    receipts = await expo.get_receipts([*ids, "no-such-ticket"])
    assert set(receipts) == set(ids)  # unknown ids are simply absent
    assert all(r.ok and r.delivered and r.failure is None for r in receipts.values())


async def test_malformed_token_fails_alone_and_is_not_sent(expo, sandbox):
    good = token()
    outcomes = await expo.send([{"to": "not-a-token", "body": "x"}, {"to": good, "body": "y"}])
    assert isinstance(outcomes[0].failure, PermanentDeviceFailure)
    assert outcomes[0].failure.code == "InvalidToken"
    assert outcomes[1].ok
    assert sandbox.stats()["messages"]["expo"] == 1


async def test_http_500_is_transient(expo, sandbox):
    sandbox.faults({"match": "*", "provider": "expo", "fault": "http_500"})
    with pytest.raises(TransientFailure) as caught:
        await expo.send([PushMessage(to=token(), body="x")])
    assert caught.value.code == "http_500"


async def test_429_is_transient_with_retry_after(expo, sandbox):
    sandbox.faults({"match": "*", "provider": "expo", "fault": "http_429", "retry_after": 7})
    with pytest.raises(TransientFailure) as caught:
        await expo.send([PushMessage(to=token(), body="x")])
    assert caught.value.code == "http_429"
    assert caught.value.retry_after == 7.0


async def test_whole_request_fault_applies_if_any_message_matches(expo, sandbox):
    doomed = token()
    sandbox.faults({"match": doomed[18:30], "provider": "expo", "fault": "http_503", "times": 1})
    messages = [PushMessage(to=token(), body="x"), PushMessage(to=doomed, body="y")]
    with pytest.raises(TransientFailure):
        await expo.send(messages)
    # times=1: the rule is used up and the retry goes through.
    outcomes = await expo.send(messages)
    assert all(o.ok for o in outcomes)


async def test_ticket_errors_are_classified_per_message(expo, sandbox):
    gone, busy, fine = token(), token(), token()
    sandbox.faults(
        {"match": gone, "provider": "expo", "fault": "DeviceNotRegistered"},
        {"match": busy, "provider": "expo", "fault": "MessageRateExceeded"},
    )
    outcomes = await expo.send([PushMessage(to=t, body="x") for t in (gone, busy, fine)])
    assert isinstance(outcomes[0].failure, PermanentDeviceFailure)
    assert outcomes[0].failure.code == "DeviceNotRegistered"
    assert isinstance(outcomes[1].failure, TransientFailure)
    assert outcomes[1].failure.code == "MessageRateExceeded"
    assert outcomes[2].ok and outcomes[2].failure is None
    assert [m["to"] for m in sandbox.messages()] == [fine]


async def test_oversized_message_is_a_permanent_message_failure(expo):
    [outcome] = await expo.send([PushMessage(to=token(), body="x" * 5000)])
    assert isinstance(outcome.failure, PermanentMessageFailure)
    assert outcome.failure.code == "MessageTooBig"


async def test_receipt_error_marks_device_gone(expo, sandbox):
    gone, fine = token(), token()
    sandbox.faults({"match": gone, "provider": "expo", "fault": "receipt:DeviceNotRegistered"})
    outcomes = await expo.send([PushMessage(to=gone, body="x"), PushMessage(to=fine, body="y")])
    assert all(o.ok for o in outcomes)  # the ticket is fine; only the receipt tells
    receipts = await expo.get_receipts([o.ticket_id for o in outcomes])
    bad, good = receipts[outcomes[0].ticket_id], receipts[outcomes[1].ticket_id]
    assert not bad.ok and isinstance(bad.failure, PermanentDeviceFailure)
    assert bad.failure.code == "DeviceNotRegistered"
    assert good.delivered


async def test_receipt_request_failure_raises(expo, sandbox):
    sandbox.faults({"match": "*", "provider": "expo_receipts", "fault": "http_502"})
    with pytest.raises(TransientFailure):
        await expo.get_receipts(["abc"])


async def test_timeout_is_transient(sandbox):
    client = ExpoClient(base_url=sandbox.base_url, timeout=0.3)
    sandbox.faults({"match": "*", "provider": "expo", "fault": "timeout", "seconds": 1})
    try:
        with pytest.raises(TransientFailure) as caught:
            await client.send([PushMessage(to=token(), body="x")])
        assert caught.value.code == "timeout"
    finally:
        await client.close()


async def test_connection_refused_is_transient_network():
    client = ExpoClient(base_url="http://127.0.0.1:9", timeout=1)  # discard port: closed
    try:
        with pytest.raises(TransientFailure) as caught:
            await client.send([PushMessage(to=token(), body="x")])
        assert caught.value.code == "network"
    finally:
        await client.close()


async def test_batch_limits(expo):
    with pytest.raises(ValueError):
        await expo.send([PushMessage(to=token(), body="x")] * 101)
    with pytest.raises(ValueError):
        await expo.get_receipts(["id"] * 1001)
    assert await expo.get_receipts([]) == {}
