"""GraphQL hardening: hostile documents are refused before any resolver runs."""

from __future__ import annotations

from api.graphql.schema import build_schema
from api.users.tables import User


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
