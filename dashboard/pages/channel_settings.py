"""A channel's engagement settings on its page: critical (bypasses quiet hours, digests and
caps) and the digest window (seconds, with presets), saved with updateChannel."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import error_callout, field_error
from dashboard.session import STILL_LOADING, AppContext

CUSTOM = "custom"
PRESETS = [*forms.DIGEST_PRESETS, CUSTOM]


def _preset_of(seconds: str) -> str:
    for name, value in forms.DIGEST_PRESETS.items():
        if seconds.strip() == str(value) or (value == 0 and not seconds.strip()):
            return name
    return CUSTOM


class ChannelSettingsState(AppContext):
    critical: bool = False
    window: str = "0"  # seconds, as typed
    preset: str = "off"
    saved_summary: str = ""
    window_error: str = ""
    error: str = ""
    busy: bool = False
    ready: bool = False
    _loaded_channel: str = ""  # the channel the settings shown are of
    _filled_by: int = 0  # the page load that loaded them (see AppContext._filled)

    def _show(self, channel: dict) -> None:
        self.critical = bool(channel.get("critical"))
        seconds = int(channel.get("digestWindow") or 0)
        self.window = str(seconds)
        self.preset = _preset_of(self.window)
        self.saved_summary = ("critical, " if self.critical else "") + (
            "digest " + forms.format_window(seconds) if seconds else "no digest"
        )

    @rx.event
    async def load(self):
        cid = self._route_sub_id()
        self.ready = False
        self.error = ""
        self.window_error = ""
        if not self._mine() or not cid:
            return
        yield  # the last channel's settings are gone before the API call
        try:
            channel = await self._client().channel(cid)
        except ApiError as exc:
            if not self._not_mine(exc):
                self.error = exc.message
            yield self._handle(exc)
            return
        if (channel.get("app") or {}).get("id") != self.app_id:
            return  # another app's channel: the page shows not-found (SubscribersState)
        self._show(channel)
        self._loaded_channel = cid
        self._filled_by = await self._page_load()
        self.ready = True

    @rx.event
    def set_critical(self, checked: bool):
        self.critical = bool(checked)

    @rx.event
    def set_preset(self, name: str):
        if name in forms.DIGEST_PRESETS:
            self.window = str(forms.DIGEST_PRESETS[name])
        self.preset = name if name in PRESETS else CUSTOM
        self.window_error = ""

    @rx.event
    def set_window(self, text: str):
        self.window = text
        self.preset = _preset_of(text)
        self.window_error = ""

    @rx.event
    async def save(self):
        # Until this visit's load has run, the page shows the settings it showed when left:
        # another channel's, or this channel's as they were then (see AppContext._filled).
        cid = self._route_sub_id()
        if not (self.ready and await self._filled(self._filled_by, self._loaded_channel, cid)):
            self.error = STILL_LOADING
            return
        seconds, problem = forms.parse_digest_window(self.window)
        if problem:
            self.window_error = problem
            return
        self.busy = True
        self.error = ""
        yield
        try:
            channel = await self._client().update_channel(
                cid, critical=self.critical, digest_window=seconds
            )
        except ApiError as exc:
            self.busy = False
            self.error = exc.message
            yield self._handle(exc)
            return
        self.busy = False
        self._show(channel)
        yield rx.toast.success("Channel settings saved.", duration=3000)


def settings_card() -> rx.Component:
    S = ChannelSettingsState
    return rx.cond(
        S.ready,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Delivery settings", size="4"),
                    rx.spacer(),
                    rx.text(S.saved_summary, size="2", color_scheme="gray", id="channel-summary"),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.switch(checked=S.critical, on_change=S.set_critical, id="channel-critical"),
                    rx.vstack(
                        rx.text("Critical", size="2", weight="medium"),
                        rx.text(
                            "Critical notifications bypass quiet hours, digests and per-person "
                            "caps: for alarms and security alerts only. Muted channels stay muted.",
                            size="1",
                            color_scheme="gray",
                        ),
                        spacing="0",
                    ),
                    align="start",
                    spacing="3",
                ),
                rx.vstack(
                    rx.text("Digest window", size="2", weight="medium"),
                    rx.hstack(
                        rx.select(PRESETS, value=S.preset, on_change=S.set_preset,
                                  id="digest-preset"),
                        rx.input(value=S.window, on_change=S.set_window, type="number",
                                 min="0", max=str(forms.MAX_DIGEST), width="120px",
                                 id="digest-seconds"),
                        rx.text("seconds", size="2", color_scheme="gray"),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                    ),
                    field_error(S.window_error),
                    rx.text(
                        "The first notification to a device goes out at once; further ones "
                        "within the window go out as one push at its end (\"5 new in #chat\"). "
                        "The inbox keeps every one.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.cond(S.error != "", error_callout(S.error)),
                rx.button("Save settings", on_click=S.save, loading=S.busy,
                          id="save-channel-settings"),
                spacing="4",
                width="100%",
                align="start",
            ),
            width="100%",
            margin_bottom="16px",
        ),
    )
