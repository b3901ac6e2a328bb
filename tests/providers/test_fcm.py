"""The FCM v1 client against the sandbox's HTTP/2 server: access tokens cached per service account
and refreshed shortly before they expire (a controlled clock), errors mapped to the taxonomy."""

from __future__ import annotations

import asyncio

import pytest

from api.providers.failures import CredentialsFailure, PermanentDeviceFailure, TransientFailure
from api.providers.fcm import REFRESH_MARGIN, FcmClient, ServiceAccount


@pytest.fixture
async def fcm(native_sandbox):
    sandbox, clock, context = native_sandbox
    client = FcmClient(sandbox.native_url, sandbox.native_url + "/token", verify=context, timeout=1, clock=clock)
    yield client, clock, sandbox
    await client.close()


def account_of(sandbox, project: str) -> ServiceAccount:
    raw = sandbox.issue_service_account(project)
    return ServiceAccount(raw["project_id"], raw["client_email"], raw["private_key"])


def message(token: str) -> dict:
    return {"token": token, "notification": {"title": "t"}, "data": {"a": "1"}, "android": {"priority": "HIGH"}}


async def test_one_token_exchange_for_many_concurrent_sends_over_http2(fcm):
    client, _, sandbox = fcm
    account = account_of(sandbox, "burst-project")
    outcomes = await asyncio.gather(*(client.send(account, message(f"tok-{i}")) for i in range(200)))
    assert all(o.ok and o.delivered for o in outcomes)
    assert client.token_exchanges == 1
    received = [m for m in sandbox.messages() if m["provider"] == "fcm"]
    assert len(received) == 200 and {m["http_version"] for m in received} == {"2"}
    assert sandbox.stats()["native_peak_in_flight"] > 1  # requests multiplexed, not one after another


async def test_the_token_is_reused_until_shortly_before_it_expires(fcm):
    client, clock, sandbox = fcm
    account = account_of(sandbox, "refresh-project")
    assert (await client.send(account, message("a"))).ok
    clock.now += 3600 - REFRESH_MARGIN - 1  # still valid for more than the margin
    assert (await client.send(account, message("b"))).ok
    assert client.token_exchanges == 1
    clock.now += 2  # inside the margin: a new token before the old one runs out
    assert (await client.send(account, message("c"))).ok
    assert client.token_exchanges == 2


async def test_tokens_are_per_service_account(fcm):
    client, _, sandbox = fcm
    one, two = account_of(sandbox, "project-one"), account_of(sandbox, "project-two")
    assert (await client.send(one, message("x"))).ok and (await client.send(two, message("y"))).ok
    assert client.token_exchanges == 2
    by_token = {m["to"]: m["project"] for m in sandbox.messages()}
    assert by_token == {"x": "project-one", "y": "project-two"}


async def test_an_expired_token_is_refused_by_the_server(fcm):
    """The sandbox enforces expiry: a client that kept a token past it would get 401."""
    client, clock, sandbox = fcm
    account = account_of(sandbox, "expiry-project")
    token = await client.access_token(account)
    clock.now += 3601
    assert sandbox.state.native.project_of(token) is None


@pytest.mark.parametrize(("fault", "kind", "retry_after"), [
    ("UNREGISTERED", PermanentDeviceFailure, None),
    ("INVALID_ARGUMENT", PermanentDeviceFailure, None),
    ("QUOTA_EXCEEDED", TransientFailure, 0.0),
    ("UNAVAILABLE", TransientFailure, 0.0),
    ("INTERNAL", TransientFailure, None),
    ("SENDER_ID_MISMATCH", CredentialsFailure, None),
    ("THIRD_PARTY_AUTH_ERROR", CredentialsFailure, None),
    ("http_503", TransientFailure, 2.0),
    ("http_500", TransientFailure, None),
])
async def test_every_error_class_maps_to_its_outcome(fcm, fault, kind, retry_after):
    client, _, sandbox = fcm
    account = account_of(sandbox, "errors-project")
    sandbox.faults({"provider": "fcm", "match": "victim", "fault": fault, "retry_after": 2})
    outcome = await client.send(account, message("victim-token"))
    assert not outcome.ok and type(outcome.failure) is kind, outcome.failure
    assert outcome.failure.retry_after == retry_after
    assert (await client.send(account, message("bystander"))).ok


async def test_an_answer_that_waits_does_not_hold_up_the_others_on_its_connection(fcm):
    """The sandbox answers most requests in the turn that read them; one that has to wait (a
    0.3 s delay) is answered later, and those sent after it are answered first."""
    client, _, sandbox = fcm
    account = account_of(sandbox, "late-project")
    sandbox.faults({"provider": "fcm", "match": "late", "fault": "timeout", "seconds": 0.3})
    finished: list[str] = []

    async def send(token: str):
        outcome = await client.send(account, message(token))
        finished.append(token)
        return outcome

    late = asyncio.ensure_future(send("late-token"))
    await asyncio.sleep(0.05)  # the late request is with the sandbox first
    quick = await asyncio.gather(*(send(f"quick-{i}") for i in range(5)))
    assert all(o.ok for o in quick) and not late.done()
    outcome = await late
    assert isinstance(outcome.failure, TransientFailure) and outcome.failure.code == "http_504"
    assert finished[-1] == "late-token" and len(client._http()._origins) == 1


async def test_a_timeout_is_transient(fcm):
    client, _, sandbox = fcm
    account = account_of(sandbox, "timeout-project")
    sandbox.faults({"provider": "fcm", "match": "slow", "fault": "timeout", "seconds": 1.5})
    outcome = await client.send(account, message("slow-token"))
    assert isinstance(outcome.failure, TransientFailure) and outcome.failure.code == "timeout"


async def test_a_key_the_server_does_not_know_is_a_credentials_failure(fcm):
    client, _, sandbox = fcm
    raw = sandbox.issue_service_account("forged-project")
    other = sandbox.issue_service_account("forged-project")
    forged = ServiceAccount(raw["project_id"], raw["client_email"], other["private_key"])  # wrong signature
    outcome = await client.send(forged, message("t"))
    assert isinstance(outcome.failure, CredentialsFailure)
