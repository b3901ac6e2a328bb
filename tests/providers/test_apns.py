"""The APNs client against the sandbox's HTTP/2 server: provider tokens reused for 20-60 minutes
and never replaced sooner (a controlled clock), headers, the 4 KB budget, errors to outcomes."""

from __future__ import annotations

import asyncio

import jwt
import orjson
import pytest

from api.providers.apns import (
    MAX_TOKEN_AGE,
    MIN_TOKEN_AGE,
    REFRESH_AFTER,
    ApnsClient,
    ApnsRequest,
    ProviderTokens,
    SigningKey,
    collapse_id,
)
from api.providers.failures import CredentialsFailure, PermanentDeviceFailure, PermanentMessageFailure, TransientFailure
from tests.providers.conftest import Clock


@pytest.fixture
async def apns(native_sandbox):
    sandbox, clock, context = native_sandbox
    client = ApnsClient(sandbox.native_url, sandbox.native_url, verify=context, timeout=1, clock=clock)
    yield client, clock, sandbox
    await client.close()


def key_of(sandbox, team: str = "TEAM123456") -> SigningKey:
    raw = sandbox.issue_apns_key(team)
    return SigningKey(raw["key_id"], raw["team_id"], raw["private_key"])


def request(token: str = "ab" * 32, **kw) -> ApnsRequest:
    return ApnsRequest(device_token=token, payload=orjson.dumps({"aps": {"alert": {"title": "t"}}}), topic="com.x", **kw)


def test_refresh_bounds_are_apples():
    assert MIN_TOKEN_AGE <= REFRESH_AFTER < MAX_TOKEN_AGE
    with pytest.raises(ValueError):
        ProviderTokens(refresh_after=10 * 60)
    with pytest.raises(ValueError):
        ProviderTokens(refresh_after=61 * 60)


def test_the_provider_token_is_reused_then_replaced_once_it_is_old_enough():
    clock = Clock()
    tokens = ProviderTokens(clock)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    key = SigningKey("ABCDE12345", "TEAM123456", pem)
    first = tokens.token(key)
    assert jwt.get_unverified_header(first) == {"alg": "ES256", "kid": "ABCDE12345", "typ": "JWT"}
    assert jwt.decode(first, options={"verify_signature": False}) == {"iss": "TEAM123456", "iat": int(clock.now)}
    clock.now += REFRESH_AFTER - 1
    assert tokens.token(key) == first
    clock.now += 1
    second = tokens.token(key)
    assert second != first and tokens.issued == 2
    tokens.forget(key, second)  # "expired" one second after it was made: too soon to replace
    assert tokens.token(key) == second


async def test_many_concurrent_streams_one_token_headers_checked(apns):
    client, _, sandbox = apns
    key = key_of(sandbox)
    outcomes = await asyncio.gather(*(
        client.send(key, False, request(f"{i:064x}", priority=5, expiration=0, collapse_id="c")) for i in range(200)))
    assert all(o.ok and o.ticket_id for o in outcomes)
    assert client.tokens.issued == 1
    received = [m for m in sandbox.messages() if m["provider"] == "apns"]
    assert len(received) == 200 and {m["http_version"] for m in received} == {"2"}
    assert received[0]["headers"] == {"apns-topic": "com.x", "apns-push-type": "alert", "apns-priority": "5",
                                      "apns-expiration": "0", "apns-collapse-id": "c"}
    assert sandbox.stats()["native_peak_in_flight"] > 1


async def test_the_server_refuses_stale_and_too_frequent_tokens(apns):
    client, clock, sandbox = apns
    key = key_of(sandbox)
    assert (await client.send(key, True, request())).ok
    # Another process (its own connection, its own token) is fine, as with APNs.
    other = ApnsClient(sandbox.native_url, sandbox.native_url, verify=client._verify, clock=clock)
    clock.now += 60
    assert (await other.send(key, True, request())).ok
    await other.close()
    # A client that replaced its token minutes later on the same connection: refused.
    eager = ProviderTokens(clock)
    first = client.tokens
    client.tokens = eager
    outcome = await client.send(key, True, request())
    assert outcome.failure.code == "TooManyProviderTokenUpdates" and isinstance(outcome.failure, TransientFailure)
    client.tokens = first
    # Ours refreshes after REFRESH_AFTER, which the server accepts; a token past an hour is refused.
    clock.now += REFRESH_AFTER
    assert (await client.send(key, True, request())).ok
    assert client.tokens.issued == 2
    stale = jwt.encode({"iss": key.team_id, "iat": int(clock.now - MAX_TOKEN_AGE - 1)}, key.private_key,
                       algorithm="ES256", headers={"kid": key.key_id})
    assert sandbox.state.native.provider_tokens  # the server tracks the token in use
    from api.sandbox.native_keys import JwtRefused

    with pytest.raises(JwtRefused, match="ExpiredProviderToken"):
        sandbox.state.native.check_provider_token(stale)


@pytest.mark.parametrize(("fault", "kind"), [
    ("Unregistered", PermanentDeviceFailure),
    ("BadDeviceToken", PermanentDeviceFailure),
    ("TooManyRequests", TransientFailure),
    ("InternalServerError", TransientFailure),
    ("ServiceUnavailable", TransientFailure),
    ("InvalidProviderToken", CredentialsFailure),
    ("http_429", TransientFailure),
    ("http_500", TransientFailure),
    ("http_503", TransientFailure),
])
async def test_every_error_class_maps_to_its_outcome(apns, fault, kind):
    client, _, sandbox = apns
    key = key_of(sandbox)
    victim = "cd" * 32
    sandbox.faults({"provider": "apns", "match": victim, "fault": fault, "retry_after": 3})
    outcome = await client.send(key, False, request(victim))
    assert not outcome.ok and type(outcome.failure) is kind, outcome.failure
    if fault in ("http_429", "http_503"):
        assert outcome.failure.retry_after == 3.0
    assert (await client.send(key, False, request())).ok


async def test_a_payload_over_4_kb_is_refused_before_sending(apns):
    client, _, sandbox = apns
    big = ApnsRequest("ab" * 32, orjson.dumps({"aps": {"alert": "x" * 4100}}), "com.x")
    outcome = await client.send(key_of(sandbox), False, big)
    assert isinstance(outcome.failure, PermanentMessageFailure) and outcome.failure.code == "PayloadTooLarge"
    assert sandbox.stats()["requests"].get("apns", 0) == 0


async def test_the_server_checks_headers(apns):
    client, _, sandbox = apns
    outcome = await client.send(key_of(sandbox), False, request(push_type="background", priority=10))
    assert outcome.failure.code == "BadPriority"
    outcome = await client.send(key_of(sandbox), False, request(collapse_id="x" * 65))
    assert outcome.failure.code == "BadCollapseId"


def test_collapse_ids_fit_64_ascii_bytes():
    assert collapse_id("news") == "news"
    assert collapse_id(None) is None
    for key in ("x" * 65, "é" * 40):
        cid = collapse_id(key)
        assert len(cid.encode()) == 64 and cid.isascii() and cid == collapse_id(key)
