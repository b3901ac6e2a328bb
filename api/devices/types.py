"""GraphQL types of devices."""

from __future__ import annotations

import strawberry

from api.devices import service
from api.devices.keys import token_hint
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.scalars import DateTime
from api.graphql.shared import Platform


@strawberry.input
class WebPushKeys:
    p256dh: str
    auth: str


@strawberry.input
class RegisterDeviceInput:
    platform: Platform
    token: str = strawberry.field(description="Expo push token, Web Push endpoint, FCM registration token or APNs "
                                  "device token (hex).")
    web_push_keys: WebPushKeys | None = strawberry.field(default=None, description="Required for WEB.")
    app_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for FCM and APNS devices: the app whose project or bundle the token is of."
    )


@strawberry.type
class Device(RowNode):
    @strawberry.field
    def platform(self) -> Platform:
        return Platform(self.row["platform"])

    @strawberry.field(
        description="Only to the device itself (with its key) and to an app that registered the token "
        "with its API key; null otherwise: a push token is an address another app has no business holding."
    )
    async def token(self, info: Info) -> str | None:
        if self.access.role == "device" and self.access.device_id == self.row["id"]:
            return self.row["token"]
        if self.access.role in ("owner", "key") and self.access.app_id is not None:
            key = (self.row["id"], self.access.app_id)
            supplied = await loader(info, "device_supplied", service.supplied).load(key)
            return self.row["token"] if supplied else None
        return None

    @strawberry.field(description="The last characters of the token, for recognition.")
    def token_hint(self) -> str:
        return token_hint(self.row["token"])

    @strawberry.field(description="From the access code the device redeemed with this app, if any.")
    async def identifier(self, info: Info) -> str | None:
        if self.access.role in ("owner", "key"):
            # An app sees only the identifier its own access code gave, never another app's.
            return await loader(info, "device_identifier", service.identifiers_for_app).load(
                (self.row["id"], self.access.app_id)
            )
        if self.access.role == "device" and self.access.device_id == self.row["id"]:
            return self.row["identifier"]
        return None

    @strawberry.field(description="False once the provider said the token is dead, or unregistered.")
    def active(self) -> bool:
        return bool(self.row["active"])

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]

    @strawberry.field
    def last_seen_at(self) -> DateTime | None:
        return self.row["last_seen_at"]


@strawberry.type(description="A registered device and its device key, shown this once (only a hash is kept).")
class DeviceRegistration:
    device: Device
    device_key: str = strawberry.field(
        description="Send it as X-Device-Key (deviceKey in connection_init) with every operation on this "
        "device's private data. Lost? requestDeviceVerification, then verifyDevice."
    )
