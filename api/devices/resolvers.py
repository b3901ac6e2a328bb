"""Mutation.registerDevice / unregisterDevice / requestDeviceVerification / verifyDevice."""

from __future__ import annotations

import hashlib

import strawberry

from api.apps.tables import App
from api.devices import service, verification
from api.devices.types import Device, DeviceRegistration, RegisterDeviceInput
from api.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.shared import Platform
from api.ids import parse_id
from api.people import identity
from api.people import service as people

TAKEN = (
    "this push token is already registered: present its device key (X-Device-Key), or prove you hold "
    "the token with requestDeviceVerification and verifyDevice"
)


def _validated(platform: Platform, token: str, keys, settings) -> tuple[str, str | None, str | None]:
    token = token.strip()
    if platform in (Platform.FCM, Platform.APNS):
        return service.validate_native_token(platform.value, token), None, None
    if platform is Platform.EXPO:
        service.validate_expo_token(token)
        return token, None, None
    p256dh, auth = (keys.p256dh.strip(), keys.auth.strip()) if keys else (None, None)
    service.validate_web_subscription(token, p256dh, auth, settings.webpush_origins)
    return token, p256dh, auth


async def _token_app(input: RegisterDeviceInput) -> int | None:
    """FCM and APNs tokens are of one app (its Firebase project, its bundle): appId names it. Anyone
    may name any app, as anyone may register an Expo token: it grants nothing but that app's
    public channels, and its credentials are only ever used to send that app's notifications."""
    if input.platform not in (Platform.FCM, Platform.APNS):
        if input.app_id is not None:
            raise BadUserInput("appId is for FCM and APNS devices only")
        return None
    if input.app_id is None:
        raise BadUserInput(f"{input.platform.value} devices need appId: the app the token is of")
    app_id = parse_id(input.app_id, "app")
    if not await App.exists().where(App.id == app_id):
        raise NotFound("app not found")
    return app_id


def _registration(row: dict, key: str) -> DeviceRegistration:
    device = Device(row=row, access=perms.Access("device", device_id=row["id"]))
    return DeviceRegistration(device=device, device_key=key)


async def _person_to_link(info: Info, input: RegisterDeviceInput, viewer) -> tuple[int | None, str | None]:
    """(app, identifier) the new registration belongs to, if the input names a person: an
    `identifier` needs the app's API key; an `identity` needs the app's signature over it."""
    if input.identifier is not None and input.identity is not None:
        raise BadUserInput("pass identifier (with the app's API key) or identity (signed), not both")
    if input.identifier is not None:
        if viewer.kind != "key":
            if viewer.is_anonymous:
                raise Unauthenticated("identifier needs the app's API key; a device presents a signed identity")
            raise Forbidden("identifier needs the app's API key; a device presents a signed identity")
        return viewer.app_id, people.identifier(input.identifier)
    if input.identity is not None:
        ident = people.identifier(input.identity.identifier, "identity.identifier")
        app_id = parse_id(input.identity.app_id, "app")
        signature = input.identity.signature
        if len(signature) > 128 or not await identity.verified(
            app_id, ident, signature, info.context.runtime.secret_key
        ):
            # The same answer for an unknown app: nothing to learn about which ids exist.
            raise Forbidden("the identity's signature does not match: sign the identifier with the app's "
                            "identity secret (hex HMAC-SHA256)")
        return app_id, ident
    return None, None


@strawberry.type
class DevicesMutation:
    @strawberry.mutation(
        description="Register a device by its push token; returns its device key, shown once. Refreshing a "
        "registered token needs its key (or the API key of the app that registered it)."
    )
    async def register_device(self, info: Info, input: RegisterDeviceInput) -> DeviceRegistration:
        settings = info.context.runtime.settings
        # Registration is anonymous: bound how fast one address can add rows.
        await info.context.runtime.limiter.hit(
            settings.device_rate, "register-device", info.context.client_bucket,
            message="too many device registrations from this address; wait before trying again",
        )
        token, p256dh, auth = _validated(input.platform, input.token, input.web_push_keys, settings)
        app = await _token_app(input)
        viewer = await perms.viewer(info)
        # Checked before anything is written: a refused person registers no device either.
        person_app, ident = await _person_to_link(info, input, viewer)
        if person_app is not None and app is not None and app != person_app:
            # An FCM or APNs token is sent to with its own app's credentials: another app's person
            # would put that app's content under this app's name.
            raise Forbidden("this token belongs to another app (appId): it can only be a person of that app")
        try:
            row, key = await service.register(
                input.platform.value, token, p256dh, auth,
                presented_key=info.context.device_key(),
                supplier_app=viewer.app_id if viewer.kind == "key" else None,
                app=app,
            )
        except service.TokenTaken:
            raise Conflict(TAKEN) from None
        if person_app is not None:
            await people.link(row["id"], person_app, ident)
        return _registration(row, key)

    @strawberry.mutation(
        description="Link a device of the app to a person of the app (null unlinks it): the app's owner "
        "(with appId) or its API key."
    )
    async def identify_device(
        self, info: Info, device_id: strawberry.ID, identifier: str | None = strawberry.UNSET,
        app_id: strawberry.ID | None = None,
    ) -> Device:
        if identifier is strawberry.UNSET:  # null is a value here (unlink): leaving it out is not
            raise BadUserInput("pass identifier: the person's identifier, or null to unlink the device")
        admin = await perms.implied_app_admin(info, app_id)
        if admin is None:
            await perms.require_credentials(info)
            raise BadUserInput("a dashboard user passes appId")
        app, access = admin
        ident = people.identifier(identifier) if identifier is not None else None
        device = await people.device_of_app(app["id"], parse_id(device_id, "device"))
        await people.link(device["id"], app["id"], ident)
        return Device(row=device, access=access)

    @strawberry.mutation(description="Stop all pushes to this device (with its device key); its key stops working.")
    async def unregister_device(self, info: Info, device_token: str) -> bool:
        device = await perms.authenticated_device(info, device_token)
        await service.unregister(device["id"])
        return True

    @strawberry.mutation(
        description="Push a one-time code (data only) to this token's device, to recover a lost device key. "
        "Always true: the answer does not tell whether the token is registered."
    )
    async def request_device_verification(self, info: Info, platform: Platform, token: str) -> bool:
        runtime = info.context.runtime
        settings = runtime.settings
        message = "too many verification requests; wait before trying again"
        await runtime.limiter.hit(settings.device_rate, "verify-request-ip", info.context.client_bucket,
                                  message=message)
        token = token.strip()
        if not token or len(token) > service.MAX_ENDPOINT:
            raise BadUserInput("not a push token")
        # Counted per token under its digest: a push token can be 2 KB, and a key need not hold it.
        await runtime.limiter.hit(settings.verification_rate, "verify-request-token",
                                  hashlib.sha256(token.encode()).hexdigest()[:32], message=message)
        await verification.request(runtime, platform.value, token)
        return True

    @strawberry.mutation(description="Prove you hold the token with the pushed code: returns a new device key.")
    async def verify_device(self, info: Info, token: str, code: str) -> DeviceRegistration:
        runtime = info.context.runtime
        await runtime.limiter.hit(
            runtime.settings.device_rate, "verify-ip", info.context.client_bucket,
            message="too many verification attempts; wait before trying again",
        )
        token, code = token.strip(), code.strip()
        if not token or len(token) > service.MAX_ENDPOINT or len(code) > 32:
            raise BadUserInput(verification.WRONG_CODE)
        verified = await verification.verify(runtime, token, code)
        if verified is None:
            raise BadUserInput(verification.WRONG_CODE)
        return _registration(*verified)
