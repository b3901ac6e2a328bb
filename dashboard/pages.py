"""The dashboard's pages (components only; behaviour lives in dashboard.state)."""

from __future__ import annotations

import reflex as rx

from dashboard.components import (
    app_shell,
    badge,
    copy_button,
    empty_state,
    error_callout,
    field_error,
    info_callout,
    loading,
    not_found,
    page_header,
    pager,
    shell,
    stat_card,
)
from dashboard.state import (
    AccessCodeState,
    AppContext,
    AppsState,
    AuthState,
    ChannelsState,
    KeysState,
    LiveState,
    NotificationDetailState,
    NotificationsState,
    OverviewState,
    SendState,
    Session,
    SubscribersState,
)

# ==========================================================================
# Sign up / log in


def _auth_card(title: str, subtitle: str, button: str, on_submit, new: bool) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.icon("bell-ring", size=22, color="white"),
                    bg=rx.color("iris", 9),
                    border_radius="10px",
                    width="40px",
                    height="40px",
                ),
                rx.heading("Booper", size="7", weight="bold"),
                align="center",
                spacing="3",
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading(title, size="5", id="page-title"),
                        rx.text(subtitle, color_scheme="gray", size="2"),
                        rx.cond(
                            (Session.flash != "") & (not new),
                            info_callout(Session.flash, id="flash"),
                        )
                        if not new
                        else rx.fragment(),
                        rx.cond(
                            AuthState.error != "", error_callout(AuthState.error, id="auth-error")
                        ),
                        rx.vstack(
                            rx.text("Email", size="2", weight="medium"),
                            rx.input(
                                name="email",
                                type="email",
                                placeholder="you@example.com",
                                size="3",
                                width="100%",
                                id="email",
                                auto_complete="email",
                            ),
                            field_error(AuthState.email_error),
                            spacing="1",
                            width="100%",
                        ),
                        rx.vstack(
                            rx.text("Password", size="2", weight="medium"),
                            rx.input(
                                name="password",
                                type="password",
                                placeholder="At least 8 characters" if new else "Your password",
                                size="3",
                                width="100%",
                                id="password",
                                auto_complete="new-password" if new else "current-password",
                            ),
                            field_error(AuthState.password_error),
                            spacing="1",
                            width="100%",
                        ),
                        rx.button(
                            button,
                            type="submit",
                            size="3",
                            width="100%",
                            loading=AuthState.busy,
                            id="submit",
                        ),
                        rx.cond(
                            new,
                            rx.text(
                                "Already have an account? ",
                                rx.link("Log in", href="/login", id="to-login"),
                                size="2",
                            ),
                            rx.text(
                                "New to Booper? ",
                                rx.link("Create an account", href="/signup", id="to-signup"),
                                size="2",
                            ),
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=on_submit,
                    no_validate=True,
                ),
                size="4",
                width="400px",
            ),
            align="center",
            spacing="5",
        ),
        min_height="100vh",
        bg=rx.color("gray", 2),
    )


def login_page() -> rx.Component:
    return _auth_card(
        "Log in", "Welcome back. Log in to manage your apps.", "Log in", AuthState.log_in, new=False
    )


def signup_page() -> rx.Component:
    return _auth_card(
        "Create your account",
        "Send push notifications to Expo apps and browsers.",
        "Sign up",
        AuthState.sign_up,
        new=True,
    )


# ==========================================================================
# Apps


def _secret_callout(secret, on_dismiss, text: str, test_id: str) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("key-round")),
        rx.vstack(
            rx.text(text, weight="bold", size="2"),
            rx.text("Copy it now: it is shown only this once.", size="2"),
            rx.hstack(
                rx.code(
                    secret,
                    size="3",
                    variant="outline",
                    id=test_id,
                    style={"word-break": "break-all"},
                ),
                copy_button(secret),
                rx.button("Done", variant="ghost", on_click=on_dismiss),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            align="start",
        ),
        color_scheme="green",
        variant="surface",
        width="100%",
        margin_bottom="20px",
    )


def _create_app_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "New app", size="3", id="new-app")),
        rx.dialog.content(
            rx.dialog.title("Create an app"),
            rx.dialog.description(
                "An app owns channels, API keys and devices.", size="2", margin_bottom="16px"
            ),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        placeholder="My app",
                        size="3",
                        width="100%",
                        id="app-name-input",
                        auto_focus=True,
                    ),
                    rx.cond(
                        AppsState.create_error != "",
                        rx.text(AppsState.create_error, color_scheme="red", size="2"),
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button(
                            "Create app", type="submit", loading=AppsState.creating, id="create-app"
                        ),
                        justify="end",
                        width="100%",
                        spacing="3",
                    ),
                    spacing="4",
                ),
                on_submit=AppsState.create,
            ),
            max_width="440px",
        ),
        open=AppsState.create_open,
        on_open_change=AppsState.set_create_open,
    )


def _app_card(app) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.link(
                    rx.heading(app["name"], size="4"),
                    href="/apps/" + app["id"],
                    underline="none",
                    color=rx.color("gray", 12),
                    class_name="app-link",
                ),
                rx.spacer(),
                badge(app["plan"]),
                width="100%",
                align="center",
            ),
            rx.text("Created ", app["created"], size="1", color_scheme="gray"),
            rx.grid(
                rx.vstack(
                    rx.text("Today", size="1", color_scheme="gray"),
                    rx.text(app["today"], size="2", weight="medium"),
                    spacing="0",
                ),
                rx.vstack(
                    rx.text("Channels", size="1", color_scheme="gray"),
                    rx.text(app["channels"], size="2", weight="medium"),
                    spacing="0",
                ),
                rx.vstack(
                    rx.text("Devices", size="1", color_scheme="gray"),
                    rx.text(app["devices"], size="2", weight="medium"),
                    spacing="0",
                ),
                columns="3",
                width="100%",
            ),
            rx.hstack(
                rx.link(
                    rx.button("Open", rx.icon("arrow-right", size=14), variant="soft", size="2"),
                    href="/apps/" + app["id"],
                ),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("trash-2", size=16),
                    variant="ghost",
                    color_scheme="red",
                    on_click=AppsState.ask_delete(app["id"], app["name"]),
                    aria_label="Delete app",
                ),
                width="100%",
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        class_name="app-card",
    )


def _delete_app_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", AppsState.delete_name, "?"),
            rx.alert_dialog.description(
                "This deletes the app with its channels, API keys, notifications and delivery history. "  # noqa: E501
                "Devices stop receiving its notifications. This cannot be undone.",
                size="2",
            ),
            rx.cond(
                AppsState.delete_error != "",
                error_callout(AppsState.delete_error, margin_top="12px"),
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Cancel",
                        variant="soft",
                        color_scheme="gray",
                        on_click=AppsState.cancel_delete,
                    )
                ),
                rx.button(
                    "Delete app",
                    color_scheme="red",
                    on_click=AppsState.confirm_delete,
                    loading=AppsState.deleting,
                    id="confirm-delete",
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=AppsState.delete_id != "",
    )


def apps_page() -> rx.Component:
    return shell(
        page_header(
            "Your apps",
            "Each app has its own channels, keys, devices and quota.",
            _create_app_dialog(),
        ),
        rx.cond(
            AppsState.created_secret != "",
            _secret_callout(
                AppsState.created_secret,
                AppsState.dismiss_secret,
                "Your app's first API key",
                "new-app-secret",
            ),
        ),
        rx.cond(
            AppsState.error != "",
            error_callout(AppsState.error),
            rx.cond(
                AppsState.loading & ~AppsState.has_apps,
                loading("Loading your apps…"),
                rx.cond(
                    AppsState.has_apps,
                    rx.grid(
                        rx.foreach(AppsState.apps, _app_card),
                        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                        spacing="4",
                        width="100%",
                    ),
                    empty_state(
                        "rocket",
                        "No apps yet",
                        "Create your first app to get an API key, channels and a place to send notifications from.",  # noqa: E501
                        rx.button(
                            rx.icon("plus", size=16),
                            "Create an app",
                            on_click=AppsState.set_create_open(True),
                        ),
                    ),
                ),
            ),
        ),
        _delete_app_dialog(),
    )


# ==========================================================================
# Overview


def _chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Deliveries, last 24 hours", size="4"),
                rx.spacer(),
                rx.hstack(
                    *[
                        rx.hstack(
                            rx.box(
                                width="10px", height="10px", border_radius="3px", bg=rx.color(c, 9)
                            ),
                            rx.text(label, size="1", color_scheme="gray"),
                            align="center",
                            spacing="1",
                        )
                        for label, c in (
                            ("Sent", "blue"),
                            ("Delivered", "green"),
                            ("Failed", "red"),
                        )
                    ],
                    spacing="3",
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                OverviewState.chart_error != "",
                error_callout(OverviewState.chart_error),
                rx.cond(
                    OverviewState.chart_loading,
                    loading("Loading the chart…"),
                    rx.box(
                        rx.recharts.bar_chart(
                            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                            rx.recharts.x_axis(data_key="time", tick_line=False, font_size=12),
                            rx.recharts.y_axis(
                                allow_decimals=False, tick_line=False, font_size=12, width=40
                            ),
                            rx.recharts.graphing_tooltip(),
                            rx.recharts.bar(
                                data_key="sent", name="Sent", stack_id="a", fill=rx.color("blue", 9)
                            ),
                            rx.recharts.bar(
                                data_key="delivered",
                                name="Delivered",
                                stack_id="a",
                                fill=rx.color("green", 9),
                            ),
                            rx.recharts.bar(
                                data_key="failed",
                                name="Failed",
                                stack_id="a",
                                fill=rx.color("red", 9),
                                radius=[3, 3, 0, 0],
                            ),
                            data=OverviewState.chart,
                            width="100%",
                            height=260,
                        ),
                        rx.cond(
                            OverviewState.chart_empty,
                            rx.text(
                                "No deliveries in the last 24 hours yet.",
                                size="2",
                                color_scheme="gray",
                                text_align="center",
                                width="100%",
                            ),
                        ),
                        width="100%",
                        id="delivery-chart",
                    ),
                ),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
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
                        columns=rx.breakpoints(initial="1", sm="2", lg="4"),
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
                                columns="4",
                                width="100%",
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        width="100%",
                    ),
                    _chart(),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


# ==========================================================================
# API keys


def _key_row(key) -> rx.Component:
    revoked = key["revoked"] != ""
    return rx.table.row(
        rx.table.cell(rx.code(key["prefix"], "…")),
        rx.table.cell(key["created"]),
        rx.table.cell(key["last_used"]),
        rx.table.cell(
            rx.cond(
                revoked,
                rx.badge("Revoked ", key["revoked"], color_scheme="gray", variant="soft"),
                rx.badge("Active", color_scheme="green", variant="soft"),
            )
        ),
        rx.table.cell(
            rx.cond(
                revoked,
                rx.fragment(),
                rx.button(
                    "Revoke",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=KeysState.ask_revoke(key["id"], key["prefix"]),
                ),
            ),
            text_align="right",
        ),
        align="center",
        class_name="key-row",
    )


def keys_page() -> rx.Component:
    return app_shell(
        page_header(
            "API keys",
            "Your servers send notifications with an API key: Authorization: Bearer bk_…",
            rx.button(
                rx.icon("plus", size=16),
                "Create key",
                on_click=KeysState.create,
                loading=KeysState.creating,
                id="create-key",
            ),
        ),
        rx.cond(
            KeysState.new_secret != "",
            _secret_callout(
                KeysState.new_secret, KeysState.dismiss_secret, "Your new API key", "new-key-secret"
            ),
        ),
        rx.cond(
            KeysState.action_error != "",
            error_callout(KeysState.action_error, margin_bottom="16px"),
        ),
        rx.cond(
            KeysState.error != "",
            error_callout(KeysState.error),
            rx.cond(
                KeysState.loading & ~KeysState.has_keys,
                loading(),
                rx.cond(
                    KeysState.has_keys,
                    rx.card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Key"),
                                    rx.table.column_header_cell("Created"),
                                    rx.table.column_header_cell("Last used"),
                                    rx.table.column_header_cell("Status"),
                                    rx.table.column_header_cell(""),
                                )
                            ),
                            rx.table.body(rx.foreach(KeysState.keys, _key_row)),
                            width="100%",
                        ),
                        width="100%",
                    ),
                    empty_state(
                        "key",
                        "No API keys",
                        "Create a key so that your server can send notifications.",
                    ),
                ),
            ),
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.content(
                rx.alert_dialog.title("Revoke key ", KeysState.revoke_prefix, "…?"),
                rx.alert_dialog.description(
                    "Requests with this key will be refused from now on. This cannot be undone.",
                    size="2",
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(
                        rx.button(
                            "Cancel",
                            variant="soft",
                            color_scheme="gray",
                            on_click=KeysState.cancel_revoke,
                        )
                    ),
                    rx.button(
                        "Revoke key",
                        color_scheme="red",
                        on_click=KeysState.confirm_revoke,
                        id="confirm-revoke",
                    ),
                    justify="end",
                    spacing="3",
                    margin_top="16px",
                ),
            ),
            open=KeysState.revoke_id != "",
        ),
    )


# ==========================================================================
# Channels


def _channel_row(ch) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                rx.hstack(
                    rx.icon("hash", size=14),
                    rx.text(ch["name"], weight="medium"),
                    spacing="1",
                    align="center",
                ),
                href="/apps/" + AppContext.app_id + "/channels/" + ch["id"],
                class_name="channel-link",
            )
        ),
        rx.table.cell(badge(ch["visibility"])),
        rx.table.cell(ch["subscribers"], class_name="subscriber-count"),
        rx.table.cell(ch["created"]),
        rx.table.cell(
            rx.hstack(
                rx.link(
                    rx.button("Subscribers", size="1", variant="soft"),
                    href="/apps/" + AppContext.app_id + "/channels/" + ch["id"],
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=ChannelsState.ask_delete(ch["id"], ch["name"]),
                    aria_label="Delete channel",
                ),
                justify="end",
                spacing="3",
                align="center",
            ),
        ),
        align="center",
    )


def channels_page() -> rx.Component:
    return app_shell(
        page_header("Channels", "Devices subscribe to channels; you send to a channel."),
        rx.card(
            rx.form(
                rx.hstack(
                    rx.vstack(
                        rx.text("New channel", size="2", weight="medium"),
                        rx.input(
                            name="name",
                            placeholder="e.g. orders.shipped",
                            id="channel-name",
                            width="280px",
                        ),
                        spacing="1",
                    ),
                    rx.vstack(
                        rx.text("Visibility", size="2", weight="medium"),
                        rx.segmented_control.root(
                            rx.segmented_control.item("Private", value="PRIVATE"),
                            rx.segmented_control.item("Public", value="PUBLIC"),
                            value=ChannelsState.new_visibility,
                            on_change=ChannelsState.set_new_visibility,
                            id="channel-visibility",
                        ),
                        spacing="1",
                    ),
                    rx.button(
                        rx.icon("plus", size=16),
                        "Create channel",
                        type="submit",
                        loading=ChannelsState.creating,
                        id="create-channel",
                    ),
                    align="end",
                    spacing="4",
                    wrap="wrap",
                ),
                on_submit=ChannelsState.create,
            ),
            rx.cond(
                ChannelsState.create_error != "",
                rx.text(
                    ChannelsState.create_error,
                    color_scheme="red",
                    size="2",
                    margin_top="8px",
                    class_name="field-error",
                ),
            ),
            rx.text(
                rx.cond(
                    ChannelsState.new_visibility == "PRIVATE",
                    "Private: devices join with an access code, and only this app may send.",
                    "Public: any device may subscribe by name, and anyone may notify it (rate limited).",  # noqa: E501
                ),
                size="1",
                color_scheme="gray",
                margin_top="8px",
            ),
            width="100%",
            margin_bottom="20px",
        ),
        rx.cond(
            ChannelsState.error != "",
            error_callout(ChannelsState.error),
            rx.cond(
                ChannelsState.loading & ~ChannelsState.has_channels,
                loading(),
                rx.cond(
                    ChannelsState.has_channels,
                    rx.card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Name"),
                                    rx.table.column_header_cell("Visibility"),
                                    rx.table.column_header_cell("Subscribers"),
                                    rx.table.column_header_cell("Created"),
                                    rx.table.column_header_cell(""),
                                )
                            ),
                            rx.table.body(rx.foreach(ChannelsState.channels, _channel_row)),
                            width="100%",
                        ),
                        width="100%",
                    ),
                    empty_state(
                        "hash",
                        "No channels yet",
                        "Create a channel above. Private channels are joined with access codes.",
                    ),
                ),
            ),
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.content(
                rx.alert_dialog.title("Delete channel ", ChannelsState.delete_name, "?"),
                rx.alert_dialog.description(
                    "Its subscriptions and notifications go with it. This cannot be undone.",
                    size="2",
                ),
                rx.cond(
                    ChannelsState.delete_error != "",
                    error_callout(ChannelsState.delete_error, margin_top="12px"),
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(
                        rx.button(
                            "Cancel",
                            variant="soft",
                            color_scheme="gray",
                            on_click=ChannelsState.cancel_delete,
                        )
                    ),
                    rx.button(
                        "Delete channel",
                        color_scheme="red",
                        on_click=ChannelsState.confirm_delete,
                        id="confirm-delete-channel",
                    ),
                    justify="end",
                    spacing="3",
                    margin_top="16px",
                ),
            ),
            open=ChannelsState.delete_id != "",
        ),
    )


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
            href="/apps/" + AppContext.app_id + "/channels",
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
        rx.cond(
            SubscribersState.error != "",
            error_callout(SubscribersState.error),
            rx.cond(
                SubscribersState.loading & (SubscribersState.rows.length() == 0),
                loading(),
                rx.cond(
                    SubscribersState.rows.length() > 0,
                    rx.card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in (
                                            "Platform",
                                            "Token",
                                            "Identifier",
                                            "Device",
                                            "Subscribed",
                                            "Last seen",
                                        )
                                    ]
                                )
                            ),
                            rx.table.body(rx.foreach(SubscribersState.rows, _subscriber_row)),
                            width="100%",
                        ),
                        pager(
                            SubscribersState.page,
                            SubscribersState.has_next,
                            SubscribersState.prev_page,
                            SubscribersState.next_page,
                        ),
                        width="100%",
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


# ==========================================================================
# Access codes


def _channel_check(ch) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.checkbox(
                checked=AccessCodeState.selected.contains(ch["id"]),
                on_change=lambda checked: AccessCodeState.toggle(ch["id"], checked),
                class_name="channel-check",
                id="check-" + ch["name"],
            ),
            rx.text("#", ch["name"], weight="medium"),
            rx.spacer(),
            rx.text(ch["subscribers"], " subscribers", size="1", color_scheme="gray"),
            align="center",
            width="100%",
        ),
        size="1",
        width="100%",
    )


def access_codes_page() -> rx.Component:
    return app_shell(
        page_header(
            "Access codes",
            "A one-time code lets one device join chosen private channels. Single use.",
        ),
        rx.cond(
            AccessCodeState.error != "",
            error_callout(AccessCodeState.error),
            rx.cond(
                AccessCodeState.loading & (AccessCodeState.private_channels.length() == 0),
                loading(),
                rx.cond(
                    AccessCodeState.private_channels.length() == 0,
                    empty_state(
                        "lock",
                        "No private channels",
                        "Access codes grant private channels. Create a private channel first.",
                        rx.link(
                            rx.button("Go to channels"),
                            href="/apps/" + AppContext.app_id + "/channels",
                        ),
                    ),
                    rx.grid(
                        rx.card(
                            rx.form(
                                rx.vstack(
                                    rx.heading("New code", size="4"),
                                    rx.text("Channels", size="2", weight="medium"),
                                    rx.vstack(
                                        rx.foreach(
                                            AccessCodeState.private_channels, _channel_check
                                        ),
                                        spacing="2",
                                        width="100%",
                                    ),
                                    rx.text("Identifier (optional)", size="2", weight="medium"),
                                    rx.input(
                                        name="identifier",
                                        placeholder="e.g. customer-1234",
                                        width="100%",
                                        id="identifier",
                                    ),
                                    rx.text(
                                        "Shown on the device that redeems the code, so you know whose it is.",  # noqa: E501
                                        size="1",
                                        color_scheme="gray",
                                    ),
                                    rx.text("Valid for", size="2", weight="medium"),
                                    rx.select(
                                        ["5", "15", "60"],
                                        value=AccessCodeState.minutes,
                                        on_change=AccessCodeState.set_minutes,
                                    ),
                                    rx.text("minutes", size="1", color_scheme="gray"),
                                    rx.cond(
                                        AccessCodeState.form_error != "",
                                        error_callout(AccessCodeState.form_error),
                                    ),
                                    rx.button(
                                        rx.icon("key-round", size=16),
                                        "Generate code",
                                        type="submit",
                                        loading=AccessCodeState.busy,
                                        width="100%",
                                        id="generate-code",
                                    ),
                                    spacing="2",
                                    width="100%",
                                ),
                                on_submit=AccessCodeState.generate,
                            ),
                        ),
                        rx.card(
                            rx.cond(
                                AccessCodeState.code != "",
                                rx.vstack(
                                    rx.text("Access code", size="2", color_scheme="gray"),
                                    rx.text(
                                        AccessCodeState.code_display,
                                        font_size="64px",
                                        font_weight="800",
                                        letter_spacing="0.08em",
                                        font_family="ui-monospace, SFMono-Regular, Menlo, monospace",  # noqa: E501
                                        id="access-code",
                                        opacity=rx.cond(AccessCodeState.remaining > 0, "1", "0.35"),
                                        data_code=AccessCodeState.code,
                                    ),
                                    rx.hstack(
                                        rx.icon("timer", size=16),
                                        rx.cond(
                                            AccessCodeState.remaining > 0,
                                            rx.text(
                                                "Expires in ",
                                                rx.text.strong(
                                                    AccessCodeState.countdown, id="countdown"
                                                ),
                                                size="3",
                                            ),
                                            rx.text(
                                                "Expired",
                                                color_scheme="red",
                                                weight="bold",
                                                id="countdown",
                                            ),
                                        ),
                                        align="center",
                                        spacing="2",
                                    ),
                                    rx.text(
                                        "For ",
                                        AccessCodeState.code_channels,
                                        size="2",
                                        color_scheme="gray",
                                    ),
                                    rx.cond(
                                        AccessCodeState.code_identifier != "",
                                        rx.text(
                                            "Identifier: ",
                                            AccessCodeState.code_identifier,
                                            size="2",
                                            color_scheme="gray",
                                        ),
                                    ),
                                    rx.hstack(
                                        copy_button(AccessCodeState.code, "Copy code"),
                                        rx.button(
                                            "Clear",
                                            variant="ghost",
                                            color_scheme="gray",
                                            on_click=AccessCodeState.clear_code,
                                        ),
                                        spacing="3",
                                    ),
                                    align="center",
                                    spacing="3",
                                    width="100%",
                                    padding_y="24px",
                                ),
                                empty_state(
                                    "key-round",
                                    "No code yet",
                                    "Choose channels and generate a code. It appears here, large enough to read out.",  # noqa: E501
                                    border="none",
                                ),
                            ),
                        ),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                ),
            ),
        ),
        on_unmount=AccessCodeState.stop,
    )


# ==========================================================================
# Send


def _labeled(
    label: str, control: rx.Component, error=None, hint: str | None = None
) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(error) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def send_page() -> rx.Component:
    err = SendState.errors
    return app_shell(
        page_header("Send a notification", "Goes to every device subscribed to the channel."),
        rx.cond(
            SendState.load_error != "",
            error_callout(SendState.load_error),
            rx.cond(
                SendState.loading & ~SendState.has_channels,
                loading(),
                rx.cond(
                    ~SendState.has_channels,
                    empty_state(
                        "hash",
                        "No channels to send to",
                        "Create a channel first; devices subscribe to it and receive what you send.",  # noqa: E501
                        rx.link(
                            rx.button("Go to channels"),
                            href="/apps/" + AppContext.app_id + "/channels",
                        ),
                    ),
                    rx.card(
                        rx.form(
                            rx.vstack(
                                rx.cond(
                                    SendState.error != "",
                                    error_callout(SendState.error, id="send-error"),
                                ),
                                rx.grid(
                                    _labeled(
                                        "Channel",
                                        rx.select.root(
                                            rx.select.trigger(width="100%", id="send-channel"),
                                            rx.select.content(
                                                rx.foreach(
                                                    SendState.channels,
                                                    lambda c: rx.select.item(
                                                        c["label"], value=c["id"]
                                                    ),
                                                )
                                            ),
                                            value=SendState.channel_id,
                                            on_change=SendState.set_channel_id,
                                        ),
                                        err.get("channel", ""),
                                    ),
                                    _labeled(
                                        "Priority",
                                        rx.select.root(
                                            rx.select.trigger(width="100%", id="send-priority"),
                                            rx.select.content(
                                                rx.select.item("Default", value="DEFAULT"),
                                                rx.select.item("Normal", value="NORMAL"),
                                                rx.select.item("High", value="HIGH"),
                                            ),
                                            value=SendState.priority,
                                            on_change=SendState.set_priority,
                                        ),
                                    ),
                                    columns="2",
                                    spacing="4",
                                    width="100%",
                                ),
                                _labeled(
                                    "Title",
                                    rx.input(
                                        name="title",
                                        placeholder="Your order has shipped",
                                        width="100%",
                                        id="send-title",
                                    ),
                                ),
                                _labeled(
                                    "Body",
                                    rx.text_area(
                                        name="body",
                                        placeholder="It will arrive on Tuesday.",
                                        rows="3",
                                        width="100%",
                                        id="send-body",
                                        on_focus=SendState.clear_error("body"),
                                    ),
                                    err.get("body", ""),
                                ),
                                _labeled(
                                    "Data (JSON object, optional)",
                                    rx.text_area(
                                        name="data",
                                        placeholder='{"orderId": 42}',
                                        rows="4",
                                        width="100%",
                                        id="send-data",
                                        font_family="ui-monospace, SFMono-Regular, Menlo, monospace",  # noqa: E501
                                        on_blur=SendState.check_data,
                                    ),
                                    err.get("data", ""),
                                    "Delivered to the app with the notification; checked as you leave the field.",  # noqa: E501
                                ),
                                rx.grid(
                                    _labeled(
                                        "Collapse key",
                                        rx.input(
                                            name="collapse_key",
                                            placeholder="order-42",
                                            width="100%",
                                            id="send-collapse",
                                        ),
                                        err.get("collapse_key", ""),
                                        "Newer replaces older with the same key.",
                                    ),
                                    _labeled(
                                        "TTL (seconds)",
                                        rx.input(
                                            name="ttl",
                                            type="number",
                                            min=0,
                                            placeholder="default",
                                            width="100%",
                                            id="send-ttl",
                                            on_focus=SendState.clear_error("ttl"),
                                        ),
                                        err.get("ttl", ""),
                                        "How long providers keep trying.",
                                    ),
                                    _labeled(
                                        "Schedule (your local time)",
                                        rx.input(
                                            name="send_at",
                                            type="datetime-local",
                                            width="100%",
                                            id="send-at",
                                            on_focus=SendState.clear_error("send_at"),
                                        ),
                                        err.get("send_at", ""),
                                        "Empty: send now.",
                                    ),
                                    columns="3",
                                    spacing="4",
                                    width="100%",
                                ),
                                rx.hstack(
                                    rx.spacer(),
                                    rx.button(
                                        rx.icon("send", size=16),
                                        "Send notification",
                                        type="submit",
                                        size="3",
                                        loading=SendState.sending,
                                        id="send-submit",
                                    ),
                                    width="100%",
                                ),
                                spacing="4",
                                width="100%",
                            ),
                            on_submit=SendState.send,
                        ),
                        width="100%",
                        max_width="820px",
                    ),
                ),
            ),
        ),
    )


# ==========================================================================
# Notifications


def _counts_inline(row) -> rx.Component:
    return rx.hstack(
        rx.tooltip(
            rx.badge(row["n_delivered"], color_scheme="green", variant="soft"), content="delivered"
        ),
        rx.tooltip(rx.badge(row["n_sent"], color_scheme="blue", variant="soft"), content="sent"),
        rx.tooltip(
            rx.badge(row["n_pending"], color_scheme="amber", variant="soft"), content="pending"
        ),
        rx.tooltip(rx.badge(row["n_failed"], color_scheme="red", variant="soft"), content="failed"),
        spacing="1",
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


def _delivery_row(d) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.badge(d["platform"], variant="outline", size="1"),
                    rx.code(d["device"], size="1"),
                    spacing="2",
                    align="center",
                ),
                rx.cond(
                    d["identifier"] != "", rx.text(d["identifier"], size="1", color_scheme="gray")
                ),
                spacing="1",
            )
        ),
        rx.table.cell(badge(d["status"]), class_name="delivery-status"),
        rx.table.cell(d["attempts"]),
        rx.table.cell(
            rx.cond(
                d["ticket"] != "", rx.code(d["ticket"], size="1"), rx.text("—", color_scheme="gray")
            )
        ),
        rx.table.cell(
            rx.cond(
                d["error"] != "",
                rx.text(d["error"], color_scheme="red", size="2"),
                rx.text("—", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.text(d["updated"], size="2")),
        align="center",
    )


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
            href="/apps/" + AppContext.app_id + "/notifications",
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
                            )
                        ],
                        columns="4",
                        spacing="4",
                        width="100%",
                    ),
                    rx.heading("Deliveries", size="4", margin_top="8px"),
                    rx.cond(
                        NotificationDetailState.deliveries_error != "",
                        error_callout(NotificationDetailState.deliveries_error),
                    ),
                    rx.cond(
                        NotificationDetailState.deliveries.length() > 0,
                        rx.card(
                            rx.table.root(
                                rx.table.header(
                                    rx.table.row(
                                        *[
                                            rx.table.column_header_cell(h)
                                            for h in (
                                                "Device",
                                                "Status",
                                                "Attempts",
                                                "Ticket",
                                                "Error",
                                                "Updated",
                                            )
                                        ]
                                    )
                                ),
                                rx.table.body(
                                    rx.foreach(NotificationDetailState.deliveries, _delivery_row)
                                ),
                                width="100%",
                            ),
                            rx.cond(
                                NotificationDetailState.has_more,
                                rx.text(
                                    "Showing the first 100 deliveries.",
                                    size="1",
                                    color_scheme="gray",
                                    padding_top="8px",
                                ),
                            ),
                            width="100%",
                        ),
                        empty_state(
                            "smartphone",
                            "No deliveries yet",
                            rx.cond(
                                n.get("status", "") == "SCHEDULED",
                                "Deliveries are created when the scheduled time comes.",
                                "Deliveries appear as the notification fans out to subscribed devices. No subscribers, no deliveries.",  # noqa: E501
                            ),
                        ),
                    ),
                    spacing="4",
                    width="100%",
                    margin_top="16px",
                ),
            ),
        ),
        on_unmount=NotificationDetailState.stop,
    )


# ==========================================================================
# Live


def _live_notification(row) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("bell", size=16, color=rx.color("iris", 10)),
            rx.vstack(
                rx.link(
                    rx.text(row["title"], weight="medium", size="2"),
                    href="/apps/" + AppContext.app_id + "/notifications/" + row["id"],
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
            badge(row["status"]),
            align="center",
            width="100%",
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
                href="/apps/" + AppContext.app_id + "/notifications/" + row["notification_id"],
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


def not_found_page() -> rx.Component:
    return shell(not_found("That page doesn't exist."))
