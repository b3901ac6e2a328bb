"""Reflex states: the session (JWT in the browser's session storage) and one
state per page. Every API call goes through ``dashboard.client``."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError, GraphQLClient, SubscriptionClient

PAGE_SIZE = 20
LIVE_KEEP = 50
FINAL_NOTIFICATION = {"COMPLETED", "CANCELED"}
LOGIN = "/login"
EXPIRED_MESSAGE = "Your session has expired. Please log in again."
# Codes that mean "not yours, or not there": the page shows not-found, never the API's words.
MISSING_CODES = {"NOT_FOUND", "FORBIDDEN", "BAD_USER_INPUT"}
# Background loops (live stream, polling, countdown) hold a generation number; a new number
# (a new start, a log-out) ends the old loop. Never reused, even after a state reset.
_generations = itertools.count(1)


def _safe_next(path: str | None) -> str:
    """Where log-in returns to: a path on this site only (no scheme, host or "//")."""
    if not path or not path.startswith("/") or path.startswith("//") or urlsplit(path).netloc:
        return "/apps"
    return path


def _s(value: Any, empty: str = "") -> str:
    return empty if value is None else str(value)


def _counts(counts: dict[str, Any] | None) -> dict[str, str]:
    counts = counts or {}
    return {k: str(int(counts.get(k) or 0)) for k in ("pending", "sent", "delivered", "failed")}


def _notification_row(n: dict[str, Any]) -> dict[str, str]:
    counts = _counts(n.get("deliveryCounts"))
    title = (n.get("title") or "").strip()
    body = (n.get("body") or "").strip()
    channel = n.get("channel") or {}
    return {
        "id": _s(n.get("id")),
        "title": title or body[:60] or "(no title)",
        "body": body,
        "status": _s(n.get("status"), "QUEUED"),
        "priority": _s(n.get("priority"), "DEFAULT"),
        "channel": _s(channel.get("name"), "—"),
        "channel_id": _s(channel.get("id")),
        "created": forms.format_time(n.get("createdAt")),
        "created_ago": forms.format_ago(n.get("createdAt")),
        "send_at": forms.format_time(n.get("sendAt"), ""),
        "sent_at": forms.format_time(n.get("sentAt"), ""),
        **{f"n_{k}": v for k, v in counts.items()},
    }


def _delivery_row(d: dict[str, Any]) -> dict[str, str]:
    device = d.get("device") or {}
    notification = d.get("notification") or {}
    return {
        "id": _s(d.get("id")),
        "status": _s(d.get("status"), "PENDING"),
        "attempts": _s(d.get("attempts"), "0"),
        "error": _s(d.get("error"), ""),
        "ticket": _s(d.get("ticketId"), ""),
        "updated": forms.format_time(d.get("updatedAt")),
        "platform": _s(device.get("platform"), "—"),
        "device": forms.short_token(device.get("token"), 40, device.get("tokenHint")),
        "identifier": _s(device.get("identifier"), ""),
        "notification_id": _s(notification.get("id")),
        "notification_title": _s(notification.get("title"), "") or "(no title)",
    }


# ==========================================================================
# Session


class Session(rx.State):
    """Who is logged in. The JWT lives in the browser's local storage, so new tabs and reloads
    keep the session until the JWT expires (checked on every page); log-out in one tab logs
    out all of them (sync)."""

    token: str = rx.LocalStorage("", name="booper_token", sync=True)
    user_email: str = rx.LocalStorage("", name="booper_email", sync=True)
    # A message for the log-in page (expired session, logged out, ...).
    flash: str = ""

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
        pending = list(Session.get_substates())
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
        if not self.token:
            asked = str(self.router.url.path or "/apps")
            return rx.redirect(f"{LOGIN}?next={quote(asked, safe='/')}")
        if forms.jwt_expired(self.token):
            return self._end_session()
        return None

    @rx.event
    async def forget_user_data(self):
        await self._forget_user_data()

    @rx.event
    async def forget_secrets(self):
        """On every page load (navigation, reload): a secret is shown once, in the response that
        made it, and never kept in server-side state after that."""
        apps = await self.get_state(AppsState)
        apps.created_secret = ""
        apps.created_app_id = ""
        keys = await self.get_state(KeysState)
        keys.new_secret = ""
        keys.new_prefix = ""

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


# ==========================================================================
# Sign up / log in


class AuthState(Session):
    email_error: str = ""
    password_error: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def reset_form(self):
        self.email_error = ""
        self.password_error = ""
        self.error = ""
        self.busy = False

    async def _submit(self, form: dict, new: bool):
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        self.error = ""
        self.email_error = forms.validate_email(email) or ""
        self.password_error = forms.validate_password(password, new=new) or ""
        if self.email_error or self.password_error:
            return
        self.busy = True
        yield
        client = GraphQLClient(client_ip=self._client_ip())
        try:
            result = await (
                client.sign_up(email, password) if new else client.log_in(email, password)
            )
        except ApiError as exc:
            self.busy = False
            if exc.code in ("UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND") and not new:
                self.error = "Wrong email or password."
            elif exc.code == "CONFLICT" and new:
                self.error = "An account with this email already exists. Log in instead."
            else:
                self.error = exc.message
            return
        self.busy = False
        await self._forget_user_data()  # a previous user's pages, even without a log-out
        self.token = result["token"]
        self.user_email = result["user"]["email"]
        self.flash = ""
        yield rx.redirect(_safe_next(self.router.url.query_parameters.get("next")))

    @rx.event
    async def log_in(self, form: dict):
        async for event in self._submit(form, new=False):
            yield event

    @rx.event
    async def sign_up(self, form: dict):
        async for event in self._submit(form, new=True):
            yield event


# ==========================================================================
# Apps


class AppsState(Session):
    apps: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""

    create_open: bool = False
    create_error: str = ""
    creating: bool = False
    # The first API key of a new app: shown once.
    created_app_id: str = ""
    created_secret: str = ""

    delete_id: str = ""
    delete_name: str = ""
    delete_error: str = ""
    deleting: bool = False

    @rx.var
    def has_apps(self) -> bool:
        return len(self.apps) > 0

    @rx.event
    async def load(self):
        if not self.token:
            return
        self.loading = True
        self.error = ""
        yield
        try:
            apps = await self._client().apps()
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            yield self._handle(exc)
            return
        rows = []
        for app in apps:
            usage = app.get("usage") or {}
            used = int(usage.get("notificationsToday") or 0)
            quota = usage.get("dailyQuota")
            rows.append(
                {
                    "id": app["id"],
                    "name": app["name"],
                    "plan": app.get("plan") or "FREE",
                    "created": forms.format_time(app.get("createdAt")),
                    "channels": str(len(app.get("channels") or [])),
                    "devices": str(int(usage.get("activeDevices") or 0)),
                    "today": forms.format_quota(used, quota),
                }
            )
        self.apps = rows
        self.loading = False

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = value
        if value:
            self.create_error = ""

    @rx.event
    async def create(self, form: dict):
        name = str(form.get("name") or "").strip()
        problem = forms.validate_app_name(name)
        if problem:
            self.create_error = problem
            return
        self.create_error = ""
        self.creating = True
        yield
        try:
            result = await self._client().create_app(name)
        except ApiError as exc:
            self.creating = False
            self.create_error = exc.message
            yield self._handle(exc)
            return
        self.creating = False
        self.create_open = False
        self.created_app_id = result["app"]["id"]
        self.created_secret = result["apiKey"]["secret"]
        yield AppsState.load

    @rx.event
    def dismiss_secret(self):
        self.created_secret = ""
        self.created_app_id = ""

    @rx.event
    def ask_delete(self, app_id: str, name: str):
        self.delete_id = app_id
        self.delete_name = name
        self.delete_error = ""

    @rx.event
    def cancel_delete(self):
        self.delete_id = ""
        self.delete_name = ""
        self.delete_error = ""

    @rx.event
    async def confirm_delete(self):
        if not self.delete_id:
            return
        self.deleting = True
        yield
        try:
            await self._client().delete_app(self.delete_id)
        except ApiError as exc:
            self.deleting = False
            self.delete_error = exc.message
            yield self._handle(exc)
            return
        self.deleting = False
        self.delete_id = ""
        self.delete_name = ""
        yield AppsState.load


# ==========================================================================
# The app pages share the current app (name and plan for the header)


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
        if app_id != self.app_id:
            self.app_id = ""
            self.app_name = ""
            self.app_plan = ""
        self.app_error = ""
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


# ==========================================================================
# Overview


class OverviewState(AppContext):
    loading: bool = True
    error: str = ""
    today: int = 0
    quota: int = -1  # -1: unlimited
    active_devices: int = 0
    channel_count: int = 0
    private_channels: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    created: str = ""

    chart: list[dict[str, Any]] = []
    chart_loading: bool = True
    chart_error: str = ""
    chart_hours: int = 24

    @rx.var
    def quota_text(self) -> str:
        return forms.format_quota(self.today, None if self.quota < 0 else self.quota)

    @rx.var
    def quota_percent(self) -> int:
        return forms.quota_percent(self.today, None if self.quota < 0 else self.quota)

    @rx.var
    def total_deliveries(self) -> int:
        return self.pending + self.sent + self.delivered + self.failed

    @rx.var
    def success_rate(self) -> str:
        done = self.delivered + self.failed
        if done == 0:
            return "—"
        return f"{100 * self.delivered / done:.1f}%"

    @rx.var
    def chart_empty(self) -> bool:
        return all(
            (int(b.get("sent", 0)) + int(b.get("delivered", 0)) + int(b.get("failed", 0))) == 0
            for b in self.chart
        )

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.error = ""
        yield
        client = self._client()
        try:
            app = await client.app_overview(app_id)
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            yield self._handle(exc)
            return
        usage = app.get("usage") or {}
        self.today = int(usage.get("notificationsToday") or 0)
        quota = usage.get("dailyQuota")
        self.quota = -1 if quota is None else int(quota)
        self.active_devices = int(usage.get("activeDevices") or 0)
        counts = usage.get("deliveries") or {}
        self.pending = int(counts.get("pending") or 0)
        self.sent = int(counts.get("sent") or 0)
        self.delivered = int(counts.get("delivered") or 0)
        self.failed = int(counts.get("failed") or 0)
        channels = app.get("channels") or []
        self.channel_count = len(channels)
        self.private_channels = sum(1 for c in channels if c.get("visibility") == "PRIVATE")
        self.created = forms.format_time(app.get("createdAt"))
        self.loading = False
        yield OverviewState.load_chart

    @rx.event
    async def load_chart(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.chart_loading = True
        self.chart_error = ""
        yield
        try:
            buckets = await self._client().delivery_stats(app_id, self.chart_hours)
        except ApiError as exc:
            self.chart_loading = False
            self.chart_error = exc.message
            yield self._handle(exc)
            return
        chart = []
        for bucket in buckets:
            start = forms.parse_time(bucket.get("start"))
            chart.append(
                {
                    "time": start.strftime("%H:%M") if start else "",
                    "sent": int(bucket.get("sent") or 0),
                    "delivered": int(bucket.get("delivered") or 0),
                    "failed": int(bucket.get("failed") or 0),
                }
            )
        self.chart = chart
        self.chart_loading = False


# ==========================================================================
# API keys


class KeysState(AppContext):
    keys: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""
    action_error: str = ""
    creating: bool = False
    new_secret: str = ""
    new_prefix: str = ""
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
        self.new_secret = ""
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
        await self._fetch(app_id)

    @rx.event
    def dismiss_secret(self):
        self.new_secret = ""
        self.new_prefix = ""

    @rx.event
    def ask_revoke(self, key_id: str, prefix: str):
        self.revoke_id = key_id
        self.revoke_prefix = prefix
        self.action_error = ""

    @rx.event
    def cancel_revoke(self):
        self.revoke_id = ""
        self.revoke_prefix = ""

    @rx.event
    async def confirm_revoke(self):
        if not self.revoke_id:
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


# ==========================================================================
# Channels


class ChannelsState(AppContext):
    channels: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""

    new_visibility: str = "PRIVATE"
    create_error: str = ""
    creating: bool = False

    delete_id: str = ""
    delete_name: str = ""
    delete_error: str = ""

    @rx.var
    def has_channels(self) -> bool:
        return len(self.channels) > 0

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
        self.channels = [
            {
                "id": c["id"],
                "name": c["name"],
                "visibility": c.get("visibility") or "PUBLIC",
                "subscribers": str(int(c.get("subscriberCount") or 0)),
                "created": forms.format_time(c.get("createdAt")),
            }
            for c in sorted(channels, key=lambda c: c["name"])
        ]
        self.loading = False

    @rx.event
    def set_new_visibility(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.new_visibility = value if value in forms.VISIBILITIES else "PRIVATE"

    @rx.event
    async def create(self, form: dict):
        name = str(form.get("name") or "").strip()
        problem = forms.validate_channel_name(name)
        if problem:
            self.create_error = problem
            return
        self.create_error = ""
        self.creating = True
        yield
        try:
            await self._client().create_channel(self._route_app_id(), name, self.new_visibility)
        except ApiError as exc:
            self.creating = False
            self.create_error = (
                "A channel with this name already exists in this app."
                if exc.code == "CONFLICT"
                else exc.message
            )
            yield self._handle(exc)
            return
        self.creating = False
        yield rx.set_value("channel-name", "")
        yield rx.toast.success(f"Channel {name} created.", duration=3000)
        yield ChannelsState.load

    @rx.event
    def ask_delete(self, channel_id: str, name: str):
        self.delete_id = channel_id
        self.delete_name = name
        self.delete_error = ""

    @rx.event
    def cancel_delete(self):
        self.delete_id = ""
        self.delete_name = ""

    @rx.event
    async def confirm_delete(self):
        if not self.delete_id:
            return
        try:
            await self._client().delete_channel(self.delete_id)
        except ApiError as exc:
            self.delete_error = exc.message
            yield self._handle(exc)
            return
        self.delete_id = ""
        self.delete_name = ""
        yield ChannelsState.load


class SubscribersState(AppContext):
    channel_name: str = ""
    channel_visibility: str = ""
    subscriber_count: int = 0
    rows: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""
    page: int = 1
    has_next: bool = False
    _cursors: list[str | None] = [None]
    _next_cursor: str | None = None

    @rx.event
    async def load(self):
        channel_id = self._route_sub_id()
        if not self._mine() or not channel_id:
            return
        self.loading = True
        self.error = ""
        self.page = 1
        self._cursors = [None]
        yield
        self.channel_name = ""
        self.subscriber_count = 0
        self.rows = []
        try:
            channel = await self._client().channel(channel_id)
        except ApiError as exc:
            self.loading = False
            if not self._not_mine(exc):
                self.error = exc.message
            yield self._handle(exc)
            return
        if (channel.get("app") or {}).get("id") != self.app_id:
            self.missing = True  # another app's channel (or an anonymous one): not this page's
            self.loading = False
            return
        self.channel_name = channel["name"]
        self.channel_visibility = channel.get("visibility") or ""
        self.subscriber_count = int(channel.get("subscriberCount") or 0)
        await self._fetch()

    async def _fetch(self) -> None:
        self.loading = True
        try:
            page = await self._client().subscribers(
                self._route_sub_id(), PAGE_SIZE, self._cursors[-1]
            )
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        self.rows = [
            {
                "id": s["id"],
                "platform": (s.get("device") or {}).get("platform") or "—",
                "token": forms.short_token(
                    (s.get("device") or {}).get("token"),
                    48,
                    (s.get("device") or {}).get("tokenHint"),
                ),
                "identifier": (s.get("device") or {}).get("identifier") or "",
                "active": "yes" if (s.get("device") or {}).get("active", True) else "no",
                "since": forms.format_time(s.get("createdAt")),
                "last_seen": forms.format_ago((s.get("device") or {}).get("lastSeenAt")),
            }
            for s in page["nodes"]
        ]
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

    @rx.event
    async def prev_page(self):
        if len(self._cursors) <= 1:
            return
        self._cursors.pop()
        self.page = len(self._cursors)
        await self._fetch()


# ==========================================================================
# Access codes


class AccessCodeState(AppContext):
    private_channels: list[dict[str, str]] = []
    selected: list[str] = []
    identifier: str = ""
    minutes: str = "5"
    loading: bool = True
    error: str = ""
    form_error: str = ""
    busy: bool = False

    code: str = ""
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
        ids = {c["id"] for c in self.private_channels}
        self.selected = [s for s in self.selected if s in ids]
        self.loading = False

    @rx.event
    def toggle(self, channel_id: str, checked: bool):
        if checked and channel_id not in self.selected:
            self.selected = [*self.selected, channel_id]
        elif not checked:
            self.selected = [s for s in self.selected if s != channel_id]
        self.form_error = ""

    @rx.event
    def set_minutes(self, value: str):
        self.minutes = value

    @rx.event
    async def generate(self, form: dict):
        self.identifier = str(form.get("identifier") or "")
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
        self.expires_at = code["expiresAt"]
        self.code_identifier = code.get("identifier") or ""
        self.code_channels = ", ".join(c.get("name") or c["id"] for c in code.get("channels") or [])
        self._update_remaining()
        self._ticker = next(_generations)
        yield AccessCodeState.tick

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
        self._ticker = next(_generations)

    @rx.event
    def clear_code(self):
        self._ticker = next(_generations)
        self.code = ""
        self.remaining = 0


# ==========================================================================
# Send


class SendState(AppContext):
    channels: list[dict[str, str]] = []
    loading: bool = True
    load_error: str = ""

    channel_id: str = ""
    priority: str = "DEFAULT"
    tz_offset: int = 0

    errors: dict[str, str] = {}
    error: str = ""
    sending: bool = False
    sent_id: str = ""
    sent_status: str = ""

    @rx.var
    def has_channels(self) -> bool:
        return len(self.channels) > 0

    @rx.event
    async def load(self):
        app_id = self._route_app_id()
        if not self._mine():
            return
        self.loading = True
        self.load_error = ""
        self.error = ""
        self.sent_id = ""
        yield rx.call_script("new Date().getTimezoneOffset()", callback=SendState.set_tz_offset)
        try:
            channels = await self._client().channels(app_id)
        except ApiError as exc:
            self.loading = False
            self.load_error = exc.message
            yield self._handle(exc)
            return
        self.channels = [
            {
                "id": c["id"],
                "name": c["name"],
                "label": f"{c['name']} ({c.get('visibility', '').lower()})",
            }
            for c in sorted(channels, key=lambda c: c["name"])
        ]
        ids = {c["id"] for c in self.channels}
        if self.channel_id not in ids:
            self.channel_id = self.channels[0]["id"] if self.channels else ""
        self.loading = False

    @rx.event
    def set_tz_offset(self, value: Any):
        try:
            self.tz_offset = int(value)
        except (TypeError, ValueError):
            self.tz_offset = 0

    def _clear(self, key: str) -> None:
        if key in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != key}
        self.error = ""

    @rx.event
    def set_channel_id(self, value: str):
        self.channel_id = value
        self._clear("channel")

    @rx.event
    def set_priority(self, value: str):
        self.priority = value if value in forms.PRIORITIES else "DEFAULT"

    @rx.event
    def check_data(self, value: str):
        """On leaving the data field: say at once whether it is valid JSON."""
        self._clear("data")
        _, problem = forms.parse_json_data(value)
        if problem:
            self.errors = {**self.errors, "data": problem}

    @rx.event
    def clear_error(self, key: str):
        self._clear(key)

    @rx.event
    async def send(self, form: dict):
        check = forms.check_send_form(
            forms.SendForm(
                channel_id=self.channel_id,
                title=str(form.get("title") or ""),
                body=str(form.get("body") or ""),
                data=str(form.get("data") or ""),
                priority=self.priority,
                collapse_key=str(form.get("collapse_key") or ""),
                ttl=str(form.get("ttl") or ""),
                send_at=str(form.get("send_at") or ""),
                tz_offset_minutes=self.tz_offset,
            )
        )
        self.errors = check.errors
        self.error = ""
        if not check.ok:
            self.error = "Please fix the highlighted fields."
            return
        self.sending = True
        yield
        try:
            result = await self._client().send_notification(check.payload)  # type: ignore[arg-type]
        except ApiError as exc:
            self.sending = False
            self.error = exc.message
            yield self._handle(exc)
            return
        self.sending = False
        self.sent_id = result["id"]
        self.sent_status = result.get("status") or ""
        scheduled = result.get("status") == "SCHEDULED"
        yield rx.toast.success(
            "Notification scheduled." if scheduled else "Notification sent.", duration=3000
        )
        yield rx.redirect(f"/apps/{self._route_app_id()}/notifications/{result['id']}")


# ==========================================================================
# Notifications


class NotificationsState(AppContext):
    rows: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""
    page: int = 1
    has_next: bool = False
    _cursors: list[str | None] = [None]
    _next_cursor: str | None = None

    @rx.var
    def has_rows(self) -> bool:
        return len(self.rows) > 0

    @rx.event
    async def load(self):
        if not self._mine():
            return
        self.page = 1
        self._cursors = [None]
        self.error = ""
        self.loading = True
        yield
        await self._fetch()
        if self.error == EXPIRED_MESSAGE:
            yield self._end_session()

    async def _fetch(self) -> None:
        self.loading = True
        try:
            page = await self._client().notifications(
                self._route_app_id(), PAGE_SIZE, self._cursors[-1]
            )
        except ApiError as exc:
            self.loading = False
            self.error = exc.message
            return
        self.rows = [_notification_row(n) for n in page["nodes"]]
        info = page.get("pageInfo") or {}
        self.has_next = bool(info.get("hasNextPage"))
        self._next_cursor = info.get("endCursor")
        self.loading = False

    @rx.event
    async def refresh(self):
        await self._fetch()

    @rx.event
    async def next_page(self):
        if not self.has_next:
            return
        self._cursors.append(self._next_cursor)
        self.page = len(self._cursors)
        await self._fetch()

    @rx.event
    async def prev_page(self):
        if len(self._cursors) <= 1:
            return
        self._cursors.pop()
        self.page = len(self._cursors)
        await self._fetch()


class NotificationDetailState(AppContext):
    n: dict[str, str] = {}
    data_text: str = ""
    loading: bool = True
    error: str = ""
    deliveries: list[dict[str, str]] = []
    deliveries_error: str = ""
    has_more: bool = False
    cancel_error: str = ""
    canceling: bool = False
    watching: bool = False
    _watch: int = 0

    @rx.var
    def can_cancel(self) -> bool:
        return self.n.get("status", "") == "SCHEDULED"

    @rx.var
    def is_final(self) -> bool:
        return self.n.get("status", "") in FINAL_NOTIFICATION

    @rx.event
    async def load(self):
        nid = self._route_sub_id()
        if not self._mine() or not nid:
            return
        if self.n.get("id") != nid:
            self.n = {}
            self.deliveries = []
        self.loading = True
        self.error = ""
        self.cancel_error = ""
        yield
        problem = await self._fetch(nid)
        if problem is not None:
            yield self._handle(problem)
            return
        self._watch = next(_generations)
        yield NotificationDetailState.watch

    async def _fetch(self, nid: str) -> ApiError | None:
        client = self._client()
        try:
            n = await client.notification(nid)
        except ApiError as exc:
            self.loading = False
            if not self._not_mine(exc):
                self.error = exc.message
            return exc
        if ((n.get("channel") or {}).get("app") or {}).get("id") != self.app_id:
            self.missing = True  # another app's notification
            self.loading = False
            return ApiError("NOT_FOUND")
        row = _notification_row(n)
        row["collapse_key"] = n.get("collapseKey") or ""
        row["ttl"] = "" if n.get("ttl") is None else f"{n['ttl']} s"
        self.n = row
        data = n.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                pass
        self.data_text = (
            "" if data in (None, {}, "") else json.dumps(data, indent=2, sort_keys=True)
        )
        self.loading = False
        try:
            page = await client.deliveries(nid, 100)
        except ApiError as exc:
            self.deliveries_error = exc.message
            return None
        self.deliveries_error = ""
        self.deliveries = [_delivery_row(d) for d in page["nodes"]]
        self.has_more = bool((page.get("pageInfo") or {}).get("hasNextPage"))
        return None

    def _settled(self) -> bool:
        if self.n.get("status") in FINAL_NOTIFICATION:
            return True
        return False

    @rx.event(background=True)
    async def watch(self):
        """Poll while the notification is still moving, so the page updates itself."""
        async with self:
            ticket = self._watch
            nid = self._route_sub_id()
            self.watching = True
        started = time.monotonic()
        try:
            while time.monotonic() - started < 15 * 60:
                await asyncio.sleep(1.5)
                async with self:
                    if self._watch != ticket or self._route_sub_id() != nid:
                        return
                    if self._settled():
                        return
                    client = self._client()
                try:
                    n = await client.notification(nid)
                    page = await client.deliveries(nid, 100)
                except ApiError as exc:
                    if exc.unauthenticated:
                        async with self:
                            return self._end_session()
                    continue
                async with self:
                    if self._watch != ticket:
                        return
                    row = _notification_row(n)
                    row["collapse_key"] = n.get("collapseKey") or ""
                    row["ttl"] = "" if n.get("ttl") is None else f"{n['ttl']} s"
                    self.n = row
                    self.deliveries = [_delivery_row(d) for d in page["nodes"]]
                    self.has_more = bool((page.get("pageInfo") or {}).get("hasNextPage"))
                    if self._settled():
                        self.watching = False
                        return
        finally:
            async with self:
                if self._watch == ticket:
                    self.watching = False

    @rx.event
    def stop(self):
        self._watch = next(_generations)
        self.watching = False

    @rx.event
    async def cancel(self):
        nid = self._route_sub_id()
        self.canceling = True
        self.cancel_error = ""
        yield
        try:
            await self._client().cancel_notification(nid)
        except ApiError as exc:
            self.canceling = False
            self.cancel_error = exc.message
            yield self._handle(exc)
            return
        self.canceling = False
        await self._fetch(nid)
        yield rx.toast.info("Scheduled notification canceled.", duration=3000)


# ==========================================================================
# Live


class LiveState(AppContext):
    status: str = "disconnected"  # connecting | connected | disconnected
    live_error: str = ""
    notifications: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    running: bool = False
    _gen: int = 0
    _live_app: str = ""  # the app whose events the lists hold

    @rx.var
    def connected(self) -> bool:
        return self.status == "connected"

    @rx.event
    def start(self):
        if not self._mine():
            return None
        self._gen = next(_generations)
        self.running = True
        self.status = "connecting"
        self.live_error = ""
        if self._live_app != self.app_id:
            self.notifications = []
            self.deliveries = []
            self._live_app = self.app_id
        return LiveState.run

    @rx.event
    def stop(self):
        self._gen = next(_generations)
        self.running = False
        self.status = "disconnected"

    @rx.event
    def clear(self):
        self.notifications = []
        self.deliveries = []

    def _apply(self, name: str, data: dict[str, Any]) -> None:
        if name == "LiveNotifications" and data.get("notifications"):
            row = _notification_row(data["notifications"])
            rows = [r for r in self.notifications if r["id"] != row["id"]]
            self.notifications = [row, *rows][:LIVE_KEEP]
        elif name == "LiveDeliveries" and data.get("deliveryEvents"):
            row = _delivery_row(data["deliveryEvents"])
            row["at"] = datetime.now(UTC).strftime("%H:%M:%S")
            self.deliveries = [row, *self.deliveries][:LIVE_KEEP]
            # Tally final outcomes on the notification's card.
            if row["status"] in ("DELIVERED", "FAILED"):
                key = "n_delivered" if row["status"] == "DELIVERED" else "n_failed"
                self.notifications = [
                    {**n, key: str(int(n.get(key) or 0) + 1)}
                    if n["id"] == row["notification_id"]
                    else n
                    for n in self.notifications
                ]

    @rx.event(background=True)
    async def run(self):
        async with self:
            gen = self._gen
            token = self.token
            app_id = self._live_app
            client_ip = self._client_ip()
        backoff = 1.0
        while True:
            async with self:
                if self._gen != gen or not self.running:
                    return
                self.status = "connecting"
            try:
                async with SubscriptionClient(token, client_ip=client_ip) as live:
                    await live.subscribe("LiveNotifications", {"appId": app_id})
                    await live.subscribe("LiveDeliveries", {"appId": app_id})
                    async with self:
                        if self._gen != gen:
                            return
                        self.status = "connected"
                        self.live_error = ""
                    backoff = 1.0
                    while True:
                        event = await live.next_event(timeout=1.0)
                        async with self:
                            if self._gen != gen or not self.running:
                                return
                            if event is not None:
                                self._apply(*event)
            except ApiError as exc:
                async with self:
                    if self._gen != gen:
                        return
                    self.status = "disconnected"
                    self.live_error = exc.message
                    if exc.unauthenticated:
                        self.running = False
                        return self._end_session()
            except Exception:  # never leave the task dead with a stale "connected"
                async with self:
                    if self._gen != gen:
                        return
                    self.status = "disconnected"
                    self.live_error = "The live connection dropped."
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
