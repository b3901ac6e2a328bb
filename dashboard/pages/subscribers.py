"""One channel's subscribers (the channel must be the app's)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    data_table,
    empty_state,
    error_callout,
    loading,
    pager,
)
from dashboard.layout import app_href, app_shell
from dashboard.pages.channel_settings import ChannelSettingsState, settings_card
from dashboard.paging import Paged
from dashboard.session import (
    APP_PAGE,
    AppContext,
)


class SubscribersState(Paged, AppContext):
    channel_name: str = ""
    channel_visibility: str = ""
    subscriber_count: int = 0

    @rx.event
    async def load(self):
        channel_id = self._route_sub_id()
        if not self._mine() or not channel_id:
            return
        self._first_page()
        yield
        self.channel_name = ""
        self.subscriber_count = 0
        self.rows = []
        try:
            channel = await self._client().channel(channel_id)
        except ApiError as exc:
            self.loading = False
            if not self._not_mine(exc):
                self.error = exc.message
            yield self._handle(exc)
            return
        if (channel.get("app") or {}).get("id") != self.app_id:
            self.missing = True  # another app's channel (or an anonymous one): not this page's
            self.loading = False
            return
        self.channel_name = channel["name"]
        self.channel_visibility = channel.get("visibility") or ""
        self.subscriber_count = int(channel.get("subscriberCount") or 0)
        await self._fetch()

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        return await self._client().subscribers(self._route_sub_id(), first, after)

    def _row(self, node: dict[str, Any]) -> dict[str, str]:
        device = node.get("device") or {}
        return {
            "id": node["id"],
            "platform": device.get("platform") or "—",
            "token": forms.short_token(device.get("token"), 48, device.get("tokenHint")),
            "identifier": device.get("identifier") or "",
            "active": "yes" if device.get("active", True) else "no",
            "since": forms.format_time(node.get("createdAt")),
            "last_seen": forms.format_ago(device.get("lastSeenAt")),
        }


def _subscriber_row(s) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(s["platform"], variant="outline")),
        rx.table.cell(rx.code(s["token"], size="1")),
        rx.table.cell(
            rx.cond(s["identifier"] != "", s["identifier"], rx.text("—", color_scheme="gray"))
        ),
        rx.table.cell(
            rx.cond(
                s["active"] == "yes",
                rx.badge("active", color_scheme="green", variant="soft"),
                rx.badge("inactive", color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(s["since"]),
        rx.table.cell(s["last_seen"]),
        align="center",
    )


def subscribers_page() -> rx.Component:
    return app_shell(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14),
                rx.text("Channels", size="2"),
                align="center",
                spacing="1",
            ),
            href=app_href("/channels"),
            color_scheme="gray",
            underline="none",
        ),
        rx.hstack(
            rx.heading("#", SubscribersState.channel_name, size="7", id="page-title"),
            rx.cond(
                SubscribersState.channel_visibility != "",
                badge(SubscribersState.channel_visibility),
            ),
            rx.spacer(),
            rx.text(
                SubscribersState.subscriber_count,
                " subscribers",
                color_scheme="gray",
                size="2",
                id="subscriber-total",
            ),
            align="center",
            spacing="3",
            margin_y="16px",
            width="100%",
        ),
        settings_card(),
        rx.cond(
            SubscribersState.error != "",
            error_callout(SubscribersState.error),
            rx.cond(
                SubscribersState.loading & (SubscribersState.rows.length() == 0),
                loading(),
                rx.cond(
                    SubscribersState.rows.length() > 0,
                    data_table(
                        (
                            "Platform",
                            "Token",
                            "Identifier",
                            "Device",
                            "Subscribed",
                            "Last seen",
                        ),
                        SubscribersState.rows,
                        _subscriber_row,
                        pager(
                            SubscribersState.page,
                            SubscribersState.has_next,
                            SubscribersState.prev_page,
                            SubscribersState.next_page,
                        ),
                    ),
                    empty_state(
                        "users",
                        "No subscribers yet",
                        rx.cond(
                            SubscribersState.channel_visibility == "PRIVATE",
                            "Devices join this channel by redeeming an access code.",
                            "Devices join by subscribing to this channel's name.",
                        ),
                    ),
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        subscribers_page,
        route="/apps/[aid]/channels/[cid]",
        title="Subscribers · Booper",
        on_load=[*APP_PAGE, SubscribersState.load, ChannelSettingsState.load],
    )
