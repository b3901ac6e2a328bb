"""Access codes for private channels, with their expiry countdown."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    copy_button,
    empty_state,
    error_callout,
    loading,
    page_header,
)
from dashboard.layout import app_href, app_shell
from dashboard.pages.access_code_list import AccessCodeListState, code_list
from dashboard.session import (
    APP_PAGE,
    STILL_LOADING,
    AppContext,
    new_generation,
    still_loading,
)


class AccessCodeState(AppContext):
    private_channels: list[dict[str, str]] = []
    _loaded_app: str = ""  # the app `private_channels` were loaded for
    selected: list[str] = []
    identifier: str = ""
    minutes: str = "5"
    loading: bool = True
    error: str = ""
    form_error: str = ""
    busy: bool = False

    code: str = ""
    code_id: str = ""
    code_channels: str = ""
    code_identifier: str = ""
    expires_at: str = ""
    remaining: int = 0
    _ticker: int = 0

    @rx.var
    def countdown(self) -> str:
        return forms.format_countdown(self.remaining)

    @rx.var
    def code_display(self) -> str:
        c = self.code
        # In groups, as people read codes aloud: "123 456", "1234 5678" (BOOPER_ACCESS_CODE_DIGITS).
        if len(c) % 4 == 0 and len(c) > 6:
            return " ".join(c[i : i + 4] for i in range(0, len(c), 4))
        if len(c) % 3 == 0:
            return " ".join(c[i : i + 3] for i in range(0, len(c), 3))
        return c

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
        self.private_channels = [
            {"id": c["id"], "name": c["name"], "subscribers": str(c.get("subscriberCount") or 0)}
            for c in sorted(channels, key=lambda c: c["name"])
            if c.get("visibility") == "PRIVATE"
        ]
        self._loaded_app = app_id
        self.selected = self._offered(self.selected)
        self.loading = False
        if self.code:  # back on the page: the countdown goes on (leaving stopped its loop)
            self._update_remaining()
            self._ticker = new_generation()
            yield AccessCodeState.tick

    def _offered(self, ids: list[str]) -> list[str]:
        """Those of `ids` the page offers: its private channels, loaded for this app (it may
        still show another app's from its last visit: see AppContext._loaded)."""
        if not self._loaded(self._loaded_app):
            return []
        offered = {c["id"] for c in self.private_channels}
        return [i for i in ids if i in offered]

    @rx.event
    def toggle(self, channel_id: str, checked: bool):
        if not self._offered([channel_id]):
            return still_loading()
        rest = [s for s in self._offered(self.selected) if s != channel_id]
        self.selected = [*rest, channel_id] if checked else rest
        self.form_error = ""
        return None

    @rx.event
    def set_minutes(self, value: str):
        self.minutes = value

    @rx.event
    async def generate(self, form: dict):
        self.identifier = str(form.get("identifier") or "")
        if not self._loaded(self._loaded_app):
            self.form_error = STILL_LOADING
            return
        self.selected = self._offered(self.selected)
        if not self.selected:
            self.form_error = "Choose at least one private channel."
            return
        problem = forms.validate_identifier(self.identifier)
        if problem:
            self.form_error = problem
            return
        expires_at = None
        try:
            minutes = int(self.minutes)
        except ValueError:
            minutes = 5
        if minutes != 5:
            expires_at = (
                datetime.fromtimestamp(time.time() + minutes * 60, UTC)
                .isoformat()
                .replace("+00:00", "Z")
            )
        self.busy = True
        self.form_error = ""
        yield
        try:
            code = await self._client().create_access_code(
                self._route_app_id(),
                list(self.selected),
                self.identifier.strip() or None,
                expires_at,
            )
        except ApiError as exc:
            self.busy = False
            self.form_error = exc.message
            yield self._handle(exc)
            return
        self.busy = False
        self.code = code["code"]
        self.code_id = code.get("id") or ""
        self.expires_at = code["expiresAt"]
        self.code_identifier = code.get("identifier") or ""
        self.code_channels = ", ".join(c.get("name") or c["id"] for c in code.get("channels") or [])
        self._update_remaining()
        self._ticker = new_generation()
        yield AccessCodeState.tick
        yield AccessCodeListState.refresh

    def _update_remaining(self) -> None:
        expiry = forms.parse_time(self.expires_at)
        self.remaining = max(0, int((expiry - datetime.now(UTC)).total_seconds())) if expiry else 0

    @rx.event(background=True)
    async def tick(self):
        async with self:
            ticker = self._ticker
        while True:
            await asyncio.sleep(1.0)
            async with self:
                if self._ticker != ticker or not self.code:
                    return
                self._update_remaining()
                if self.remaining <= 0:
                    return

    @rx.event
    def stop(self):
        self._ticker = new_generation()

    @rx.event
    def clear_code(self):
        self._ticker = new_generation()
        self.code = ""
        self.code_id = ""
        self.remaining = 0


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
                            href=app_href("/channels"),
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
                                        opacity=rx.cond(
                                            (AccessCodeState.remaining > 0)
                                            & ~AccessCodeListState.used_ids.contains(
                                                AccessCodeState.code_id
                                            ),
                                            "1",
                                            "0.35",
                                        ),
                                        data_code=AccessCodeState.code,
                                    ),
                                    rx.hstack(
                                        rx.icon("timer", size=16),
                                        rx.cond(
                                            AccessCodeListState.used_ids.contains(
                                                AccessCodeState.code_id
                                            ),
                                            rx.text(
                                                "Used",
                                                color_scheme="blue",
                                                weight="bold",
                                                id="countdown",
                                            ),
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
        code_list(),
        on_unmount=[AccessCodeState.stop, AccessCodeListState.stop],
    )


def register(app: rx.App) -> None:
    app.add_page(
        access_codes_page,
        route="/apps/[aid]/access-codes",
        title="Access codes · Booper",
        on_load=[*APP_PAGE, AccessCodeState.load, AccessCodeListState.load],
    )
