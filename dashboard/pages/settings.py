"""An app's settings: its id, name, plan and quota, the Web Push key, and ready-to-paste code
with the app's own values (sending, watching live, registering devices)."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    badge,
    copy_button,
    error_callout,
    field_error,
    loading,
    page_header,
)
from dashboard.layout import app_shell
from dashboard.session import APP_PAGE, AppContext
from dashboard.snippets import snippets

EXAMPLE_CHANNEL = "news"  # in the snippets when the app has no channel yet


class SettingsState(AppContext):
    loading: bool = True
    error: str = ""
    app_created: str = ""
    quota_text: str = ""
    vapid_key: str = ""
    code: list[dict[str, str]] = []
    rename_error: str = ""
    renaming: bool = False

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        self.rename_error = ""
        yield
        client = self._client()
        try:
            app = await client.app_overview(app_id)
            vapid_key = await client.web_push_public_key()
            channels = await client.channels(app_id)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            yield self._handle(exc)
            return
        usage = app.get("usage") or {}
        quota = usage.get("dailyQuota")
        used = int(usage.get("notificationsToday") or 0)
        self.app_created = forms.format_time(app.get("createdAt"))
        self.quota_text = (
            f"{used:,} sent today; this plan has no daily quota."
            if quota is None
            else f"{used:,} of {int(quota):,} notifications sent today; "
            "the count starts again at midnight UTC."
        )
        self.vapid_key = vapid_key
        channel = min((c["name"] for c in channels), default=EXAMPLE_CHANNEL)
        self.code = snippets(app_id, channel, vapid_key)
        self.loading = False

    @rx.event
    async def rename(self, form: dict):
        name = str(form.get("name") or "").strip()
        problem = forms.validate_app_name(name)
        self.rename_error = problem or ""
        if problem:
            return
        self.renaming = True
        yield
        try:
            app = await self._client().rename_app(self._route_app_id(), name)
        except ApiError as exc:
            self.renaming = False
            self.rename_error = exc.message
            yield self._handle(exc)
            return
        self.renaming = False
        self.app_name = app["name"]
        yield rx.toast.success("App renamed.", duration=3000)


def _section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def _snippet(item) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(item["title"], weight="medium", size="2"),
            rx.spacer(),
            copy_button(item["code"], size="1"),
            width="100%",
            align="center",
        ),
        rx.box(
            rx.code_block(item["code"], language=item["language"], wrap_long_lines=True),
            width="100%",
            max_width="100%",
            overflow_x="auto",
            font_size="12px",
        ),
        spacing="2",
        width="100%",
        class_name="snippet",
        id="snippet-" + item["id"],
    )


def settings_page() -> rx.Component:
    return app_shell(
        page_header("Settings", "What your servers and devices need to talk to this app."),
        rx.cond(
            SettingsState.error != "",
            error_callout(SettingsState.error),
            rx.cond(
                SettingsState.loading & (SettingsState.code.length() == 0),
                loading(),
                rx.vstack(
                    _section(
                        "App",
                        rx.hstack(
                            rx.text("App id", size="2", color_scheme="gray"),
                            rx.code(AppContext.app_id, id="settings-app-id"),
                            copy_button(AppContext.app_id, size="1"),
                            align="center",
                            spacing="3",
                            wrap="wrap",
                        ),
                        rx.text(
                            "Created ", SettingsState.app_created, size="2", color_scheme="gray"
                        ),
                        rx.hstack(
                            rx.text("Plan", size="2", color_scheme="gray"),
                            badge(AppContext.app_plan),
                            align="center",
                            spacing="3",
                        ),
                        rx.text(SettingsState.quota_text, size="2", id="settings-quota"),
                        rx.text(
                            "Plans are set by whoever runs this Booper server.",
                            size="1",
                            color_scheme="gray",
                        ),
                    ),
                    _section(
                        "Name",
                        rx.form(
                            rx.hstack(
                                rx.input(
                                    name="name",
                                    default_value=AppContext.app_name,
                                    key=AppContext.app_name,
                                    id="rename-input",
                                    flex="1",
                                    min_width="180px",
                                ),
                                rx.button(
                                    "Rename",
                                    type="submit",
                                    loading=SettingsState.renaming,
                                    id="rename-app",
                                ),
                                width="100%",
                                wrap="wrap",
                            ),
                            field_error(SettingsState.rename_error),
                            on_submit=SettingsState.rename,
                            width="100%",
                        ),
                    ),
                    _section(
                        "Web Push",
                        rx.text(
                            "Browsers subscribe with this public key (VAPID, applicationServerKey).",
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.hstack(
                            rx.code(
                                SettingsState.vapid_key,
                                id="vapid-key",
                                style={"word-break": "break-all"},
                            ),
                            copy_button(SettingsState.vapid_key, size="1"),
                            align="center",
                            spacing="3",
                            wrap="wrap",
                            width="100%",
                        ),
                    ),
                    _section(
                        "Code for this app",
                        rx.text(
                            "Your servers send with an API key (see API keys); the snippets read "
                            "it from BOOPER_API_KEY.",
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.foreach(SettingsState.code, _snippet),
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        settings_page,
        route="/apps/[aid]/settings",
        title="Settings · Booper",
        on_load=[*APP_PAGE, SettingsState.load],
    )
