"""An app's devices: search by the identifier an access code gave or the end of the token,
live or dead, their channels, and removing a device from a channel."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    data_table,
    device_cells,
    empty_state,
    error_callout,
    loading,
    page_header,
    pager,
)
from dashboard.layout import app_shell
from dashboard.paging import Paged
from dashboard.session import APP_PAGE, AppContext, still_loading

STATES = {"all": None, "active": True, "dead": False}


class DevicesState(Paged, AppContext):
    search: str = ""
    state: str = "all"  # all | active | dead
    # Each device's channels on this page (rows are flat strings): device id -> [{sub, name}].
    device_channels: dict[str, list[dict[str, str]]] = {}
    _loaded_app: str = ""  # the app `device_channels` were loaded for

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self._first_page()
        yield
        await self._fetch()

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        app_id = self._route_app_id()
        page = await self._client().devices(
            app_id, first, after, self.search.strip(), STATES.get(self.state)
        )
        self._loaded_app = app_id
        self.device_channels = {
            (n.get("device") or {}).get("id", ""): [
                {"sub": s["id"], "name": (s.get("channel") or {}).get("name") or ""}
                for s in n.get("subscriptions") or []
            ]
            for n in page["nodes"]
        }
        return page

    def _row(self, node: dict[str, Any]) -> dict[str, str]:
        device = node.get("device") or {}
        return {
            "id": device.get("id") or "",
            "platform": device.get("platform") or "",
            "token": forms.short_token(device.get("token"), 40, device.get("tokenHint")),
            "identifier": device.get("identifier") or "",
            "active": "live" if device.get("active") else "dead",
            "since": forms.format_time(device.get("createdAt")),
            "last_seen": forms.format_ago(device.get("lastSeenAt")),
        }

    @rx.event
    async def apply(self, form: dict):
        self.search = str(form.get("search") or "")[:256]
        self._first_page()
        await self._fetch()

    @rx.event
    async def set_state(self, value: str):
        self.state = value if value in STATES else "all"
        self._first_page()
        await self._fetch()

    @rx.event
    async def send_test(self, device_id: str):
        """A test notification to this one device (sendNotification with deviceIds)."""
        payload = {
            "appId": self._route_app_id(),
            "deviceIds": [device_id],
            "title": "Test notification",
            "body": "Sent from the Booper dashboard.",
        }
        try:
            sent = await self._client().send_notification(payload)  # type: ignore[arg-type]
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)
            return
        yield rx.toast.success("Test notification sent.", duration=3000)
        yield rx.redirect(f"/apps/{self._route_app_id()}/notifications/{sent['id']}")

    @rx.event
    async def unsubscribe(self, subscription_id: str):
        listed = any(
            s["sub"] == subscription_id for subs in self.device_channels.values() for s in subs
        )
        if not (self._loaded(self._loaded_app) and listed):  # see AppContext._loaded
            yield still_loading()
            return
        try:
            await self._client().delete_subscription(subscription_id)
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)
            return
        await self._fetch()
        yield rx.toast.info("Removed from the channel.", duration=3000)


def _channel(ch) -> rx.Component:
    return rx.badge(
        "#",
        ch["name"],
        rx.icon_button(
            rx.icon("x", size=10),
            size="1",
            variant="ghost",
            on_click=DevicesState.unsubscribe(ch["sub"]),
            aria_label="Remove from the channel",
            class_name="remove-from-channel",
        ),
        variant="soft",
        class_name="device-channel",
    )


def _device(d) -> rx.Component:
    return rx.table.row(
        *device_cells(d),
        rx.table.cell(d["identifier"], class_name="device-identifier"),
        rx.table.cell(
            rx.badge(
                d["active"],
                color_scheme=rx.cond(d["active"] == "live", "green", "gray"),
                variant="soft",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.foreach(DevicesState.device_channels[d["id"]], _channel),
                wrap="wrap",
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(d["last_seen"], size="1")),
        rx.table.cell(
            rx.button(
                "Send test",
                size="1",
                variant="soft",
                on_click=DevicesState.send_test(d["id"]),
                class_name="send-test",
            )
        ),
        class_name="device-row",
        align="center",
    )


def devices_page() -> rx.Component:
    return app_shell(
        page_header("Devices", "Every device subscribed to one of this app's channels."),
        rx.hstack(
            rx.form(
                rx.hstack(
                    rx.input(
                        name="search",
                        placeholder="Identifier or the end of a token",
                        id="device-search",
                        min_width="220px",
                    ),
                    rx.button("Search", type="submit", variant="soft", id="device-search-go"),
                    spacing="2",
                ),
                on_submit=DevicesState.apply,
                reset_on_submit=False,
            ),
            rx.select(
                ["all", "active", "dead"],
                value=DevicesState.state,
                on_change=DevicesState.set_state,
                id="device-state",
            ),
            wrap="wrap",
            spacing="3",
            margin_bottom="16px",
        ),
        rx.cond(
            DevicesState.error != "",
            error_callout(DevicesState.error),
            rx.cond(
                DevicesState.loading & (DevicesState.rows.length() == 0),
                loading(),
                rx.cond(
                    DevicesState.rows.length() > 0,
                    data_table(
                        (
                            "Platform",
                            "Token",
                            "Identifier",
                            "State",
                            "Channels",
                            "Last seen",
                            "",
                        ),
                        DevicesState.rows,
                        _device,
                        pager(
                            DevicesState.page,
                            DevicesState.has_next,
                            DevicesState.prev_page,
                            DevicesState.next_page,
                        ),
                    ),
                    empty_state(
                        "smartphone",
                        "No devices",
                        "Devices show up here once they subscribe to one of this app's channels "
                        "(see Settings for the registration code).",
                    ),
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        devices_page,
        route="/apps/[aid]/devices",
        title="Devices · Booper",
        on_load=[*APP_PAGE, DevicesState.load],
    )


badge  # noqa: B018 - re-exported look for rows (keeps the import list stable)
