"""Every way a device comes to belong to a person, and every refusal (nothing written then)."""

from __future__ import annotations

from api.apps.tables import App
from api.people.tables import PersonDevice
from tests.api.conftest import expo_token, row_counts
from tests.people.support import (
    IDENTIFY,
    PERSON,
    REGISTER,
    SECRET,
    identify,
    identity_secret,
    person,
    sign,
)
from tests.support import factories as f


async def test_an_access_code_with_an_identifier_links_the_device(api):
    app = await f.make_app(api)
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    code = await f.access_code(api, app, ["vip"], identifier="user-42")
    device = await f.make_expo_device(api)
    await api.ok("mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
                 {"c": code["code"], "t": device["token"]})
    found = await person(api, app, "user-42")
    assert found["identifier"] == "user-42"
    assert [d["id"] for d in found["devices"]] == [device["id"]]
    assert found["devices"][0]["identifier"] == "user-42"


async def test_the_apps_server_registers_a_device_for_a_person_with_its_key(api):
    app = await f.make_app(api)
    data = await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identifier": "user-42"}},
                        api_key=app.api_key)
    device = data["registerDevice"]["device"]
    assert device["identifier"] is None  # answered to the device, which sees no app's person
    assert [d["id"] for d in (await person(api, app, "user-42"))["devices"]] == [device["id"]]


async def test_an_identifier_without_the_apps_key_is_refused_and_nothing_is_written(api):
    app = await f.make_app(api)
    variables = {"i": {"platform": "EXPO", "token": expo_token(), "identifier": "user-42"}}
    before = await row_counts()
    assert await api.code(REGISTER, variables) == "UNAUTHENTICATED"
    assert await api.code(REGISTER, variables, token=app.owner.token) == "FORBIDDEN"
    assert await row_counts() == before


async def test_identify_device_links_relinks_and_unlinks(api):
    app = await f.make_app(api)
    device = await f.make_expo_device(api)
    channel = await f.make_channel(api, app)
    await f.subscribe(api, device, channel)  # the app knows the device through its channel
    assert (await identify(api, app, device, "alice"))["identifier"] == "alice"
    # One person per app per device: naming another person moves the device.
    assert (await identify(api, app, device, "bob"))["identifier"] == "bob"
    assert (await person(api, app, "alice"))["devices"] == []
    assert [d["id"] for d in (await person(api, app, "bob"))["devices"]] == [device["id"]]
    assert (await identify(api, app, device, None))["identifier"] is None
    assert (await person(api, app, "bob"))["devices"] == []
    # The owner does the same with appId.
    data = await api.ok(IDENTIFY, {"d": device["id"], "p": "carol", "a": app.id}, token=app.owner.token)
    assert data["identifyDevice"]["identifier"] == "carol"


async def test_a_device_belongs_to_persons_of_several_apps_each_seeing_only_its_own(api):
    shop, bank = await f.make_app(api, name="shop"), await f.make_app(api, name="bank")
    device = await f.make_expo_device(api)
    for app in (shop, bank):
        await f.subscribe(api, device, await f.make_channel(api, app))
    await identify(api, shop, device, "shopper-1")
    await identify(api, bank, device, "client-9")
    assert (await person(api, shop, "shopper-1"))["devices"][0]["identifier"] == "shopper-1"
    assert (await person(api, bank, "client-9"))["devices"][0]["identifier"] == "client-9"
    assert await person(api, shop, "client-9") is None
    assert sorted((r["app"], r["device"]) for r in await PersonDevice.select()) == sorted(
        [(int(shop.id), int(device["id"])), (int(bank.id), int(device["id"]))]
    )


async def test_identify_device_refuses_another_apps_device_and_another_apps_key(api):
    app, other = await f.make_app(api), await f.make_app(api)
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, await f.make_channel(api, app))
    before = await row_counts()
    assert await api.code(IDENTIFY, {"d": device["id"], "p": "x"}, api_key=other.api_key) == "NOT_FOUND"
    # The owner of another app cannot name this app either.
    assert await api.code(IDENTIFY, {"d": device["id"], "p": "x", "a": app.id},
                          token=other.owner.token) == "NOT_FOUND"
    assert await api.code(IDENTIFY, {"d": device["id"], "p": "x"}) == "UNAUTHENTICATED"
    assert await api.code(IDENTIFY, {"d": device["id"], "p": "x" * 129}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert await row_counts() == before


async def test_a_device_presents_an_identity_signed_by_the_apps_server(api):
    app = await f.make_app(api)
    secret = await identity_secret(api, app)
    identity = {"appId": app.id, "identifier": "user-42", "signature": sign(secret, "user-42")}
    data = await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identity": identity}})
    device = data["registerDevice"]["device"]
    assert [d["id"] for d in (await person(api, app, "user-42"))["devices"]] == [device["id"]]


async def test_identity_refusals_write_nothing(api):
    app, other = await f.make_app(api), await f.make_app(api)
    secret, other_secret = await identity_secret(api, app), await identity_secret(api, other)
    cases = [
        {"appId": app.id, "identifier": "user-42", "signature": sign(secret, "user-43")},  # wrong signature
        {"appId": app.id, "identifier": "user-42", "signature": sign(other_secret, "user-42")},  # other app's
        {"appId": "999999", "identifier": "user-42", "signature": sign(secret, "user-42")},  # no such app
        {"appId": app.id, "identifier": "user-42", "signature": "zz"},
    ]
    before = await row_counts()
    for identity in cases:
        error = await api.error(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identity": identity}})
        assert error["extensions"]["code"] == "FORBIDDEN", identity
    both = {"platform": "EXPO", "token": expo_token(), "identifier": "a",
            "identity": {"appId": app.id, "identifier": "a", "signature": sign(secret, "a")}}
    assert await api.code(REGISTER, {"i": both}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert await row_counts() == before


async def test_rotating_the_identity_secret_ends_old_signatures(api):
    app = await f.make_app(api)
    old = await identity_secret(api, app)
    rotated = await api.ok("mutation($a: ID!) { rotateIdentitySecret(appId: $a) { identitySecret } }",
                           {"a": app.id}, token=app.owner.token)
    new = rotated["rotateIdentitySecret"]["identitySecret"]
    assert new != old and new == await identity_secret(api, app)
    stale = {"appId": app.id, "identifier": "u", "signature": sign(old, "u")}
    assert await api.code(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identity": stale}}) == (
        "FORBIDDEN"
    )
    fresh = {"appId": app.id, "identifier": "u", "signature": sign(new, "u")}
    await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identity": fresh}})


async def test_after_rotation_an_old_signature_links_no_device_and_earlier_links_stay(api):
    """Rotation ends old signatures for every device, new or already registered (its refresh with
    the old identity is refused whole, nothing written); devices linked before it stay linked
    (SECURITY.md: the app unlinks them with identifyDevice(..., null) if it must)."""
    app = await f.make_app(api)
    old = await identity_secret(api, app)
    signed = {"appId": app.id, "identifier": "user-42", "signature": sign(old, "user-42")}
    token = expo_token()
    linked = (await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": token, "identity": signed}}))
    linked_id = linked["registerDevice"]["device"]["id"]
    unlinked = await f.make_expo_device(api)
    await api.ok("mutation($a: ID!) { rotateIdentitySecret(appId: $a) { id } }", {"a": app.id}, token=app.owner.token)

    before = await row_counts()
    for device_token in (token, unlinked["token"], expo_token()):  # linked, registered, new
        stale = {"platform": "EXPO", "token": device_token, "identity": signed}
        assert await api.code(REGISTER, {"i": stale}) == "FORBIDDEN", device_token
    other = {**signed, "identifier": "user-43", "signature": sign(old, "user-43")}
    assert await api.code(REGISTER, {"i": {"platform": "EXPO", "token": unlinked["token"], "identity": other}}) == (
        "FORBIDDEN"
    )
    assert await row_counts() == before
    assert [d["id"] for d in (await person(api, app, "user-42"))["devices"]] == [linked_id]
    assert await person(api, app, "user-43") is None


async def test_the_identity_secret_is_the_owners_and_sealed_at_rest(api):
    app = await f.make_app(api)
    secret = await identity_secret(api, app)
    assert await api.code(SECRET, {"a": app.id}, api_key=app.api_key) == "FORBIDDEN"
    stored = (await App.select(App.identity_secret).where(App.id == int(app.id)).first())["identity_secret"]
    assert stored.startswith("enc:v1:") and secret not in stored
    assert await api.code("mutation($a: ID!) { rotateIdentitySecret(appId: $a) { id } }", {"a": app.id},
                          api_key=app.api_key) == "FORBIDDEN"


async def test_people_are_paged_and_searched_by_prefix(api):
    app = await f.make_app(api)
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, await f.make_channel(api, app))
    for name in ("ann", "anna", "bob", "a%n_x"):
        await identify(api, app, device, name)
    query = ("query($a: ID!, $s: String, $c: String) { people(appId: $a, search: $s, first: 1, after: $c)"
             " { nodes { identifier } pageInfo { endCursor hasNextPage } } }")
    first = (await api.ok(query, {"a": app.id, "s": "an"}, api_key=app.api_key))["people"]
    assert [n["identifier"] for n in first["nodes"]] == ["anna"] and first["pageInfo"]["hasNextPage"]
    second = (await api.ok(query, {"a": app.id, "s": "an", "c": first["pageInfo"]["endCursor"]},
                           api_key=app.api_key))["people"]
    assert [n["identifier"] for n in second["nodes"]] == ["ann"] and not second["pageInfo"]["hasNextPage"]
    # Wildcards are characters like any other: "a%" finds only what starts with those two.
    found = (await api.ok(query, {"a": app.id, "s": "a%"}, api_key=app.api_key))["people"]["nodes"]
    assert [n["identifier"] for n in found] == ["a%n_x"]
    assert await api.code(query, {"a": app.id}, api_key=(await f.make_app(api)).api_key) == "NOT_FOUND"
    assert await api.code(PERSON, {"a": app.id, "p": "ann"}) == "UNAUTHENTICATED"


async def test_a_signed_identity_links_again_after_erasure_until_the_secret_rotates(api):
    """As SECURITY.md says: a signature does not expire, so erasure does not stop a device that
    still presents it; rotating the secret does."""
    app = await f.make_app(api)
    signed = {"appId": app.id, "identifier": "gone", "signature": sign(await identity_secret(api, app), "gone")}
    token = expo_token()
    await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": token, "identity": signed}})
    await api.ok("mutation($a: ID!) { erasePerson(appId: $a, identifier: \"gone\") }", {"a": app.id},
                 api_key=app.api_key)
    assert await person(api, app, "gone") is None
    await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": token, "identity": signed}})
    assert await person(api, app, "gone") is not None
    await api.ok("mutation($a: ID!) { erasePerson(appId: $a, identifier: \"gone\") }", {"a": app.id},
                 api_key=app.api_key)
    await api.ok("mutation($a: ID!) { rotateIdentitySecret(appId: $a) { id } }", {"a": app.id}, token=app.owner.token)
    assert await api.code(REGISTER, {"i": {"platform": "EXPO", "token": token, "identity": signed}}) == "FORBIDDEN"
    assert await person(api, app, "gone") is None
