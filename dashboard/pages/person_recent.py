"""The person page's "Recent notifications" card: what reached the person (Person.notifications),
newest first, each with its time, status, whether the person read it, and the outcome on each of
their devices; a title links to the notification's page; "Show more" appends the next page.
Each notification is a small block of its own (no table), so the card fits a 390 px screen."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import badge, error_callout
from dashboard.layout import app_href
from dashboard.pages.person_prefs import route_identifier
from dashboard.rows import REASON_LABELS
from dashboard.session import AppContext

RECENT_PAGE = 10
COUNTED = ("pending", "sent", "delivered", "failed", "held", "skipped")


def _device_label(device: dict[str, Any]) -> str:
    hint = device.get("tokenHint") or ""
    return f"{device.get('platform') or '?'} …{hint}" if hint else f"{device.get('platform') or '?'} {device.get('id')}"


def recent_rows(
    nodes: list[dict[str, Any]],
) -> tuple[list[dict[str, str]], dict[str, list[dict[str, str]]]]:
    """Person.notifications nodes as flat rows, and each one's device outcomes by notification id
    (state vars hold string dicts)."""
    rows: list[dict[str, str]] = []
    outcomes: dict[str, list[dict[str, str]]] = {}
    for node in nodes:
        n = node.get("notification") or {}
        nid = str(n.get("id"))
        shown = node.get("deliveries") or []
        total = sum(int((node.get("deliveryCounts") or {}).get(k) or 0) for k in COUNTED)
        title = (n.get("title") or "").strip() or (n.get("body") or "").strip()[:60] or "(no title)"
        rows.append({
            "id": nid,
            "title": title,
            "created": forms.format_time(n.get("createdAt")),
            "ago": forms.format_ago(n.get("createdAt")),
            "status": str(n.get("status") or ""),
            "read": "read" if node.get("read") else "unread",
            "more": f"+{total - len(shown)} more devices" if total > len(shown) else "",
            "none": "" if shown else "No push yet (scheduled, or no device of theirs to send to).",
        })
        outcomes[nid] = [
            {
                "device": _device_label(d.get("device") or {}),
                "status": str(d.get("status") or ""),
                "why": REASON_LABELS.get(d.get("reason") or "", d.get("reason") or "") or (d.get("error") or ""),
            }
            for d in shown
        ]
    return rows, outcomes


class RecentState(AppContext):
    identifier: str = ""
    rows: list[dict[str, str]] = []
    outcomes: dict[str, list[dict[str, str]]] = {}
    has_more: bool = False
    loading: bool = False
    error: str = ""
    _cursor: str | None = None

    async def _fetch(self, after: str | None) -> None:
        self.loading, self.error = True, ""
        try:
            page = await self._client().person_notifications(
                self._route_app_id(), self.identifier, RECENT_PAGE, after
            )
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        rows, outcomes = recent_rows(page["nodes"])
        self.rows = (self.rows if after else []) + rows
        self.outcomes = {**(self.outcomes if after else {}), **outcomes}
        info = page.get("pageInfo") or {}
        self.has_more = bool(info.get("hasNextPage"))
        self._cursor = info.get("endCursor")
        self.loading = False

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self.identifier = route_identifier(self)
        self.rows, self.outcomes, self.has_more, self._cursor = [], {}, False, None
        if self.identifier:
            await self._fetch(None)

    @rx.event
    async def more(self):
        if not self._mine() or not self.has_more or self.identifier != route_identifier(self):
            return
        await self._fetch(self._cursor)


def _outcome(o) -> rx.Component:
    return rx.hstack(
        rx.code(o["device"], size="1", class_name="recent-device"),
        badge(o["status"], class_name="recent-outcome"),
        rx.cond(o["why"] != "", rx.text(o["why"], size="1", color_scheme="gray", class_name="recent-why")),
        spacing="2",
        align="center",
        wrap="wrap",
        class_name="recent-delivery",
    )


def _notification(n) -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.link(
                n["title"],
                href=app_href("/notifications/") + n["id"],
                weight="medium",
                class_name="recent-link",
                style={"word-break": "break-word"},
            ),
            rx.spacer(),
            rx.hstack(
                badge(n["status"], class_name="recent-status"),
                rx.badge(
                    n["read"],
                    color_scheme=rx.cond(n["read"] == "read", "gray", "blue"),
                    variant=rx.cond(n["read"] == "read", "outline", "solid"),
                    radius="full",
                    class_name="recent-read",
                ),
                spacing="2",
            ),
            gap="8px",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.text(n["created"], " · ", n["ago"], size="1", color_scheme="gray", class_name="recent-time"),
        rx.foreach(RecentState.outcomes[n["id"]], _outcome),
        rx.cond(n["more"] != "", rx.text(n["more"], size="1", color_scheme="gray", class_name="recent-more")),
        rx.cond(n["none"] != "", rx.text(n["none"], size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
        padding_y="10px",
        border_bottom="1px solid var(--gray-a4)",
        class_name="recent-notification",
    )


def recent_card() -> rx.Component:
    return rx.vstack(
        rx.heading("Recent notifications", size="4"),
        rx.cond(RecentState.error != "", error_callout(RecentState.error)),
        rx.card(
            rx.cond(
                RecentState.rows.length() > 0,
                rx.vstack(rx.foreach(RecentState.rows, _notification), spacing="0", width="100%"),
                rx.cond(
                    RecentState.loading,
                    rx.text("Loading…", size="2", color_scheme="gray"),
                    rx.text(
                        "Nothing has reached this person yet: no send to them, and no push to their devices.",
                        size="2",
                        color_scheme="gray",
                        id="recent-empty",
                    ),
                ),
            ),
            rx.cond(
                RecentState.has_more,
                rx.button(
                    "Show more",
                    variant="soft",
                    on_click=RecentState.more,
                    loading=RecentState.loading,
                    margin_top="12px",
                    id="recent-more",
                ),
            ),
            width="100%",
            id="recent-notifications",
        ),
        spacing="3",
        width="100%",
    )
