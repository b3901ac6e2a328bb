"""One notification and its deliveries, updated while they move."""

from __future__ import annotations

import asyncio
import json
import time

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    error_callout,
    loading,
)
from dashboard.layout import app_href, app_shell
from dashboard.pages import notification_edit
from dashboard.pages.delivery_timeline import attempt_timeline, deliveries_section, timeline_rows
from dashboard.rows import FINAL_NOTIFICATION, delivery_row, notification_row, reason_rows
from dashboard.session import (
    APP_PAGE,
    AppContext,
    new_generation,
    still_loading,
)


class NotificationDetailState(notification_edit.EditRetract, AppContext):
    n: dict[str, str] = {}
    data_text: str = ""
    loading: bool = True
    error: str = ""
    deliveries: list[dict[str, str]] = []
    reasons: list[dict[str, str]] = []
    attempts: list[dict[str, str]] = []
    deliveries_error: str = ""
    has_more: bool = False
    cancel_error: str = ""
    canceling: bool = False
    watching: bool = False
    _watch: int = 0

    @rx.var
    def can_cancel(self) -> bool:
        return self.n.get("status", "") == "SCHEDULED"

    @rx.var
    def can_change(self) -> bool:
        return self.n.get("status", "") not in ("", "CANCELED", "RETRACTED")

    @rx.var
    def is_final(self) -> bool:
        return self.n.get("status", "") in FINAL_NOTIFICATION

    @rx.event
    async def load(self):
        nid = self._route_sub_id()
        if not self._mine() or not nid:
            return
        if self.n.get("id") != nid:
            self.n = {}
            self.deliveries = []
            self.attempts = []
            self.reasons = []
            self.edit_open = False
            self.retract_open = False
        self.loading = True
        self.error = ""
        self.cancel_error = ""
        yield
        problem = await self._fetch(nid)
        if problem is not None:
            yield self._handle(problem)
            return
        self._watch = new_generation()
        yield NotificationDetailState.watch

    async def _fetch(self, nid: str) -> ApiError | None:
        client = self._client()
        try:
            n = await client.notification(nid)
        except ApiError as exc:
            self.loading = False
            if not self._not_mine(exc):
                self.error = exc.message
            return exc
        channel = n.get("channel")
        # Another app's notification (of the same owner: the API answers others NOT_FOUND). A
        # direct send to persons or devices has no channel: the API's own check is the answer.
        if channel is not None and (channel.get("app") or {}).get("id") != self.app_id:
            self.missing = True
            self.loading = False
            return ApiError("NOT_FOUND")
        self._show(n)
        self.loading = False
        try:
            page = await client.deliveries(nid, 100)
        except ApiError as exc:
            self.deliveries_error = exc.message
            return None
        self.deliveries_error = ""
        self._show_deliveries(page)
        return None

    def _show(self, n) -> None:
        row = notification_row(n)
        row["collapse_key"] = n.get("collapseKey") or ""
        row["ttl"] = "" if n.get("ttl") is None else f"{n['ttl']} s"
        row["edited"] = forms.format_time(n.get("editedAt"), "")
        self.n = row
        self.reasons = reason_rows(n.get("deliveryReasons"))
        data = n.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                pass
        self.data_text = (
            "" if data in (None, {}, "") else json.dumps(data, indent=2, sort_keys=True)
        )
        self._original = {
            "id": row["id"],
            "title": n.get("title") or "",
            "body": n.get("body") or "",
            "data": self.data_text,
        }

    def _show_deliveries(self, page) -> None:
        self.deliveries = [delivery_row(d) for d in page["nodes"]]
        self.attempts = timeline_rows(page["nodes"])
        self.has_more = bool((page.get("pageInfo") or {}).get("hasNextPage"))

    def _settled(self) -> bool:
        if self.n.get("status") in FINAL_NOTIFICATION:
            return True
        return False

    @rx.event(background=True)
    async def watch(self):
        """Poll while the notification is still moving, so the page updates itself."""
        async with self:
            ticket = self._watch
            nid = self._route_sub_id()
            self.watching = True
        started = time.monotonic()
        try:
            while time.monotonic() - started < 15 * 60:
                await asyncio.sleep(1.5)
                async with self:
                    if self._watch != ticket or self._route_sub_id() != nid:
                        return
                    if self._settled():
                        return
                    client = self._client()
                try:
                    n = await client.notification(nid)
                    page = await client.deliveries(nid, 100)
                except ApiError as exc:
                    if exc.unauthenticated:
                        async with self:
                            return self._end_session()
                    continue
                async with self:
                    if self._watch != ticket:
                        return
                    self._show(n)
                    self._show_deliveries(page)
                    if self._settled():
                        self.watching = False
                        return
        finally:
            async with self:
                if self._watch == ticket:
                    self.watching = False

    @rx.event
    def stop(self):
        self._watch = new_generation()
        self.watching = False

    @rx.event
    async def cancel(self):
        if not self._shown():
            yield still_loading()
            return
        nid = self._route_sub_id()
        self.canceling = True
        self.cancel_error = ""
        yield
        try:
            await self._client().cancel_notification(nid)
        except ApiError as exc:
            self.canceling = False
            self.cancel_error = exc.message
            yield self._handle(exc)
            return
        self.canceling = False
        await self._fetch(nid)
        yield rx.toast.info("Scheduled notification canceled.", duration=3000)


def _detail_field(label: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium"),
        spacing="0",
    )


def notification_detail_page() -> rx.Component:
    n = NotificationDetailState.n
    return app_shell(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14),
                rx.text("Notifications", size="2"),
                align="center",
                spacing="1",
            ),
            href=app_href("/notifications"),
            color_scheme="gray",
            underline="none",
        ),
        rx.cond(
            NotificationDetailState.error != "",
            rx.box(error_callout(NotificationDetailState.error), margin_top="16px"),
            rx.cond(
                NotificationDetailState.loading & (n.get("id", "") == ""),
                loading(),
                rx.vstack(
                    rx.hstack(
                        rx.heading(n.get("title", ""), size="7", id="page-title"),
                        rx.box(badge(n.get("status", "")), id="notification-status"),
                        rx.cond(
                            NotificationDetailState.watching,
                            rx.hstack(
                                rx.spinner(size="1"),
                                rx.text("updating live", size="1", color_scheme="gray"),
                                align="center",
                                spacing="1",
                            ),
                        ),
                        rx.spacer(),
                        notification_edit.actions(
                            NotificationDetailState, NotificationDetailState.can_change
                        ),
                        rx.cond(
                            NotificationDetailState.can_cancel,
                            rx.button(
                                rx.icon("circle-x", size=16),
                                "Cancel scheduled send",
                                color_scheme="red",
                                variant="soft",
                                on_click=NotificationDetailState.cancel,
                                loading=NotificationDetailState.canceling,
                                id="cancel-notification",
                            ),
                        ),
                        align="center",
                        spacing="3",
                        width="100%",
                        wrap="wrap",
                    ),
                    rx.cond(
                        NotificationDetailState.cancel_error != "",
                        error_callout(NotificationDetailState.cancel_error),
                    ),
                    rx.card(
                        rx.vstack(
                            rx.cond(n.get("body", "") != "", rx.text(n.get("body", ""), size="3")),
                            rx.grid(
                                _detail_field("Channel", "#" + n.get("channel", "")),
                                _detail_field("Priority", n.get("priority", "")),
                                _detail_field("Created", n.get("created", "")),
                                _detail_field(
                                    "Scheduled for",
                                    rx.cond(n.get("send_at", "") != "", n.get("send_at", ""), "—"),
                                ),
                                _detail_field(
                                    "Sent",
                                    rx.cond(n.get("sent_at", "") != "", n.get("sent_at", ""), "—"),
                                ),
                                _detail_field(
                                    "Collapse key",
                                    rx.cond(
                                        n.get("collapse_key", "") != "",
                                        n.get("collapse_key", ""),
                                        "—",
                                    ),
                                ),
                                _detail_field(
                                    "TTL",
                                    rx.cond(n.get("ttl", "") != "", n.get("ttl", ""), "default"),
                                ),
                                _detail_field("Id", n.get("id", "")),
                                rx.cond(
                                    n.get("edited", "") != "",
                                    _detail_field("Edited", n.get("edited", "")),
                                ),
                                columns=rx.breakpoints(initial="2", md="4"),
                                spacing="4",
                                width="100%",
                            ),
                            rx.cond(
                                NotificationDetailState.data_text != "",
                                rx.vstack(
                                    rx.text("Data", size="1", color_scheme="gray"),
                                    rx.code_block(
                                        NotificationDetailState.data_text,
                                        language="json",
                                        width="100%",
                                        font_size="13px",
                                    ),
                                    spacing="1",
                                    width="100%",
                                ),
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        width="100%",
                    ),
                    rx.grid(
                        *[
                            rx.card(
                                rx.vstack(
                                    badge(label),
                                    rx.heading(n.get(key, "0"), size="6"),
                                    spacing="2",
                                    id=f"count-{key[2:]}",
                                ),
                                width="100%",
                            )
                            for label, key in (
                                ("PENDING", "n_pending"),
                                ("SENT", "n_sent"),
                                ("DELIVERED", "n_delivered"),
                                ("FAILED", "n_failed"),
                                ("HELD", "n_held"),
                                ("SKIPPED", "n_skipped"),
                                ("OPENED", "n_opened"),
                            )
                        ],
                        columns=rx.breakpoints(initial="2", sm="4"),
                        spacing="4",
                        width="100%",
                    ),
                    notification_edit.reasons_card(NotificationDetailState.reasons),
                    rx.heading("Deliveries", size="4", margin_top="8px"),
                    rx.cond(
                        NotificationDetailState.deliveries_error != "",
                        error_callout(NotificationDetailState.deliveries_error),
                    ),
                    deliveries_section(
                        NotificationDetailState.deliveries,
                        NotificationDetailState.has_more,
                        n.get("status", "") == "SCHEDULED",
                    ),
                    rx.cond(
                        NotificationDetailState.attempts.length() > 0,
                        attempt_timeline(NotificationDetailState.attempts),
                    ),
                    spacing="4",
                    width="100%",
                    margin_top="16px",
                ),
            ),
        ),
        on_unmount=NotificationDetailState.stop,
    )


def register(app: rx.App) -> None:
    app.add_page(
        notification_detail_page,
        route="/apps/[aid]/notifications/[nid]",
        title="Notification · Booper",
        on_load=[*APP_PAGE, NotificationDetailState.load],
    )
