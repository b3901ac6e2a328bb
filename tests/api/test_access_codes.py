"""createAccessCode / redeemAccessCode: BOOPER_ACCESS_CODE_DIGITS digits (8 by default; codes of
6..12 digits redeem), expiry, single use, the caller's app only, lookups scoped by appId, grants +
subscriptions + identifier, throttling per device and per address (IPv6 per /64), aliased attempts.
The per-app budgets, the live-code cap and the guessing bound: tests/ops/test_access_code_attack.py."""

from __future__ import annotations

import datetime as dt

import pytest

from api.access_codes.tables import AccessCode, AccessCodeChannel
from api.channels.tables import ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from api.people.tables import PersonDevice
from tests.api.conftest import error_codes, expo_token, row_counts
from tests.support import factories as f

CREATE = (
    "mutation($i: CreateAccessCodeInput!) { createAccessCode(input: $i) { code expiresAt identifier"
    " channels { id name visibility } } }"
)
REDEEM = (
    "mutation($c: String!, $t: String!) {"
    " redeemAccessCode(code: $c, deviceToken: $t) { id name visibility } }"
)
REDEEM_IN = (
    "mutation($c: String!, $t: String!, $a: ID) {"
    " redeemAccessCode(code: $c, deviceToken: $t, appId: $a) { id name } }"
)
SUBSCRIBERS = (
    "query($c: ID!) { subscribers(channelId: $c) { nodes { device { id identifier } } } }"
)


def parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def shop(api):
    app = await f.make_app(api, name="shop")
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    gold = await f.make_channel(api, app, name="gold", visibility="PRIVATE")
    news = await f.make_channel(api, app, name="news")
    return app, vip, gold, news


async def test_a_code_is_eight_digits_and_expires_in_five_minutes_by_default(api, shop):
    app, vip, gold, _ = shop
    start = dt.datetime.now(dt.UTC)
    data = (
        await api.ok(
            CREATE,
            {"i": {"channels": ["vip", gold["id"]], "identifier": "alice"}},
            api_key=app.api_key,
        )
    )["createAccessCode"]
    assert len(data["code"]) == 8 and data["code"].isascii() and data["code"].isdigit()
    expires = parse(data["expiresAt"])
    assert (
        start + dt.timedelta(seconds=295)
        <= expires
        <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=301)
    )
    assert data["identifier"] == "alice"
    assert [c["name"] for c in data["channels"]] == ["vip", "gold"]

    row = await AccessCode.select().first()
    assert row["app"] == int(app.id) and row["identifier"] == "alice" and row["redeemed_at"] is None
    assert data["code"] not in row["code_hash"]
    links = await AccessCodeChannel.select(AccessCodeChannel.channel).order_by(
        AccessCodeChannel.channel
    )
    assert [link["channel"] for link in links] == sorted([int(vip["id"]), int(gold["id"])])


async def test_the_owner_creates_codes_with_app_id(api, shop):
    app, *_ = shop
    data = await api.ok(
        CREATE, {"i": {"channels": ["vip"], "appId": app.id}}, token=app.owner.token
    )
    assert len(data["createAccessCode"]["code"]) == 8
    # Without appId a dashboard user has not said which app.
    assert (
        await api.code(CREATE, {"i": {"channels": ["vip"]}}, token=app.owner.token)
        == "BAD_USER_INPUT"
    )
    assert (
        await api.code(CREATE, {"i": {"channels": ["vip"], "appId": app.id}}) == "UNAUTHENTICATED"
    )
    assert await AccessCode.count() == 1


async def test_expires_at_up_to_24_hours_is_accepted(api, shop):
    app, *_ = shop
    wanted = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=23, minutes=59)
    data = await api.ok(
        CREATE, {"i": {"channels": ["vip"], "expiresAt": iso(wanted)}}, api_key=app.api_key
    )
    assert parse(data["createAccessCode"]["expiresAt"]) == wanted
    row = await AccessCode.select().first()
    assert row["expires_at"].replace(tzinfo=row["expires_at"].tzinfo or dt.UTC) == wanted


@pytest.mark.parametrize(
    "expires_at",
    [
        lambda now: iso(now + dt.timedelta(hours=24, minutes=1)),
        lambda now: iso(now + dt.timedelta(days=365)),
        lambda now: iso(now - dt.timedelta(minutes=1)),
        lambda now: "tomorrow",
        lambda now: (now + dt.timedelta(hours=1)).replace(tzinfo=None).isoformat(),  # no offset
    ],
    ids=["24h+1m", "a-year", "past", "not-a-date", "naive"],
)
async def test_bad_expiry_is_refused_and_writes_nothing(api, shop, expires_at):
    app, *_ = shop
    before = await row_counts()
    value = expires_at(dt.datetime.now(dt.UTC))
    assert await api.code(
        CREATE, {"i": {"channels": ["vip"], "expiresAt": value}}, api_key=app.api_key
    ) == ("BAD_USER_INPUT")
    assert await row_counts() == before


async def test_only_channels_of_the_callers_app(api, shop):
    app, vip, *_ = shop
    other = await f.make_app(api, name="other")
    theirs = await f.make_channel(api, other, name="theirs", visibility="PRIVATE")
    await f.make_channel(api, other, name="vip", visibility="PRIVATE")
    before = await row_counts()
    for channels in (["theirs"], [theirs["id"]], ["vip", "theirs"], ["no-such-channel"]):
        error = await api.error(CREATE, {"i": {"channels": channels}}, api_key=app.api_key)
        assert error["extensions"]["code"] == "NOT_FOUND", channels
    assert await api.code(
        CREATE, {"i": {"channels": ["vip"], "appId": app.id}}, api_key=other.api_key
    ) == ("NOT_FOUND")
    assert await api.code(
        CREATE, {"i": {"channels": ["vip"], "appId": app.id}}, token=other.owner.token
    ) == ("NOT_FOUND")
    assert await api.code(CREATE, {"i": {"channels": []}}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert (
        await api.code(
            CREATE, {"i": {"channels": ["vip"], "identifier": "x" * 129}}, api_key=app.api_key
        )
        == "BAD_USER_INPUT"
    )
    assert await row_counts() == before
    # The other app's "vip" is not this app's "vip".
    data = await api.ok(CREATE, {"i": {"channels": ["vip"]}}, api_key=app.api_key)
    assert data["createAccessCode"]["channels"][0]["id"] == vip["id"]


async def test_redeem_grants_subscribes_and_records_the_identifier(api, shop):
    app, vip, gold, news = shop
    code = await f.access_code(api, app, ["vip", "gold"], identifier="customer-42")
    device = await f.make_expo_device(api)
    data = await api.ok(REDEEM, {"c": code["code"], "t": device["token"]})
    assert data["redeemAccessCode"] == [
        {"id": vip["id"], "name": "vip", "visibility": "PRIVATE"},
        {"id": gold["id"], "name": "gold", "visibility": "PRIVATE"},
    ]

    did = int(device["id"])
    grants = await DeviceAccessGrant.select().order_by(DeviceAccessGrant.channel)
    assert [(g["device"], g["app"], g["channel"]) for g in grants] == [
        (did, int(app.id), int(vip["id"])),
        (did, int(app.id), int(gold["id"])),
    ]
    subs = await ChannelSubscription.select(ChannelSubscription.channel).where(
        ChannelSubscription.device == did
    )
    assert sorted(s["channel"] for s in subs) == sorted([int(vip["id"]), int(gold["id"])])
    # The identifier lives in one place, the person and the device's link to it (erasable at once).
    links = await PersonDevice.raw(
        "SELECT pd.device, pd.app, p.identifier FROM person_devices pd JOIN persons p ON p.id = pd.person"
    )
    assert links == [{"device": did, "app": int(app.id), "identifier": "customer-42"}]
    assert [g["identifier"] for g in grants] == [None, None]
    assert (await Device.select(Device.identifier).where(Device.id == did).first())["identifier"] is None
    row = await AccessCode.select().first()
    assert row["redeemed_at"] is not None and row["redeemed_by"] == did

    # The owner sees who the device is; the device sees its own identifier and its channels.
    nodes = (await api.ok(SUBSCRIBERS, {"c": vip["id"]}, token=app.owner.token))["subscribers"][
        "nodes"
    ]
    assert nodes == [{"device": {"id": device["id"], "identifier": "customer-42"}}]
    mine = await api.ok(
        "query($t: String) { channels(deviceToken: $t) { name } }", {"t": device["token"]}
    )
    assert [c["name"] for c in mine["channels"]] == ["vip", "gold"]
    assert news["id"] not in [c["id"] for c in data["redeemAccessCode"]]


async def test_a_code_works_once(api, shop):
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    first = await f.make_expo_device(api)
    second = await f.make_expo_device(api)
    await api.ok(REDEEM, {"c": code["code"], "t": first["token"]})
    wrong = await api.error(
        REDEEM, {"c": "000000" if code["code"] != "000000" else "111111", "t": second["token"]}
    )
    used = await api.error(REDEEM, {"c": code["code"], "t": second["token"]})
    assert used["extensions"]["code"] == "BAD_USER_INPUT"
    assert used["message"] == wrong["message"]
    assert await DeviceAccessGrant.count() == 1
    assert (await DeviceAccessGrant.select().first())["device"] == int(first["id"])
    # Even the device that redeemed it cannot use it again.
    assert await api.code(REDEEM, {"c": code["code"], "t": first["token"]}) == "BAD_USER_INPUT"


async def test_an_expired_code_is_refused_like_a_wrong_one(api, shop):
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    await AccessCode.update(
        {AccessCode.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}, force=True
    )
    device = await f.make_expo_device(api)
    before = await row_counts()
    error = await api.error(REDEEM, {"c": code["code"], "t": device["token"]})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "this access code is wrong, expired or already used"
    assert await row_counts() == before
    assert (await AccessCode.select().first())["redeemed_at"] is None


async def test_a_short_expiry_really_expires(api, shop):
    app, *_ = shop
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.2)
    code = await f.access_code(api, app, ["vip"], expires_at=iso(soon))
    device = await f.make_expo_device(api)
    import asyncio

    await asyncio.sleep(max(0.0, (soon - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    assert await api.code(REDEEM, {"c": code["code"], "t": device["token"]}) == "BAD_USER_INPUT"
    assert await DeviceAccessGrant.count() == 0


@pytest.mark.parametrize(
    "code", ["12345", "1234567890123", "abcdef", "", "12 456", "１２３４５６", "12345²", "-123456"]
)
async def test_malformed_codes_are_the_same_refusal(api, shop, code):
    device = await f.make_expo_device(api)
    error = await api.error(REDEEM, {"c": code, "t": device["token"]})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "this access code is wrong, expired or already used"


async def test_redeem_needs_a_registered_active_device(api, shop):
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    # An unknown token has no device key to prove it: refused before anything else.
    assert await api.code(REDEEM, {"c": code["code"], "t": expo_token()}) == "UNAUTHENTICATED"
    device = await f.make_expo_device(api)
    await api.ok(
        "mutation($t: String!) { unregisterDevice(deviceToken: $t) }", {"t": device["token"]}
    )
    assert await api.code(REDEEM, {"c": code["code"], "t": device["token"]}) == "UNAUTHENTICATED"
    # A device the provider reported gone (inactive) still has its key, but cannot redeem.
    gone = await f.make_expo_device(api)
    await Device.update({Device.active: False}).where(Device.id == int(gone["id"]))
    assert await api.code(REDEEM, {"c": code["code"], "t": gone["token"]}) == "NOT_FOUND"
    assert (await AccessCode.select().first())["redeemed_at"] is None
    assert await DeviceAccessGrant.count() == 0


def _wrong(code: str, n: int) -> str:
    """The n-th well-formed (eight-digit) code that is not `code`."""
    candidates = (f"{i:08d}" for i in range(1000) if f"{i:08d}" != code)
    for _ in range(n):
        next(candidates)
    return next(candidates)


async def test_five_failures_per_device_then_rate_limited(api, shop, settings):
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    device = await f.make_expo_device(api)
    # Each attempt from another client IP: only the per-device limit can stop the sixth.
    settings.trusted_proxies = "127.0.0.1/32"
    for i in range(5):
        body = await api.raw(
            REDEEM,
            {"c": _wrong(code["code"], i), "t": device["token"]},
            headers={"x-forwarded-for": f"198.51.100.{i + 1}"},
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.raw(
        REDEEM,
        {"c": code["code"], "t": device["token"]},
        headers={"x-forwarded-for": "198.51.100.99"},
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert isinstance(error["extensions"]["retryAfter"], int)
    assert 1 <= error["extensions"]["retryAfter"] <= 600
    # The right code was not consumed by the refused attempt.
    assert (await AccessCode.select().first())["redeemed_at"] is None
    assert await DeviceAccessGrant.count() == 0
    # Another device is not affected by this device's failures.
    other = await f.make_expo_device(api)
    body = await api.raw(
        REDEEM,
        {"c": code["code"], "t": other["token"]},
        headers={"x-forwarded-for": "198.51.100.100"},
    )
    assert "errors" not in body


async def test_twenty_failures_per_address_then_rate_limited(api, shop):
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    for i in range(20):
        device = await f.make_expo_device(api)
        assert (
            await api.code(REDEEM, {"c": _wrong(code["code"], i), "t": device["token"]})
            == "BAD_USER_INPUT"
        )
    fresh = await f.make_expo_device(api)
    error = await api.error(REDEEM, {"c": code["code"], "t": fresh["token"]})
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 600
    assert await DeviceAccessGrant.count() == 0


async def test_callers_without_a_device_key_compare_no_code(api, shop):
    """A token without its key (a victim's token, or one nobody registered) is refused before any
    limit or code is touched: it can neither guess nor spend the victim's attempts."""
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    victim = await f.make_expo_device(api)
    for i in range(10):
        assert await api.code(REDEEM, {"c": _wrong(code["code"], i), "t": victim["token"]},
                              device_key=None) == "UNAUTHENTICATED"
        assert await api.code(REDEEM, {"c": code["code"], "t": expo_token()}) == "UNAUTHENTICATED"
    assert (await AccessCode.select().first())["redeemed_at"] is None
    # The victim's own five attempts are untouched: it redeems at once.
    await api.ok(REDEEM, {"c": code["code"], "t": victim["token"]})


async def test_ipv6_addresses_in_one_64_share_a_budget(api, shop, settings):
    app, *_ = shop
    settings.trusted_proxies = "127.0.0.1/32"
    settings.redeem_address_attempts = 3
    code = await f.access_code(api, app, ["vip"])

    async def attempt(address: str, guess: str) -> str:
        device = await f.make_expo_device(api)  # a fresh device each time: only the address counts
        body = await api.raw(REDEEM, {"c": guess, "t": device["token"]},
                             headers={"x-forwarded-for": address})
        return body["errors"][0]["extensions"]["code"] if body.get("errors") else "OK"

    same_64 = ["2001:db8:5:6::1", "2001:db8:5:6:ffff:ffff:ffff:ffff", "2001:0db8:0005:0006:abcd::1"]
    for i, address in enumerate(same_64):
        assert await attempt(address, _wrong(code["code"], i)) == "BAD_USER_INPUT"
    # A fourth address of the same /64: refused, whatever the code.
    assert await attempt("2001:db8:5:6:1234::9", code["code"]) == "RATE_LIMITED"
    # The neighbouring /64 is another client.
    assert await attempt("2001:db8:5:7::1", code["code"]) == "OK"
    # IPv4 counts per address, and an IPv4-mapped IPv6 address is that IPv4 address.
    settings.redeem_address_attempts = 1
    assert await attempt("192.0.2.7", _wrong(code["code"], 5)) == "BAD_USER_INPUT"
    assert await attempt("::ffff:192.0.2.7", _wrong(code["code"], 6)) == "RATE_LIMITED"
    assert await attempt("192.0.2.8", _wrong(code["code"], 7)) == "BAD_USER_INPUT"


async def test_the_length_is_configurable_and_older_codes_still_redeem(api, shop, settings):
    """Codes issued with 6 digits (before an upgrade to 8) redeem until they expire; a code's
    length is whatever was issued."""
    app, *_ = shop
    settings.access_code_digits = 6
    old = await f.access_code(api, app, ["vip"])
    assert len(old["code"]) == 6
    settings.access_code_digits = 12
    long = await f.access_code(api, app, ["gold"])
    assert len(long["code"]) == 12 and long["code"].isdigit()
    settings.access_code_digits = 8
    device = await f.make_expo_device(api)
    assert [c["name"] for c in (await api.ok(REDEEM, {"c": old["code"], "t": device["token"]}))["redeemAccessCode"]] == ["vip"]
    assert [c["name"] for c in (await api.ok(REDEEM, {"c": long["code"], "t": device["token"]}))["redeemAccessCode"]] == ["gold"]


async def test_app_id_scopes_the_lookup(api, shop):
    """With appId the code is looked up in that app only: app A's code is not found with B's id."""
    app, vip, *_ = shop
    other = await f.make_app(api, name="other")
    await f.make_channel(api, other, name="theirs", visibility="PRIVATE")
    code = (await f.access_code(api, app, ["vip"]))["code"]
    device = await f.make_expo_device(api)
    wrong = await api.error(REDEEM_IN, {"c": code, "t": device["token"], "a": other.id})
    assert wrong["extensions"]["code"] == "BAD_USER_INPUT"
    assert wrong["message"] == "this access code is wrong, expired or already used"
    assert (await AccessCode.select().first())["redeemed_at"] is None
    assert await DeviceAccessGrant.count() == 0
    data = await api.ok(REDEEM_IN, {"c": code, "t": device["token"], "a": app.id})
    assert data["redeemAccessCode"] == [{"id": vip["id"], "name": "vip"}]
    # Without appId (a person typing only the digits) the lookup spans every app.
    theirs = (await f.access_code(api, other, ["theirs"]))["code"]
    data = await api.ok(REDEEM_IN, {"c": theirs, "t": device["token"], "a": None})
    assert [c["name"] for c in data["redeemAccessCode"]] == ["theirs"]


async def test_a_bad_or_unknown_app_id_is_refused_before_any_code(api, shop):
    app, *_ = shop
    code = (await f.access_code(api, app, ["vip"]))["code"]
    device = await f.make_expo_device(api)
    for bad in ("abc", "-1", "0", "9" * 25):
        assert await api.code(REDEEM_IN, {"c": code, "t": device["token"], "a": bad}) == "BAD_USER_INPUT"
    assert await api.code(REDEEM_IN, {"c": code, "t": device["token"], "a": "987654"}) == "NOT_FOUND"
    assert (await AccessCode.select().first())["redeemed_at"] is None


async def test_every_aliased_attempt_in_one_request_counts(api, shop):
    """Six aliased redeems in one request: each runs the throttle, so the sixth is refused even
    though the first five were good codes (every attempt counts, not every request)."""
    app, *_ = shop
    codes = [(await f.access_code(api, app, ["vip"]))["code"] for _ in range(6)]
    device = await f.make_expo_device(api)
    aliases = " ".join(
        f'a{i}: redeemAccessCode(code: "{c}", deviceToken: $t) {{ name }}'
        for i, c in enumerate(codes)
    )
    body = await api.raw(f"mutation($t: String!) {{ {aliases} }}", {"t": device["token"]})
    assert error_codes(body) == {"a5": "RATE_LIMITED"}
    assert 1 <= body["errors"][0]["extensions"]["retryAfter"] <= 600
    redeemed = await AccessCode.count().where(AccessCode.redeemed_at.is_not_null())
    assert redeemed == 5
    assert await AccessCode.count().where(AccessCode.redeemed_at.is_null()) == 1


async def test_an_aliased_guessing_request_stops_at_the_first_wrong_code(api, shop):
    """Mutations run one after another and a refused redeem aborts the rest of the request, so
    a request full of guesses is worth exactly one guess; the remaining ones are not tried."""
    app, *_ = shop
    code = await f.access_code(api, app, ["vip"])
    device = await f.make_expo_device(api)
    guesses = [_wrong(code["code"], i) for i in range(20)] + [code["code"]]
    aliases = " ".join(
        f'a{i}: redeemAccessCode(code: "{c}", deviceToken: $t) {{ id }}'
        for i, c in enumerate(guesses)
    )
    body = await api.raw(f"mutation($t: String!) {{ {aliases} }}", {"t": device["token"]})
    assert body["data"] is None
    assert error_codes(body) == {"a0": "BAD_USER_INPUT"}
    assert (await AccessCode.select().first())["redeemed_at"] is None
    assert await DeviceAccessGrant.count() == 0
    # Four more single guesses are allowed (five in all), then the device is throttled.
    for i in range(4):
        assert await api.code(REDEEM, {"c": guesses[i], "t": device["token"]}) == "BAD_USER_INPUT"
    assert await api.code(REDEEM, {"c": code["code"], "t": device["token"]}) == "RATE_LIMITED"


async def test_limits_are_reset_by_the_window(api, shop, settings):
    """A short window shows the throttle is a window, not a ban."""
    import asyncio
    import time

    app, *_ = shop
    # Long enough for the six requests on a loaded machine (with 1 s, in CI beside two other test
    # processes, the window slid past the first wrong guesses before the sixth request).
    settings.redeem_window = 4
    code = await f.access_code(api, app, ["vip"])
    device = await f.make_expo_device(api)
    first = time.monotonic()
    for i in range(5):
        await api.error(REDEEM, {"c": _wrong(code["code"], i), "t": device["token"]})
    assert await api.code(REDEEM, {"c": code["code"], "t": device["token"]}) == "RATE_LIMITED"
    await asyncio.sleep(max(0.0, first + 4.1 - time.monotonic()))
    await api.ok(REDEEM, {"c": code["code"], "t": device["token"]})
    assert await DeviceAccessGrant.count() == 1
