"""An app's webhook: its URL, its signing secret (revealed on demand, rotated), and the event
log with status, attempts and the last error, where a failed event can be sent again."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    confirm_dialog,
    copy_button,
    data_table,
    empty_state,
    error_callout,
    field_error,
    loading,
    page_header,
)
from dashboard.layout import app_shell
from dashboard.session import APP_PAGE, AppContext, shows_secrets, still_loading

EVENTS = 50  # the latest events shown


def _event_row(e: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(e["id"]),
        "type": e.get("type") or "",
        "status": e.get("status") or "",
        "attempts": str(int(e.get("attempts") or 0)),
        "error": e.get("lastError") or "",
        "created": forms.format_time(e.get("createdAt")),
        "delivered": forms.format_time(e.get("deliveredAt"), ""),
    }


@shows_secrets("secret")
class WebhooksState(AppContext):
    loading: bool = True
    error: str = ""
    url: str = ""  # "" when the app has no webhook
    created: str = ""
    events: list[dict[str, str]] = []
    _loaded_app: str = ""  # the app `url` and `events` were loaded for
    # The signing secret: only after Reveal (or a change), gone on the next page load.
    secret: str = ""
    _shown_at: str = ""
    form_error: str = ""
    saving: bool = False
    confirm: str = ""  # "rotate" | "delete" | ""

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        self.form_error = ""
        yield
        await self._fetch()

    async def _fetch(self) -> None:
        app_id = self._route_app_id()
        try:
            hook = await self._client().webhook(app_id, EVENTS)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        self._loaded_app = app_id
        self.url = (hook or {}).get("url") or ""
        self.created = forms.format_time((hook or {}).get("createdAt"), "")
        self.events = [_event_row(e) for e in (hook or {}).get("events") or []]
        self.loading = False

    @rx.event
    async def save(self, form: dict):
        url = str(form.get("url") or "").strip()
        if not url.startswith(("https://", "http://")):
            self.form_error = "Enter the full URL, starting with https://"
            return
        self.saving = True
        self.form_error = ""
        yield
        try:
            hook = await self._client().set_webhook(self._route_app_id(), url)
        except ApiError as exc:
            self.saving = False
            self.form_error = exc.message
            yield self._handle(exc)
            return
        self.saving = False
        self.secret = hook["secret"]  # a new URL comes with a new secret: show it now
        await self._shown_here()
        await self._fetch()
        yield rx.toast.success("Webhook saved. It has a new signing secret.", duration=4000)

    @rx.event
    async def reveal(self):
        try:
            self.secret = await self._client().webhook_secret(self._route_app_id())
            await self._shown_here()
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)

    @rx.event
    def hide(self):
        self.secret = ""

    @rx.event
    def ask(self, what: str):
        """Rotate or remove, asked from what this page loaded (see AppContext._loaded)."""
        if not self._loaded(self._loaded_app):
            return still_loading()
        self.confirm = what
        return None

    @rx.event
    def cancel(self):
        self.confirm = ""

    @rx.event
    async def rotate(self):
        if self.confirm != "rotate":  # one rotation per confirmation, even on a double click
            return
        self.confirm = ""
        try:
            self.secret = await self._client().rotate_webhook_secret(self._route_app_id())
            await self._shown_here()
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)
            return
        yield rx.toast.success("New signing secret: the old one no longer signs.", duration=4000)

    @rx.event
    async def remove(self):
        if self.confirm != "delete":
            return
        self.confirm = ""
        try:
            await self._client().delete_webhook(self._route_app_id())
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)
            return
        self.secret = ""
        await self._fetch()

    @rx.event
    async def redeliver(self, event_id: str):
        if not self._listed(self._loaded_app, self.events, event_id):
            yield still_loading()  # not an event of this app's rows
            return
        try:
            await self._client().redeliver_webhook_event(event_id)
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)
            return
        await self._fetch()
        yield rx.toast.info("Event queued again.", duration=3000)

    @rx.event
    async def refresh(self):
        await self._fetch()


def _event(e) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(e["type"], size="1")),
        rx.table.cell(badge(e["status"]), class_name="webhook-event-status"),
        rx.table.cell(e["attempts"]),
        rx.table.cell(rx.text(e["error"], size="1", color_scheme="red")),
        rx.table.cell(rx.text(e["created"], size="1")),
        rx.table.cell(
            rx.cond(
                e["status"] == "FAILED",
                rx.button(
                    "Redeliver",
                    size="1",
                    variant="soft",
                    on_click=WebhooksState.redeliver(e["id"]),
                    class_name="redeliver",
                ),
            )
        ),
        class_name="webhook-event",
        align="center",
    )


def _secret() -> rx.Component:
    return rx.hstack(
        rx.text("Signing secret", size="2", color_scheme="gray"),
        rx.cond(
            WebhooksState.secret != "",
            rx.hstack(
                rx.code(
                    WebhooksState.secret, id="webhook-secret", style={"word-break": "break-all"}
                ),
                copy_button(WebhooksState.secret, size="1"),
                rx.button("Hide", size="1", variant="ghost", on_click=WebhooksState.hide),
                align="center",
                wrap="wrap",
            ),
            rx.button(
                "Reveal",
                size="1",
                variant="soft",
                on_click=WebhooksState.reveal,
                id="reveal-secret",
            ),
        ),
        rx.button(
            "Rotate",
            size="1",
            variant="soft",
            color_scheme="orange",
            on_click=WebhooksState.ask("rotate"),
            id="rotate-secret",
        ),
        align="center",
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def webhooks_page() -> rx.Component:
    return app_shell(
        page_header(
            "Webhooks",
            "Booper POSTs events (sent, delivered, failed, clicked, devices) to your server, "
            "signed with the secret (Booper-Signature header).",
        ),
        rx.cond(
            WebhooksState.error != "", error_callout(WebhooksState.error, margin_bottom="16px")
        ),
        rx.cond(
            WebhooksState.loading & (WebhooksState.url == ""),
            loading(),
            rx.vstack(
                rx.card(
                    rx.vstack(
                        # Only the URL is in the form: a button inside it would submit it (and a
                        # submit sets the webhook again, with a new secret).
                        rx.form(
                            rx.vstack(
                                rx.text("Endpoint URL", size="2", weight="medium"),
                                rx.hstack(
                                    rx.input(
                                        name="url",
                                        default_value=WebhooksState.url,
                                        key=WebhooksState.url,
                                        placeholder="https://example.com/booper-events",
                                        id="webhook-url",
                                        flex="1",
                                        min_width="200px",
                                    ),
                                    rx.button(
                                        "Save",
                                        type="submit",
                                        loading=WebhooksState.saving,
                                        id="save-webhook",
                                    ),
                                    width="100%",
                                    wrap="wrap",
                                ),
                                field_error(WebhooksState.form_error),
                                spacing="3",
                                width="100%",
                            ),
                            on_submit=WebhooksState.save,
                            reset_on_submit=False,
                            width="100%",
                        ),
                        rx.cond(WebhooksState.url != "", _secret()),
                        rx.cond(
                            WebhooksState.url != "",
                            rx.button(
                                "Remove webhook",
                                size="1",
                                variant="ghost",
                                color_scheme="red",
                                on_click=WebhooksState.ask("delete"),
                            ),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    width="100%",
                ),
                rx.hstack(
                    rx.heading("Events", size="4"),
                    rx.spacer(),
                    rx.button("Refresh", size="1", variant="soft", on_click=WebhooksState.refresh),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    WebhooksState.events.length() > 0,
                    data_table(
                        (
                            "Event",
                            "Status",
                            "Attempts",
                            "Last error",
                            "Created",
                            "",
                        ),
                        WebhooksState.events,
                        _event,
                    ),
                    empty_state(
                        "webhook",
                        "No events yet",
                        "Set a URL, then send a notification: its events show up here.",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
        ),
        confirm_dialog(
            "Rotate the signing secret?",
            text="Events are signed with the new secret from now on; update your server.",
            confirm="Rotate",
            on_confirm=WebhooksState.rotate,
            on_cancel=WebhooksState.cancel,
            open=WebhooksState.confirm == "rotate",
            confirm_id="confirm-rotate",
        ),
        confirm_dialog(
            "Remove the webhook?",
            text="Its pending events are dropped and no more are sent.",
            confirm="Remove",
            on_confirm=WebhooksState.remove,
            on_cancel=WebhooksState.cancel,
            open=WebhooksState.confirm == "delete",
            confirm_id="confirm-delete-webhook",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        webhooks_page,
        route="/apps/[aid]/webhooks",
        title="Webhooks · Booper",
        on_load=[*APP_PAGE, WebhooksState.load],
    )
