"""An app's access codes as its owner lists them later (Query.accessCodes): newest first, with
their state; the codes themselves are not kept (only an HMAC), so none can be shown again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api.access_codes.tables import AccessCode, AccessCodeChannel
from api.channels.tables import Channel
from api.devices.keys import token_hint
from api.devices.tables import Device

LISTED = (
    AccessCode.id, AccessCode.app, AccessCode.code_hint, AccessCode.identifier, AccessCode.created_at,
    AccessCode.expires_at, AccessCode.redeemed_at, AccessCode.redeemed_by,
)


def state(row: dict, now: dt.datetime) -> str:
    if row["redeemed_at"] is not None:
        return "USED"
    expires = row["expires_at"]
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    return "VALID" if expires > now else "EXPIRED"


async def page(app_id: int, first: int, before_id: int | None) -> list[dict]:
    """One page of the app's codes, newest first (first + 1 rows: the last says there is more)."""
    query = AccessCode.select(*LISTED).where(AccessCode.app == app_id)
    if before_id is not None:
        query = query.where(AccessCode.id < before_id)
    return await query.order_by(AccessCode.id, ascending=False).limit(first + 1)


async def channels_of_codes(code_ids: Sequence[int]) -> list[list[dict]]:
    """Each code's channels, by name: one statement for a page of codes."""
    links = await AccessCodeChannel.select(AccessCodeChannel.access_code, AccessCodeChannel.channel).where(
        AccessCodeChannel.access_code.is_in(list(code_ids))
    )
    channel_ids = list({r["channel"] for r in links})
    channels = {r["id"]: r for r in await Channel.select().where(Channel.id.is_in(channel_ids))} if channel_ids else {}
    by_code: dict[int, list[dict]] = {cid: [] for cid in code_ids}
    for link in links:
        channel = channels.get(link["channel"])
        if channel is not None:
            by_code[link["access_code"]].append(channel)
    return [sorted(by_code[cid], key=lambda c: c["name"]) for cid in code_ids]


async def token_hints(device_ids: Sequence[int]) -> list[str | None]:
    rows = await Device.select(Device.id, Device.token).where(Device.id.is_in(list(device_ids)))
    hints = {r["id"]: token_hint(r["token"]) for r in rows}
    return [hints.get(d) for d in device_ids]
