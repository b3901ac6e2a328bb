"""A bounded fuzz run against the real server. GraphQL operations built from the schema itself
(every root field, arguments of the right and the wrong shape, nested selections, cursors, JSON
values of any size) sent as different callers; raw HTTP bodies (arbitrary bytes, broken and deep
JSON, invalid UTF-8, wrong content types and Accept headers); graphql-transport-ws frames (junk
payloads, wrong types, subscribe before init, duplicate ids). No response may be a bare 500 or an
internal error, every error carries a code, data sent comes back unchanged, and the server still
answers afterwards (tests/ops/test_fuzz_transport.py holds the raw HTTP and WebSocket runs)."""

from __future__ import annotations

import asyncio
import base64
import json

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from api.graphql.schema import schema as booper_schema
from tests.support import factories as f

SCHEMA = booper_schema._schema
# Values that probe edges: huge, empty, unicode, SQL-ish, ids out of range, wrong types.
NASTY_STRINGS = st.sampled_from(
    ["", " ", "0", "-1", "1", "2", "99999999999999999999", "' OR 1=1 --", "\u0000", "é🚀", "x" * 5000,
     "ExponentPushToken[abc]", "https://fcm.googleapis.com/fcm/send/x", "http://127.0.0.1:1/", "MQ",
     "djE6MQ", "2026-01-01T00:00:00Z", "not-a-date", "null", "{}", "bk_nope"]
) | st.text(max_size=40)
# Cursors: Booper's own form ("v1:<id>", base64url) with ids of any size and sign, and near misses.
CURSORS = st.builds(
    lambda prefix, n: base64.urlsafe_b64encode(f"{prefix}{n}".encode()).decode().rstrip("="),
    st.sampled_from(["v1:", "v1:-", "v2:", "v1: ", ""]), st.integers(min_value=0) | st.text(max_size=8),
)
# JSON values as clients send them: integers of any size (the 64-bit edge included), floats, deep.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64])
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=8,
)


def value_for(type_, depth: int = 0, name: str = "") -> st.SearchStrategy:
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        base = st.lists(value_for(inner.of_type, depth + 1), max_size=3)
    elif isinstance(inner, GraphQLEnumType):
        base = st.sampled_from(list(inner.values)) | NASTY_STRINGS
    elif isinstance(inner, GraphQLInputObjectType):
        if depth > 3:
            return st.none()
        base = st.fixed_dictionaries(
            {},
            optional={name: value_for(field.type, depth + 1) for name, field in inner.fields.items()},
        )
    elif isinstance(inner, GraphQLScalarType):
        base = {
            "Int": st.integers(min_value=-(2**31), max_value=2**31 - 1) | NASTY_STRINGS,
            "Boolean": st.booleans(),
            "Float": st.floats(allow_nan=False),
            "JSON": JSON_VALUES,
        }.get(inner.name, NASTY_STRINGS)
    else:
        base = st.none()
    if name == "after":
        base = CURSORS | base
    return (st.none() | base) if nullable else base


def selection(type_, depth: int = 0) -> str:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = []
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        sub = get_named_type(field.type)
        if isinstance(sub, GraphQLObjectType):
            if depth < 2:
                parts.append(f"{name} {selection(field.type, depth + 1)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts or ["__typename"]) + " }"


@st.composite
def operations(draw):
    kind = draw(st.sampled_from(["query", "mutation", "subscription"]))  # subscriptions over POST too
    root = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type}.get(kind, SCHEMA.subscription_type)
    name = draw(st.sampled_from(sorted(root.fields)))
    field = root.fields[name]
    variables, decls, args = {}, [], []
    for arg_name, arg in field.args.items():
        value = draw(value_for(arg.type, name=arg_name))
        if value is None and not isinstance(arg.type, GraphQLNonNull) and draw(st.booleans()):
            continue
        variables[arg_name] = value
        decls.append(f"${arg_name}: {arg.type}")
        args.append(f"{arg_name}: ${arg_name}")
    head = f"{kind}({', '.join(decls)})" if decls else kind
    call = f"{name}({', '.join(args)})" if args else name
    return f"{head} {{ {call} {selection(field.type)} }}", variables, draw(st.sampled_from(["anon", "key", "user"]))


async def test_fuzzed_operations_never_produce_an_internal_error(api, sandbox):
    app = await f.make_app(api)
    await f.make_channel(api, app, name="fuzz")
    device = await f.make_expo_device(api, token="ExponentPushToken[abc]")
    await f.subscribe(api, device, {"id": (await api.ok(f'{{ channels(appId: "{app.id}") {{ id }} }}',
                                                        api_key=app.api_key))["channels"][0]["id"]})
    failures: list[str] = []
    loop = asyncio.get_running_loop()

    @hsettings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(operations())
    def run(case):
        query, variables, who = case
        auth = {"api_key": app.api_key} if who == "key" else {"token": app.owner.token} if who == "user" else {}
        body = asyncio.run_coroutine_threadsafe(api.raw(query, variables, **auth), loop).result(30)
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            if code in (None, "INTERNAL_SERVER_ERROR"):
                failures.append(json.dumps({"query": query, "variables": variables, "error": error})[:2000])
        failures.extend(_changed_data(query, variables, body))

    await asyncio.to_thread(run)
    assert not failures, "\n".join(failures[:5])


def _changed_data(query: str, variables: dict, body: dict) -> list[str]:
    """A send's `data` must come back as it was given (or be refused): never silently changed."""
    sent = ((variables.get("input") or {}) if "sendNotification" in query else {}) or {}
    got = ((body.get("data") or {}).get("sendNotification") or {}) if isinstance(body.get("data"), dict) else {}
    if isinstance(sent, dict) and "data" in sent and "data" in got and got["data"] != sent["data"]:
        return [f"data changed: sent {sent['data']!r:.200}, got {got['data']!r:.200}"]
    return []
