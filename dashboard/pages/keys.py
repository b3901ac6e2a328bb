"""An app's API keys: create (the secret shown once), revoke."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    confirm_dialog,
    empty_state,
    error_callout,
    loading,
    page_header,
    secret_callout,
)
from dashboard.layout import app_shell
from dashboard.session import (
    APP_PAGE,
    EXPIRED_MESSAGE,
    AppContext,
    shows_secrets,
    still_loading,
)


@shows_secrets("new_secret", "new_prefix")
class KeysState(AppContext):
    keys: list[dict[str, str]] = []
    _loaded_app: str = ""  # the app `keys` were loaded for
    loading: bool = True
    error: str = ""
    action_error: str = ""
    creating: bool = False
    new_secret: str = ""
    new_prefix: str = ""
    _shown_at: str = ""
    revoke_id: str = ""
    revoke_prefix: str = ""

    @rx.var
    def has_keys(self) -> bool:
        return len(self.keys) > 0

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        yield
        await self._fetch(app_id)
        if self.error == EXPIRED_MESSAGE:
            yield self._end_session()

    async def _fetch(self, app_id: str) -> None:
        try:
            keys = await self._client().api_keys(app_id)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        self.keys = [
            {
                "id": k["id"],
                "prefix": k["prefix"],
                "created": forms.format_time(k.get("createdAt")),
                "last_used": forms.format_ago(k.get("lastUsedAt")),
                "revoked": forms.format_time(k.get("revokedAt"), ""),
            }
            for k in sorted(
                keys, key=lambda k: (bool(k.get("revokedAt")), k.get("createdAt") or "")
            )
        ]
        self._loaded_app = app_id
        self.loading = False

    @rx.event
    async def create(self):
        app_id = self._route_app_id()
        self.creating = True
        self.action_error = ""
        yield
        try:
            created = await self._client().create_api_key(app_id)
        except ApiError as exc:
            self.creating = False
            self.action_error = exc.message
            yield self._handle(exc)
            return
        self.creating = False
        self.new_secret = created["secret"]
        self.new_prefix = created["apiKey"]["prefix"]
        await self._shown_here()
        await self._fetch(app_id)

    @rx.event
    def dismiss_secret(self):
        self.new_secret = ""
        self.new_prefix = ""

    @rx.event
    def ask_revoke(self, key_id: str, prefix: str):
        if not self._listed(self._loaded_app, self.keys, key_id):
            return still_loading()
        self.revoke_id = key_id
        self.revoke_prefix = prefix
        self.action_error = ""
        return None

    @rx.event
    def cancel_revoke(self):
        self.revoke_id = ""
        self.revoke_prefix = ""

    @rx.event
    async def confirm_revoke(self):
        if not self.revoke_id:
            return
        if not self._listed(self._loaded_app, self.keys, self.revoke_id):
            self.revoke_id = ""
            yield still_loading()
            return
        try:
            await self._client().revoke_api_key(self.revoke_id)
        except ApiError as exc:
            self.action_error = exc.message
            self.revoke_id = ""
            yield self._handle(exc)
            return
        self.revoke_id = ""
        self.revoke_prefix = ""
        # A revoked key's secret is never shown (nor any secret after a change to the keys).
        self.new_secret = ""
        self.new_prefix = ""
        await self._fetch(self._route_app_id())


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
            secret_callout(
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
        confirm_dialog(
            "Revoke key ",
            KeysState.revoke_prefix,
            "…?",
            text="Requests with this key will be refused from now on. This cannot be undone.",
            confirm="Revoke key",
            on_confirm=KeysState.confirm_revoke,
            on_cancel=KeysState.cancel_revoke,
            open=KeysState.revoke_id != "",
            confirm_id="confirm-revoke",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        keys_page,
        route="/apps/[aid]/keys",
        title="API keys · Booper",
        on_load=[*APP_PAGE, KeysState.load],
    )
