"""Who is logged in (the Session state, the JWT in the browser's local storage) and the app
the URL names (AppContext: every page inside an app checks the viewer owns it)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError, GraphQLClient

PAGE_SIZE = 20
LOGIN = "/login"
EXPIRED_MESSAGE = "Your session has expired. Please log in again."
# Said to a click on what a page still shows from its last visit (see AppContext._loaded).
STILL_LOADING = "This page is still loading; try again."
# Codes that mean "not yours, or not there": the page shows not-found, never the API's words.
MISSING_CODES = {"NOT_FOUND", "FORBIDDEN", "BAD_USER_INPUT"}
# Background loops (live stream, polling, countdown) hold a generation number; a new number
# (a new start, a log-out) ends the old loop. Never reused, even after a state reset.
_generations = itertools.count(1)


def new_generation() -> int:
    return next(_generations)


def safe_next(path: str | None) -> str:
    """Where log-in returns to: a path on this site only (no scheme, host or "//")."""
    if not path or not path.startswith("/") or path.startswith("//") or urlsplit(path).netloc:
        return "/apps"
    return path


# States that show a secret once (an API key's), with the vars that hold it: every page load
# clears them (shows_secrets registers a state; the session does not import the pages). Each such
# state has a `_shown_at` backend var, set by `_shown_here()` where it shows a secret.
_SECRET_HOLDERS: list[tuple[type[rx.State], tuple[str, ...]]] = []
KEPT_ONCE = "kept "  # a holder's _shown_at once the page load it raced has kept its secret


def still_loading():
    """The toast for a click refused because the page still shows its last visit's state."""
    return rx.toast.info(STILL_LOADING, duration=3000, id="still-loading")


def shows_secrets(*names: str) -> Callable[[type], type]:
    def register(cls: type) -> type:
        if "_shown_at" not in getattr(cls, "__annotations__", {}):
            raise TypeError(f"{cls.__name__} shows secrets: it needs a `_shown_at: str` var")
        _SECRET_HOLDERS.append((cls, names))
        return cls

    return register


class Session(rx.State):
    """Who is logged in. The JWT lives in the browser's local storage, so new tabs and reloads
    keep the session until the JWT expires (checked on every page); log-out in one tab logs
    out all of them (sync)."""

    token: str = rx.LocalStorage("", name="booper_token", sync=True)
    user_email: str = rx.LocalStorage("", name="booper_email", sync=True)
    # A message for the log-in page (expired session, logged out, ...).
    flash: str = ""
    # The phone menu (under 768 px the navigation folds behind a button).
    menu_open: bool = False
    # The last page load that forgot secrets: this socket and path (see forget_secrets).
    _last_load: str = ""
    # Page loads in this tab so far (require_auth counts them): a form records the one that
    # filled it (see AppContext._filled).
    _page_loads: int = 0

    @rx.var
    def logged_in(self) -> bool:
        return bool(self.token)

    # -- helpers (underscore: not event handlers) --------------------------

    def _client(self) -> GraphQLClient:
        return GraphQLClient(self.token, client_ip=self._client_ip())

    def _client_ip(self) -> str:
        """The browser's address (Reflex's trusted_proxy_hops decides whom it believes)."""
        return str(self.router.session.client_ip or "")

    def _segments(self) -> list[str]:
        path = str(self.router.url.path or "")
        return [s for s in path.split("/") if s]

    def _route_app_id(self) -> str:
        seg = self._segments()
        return seg[1] if len(seg) >= 2 and seg[0] == "apps" else ""

    def _route_sub_id(self) -> str:
        seg = self._segments()
        return seg[3] if len(seg) >= 4 and seg[0] == "apps" else ""

    def _end_session(self, message: str = EXPIRED_MESSAGE):
        self.token = ""
        self.user_email = ""
        self.flash = message
        return [Session.forget_user_data, rx.redirect(LOGIN)]

    async def _forget_user_data(self) -> None:
        """Every per-user state back to its defaults (apps, pages, live lists, secrets), so
        nothing of one user is left for the next in this tab."""
        await self._reset_states_under(Session)

    async def _reset_states_under(self, root: type[rx.State]) -> None:
        """Every state below `root` back to its defaults."""
        pending = list(root.get_substates())
        while pending:
            cls = pending.pop()
            pending.extend(cls.get_substates())
            (await self.get_state(cls)).reset()

    def _handle(self, error: ApiError):
        """Session-level handling: an expired/invalid JWT goes back to log in."""
        if error.unauthenticated:
            return self._end_session()
        return None

    # -- events ---------------------------------------------------------------

    @rx.event
    def require_auth(self):
        self.menu_open = False  # a page load closes the phone menu
        self._page_loads += 1
        if not self.token:
            asked = str(self.router.url.path or "/apps")
            return rx.redirect(f"{LOGIN}?next={quote(asked, safe='/')}")
        if forms.jwt_expired(self.token):
            return self._end_session()
        return None

    @rx.event
    def toggle_menu(self):
        self.menu_open = not self.menu_open

    @rx.event
    def close_menu(self):
        self.menu_open = False

    @rx.event
    async def forget_user_data(self):
        await self._forget_user_data()

    @rx.event
    async def forget_secrets(self):
        """On every page load (navigation, reload): a secret is shown once, in the response that
        made it, and never kept in server-side state after that.

        Except one made on this very page load: the browser sends the load event from an effect
        that React may run after a click on the freshly painted page, so the server can handle
        "create key" before the load that comes with the page. Such a secret (_shown_here marks
        it with this socket and path) is kept by that load, once; the next load forgets it, of
        this page or another, and a reload opens a new socket."""
        here = self._here()
        for cls, names in _SECRET_HOLDERS:
            holder = await self.get_state(cls)
            if holder._shown_at == here and any(getattr(holder, name) for name in names):
                holder._shown_at = KEPT_ONCE + here  # by this load alone: the next one forgets it
                continue
            for name in names:
                setattr(holder, name, "")
            holder._shown_at = ""
        self._last_load = here

    def _here(self) -> str:
        """This page over this socket (a reload or a new tab opens another)."""
        return f"{self.router.session.session_id} {self.router.url.path}"

    async def _shown_here(self) -> None:
        """A secret holder calls this as it shows a secret (see forget_secrets). Shown before
        this page's load was handled, it is marked to outlive that one load; shown after it (the
        usual case), nothing keeps it past the next load, of this page or any other."""
        here = self._here()
        session = await self.get_state(Session)
        self._shown_at = here if session._last_load != here else ""

    @rx.event
    def redirect_if_logged_in_or_login(self):
        if self.token and not forms.jwt_expired(self.token):
            return rx.redirect("/apps")
        return rx.redirect(LOGIN)

    @rx.event
    def redirect_if_logged_in(self):
        if self.token and not forms.jwt_expired(self.token):
            return rx.redirect("/apps")
        return None

    @rx.event
    def log_out(self):
        return self._end_session("You have been logged out.")


class AppContext(Session):
    app_id: str = ""
    app_name: str = ""
    app_plan: str = ""
    app_error: str = ""
    # The URL names an app (or a channel, a notification) the viewer does not own, or none:
    # the page shows not-found instead of its content.
    missing: bool = False

    def _mine(self) -> bool:
        """Page loads go on only for the app load_app just confirmed is the viewer's."""
        return bool(self.token) and not self.missing and self.app_id == self._route_app_id() != ""

    def _loaded(self, loaded_app: str) -> bool:
        """Whether what a page shows was loaded for the app the URL names (the page's state
        records the app its rows came from). After a navigation a page first shows its state from
        its last visit, maybe another app's rows, and its load runs a moment later; the browser may
        even send a click before the page's load event. A click acts on this app's rows only."""
        return self._mine() and loaded_app == self._route_app_id()

    def _listed(self, loaded_app: str, rows: list[dict[str, str]], row_id: str) -> bool:
        """A row (by "id") of what the page loaded for the URL's app (see _loaded)."""
        return self._loaded(loaded_app) and any(r["id"] == row_id for r in rows)

    async def _page_load(self) -> int:
        """The page load that ran last (or runs now), for a form to record as it fills."""
        return (await self.get_state(Session))._page_loads

    async def _filled(self, filled_by: int, filled_for: str, route_id: str) -> bool:
        """Whether a form shows what this visit's load filled it with (`filled_by`, from
        _page_load) for the object the URL names (`filled_for` is the one its values are of).
        Coming back to a page, its form first shows what it showed when left, of another object
        or of this one as it was then (the API may have changed it since); a Save writes only
        what this visit loaded."""
        return self._mine() and filled_for == route_id != "" and filled_by == await self._page_load()

    def _not_mine(self, exc: ApiError) -> bool:
        if exc.code in MISSING_CODES:
            self.missing = True
            self.app_name = ""
            self.app_plan = ""
            return True
        return False

    @rx.event
    async def load_app(self):
        app_id = self._route_app_id()
        if not self.token or not app_id:
            return
        self.missing = False
        self.app_error = ""
        if app_id != self.app_id:
            self.app_id = ""
            self.app_name = ""
            self.app_plan = ""
            await self._forget_app_data()
            yield  # the previous app's name and rows are gone before the API call
        try:
            app = await self._client().app_overview(app_id)
        except ApiError as exc:
            if not self._not_mine(exc):
                self.app_error = exc.message
            yield self._handle(exc)
            return
        self.app_id = app_id
        self.app_name = app["name"]
        self.app_plan = app.get("plan") or "FREE"

    async def _forget_app_data(self) -> None:
        """Every page state of an app back to its defaults, when the URL names another app: no
        page shows the previous app's rows while it loads, nor acts on them. A secret shown on
        this page is kept, for forget_secrets' reason (it is this app's: the path names it)."""
        here = self._here()
        kept = []
        for cls, names in _SECRET_HOLDERS:
            holder = await self.get_state(cls) if issubclass(cls, AppContext) else None
            if holder is not None and holder._shown_at in (here, KEPT_ONCE + here):
                kept.append((holder, holder._shown_at, {name: getattr(holder, name) for name in names}))
        await self._reset_states_under(AppContext)
        for holder, shown_at, values in kept:
            for name, value in values.items():
                setattr(holder, name, value)
            holder._shown_at = shown_at


# Every page inside an app: the session, then forget secrets shown before, then the app (owned by
# the viewer, or the page is not-found).
APP_PAGE = [Session.require_auth, Session.forget_secrets, AppContext.load_app]
