"""The `booper` command: serve, dev, migrate, worker, scheduler, sandbox, export-schema, set-plan."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import typer

app = typer.Typer(
    help="Booper: a self-hostable push-notification service.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings():
    # Every command that reads settings may create the data directory, the SQLite file or a
    # generated key: whatever this process creates is private to its user from the start.
    from api.datadir import make_process_private
    from api.settings import get_settings

    make_process_private()

    get_settings.cache_clear()
    return get_settings()


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to bind (default BOOPER_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default BOOPER_PORT or 8000)."),
) -> None:
    """Run the API (GraphQL over HTTP and WebSocket on /graphql). Applies migrations first.

    Without BOOPER_REDIS_URL it also runs the in-process queue and the periodic jobs
    (sweep, receipts, scheduled sends); with Redis, run `booper worker` and `booper scheduler`.
    """
    settings = _settings()
    import uvicorn

    from api import logs
    from api.http.app import create_app

    application = create_app(settings)
    # Building the Litestar app installed Litestar's own logging config: take the root back, so
    # that every line (uvicorn's too: no log_config of its own in production) is JSON there.
    logs.configure(settings.production)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_config=logs.uvicorn_log_config(settings.production),
        log_level="info",
        access_log=not settings.production,
        ws_max_size=64 * 1024,
        ws_per_message_deflate=settings.ws_compression,
        proxy_headers=False,  # Booper decides whom to believe (BOOPER_TRUSTED_PROXIES)
    )


@app.command()
def dev(
    port: int = typer.Option(8000, help="API port."),
    sandbox_port: int = typer.Option(8001, help="Sandbox providers' port."),
    dashboard: bool = typer.Option(False, help="Also build and serve the Reflex dashboard."),
    dashboard_port: int = typer.Option(3000, help="Dashboard port."),
) -> None:
    """Everything on the embedded default: API, in-process queue, and the sandbox providers
    standing in for Expo, Web Push, FCM and APNs, so deliveries complete end to end on this machine.
    With --dashboard, the Reflex dashboard too (scripts/dev turns it on)."""
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    os.environ.setdefault("BOOPER_EXPO_URL", sandbox)
    extra = os.environ.get("BOOPER_WEBPUSH_ALLOWED_ORIGINS")
    if extra is None:
        from api.settings import DEFAULT_WEBPUSH_ORIGINS

        extra = ",".join(DEFAULT_WEBPUSH_ORIGINS)
    os.environ["BOOPER_WEBPUSH_ALLOWED_ORIGINS"] = f"{extra},{sandbox}"
    # Real Expo wants ~15 minutes before receipts; the sandbox has them at once.
    os.environ.setdefault("BOOPER_RECEIPT_DELAY", "3")
    os.environ.setdefault("BOOPER_PERIODIC_INTERVAL", "1")
    # The sandbox has a webhook receiver on loopback: let dev webhooks reach it.
    os.environ.setdefault("BOOPER_WEBHOOK_ALLOW_PRIVATE", "true")
    if dashboard and not os.environ.get("BOOPER_PROXY_SECRET"):
        # The dashboard forwards each browser's address with this secret (the API and the
        # dashboard both read it from the environment), so throttles count people, not the
        # dashboard's server. A fresh one per run: nothing to configure or leak in dev.
        import secrets

        os.environ["BOOPER_PROXY_SECRET"] = secrets.token_urlsafe(32)
    settings = _settings()

    import socket

    import uvicorn

    from api.http.app import create_app
    from api.sandbox import SandboxState
    from api.sandbox.app import create_sandbox_app
    from api.sandbox.h2 import certificate, serve_native

    # FCM and APNs: the sandbox's HTTP/2 server on the next port, with its own certificate.
    native = f"https://127.0.0.1:{sandbox_port + 1}"
    cert_dir = settings.data_dir / "sandbox-tls"
    if "BOOPER_FCM_URL" not in os.environ and "BOOPER_APNS_URL" not in os.environ:
        settings.fcm_url = settings.apns_url = settings.apns_development_url = native
        settings.fcm_token_url = f"{native}/token"
        settings.provider_ca_file = str(certificate(cert_dir)[0])
    sandbox_state = SandboxState()
    native_sock = socket.socket()
    native_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    native_sock.bind(("127.0.0.1", sandbox_port + 1))

    async def both() -> None:
        api_server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                                   log_level="info", ws_max_size=64 * 1024,
                                                   ws_per_message_deflate=settings.ws_compression,
                                                   proxy_headers=False))
        sandbox_server = uvicorn.Server(uvicorn.Config(create_sandbox_app(sandbox_state), host="127.0.0.1",
                                                       port=sandbox_port, log_level="warning"))
        typer.echo(f"Booper API:       http://127.0.0.1:{port}/graphql")
        typer.echo(f"Sandbox providers: {sandbox}  (messages: {sandbox}/sandbox/messages)")
        typer.echo(f"Sandbox FCM/APNs:  {native}  (HTTP/2, certificate {cert_dir / 'sandbox-cert.pem'})")
        typer.echo(f"Data directory:   {settings.data_dir}")
        await asyncio.gather(api_server.serve(), sandbox_server.serve(),
                             serve_native(sandbox_state, native_sock, cert_dir))

    ui = _start_dashboard(port, dashboard_port) if dashboard else None
    try:
        asyncio.run(both())
    finally:
        if ui is not None:
            _stop_group(ui)


def _start_dashboard(api_port: int, port: int) -> subprocess.Popen | None:
    """`reflex run --env prod` (frontend and backend on one port) in its own process group."""
    reflex = Path(sys.executable).parent / "reflex"
    root = Path(__file__).resolve().parent.parent
    if not reflex.exists():
        typer.echo("Dashboard:        not installed (run scripts/setup-dashboard)", err=True)
        return None
    env = {
        **os.environ,
        "BOOPER_API_URL": f"http://127.0.0.1:{api_port}",
        "BOOPER_DASHBOARD_PORT": str(port),
        "PATH": f"{root / '.tools' / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    log = (Path(os.environ.get("BOOPER_DATA_DIR", ".booper")) / "dashboard.log").resolve()
    log.parent.mkdir(parents=True, exist_ok=True)
    typer.echo(f"Dashboard:        http://127.0.0.1:{port}  (first build takes ~15 s; log: {log})")
    return subprocess.Popen(
        [str(reflex), "run", "--env", "prod", "--backend-host", "127.0.0.1", "--backend-port", str(port),
         "--loglevel", "warning"],
        cwd=root, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def _stop_group(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@app.command()
def migrate() -> None:
    """Apply database migrations (booper serve does this on start too)."""
    from api.bootstrap import migrate as run

    _settings()
    asyncio.run(run())
    typer.echo("migrations applied")


@app.command("export-schema")
def export_schema(
    output: Path = typer.Option(Path("schema.graphql"), help="Where to write the SDL; '-' for stdout."),
) -> None:
    """Write the GraphQL schema (SDL) exported from the code."""
    from api.graphql.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if str(output) == "-":
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
        typer.echo(f"wrote {output}")


@app.command()
def worker(workers: int = typer.Option(1, help="Worker processes per queue.")) -> None:
    """Run taskiq workers (needs BOOPER_REDIS_URL): one for the main queue, one for BUSINESS apps'
    priority queue."""
    settings = _settings()
    if not settings.redis_url:
        typer.echo("booper worker needs BOOPER_REDIS_URL; without it, booper serve runs the tasks.", err=True)
        raise typer.Exit(2)
    base = [sys.executable, "-m", "taskiq", "worker", "--workers", str(workers), "--ack-type", "when_executed",
            "--no-configure-logging"]
    procs = [
        subprocess.Popen([*base, "tasks.broker:broker"]),
        subprocess.Popen([*base, "tasks.broker:priority_broker"]),
    ]
    _wait(procs)


@app.command()
def scheduler() -> None:
    """Run the taskiq scheduler that fires the periodic jobs (sweep, receipts). Run exactly one."""
    settings = _settings()
    if not settings.redis_url:
        typer.echo("booper scheduler needs BOOPER_REDIS_URL; without it, booper serve runs the jobs.", err=True)
        raise typer.Exit(2)
    _wait([subprocess.Popen([sys.executable, "-m", "taskiq", "scheduler", "tasks.scheduler:scheduler",
                             "--no-configure-logging"])])


@app.command()
def sandbox(
    port: int = typer.Option(8001),
    host: str = typer.Option("127.0.0.1"),
    latency_ms: float = typer.Option(0.0, help="Artificial latency added to every provider request."),
    native_port: int = typer.Option(0, help="Also serve FCM v1 and APNs over HTTP/2 with TLS on this port (0: off)."),
) -> None:
    """Run the sandbox providers alone (Expo-compatible API, Web Push receiver, FCM v1 and APNs)."""
    from api.sandbox.app import serve_sandbox
    from api.sandbox.state import SandboxState

    settings = _settings()
    serve_sandbox(host, port, SandboxState(latency_ms=latency_ms), native_port=native_port or None,
                  cert_dir=settings.data_dir / "sandbox-tls")


@app.command("set-plan")
def set_plan(app_id: int, plan: str) -> None:
    """Set an app's plan: FREE, PRO or BUSINESS."""
    from api.apps import plans, service

    plan = plan.upper()
    if plan not in plans.PLANS:
        typer.echo(f"plan must be one of {', '.join(plans.PLANS)}", err=True)
        raise typer.Exit(2)
    _settings()

    async def run() -> dict:
        from api import db

        await db.start(db.current_engine(), pool_size=2)
        try:
            return await service.set_plan(app_id, plan)
        finally:
            await db.stop(db.current_engine())

    row = asyncio.run(run())
    typer.echo(f"app {row['id']} ({row['name']}) is now on {row['plan']}")


def _wait(procs: list[subprocess.Popen]) -> None:
    try:
        while all(p.poll() is None for p in procs):
            try:
                procs[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            p.wait(timeout=15)
    code = max((p.returncode or 0) for p in procs)
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
