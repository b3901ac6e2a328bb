"""WebPushSender end to end against the sandbox push service: payloads, headers, VAPID, failures."""

import asyncio
import os

import pytest

from api.providers.failures import (
    PermanentDeviceFailure,
    PermanentMessageFailure,
    TransientFailure,
)
from api.providers.vapid import b64url_decode
from api.providers.webpush import (
    MAX_PLAINTEXT,
    VapidSigner,
    WebPushSender,
    generate_vapid_private_key,
    topic_from_collapse_key,
)


@pytest.fixture(scope="module")
def signer() -> VapidSigner:
    return VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test")


@pytest.fixture
async def sender(signer):
    web_push = WebPushSender(signer, timeout=2.0)
    yield web_push
    await web_push.close()


async def push(sender, sub, payload=b"hello", **kwargs):
    kwargs.setdefault("ttl", 60)
    return await sender.send(sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"],
                             payload, **kwargs)


async def test_delivered_decrypted_with_headers(sender, sandbox, signer):
    sub = sandbox.subscribe(application_server_key=signer.public_key_b64url)
    payload = '{"title":"Hello","body":"Grüße"}'.encode()
    outcome = await push(sender, sub, payload, ttl=3600, urgency="high", topic="news")
    assert outcome.ok and outcome.delivered and outcome.failure is None
    [received] = sandbox.messages(sub["id"])
    assert received["payload"] == payload.decode()
    assert received["headers"] == {"ttl": 3600, "urgency": "high", "topic": "news"}


async def test_binary_payload_and_hashed_topic(sender, sandbox):
    sub = sandbox.subscribe()
    payload = os.urandom(MAX_PLAINTEXT)  # the largest payload that fits 4,096 bytes on the wire
    collapse_key = "order 1234 status: shipped (long collapse key)"
    outcome = await push(sender, sub, payload, ttl=0, urgency="very-low", topic=collapse_key)
    assert outcome.delivered
    [received] = sandbox.messages(sub["id"])
    assert b64url_decode(received["payload_b64"]) == payload
    assert received["headers"]["topic"] == topic_from_collapse_key(collapse_key)
    assert received["headers"]["urgency"] == "very-low"


async def test_vapid_signed_once_per_origin(sandbox):
    signer = VapidSigner(generate_vapid_private_key(), "https://booper.test")
    sender = WebPushSender(signer)
    try:
        subs = [sandbox.subscribe() for _ in range(3)]
        outcomes = await asyncio.gather(*(push(sender, sub) for sub in subs for _ in range(2)))
        assert all(o.delivered for o in outcomes)
        assert signer.signatures_made == 1
        # Another origin for the same service (localhost instead of 127.0.0.1) gets its own
        # token, and the sandbox checks that its aud matches.
        other = dict(subs[0], endpoint=subs[0]["endpoint"].replace("127.0.0.1", "localhost"))
        assert (await push(sender, other)).delivered
        assert signer.signatures_made == 2
    finally:
        await sender.close()


async def test_key_not_matching_subscription_is_rejected(sender, sandbox):
    sub = sandbox.subscribe(application_server_key=VapidSigner(
        generate_vapid_private_key(), "mailto:a@b.test").public_key_b64url)
    outcome = await push(sender, sub)
    assert isinstance(outcome.failure, PermanentMessageFailure)
    assert outcome.failure.code == "http_403"
    assert sandbox.messages(sub["id"]) == []


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("http_410", PermanentDeviceFailure),
        ("http_404", PermanentDeviceFailure),
        ("http_413", PermanentMessageFailure),
        ("http_500", TransientFailure),
        ("http_503", TransientFailure),
    ],
)
async def test_fault_statuses_are_classified(sender, sandbox, fault, kind):
    sub = sandbox.subscribe()
    sandbox.faults({"match": sub["id"], "provider": "webpush", "fault": fault})
    outcome = await push(sender, sub)
    assert not outcome.ok and type(outcome.failure) is kind
    assert outcome.failure.code == fault


async def test_429_carries_retry_after(sender, sandbox):
    sub = sandbox.subscribe()
    sandbox.faults({"match": sub["id"], "provider": "webpush", "fault": "http_429",
                    "retry_after": 30, "times": 1})
    outcome = await push(sender, sub)
    assert isinstance(outcome.failure, TransientFailure)
    assert outcome.failure.retry_after == 30.0
    assert (await push(sender, sub)).delivered  # the rule was used up


async def test_unsubscribed_is_gone(sender, sandbox):
    sub = sandbox.subscribe()
    sandbox.control.delete(f"/webpush/subscriptions/{sub['id']}").raise_for_status()
    outcome = await push(sender, sub)
    assert isinstance(outcome.failure, PermanentDeviceFailure)
    assert outcome.failure.code == "http_410"


async def test_timeout_and_refused_connection_are_transient(signer, sandbox):
    sender = WebPushSender(signer, timeout=0.3)
    try:
        sub = sandbox.subscribe()
        sandbox.faults({"match": sub["id"], "provider": "webpush", "fault": "timeout",
                        "seconds": 0.6})
        outcome = await push(sender, sub)
        assert isinstance(outcome.failure, TransientFailure)
        assert outcome.failure.code == "timeout"
        closed = dict(sub, endpoint="http://127.0.0.1:9/webpush/push/x")
        outcome = await push(sender, closed)
        assert isinstance(outcome.failure, TransientFailure)
        assert outcome.failure.code == "network"
    finally:
        await sender.close()


async def test_too_big_or_bad_keys_fail_without_a_request(sender, sandbox):
    sub = sandbox.subscribe()
    before = sandbox.stats()["requests"].get("webpush", 0)
    too_big = await push(sender, sub, b"x" * (MAX_PLAINTEXT + 1))
    assert isinstance(too_big.failure, PermanentMessageFailure)
    assert too_big.failure.code == "MessageTooBig"
    bad_keys = await sender.send(sub["endpoint"], "AAAA", sub["keys"]["auth"], b"x", ttl=60)
    assert isinstance(bad_keys.failure, PermanentDeviceFailure)
    assert sandbox.stats()["requests"].get("webpush", 0) == before


async def test_concurrency_is_bounded(signer, sandbox):
    sender = WebPushSender(signer, concurrency=4)
    for _ in range(100):  # let requests stalled by earlier timeout faults finish first
        if sandbox.state.in_flight == 0:
            break
        await asyncio.sleep(0.02)
    sandbox.control.delete("/sandbox/messages")  # also resets the in-flight peak
    sandbox.state.latency_ms = 30
    try:
        sub = sandbox.subscribe()
        outcomes = await asyncio.gather(*(push(sender, sub) for _ in range(20)))
        assert all(o.delivered for o in outcomes)
        assert sandbox.stats()["peak_in_flight"] == 4
    finally:
        await sender.close()


async def test_bad_urgency_is_a_caller_error(sender, sandbox):
    with pytest.raises(ValueError):
        await push(sender, sandbox.subscribe(), urgency="urgent")
