"""The dashboard client's people and engagement operations (issues 12 and 13): persons and their
notifications, access codes, channel settings, editing and retracting a notification.

Mixed into ``dashboard.client.GraphQLClient``, which runs them (``execute``): this module knows
operation names and variables, never the API's URL or HTTP."""

from __future__ import annotations

from typing import Any

from dashboard.api_errors import ApiError
from dashboard.api_types import AccessCode, Channel, Notification


class Calls:
    """What the mixins need of the client: ``execute`` (GraphQLClient's) and ``_found``."""

    async def execute(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def _found(value: Any) -> Any:
        if value is None:
            raise ApiError("NOT_FOUND")
        return value


class PeopleCalls(Calls):
    # -- access codes ---------------------------------------------------------

    async def create_access_code(
        self,
        app_id: str,
        channels: list[str],
        identifier: str | None = None,
        expires_at: str | None = None,
    ) -> AccessCode:
        payload: dict[str, Any] = {"appId": app_id, "channels": channels}
        if identifier:
            payload["identifier"] = identifier
        if expires_at:
            payload["expiresAt"] = expires_at
        return (await self.execute("CreateAccessCode", {"input": payload}))["createAccessCode"]

    async def access_codes(
        self, app_id: str, first: int = 20, after: str | None = None
    ) -> dict[str, Any]:
        variables = {"appId": app_id, "first": first, "after": after}
        return (await self.execute("AccessCodes", variables))["accessCodes"]

    # -- people ---------------------------------------------------------------

    async def people(
        self, app_id: str, first: int = 20, after: str | None = None, search: str | None = None
    ) -> dict[str, Any]:
        variables = {"appId": app_id, "first": first, "after": after, "search": search or None}
        return (await self.execute("People", variables))["people"]

    async def person(self, app_id: str, identifier: str) -> dict[str, Any]:
        """The person (NOT_FOUND when the app has none by that identifier) and the app's
        channels, in one call: {"person": ..., "channels": [...]}."""
        data = await self.execute("Person", {"appId": app_id, "identifier": identifier})
        self._found(data["person"])
        return data

    async def person_notifications(
        self, app_id: str, identifier: str, first: int = 10, after: str | None = None
    ) -> dict[str, Any]:
        """A page of what reached the person, newest first (a connection)."""
        variables = {"appId": app_id, "identifier": identifier, "first": first, "after": after}
        data = await self.execute("PersonNotifications", variables)
        return self._found(data["person"])["notifications"]

    async def person_call(self, name: str, app_id: str, identifier: str, **more: Any) -> Any:
        """SetPreferences (input=), ExportPerson, ErasePerson: the operation's one field."""
        data = await self.execute(name, {"appId": app_id, "identifier": identifier, **more})
        return data[name[0].lower() + name[1:]]

    async def identify_device(self, app_id: str, device_id: str, identifier: str | None) -> Any:
        variables = {"appId": app_id, "deviceId": device_id, "identifier": identifier}
        return (await self.execute("IdentifyDevice", variables))["identifyDevice"]


class EngagementCalls(Calls):
    async def update_channel(
        self, channel_id: str, critical: bool | None = None, digest_window: int | None = None
    ) -> Channel:
        """Channel settings; digest_window 0 turns digests off (None leaves it)."""
        variables = {"id": channel_id, "critical": critical, "digestWindow": digest_window}
        return (await self.execute("UpdateChannel", variables))["updateChannel"]

    async def update_notification(self, notification_id: str, fields: dict) -> Notification:
        """fields: title, body, data (None clears one)."""
        variables = {"id": notification_id, "input": fields}
        return (await self.execute("UpdateNotification", variables))["updateNotification"]

    async def retract_notification(self, notification_id: str) -> Notification:
        return (await self.execute("RetractNotification", {"id": notification_id}))[
            "retractNotification"
        ]
