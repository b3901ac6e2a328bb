"""Query.person / people, Mutation.rotateIdentitySecret: the app's owner or its API key."""

from __future__ import annotations

import strawberry

from api.apps.types import App
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.pagination import Page, decode_cursor, page_size
from api.graphql.scalars import JSON
from api.people import identity, privacy, service
from api.people.types import Person, PersonConnection


@strawberry.type
class PeopleQuery:
    @strawberry.field(description="A person of the app by identifier (owner or key); null if none.")
    async def person(self, info: Info, app_id: strawberry.ID, identifier: str) -> Person | None:
        app, access = await perms.app_admin(info, app_id)
        row = await service.find(app["id"], service.identifier(identifier))
        return Person(row=row, access=access) if row else None

    @strawberry.field(description="The app's persons, newest first; `search` matches the start of the identifier.")
    async def people(
        self, info: Info, app_id: strawberry.ID, search: str | None = None, first: int = 50, after: str | None = None
    ) -> PersonConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        app, access = await perms.app_admin(info, app_id)
        if search is not None:
            search = service.identifier(search, "search")
        page = Page(await service.page(app["id"], search, size, before), size)
        return PersonConnection(nodes=[Person(row=r, access=access) for r in page.rows], page_info=page.page_info)

    @strawberry.field(
        description="Everything Booper holds about one person of the app, as one JSON document (owner or "
        "key): devices with token hints, the app's channels and grants they hold, notifications sent to "
        "them with delivery outcomes, read marks, preferences. Each list holds at most 1,000 entries (deliveries "
        "10,000), the newest: `truncated` (and `truncatedLists`) says when the history was longer."
    )
    async def export_person(self, info: Info, app_id: strawberry.ID, identifier: str) -> JSON:
        app, _ = await perms.app_admin(info, app_id)
        await privacy.limit(info.context.runtime, app["id"])
        return await privacy.export(app["id"], identifier)


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(
        description="Remove the person's links, grants, read marks and preferences and unlink their "
        "deliveries from the identifier, in one transaction (owner or key); webhook person.erased. "
        "False when the app held no such person (the identifier is scrubbed anyway)."
    )
    async def erase_person(self, info: Info, app_id: strawberry.ID, identifier: str) -> bool:
        app, _ = await perms.app_admin(info, app_id)
        await privacy.limit(info.context.runtime, app["id"])
        return await privacy.erase(info.context.runtime, app["id"], identifier)

    @strawberry.mutation(
        description="A new identity secret (owner only): identities signed with the old one link no device "
        "any more; devices linked before stay linked (identifyDevice with null unlinks one)."
    )
    async def rotate_identity_secret(self, info: Info, app_id: strawberry.ID) -> App:
        app, access = await perms.app_admin(info, app_id, owner_only=True)
        await identity.rotate(app["id"], info.context.runtime.secret_key)
        return App(row=app, access=access)
