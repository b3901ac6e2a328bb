"""An app's people: the persons its devices belong to, searched by the start of the identifier,
each with their devices, unread count and whether one of their devices is online now."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.components import data_table, empty_state, error_callout, loading, page_header, pager
from dashboard.layout import app_href, app_shell
from dashboard.paging import Paged
from dashboard.people_forms import MAX_IDENTIFIER, person_segment
from dashboard.session import APP_PAGE, AppContext

WAYS = (
    ("key-round", "An access code created with an identifier, redeemed by the device."),
    ("server", "registerDevice with the app's API key and an identifier."),
    ("link", "identifyDevice(deviceId, identifier) from the app's server."),
    ("shield-check", "A signed identity the device presents (HMAC of the identity secret)."),
)


class PeopleState(Paged, AppContext):
    search: str = ""

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self.search = ""  # the search box starts empty on every visit
        self._first_page()
        yield
        await self._fetch()

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        return await self._client().people(self._route_app_id(), first, after, self.search)

    def _row(self, node: dict[str, Any]) -> dict[str, str]:
        devices = node.get("devices") or []
        active = sum(1 for d in devices if d.get("active"))
        count = len(devices)
        return {
            "identifier": node.get("identifier") or "",
            "segment": person_segment(node.get("identifier") or ""),
            "devices": f"{count} device{'' if count == 1 else 's'}",
            "active": f"{active} active",
            "unread": str(int(node.get("unreadCount") or 0)),
            "online": "online" if node.get("online") else "offline",
            "since": forms.format_ago(node.get("createdAt")),
        }

    @rx.event
    async def apply(self, form: dict):
        self.search = str(form.get("search") or "").strip()[:MAX_IDENTIFIER]
        self._first_page()
        await self._fetch()


def online_dot(state) -> rx.Component:
    """A green dot while a device of the person holds a live connection, grey otherwise."""
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            border_radius="999px",
            bg=rx.cond(state == "online", rx.color("green", 9), rx.color("gray", 7)),
            class_name=rx.cond(state == "online", "online-dot is-online", "online-dot"),
        ),
        rx.text(state, size="1", color_scheme="gray"),
        align="center",
        spacing="1",
    )


def _person(p) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                p["identifier"],
                href=app_href("/people/") + p["segment"],
                weight="medium",
                class_name="person-link",
            ),
            max_width="320px",
            style={"word-break": "break-all"},
        ),
        rx.table.cell(
            rx.text(p["devices"], size="2", class_name="person-devices"),
            rx.text(p["active"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(
            rx.badge(
                p["unread"],
                color_scheme=rx.cond(p["unread"] == "0", "gray", "iris"),
                variant="soft",
                radius="full",
                class_name="person-unread",
            )
        ),
        rx.table.cell(online_dot(p["online"])),
        rx.table.cell(rx.text(p["since"], size="1")),
        class_name="person-row",
        align="center",
    )


def _how_persons_come_to_exist() -> rx.Component:
    return empty_state(
        "users",
        "No people yet",
        "A person is your app's identifier for one of its users (an email, \"user-42\"). "
        "Persons come to exist when a device is linked to one:",
        rx.vstack(
            *[
                rx.hstack(
                    rx.icon(icon, size=14, color=rx.color("iris", 10), flex_shrink="0"),
                    rx.text(text, size="2"),
                    align="center",
                    spacing="2",
                )
                for icon, text in WAYS
            ],
            spacing="2",
            align="start",
            max_width="460px",
        ),
        rx.link(
            rx.button(rx.icon("code", size=16), "See the snippets in Settings", variant="soft"),
            href=app_href("/settings"),
            id="people-settings-link",
        ),
        id="people-empty",
    )


def people_page() -> rx.Component:
    return app_shell(
        page_header(
            "People", "Your app's users, by the identifier their devices were linked with."
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder="Start of an identifier",
                    id="people-search",
                    max_length=MAX_IDENTIFIER,
                    flex="1",
                    min_width="0",
                ),
                rx.button("Search", type="submit", variant="soft", id="people-search-go"),
                spacing="2",
                width="100%",
                max_width="480px",
            ),
            on_submit=PeopleState.apply,
            reset_on_submit=False,
            margin_bottom="16px",
        ),
        rx.cond(
            PeopleState.error != "",
            error_callout(PeopleState.error),
            rx.cond(
                PeopleState.loading & (PeopleState.rows.length() == 0),
                loading(),
                rx.cond(
                    PeopleState.rows.length() > 0,
                    data_table(
                        ("Identifier", "Devices", "Unread", "Online", "Since"),
                        PeopleState.rows,
                        _person,
                        pager(
                            PeopleState.page,
                            PeopleState.has_next,
                            PeopleState.prev_page,
                            PeopleState.next_page,
                        ),
                    ),
                    rx.cond(
                        PeopleState.search != "",
                        empty_state(
                            "search-x",
                            "No one matches",
                            "No identifier starts with what you searched for.",
                            id="people-no-match",
                        ),
                        _how_persons_come_to_exist(),
                    ),
                ),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        people_page,
        route="/apps/[aid]/people",
        title="People · Booper",
        on_load=[*APP_PAGE, PeopleState.load],
    )
