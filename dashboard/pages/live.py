"""Notifications and delivery events as they happen (a GraphQL subscription)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from dashboard.client import ApiError, GraphQLClient
from dashboard.components import (
    badge,
    empty_state,
    error_callout,
    page_header,
)
from dashboard.layout import app_href, app_shell
from dashboard.live_client import SubscriptionClient
from dashboard.rows import delivery_row, notification_row
from dashboard.session import (
    APP_PAGE,
    AppContext,
    new_generation,
)

LIVE_KEEP = 50  # events kept in each list


class LiveState(AppContext):
    status: str = "disconnected"  # connecting | connected | disconnected
    live_error: str = ""
    notifications: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    running: bool = False
    _gen: int = 0
    _live_app: str = ""  # the app whose events the lists hold

    @rx.var
    def connected(self) -> bool:
        return self.status == "connected"

    @rx.event
    def start(self):
        if not self._mine():
            return None
        self._gen = new_generation()
        self.running = True
        self.status = "connecting"
        self.live_error = ""
        if self._live_app != self.app_id:
            self.notifications = []
            self.deliveries = []
            self._live_app = self.app_id
        return LiveState.run

    @rx.event
    def stop(self):
        self._gen = new_generation()
        self.running = False
        self.status = "disconnected"

    @rx.event
    def clear(self):
        self.notifications = []
        self.deliveries = []

    def _apply(self, name: str, data: dict[str, Any]) -> None:
        if name == "LiveNotifications" and data.get("notifications"):
            row = notification_row(data["notifications"])
            rows = [r for r in self.notifications if r["id"] != row["id"]]
            self.notifications = [row, *rows][:LIVE_KEEP]
        elif name == "LiveDeliveries" and data.get("deliveryEvents"):
            row = delivery_row(data["deliveryEvents"])
            row["at"] = datetime.now(UTC).strftime("%H:%M:%S")
            self.deliveries = [row, *self.deliveries][:LIVE_KEEP]

    def _update_cards(self, latest: list[dict[str, Any]]) -> None:
        """The cards' status and counts from the API's own numbers (a delivery event says one
        device's outcome; only the notification knows when it is COMPLETED)."""
        fresh = {r["id"]: r for r in (notification_row(n) for n in latest)}
        keys = ("status", "n_pending", "n_sent", "n_delivered", "n_failed")
        self.notifications = [
            {**card, **{k: fresh[card["id"]][k] for k in keys}} if card["id"] in fresh else card
            for card in self.notifications
        ]

    @rx.event(background=True)
    async def run(self):
        async with self:
            gen = self._gen
            token = self.token
            app_id = self._live_app
            client_ip = self._client_ip()
        backoff = 1.0
        while True:
            async with self:
                if self._gen != gen or not self.running:
                    return
                self.status = "connecting"
            try:
                async with SubscriptionClient(token, client_ip=client_ip) as live:
                    await live.subscribe("LiveNotifications", {"appId": app_id})
                    await live.subscribe("LiveDeliveries", {"appId": app_id})
                    async with self:
                        if self._gen != gen:
                            return
                        self.status = "connected"
                        self.live_error = ""
                    backoff = 1.0
                    # Cards are refreshed in one query at most once a second while delivery
                    # events arrive, and once more after they stop (receipts come later).
                    stale, refreshed = False, 0.0
                    while True:
                        event = await live.next_event(timeout=1.0)
                        async with self:
                            if self._gen != gen or not self.running:
                                return
                            if event is not None:
                                self._apply(*event)
                                stale = stale or event[0] == "LiveDeliveries"
                        if stale and time.monotonic() - refreshed >= 1.0:
                            stale, refreshed = False, time.monotonic()
                            page = await GraphQLClient(token, client_ip=client_ip).notifications(
                                app_id, LIVE_KEEP
                            )
                            async with self:
                                if self._gen != gen:
                                    return
                                self._update_cards(page["nodes"])
            except ApiError as exc:
                async with self:
                    if self._gen != gen:
                        return
                    self.status = "disconnected"
                    self.live_error = exc.message
                    if exc.unauthenticated:
                        self.running = False
                        return self._end_session()
            except Exception:  # never leave the task dead with a stale "connected"
                async with self:
                    if self._gen != gen:
                        return
                    self.status = "disconnected"
                    self.live_error = "The live connection dropped."
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


def _live_notification(row) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("bell", size=16, color=rx.color("iris", 10)),
            rx.vstack(
                rx.link(
                    rx.text(row["title"], weight="medium", size="2"),
                    href=app_href("/notifications/") + row["id"],
                ),
                rx.text("#", row["channel"], " · ", row["created"], size="1", color_scheme="gray"),
                spacing="0",
            ),
            rx.spacer(),
            rx.text(
                row["n_delivered"],
                " delivered · ",
                row["n_failed"],
                " failed",
                size="1",
                color_scheme="gray",
                class_name="live-tally",
            ),
            badge(row["status"], class_name="live-notification-status"),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        size="1",
        width="100%",
        class_name="live-notification",
    )


def _live_delivery(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["at"], size="1", font_family="ui-monospace, monospace")),
        rx.table.cell(
            rx.link(
                rx.text(row["notification_title"], size="2"),
                href=app_href("/notifications/") + row["notification_id"],
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.badge(row["platform"], variant="outline", size="1"),
                rx.code(row["device"], size="1"),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(badge(row["status"]), class_name="live-delivery-status"),
        rx.table.cell(
            rx.cond(
                row["error"] != "",
                rx.text(row["error"], color_scheme="red", size="1"),
                rx.text(row["attempts"], " attempt(s)", size="1", color_scheme="gray"),
            )
        ),
        align="center",
        class_name="live-delivery",
    )


def _connection_badge() -> rx.Component:
    return rx.match(
        LiveState.status,
        (
            "connected",
            rx.badge(
                rx.box(width="8px", height="8px", border_radius="999px", bg=rx.color("green", 9)),
                "Connected",
                color_scheme="green",
                size="2",
                variant="surface",
                id="live-status",
            ),
        ),
        (
            "connecting",
            rx.badge(
                rx.spinner(size="1"),
                "Connecting…",
                color_scheme="amber",
                size="2",
                variant="surface",
                id="live-status",
            ),
        ),
        rx.badge(
            rx.box(width="8px", height="8px", border_radius="999px", bg=rx.color("red", 9)),
            "Disconnected",
            color_scheme="red",
            size="2",
            variant="surface",
            id="live-status",
        ),
    )


def live_page() -> rx.Component:
    return app_shell(
        page_header(
            "Live",
            "Notifications and delivery outcomes as they happen, over a GraphQL subscription.",
            _connection_badge(),
            rx.cond(
                LiveState.running,
                rx.button(
                    rx.icon("pause", size=16),
                    "Pause",
                    variant="soft",
                    color_scheme="gray",
                    on_click=LiveState.stop,
                    id="live-pause",
                ),
                rx.button(
                    rx.icon("play", size=16),
                    "Resume",
                    variant="soft",
                    on_click=LiveState.start,
                    id="live-resume",
                ),
            ),
            rx.button(
                rx.icon("eraser", size=16),
                "Clear",
                variant="ghost",
                color_scheme="gray",
                on_click=LiveState.clear,
            ),
        ),
        rx.cond(
            (LiveState.live_error != "") & ~LiveState.connected,
            error_callout(
                LiveState.live_error + " Reconnecting automatically.", margin_bottom="16px"
            ),
        ),
        rx.grid(
            rx.vstack(
                rx.heading("Notifications", size="4"),
                rx.cond(
                    LiveState.notifications.length() > 0,
                    rx.vstack(
                        rx.foreach(LiveState.notifications, _live_notification),
                        spacing="2",
                        width="100%",
                    ),
                    empty_state(
                        "radio",
                        "Waiting for notifications",
                        "Send one and it shows up here the moment it is accepted.",
                        padding="32px 16px",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            rx.vstack(
                rx.heading("Delivery events", size="4"),
                rx.cond(
                    LiveState.deliveries.length() > 0,
                    rx.card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in ("Time", "Notification", "Device", "Status", "")
                                    ]
                                )
                            ),
                            rx.table.body(rx.foreach(LiveState.deliveries, _live_delivery)),
                            width="100%",
                            size="1",
                        ),
                        width="100%",
                    ),
                    empty_state(
                        "activity",
                        "No delivery events yet",
                        "Each device's delivery shows up here as it is sent, delivered or fails.",
                        padding="32px 16px",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", lg="5fr 7fr"),
            spacing="5",
            width="100%",
        ),
        on_unmount=LiveState.stop,
    )


def register(app: rx.App) -> None:
    app.add_page(
        live_page,
        route="/apps/[aid]/live",
        title="Live · Booper",
        on_load=[*APP_PAGE, LiveState.start],
    )
