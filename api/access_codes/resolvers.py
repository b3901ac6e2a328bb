"""Mutation.createAccessCode / redeemAccessCode."""

from __future__ import annotations

import datetime as dt

import strawberry

from api import validation
from api.access_codes import service
from api.access_codes.types import AccessCode, CreateAccessCodeInput
from api.channels.tables import Channel as ChannelTable
from api.channels.types import Channel
from api.errors import BadUserInput, NotFound, Unauthenticated
from api.graphql import permissions as perms
from api.graphql.context import Info


async def _channels_of_app(app_id: int, refs: list[str]) -> list[dict]:
    """Names or ids, all of which must be channels of this app (else NOT_FOUND, nothing written)."""
    if not refs:
        raise BadUserInput("name at least one channel")
    if len(refs) > service.MAX_CHANNELS:
        raise BadUserInput(f"at most {service.MAX_CHANNELS} channels per code")
    rows = await ChannelTable.select().where(ChannelTable.app == app_id)
    by_id = {str(r["id"]): r for r in rows}
    by_name = {r["name"]: r for r in rows}
    found: dict[int, dict] = {}
    for ref in refs:
        row = by_id.get(ref.strip()) or by_name.get(ref.strip())
        if row is None:
            raise NotFound(f"no channel {ref[:64]!r} in this app")
        found[row["id"]] = row
    return list(found.values())


@strawberry.type
class AccessCodesMutation:
    @strawberry.mutation(description="A 6-digit, single-use code granting a device these channels.")
    async def create_access_code(self, info: Info, input: CreateAccessCodeInput) -> AccessCode:
        admin = await perms.implied_app_admin(info, input.app_id)
        if admin is None:
            v = await perms.viewer(info)
            if v.is_anonymous:
                raise Unauthenticated("an API key or a dashboard login is needed")
            raise BadUserInput("pass appId: the app whose channels the code grants")
        app, access = admin
        identifier = validation.optional_text(input.identifier, "identifier", 256)
        runtime = info.context.runtime
        expires_at = service.expiry(
            input.expires_at, runtime.settings.access_code_ttl, dt.datetime.now(dt.UTC)
        )
        channels = await _channels_of_app(app["id"], input.channels)
        code, row = await service.create(
            app["id"], [c["id"] for c in channels], identifier, expires_at, runtime.secret_key
        )
        return AccessCode(
            code=code,
            expires_at=row["expires_at"],
            channels=[Channel(row=c, access=access) for c in channels],
            identifier=identifier,
        )

    @strawberry.mutation(
        description="Redeem a code: the device is granted and subscribed to its channels."
    )
    async def redeem_access_code(self, info: Info, code: str, device_token: str) -> list[Channel]:
        runtime = info.context.runtime
        settings = runtime.settings
        limit = f"{settings.redeem_attempts} per {settings.redeem_window} seconds"
        message = "too many access code attempts; wait before trying again"
        # Every attempt counts, aliased ones included (each alias runs this resolver):
        # guessing 6 digits at 5 tries per 10 minutes per device and per IP is hopeless.
        # The device proves itself first: a token alone cannot spend a victim's attempts.
        device = await perms.authenticated_device(info, device_token)
        await runtime.limiter.hit(limit, "redeem-ip", info.context.client_ip, message=message)
        await runtime.limiter.hit(limit, "redeem-device", str(device["id"]), message=message)
        if not device["active"]:
            raise NotFound("device not registered: call registerDevice first")
        channels = await service.redeem(code.strip(), device, runtime.secret_key)
        access = perms.Access("device", device_id=device["id"])
        return [Channel(row=c, access=access) for c in channels]
