"""Production logs: every line the real `booper serve` writes is one JSON object, and no GraphQL
document, variable or push token ever appears in them, even when a request fails unexpectedly."""

from __future__ import annotations

import json
import os
import sqlite3

import httpx
import pytest

from tests.support import databases
from tests.support.processes import Process, booper
from tests.support.sandbox import free_port

pytestmark = pytest.mark.e2e
INLINE_TOKEN = "ExponentPushToken[inline-secret-4417]"
VARIABLE_TOKEN = "ExponentPushToken[variable-secret-9043]"
REFUSED_TOKEN = "not-a-push-token-secret-5521"
REGISTER = ('mutation($t: String!) { a: registerDevice(input: {platform: EXPO, token: "' + INLINE_TOKEN
            + '"}) { __typename } b: registerDevice(input: {platform: EXPO, token: $t}) { __typename } }')


@pytest.fixture
def production_server(tmp_path):
    postgres = databases.create_postgres_database() if os.environ.get("BOOPER_TEST_DB") == "postgres" else None
    data = tmp_path / "data"
    port = free_port()
    env = {
        "BOOPER_PRODUCTION": "true",
        "BOOPER_DATA_DIR": str(data),
        "BOOPER_DATABASE_URL": postgres or "",
        "BOOPER_SECRET_KEY": "logs-test-secret-key-not-for-production-0000",
    }
    proc = Process("serve", booper("serve", "--port", str(port)), env, tmp_path)
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield {"url": f"http://127.0.0.1:{port}/graphql", "proc": proc, "postgres": postgres, "data": data}
    finally:
        proc.stop()
        if postgres:
            databases.drop_postgres_database(postgres)


def _break_the_devices_table(server: dict) -> None:
    """What an unexpected failure looks like from the outside: the database lost a table."""
    if server["postgres"]:
        import asyncio

        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(server["postgres"])
            try:
                await conn.execute("DROP TABLE devices CASCADE")
            finally:
                await conn.close()

        asyncio.run(drop())
    else:
        with sqlite3.connect(server["data"] / "booper.sqlite3") as conn:
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("DROP TABLE devices")


def test_production_logs_are_json_lines_without_documents_variables_or_tokens(production_server):
    url = production_server["url"]
    refused = httpx.post(url, json={"query": "mutation($t: String!) { registerDevice(input: {platform: EXPO,"
                                             " token: $t}) { __typename } }", "variables": {"t": REFUSED_TOKEN}})
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    invalid = httpx.post(url, json={"query": '{ nope(token: "' + INLINE_TOKEN + '") }'})
    assert invalid.json()["errors"]
    httpx.get(url, params={"query": '{ apps(deviceToken: "' + VARIABLE_TOKEN + '") { id } }'})

    _break_the_devices_table(production_server)
    broken = httpx.post(url, json={"query": REGISTER, "variables": {"t": VARIABLE_TOKEN}}).json()
    assert {e["extensions"]["code"] for e in broken["errors"]} == {"INTERNAL_SERVER_ERROR"}
    assert INLINE_TOKEN not in json.dumps(broken) and VARIABLE_TOKEN not in json.dumps(broken)

    production_server["proc"].stop()  # shutdown lines too
    text = production_server["proc"].log_path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    not_json = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            not_json.append(line)
            continue
        assert isinstance(entry, dict) and {"ts", "level", "logger", "message"} <= set(entry), line
    assert not_json == [], "\n".join(not_json[:20])
    for secret in (INLINE_TOKEN, VARIABLE_TOKEN, REFUSED_TOKEN, "inline-secret", "variable-secret", "secret-5521"):
        assert secret not in text, secret
    for document_text in ("platform: EXPO", "__typename", "registerDevice(input"):
        assert document_text not in text, document_text
    # The unexpected failure itself is logged (what and where, not the request's text).
    errors = [json.loads(line) for line in lines if json.loads(line)["level"] == "error"]
    assert any(e.get("path") in (["a"], ["b"]) for e in errors), errors
