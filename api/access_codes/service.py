"""Create and redeem access codes.

A code is 6 digits, so it is guessable in principle; what makes it safe is that it
expires (5 minutes by default, 24 h at most), works once, and that redeeming is
throttled per device token and per client IP (5 attempts per 10 minutes each).
"""

from __future__ import annotations

import datetime as dt

from api import db
from api.access_codes.tables import AccessCode, AccessCodeChannel
from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from api.errors import BadUserInput, Conflict
from api.security import hash_access_code, new_access_code
from api.webhooks import events as webhook_events

MAX_LIFETIME = dt.timedelta(hours=24)
MAX_CHANNELS = 50
WRONG_CODE = "this access code is wrong, expired or already used"


def expiry(expires_at: dt.datetime | None, default_ttl: int, now: dt.datetime) -> dt.datetime:
    if expires_at is None:
        return now + dt.timedelta(seconds=default_ttl)
    if expires_at <= now:
        raise BadUserInput("expiresAt must be in the future")
    if expires_at - now > MAX_LIFETIME:
        raise BadUserInput("expiresAt may be at most 24 hours from now")
    return expires_at


async def create(
    app_id: int, channel_ids: list[int], identifier: str | None, expires_at: dt.datetime, secret: str
) -> tuple[str, dict]:
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        for _ in range(20):
            code = new_access_code()
            code_hash = hash_access_code(code, secret)
            # Two live codes must never share digits, or redeeming one would pick either.
            clash = await AccessCode.exists().where(
                (AccessCode.code_hash == code_hash)
                & AccessCode.redeemed_at.is_null()
                & (AccessCode.expires_at > now)
            )
            if not clash:
                break
        else:
            raise Conflict("could not allocate an unused access code; try again")
        row = (
            await AccessCode.insert(
                AccessCode(app=app_id, code_hash=code_hash, identifier=identifier, expires_at=expires_at)
            ).returning(*AccessCode.all_columns())
        )[0]
        await AccessCodeChannel.insert(
            *[AccessCodeChannel(access_code=row["id"], channel=cid) for cid in channel_ids]
        )
    return code, row


async def redeem(code: str, device: dict, secret: str) -> list[dict]:
    """Grant the device the code's channels and subscribe it; one transaction, single use."""
    if not (len(code) == 6 and code.isdigit()):
        raise BadUserInput(WRONG_CODE)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        # The conditional update is the single-use guarantee: of two concurrent
        # redeems, exactly one sees redeemed_at IS NULL.
        claimed = await AccessCode.update(
            {AccessCode.redeemed_at: now, AccessCode.redeemed_by: device["id"]}
        ).where(
            (AccessCode.code_hash == hash_access_code(code, secret))
            & AccessCode.redeemed_at.is_null()
            & (AccessCode.expires_at > now)
        ).returning(AccessCode.id, AccessCode.app, AccessCode.identifier)
        if not claimed:
            raise BadUserInput(WRONG_CODE)
        access_code = claimed[0]
        channels = await Channel.select().where(
            Channel.id.is_in(
                AccessCodeChannel.select(AccessCodeChannel.channel).where(
                    AccessCodeChannel.access_code == access_code["id"]
                )
            )
        ).order_by(Channel.id)
        identifier = access_code["identifier"]
        added = 0
        for channel in channels:
            await DeviceAccessGrant.insert(
                DeviceAccessGrant(
                    device=device["id"], app=access_code["app"], channel=channel["id"], identifier=identifier
                )
            ).on_conflict(
                target=(DeviceAccessGrant.device, DeviceAccessGrant.channel),
                action="DO UPDATE",
                values=[(DeviceAccessGrant.identifier, identifier)],
            )
            added += len(
                await ChannelSubscription.insert(
                    ChannelSubscription(channel=channel["id"], device=device["id"])
                ).on_conflict(action="DO NOTHING").returning(ChannelSubscription.id)
            )
        if identifier is not None:
            await Device.update({Device.identifier: identifier}).where(Device.id == device["id"])
    await webhook_events.device_joined(device["id"], access_code["app"], added)
    return channels
