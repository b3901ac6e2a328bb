"""An app's own push credentials: an Expo access token, a Firebase (FCM) service account, an
APNs key. What is set is shown by its public parts only; secrets go to the API and are never
kept in the dashboard's state (the forms are cleared after saving)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard.client import ApiError
from dashboard.components import error_callout, field_error, loading, page_header
from dashboard.layout import app_shell
from dashboard.session import APP_PAGE, AppContext, still_loading

FIELDS = {  # the inputs of each form, cleared after a save
    "expo": ("expo-token",),
    "fcm": ("fcm-json",),
    "apns": ("apns-key-id", "apns-team-id", "apns-topic", "apns-private-key"),
}


class ProvidersState(AppContext):
    loading: bool = True
    error: str = ""
    expo: bool = False
    fcm_project: str = ""
    apns_key: str = ""
    apns_topic: str = ""
    apns_production: bool = False
    errors: dict[str, str] = {}
    _loaded_app: str = ""  # the app whose credentials the page shows

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        self.errors = {}
        yield
        await self._fetch()

    async def _fetch(self) -> None:
        app_id = self._route_app_id()
        try:
            p = await self._client().providers(app_id)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        self._loaded_app = app_id
        self.expo = bool(p.get("expoAccessToken"))
        self.fcm_project = p.get("fcmProjectId") or ""
        self.apns_key = p.get("apnsKeyId") or ""
        self.apns_topic = p.get("apnsTopic") or ""
        self.apns_production = bool(p.get("apnsProduction"))
        self.loading = False

    async def _set(self, kind: str, value: Any, done: str):
        self.errors = {k: v for k, v in self.errors.items() if k != kind}
        try:
            await self._client().set_provider(kind, self._route_app_id(), value)
        except ApiError as exc:
            self.errors = {**self.errors, kind: exc.message}
            yield self._handle(exc)
            return
        await self._fetch()
        for field_id in FIELDS[kind]:
            yield rx.set_value(field_id, "")
        yield rx.toast.success(done, duration=3000)

    @rx.event
    async def save_expo(self, form: dict):
        token = str(form.get("token") or "").strip()
        if not token:
            self.errors = {**self.errors, "expo": "Paste the access token from expo.dev."}
            return
        async for event in self._set("expo", token, "Expo access token saved."):
            yield event

    @rx.event
    async def save_fcm(self, form: dict):
        text = str(form.get("json") or "").strip()
        if not text:
            self.errors = {**self.errors, "fcm": "Paste the service account key file (JSON)."}
            return
        async for event in self._set("fcm", {"serviceAccountJson": text}, "FCM credentials saved."):
            yield event

    @rx.event
    async def save_apns(self, form: dict):
        value = {
            "keyId": str(form.get("key_id") or "").strip(),
            "teamId": str(form.get("team_id") or "").strip(),
            "topic": str(form.get("topic") or "").strip(),
            "privateKey": str(form.get("private_key") or "").strip(),
            "production": bool(form.get("production")),
        }
        if not all(value[k] for k in ("keyId", "teamId", "topic", "privateKey")):
            self.errors = {**self.errors, "apns": "Fill in the key id, team id, bundle id and key."}
            return
        async for event in self._set("apns", value, "APNs credentials saved."):
            yield event

    @rx.event
    async def remove(self, kind: str):
        if not self._loaded(self._loaded_app):  # "Remove" shown from another app's credentials
            yield still_loading()
            return
        async for event in self._set(kind, None, "Removed."):
            yield event


def _status(is_set, text) -> rx.Component:
    return rx.cond(
        is_set,
        rx.badge(text, color_scheme="green", variant="soft"),
        rx.badge("Not set: Booper's own", color_scheme="gray", variant="soft"),
    )


def _card(title: str, kind: str, is_set, status, intro: str, on_submit, *fields) -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="4"),
                    rx.spacer(),
                    rx.box(status, id=f"{kind}-status"),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(intro, size="2", color_scheme="gray"),
                *fields,
                field_error(ProvidersState.errors.get(kind, "")),
                rx.hstack(
                    rx.button("Save", type="submit", id=f"save-{kind}"),
                    rx.cond(
                        is_set,
                        rx.button(
                            "Remove",
                            type="button",
                            variant="ghost",
                            color_scheme="red",
                            on_click=ProvidersState.remove(kind),
                        ),
                    ),
                    spacing="3",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=on_submit,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
    )


def _input(name: str, id: str, placeholder: str, **props) -> rx.Component:
    return rx.input(name=name, id=id, placeholder=placeholder, width="100%", **props)


def providers_page() -> rx.Component:
    return app_shell(
        page_header(
            "Push providers",
            "Send with this app's own accounts. Without them Expo and Web Push use Booper's; "
            "FCM and APNs devices need them.",
        ),
        rx.cond(
            ProvidersState.error != "",
            error_callout(ProvidersState.error),
            rx.cond(
                ProvidersState.loading,
                loading(),
                rx.vstack(
                    _card(
                        "Expo",
                        "expo",
                        ProvidersState.expo,
                        _status(ProvidersState.expo, "Access token set"),
                        "An access token (expo.dev, enhanced push security) sent with this app's "
                        "Expo notifications.",
                        ProvidersState.save_expo,
                        _input("token", "expo-token", "Expo access token", type="password"),
                    ),
                    _card(
                        "Firebase Cloud Messaging",
                        "fcm",
                        ProvidersState.fcm_project != "",
                        _status(
                            ProvidersState.fcm_project != "",
                            "Project " + ProvidersState.fcm_project,
                        ),
                        "The service account key file of the Firebase project the app's "
                        "Android tokens belong to.",
                        ProvidersState.save_fcm,
                        rx.text_area(
                            name="json",
                            id="fcm-json",
                            placeholder='{"type": "service_account", "project_id": ...}',
                            rows="4",
                            width="100%",
                            font_family="ui-monospace, monospace",
                        ),
                    ),
                    _card(
                        "Apple Push Notification service",
                        "apns",
                        ProvidersState.apns_key != "",
                        _status(
                            ProvidersState.apns_key != "",
                            "Key " + ProvidersState.apns_key + " · " + ProvidersState.apns_topic,
                        ),
                        "A token-based .p8 key from the Apple developer account.",
                        ProvidersState.save_apns,
                        rx.grid(
                            _input("key_id", "apns-key-id", "Key id (10 characters)"),
                            _input("team_id", "apns-team-id", "Team id"),
                            _input("topic", "apns-topic", "Bundle id (com.example.app)"),
                            columns=rx.breakpoints(initial="1", sm="3"),
                            spacing="3",
                            width="100%",
                        ),
                        rx.text_area(
                            name="private_key",
                            id="apns-private-key",
                            placeholder="-----BEGIN PRIVATE KEY-----",
                            rows="4",
                            width="100%",
                            font_family="ui-monospace, monospace",
                        ),
                        rx.hstack(
                            rx.checkbox(name="production", id="apns-production"),
                            rx.text("Production (off: the development environment)", size="2"),
                            align="center",
                        ),
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        providers_page,
        route="/apps/[aid]/providers",
        title="Push providers · Booper",
        on_load=[*APP_PAGE, ProvidersState.load],
    )
