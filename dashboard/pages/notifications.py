"""An app's notifications, newest first, paged."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard.components import (
    badge,
    empty_state,
    error_callout,
    loading,
    page_header,
    pager,
)
from dashboard.layout import app_shell
from dashboard.paging import Paged
from dashboard.rows import notification_row
from dashboard.session import (
    APP_PAGE,
    EXPIRED_MESSAGE,
    AppContext,
)


class NotificationsState(Paged, AppContext):
    @rx.var
    def has_rows(self) -> bool:
        return len(self.rows) > 0

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self._first_page()
        yield
        await self._fetch()
        if self.error == EXPIRED_MESSAGE:
            yield self._end_session()

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        return await self._client().notifications(self._route_app_id(), first, after)

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
        spacing="1",
        wrap="wrap",
        class_name="delivery-counts",
    )


def _notification_row(row) -> rx.Component:
    href = "/apps/" + AppContext.app_id + "/notifications/" + row["id"]
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
                href="/apps/" + AppContext.app_id + "/send",
            ),
        ),
        rx.cond(
            NotificationsState.error != "",
            error_callout(NotificationsState.error),
            rx.cond(
                NotificationsState.loading & ~NotificationsState.has_rows,
                loading(),
                rx.cond(
                    NotificationsState.has_rows,
                    rx.card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in (
                                            "Notification",
                                            "Channel",
                                            "Status",
                                            "Deliveries",
                                            "Created",
                                        )
                                    ]
                                )
                            ),
                            rx.table.body(rx.foreach(NotificationsState.rows, _notification_row)),
                            width="100%",
                        ),
                        pager(
                            NotificationsState.page,
                            NotificationsState.has_next,
                            NotificationsState.prev_page,
                            NotificationsState.next_page,
                        ),
                        width="100%",
                    ),
                    empty_state(
                        "inbox",
                        "Nothing sent yet",
                        "Notifications you send from here or through the API appear in this list.",
                        rx.link(
                            rx.button("Send a notification"),
                            href="/apps/" + AppContext.app_id + "/send",
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
