"""Query.accessCodes: an app's codes listed later by its owner, newest first, paged, with their
state (VALID / USED / EXPIRED), never the code itself (only its last 2 digits). Another user, the
app's own key and another app's key get nothing."""

from __future__ import annotations

import datetime as dt
import json

from api.access_codes.tables import AccessCode
from tests.api.conftest import row_counts
from tests.support import factories as f

LIST = (
    "query($a: ID!, $n: Int!, $after: String) { accessCodes(appId: $a, first: $n, after: $after) {"
    " nodes { id codeHint identifier state createdAt expiresAt redeemedAt redeemedByHint channels { name } }"
    " pageInfo { endCursor hasNextPage } } }"
)
REDEEM = "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }"


def parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


async def _three_codes(api):
    """App with codes: one redeemed (used), one expired, one live (created in that order)."""
    app = await f.make_app(api, name="codes")
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    await f.make_channel(api, app, name="gold", visibility="PRIVATE")
    used = await f.access_code(api, app, ["vip"], identifier="alice")
    device = await f.make_expo_device(api, token="ExponentPushToken[redeemer42xyz]")
    await api.ok(REDEEM, {"c": used["code"], "t": device["token"]}, device_key=device["key"])
    expired = await f.access_code(api, app, ["gold"])
    # It ran out: its expiry moved into the past, as if its minutes had gone by.
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await AccessCode.update({AccessCode.expires_at: past}).where(AccessCode.id == await _newest_id())
    live = await f.access_code(api, app, ["vip", "gold"], identifier="bob")
    return app, used, expired, live


async def _newest_id() -> int:
    return (await AccessCode.select(AccessCode.id).order_by(AccessCode.id, ascending=False).first())["id"]


async def test_the_owner_lists_codes_newest_first_with_their_state(api):
    app, used, expired, live = await _three_codes(api)
    body = await api.raw(LIST, {"a": app.id, "n": 20}, token=app.owner.token)
    assert not body.get("errors"), body
    nodes = body["data"]["accessCodes"]["nodes"]
    assert [(n["identifier"], n["state"]) for n in nodes] == [("bob", "VALID"), (None, "EXPIRED"), ("alice", "USED")]
    assert [n["codeHint"] for n in nodes] == [live["code"][-2:], expired["code"][-2:], used["code"][-2:]]
    assert [[c["name"] for c in n["channels"]] for n in nodes] == [["gold", "vip"], ["gold"], ["vip"]]
    assert parse(nodes[0]["expiresAt"]) == parse(live["expiresAt"])
    assert parse(nodes[0]["createdAt"]) <= parse(nodes[0]["expiresAt"])
    assert nodes[0]["redeemedAt"] is None and nodes[0]["redeemedByHint"] is None
    assert nodes[2]["redeemedAt"] is not None
    assert nodes[2]["redeemedByHint"] == "r42xyz"
    # Codes are secrets: no answer carries one, whole.
    text = json.dumps(body)
    for code in (used, expired, live):
        assert code["code"] not in text


async def test_the_list_has_no_field_for_the_code(api):
    app, *_ = await _three_codes(api)
    error = await api.error(
        "query($a: ID!) { accessCodes(appId: $a) { nodes { code } } }", {"a": app.id}, token=app.owner.token
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "code" in error["message"]


async def test_codes_are_paged(api):
    app, *_ = await _three_codes(api)
    first = (await api.ok(LIST, {"a": app.id, "n": 2}, token=app.owner.token))["accessCodes"]
    assert [n["identifier"] for n in first["nodes"]] == ["bob", None]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await api.ok(LIST, {"a": app.id, "n": 2, "after": first["pageInfo"]["endCursor"]},
                         token=app.owner.token))["accessCodes"]
    assert [n["identifier"] for n in rest["nodes"]] == ["alice"]
    assert rest["pageInfo"]["hasNextPage"] is False
    for bad in ({"n": 0}, {"n": 101}, {"n": 2, "after": "nonsense"}):
        error = await api.error(LIST, {"a": app.id, "after": None, **bad}, token=app.owner.token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_others_get_nothing(api):
    app, *_ = await _three_codes(api)
    stranger = await f.make_app(api, name="stranger")
    before = await row_counts()
    cases = (
        ({"token": stranger.owner.token}, "NOT_FOUND"),  # another user: the app does not exist for them
        ({"api_key": stranger.api_key}, "FORBIDDEN"),  # another app's key
        ({"api_key": app.api_key}, "FORBIDDEN"),  # the app's own key: the owner only
        ({}, "UNAUTHENTICATED"),
    )
    for auth, code in cases:
        body = await api.raw(LIST, {"a": app.id, "n": 20}, **auth)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], (auth, body)
        assert not (body.get("data") or {}).get("accessCodes")
    # Its own app's codes, for the stranger: only theirs (none).
    mine = await api.ok(LIST, {"a": stranger.id, "n": 20}, token=stranger.owner.token)
    assert mine["accessCodes"]["nodes"] == []
    assert await row_counts() == before


async def test_a_page_of_codes_costs_a_bounded_amount(api):
    """Each code's channels count as an unpaged list (at most 50 channels a code): the largest
    page (100) with its channels stays under the cost limit."""
    app, *_ = await _three_codes(api)
    body = await api.raw(LIST, {"a": app.id, "n": 100}, token=app.owner.token)
    assert not body.get("errors"), body
