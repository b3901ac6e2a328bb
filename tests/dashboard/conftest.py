"""Fixtures for the dashboard tests.

The browser tests (marker ``browser``) need three things this file starts, each
in its own process group, once per session:

* the API: ``booper dev`` on free ports with a temporary BOOPER_DATA_DIR
  (SQLite, in-process queue, sandbox providers);
* the dashboard's production build: ``reflex run --env prod`` on one port,
  pointed at that API through BOOPER_API_URL;
* headless Debian chromium driven by Playwright.

When one of them is not available on this machine the browser tests are
skipped with the reason, except under CI=true, where that is a failure.
``scripts/setup-dashboard`` installs everything they need.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"
CHROMIUM = Path(os.environ.get("BOOPER_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
from tests.dashboard.helpers import PROXY_SECRET, next_address  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--mute-audio",
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: end-to-end tests in headless chromium against the API and the dashboard",
    )


def unavailable(reason: str) -> None:
    """Skip locally; under CI=true a missing piece is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair(avoid: int) -> int:
    """A free port whose next port is free too (`booper dev` serves the FCM/APNs sandbox on
    sandbox port + 1), neither of them `avoid`."""
    for _ in range(50):
        port = free_port()
        if avoid in (port, port + 1):
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free consecutive ports on 127.0.0.1")


def record_timing(name: str, seconds: float) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = round(seconds, 1)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"[dashboard timing] {name}: {seconds:.1f} s", file=sys.stderr)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Process:
    """A server in its own process group, logged to a file, stopped with its children."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_until(self, ready, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{_tail(self.log)}"
                )
            with contextlib.suppress(Exception):
                if ready():
                    return time.monotonic() - start
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log_file.close()


def _booper_command() -> list[str] | None:
    for candidate in (ROOT / ".venv" / "bin" / "booper", Path(sys.executable).parent / "booper"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("booper")
    if found:
        return [found]
    if (ROOT / "api" / "cli.py").exists():
        return [sys.executable, "-c", "from api.cli import app; app()"]
    return None


@pytest.fixture(scope="session")
def api_server(tmp_path_factory) -> Iterator[dict[str, str]]:
    cmd = _booper_command()
    if cmd is None:
        unavailable("the API command (`booper dev`) is not available here yet")
    probe = subprocess.run([*cmd, "dev", "--help"], cwd=ROOT, capture_output=True, timeout=60)
    if probe.returncode != 0:
        unavailable(f"`booper dev` is not usable: {probe.stderr.decode(errors='replace')[-400:]}")
    port = free_port()
    sandbox_port = free_port_pair(avoid=port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOPER_")}
    env["BOOPER_DATA_DIR"] = str(tmp_path_factory.mktemp("booper-data"))
    env["BOOPER_PROXY_SECRET"] = PROXY_SECRET
    env["PYTHONUNBUFFERED"] = "1"
    server = Process(
        "booper dev",
        [*cmd, "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        env,
        ARTIFACTS / "api.log",
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        r = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=2)
        return r.status_code == 200

    try:
        server.wait_until(ready, timeout=90)
        yield {
            "url": url,
            "graphql": f"{url}/graphql",
            "sandbox": f"http://127.0.0.1:{sandbox_port}",
        }
    finally:
        server.stop()


def _npm_registry() -> str | None:
    if os.environ.get("NPM_CONFIG_REGISTRY"):
        return os.environ["NPM_CONFIG_REGISTRY"]
    npm = shutil.which("npm", path=f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not npm:
        return None
    with contextlib.suppress(Exception):
        out = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30
        )
        value = out.stdout.strip()
        if value.startswith("http"):
            return value
    return None


@pytest.fixture(scope="session")
def dashboard_url(api_server) -> Iterator[str]:
    if not (TOOLS_BIN / "bun").exists() or not (TOOLS_BIN / "node").exists():
        unavailable("bun/node are not installed in .tools/: run scripts/setup-dashboard")
    reflex = Path(sys.executable).parent / "reflex"
    if not reflex.exists():
        unavailable("reflex is not installed in this venv: run scripts/setup-dashboard")
    port = free_port()
    env = dict(os.environ)
    env["PATH"] = f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
        BOOPER_API_URL=api_server["url"],
        BOOPER_DASHBOARD_PORT=str(port),
        BOOPER_PROXY_SECRET=PROXY_SECRET,
        # The tests stand in for a reverse proxy in front of the dashboard: each browser context
        # says its address in X-Forwarded-For (one hop believed), as nginx would.
        BOOPER_DASHBOARD_PROXY_HOPS="1",
        PYTHONUNBUFFERED="1",
    )
    registry = _npm_registry()
    if registry:
        env["NPM_CONFIG_REGISTRY"] = registry
    server = Process(
        "reflex run --env prod",
        [str(reflex), "run", "--env", "prod", "--backend-port", str(port), "--loglevel", "info"],
        env,
        ARTIFACTS / "dashboard.log",
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return httpx.get(f"{url}/login/", timeout=2).status_code == 200

    try:
        took = server.wait_until(ready, timeout=300)
        record_timing("dashboard prod build and start", took)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing: run scripts/setup-dashboard (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: run scripts/setup-dashboard")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def context(browser, request):
    # Each context is one person at an address of its own (see BOOPER_DASHBOARD_PROXY_HOPS).
    ctx = browser.new_context(
        viewport={"width": 1440, "height": 900},
        device_scale_factor=1,
        extra_http_headers={"X-Forwarded-For": next_address()},
    )
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        if request.node.stash.get(_FAILED, False):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for n, page in enumerate(ctx.pages):
                with contextlib.suppress(Exception):
                    page.screenshot(
                        path=str(ARTIFACTS / f"FAILED-{request.node.name}-{n}.png"), full_page=True
                    )
        ctx.close()


@pytest.fixture(scope="session")
def timings():
    """timings(name, seconds): record a timing in test-artifacts/dashboard/timings.json."""
    return record_timing


@pytest.fixture
def shot():
    """shot(page, name): a full-page screenshot under test-artifacts/dashboard/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.wait_for_timeout(300)  # let transitions settle
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
