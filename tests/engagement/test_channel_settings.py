"""updateChannel: critical and digestWindow, validated, for the channel's app only."""

from __future__ import annotations

import pytest

from api.channels.tables import Channel
from tests.support import factories as f

UPDATE = (
    "mutation($c: ID!, $cr: Boolean, $w: Int) { updateChannel(id: $c, critical: $cr, digestWindow: $w)"
    " { id critical digestWindow } }"
)


async def test_defaults_then_each_setting_changes_alone(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="chat")
    data = await api.ok("query($c: ID) { channel(id: $c) { critical digestWindow } }", {"c": channel["id"]})
    assert data["channel"] == {"critical": False, "digestWindow": None}

    changed = await api.ok(UPDATE, {"c": channel["id"], "cr": True}, api_key=app.api_key)
    assert changed["updateChannel"] == {"id": channel["id"], "critical": True, "digestWindow": None}
    # Omitted arguments stay as they were; the owner may change them too.
    changed = await api.ok(
        "mutation($c: ID!) { updateChannel(id: $c, digestWindow: 300) { critical digestWindow } }",
        {"c": channel["id"]}, token=app.owner.token,
    )
    assert changed["updateChannel"] == {"critical": True, "digestWindow": 300}
    row = await Channel.select(Channel.critical, Channel.digest_window).where(Channel.id == int(channel["id"])).first()
    assert (bool(row["critical"]), row["digest_window"]) == (True, 300)
    # Found by name (the send path's cached lookup) with the settings too.
    data = await api.ok('query { channel(name: "chat") { critical digestWindow } }', api_key=app.api_key)
    assert data["channel"] == {"critical": True, "digestWindow": 300}

    # null and 0 both turn digests off.
    off = await api.ok(UPDATE, {"c": channel["id"], "w": None}, api_key=app.api_key)
    assert off["updateChannel"]["digestWindow"] is None
    await api.ok(UPDATE, {"c": channel["id"], "w": 60}, api_key=app.api_key)
    off = await api.ok(UPDATE, {"c": channel["id"], "w": 0}, api_key=app.api_key)
    assert off["updateChannel"] == {"id": channel["id"], "critical": True, "digestWindow": None}


@pytest.mark.parametrize("window", [-1, 1, 4, 86401, 2**31 - 1])
async def test_digest_window_out_of_range_is_refused_and_nothing_changes(api, window):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    error = await api.error(UPDATE, {"c": channel["id"], "cr": True, "w": window}, api_key=app.api_key)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "digestWindow" in error["message"]
    row = await Channel.select(Channel.critical, Channel.digest_window).where(Channel.id == int(channel["id"])).first()
    assert (bool(row["critical"]), row["digest_window"]) == (False, None)


async def test_limits_just_inside_are_accepted(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    for window in (5, 86400):
        data = await api.ok(UPDATE, {"c": channel["id"], "w": window}, api_key=app.api_key)
        assert data["updateChannel"]["digestWindow"] == window


async def test_critical_null_is_refused(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    error = await api.error(UPDATE, {"c": channel["id"], "cr": None}, api_key=app.api_key)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_global_public_channel_has_no_app_to_change_it(api):
    app = await f.make_app(api)
    device = await f.make_expo_device(api)
    sub = await api.ok(
        'mutation($t: String!) { subscribe(deviceToken: $t, name: "town-square") { channel { id } } }',
        {"t": device["token"]},
    )
    error = await api.error(UPDATE, {"c": sub["subscribe"]["channel"]["id"], "cr": True}, api_key=app.api_key)
    assert error["extensions"]["code"] == "FORBIDDEN"
