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
