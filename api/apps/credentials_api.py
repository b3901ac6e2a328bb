"""App.providers and Mutation.setExpoAccessToken / setFcmCredentials / setApnsCredentials.

Owner only, for reading as for writing: an API key sends notifications, it does not choose the
key they are sent with. Secrets go in and never come out (ProviderSettings says what is set).
"""

from __future__ import annotations

import strawberry

from api.apps import credentials
from api.apps.types import App
from api.graphql import permissions as perms
from api.graphql.context import Info


@strawberry.type(description="What is configured; secrets never come back.")
class ProviderSettings:
    expo_access_token: bool
    fcm_project_id: str | None
    apns_key_id: str | None
    apns_topic: str | None
    apns_production: bool | None


@strawberry.input
class FcmCredentialsInput:
    service_account_json: str = strawberry.field(description="The Firebase service account key file's content.")


@strawberry.input
class ApnsCredentialsInput:
    key_id: str
    team_id: str
    private_key: str = strawberry.field(description="The .p8 key (PEM).")
    topic: str = strawberry.field(description="The app's bundle id.")
    production: bool = strawberry.field(description="false: the APNs development environment.")


@strawberry.type
class CredentialsMutation:
    @strawberry.mutation(description="The app's own Expo access token; null removes it (owner only).")
    async def set_expo_access_token(self, info: Info, app_id: strawberry.ID, token: str | None = None) -> App:
        row, access = await perms.app_admin(info, app_id, owner_only=True)
        await credentials.set_expo_token(row["id"], token, info.context.runtime.secret_key)
        return App(row=row, access=access)

    @strawberry.mutation(description="The app's FCM service account; null removes it (owner only).")
    async def set_fcm_credentials(
        self, info: Info, app_id: strawberry.ID, input: FcmCredentialsInput | None = None
    ) -> App:
        row, access = await perms.app_admin(info, app_id, owner_only=True)
        raw = input.service_account_json if input is not None else None
        await credentials.set_fcm(row["id"], raw, info.context.runtime.secret_key)
        return App(row=row, access=access)

    @strawberry.mutation(description="The app's APNs key; null removes it (owner only).")
    async def set_apns_credentials(
        self, info: Info, app_id: strawberry.ID, input: ApnsCredentialsInput | None = None
    ) -> App:
        row, access = await perms.app_admin(info, app_id, owner_only=True)
        key = credentials.parse_apns_key(input.key_id, input.team_id, input.private_key, input.topic,
                                         input.production) if input is not None else None
        await credentials.set_apns(row["id"], key, info.context.runtime.secret_key)
        return App(row=row, access=access)
