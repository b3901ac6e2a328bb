"""One person of the app (/apps/{id}/people/{identifier}, the identifier URL-encoded): their
devices (unlink one), unread count and presence, recent notifications (person_recent),
preferences, export as JSON, and erase with the identifier typed to confirm. Not-found for a
person the app does not have."""

from __future__ import annotations

import json

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import (
    confirm_dialog,
    data_table,
    device_cells,
    empty_state,
    error_callout,
    loading,
)
from dashboard.layout import ROUTE_LAST_SEGMENT_AS_QUERY, app_href, app_shell
from dashboard.pages.people import online_dot
from dashboard.pages.person_prefs import PrefsState, preferences_card, route_identifier
from dashboard.pages.person_recent import RecentState, recent_card
from dashboard.people_forms import export_filename
from dashboard.session import APP_PAGE, AppContext, still_loading


class PersonState(AppContext):
    identifier: str = ""
    created: str = ""
    unread: int = 0
    online: bool = False
    devices: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""
    exporting: bool = False
    erase_open: bool = False
    erase_typed: str = ""
    erase_error: str = ""
    erasing: bool = False
    _filled_by: int = 0  # the page load that listed the devices (see AppContext._filled)

    @rx.event
    async def load(self):
        if not self._mine():
            return
        wanted = route_identifier(self)
        if wanted != self.identifier:
            self.identifier, self.devices, self.created = "", [], ""
        self.loading, self.error, self.erase_open = True, "", False
        yield
        try:
            found = await self._client().person(self._route_app_id(), wanted)
        except ApiError as exc:
            self.loading = False
            if not self._not_mine(exc):
                self.error = exc.message
            yield self._handle(exc)
            return
        person = found["person"]
        self.identifier = person["identifier"]
        self.created = forms.format_time(person.get("createdAt"))
        self.unread = int(person.get("unreadCount") or 0)
        self.online = bool(person.get("online"))
        self.devices = [
            {
                "id": str(d["id"]),
                "platform": d.get("platform") or "",
                "token": forms.short_token(d.get("token"), 32, d.get("tokenHint")),
                "state": "active" if d.get("active") else "dead",
                "last_seen": forms.format_ago(d.get("lastSeenAt")),
                "since": forms.format_time(d.get("createdAt")),
            }
            for d in person.get("devices") or []
        ]
        self.loading = False
        prefs = await self.get_state(PrefsState)
        page_load = self._filled_by = await self._page_load()
        yield prefs._fill(self.identifier, person.get("preferences") or {}, found["channels"], page_load)

    def _ready(self) -> bool:
        return self._mine() and self.identifier != "" and self.identifier == route_identifier(self)

    @rx.event
    async def unlink(self, device_id: str):
        """The device no longer belongs to this person (identifyDevice with no identifier, which
        unlinks it from whoever it belongs to now): only a device this visit's load listed, not
        one still shown from an earlier visit that may have moved to another person since."""
        if not await self._filled(self._filled_by, self.identifier, route_identifier(self)) or not any(
            d["id"] == device_id for d in self.devices
        ):
            yield still_loading()
            return
        try:
            await self._client().identify_device(self._route_app_id(), device_id, None)
        except ApiError as exc:
            self.error = exc.message
            yield self._handle(exc)
            return
        self.devices = [d for d in self.devices if d["id"] != device_id]
        yield rx.toast.info("Device unlinked from the person.", duration=3000)

    @rx.event
    async def export(self):
        """Everything Booper holds about the person, downloaded as a JSON file (never kept in
        the page's state)."""
        if not self._ready():
            return
        self.exporting = True
        yield
        try:
            document = await self._client().person_call(
                "ExportPerson", self._route_app_id(), self.identifier
            )
        except ApiError as exc:
            self.exporting = False
            self.error = exc.message
            yield self._handle(exc)
            return
        self.exporting = False
        yield rx.download(
            data=json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            filename=export_filename(self.identifier),
            mime_type="application/json",
        )

    @rx.event
    def ask_erase(self):
        self.erase_open, self.erase_typed, self.erase_error = True, "", ""

    @rx.event
    def cancel_erase(self):
        self.erase_open, self.erase_typed = False, ""

    @rx.event
    def set_erase_typed(self, value: str):
        self.erase_typed = value

    @rx.event
    async def erase(self):
        if not self._ready() or self.erase_typed != self.identifier:
            return
        self.erasing = True
        yield
        try:
            await self._client().person_call("ErasePerson", self._route_app_id(), self.identifier)
        except ApiError as exc:
            self.erasing = False
            self.erase_error = exc.message
            yield self._handle(exc)
            return
        self.erasing, self.erase_open, self.erase_typed = False, False, ""
        self.identifier, self.devices = "", []
        yield rx.toast.success("The person was erased.", duration=4000)
        yield rx.redirect(f"/apps/{self._route_app_id()}/people")


def _device(d) -> rx.Component:
    return rx.table.row(
        *device_cells(d),
        rx.table.cell(
            rx.badge(
                d["state"],
                color_scheme=rx.cond(d["state"] == "active", "green", "gray"),
                variant="soft",
                class_name="person-device-state",
            )
        ),
        rx.table.cell(rx.text(d["last_seen"], size="1")),
        rx.table.cell(
            rx.button(
                rx.icon("unlink", size=14),
                "Unlink",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=PersonState.unlink(d["id"]),
                class_name="unlink-device",
            )
        ),
        class_name="person-device",
        align="center",
    )


def _header() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.link(
                rx.hstack(rx.icon("arrow-left", size=14), rx.text("People", size="2"), spacing="1"),
                href=app_href("/people"),
                color_scheme="gray",
                underline="none",
            ),
            rx.heading(
                PersonState.identifier,
                size="7",
                weight="bold",
                id="page-title",
                style={"word-break": "break-all"},
            ),
            rx.hstack(
                online_dot(rx.cond(PersonState.online, "online", "offline")),
                rx.badge(
                    PersonState.unread, " unread", variant="soft", radius="full", id="person-unread"
                ),
                rx.text("Since ", PersonState.created, size="1", color_scheme="gray"),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            align="start",
            min_width="0",
        ),
        rx.spacer(),
        rx.hstack(
            rx.link(
                rx.button(rx.icon("send", size=16), "Send", variant="soft"),
                # From the URL, not the state: until this page's load has run, the state is the
                # last person page's (maybe another app's), and a Send from it would go there.
                href=app_href("/send?to=") + ROUTE_LAST_SEGMENT_AS_QUERY,
                id="person-send",
            ),
            rx.button(
                rx.icon("download", size=16),
                "Export",
                variant="soft",
                on_click=PersonState.export,
                loading=PersonState.exporting,
                id="person-export",
            ),
            rx.button(
                rx.icon("trash-2", size=16),
                "Erase",
                color_scheme="red",
                variant="soft",
                on_click=PersonState.ask_erase,
                id="person-erase",
            ),
            spacing="2",
            wrap="wrap",
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="end"),
        gap="12px",
        width="100%",
        margin_bottom="20px",
    )


def _devices() -> rx.Component:
    return rx.vstack(
        rx.heading("Devices", size="4"),
        rx.cond(
            PersonState.devices.length() > 0,
            data_table(("Platform", "Token", "State", "Last seen", ""), PersonState.devices, _device),
            empty_state(
                "smartphone",
                "No devices",
                "No device is linked to this person now. Unlinked devices keep their channels.",
                id="person-no-devices",
            ),
        ),
        spacing="3",
        width="100%",
    )


def person_page() -> rx.Component:
    return app_shell(
        rx.cond(
            PersonState.error != "",
            error_callout(PersonState.error, margin_bottom="16px"),
        ),
        rx.cond(
            PersonState.loading & (PersonState.identifier == ""),
            loading(),
            rx.vstack(
                _header(),
                _devices(),
                recent_card(),
                preferences_card(),
                spacing="5",
                width="100%",
            ),
        ),
        confirm_dialog(
            "Erase ",
            PersonState.identifier,
            "?",
            text="Removes the person's device links, grants, read marks and preferences, and "
            "unlinks their deliveries from the identifier. The devices stay. This can't be undone.",
            confirm="Erase person",
            on_confirm=PersonState.erase,
            on_cancel=PersonState.cancel_erase,
            open=PersonState.erase_open,
            confirm_id="erase-confirm",
            error=PersonState.erase_error,
            busy=PersonState.erasing,
            typed=(PersonState.identifier, PersonState.erase_typed, PersonState.set_erase_typed),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        person_page,
        route="/apps/[aid]/people/[person]",
        title="Person · Booper",
        on_load=[*APP_PAGE, PersonState.load, RecentState.load],
    )

