"""A person's preferences on the person page: muted channels (chosen from the app's) and quiet
hours (start, end, IANA time zone), saved with setPreferences; errors on their fields."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard.client import ApiError
from dashboard.components import error_callout, field_error
from dashboard.people_forms import (
    api_error_field,
    check_quiet_hours,
    default_zone,
    person_identifier,
    time_zones,
)
from dashboard.session import AppContext, still_loading

FIELDS = ("start", "end", "zone", "muted")
BROWSER_ZONE = "Intl.DateTimeFormat().resolvedOptions().timeZone"


def route_identifier(state: AppContext) -> str:
    """The person the URL names (/apps/{id}/people/{segment}), decoded."""
    segment = state._route_sub_id()
    return person_identifier(segment) if segment else ""


class PrefsState(AppContext):
    identifier: str = ""
    channels: list[dict[str, str]] = []
    muted: list[str] = []
    quiet_on: bool = False
    start: str = "22:00"
    end: str = "07:00"
    zone: str = "UTC"
    # A zone set through the API that the select does not list (an alias like US/Eastern).
    extra_zone: str = ""
    errors: dict[str, str] = {}
    error: str = ""
    saving: bool = False
    _filled_by: int = 0  # the page load that filled the form (see AppContext._filled)

    def _fill(
        self, identifier: str, prefs: dict[str, Any], channels: list[dict[str, Any]], page_load: int
    ):
        """What the person page loaded (by page load `page_load`): the person's preferences and
        the app's channels."""
        self.identifier = identifier
        self._filled_by = page_load
        self.channels = [
            {"id": str(c["id"]), "name": str(c["name"])}
            for c in sorted(channels, key=lambda c: c["name"])
        ]
        self._show(prefs)
        self.errors = {}
        self.error = ""
        self.saving = False
        if not self.quiet_on:
            return rx.call_script(BROWSER_ZONE, callback=PrefsState.set_browser_zone)
        return None

    def _show(self, prefs: dict[str, Any]) -> None:
        self.muted = [str(c["id"]) for c in prefs.get("mutedChannels") or []]
        quiet = prefs.get("quietHours")
        self.quiet_on = quiet is not None
        if quiet:
            self.start, self.end, self.zone = quiet["start"], quiet["end"], quiet["timeZone"]
        else:
            self.start, self.end, self.zone = "22:00", "07:00", "UTC"
        self.extra_zone = self.zone if self.zone not in time_zones() else ""

    def _clear(self, key: str) -> None:
        if key in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != key}

    @rx.event
    def set_browser_zone(self, value: Any):
        """The default for a person without quiet hours: the zone the browser is in."""
        if not self.quiet_on:
            self.zone = default_zone(str(value or ""))

    @rx.event
    def toggle_muted(self, channel_id: str, on: bool):
        rest = [c for c in self.muted if c != channel_id]
        self.muted = [*rest, channel_id] if on else rest
        self._clear("muted")

    @rx.event
    def set_quiet_on(self, on: bool):
        self.quiet_on = bool(on)
        for key in ("start", "end", "zone"):
            self._clear(key)

    @rx.event
    def set_time(self, key: str, value: str):
        if key in ("start", "end"):
            setattr(self, key, str(value or "")[:5])
            self._clear(key)

    @rx.event
    def set_zone(self, value: str):
        self.zone = str(value or "")
        self._clear("zone")

    @rx.event
    async def save(self):
        # Until this visit's load has run, the form shows what it showed when the page was left:
        # another person's preferences, or this person's as they were then.
        if not await self._filled(self._filled_by, self.identifier, route_identifier(self)):
            yield still_loading()
            return
        app_id = self._route_app_id()
        self.error = ""
        self.errors = check_quiet_hours(self.start, self.end, self.zone) if self.quiet_on else {}
        if self.errors:
            return
        quiet = {"start": self.start, "end": self.end, "timeZone": self.zone}
        payload = {"mutedChannelIds": self.muted, "quietHours": quiet if self.quiet_on else None}
        self.saving = True
        yield
        try:
            saved = await self._client().person_call(
                "SetPreferences", app_id, self.identifier, input=payload
            )
        except ApiError as exc:
            self.saving = False
            key = api_error_field(exc.server_message, FIELDS)
            if key:
                self.errors = {key: exc.message}
            else:
                self.error = exc.message
            yield self._handle(exc)
            return
        self.saving = False
        self._show(saved)
        yield rx.toast.success("Preferences saved.", duration=3000)


def _muted_channel(c) -> rx.Component:
    return rx.checkbox(
        "#" + c["name"],
        checked=PrefsState.muted.contains(c["id"]),
        on_change=lambda on: PrefsState.toggle_muted(c["id"], on),
        class_name="muted-channel",
        data_channel=c["name"],
    )


def _time(label: str, key: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(
            type="time",
            value=value,
            on_change=lambda v: PrefsState.set_time(key, v),
            id=f"quiet-{key}",
            width="100%",
        ),
        field_error(PrefsState.errors.get(key, "")),
        spacing="1",
        width="100%",
    )


def _zone_select() -> rx.Component:
    return rx.vstack(
        rx.text("Time zone", size="2", weight="medium"),
        rx.el.select(
            rx.cond(
                PrefsState.extra_zone != "",
                rx.el.option(PrefsState.extra_zone, value=PrefsState.extra_zone),
            ),
            *[rx.el.option(z, value=z) for z in time_zones()],
            value=PrefsState.zone,
            on_change=PrefsState.set_zone,
            id="quiet-zone",
            style={
                "width": "100%",
                "height": "32px",
                "padding": "0 8px",
                "border_radius": "6px",
                "border": f"1px solid {rx.color('gray', 7)}",
                "background": rx.color("gray", 1),
                "font_size": "14px",
            },
        ),
        field_error(PrefsState.errors.get("zone", "")),
        spacing="1",
        width="100%",
    )


def preferences_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Preferences", size="4"),
            rx.cond(PrefsState.error != "", error_callout(PrefsState.error, id="prefs-error")),
            rx.text("Muted channels", size="2", weight="medium"),
            rx.text(
                "Still in the person's inbox, but not pushed to their devices.",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                PrefsState.channels.length() > 0,
                rx.flex(
                    rx.foreach(PrefsState.channels, _muted_channel),
                    wrap="wrap",
                    gap="12px",
                    id="muted-channels",
                ),
                rx.text("This app has no channels yet.", size="2", color_scheme="gray"),
            ),
            field_error(PrefsState.errors.get("muted", "")),
            rx.separator(size="4"),
            rx.hstack(
                rx.switch(
                    checked=PrefsState.quiet_on,
                    on_change=PrefsState.set_quiet_on,
                    id="quiet-on",
                ),
                rx.text("Quiet hours", size="2", weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.text(
                "Pushes inside the window wait until it ends (critical ones go at once).",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                PrefsState.quiet_on,
                rx.grid(
                    _time("Start", "start", PrefsState.start),
                    _time("End", "end", PrefsState.end),
                    _zone_select(),
                    columns=rx.breakpoints(initial="1", sm="3"),
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.spacer(),
                rx.button(
                    "Save preferences",
                    on_click=PrefsState.save,
                    loading=PrefsState.saving,
                    id="prefs-save",
                ),
                width="100%",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        width="100%",
        id="preferences",
    )
