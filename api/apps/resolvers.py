"""Query.apps / app, Mutation.createApp / deleteApp / createApiKey / revokeApiKey."""

from __future__ import annotations

import strawberry

from api.apps import service
from api.apps.types import ApiKey, App, CreateAppPayload, CreatedApiKey
from api.errors import NotFound
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.ids import parse_id


@strawberry.type
class AppsQuery:
    @strawberry.field(
        description="Dashboard user: own apps. API key: its app. Device (deviceToken with its "
        "device key): apps it has access to."
    )
    async def apps(self, info: Info, device_token: str | None = None) -> list[App]:
        if device_token is not None:
            device = await perms.authenticated_device(info, device_token)
            access = perms.Access("device", device_id=device["id"])
            return [App(row=r, access=access) for r in await service.apps_of_device(device["id"])]
        v = await perms.viewer(info)
        if v.kind == "user":
            rows = await service.apps_of_user(v.user_id)  # type: ignore[arg-type]
            return [App(row=r, access=perms.Access("owner", app_id=r["id"], user_id=v.user_id)) for r in rows]
        if v.kind == "key":
            row, access = await perms.app_admin(info, v.app_id)  # type: ignore[arg-type]
            return [App(row=row, access=access)]
        return []

    @strawberry.field
    async def app(self, info: Info, id: strawberry.ID, device_token: str | None = None) -> App | None:
        if device_token is not None:
            device = await perms.authenticated_device(info, device_token)
            app_id = parse_id(id, "app")
            for row in await service.apps_of_device(device["id"]):
                if row["id"] == app_id:
                    return App(row=row, access=perms.Access("device", device_id=device["id"]))
            raise NotFound("app not found")
        row, access = await perms.app_admin(info, id)
        return App(row=row, access=access)


@strawberry.type
class AppsMutation:
    @strawberry.mutation(description="Create an app with its first API key (dashboard user).")
    async def create_app(self, info: Info, name: str) -> CreateAppPayload:
        user_id = await perms.require_user(info)
        app, key, secret = await service.create_app(
            user_id, name, most=info.context.runtime.settings.max_apps_per_user)
        access = perms.Access("owner", app_id=app["id"], user_id=user_id)
        return CreateAppPayload(
            app=App(row=app, access=access),
            api_key=CreatedApiKey(api_key=ApiKey.from_row(key), secret=secret),
        )

    @strawberry.mutation(description="Rename an app (owner only).")
    async def rename_app(self, info: Info, id: strawberry.ID, name: str) -> App:
        row, access = await perms.app_admin(info, id, owner_only=True)
        return App(row=await service.rename_app(row["id"], name), access=access)

    @strawberry.mutation(description="Delete an app and everything in it (owner only).")
    async def delete_app(self, info: Info, id: strawberry.ID) -> bool:
        row, _ = await perms.app_admin(info, id, owner_only=True)
        await service.delete_app(row["id"])
        return True

    @strawberry.mutation(description="A new API key; the secret is shown once (owner only).")
    async def create_api_key(self, info: Info, app_id: strawberry.ID) -> CreatedApiKey:
        row, _ = await perms.app_admin(info, app_id, owner_only=True)
        key, secret = await service.create_api_key(
            row["id"], most=info.context.runtime.settings.max_api_keys_per_app)
        return CreatedApiKey(api_key=ApiKey.from_row(key), secret=secret)

    @strawberry.mutation(description="Revoke an API key at once (owner only).")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        user_id = await perms.require_user(info)
        return ApiKey.from_row(await service.revoke_api_key(parse_id(id, "API key"), user_id))
