"""Helpers for the GraphQL-level tests: row counts, a private app with a granted device."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass

import pytest

from tests.support import factories as f

_seq = itertools.count(1)


def expo_token() -> str:
    """A well-formed Expo push token nobody has registered yet."""
    return f"ExponentPushToken[t{next(_seq)}x]"


async def row_counts() -> dict[str, int]:
    """Rows per table: compare before and after a refused request to prove nothing was written."""
    from api.piccolo_app import TABLES

    names = [table._meta.tablename for table in TABLES]
    # One statement for every table (Table.count() is shadowed by DailyUsage's `count` column).
    rows = await TABLES[0].raw("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {n}) AS {n}" for n in names))
    return {name: int(rows[0][name]) for name in names}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def error_codes(body: dict) -> dict[str, str]:
    """path[0] (the alias) -> extensions.code for every error of a response."""
    return {e["path"][0]: e["extensions"]["code"] for e in body.get("errors") or []}


@dataclass
class World:
    """Two users with an app each; app A has a public and a private channel; device D follows
    both (the private one through a redeemed access code); device E is registered and follows
    nothing; a well-formed token nobody registered."""

    owner: f.Owner
    app: f.AppHandle
    other_owner: f.Owner
    other_app: f.AppHandle
    public: dict
    private: dict
    device: dict
    other_device: dict
    public_subscription: str
    private_subscription: str
    unknown_token: str


async def make_world(api) -> World:
    app = await f.make_app(api, name="A")
    other_app = await f.make_app(api, name="B")
    public = await f.make_channel(api, app, name="news")
    private = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    other_device = await f.make_expo_device(api)
    public_sub = await f.subscribe(api, device, public)
    code = await f.access_code(api, app, ["vip"], identifier="customer-1")
    await api.ok(
        "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
        {"c": code["code"], "t": device["token"]},
    )
    data = await api.ok(
        "query($c: ID!) { subscribers(channelId: $c) { nodes { id } } }",
        {"c": private["id"]},
        api_key=app.api_key,
    )
    return World(
        owner=app.owner,
        app=app,
        other_owner=other_app.owner,
        other_app=other_app,
        public=public,
        private=private,
        device=device,
        other_device=other_device,
        public_subscription=public_sub["id"],
        private_subscription=data["subscribers"]["nodes"][0]["id"],
        unknown_token=expo_token(),
    )


@pytest.fixture
async def world(api) -> World:
    return await make_world(api)
