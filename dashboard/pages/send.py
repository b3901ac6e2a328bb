"""Send a notification to a channel, now or later."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    empty_state,
    error_callout,
    field_error,
    loading,
    page_header,
)
from dashboard.layout import app_href, app_shell
from dashboard.pages.send_target import SendTarget, target_field, target_picker
from dashboard.people_forms import api_error_field, unknown_people
from dashboard.session import (
    APP_PAGE,
    STILL_LOADING,
    AppContext,
)

MESSAGE_FIELDS = ("title", "body", "data", "collapse_key", "ttl", "send_at")


class SendState(SendTarget, AppContext):
    channels: list[dict[str, str]] = []
    _loaded_app: str = ""  # the app `channels` were loaded for
    loading: bool = True
    load_error: str = ""

    channel_id: str = ""
    priority: str = "DEFAULT"
    tz_offset: int = 0

    errors: dict[str, str] = {}
    error: str = ""
    sending: bool = False
    sent_id: str = ""
    sent_status: str = ""

    @rx.var
    def has_channels(self) -> bool:
        return len(self.channels) > 0

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.load_error = ""
        self.error = ""
        self.sent_id = ""
        self._preset_target()
        yield rx.call_script("new Date().getTimezoneOffset()", callback=SendState.set_tz_offset)
        try:
            channels = await self._client().channels(app_id)
        except ApiError as exc:
            self.loading = False
            self.load_error = exc.message
            yield self._handle(exc)
            return
        self.channels = [
            {
                "id": c["id"],
                "name": c["name"],
                "label": f"{c['name']} ({c.get('visibility', '').lower()})",
            }
            for c in sorted(channels, key=lambda c: c["name"])
        ]
        self._loaded_app = app_id
        ids = {c["id"] for c in self.channels}
        if self.channel_id not in ids:
            self.channel_id = self.channels[0]["id"] if self.channels else ""
        self.loading = False

    def _offered(self, channel_id: str) -> bool:
        """None yet, or a channel of the list loaded for this app: the page may still show
        another app's list from its last visit (see AppContext._loaded)."""
        ids = {"", *(c["id"] for c in self.channels)}
        return self._loaded(self._loaded_app) and channel_id in ids

    @rx.event
    def set_tz_offset(self, value: Any):
        try:
            self.tz_offset = int(value)
        except (TypeError, ValueError):
            self.tz_offset = 0

    def _clear(self, key: str) -> None:
        if key in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != key}
        self.error = ""

    @rx.event
    def set_channel_id(self, value: str):
        self._clear("channel")
        if not self._offered(value):
            self.error = STILL_LOADING
            return
        self.channel_id = value

    @rx.event
    def set_priority(self, value: str):
        self.priority = value if value in forms.PRIORITIES else "DEFAULT"

    @rx.event
    def check_data(self, value: str):
        """On leaving the data field: say at once whether it is valid JSON."""
        self._clear("data")
        _, problem = forms.parse_json_data(value)
        if problem:
            self.errors = {**self.errors, "data": problem}

    @rx.event
    def clear_error(self, key: str):
        self._clear(key)

    def _fields(self) -> set[str]:
        """The fields on the form now (the target's, and the message's)."""
        target = {"channel": "channel", "people": "identifiers", "devices": "device_ids"}
        return {target.get(self.target, "channel"), *MESSAGE_FIELDS}

    @rx.event
    async def send(self, form: dict):
        if self.target == "channel" and not self._offered(self.channel_id):
            self.error = STILL_LOADING
            return
        check = forms.check_send_form(
            forms.SendForm(
                channel_id=self.channel_id,
                title=str(form.get("title") or ""),
                body=str(form.get("body") or ""),
                data=str(form.get("data") or ""),
                priority=self.priority,
                collapse_key=str(form.get("collapse_key") or ""),
                ttl=str(form.get("ttl") or ""),
                send_at=str(form.get("send_at") or ""),
                tz_offset_minutes=self.tz_offset,
                target=self.target,
                identifiers=self.identifiers_text,
                device_ids=self.device_ids_text,
                app_id=self._route_app_id(),
            )
        )
        self.errors = check.errors
        self.error = ""
        if not check.ok:
            self.error = "Please fix the fields marked below."
            return
        self.sending = True
        yield
        try:
            result = await self._client().send_notification(check.payload)  # type: ignore[arg-type]
        except ApiError as exc:
            self.sending = False
            self.error = exc.message
            key = api_error_field(exc.server_message, self._fields())
            if key:  # the API's words under the field they are about
                self.errors = {key: exc.message}
                self.error = "Please fix the field marked below."
            yield self._handle(exc)
            return
        self.sending = False
        self.sent_id = result["id"]
        self.sent_status = result.get("status") or ""
        scheduled = result.get("status") == "SCHEDULED"
        if "identifiers" in check.payload:
            nobody = unknown_people(check.payload["identifiers"], result.get("identifiers"))
            if nobody:
                yield rx.toast.warning(nobody, duration=12000, id="send-unknown-people")
        yield rx.toast.success(
            "Notification scheduled." if scheduled else "Notification sent.", duration=3000
        )
        yield rx.redirect(f"/apps/{self._route_app_id()}/notifications/{result['id']}")


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


def _channel_field() -> rx.Component:
    return rx.cond(
        SendState.has_channels,
        _labeled(
            "Channel",
            rx.select.root(
                rx.select.trigger(width="100%", id="send-channel"),
                rx.select.content(
                    rx.foreach(
                        SendState.channels,
                        lambda c: rx.select.item(c["label"], value=c["id"]),
                    )
                ),
                value=SendState.channel_id,
                on_change=SendState.set_channel_id,
            ),
            SendState.errors.get("channel", ""),
        ),
        empty_state(
            "hash",
            "No channels to send to",
            "Create a channel first; devices subscribe to it and receive what you send. "
            "Or send to people or devices.",
            rx.link(
                rx.button("Go to channels"),
                href=app_href("/channels"),
            ),
            padding="24px 16px",
            grid_column="1 / -1",
        ),
    )


def send_page() -> rx.Component:
    err = SendState.errors
    return app_shell(
        page_header("Send a notification", SendState.target_subtitle),
        rx.cond(
            SendState.load_error != "",
            error_callout(SendState.load_error),
            rx.cond(
                SendState.loading & ~SendState.has_channels,
                loading(),
                rx.fragment(
                    rx.card(
                        rx.form(
                            rx.vstack(
                                rx.cond(
                                    SendState.error != "",
                                    error_callout(SendState.error, id="send-error"),
                                ),
                                target_picker(SendState),
                                rx.grid(
                                    target_field(SendState, _channel_field()),
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
                                        on_focus=SendState.clear_error("title"),
                                    ),
                                    err.get("title", ""),
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


def register(app: rx.App) -> None:
    app.add_page(
        send_page,
        route="/apps/[aid]/send",
        title="Send · Booper",
        on_load=[*APP_PAGE, SendState.load],
    )
