"""Each app's own provider credentials: validated, sealed at rest, never returned.

FCM and APNs tokens belong to one app's Firebase project or bundle, so sending to them needs
that app's service account or key; an Expo access token is optional per app. An app that set
nothing is sent with the server's global settings (BOOPER_EXPO_ACCESS_TOKEN, ...).

Only the owner sets them (a leaked API key must not let someone swap the key an app pushes
with). What App.providers shows is the non-secret part: project id, key id, topic.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import orjson
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from api import secrets_at_rest
from api.apps.tables import AppCredentials
from api.errors import BadUserInput

PURPOSE = "provider-credentials"
_APPLE_ID = re.compile(r"^[A-Z0-9]{10}$")  # key ids and team ids: 10 characters
_TOPIC = re.compile(r"^[A-Za-z0-9.\-]{1,200}(\.voip|\.complication|\.pushkit\.fileprovider)?$")
MAX_SECRET = 16_384


@dataclass(frozen=True)
class FcmServiceAccount:
    project_id: str
    client_email: str
    private_key: str  # PEM (RSA)


@dataclass(frozen=True)
class ApnsKey:
    key_id: str
    team_id: str
    private_key: str  # PEM (EC P-256)
    topic: str
    production: bool


@dataclass(frozen=True)
class AppProviderCredentials:
    """What a sender needs of one app: None where the app set nothing (then: global settings)."""

    expo_access_token: str | None = None
    fcm: FcmServiceAccount | None = None
    apns: ApnsKey | None = None
    unreadable: bool = False  # sealed under another secret key: set them again


def _seal(app_id: int, field: str, value: str, secret_key: str) -> str:
    return secrets_at_rest.seal(value, secret_key, purpose=PURPOSE, context=f"app:{app_id}:{field}")


def _unseal(app_id: int, field: str, value: str, secret_key: str) -> str:
    return secrets_at_rest.unseal(value, secret_key, purpose=PURPOSE, context=f"app:{app_id}:{field}")


def _private_key(pem: str, what: str):
    if len(pem) > MAX_SECRET:
        raise BadUserInput(f"{what}: too long")
    try:
        return load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise BadUserInput(f"{what}: not a PEM private key without a password") from exc


def parse_service_account(raw: str) -> FcmServiceAccount:
    """The Firebase service account key file (JSON), with an RSA private key."""
    if len(raw) > MAX_SECRET:
        raise BadUserInput("serviceAccountJson: too long")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadUserInput("serviceAccountJson: not JSON (paste the key file's whole content)") from exc
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise BadUserInput('serviceAccountJson: not a service account key file (type "service_account")')
    fields = {k: data.get(k) for k in ("project_id", "client_email", "private_key")}
    missing = [k for k, v in fields.items() if not isinstance(v, str) or not v.strip()]
    if missing:
        raise BadUserInput(f"serviceAccountJson: missing {', '.join(missing)}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9\-]{2,127}", fields["project_id"]):
        raise BadUserInput("serviceAccountJson: project_id is not a Firebase project id")
    if not isinstance(_private_key(fields["private_key"], "serviceAccountJson.private_key"), rsa.RSAPrivateKey):
        raise BadUserInput("serviceAccountJson: private_key is not an RSA key")
    return FcmServiceAccount(fields["project_id"], fields["client_email"], fields["private_key"])


def parse_apns_key(key_id: str, team_id: str, private_key: str, topic: str, production: bool) -> ApnsKey:
    if not _APPLE_ID.match(key_id):
        raise BadUserInput("keyId: 10 letters or digits, as shown with the key in Apple's developer account")
    if not _APPLE_ID.match(team_id):
        raise BadUserInput("teamId: 10 letters or digits")
    if not _TOPIC.match(topic):
        raise BadUserInput("topic: the app's bundle id, such as com.example.app")
    key = _private_key(private_key, "privateKey")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise BadUserInput("privateKey: not an APNs .p8 key (an EC P-256 key)")
    return ApnsKey(key_id, team_id, private_key.strip(), topic, production)


def check_expo_token(token: str) -> str:
    token = token.strip()
    if not token or len(token) > 256 or not token.isprintable() or " " in token:
        raise BadUserInput("token: an Expo access token (1-256 characters, no spaces)")
    return token


async def _save(app_id: int, values: dict) -> None:
    """Upsert the app's row with these columns (the others unchanged)."""
    now = dt.datetime.now(dt.UTC)
    values = {**values, AppCredentials.updated_at: now}
    updated = await AppCredentials.update(values).where(AppCredentials.app == app_id).returning(AppCredentials.id)
    if not updated:
        await AppCredentials.insert(AppCredentials(app=app_id, **{c._meta.name: v for c, v in values.items()}))


async def set_expo_token(app_id: int, token: str | None, secret_key: str) -> None:
    sealed = _seal(app_id, "expo", check_expo_token(token), secret_key) if token is not None else None
    await _save(app_id, {AppCredentials.expo_access_token: sealed})


async def set_fcm(app_id: int, service_account_json: str | None, secret_key: str) -> None:
    account = parse_service_account(service_account_json) if service_account_json is not None else None
    await _save(app_id, {
        AppCredentials.fcm_service_account: _seal(app_id, "fcm", service_account_json, secret_key) if account else None,
        AppCredentials.fcm_project_id: account.project_id if account else None,
    })


async def set_apns(app_id: int, key: ApnsKey | None, secret_key: str) -> None:
    await _save(app_id, {
        AppCredentials.apns_private_key: _seal(app_id, "apns", key.private_key, secret_key) if key else None,
        AppCredentials.apns_key_id: key.key_id if key else None,
        AppCredentials.apns_team_id: key.team_id if key else None,
        AppCredentials.apns_topic: key.topic if key else None,
        AppCredentials.apns_production: key.production if key else None,
    })


async def settings_of_apps(app_ids: list[int]) -> list[dict]:
    """What is set, per app (DataLoader order): no secret leaves this function."""
    rows = await AppCredentials.select(
        AppCredentials.app, AppCredentials.expo_access_token, AppCredentials.fcm_project_id,
        AppCredentials.apns_key_id, AppCredentials.apns_topic, AppCredentials.apns_production,
    ).where(AppCredentials.app.is_in(app_ids or [0]))
    by_app = {r["app"]: r for r in rows}
    return [
        {
            "expo_access_token": bool(by_app.get(a, {}).get("expo_access_token")),
            "fcm_project_id": by_app.get(a, {}).get("fcm_project_id"),
            "apns_key_id": by_app.get(a, {}).get("apns_key_id"),
            "apns_topic": by_app.get(a, {}).get("apns_topic"),
            "apns_production": by_app.get(a, {}).get("apns_production"),
        }
        for a in app_ids
    ]


async def credentials_of_apps(app_ids: set[int], secret_key: str) -> dict[int, AppProviderCredentials]:
    """For senders: every app's opened credentials, one statement per batch. A value that does not
    open (the secret key changed) counts as not set, and is logged by the caller's failure."""
    if not app_ids:
        return {}
    rows = await AppCredentials.select().where(AppCredentials.app.is_in(list(app_ids)))
    out: dict[int, AppProviderCredentials] = {}
    for r in rows:
        try:
            out[r["app"]] = _opened(tuple(r[c] for c in _SEALED_ROW), secret_key)
        except secrets_at_rest.SealError:
            out[r["app"]] = AppProviderCredentials(unreadable=True)
    return out


_SEALED_ROW = ("app", "expo_access_token", "fcm_service_account", "apns_private_key", "apns_key_id", "apns_team_id",
               "apns_topic", "apns_production")


@lru_cache(maxsize=1024)
def _opened(values: tuple, secret_key: str) -> AppProviderCredentials:
    """Opened once per stored value (a send batch would otherwise decrypt and parse keys again);
    new values (set again, removed) are new cache keys."""
    r = dict(zip(_SEALED_ROW, values, strict=True))
    app = r["app"]
    expo = _unseal(app, "expo", r["expo_access_token"], secret_key) if r["expo_access_token"] else None
    fcm = parse_service_account(_unseal(app, "fcm", r["fcm_service_account"], secret_key)) \
        if r["fcm_service_account"] else None
    apns = ApnsKey(r["apns_key_id"], r["apns_team_id"], _unseal(app, "apns", r["apns_private_key"], secret_key),
                   r["apns_topic"], bool(r["apns_production"])) if r["apns_private_key"] else None
    return AppProviderCredentials(expo, fcm, apns)
