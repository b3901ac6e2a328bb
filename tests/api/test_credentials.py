"""Per-app provider credentials: set by the owner, validated, sealed at rest, never returned."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.apps.tables import AppCredentials
from tests.support import factories as f

PROVIDERS = "query($a: ID!) { app(id: $a) { providers { expoAccessToken fcmProjectId apnsKeyId apnsTopic apnsProduction } } }"
SET_FCM = "mutation($a: ID!, $i: FcmCredentialsInput) { setFcmCredentials(appId: $a, input: $i) { id } }"
SET_APNS = "mutation($a: ID!, $i: ApnsCredentialsInput) { setApnsCredentials(appId: $a, input: $i) { id } }"
SET_EXPO = "mutation($a: ID!, $t: String) { setExpoAccessToken(appId: $a, token: $t) { providers { expoAccessToken } } }"


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def apns_input(**overrides) -> dict:
    base = {"keyId": "ABCDE12345", "teamId": "TEAM123456", "privateKey": _pem(ec.generate_private_key(ec.SECP256R1())),
            "topic": "com.example.app", "production": True}
    return {**base, **overrides}


async def providers(api, app) -> dict:
    return (await api.ok(PROVIDERS, {"a": app.id}, token=app.owner.token))["app"]["providers"]


async def test_nothing_is_set_at_first(api):
    app = await f.make_app(api)
    assert await providers(api, app) == {"expoAccessToken": False, "fcmProjectId": None, "apnsKeyId": None,
                                         "apnsTopic": None, "apnsProduction": None}


async def test_set_shows_what_is_configured_and_never_the_secrets(api, sandbox):
    app = await f.make_app(api)
    account = sandbox.issue_service_account("my-project")
    key = apns_input()
    await api.ok(SET_FCM, {"a": app.id, "i": {"serviceAccountJson": json.dumps(account)}}, token=app.owner.token)
    await api.ok(SET_APNS, {"a": app.id, "i": key}, token=app.owner.token)
    await api.ok(SET_EXPO, {"a": app.id, "t": "expo-secret-token"}, token=app.owner.token)
    assert await providers(api, app) == {"expoAccessToken": True, "fcmProjectId": "my-project",
                                         "apnsKeyId": "ABCDE12345", "apnsTopic": "com.example.app",
                                         "apnsProduction": True}
    # Sealed at rest: the row holds no secret in the clear.
    (row,) = await AppCredentials.select()
    for column in ("expo_access_token", "fcm_service_account", "apns_private_key"):
        assert row[column].startswith("enc:v1:"), column
    stored = json.dumps(row, default=str)
    for secret in ("expo-secret-token", account["private_key"][40:80], key["privateKey"][40:80], account["client_email"]):
        assert secret not in stored


async def test_null_removes_each_credential(api, sandbox):
    app = await f.make_app(api)
    await f.set_fcm(api, app, sandbox.issue_service_account("gone-project"))
    await api.ok(SET_APNS, {"a": app.id, "i": apns_input()}, token=app.owner.token)
    await api.ok(SET_EXPO, {"a": app.id, "t": "tok"}, token=app.owner.token)
    await api.ok(SET_FCM, {"a": app.id, "i": None}, token=app.owner.token)
    await api.ok(SET_APNS, {"a": app.id, "i": None}, token=app.owner.token)
    data = await api.ok(SET_EXPO, {"a": app.id, "t": None}, token=app.owner.token)
    assert data["setExpoAccessToken"]["providers"] == {"expoAccessToken": False}
    assert await providers(api, app) == {"expoAccessToken": False, "fcmProjectId": None, "apnsKeyId": None,
                                         "apnsTopic": None, "apnsProduction": None}
    (row,) = await AppCredentials.select()
    assert row["fcm_service_account"] is None and row["apns_private_key"] is None and row["expo_access_token"] is None


def _account(**overrides) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    base = {"type": "service_account", "project_id": "p-1234", "client_email": "a@p-1234.iam.gserviceaccount.com",
            "private_key": _pem(key)}
    return json.dumps({k: v for k, v in {**base, **overrides}.items() if v is not None})


@pytest.mark.parametrize(("raw", "says"), [
    ("{not json", "not JSON"),
    (json.dumps({"type": "authorized_user"}), "not a service account"),
    (_account(private_key=None), "missing private_key"),
    (_account(project_id="Bad Project!"), "project_id"),
    (_account(private_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"), "not a PEM"),
    (_account(private_key=_pem(ec.generate_private_key(ec.SECP256R1()))), "not an RSA key"),
])
async def test_a_bad_service_account_is_refused_and_nothing_is_written(api, raw, says):
    app = await f.make_app(api)
    error = await api.error(SET_FCM, {"a": app.id, "i": {"serviceAccountJson": raw}}, token=app.owner.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]
    assert await AppCredentials.count() == 0


@pytest.mark.parametrize(("overrides", "says"), [
    ({"keyId": "short"}, "keyId"),
    ({"teamId": "team-with-dash"}, "teamId"),
    ({"topic": "not a bundle id"}, "topic"),
    ({"privateKey": "garbage"}, "not a PEM"),
    ({"privateKey": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))}, "not an APNs .p8 key"),
    ({"privateKey": _pem(ec.generate_private_key(ec.SECP384R1()))}, "not an APNs .p8 key"),
])
async def test_a_bad_apns_key_is_refused_and_nothing_is_written(api, overrides, says):
    app = await f.make_app(api)
    error = await api.error(SET_APNS, {"a": app.id, "i": apns_input(**overrides)}, token=app.owner.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]
    assert await AppCredentials.count() == 0


async def test_a_bad_expo_token_is_refused(api):
    app = await f.make_app(api)
    error = await api.error(SET_EXPO, {"a": app.id, "t": "has spaces in it"}, token=app.owner.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await AppCredentials.count() == 0


async def test_another_owners_app_is_not_found_and_untouched(api, sandbox):
    app = await f.make_app(api)
    stranger = await f.make_user(api)
    error = await api.error(SET_EXPO, {"a": app.id, "t": "mine now"}, token=stranger.token)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await AppCredentials.count() == 0


async def test_credentials_go_with_their_app(api, sandbox):
    """Sealed values are bound to their app: one copied into another app's row does not open."""
    from api.apps import credentials
    from api.runtime import get_runtime

    a, b = await f.make_app(api), await f.make_app(api)
    await api.ok(SET_EXPO, {"a": a.id, "t": "token-of-a"}, token=a.owner.token)
    await api.ok(SET_EXPO, {"a": b.id, "t": "token-of-b"}, token=b.owner.token)
    key = get_runtime().secret_key
    opened = await credentials.credentials_of_apps({int(a.id), int(b.id)}, key)
    assert opened[int(a.id)].expo_access_token == "token-of-a"
    assert opened[int(b.id)].expo_access_token == "token-of-b"
    row_a = await AppCredentials.select().where(AppCredentials.app == int(a.id)).first()
    await AppCredentials.update({AppCredentials.expo_access_token: row_a["expo_access_token"]}).where(
        AppCredentials.app == int(b.id))
    moved = await credentials.credentials_of_apps({int(b.id)}, key)
    assert moved[int(b.id)].unreadable and moved[int(b.id)].expo_access_token is None


async def test_an_omitted_argument_removes_like_null(api, sandbox):
    """Found by the fuzz test: omitting the nullable argument was an internal error."""
    app = await f.make_app(api)
    await f.set_fcm(api, app, sandbox.issue_service_account("omitted-project"))
    await api.ok(SET_APNS, {"a": app.id, "i": apns_input()}, token=app.owner.token)
    await api.ok(SET_EXPO, {"a": app.id, "t": "tok"}, token=app.owner.token)
    for mutation in ("setFcmCredentials", "setApnsCredentials", "setExpoAccessToken"):
        await api.ok(f"mutation($a: ID!) {{ {mutation}(appId: $a) {{ id }} }}", {"a": app.id}, token=app.owner.token)
    assert await providers(api, app) == {"expoAccessToken": False, "fcmProjectId": None, "apnsKeyId": None,
                                         "apnsTopic": None, "apnsProduction": None}
