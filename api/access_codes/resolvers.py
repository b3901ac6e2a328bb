"""Mutation.createAccessCode / redeemAccessCode."""

from __future__ import annotations

import datetime as dt

import strawberry

from api.access_codes import listing, service
from api.access_codes.types import AccessCode, CreateAccessCodeInput, IssuedAccessCode, IssuedAccessCodeConnection
from api.apps.tables import App
from api.channels.tables import Channel as ChannelTable
from api.channels.types import Channel
from api.errors import BadUserInput, NotFound, Unauthenticated
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.pagination import Page, decode_cursor, page_size
from api.ids import parse_id
from api.people import service as people
from api.ratelimit import address_bucket


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
class AccessCodesQuery:
    @strawberry.field(
        description="The app's access codes, newest first, with their state (the app's owner only: never"
        " the codes, which createAccessCode shows once, only their last digits)."
    )
    async def access_codes(
        self, info: Info, app_id: strawberry.ID, first: int = 20, after: str | None = None
    ) -> IssuedAccessCodeConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        app, access = await perms.app_admin(info, app_id, owner_only=True)
        page = Page(await listing.page(app["id"], size, before), size)
        return IssuedAccessCodeConnection(
            nodes=[IssuedAccessCode(row=r, access=access) for r in page.rows], page_info=page.page_info
        )


@strawberry.type
class AccessCodesMutation:
    @strawberry.mutation(
        description="A single-use code of BOOPER_ACCESS_CODE_DIGITS digits (8 by default) granting"
        " a device these channels. An app holds at most BOOPER_ACCESS_CODE_LIVE_CAP live codes."
    )
    async def create_access_code(self, info: Info, input: CreateAccessCodeInput) -> AccessCode:
        admin = await perms.implied_app_admin(info, input.app_id)
        if admin is None:
            v = await perms.viewer(info)
            if v.is_anonymous:
                raise Unauthenticated("an API key or a dashboard login is needed")
            raise BadUserInput("pass appId: the app whose channels the code grants")
        app, access = admin
        identifier = people.identifier(input.identifier) if input.identifier is not None else None
        runtime = info.context.runtime
        settings = runtime.settings
        await runtime.limiter.hit(
            settings.access_code_create_rate, "create-code", str(app["id"]),
            message="this app creates access codes too fast; wait before creating more",
        )
        expires_at = service.expiry(
            input.expires_at, runtime.settings.access_code_ttl, dt.datetime.now(dt.UTC)
        )
        channels = await _channels_of_app(app["id"], input.channels)
        code, row = await service.create(
            app["id"], [c["id"] for c in channels], identifier, expires_at, runtime.secret_key,
            digits=settings.access_code_digits, live_cap=settings.access_code_live_cap,
        )
        return AccessCode(
            id=strawberry.ID(str(row["id"])),
            code=code,
            expires_at=row["expires_at"],
            channels=[Channel(row=c, access=access) for c in channels],
            identifier=identifier,
        )

    @strawberry.mutation(
        description="Redeem a code: the device is granted and subscribed to its channels. With"
        " appId the code is looked up in that app only (and wrong guesses count against that app"
        " alone); without it, in every app."
    )
    async def redeem_access_code(
        self, info: Info, code: str, device_token: str, app_id: strawberry.ID | None = None
    ) -> list[Channel]:
        runtime = info.context.runtime
        settings = runtime.settings
        message = "too many access code attempts; wait before trying again"
        # The device proves itself first: a token alone cannot spend a victim's attempts.
        device = await perms.authenticated_device(info, device_token)
        scope = parse_id(app_id, "app") if app_id is not None else None
        # Every attempt counts against the device and the client address, aliased ones included
        # (each alias runs this resolver), so no one client spends the shared budgets alone.
        window = settings.redeem_window
        await runtime.limiter.hit(
            f"{settings.redeem_address_attempts} per {window} seconds", "redeem-ip",
            address_bucket(info.context.client_ip), message=message,
        )
        await runtime.limiter.hit(
            f"{settings.redeem_attempts} per {window} seconds", "redeem-device", str(device["id"]),
            message=message,
        )
        if not device["active"]:
            raise NotFound("device not registered: call registerDevice first")
        if scope is not None and not await App.exists().where(App.id == scope):
            raise NotFound(f"no app {scope}")
        channels = await service.attempt(
            runtime.limiter, settings, code.strip(), device, runtime.secret_key, scope
        )
        access = perms.Access("device", device_id=device["id"])
        return [Channel(row=c, access=access) for c in channels]
