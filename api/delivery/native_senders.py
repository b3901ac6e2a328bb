"""FCM and APNs send tasks: one message per request, many in flight over HTTP/2, sent with the
credentials of the app the device was registered with (RegisterDeviceInput.appId)."""

from __future__ import annotations

import time

import orjson

from api.apps import credentials
from api.delivery import native_payload
from api.delivery.providers import providers
from api.delivery.senders import SendOne, send_individually
from api.providers.apns import ApnsRequest, SigningKey
from api.providers.failures import CredentialsFailure, Outcome
from api.providers.fcm import ServiceAccount
from api.runtime import Runtime

NO_CREDENTIALS = "CredentialsMissing"
UNREADABLE = "CredentialsUnreadable"


async def _credentials_of(runtime: Runtime, devices: dict[int, dict]) -> dict[int, credentials.AppProviderCredentials]:
    apps = {d["app"] for d in devices.values() if d["app"] is not None}
    return await credentials.credentials_of_apps(apps, runtime.secret_key)


def _missing(creds: credentials.AppProviderCredentials | None, what: str) -> Outcome:
    """The app set no (readable) credentials for this transport: its configuration, not the device."""
    if creds is not None and creds.unreadable:
        return Outcome(ok=False, failure=CredentialsFailure(
            UNREADABLE, "sealed under another secret key: set the app's credentials again"))
    return Outcome(ok=False, failure=CredentialsFailure(NO_CREDENTIALS, f"the app has no {what} credentials"))


async def send_fcm(runtime: Runtime, delivery_ids: list[int]) -> None:
    client = providers(runtime).fcm

    async def prepare(devices: dict[int, dict], notes: dict[int, dict]) -> SendOne:
        creds = await _credentials_of(runtime, devices)
        accounts = {app: ServiceAccount(c.fcm.project_id, c.fcm.client_email, c.fcm.private_key)
                    for app, c in creds.items() if c is not None and c.fcm is not None}
        bodies: dict[tuple, tuple[bytes, bytes]] = {}  # per notification variant, around the token

        async def send_one(d: dict, device: dict, n: dict) -> Outcome:
            account = accounts.get(device["app"])
            if account is None:
                return _missing(creds.get(device["app"]), "FCM")
            key = native_payload.variant(n)
            around = bodies.get(key)
            if around is None:
                around = bodies[key] = native_payload.fcm_body_around_token(n)
            return await client.send_body(account, around[0] + orjson.dumps(device["token"]) + around[1])

        return send_one

    await send_individually(runtime, delivery_ids, client.concurrency, prepare)


async def send_apns(runtime: Runtime, delivery_ids: list[int]) -> None:
    client = providers(runtime).apns

    async def prepare(devices: dict[int, dict], notes: dict[int, dict]) -> SendOne:
        creds = await _credentials_of(runtime, devices)
        keys = {app: (SigningKey(c.apns.key_id, c.apns.team_id, c.apns.private_key), c.apns.production, c.apns.topic)
                for app, c in creds.items() if c is not None and c.apns is not None}
        now = time.time()
        requests: dict[tuple, ApnsRequest] = {}  # per notification variant and topic; the token apart

        async def send_one(d: dict, device: dict, n: dict) -> Outcome:
            signing = keys.get(device["app"])
            if signing is None:
                return _missing(creds.get(device["app"]), "APNs")
            key, production, topic = signing
            variant = (*native_payload.variant(n), topic)
            request = requests.get(variant)
            if request is None:
                request = requests[variant] = native_payload.apns_request("", n, topic, now=now)
            return await client.send_to(key, production, request, device["token"])

        return send_one

    await send_individually(runtime, delivery_ids, client.concurrency, prepare)


async def push_data(runtime: Runtime, device: dict, data: dict, ttl: int) -> Outcome:
    """One data-only push outside any notification (device verification codes)."""
    n = {"id": 0, "title": None, "body": None, "data": data, "priority": "HIGH", "ttl": ttl, "collapse_key": None}
    return await push_one(runtime, device, n)


async def push_one(runtime: Runtime, device: dict, n: dict,
                   creds: dict[int, credentials.AppProviderCredentials] | None = None) -> Outcome:
    """One push to an FCM or APNs device outside the ledger (verification codes, the replacement
    of an edited or retracted notification), with its app's credentials (`creds`: looked up once
    for many devices by the caller, else here)."""
    if creds is None:
        creds = await _credentials_of(runtime, {device["id"]: device})
    app_creds = creds.get(device["app"])
    clients = providers(runtime)
    if device["platform"] == "FCM":
        if app_creds is None or app_creds.fcm is None:
            return _missing(app_creds, "FCM")
        fcm = app_creds.fcm
        account = ServiceAccount(fcm.project_id, fcm.client_email, fcm.private_key)
        return await clients.fcm.send(account, native_payload.fcm_message(device["token"], n))
    if app_creds is None or app_creds.apns is None:
        return _missing(app_creds, "APNs")
    key = app_creds.apns
    request = native_payload.apns_request(device["token"], n, key.topic)
    return await clients.apns.send(SigningKey(key.key_id, key.team_id, key.private_key), key.production, request)
