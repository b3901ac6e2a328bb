"""The apps list: create (the first key shown once), open, delete."""

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
    secret_callout,
)
from dashboard.layout import shell
from dashboard.session import (
    Session,
    shows_secrets,
)


@shows_secrets("created_secret", "created_app_id")
class AppsState(Session):
    apps: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""

    create_open: bool = False
    create_error: str = ""
    creating: bool = False
    # The first API key of a new app: shown once.
    created_app_id: str = ""
    created_secret: str = ""
    _shown_at: str = ""

    delete_id: str = ""
    delete_name: str = ""
    delete_typed: str = ""  # deleting an app takes typing its name
    delete_error: str = ""
    deleting: bool = False

    @rx.var
    def has_apps(self) -> bool:
        return len(self.apps) > 0

    @rx.event
    async def load(self):
        if not self.token:
            return
        self.loading = True
        self.error = ""
        yield
        try:
            apps = await self._client().apps()
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            yield self._handle(exc)
            return
        rows = []
        for app in apps:
            usage = app.get("usage") or {}
            used = int(usage.get("notificationsToday") or 0)
            quota = usage.get("dailyQuota")
            rows.append(
                {
                    "id": app["id"],
                    "name": app["name"],
                    "plan": app.get("plan") or "FREE",
                    "created": forms.format_time(app.get("createdAt")),
                    "channels": str(len(app.get("channels") or [])),
                    "devices": str(int(usage.get("activeDevices") or 0)),
                    "today": forms.format_quota(used, quota),
                }
            )
        self.apps = rows
        self.loading = False

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = value
        if value:
            self.create_error = ""

    @rx.event
    async def create(self, form: dict):
        name = str(form.get("name") or "").strip()
        problem = forms.validate_app_name(name)
        if problem:
            self.create_error = problem
            return
        self.create_error = ""
        self.creating = True
        yield
        try:
            result = await self._client().create_app(name)
        except ApiError as exc:
            self.creating = False
            self.create_error = exc.message
            yield self._handle(exc)
            return
        self.creating = False
        self.create_open = False
        self.created_app_id = result["app"]["id"]
        self.created_secret = result["apiKey"]["secret"]
        await self._shown_here()
        yield AppsState.load

    @rx.event
    def dismiss_secret(self):
        self.created_secret = ""
        self.created_app_id = ""

    @rx.event
    def ask_delete(self, app_id: str, name: str):
        self.delete_id = app_id
        self.delete_name = name
        self.delete_typed = ""
        self.delete_error = ""

    @rx.event
    def set_delete_typed(self, value: str):
        self.delete_typed = value

    @rx.event
    def cancel_delete(self):
        self.delete_id = ""
        self.delete_name = ""
        self.delete_error = ""

    @rx.event
    async def confirm_delete(self):
        if not self.delete_id or self.delete_typed != self.delete_name:
            return
        self.deleting = True
        yield
        try:
            await self._client().delete_app(self.delete_id)
        except ApiError as exc:
            self.deleting = False
            self.delete_error = exc.message
            yield self._handle(exc)
            return
        self.deleting = False
        self.delete_id = ""
        self.delete_name = ""
        yield AppsState.load


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
    return confirm_dialog(
        "Delete ",
        AppsState.delete_name,
        "?",
        text=(
            "This deletes the app with its channels, API keys, notifications and delivery "
            "history. Devices stop receiving its notifications. This cannot be undone."
        ),
        confirm="Delete app",
        on_confirm=AppsState.confirm_delete,
        on_cancel=AppsState.cancel_delete,
        open=AppsState.delete_id != "",
        confirm_id="confirm-delete",
        error=AppsState.delete_error,
        busy=AppsState.deleting,
        typed=(AppsState.delete_name, AppsState.delete_typed, AppsState.set_delete_typed),
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
            secret_callout(
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


def register(app: rx.App) -> None:
    app.add_page(
        apps_page,
        route="/apps",
        title="Apps · Booper",
        on_load=[Session.require_auth, Session.forget_secrets, AppsState.load],
    )
