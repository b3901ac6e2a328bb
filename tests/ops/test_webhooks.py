"""Webhooks: signed (checked with an independent HMAC), retried on failure, in order."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

from api.webhooks import service as webhooks
from api.webhooks.tables import WebhookEvent
from tests.support import factories as f

SET = "mutation($a: ID!, $u: String!) { setWebhook(appId: $a, url: $u) { id url secret } }"


async def _webhook(api, sandbox, settings, name="hook"):
    settings.webhook_allow_private = True
    app = await f.make_app(api)
    data = await api.ok(SET, {"a": app.id, "u": f"{sandbox.base_url}/webhooks/{name}"}, token=app.owner.token)
    return app, data["setWebhook"]


async def _received(sandbox, name, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sandbox.messages(to=name)
        if len(got) >= n:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {n} webhook posts, got {sandbox.messages(to=name)}")


def _verify(secret: str, message: dict) -> bool:
    """What a receiver does, written independently of Booper's code."""
    parts = dict(p.split("=", 1) for p in message["headers"]["booper-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.{message['body']}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


async def test_events_are_signed_and_arrive_in_order(api, sandbox, settings, runtime):
    app, hook = await _webhook(api, sandbox, settings)
    assert hook["secret"].startswith("whsec_")
    await webhooks.emit(runtime, [(int(app.id), "notification.sent", {"n": i}) for i in range(5)])
    got = await _received(sandbox, "hook", 5)
    assert [m["json"]["data"]["n"] for m in got] == [0, 1, 2, 3, 4]
    assert all(m["json"]["type"] == "notification.sent" for m in got)
    assert all(_verify(hook["secret"], m) for m in got)
    tampered = dict(got[0], body=got[0]["body"].replace('"n":0', '"n":9'))
    assert not _verify(hook["secret"], tampered)


async def test_failures_are_retried_with_backoff_and_order_is_kept(api, sandbox, settings, runtime):
    app, hook = await _webhook(api, sandbox, settings, name="flaky")
    sandbox.faults({"match": "flaky", "provider": "webhook", "fault": "http_500", "times": 2})
    await webhooks.emit(runtime, [(int(app.id), "delivery.delivered", {"n": 1}),
                                  (int(app.id), "delivery.delivered", {"n": 2})])
    got = await _received(sandbox, "flaky", 2)
    assert [m["json"]["data"]["n"] for m in got] == [1, 2]
    # The receiver has the request before the sender records its answer: wait for the record.
    for _ in range(100):
        rows = await WebhookEvent.select().order_by(WebhookEvent.id)
        if all(r["status"] != "PENDING" for r in rows):
            break
        await asyncio.sleep(0.05)
    assert [(r["status"], r["attempts"]) for r in rows] == [("DELIVERED", 3), ("DELIVERED", 1)]


async def test_an_endpoint_that_keeps_failing_ends_failed_after_the_attempt_limit(api, sandbox, settings, runtime):
    settings.webhook_max_attempts = 2
    app, _ = await _webhook(api, sandbox, settings, name="down")
    sandbox.faults({"match": "down", "provider": "webhook", "fault": "http_503"})
    await webhooks.emit(runtime, [(int(app.id), "device.registered", {"device": "1"})])
    for _ in range(100):
        row = await WebhookEvent.select().first()
        if row["status"] == "FAILED":
            break
        await asyncio.sleep(0.05)
    assert (row["status"], row["attempts"], row["last_error"]) == ("FAILED", 2, "http_503")


async def test_private_urls_are_refused_unless_allowed(api, settings):
    settings.webhook_allow_private = False
    app = await f.make_app(api)
    for url in ("http://127.0.0.1:9/x", "https://10.0.0.1/x", "https://localhost/x", "ftp://example.com/x"):
        assert await api.code(SET, {"a": app.id, "u": url}, token=app.owner.token) == "BAD_USER_INPUT"
    ok = await api.ok(SET, {"a": app.id, "u": "https://hooks.example.com/booper"}, token=app.owner.token)
    assert ok["setWebhook"]["url"] == "https://hooks.example.com/booper"


async def test_only_the_owner_manages_webhooks(api, settings):
    app = await f.make_app(api)
    other = await f.make_user(api)
    url = {"a": app.id, "u": "https://hooks.example.com/x"}
    assert await api.code(SET, url, api_key=app.api_key) == "FORBIDDEN"
    assert await api.code(SET, url, token=other.token) == "NOT_FOUND"
    assert await api.code(SET, url) == "UNAUTHENTICATED"


async def test_the_product_emits_events_in_ledger_order(api, sandbox, settings, api_server):
    app, hook = await _webhook(api, sandbox, settings, name="flow")
    channel = await f.make_channel(api, app, name="news")
    good = await f.make_expo_device(api)
    dead = await f.make_expo_device(api, token="ExponentPushToken[gone-1]")
    await f.subscribe(api, good, channel)
    await f.subscribe(api, dead, channel)
    sandbox.faults({"match": "gone-1", "provider": "expo", "fault": "DeviceNotRegistered"})
    sent = await f.send(api, app, channel="news", title="hello")
    got = await _received(sandbox, "flow", 6)
    types = [m["json"]["type"] for m in got]
    assert sorted(types[:2]) == ["device.registered", "device.registered"]
    per_notification = [m["json"]["type"] for m in got if m["json"]["data"].get("notificationId") == sent["id"]]
    # The dead token fails at the ticket, the good one is SENT: notification.sent follows the
    # ticket phase; the good delivery's receipt comes after it.
    assert per_notification == ["delivery.failed", "notification.sent", "delivery.delivered"], (per_notification, types)
    left = [m["json"]["data"] for m in got if m["json"]["type"] == "device.unregistered"]
    assert left == [{"deviceId": dead["id"], "reason": "DeviceNotRegistered", "identifier": None}]
    assert all(_verify(hook["secret"], m) for m in got)


class Dns:
    """The outside world's DNS for names under .booper.test: answers in turn (the last one
    repeats), like a rebinding attacker's server; every other name resolves as usual."""

    def __init__(self, monkeypatch, answers: dict[str, list[str]]) -> None:
        import socket

        self.answers = answers
        self.asked: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, *args, **kwargs)
            self.asked.append(name)
            turn = self.answers[name]
            address = turn.pop(0) if len(turn) > 1 else turn[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


async def test_webhooks_connect_to_the_address_that_was_checked(api, settings, runtime, monkeypatch):
    """DNS rebinding: the name answers a public address to the check, then an internal one. The
    POST must go to the checked address (the name kept as Host and TLS server name)."""
    import httpx

    from api.webhooks.tables import Webhook

    settings.webhook_allow_private = False
    dns = Dns(monkeypatch, {"rebind.booper.test": ["93.184.216.34", "127.0.0.1"]})
    app = await f.make_app(api)
    await api.ok(SET, {"a": app.id, "u": "https://rebind.booper.test/hook?x=1"}, token=app.owner.token)
    hook_ids = await webhooks.record([(int(app.id), "notification.sent", {"n": 1})])
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:  # the receiver's side of the wire
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        hook = await Webhook.select(Webhook.id).where(Webhook.app == int(app.id)).first()
        assert hook["id"] in hook_ids
        assert await webhooks.deliver(runtime, hook["id"], client) == 1
    assert len(seen) == 1
    request = seen[0]
    assert (request.url.host, request.url.port, request.url.path, request.url.query) == (
        "93.184.216.34", None, "/hook", b"x=1")
    assert request.headers["host"] == "rebind.booper.test"
    assert request.extensions.get("sni_hostname") == "rebind.booper.test"
    assert dns.asked == ["rebind.booper.test"]  # resolved once, by Booper, and checked


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_send(api, settings, runtime, monkeypatch):
    settings.webhook_allow_private = False
    settings.webhook_max_attempts = 1
    Dns(monkeypatch, {"inside.booper.test": ["10.1.2.3"]})
    app = await f.make_app(api)
    await api.ok(SET, {"a": app.id, "u": "https://inside.booper.test/hook"}, token=app.owner.token)
    await webhooks.emit(runtime, [(int(app.id), "notification.sent", {"n": 1})])
    for _ in range(100):
        row = await WebhookEvent.select().first()
        if row["status"] != "PENDING":
            break
        await asyncio.sleep(0.05)
    assert (row["status"], row["last_error"]) == ("FAILED", "refused: resolves to a private address")


async def test_a_pinned_webhook_reaches_its_receiver_with_its_own_host_name(api, sandbox, settings, runtime,
                                                                          monkeypatch):
    settings.webhook_allow_private = True
    Dns(monkeypatch, {"hooks.booper.test": ["127.0.0.1"]})
    port = sandbox.base_url.rsplit(":", 1)[1]
    app = await f.make_app(api)
    hook = (await api.ok(SET, {"a": app.id, "u": f"http://hooks.booper.test:{port}/webhooks/named"},
                         token=app.owner.token))["setWebhook"]
    await webhooks.emit(runtime, [(int(app.id), "delivery.delivered", {"n": 7})])
    # Through the pinned address over real HTTP (the Host header is checked on the wire above).
    got = await _received(sandbox, "named", 1)
    assert got[0]["json"]["data"] == {"n": 7} and _verify(hook["secret"], got[0])


def _self_signed(name: str, directory) -> tuple[str, str]:
    """A certificate for `name` (and only it), as a receiver with a real certificate would have."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


async def test_a_pinned_https_webhook_verifies_the_certificate_for_its_name(api, settings, runtime, monkeypatch,
                                                                          tmp_path):
    """Connected by IP, the TLS server name and certificate check are still the URL's host name."""
    import ssl

    import httpx
    from aiohttp import web

    from api.webhooks.tables import Webhook
    from tests.support.sandbox import free_port

    cert, key = _self_signed("tls.booper.test", tmp_path)
    seen: list[tuple[str, str]] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append((request.headers["host"], await request.text()))
        return web.Response(status=204)

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=server_ctx).start()
    try:
        settings.webhook_allow_private = True
        Dns(monkeypatch, {"tls.booper.test": ["127.0.0.1"]})
        app = await f.make_app(api)
        await api.ok(SET, {"a": app.id, "u": f"https://tls.booper.test:{port}/hook"}, token=app.owner.token)
        await webhooks.record([(int(app.id), "notification.sent", {"n": 3})])
        hook = await Webhook.select(Webhook.id).where(Webhook.app == int(app.id)).first()
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=cert)) as client:
            assert await webhooks.deliver(runtime, hook["id"], client) == 1
    finally:
        await runner.cleanup()
    assert len(seen) == 1 and seen[0][0] == f"tls.booper.test:{port}"
    assert '"n":3' in seen[0][1]


async def test_events_are_made_only_for_the_apps_that_have_a_webhook(api, sandbox, settings, runtime):
    """The ledger records a send batch's events through record_for: they are built only for the
    apps with a webhook (a batch of an app without one builds none), and only those are stored."""
    app, hook = await _webhook(api, sandbox, settings, name="some")
    without = await f.make_app(api)
    asked: list[set[int]] = []

    def make(apps: set[int]) -> list[tuple]:
        asked.append(apps)
        return [(int(app.id), "delivery.delivered", {"n": 1}), (int(without.id), "delivery.delivered", {"n": 2})]

    assert await webhooks.record_for([int(without.id)], make) == set()
    assert asked == []  # no app with a webhook: nothing made
    assert await webhooks.record_for([int(app.id), int(without.id)], make) == {int(hook["id"])}
    assert asked == [{int(app.id)}]
    rows = await WebhookEvent.select(WebhookEvent.webhook, WebhookEvent.payload)
    assert [(r["webhook"], r["payload"]) for r in rows] == [(int(hook["id"]), '{"n":1}')]
