"""GraphQL types of devices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.devices import service
from api.devices.keys import token_hint
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.scalars import DateTime
from api.graphql.shared import Platform
from api.people import service as people

if TYPE_CHECKING:
    from api.people.types import IdentityInput


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
    identifier: str | None = strawberry.field(
        default=None, description="With the app's API key: the person this device belongs to."
    )
    identity: Annotated[IdentityInput, strawberry.lazy("api.people.types")] | None = strawberry.field(
        default=None, description="From the device itself: a person signed by the app's server."
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

    @strawberry.field(
        description="The person of the viewing app this device belongs to, if any (owner or key; an app "
        "never sees another app's person). Null for other viewers: a device may belong to persons of "
        "several apps, and one app's identifier is not another's business."
    )
    async def identifier(self, info: Info) -> str | None:
        if self.access.role in ("owner", "key"):
            return await loader(info, "device_identifier", people.identifiers_of).load(
                (self.row["id"], self.access.app_id)
            )
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
