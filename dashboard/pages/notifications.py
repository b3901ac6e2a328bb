"""An app's notifications, newest first, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from dashboard.client import ApiError
from dashboard.components import (
    badge,
    data_table,
    empty_state,
    error_callout,
    labelled_count,
    loading,
    page_header,
    pager,
)
from dashboard.layout import app_href, app_shell
from dashboard.paging import Paged
from dashboard.rows import notification_row
from dashboard.session import (
    APP_PAGE,
    EXPIRED_MESSAGE,
    AppContext,
)

STATUSES = ["any status", "SCHEDULED", "QUEUED", "SENT", "COMPLETED", "CANCELED", "RETRACTED"]
PERIODS = {"any time": None, "last hour": 3600, "last 24 hours": 86400, "last 7 days": 7 * 86400}
ALL_CHANNELS = "all channels"


class NotificationsState(Paged, AppContext):
    status: str = STATUSES[0]
    period: str = "any time"
    channel: str = ALL_CHANNELS  # a channel's name
    channel_names: list[str] = [ALL_CHANNELS]
    _channel_ids: dict[str, str] = {}

    @rx.var
    def has_rows(self) -> bool:
        return len(self.rows) > 0

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self._first_page()
        yield
        try:
            channels = await self._client().channels(self._route_app_id())
        except ApiError:
            channels = []  # the list says what went wrong; filters by channel are then off
        self._channel_ids = {c["name"]: c["id"] for c in channels}
        self.channel_names = [ALL_CHANNELS, *sorted(self._channel_ids)]
        if self.channel not in self._channel_ids:
            self.channel = ALL_CHANNELS
        await self._fetch()
        if self.error == EXPIRED_MESSAGE:
            yield self._end_session()

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        seconds = PERIODS.get(self.period)
        since = (
            None
            if seconds is None
            else (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
        )
        return await self._client().notifications(
            self._route_app_id(),
            first,
            after,
            channel_id=self._channel_ids.get(self.channel),
            status=None if self.status == STATUSES[0] else self.status,
            since=since,
        )

    @rx.event
    async def filter(self, key: str, value: str):
        options = {"status": STATUSES, "period": list(PERIODS), "channel": self.channel_names}
        if value in options.get(key, ()):
            setattr(self, key, value)
        self._first_page()
        await self._fetch()

    def _row(self, node: dict[str, Any]) -> dict[str, str]:
        return notification_row(node)

    @rx.event
    async def refresh(self):
        await self._fetch()


def _counts_inline(row) -> rx.Component:
    """The four delivery numbers, each with its word (not colours alone)."""
    return rx.hstack(
        *[
            rx.badge(row[f"n_{key}"], " ", key, color_scheme=color, variant="soft")
            for key, color in (
                ("delivered", "green"),
                ("sent", "blue"),
                ("pending", "amber"),
                ("failed", "red"),
            )
        ],
        # Held (quiet hours, digests, caps) and skipped (muted, read elsewhere...) where there are any.
        *[
            rx.cond(
                row[f"n_{key}"] != "0",
                labelled_count(row[f"n_{key}"], key, color, class_name=f"count-{key}"),
            )
            for key, color in (("held", "orange"), ("skipped", "gray"))
        ],
        spacing="1",
        wrap="wrap",
        class_name="delivery-counts",
    )


def _notification_row(row) -> rx.Component:
    href = app_href("/notifications/") + row["id"]
    return rx.table.row(
        rx.table.cell(
            rx.link(
                rx.text(row["title"], weight="medium", trim="both"),
                href=href,
                class_name="notification-link",
            )
        ),
        rx.table.cell(rx.text("#", row["channel"], size="2")),
        rx.table.cell(badge(row["status"]), class_name="notification-status"),
        rx.table.cell(_counts_inline(row)),
        rx.table.cell(rx.tooltip(rx.text(row["created_ago"], size="2"), content=row["created"])),
        align="center",
    )


def notifications_page() -> rx.Component:
    return app_shell(
        page_header(
            "Notifications",
            "Everything this app sent or scheduled, newest first.",
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Refresh",
                variant="soft",
                on_click=NotificationsState.refresh,
            ),
            rx.link(
                rx.button(rx.icon("send", size=16), "Send"),
                href=app_href("/send"),
            ),
        ),
        rx.hstack(
            rx.select(
                STATUSES,
                value=NotificationsState.status,
                on_change=lambda v: NotificationsState.filter("status", v),
                id="filter-status",
            ),
            rx.select(
                NotificationsState.channel_names,
                value=NotificationsState.channel,
                on_change=lambda v: NotificationsState.filter("channel", v),
                id="filter-channel",
            ),
            rx.select(
                list(PERIODS),
                value=NotificationsState.period,
                on_change=lambda v: NotificationsState.filter("period", v),
                id="filter-period",
            ),
            wrap="wrap",
            spacing="2",
            margin_bottom="16px",
        ),
        rx.cond(
            NotificationsState.error != "",
            error_callout(NotificationsState.error),
            rx.cond(
                NotificationsState.loading & ~NotificationsState.has_rows,
                loading(),
                rx.cond(
                    NotificationsState.has_rows,
                    data_table(
                        (
                            "Notification",
                            "Channel",
                            "Status",
                            "Deliveries",
                            "Created",
                        ),
                        NotificationsState.rows,
                        _notification_row,
                        pager(
                            NotificationsState.page,
                            NotificationsState.has_next,
                            NotificationsState.prev_page,
                            NotificationsState.next_page,
                        ),
                    ),
                    empty_state(
                        "inbox",
                        "Nothing sent yet",
                        "Notifications you send from here or through the API appear in this list.",
                        rx.link(
                            rx.button("Send a notification"),
                            href=app_href("/send"),
                        ),
                    ),
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        notifications_page,
        route="/apps/[aid]/notifications",
        title="Notifications · Booper",
        on_load=[*APP_PAGE, NotificationsState.load],
    )
