"""Secrets at rest: the data directory is private to its user, and webhook secrets are stored
encrypted with a key derived from the secret key (never in plaintext)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import httpx

from tests.support.processes import Process, booper
from tests.support.sandbox import free_port


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(data: Path) -> dict[str, str]:
    return {p.name: oct(_mode(p)) for p in sorted(data.iterdir())}


def _embedded_env(data: Path) -> dict[str, str]:
    # The embedded default: SQLite in the data dir, generated secret key and VAPID key.
    return {"BOOPER_DATA_DIR": str(data), "BOOPER_DATABASE_URL": "", "BOOPER_SECRET_KEY": "",
            "BOOPER_VAPID_PRIVATE_KEY": ""}


def _serve(tmp_path: Path, data: Path) -> tuple[Process, str]:
    port = free_port()
    previous = os.umask(0o022)  # what a login shell usually has: files 0644, directories 0755
    try:
        proc = Process("serve", booper("serve", "--port", str(port)), _embedded_env(data), tmp_path)
    finally:
        os.umask(previous)
    proc.wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc, f"http://127.0.0.1:{port}/graphql"


def test_a_new_data_dir_and_every_file_in_it_are_private(tmp_path):
    data = tmp_path / "fresh" / "data"
    proc, url = _serve(tmp_path, data)
    try:
        # The VAPID key is generated on first use; a sign-up makes SQLite write (WAL and SHM).
        assert httpx.post(url, json={"query": "{ webPushPublicKey }"}, timeout=10).json()["data"]
        body = httpx.post(url, json={"query": 'mutation { signUp(email: "p@example.com", password: "correct horse")'
                                              " { token } }"}, timeout=10).json()
        assert body["data"]["signUp"]["token"]
        names = {p.name for p in data.iterdir()}
        assert {"booper.sqlite3", "secret_key", "vapid_private_key"} <= names, names
        assert _mode(data) == 0o700, oct(_mode(data))
        assert {n: m for n, m in _modes(data).items() if m != oct(0o600)} == {}
    finally:
        proc.stop()


def test_an_existing_loose_data_dir_is_tightened_at_start(tmp_path):
    data = tmp_path / "loose"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "secret_key").write_text("an-existing-secret-key-that-was-world-readable-0000")
    (data / "secret_key").chmod(0o644)
    with sqlite3.connect(data / "booper.sqlite3") as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE leftover (x)")
    for p in data.iterdir():
        p.chmod(0o644)
    proc, url = _serve(tmp_path, data)
    try:
        assert _mode(data) == 0o700, oct(_mode(data))
        assert {n: m for n, m in _modes(data).items() if m != oct(0o600)} == {}
        # The key that was there is the key in use (tightened, not replaced).
        assert (data / "secret_key").read_text() == "an-existing-secret-key-that-was-world-readable-0000"
    finally:
        proc.stop()


SET_WEBHOOK = "mutation($a: ID!, $u: String!) { setWebhook(appId: $a, url: $u) { id secret } }"
READ_WEBHOOK = "query($a: ID!) { webhook(appId: $a) { secret } }"


async def _stored_secret(app_id: str) -> str:
    from api.webhooks.tables import Webhook

    rows = await Webhook.raw("SELECT secret FROM webhooks WHERE app = {}", int(app_id))
    return rows[0]["secret"]


async def test_webhook_secrets_are_stored_encrypted_and_still_sign(api, sandbox, settings, runtime):
    from api.webhooks import service as webhooks
    from tests.ops.test_webhooks import _received, _verify
    from tests.support import factories as f

    settings.webhook_allow_private = True
    app = await f.make_app(api)
    shown = (await api.ok(SET_WEBHOOK, {"a": app.id, "u": f"{sandbox.base_url}/webhooks/sealed"},
                          token=app.owner.token))["setWebhook"]["secret"]
    stored = await _stored_secret(app.id)
    assert shown.startswith("whsec_")
    assert shown not in stored and shown[6:] not in stored
    assert stored.startswith("enc:v1:")
    # The owner still reads it; receivers still verify with it.
    assert (await api.ok(READ_WEBHOOK, {"a": app.id}, token=app.owner.token))["webhook"]["secret"] == shown
    await webhooks.emit(runtime, [(int(app.id), "notification.sent", {"n": 1})])
    got = await _received(sandbox, "sealed", 1)
    assert _verify(shown, got[0])


async def test_a_sealed_secret_does_not_open_under_another_key_or_for_another_row():
    import pytest

    from api import secrets_at_rest as sar

    sealed = sar.seal("whsec_abc", "server-key-one", purpose="webhook", context="app:1")
    assert sar.unseal(sealed, "server-key-one", purpose="webhook", context="app:1") == "whsec_abc"
    assert sealed != sar.seal("whsec_abc", "server-key-one", purpose="webhook", context="app:1")  # fresh nonce
    for key, purpose, context in (("server-key-two", "webhook", "app:1"), ("server-key-one", "fcm", "app:1"),
                                  ("server-key-one", "webhook", "app:2")):
        with pytest.raises(sar.SealError):
            sar.unseal(sealed, key, purpose=purpose, context=context)
    with pytest.raises(sar.SealError):
        sar.unseal(sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1], "server-key-one",
                   purpose="webhook", context="app:1")


async def test_the_migration_encrypts_plaintext_secrets_left_by_an_older_release(api, sandbox, settings, runtime):
    import importlib

    from api.webhooks import service as webhooks
    from api.webhooks.tables import Webhook
    from tests.ops.test_webhooks import _received, _verify
    from tests.support import factories as f

    migration = importlib.import_module("migrations.booper_2026_11_29t22_30_00_000000")
    settings.webhook_allow_private = True
    app = await f.make_app(api)
    old = "whsec_written-in-plaintext-by-an-older-release-000"
    await Webhook.insert(Webhook(app=int(app.id), url=f"{sandbox.base_url}/webhooks/legacy", secret=old))
    assert await _stored_secret(app.id) == old
    assert await migration.encrypt_webhook_secrets() == 1
    assert await migration.encrypt_webhook_secrets() == 0  # idempotent: sealed rows are left alone
    stored = await _stored_secret(app.id)
    assert stored.startswith("enc:v1:") and old not in stored
    await webhooks.emit(runtime, [(int(app.id), "delivery.delivered", {"n": 2})])
    assert _verify(old, (await _received(sandbox, "legacy", 1))[0])
    # And back, for a downgrade.
    assert await migration.decrypt_webhook_secrets() == 1
    assert await _stored_secret(app.id) == old
