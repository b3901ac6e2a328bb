"""GraphQL hardening: hostile documents are refused before any resolver runs."""

from __future__ import annotations

import asyncio
import os

import pytest

from api.graphql.schema import build_schema
from api.users.tables import User
from tests.support import factories as f
from tests.support.sandbox import free_port


async def _post(api, body) -> tuple[int, dict | list | str]:
    response = await api.http.post("/graphql", json=body)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


async def test_alias_bomb_is_refused_before_execution(api):
    aliases = " ".join(f'a{i}: signUp(email: "bomb{i}@example.com", password: "correct horse") {{ token }}'
                       for i in range(40))
    error = await api.error(f"mutation {{ {aliases} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aliases" in error["message"].lower()
    assert await User.count() == 0  # not one resolver ran


async def test_deep_query_is_refused(api):
    inner = "id"
    for _ in range(12):
        inner = f"channel {{ app {{ channels {{ {inner} }} }} }}"
    query = f"{{ notifications(appId: \"1\") {{ nodes {{ {inner} }} }} }}"
    error = await api.error(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in error["message"].lower()


async def test_token_flood_is_refused(api):
    fields = " ".join("__typename" for _ in range(3000))
    error = await api.error(f"{{ {fields} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "token" in error["message"].lower()


async def test_page_size_is_capped(api):
    error = await api.error('{ notifications(channelId: "1", first: 1000) { nodes { id } } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_batched_requests_are_not_accepted(api):
    status, body = await _post(api, [{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    assert status == 400 or (isinstance(body, dict) and body.get("errors"))
    assert not isinstance(body, list)


async def test_oversized_body_is_refused(api):
    status, _ = await _post(api, {"query": "{ __typename }", "variables": {"x": "y" * 400_000}})
    assert status == 413


async def test_introspection_is_off_in_production_schema():
    schema = build_schema(introspection=False)
    result = await schema.execute("{ __schema { types { name } } }")
    assert result.errors and "introspection" in result.errors[0].message.lower()
    assert (await build_schema(introspection=True).execute("{ __schema { queryType { name } } }")).errors is None


async def test_validation_cache_hits_for_repeated_documents():
    """The limiter rules are built once, so a repeated document skips validation (the cache hits)."""
    import graphql.validation

    schema = build_schema()
    calls = 0
    original = graphql.validate

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    import strawberry.extensions.validation_cache as vc
    import strawberry.schema.schema as sch

    targets = [m for m in (vc, sch) if hasattr(m, "validate")]
    saved = [(m, m.validate) for m in targets]
    for m in targets:
        m.validate = counting
    try:
        for _ in range(5):
            assert (await schema.execute("{ webPushPublicKeyType: __typename }")).errors is None
    finally:
        for m, fn in saved:
            m.validate = fn
    del graphql.validation
    assert calls <= 1


async def test_text_a_database_cannot_store_is_refused_before_any_write(api):
    register = "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { device { id } } }"
    import json

    for token in ("ExponentPushToken[a\u0000b]", "ExponentPushToken[\ud800]"):
        # ensure_ascii: a lone surrogate travels as the JSON escape \ud800, as a client could send it
        body = json.dumps({"query": register, "variables": {"t": token}}, ensure_ascii=True)
        response = await api.http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.code('{ apps(deviceToken: "nul\\u0000") { id } }') == "BAD_USER_INPUT"
    from api.devices.tables import Device

    assert await Device.count() == 0


# ---------------------------------------------------------------- network edges: no redirects


@pytest.fixture
async def redirector():
    """A loopback server whose /push and /hook answer 302 to /landing, which records any hit: a
    client that follows the redirect shows up there."""
    from aiohttp import web

    landed: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPFound(f"http://127.0.0.1:{request.url.port}/landing")

    async def landing(request: web.Request) -> web.Response:
        landed.append(request.method)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_route("*", "/push", redirect)
    app.router.add_route("*", "/hook", redirect)
    app.router.add_route("*", "/landing", landing)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield {"base": f"http://127.0.0.1:{port}", "landed": landed}
    await runner.cleanup()


async def test_web_push_never_follows_a_redirect(redirector):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from api.providers.failures import PermanentMessageFailure
    from api.providers.vapid import b64url_encode
    from api.providers.webpush import VapidSigner, WebPushSender, generate_vapid_private_key

    browser = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    keys = {"p256dh": b64url_encode(browser), "auth": b64url_encode(os.urandom(16))}
    sender = WebPushSender(VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test"), timeout=2.0)
    try:
        outcome = await sender.send(f"{redirector['base']}/push", keys["p256dh"], keys["auth"], b"hi", ttl=60)
    finally:
        await sender.close()
    assert redirector["landed"] == []
    assert not outcome.ok and isinstance(outcome.failure, PermanentMessageFailure)
    assert outcome.failure.code == "redirect_refused"


async def test_webhooks_never_follow_a_redirect_and_say_so(api, settings, runtime, redirector):
    from api.webhooks import service as webhooks
    from api.webhooks.tables import WebhookEvent

    settings.webhook_allow_private = True
    settings.webhook_max_attempts = 1
    app = await f.make_app(api)
    await api.ok("mutation($a: ID!, $u: String!) { setWebhook(appId: $a, url: $u) { id } }",
                 {"a": app.id, "u": f"{redirector['base']}/hook"}, token=app.owner.token)
    await webhooks.emit(runtime, [(int(app.id), "notification.sent", {"n": 1})])
    for _ in range(100):
        row = await WebhookEvent.select().first()
        if row["status"] != "PENDING":
            break
        await asyncio.sleep(0.05)
    assert redirector["landed"] == []
    assert (row["status"], row["last_error"]) == ("FAILED", "redirect refused: http_302")
