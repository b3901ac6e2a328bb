"""Errors: every refusal has a contract code, internals never leave, refused input writes
nothing."""

from __future__ import annotations

import json

import asyncpg
import pytest
import redis.exceptions

from tests.api.conftest import World, row_counts
from tests.support import factories as f

CONTRACT_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "RATE_LIMITED",
    "QUOTA_EXCEEDED",
    "PAYLOAD_TOO_LARGE",
    "INTERNAL_SERVER_ERROR",
    "SERVICE_UNAVAILABLE",
}
LEAKS = (
    "Traceback",
    "RuntimeError",
    "SELECT",
    "INSERT",
    "sqlite",
    "asyncpg",
    "password_hash",
    ".py",
    "secret",
)


def assert_masked(body: dict) -> None:
    assert body["errors"] == [
        {
            "message": "internal server error",
            "locations": body["errors"][0]["locations"],
            "path": body["errors"][0]["path"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    text = json.dumps(body)
    for leak in LEAKS:
        assert leak not in text, leak


async def test_an_unexpected_exception_is_masked(api, monkeypatch):
    from api.channels import service

    app = await f.make_app(api)

    async def boom(*args, **kwargs):
        raise RuntimeError("SELECT password_hash FROM users -- secret internals in /app/api/x.py")

    monkeypatch.setattr(service, "create_channel", boom)
    body = await api.raw(
        'mutation($a: ID!) { createChannel(appId: $a, name: "x") { id } }',
        {"a": app.id},
        api_key=app.api_key,
    )
    assert body["data"] is None
    assert_masked(body)


async def test_a_database_error_is_masked(api, monkeypatch):
    from api.apps import service

    app = await f.make_app(api)

    async def broken_sql(app_ids):
        from api.apps.tables import App

        return await App.raw("SELECT no_such_column FROM apps WHERE id = {}", app_ids[0])

    monkeypatch.setattr(service, "api_keys_of_apps", broken_sql)  # App.apiKeys' batch (a DataLoader)
    body = await api.raw(
        "query($a: ID!) { app(id: $a) { name apiKeys { id } } }",
        {"a": app.id},
        token=app.owner.token,
    )
    assert_masked(body)


OUTAGES = {
    "refused": ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    "shutting-down": asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    "starting-up": asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    "cut": asyncpg.InterfaceError("cannot call Connection.fetch(): the underlying connection is closed"),
    "redis": redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    "unreachable": OSError(113, "Connect call failed ('10.0.0.5', 5432): no route to host"),
    "both-addresses": OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0),"
                              " [Errno 111] Connect call failed ('127.0.0.1', 5432)"),
    "cut-mid-protocol": asyncpg.InternalClientError("cannot switch to state 11; another operation (2) is in progress"),
    "pool-closing": asyncpg.InterfaceError("pool is closing"),
}


def _raised_while_handling_an_outage() -> Exception:
    try:
        try:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        except redis.exceptions.ConnectionError:
            raise KeyError("a bug in an except block") from None
    except KeyError as exc:
        return exc


# Bugs and misconfiguration stay internal errors, logged with their traceback.
NOT_OUTAGES = {
    "misuse": asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    "canceled-statement": asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
    "wrong-redis-password": redis.exceptions.AuthenticationError("invalid username-password pair"),
    "file": FileNotFoundError(2, "No such file or directory"),
    "bug-while-handling-one": _raised_while_handling_an_outage(),
}


async def _create_channel_failing_with(api, monkeypatch, error: Exception) -> dict:
    """createChannel's response when its service raises `error`."""
    from api.channels import service

    app = await f.make_app(api)

    async def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(service, "create_channel", failing)
    return await api.raw('mutation($a: ID!) { createChannel(appId: $a, name: "x") { id } }', {"a": app.id},
                         api_key=app.api_key)


@pytest.mark.parametrize("error", OUTAGES.values(), ids=OUTAGES.keys())
async def test_a_database_or_queue_outage_says_so_and_when_to_retry(api, monkeypatch, caplog, error):
    """Not an internal error (nothing is wrong with the request or the code): SERVICE_UNAVAILABLE
    with retryAfter, and nothing of the exception leaves."""
    body = await _create_channel_failing_with(api, monkeypatch, error)
    assert body["data"] is None
    (refusal,) = body["errors"]
    assert refusal["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 2}
    assert "try again" in refusal["message"] and "idempotencyKey" in refusal["message"]
    for leak in (*LEAKS, "5432", "6379", "administrator"):
        assert leak not in json.dumps(body), leak
    assert "Traceback" not in caplog.text  # a warning line, not a bug report


async def test_a_send_on_the_prepared_path_says_so_too(api, monkeypatch):
    """sendNotification's prepared path (api/graphql/fastpath.py) shapes its errors the same way."""
    from api.notifications import sending

    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")

    async def gone(*args, **kwargs):
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(sending, "send", gone)
    send = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id status } }"
    body = await api.raw(send, {"i": {"channel": "news", "title": "t"}}, api_key=app.api_key)
    assert [e["extensions"] for e in body["errors"]] == [{"code": "SERVICE_UNAVAILABLE", "retryAfter": 2}]


@pytest.mark.parametrize("error", NOT_OUTAGES.values(), ids=NOT_OUTAGES.keys())
async def test_what_is_no_outage_stays_internal(api, monkeypatch, caplog, error):
    assert_masked(await _create_channel_failing_with(api, monkeypatch, error))
    assert "Traceback" in caplog.text  # reported as the bug it may be


async def test_a_masked_error_in_a_nested_field_keeps_the_rest(api, monkeypatch):
    from api.channels import service

    app = await f.make_app(api)
    await f.make_channel(api, app, name="news")

    async def boom(ids):
        raise ZeroDivisionError("division by zero at internal line 42")

    monkeypatch.setattr(service, "subscriber_counts", boom)
    body = await api.raw("{ channels { name subscriberCount } }", api_key=app.api_key)
    assert body["errors"][0]["message"] == "internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "division" not in json.dumps(body)


BAD_IDS = [
    "abc",
    "-1",
    "0",
    "1.5",
    " ",
    "1e3",
    "0x10",
    "²",  # str.isdigit() but not a decimal int()
    "١",  # an Arabic-Indic one
    "9223372036854775808",  # beyond a 64-bit key
    "99999999999999999999999",
    "9" * 5000,  # beyond Python's int() digit limit
]


@pytest.mark.parametrize(
    ("operation", "auth"),
    [
        ("query($id: ID!) { app(id: $id) { id } }", "owner"),
        ("query($id: ID!) { channel(id: $id) { id } }", "key"),
        ("query($id: ID!) { subscribers(channelId: $id) { nodes { id } } }", "key"),
        ("mutation($id: ID!) { deleteApp(id: $id) }", "owner"),
        ("mutation($id: ID!) { createApiKey(appId: $id) { secret } }", "owner"),
        ("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", "owner"),
        ('mutation($id: ID!) { createChannel(appId: $id, name: "x") { id } }', "owner"),
        ("mutation($id: ID!) { deleteChannel(id: $id) }", "key"),
        ("mutation($id: ID!) { deleteSubscription(id: $id) }", "key"),
        ('mutation($id: ID!) { subscribe(deviceToken: "DEVICE", channelId: $id) { id } }', None),
        ('mutation($id: ID!) { unsubscribe(deviceToken: "DEVICE", channelId: $id) }', None),
        ("query($id: ID!) { channels(appId: $id) { id } }", "owner"),
    ],
)
async def test_invalid_ids_are_bad_user_input(api, operation, auth):
    app = await f.make_app(api)
    device = await f.make_expo_device(api)
    # A device operation proves the device with its key (the token is inlined, so say it here).
    creds = {"owner": {"token": app.owner.token}, "key": {"api_key": app.api_key}}.get(auth, {"device_key": device["key"]})
    before = await row_counts()
    for bad_id in BAD_IDS:
        body = await api.raw(operation.replace("DEVICE", device["token"]), {"id": bad_id}, **creds)
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        assert codes == ["BAD_USER_INPUT"], (bad_id[:20], body)
    assert await row_counts() == before


@pytest.mark.parametrize(
    "operation",
    [
        "query($id: ID!) { app(id: $id) { id } }",
        "query($id: ID!) { channel(id: $id) { id } }",
        "query($id: ID!) { subscribers(channelId: $id) { nodes { id } } }",
        "mutation($id: ID!) { deleteApp(id: $id) }",
        "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
        "mutation($id: ID!) { deleteChannel(id: $id) }",
        "mutation($id: ID!) { deleteSubscription(id: $id) }",
    ],
)
async def test_unknown_ids_are_not_found(api, operation):
    app = await f.make_app(api)
    for unknown in ("2147483647", "2147483648", str(2**63 - 1)):  # ids are 64-bit
        assert await api.code(operation, {"id": unknown}, token=app.owner.token) == "NOT_FOUND"


async def test_names_over_64_characters_are_refused_before_any_write(api, world: World):
    before = await row_counts()
    long = "n" * 65
    key = {"api_key": world.app.api_key}
    refusals = [
        (
            "mutation($n: String!) { createApp(name: $n) { app { id } } }",
            {"n": long},
            {"token": world.owner.token},
        ),
        (
            "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n) { id } }",
            {"a": world.app.id, "n": long},
            key,
        ),
        (
            "mutation($t: String!, $n: String!) { subscribe(deviceToken: $t, name: $n) { id } }",
            {"t": world.device["token"], "n": long},
            {},
        ),
        ("query($n: String!) { channel(name: $n) { id } }", {"n": long}, {}),
    ]
    for query, variables, creds in refusals:
        error = await api.error(query, variables, **creds)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (query, error)
        assert "64" in error["message"]
    assert await row_counts() == before


async def test_a_refused_input_leaves_nothing_half_written(api, world: World, sandbox):
    """Each of these would write several rows if it got that far; none may write any."""
    before = await row_counts()
    key = {"api_key": world.app.api_key}
    # An access code whose last channel is wrong: no code, no code-channel links.
    assert (
        await api.code(
            'mutation { createAccessCode(input: {channels: ["news", "vip", "nope"]}) { code } }',
            **key,
        )
        == "NOT_FOUND"
    )
    # A duplicate channel, a duplicate user.
    assert (
        await api.code(
            'mutation($a: ID!) { createChannel(appId: $a, name: "news", visibility: PRIVATE)'
            " { id } }",
            {"a": world.app.id},
            **key,
        )
        == "CONFLICT"
    )
    assert (
        await api.code(
            'mutation($e: String!) { signUp(email: $e, password: "long enough") { token } }',
            {"e": world.owner.email},
        )
        == "CONFLICT"
    )
    # A Web Push subscription with a good endpoint but a bad key.
    sub = sandbox.subscribe()
    assert (
        await api.code(
            "mutation($t: String!, $a: String!) { registerDevice(input: {platform: WEB, token: $t,"
            ' webPushKeys: {p256dh: "BAAA", auth: $a}}) { id } }',
            {"t": sub["endpoint"], "a": sub["keys"]["auth"]},
        )
        == "BAD_USER_INPUT"
    )
    # A re-registration with bad keys must not touch the existing device either.
    assert (
        await api.code(
            "mutation($t: String!) { registerDevice(input: {platform: WEB, token: $t}) { id } }",
            {"t": world.device["token"]},
        )
        == "BAD_USER_INPUT"
    )
    assert await row_counts() == before


async def test_request_errors_carry_a_contract_code(api):
    cases = [
        "{ me { id ",  # syntax
        "{ nope }",  # unknown field
        "query($x: Int!) { me { id } }",  # unused, missing variable
        "{ app(id: 1) { nope } }",
    ]
    for query in cases:
        body = await api.raw(query)
        assert body["errors"], query
        for error in body["errors"]:
            assert error["extensions"]["code"] == "BAD_USER_INPUT", (query, error)


async def test_variables_of_the_wrong_type_are_bad_user_input(api):
    body = await api.raw(
        "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { id } }",
        {"i": {"platform": "CARRIER_PIGEON", "token": "x"}},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_too_many_aliases_are_refused_with_a_code(api):
    query = "{ " + " ".join(f"k{i}: webPushPublicKey" for i in range(40)) + " }"
    body = await api.raw(query)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in body or body["data"] is None


async def test_every_error_code_seen_is_in_the_contract(api, world: World):
    """A sweep through the refusals of the other tests' kinds: codes come from one list."""
    bodies = [
        await api.raw("{ channels { id } }"),
        await api.raw(
            'mutation { createApp(name: "x") { app { id } } }', api_key=world.app.api_key
        ),
        await api.raw(
            "query($a: ID!) { app(id: $a) { id } }",
            {"a": world.app.id},
            token=world.other_owner.token,
        ),
        await api.raw('query { app(id: "x") { id } }', token=world.owner.token),
        await api.raw(
            'mutation($a: ID!) { createChannel(appId: $a, name: "news") { id } }',
            {"a": world.app.id},
            api_key=world.app.api_key,
        ),
    ]
    codes = [e["extensions"]["code"] for body in bodies for e in body["errors"]]
    assert codes == ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT"]
    assert set(codes) <= CONTRACT_CODES


@pytest.mark.parametrize("path", ["/graphql", "/webpush/subscriptions"])
def test_an_outage_before_the_operation_is_a_coded_503(path, caplog):
    """What fails before GraphQL runs reaches Litestar's exception handler: there too, 503 with
    Retry-After and, on /graphql, a GraphQL error body with the code."""
    from litestar import Request

    from api.http.graphql import coded_http_error

    request = Request(scope={"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
                             "headers": [(b"accept", b"application/json")], "query_string": b"",
                             "server": ("127.0.0.1", 80), "scheme": "http", "root_path": "", "state": {}})
    response = coded_http_error(request, ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 6379)"))
    headers = {name.lower(): value for name, value in dict(response.headers).items()}
    assert response.status_code == 503 and headers["retry-after"] == "2"
    content = response.content if isinstance(response.content, dict) else json.loads(response.content)
    if path == "/graphql":
        assert content["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 2}
    else:
        assert content["status_code"] == 503 and "try again" in content["detail"]
    assert "6379" not in json.dumps(content) and "Traceback" not in caplog.text
    assert coded_http_error(request, RuntimeError("a bug")).status_code == 500  # a bug stays one
