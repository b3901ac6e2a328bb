"""An app's overview: today's quota, devices, channels, delivery numbers and chart."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    error_callout,
    loading,
    page_header,
    stat_card,
)
from dashboard.layout import app_href, app_shell
from dashboard.pages.overview_chart import delivery_chart
from dashboard.session import (
    APP_PAGE,
    AppContext,
)


class OverviewState(AppContext):
    loading: bool = True
    error: str = ""
    today: int = 0
    quota: int = -1  # -1: unlimited
    active_devices: int = 0
    channel_count: int = 0
    private_channels: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    opened: int = 0
    open_rate: str = "—"  # usage.openRate: opened per delivery that reached a device
    created: str = ""

    chart: list[dict[str, Any]] = []
    chart_loading: bool = True
    chart_error: str = ""
    chart_hours: int = 24

    @rx.var
    def quota_text(self) -> str:
        return forms.format_quota(self.today, None if self.quota < 0 else self.quota)

    @rx.var
    def quota_percent(self) -> int:
        return forms.quota_percent(self.today, None if self.quota < 0 else self.quota)

    @rx.var
    def total_deliveries(self) -> int:
        return self.pending + self.sent + self.delivered + self.failed

    @rx.var
    def success_rate(self) -> str:
        done = self.delivered + self.failed
        if done == 0:
            return "—"
        return f"{100 * self.delivered / done:.1f}%"

    @rx.var
    def reached(self) -> int:
        """Deliveries that reached a device (the open rate's denominator, as the API counts)."""
        return self.sent + self.delivered

    @rx.var
    def chart_empty(self) -> bool:
        return all(
            (int(b.get("sent", 0)) + int(b.get("delivered", 0)) + int(b.get("failed", 0))) == 0
            for b in self.chart
        )

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        yield
        client = self._client()
        try:
            app = await client.app_overview(app_id)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            yield self._handle(exc)
            return
        usage = app.get("usage") or {}
        self.today = int(usage.get("notificationsToday") or 0)
        quota = usage.get("dailyQuota")
        self.quota = -1 if quota is None else int(quota)
        self.active_devices = int(usage.get("activeDevices") or 0)
        counts = usage.get("deliveries") or {}
        self.pending = int(counts.get("pending") or 0)
        self.sent = int(counts.get("sent") or 0)
        self.delivered = int(counts.get("delivered") or 0)
        self.failed = int(counts.get("failed") or 0)
        self.opened = int(counts.get("opened") or 0)
        rate = usage.get("openRate")
        self.open_rate = "—" if rate is None else f"{100 * float(rate):.1f}%"
        channels = app.get("channels") or []
        self.channel_count = len(channels)
        self.private_channels = sum(1 for c in channels if c.get("visibility") == "PRIVATE")
        self.created = forms.format_time(app.get("createdAt"))
        self.loading = False
        yield OverviewState.load_chart

    @rx.event
    async def load_chart(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.chart_loading = True
        self.chart_error = ""
        yield
        try:
            buckets = await self._client().delivery_stats(app_id, self.chart_hours)
        except ApiError as exc:
            self.chart_loading = False
            self.chart_error = exc.message
            yield self._handle(exc)
            return
        chart = []
        for bucket in buckets:
            start = forms.parse_time(bucket.get("start"))
            chart.append(
                {
                    "time": start.strftime("%H:%M") if start else "",
                    "sent": int(bucket.get("sent") or 0),
                    "delivered": int(bucket.get("delivered") or 0),
                    "failed": int(bucket.get("failed") or 0),
                }
            )
        self.chart = chart
        self.chart_loading = False


def _step(done, number: str, title: str, text: str, label: str, suffix: str) -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.cond(done, rx.icon("check", size=14), rx.text(number, size="2", weight="bold")),
            width="28px",
            height="28px",
            min_width="28px",
            border_radius="999px",
            bg=rx.cond(done, rx.color("green", 4), rx.color("iris", 4)),
            color=rx.cond(done, rx.color("green", 11), rx.color("iris", 11)),
        ),
        rx.vstack(
            rx.text(title, weight="medium", size="2"),
            rx.text(text, size="2", color_scheme="gray"),
            spacing="0",
            flex="1",
        ),
        rx.cond(
            done,
            rx.fragment(),
            rx.link(
                rx.button(label, size="1", variant="soft"),
                href=app_href(suffix),
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def _first_run_guide() -> rx.Component:
    """On an app that has not sent yet: the three steps to a first notification."""
    return rx.card(
        rx.vstack(
            rx.heading("Get started", size="4"),
            _step(
                OverviewState.channel_count > 0,
                "1",
                "Create a channel",
                "Devices subscribe to channels; you send to a channel.",
                "Channels",
                "/channels",
            ),
            _step(
                OverviewState.active_devices > 0,
                "2",
                "Register a device",
                "From an Expo app or a browser: the code is ready in Settings.",
                "Settings",
                "/settings",
            ),
            _step(
                OverviewState.total_deliveries > 0,
                "3",
                "Send a notification",
                "From here, or from your server with an API key.",
                "Send",
                "/send",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="first-run-guide",
    )


def overview_page() -> rx.Component:
    return app_shell(
        page_header("Overview", "Usage today, devices and how deliveries turned out."),
        rx.cond(
            OverviewState.error != "",
            error_callout(OverviewState.error),
            rx.cond(
                OverviewState.loading,
                loading(),
                rx.vstack(
                    rx.cond(OverviewState.total_deliveries == 0, _first_run_guide()),
                    rx.grid(
                        rx.card(
                            rx.vstack(
                                rx.hstack(
                                    rx.text(
                                        "Notifications today",
                                        size="2",
                                        color_scheme="gray",
                                        weight="medium",
                                    ),
                                    rx.spacer(),
                                    badge(AppContext.app_plan),
                                    width="100%",
                                ),
                                rx.heading(OverviewState.quota_text, size="7", id="quota-text"),
                                rx.cond(
                                    OverviewState.quota >= 0,
                                    rx.progress(
                                        value=OverviewState.quota_percent,
                                        color_scheme=rx.cond(
                                            OverviewState.quota_percent >= 90, "red", "iris"
                                        ),
                                        width="100%",
                                    ),
                                    rx.text(
                                        "Unlimited on this plan", size="1", color_scheme="gray"
                                    ),
                                ),
                                spacing="2",
                                width="100%",
                            ),
                            width="100%",
                        ),
                        stat_card(
                            "Active devices",
                            OverviewState.active_devices,
                            "smartphone",
                            color="teal",
                            id="active-devices",
                        ),
                        stat_card(
                            "Channels",
                            OverviewState.channel_count,
                            "hash",
                            OverviewState.private_channels.to_string() + " private",
                            color="violet",
                        ),
                        stat_card(
                            "Success rate",
                            OverviewState.success_rate,
                            "circle-check",
                            "delivered / finished",
                            color="green",
                        ),
                        stat_card(
                            "Open rate",
                            OverviewState.open_rate,
                            "mouse-pointer-click",
                            OverviewState.opened.to_string()
                            + " opened / "
                            + OverviewState.reached.to_string()
                            + " delivered",
                            color="teal",
                            id="open-rate",
                        ),
                        columns=rx.breakpoints(initial="1", sm="2", lg="5"),
                        spacing="4",
                        width="100%",
                    ),
                    rx.card(
                        rx.vstack(
                            rx.heading("Delivery outcomes", size="4"),
                            rx.grid(
                                *[
                                    rx.vstack(
                                        rx.hstack(badge(status), spacing="2"),
                                        rx.heading(value, size="6"),
                                        spacing="2",
                                        align="start",
                                        id=f"outcome-{status.lower()}",
                                    )
                                    for status, value in (
                                        ("PENDING", OverviewState.pending),
                                        ("SENT", OverviewState.sent),
                                        ("DELIVERED", OverviewState.delivered),
                                        ("FAILED", OverviewState.failed),
                                    )
                                ],
                                columns=rx.breakpoints(initial="2", sm="4"),
                                width="100%",
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        width="100%",
                    ),
                    delivery_chart(
                        OverviewState.chart,
                        OverviewState.chart_loading,
                        OverviewState.chart_error,
                        OverviewState.chart_empty,
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        overview_page,
        route="/apps/[aid]",
        title="Overview · Booper",
        on_load=[*APP_PAGE, OverviewState.load],
    )
