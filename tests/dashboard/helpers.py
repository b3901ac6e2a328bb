"""Shared helpers for the browser tests: the API called directly (as an app or a device
would) and the few steps every test takes in the dashboard."""

from __future__ import annotations

import itertools
import re
import secrets
import uuid

import httpx

try:
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # the first event waits out the websocket connect
except ImportError:  # conftest skips the browser tests with the reason
    expect = None

PASSWORD = "correct horse battery"
# What `booper dev --dashboard` generates: the API believes the dashboard's X-Forwarded-For
# with it. The tests also use it to sign people up from addresses of their own (the sign-up
# throttle is per address), as the dashboard would.
PROXY_SECRET = secrets.token_urlsafe(24)
_addresses = itertools.count(1)


def next_address() -> str:
    """A client address of its own (TEST-NET-2 and benchmark ranges), for one browser or caller."""
    n = next(_addresses)
    return f"198.18.{n // 250}.{n % 250 + 1}"


def gql(
    api: dict,
    query: str,
    variables: dict | None = None,
    token: str | None = None,
    device_key: str | None = None,
    api_key: str | None = None,
) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if device_key:  # a device's own operations carry the key registerDevice returned
        headers["X-Device-Key"] = device_key
    if api_key:
        headers["X-Api-Key"] = api_key
    r = httpx.post(
        api["graphql"],
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=15,
    )
    body = r.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(api: dict, email: str) -> str:
    """An account made through the API, from an address of its own; its JWT."""
    r = httpx.post(
        api["graphql"],
        json={
            "query": "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
            "variables": {"e": email, "p": PASSWORD},
        },
        headers={"X-Forwarded-For": next_address(), "X-Booper-Proxy": PROXY_SECRET},
        timeout=15,
    )
    body = r.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]["signUp"]["token"]


def make_app(api: dict, token: str, name: str) -> tuple[str, str]:
    """An app made through the API: (its id, its first API key's secret)."""
    created = gql(
        api,
        "mutation($n: String!) { createApp(name: $n) { app { id } apiKey { secret } } }",
        {"n": name},
        token=token,
    )["createApp"]
    return created["app"]["id"], created["apiKey"]["secret"]


def log_in(page, dashboard_url: str, email: str, path: str = "/login") -> None:
    """Log in through the form at `path` (the log-in page, or a page that sends there)."""
    page.goto(f"{dashboard_url}{path}")
    expect(page.locator("#email")).to_be_visible()
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#submit").click()


def log_out(page) -> None:
    if page.locator("#logout").is_visible():
        page.locator("#logout").click()
    else:  # phones: the log-out is in the menu
        page.locator("#menu-toggle").click()
        page.locator("#logout-menu").click()
    expect(page.locator("#flash")).to_contain_text("logged out")


def app_path(page) -> str:
    match = re.search(r"/apps/([^/]+)", page.url)
    assert match, page.url
    return f"/apps/{match.group(1)}"


def device(api: dict, name: str, channel_id: str | None = None) -> dict:
    """A registered Expo device (token and key), subscribed to `channel_id` if given."""
    token = f"ExponentPushToken[{name}-{uuid.uuid4().hex[:10]}]"
    key = gql(
        api,
        "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { deviceKey } }",
        {"t": token},
    )["registerDevice"]["deviceKey"]
    if channel_id is not None:
        gql(
            api,
            "mutation($t: String!, $c: ID!) { subscribe(deviceToken: $t, channelId: $c) { id } }",
            {"t": token, "c": channel_id},
            device_key=key,
        )
    return {"token": token, "key": key}


class LatePageLoads:
    """The dashboard's event socket, with the page-load event (Reflex's on_load_internal, sent from
    an effect after a navigation) held back on demand. A click on a freshly painted page can reach
    the server before it (React runs the effect after the click's handler): holding it makes that
    happen every time instead of now and then.

    `events` names the events held: by default the page load alone; with "update_vars_internal"
    too (the browser sends it first on every navigation, with the new path), the server hears
    nothing of a navigation, as when it is still busy with an earlier event of this tab."""

    def __init__(self, page, events: tuple[str, ...] = ("on_load_internal",)):
        self.holding = False
        self.held: list = []
        self.events = events
        page.route_web_socket(re.compile(r"/_event"), self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: self._event(server, message))

    def _event(self, server, message) -> None:
        if self.holding and any(name in str(message) for name in self.events):
            self.held.append((server, message))
        else:
            server.send(message)

    def release(self) -> int:
        self.holding = False
        held, self.held = self.held, []
        for server, message in held:
            server.send(message)
        return len(held)
