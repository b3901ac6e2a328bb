"""Lists read page by page with the API's cursors (notifications, subscribers, devices...)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard.client import ApiError
from dashboard.session import PAGE_SIZE

# Paging moves the reader back to the top of the list, not to the pager at its bottom.
SCROLL_TOP = "window.scrollTo({top: 0, behavior: 'instant'})"


class Paged(rx.State, mixin=True):
    """A mixin (each page state gets its own copy of these vars): the page's rows, its cursors,
    Previous / Next. A page implements ``_page(after, first)`` (one API call, a connection) and
    ``_row(node)``."""

    rows: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""
    page: int = 1
    has_next: bool = False
    _cursors: list[str | None] = [None]
    _next_cursor: str | None = None

    async def _page(self, after: str | None, first: int) -> dict[str, Any]:
        raise NotImplementedError

    def _row(self, node: dict[str, Any]) -> dict[str, str]:
        raise NotImplementedError

    def _first_page(self) -> None:
        self.page = 1
        self._cursors = [None]
        self.error = ""
        self.loading = True

    async def _fetch(self) -> None:
        self.loading = True
        try:
            page = await self._page(self._cursors[-1], PAGE_SIZE)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        self.rows = [self._row(n) for n in page["nodes"]]
        info = page.get("pageInfo") or {}
        self.has_next = bool(info.get("hasNextPage"))
        self._next_cursor = info.get("endCursor")
        self.loading = False

    @rx.event
    async def next_page(self):
        if not self.has_next:
            return
        self._cursors.append(self._next_cursor)
        self.page = len(self._cursors)
        await self._fetch()
        yield rx.call_script(SCROLL_TOP)

    @rx.event
    async def prev_page(self):
        if len(self._cursors) <= 1:
            return
        self._cursors.pop()
        self.page = len(self._cursors)
        await self._fetch()
        yield rx.call_script(SCROLL_TOP)
