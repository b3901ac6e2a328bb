"""A page size given as a variable is costed with the request's value, not the document's default
(`query($n: Int = 1) { ...(first: $n) }` with {"n": 100} was costed 1 and ran 100), over HTTP and
WebSocket alike, while a repeated document is still parsed, validated and walked once."""

from __future__ import annotations

import re

import pytest
from graphql import parse, validate

from api.graphql.cost import cost_rule
from api.graphql.schema import build_schema
from tests.support import factories as f
from tests.support.graphql import ws_execute

# 100 notifications x their channel's app's channels x that app's channels: far over the limit
# at a page of 100, far under it at a page of 1.
NESTED = ("query Nested($n: Int! = 1) { notifications(channelId: CHANNEL, first: $n) { nodes { channel {"
          " app { channels { app { channels { name } } } } } } } }")
LIMIT = 50_000


def static_cost(document: str) -> int:
    """The cost of a document without variables (every size written out), of its dearest operation:
    the reference."""
    errors = validate(build_schema()._schema, parse(document), [cost_rule(max_cost=0, max_page=100)])
    return max((e.extensions["cost"] for e in errors), default=0)


def substituted(document: str, values: dict[str, int | None]) -> str:
    """The document with each `$name` written out (None: its argument left out)."""
    for name, value in values.items():
        if value is None:
            document = re.sub(rf",?\s*\w+: \${name}\b", "", document)
        else:
            document = re.sub(rf"\${name}\b", str(value), document)
    return document.replace("()", "")


def request_cost(document: str, variables: dict, operation_name: str | None = None) -> int:
    """The cost the API's limiter computes for a request (0: within a limit of 0, i.e. none)."""
    from api.graphql.cost import CostPlans, limit_error

    schema = build_schema()._schema
    plans = CostPlans(max_page=100).get(schema, document, parse(document))
    error = limit_error(plans, operation_name, variables, max_cost=0)
    return error.extensions["cost"] if error else 0


@pytest.fixture
async def channel(api):
    app = await f.make_app(api, plan="BUSINESS")
    return app, await f.make_channel(api, app, name="c")


async def test_a_variable_page_is_costed_at_the_requests_value_not_its_default(api, channel):
    app, ch = channel
    query = NESTED.replace("CHANNEL", ch["id"])
    body = await api.raw(query, {"n": 1}, api_key=app.api_key)
    assert body.get("errors") is None, body  # a page of 1: cheap, it runs
    body = await api.raw(query, {"n": 100}, api_key=app.api_key)
    assert body["data"] is None
    [error] = body["errors"]
    written = static_cost(query.replace("($n: Int! = 1)", "").replace("$n", "100"))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "cost": written, "maxCost": LIMIT}
    assert written > LIMIT
    # Left out, the variable is its declared default: the cheap page again.
    assert (await api.raw(query, {}, api_key=app.api_key)).get("errors") is None


async def test_out_of_range_and_ill_typed_sizes_are_refused_with_a_code(api, channel):
    app, ch = channel
    query = NESTED.replace("CHANNEL", ch["id"])
    for value, words in ((-5, "first must be between 1 and 100"), (0, "first must be between 1 and 100"),
                         (2**31, "non 32-bit"), ("100", "Int cannot represent"), (None, "not to be None"),
                         (101.0, "query cost"), (5000, "query cost")):
        body = await api.raw(query, {"n": value}, api_key=app.api_key)
        assert body["data"] is None, (value, body)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (value, error)
        assert words in error["message"], (value, error)


DOCUMENTS = [
    # A variable without a default, given or left out (then the argument's default, 50).
    "query($n: Int) { notifications(channelId: 1, first: $n) { nodes { id channel { app { channels { id } } } } } }",
    # A list argument (deliveryStats' hours) and a connection's page, under aliases, in a fragment
    # spread at two pages, nested.
    "query($n: Int! = 3, $h: Int! = 2) { a: notifications(channelId: 1, first: $n) { ...N }"
    " b: notifications(channelId: 2, first: 7) { ...N } }"
    " fragment N on NotificationConnection { nodes { channel { app { deliveryStats(hours: $h) { start }"
    " channels { app { deliveryStats(hours: $h) { start } } } } } } }",
    # Nested sizes multiply: devices' page x each device's subscriptions.
    "query($d: Int = 1, $s: Int = 1) { devices(appId: 1, first: $d) { nodes { subscriptions(first: $s) {"
    " channel { app { channels { name } } } } } } }",
    # The same variable in two places, and an inline fragment.
    "query($n: Int! = 5) { people(appId: 1, first: $n) { nodes { ... on Person { devices { id } } } }"
    " deliveries(notificationId: 1, first: $n) { nodes { history(first: $n) { at } } } }",
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("values", [{}, {"n": 1, "h": 1, "d": 1, "s": 1}, {"n": 100, "h": 168, "d": 100, "s": 100},
                                    {"n": 37, "d": 9}, {"n": -3, "h": 0, "s": -1}])
def test_the_cost_with_variables_is_the_cost_with_the_values_written_out(document, values):
    assert validate(build_schema()._schema, parse(document)) == []
    names = set(re.findall(r"\$(\w+)", document))
    given = {k: v for k, v in values.items() if k in names}
    written: dict[str, int | None] = {}
    for name in names:
        default = re.search(rf"\${name}: Int!? = (\d+)", document)
        if name in given:
            written[name] = max(given[name], 1)
        else:
            written[name] = int(default.group(1)) if default else None
    plain = substituted(re.sub(r"query\([^)]*\)", "query", document), written)
    assert "$" not in plain, plain
    assert request_cost(document, given) == static_cost(plain) > 0, (given, plain)


def test_the_operation_that_runs_is_the_one_costed():
    document = ("query Cheap { webPushPublicKey } query Dear($n: Int = 1) { notifications(channelId: 1, first: $n)"
                " { nodes { channel { app { channels { app { channels { id } } } } } } } }")
    assert request_cost(document, {"n": 100}, "Cheap") == 1
    assert request_cost(document, {"n": 100}, "Dear") == static_cost(
        document.replace("query Dear($n: Int = 1)", "query Dear").replace("$n", "100"))
    assert request_cost(document, {"n": 100}, "Nope") == 0  # no such operation: the executor refuses it


async def test_a_subscription_is_costed_with_its_variables_over_websocket(api, channel):
    app, ch = channel
    query = ("subscription($h: Int! = 1) { deliveryEvents(appId: APP) { notification { channel { app {"
             " channels { app { channels { app { deliveryStats(hours: $h) { start } } } } } } } } } }"
             ).replace("APP", app.id)
    params = {"authorization": f"Bearer {app.owner.token}"}
    body = await ws_execute(api.url, query, {"h": 168}, connection_params=params)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["cost"] > LIMIT, body
    assert error["extensions"]["cost"] == static_cost(query.replace("($h: Int! = 1)", "").replace("$h", "168"))
    # The same document at its default is within the limit: accepted, and the first event arrives.
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, ch)
    body = await ws_execute(api.url, query, {}, connection_params=params,
                            trigger=lambda: f.send(api, app, channelId=ch["id"], title="t"))
    assert body.get("errors") is None and "closed" not in body, body
    assert body["data"]["deliveryEvents"]["notification"]["channel"]["app"]["channels"]


async def test_a_repeated_document_is_validated_and_walked_once_whatever_its_variables(api, channel):
    from strawberry.extensions.validation_cache import _get_validate_cache

    from api.graphql.schema import schema

    (limiter,) = [e for e in schema.extensions if hasattr(e, "cost_plans")]
    app, ch = channel
    query = NESTED.replace("Nested", "Again").replace("CHANNEL", ch["id"])
    await api.raw(query, {"n": 1}, api_key=app.api_key)
    cache, walks = _get_validate_cache(512).cache_info(), limiter.cost_plans.walks
    for n in (2, 100, 3, 100):
        await api.raw(query, {"n": n}, api_key=app.api_key)
    after = _get_validate_cache(512).cache_info()
    assert (after.hits - cache.hits, after.misses - cache.misses) == (4, 0)
    assert limiter.cost_plans.walks == walks
