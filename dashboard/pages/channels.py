"""An app's channels: create, delete, subscriber counts."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    confirm_dialog,
    empty_state,
    error_callout,
    loading,
    page_header,
)
from dashboard.layout import app_href, app_shell
from dashboard.session import (
    APP_PAGE,
    AppContext,
    still_loading,
)


class ChannelsState(AppContext):
    channels: list[dict[str, str]] = []
    _loaded_app: str = ""  # the app `channels` were loaded for
    loading: bool = True
    error: str = ""

    new_visibility: str = "PRIVATE"
    create_error: str = ""
    creating: bool = False

    delete_id: str = ""
    delete_name: str = ""
    delete_error: str = ""

    @rx.var
    def has_channels(self) -> bool:
        return len(self.channels) > 0

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        yield
        try:
            channels = await self._client().channels(app_id)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            yield self._handle(exc)
            return
        self.channels = [
            {
                "id": c["id"],
                "name": c["name"],
                "visibility": c.get("visibility") or "PUBLIC",
                "subscribers": str(int(c.get("subscriberCount") or 0)),
                "created": forms.format_time(c.get("createdAt")),
                "critical": "yes" if c.get("critical") else "",
                "digest": forms.format_window(c.get("digestWindow")),
            }
            for c in sorted(channels, key=lambda c: c["name"])
        ]
        self._loaded_app = app_id
        self.loading = False

    @rx.event
    def set_new_visibility(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.new_visibility = value if value in forms.VISIBILITIES else "PRIVATE"

    @rx.event
    async def create(self, form: dict):
        name = str(form.get("name") or "").strip()
        problem = forms.validate_channel_name(name)
        if problem:
            self.create_error = problem
            return
        self.create_error = ""
        self.creating = True
        yield
        try:
            await self._client().create_channel(self._route_app_id(), name, self.new_visibility)
        except ApiError as exc:
            self.creating = False
            self.create_error = (
                "A channel with this name already exists in this app."
                if exc.code == "CONFLICT"
                else exc.message
            )
            yield self._handle(exc)
            return
        self.creating = False
        yield rx.set_value("channel-name", "")
        yield rx.toast.success(f"Channel {name} created.", duration=3000)
        yield ChannelsState.load

    @rx.event
    def ask_delete(self, channel_id: str, name: str):
        if not self._listed(self._loaded_app, self.channels, channel_id):
            return still_loading()
        self.delete_id = channel_id
        self.delete_name = name
        self.delete_error = ""
        return None

    @rx.event
    def cancel_delete(self):
        self.delete_id = ""
        self.delete_name = ""

    @rx.event
    async def confirm_delete(self):
        if not self.delete_id:
            return
        if not self._listed(self._loaded_app, self.channels, self.delete_id):
            self.delete_id = ""
            yield still_loading()
            return
        try:
            await self._client().delete_channel(self.delete_id)
        except ApiError as exc:
            self.delete_error = exc.message
            yield self._handle(exc)
            return
        self.delete_id = ""
        self.delete_name = ""
        yield ChannelsState.load


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
                href=app_href("/channels/") + ch["id"],
                class_name="channel-link",
            )
        ),
        rx.table.cell(badge(ch["visibility"])),
        rx.table.cell(ch["subscribers"], class_name="subscriber-count"),
        rx.table.cell(
            rx.cond(
                ch["critical"] != "",
                rx.badge("critical", color_scheme="red", variant="soft"),
                rx.text("—", color_scheme="gray"),
            ),
            class_name="channel-critical",
        ),
        rx.table.cell(ch["digest"], class_name="channel-digest"),
        rx.table.cell(ch["created"]),
        rx.table.cell(
            rx.hstack(
                rx.link(
                    rx.button("Settings & subscribers", size="1", variant="soft"),
                    href=app_href("/channels/") + ch["id"],
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
                                    rx.table.column_header_cell("Critical"),
                                    rx.table.column_header_cell("Digest"),
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
        confirm_dialog(
            "Delete channel ",
            ChannelsState.delete_name,
            "?",
            text="Its subscriptions and notifications go with it. This cannot be undone.",
            confirm="Delete channel",
            on_confirm=ChannelsState.confirm_delete,
            on_cancel=ChannelsState.cancel_delete,
            open=ChannelsState.delete_id != "",
            confirm_id="confirm-delete-channel",
            error=ChannelsState.delete_error,
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        channels_page,
        route="/apps/[aid]/channels",
        title="Channels · Booper",
        on_load=[*APP_PAGE, ChannelsState.load],
    )
