"""Proving you hold a push token, for a device that lost its key.

requestDeviceVerification pushes a data-only message with a one-time code to the token: only
the device the push service delivers to can read it (a Web Push payload is encrypted to the
subscription's keys, an Expo push reaches the app holding the token). verifyDevice with that
code rotates the device key: the old key stops working, the device keeps its channels.

Guessing bound: a code has VERIFICATION_DIGITS digits, lives VERIFICATION_TTL seconds and burns
after VERIFICATION_TRIES wrong answers; a token gets at most a few codes an hour (the resolver's
limit), so a day of guessing against one device succeeds with probability at most
tries * codes_per_day / 10**digits (5 * 72 / 1e8 < 4e-6 with the defaults).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging

import orjson

from api.devices.keys import (
    VERIFICATION_TRIES,
    VERIFICATION_TTL,
    hash_verification_code,
    new_device_key,
    new_verification_code,
)
from api.devices.tables import Device
from api.live.guard import access_changed
from api.runtime import Runtime

log = logging.getLogger("booper.devices")
WRONG_CODE = "this verification code is wrong, expired or used up: request a new one"


def verification_message(code: str) -> dict:
    """What the device receives: data only (no alert is shown), recognisable by its type."""
    return {"type": "booper.deviceVerification", "code": code}


async def request(runtime: Runtime, platform: str, token: str) -> None:
    """Push a fresh code to the token's device, if it is registered and active. Says nothing
    either way: the answer must not tell who is registered."""
    device = await Device.select().where((Device.token == token) & (Device.platform == platform)).first()
    if device is None or not device["active"]:
        return
    code = new_verification_code()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=VERIFICATION_TTL)
    await Device.update(
        {
            Device.verification_hash: hash_verification_code(device["id"], code, runtime.secret_key),
            Device.verification_expires_at: expires,
            Device.verification_attempts: 0,
        }
    ).where(Device.id == device["id"])
    await _push(runtime, device, verification_message(code))


async def _push(runtime: Runtime, device: dict, message: dict) -> None:
    from api.delivery.providers import providers
    from api.providers.expo import build_message

    clients = providers(runtime)
    if device["platform"] == "EXPO":
        expo_message = build_message(device["token"], data=message, priority="high", ttl=VERIFICATION_TTL)
        outcomes = await clients.expo.send([expo_message])
        outcome = outcomes[0] if outcomes else None
    elif device["platform"] in ("FCM", "APNS"):
        from api.delivery.native_senders import push_data

        outcome = await push_data(runtime, device, message, VERIFICATION_TTL)
    else:
        outcome = await clients.webpush.send(
            device["token"], device["p256dh"], device["auth"], orjson.dumps(message),
            ttl=VERIFICATION_TTL, urgency="high",
        )
    if outcome is None or not outcome.ok:
        log.info("device verification push to device %s failed: %s", device["id"], getattr(outcome, "failure", None))


async def verify(runtime: Runtime, token: str, code: str) -> tuple[dict, str] | None:
    """The device with a rotated key, or None for a wrong, expired or exhausted code."""
    now = dt.datetime.now(dt.UTC)
    device = await Device.select(Device.id).where(Device.token == token).first()
    if device is None or not code.isdigit():
        return None
    # Every try is spent before it is checked, in one conditional update: a hundred concurrent
    # guesses still get VERIFICATION_TRIES answers between them.
    spent = (
        await Device.update({Device.verification_attempts: Device.verification_attempts + 1})
        .where(
            (Device.id == device["id"])
            & Device.verification_hash.is_not_null()
            & (Device.verification_expires_at > now)
            & (Device.verification_attempts < VERIFICATION_TRIES)
        )
        .returning(Device.verification_hash)
    )
    expected = hash_verification_code(device["id"], code, runtime.secret_key)
    if not spent or not hmac.compare_digest(expected, spent[0]["verification_hash"]):
        return None
    secret, key_hash = new_device_key()
    # Single use: of two concurrent right answers only one still finds the hash it checked.
    rows = (
        await Device.update(
            {
                Device.key_hash: key_hash,
                Device.verification_hash: None,
                Device.verification_expires_at: None,
                Device.verification_attempts: 0,
                Device.last_seen_at: now,
            }
        )
        .where((Device.id == device["id"]) & (Device.verification_hash == expected))
        .returning(*Device.all_columns())
    )
    if not rows:
        return None
    await access_changed(f"device:{device['id']}")  # streams opened with the old key end
    return rows[0], secret
