"""The app's access codes as listed by the API (Query.accessCodes): valid (with a countdown
computed from expiresAt, so it is right after navigating away and back), used (when and by which
device) or expired. The codes themselves are never shown again: only their last digits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import badge, data_table, empty_state, error_callout, pager
from dashboard.paging import Paged
from dashboard.session import PAGE_SIZE, AppContext, new_generation

REFRESH_EVERY = 5  # seconds between re-reads while a listed code is valid (it may be redeemed)


class AccessCodeListState(Paged, AppContext):
    now: float = 0.0
    _ticker: int = 0

    @rx.var
    def codes(self) -> list[dict[str, str]]:
        """The rows with their state now: a valid code whose time ran out shows expired."""
        out = []
        for r in self.rows:
            state, countdown = r["api_state"], ""
            if state == "VALID":
                expiry = forms.parse_time(r["expires_at"])
                left = int(expiry.timestamp() - self.now) if expiry else 0
                state = "VALID" if left > 0 else "EXPIRED"
                countdown = forms.format_countdown(left) if left > 0 else ""
            out.append({**r, "state": state, "countdown": countdown})
        return out

    @rx.var
    def used_ids(self) -> list[str]:
        return [r["id"] for r in self.rows if r["api_state"] == "USED"]

    def _row(self, node: dict[str, Any]) -> dict[str, str]:
        hint = node.get("codeHint")
        return {
            "id": node["id"],
            "hint": f"•••• ••{hint}" if hint else "•••• ••••",
            "identifier": node.get("identifier") or "",
            "channels": ", ".join("#" + c["name"] for c in node.get("channels") or []),
            "created": forms.format_time(node.get("createdAt")),
            "expires_at": node.get("expiresAt") or "",
            "expires": forms.format_time(node.get("expiresAt")),
            "redeemed": forms.format_time(node.get("redeemedAt"), ""),
            "redeemer": node.get("redeemedByHint") or "",
            "api_state": node.get("state") or "EXPIRED",
        }

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        return await self._client().access_codes(self._route_app_id(), first, after)

    def _any_valid(self) -> bool:
        return any(r["api_state"] == "VALID" for r in self.rows)

    async def _restart(self):
        """The first page, and the clock going while a listed code is valid."""
        self._first_page()
        await self._fetch()
        self.now = time.time()
        self._ticker = new_generation()
        return AccessCodeListState.tick if self._any_valid() else None

    @rx.event
    async def load(self):
        if self._mine():
            return await self._restart()
        return None

    @rx.event
    async def refresh(self):
        """After a new code (AccessCodeState.generate)."""
        return await self._restart()

    @rx.event(background=True)
    async def tick(self):
        async with self:
            ticker = self._ticker
        seconds = 0
        while True:
            await asyncio.sleep(1.0)
            seconds += 1
            async with self:
                if self._ticker != ticker or not self._mine():
                    return
                self.now = time.time()
                if not self._any_valid():
                    return
                if seconds % REFRESH_EVERY:
                    continue
                client, app_id, after = self._client(), self._route_app_id(), self._cursors[-1]
            try:  # outside the state's lock: a redeemed code turns USED without a reload
                page = await client.access_codes(app_id, PAGE_SIZE, after)
            except ApiError:
                continue
            async with self:
                if self._ticker != ticker:
                    return
                self.rows = [self._row(n) for n in page["nodes"]]
                self.has_next = bool((page.get("pageInfo") or {}).get("hasNextPage"))

    @rx.event
    def stop(self):
        self._ticker = new_generation()


def _code_row(c) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(c["hint"], size="2", variant="ghost", white_space="nowrap")),
        rx.table.cell(
            rx.hstack(
                rx.box(badge(c["state"]), class_name="code-state"),
                rx.cond(
                    c["countdown"] != "",
                    rx.text("expires in ", rx.text.strong(c["countdown"]), size="2",
                            class_name="code-countdown"),
                ),
                rx.cond(
                    c["state"] == "USED",
                    rx.text(
                        c["redeemed"],
                        rx.cond(c["redeemer"] != "", " by …" + c["redeemer"], ""),
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                rx.cond(
                    c["state"] == "EXPIRED",
                    rx.text(c["expires"], size="1", color_scheme="gray"),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            )
        ),
        rx.table.cell(rx.cond(c["identifier"] != "", c["identifier"], "—")),
        rx.table.cell(rx.text(c["channels"], size="2")),
        rx.table.cell(rx.text(c["created"], size="2")),
        align="center",
        class_name="access-code-row",
    )


def code_list() -> rx.Component:
    S = AccessCodeListState
    return rx.vstack(
        rx.heading("Codes", size="4"),
        rx.text(
            "Every code of this app, newest first. A code is shown whole only once, when it is "
            "made: here you see its last two digits.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.error != "",
            error_callout(S.error),
            rx.cond(
                S.rows.length() > 0,
                data_table(
                    ("Code", "State", "Identifier", "Channels", "Created"),
                    S.codes,
                    _code_row,
                    pager(S.page, S.has_next, S.prev_page, S.next_page),
                ),
                rx.cond(
                    ~S.loading,
                    empty_state("key-round", "No codes yet", "Codes you generate are listed here."),
                ),
            ),
        ),
        spacing="2",
        width="100%",
        margin_top="20px",
        id="access-code-list",
    )
