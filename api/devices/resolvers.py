"""Mutation.registerDevice / unregisterDevice."""

from __future__ import annotations

import strawberry

from api.devices import service
from api.devices.types import Device, RegisterDeviceInput
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.shared import Platform


@strawberry.type
class DevicesMutation:
    @strawberry.mutation(description="Register (or refresh) a device by its push token.")
    async def register_device(self, info: Info, input: RegisterDeviceInput) -> Device:
        settings = info.context.runtime.settings
        # Registration is anonymous: bound how fast one address can add rows.
        await info.context.runtime.limiter.hit(
            settings.device_rate, "register-device", info.context.client_ip,
            message="too many device registrations from this address; wait before trying again",
        )
        token = input.token.strip()
        keys = input.web_push_keys
        if input.platform is Platform.EXPO:
            service.validate_expo_token(token)
            p256dh = auth = None
        else:
            p256dh, auth = (keys.p256dh.strip(), keys.auth.strip()) if keys else (None, None)
            service.validate_web_subscription(token, p256dh, auth, settings.webpush_origins)
        row = await service.register(input.platform.value, token, p256dh, auth)
        return Device(row=row, access=perms.Access("device", device_id=row["id"]))

    @strawberry.mutation(description="Stop all pushes to this device; false if it was unknown.")
    async def unregister_device(self, info: Info, device_token: str) -> bool:
        device = await perms.device_for_token(device_token)
        if device is None:
            return False
        await service.unregister(device["id"])
        return True
