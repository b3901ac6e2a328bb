"""The one module that reads the environment; everything else receives a Settings."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The browsers' push services. A WEB device's endpoint must be on one of these
# (or on BOOPER_WEBPUSH_ALLOWED_ORIGINS when set), so that registerDevice cannot
# be used to make Booper POST to arbitrary hosts (SSRF).
DEFAULT_WEBPUSH_ORIGINS = (
    "https://fcm.googleapis.com",
    "https://android.googleapis.com",
    "https://updates.push.services.mozilla.com",
    "https://push.services.mozilla.com",
    "https://web.push.apple.com",
    "https://*.notify.windows.com",
    "https://*.push.apple.com",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOOPER_", extra="ignore")

    data_dir: Path = Path(".booper")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    production: bool = False
    introspection: bool | None = None

    # Delivery providers.
    expo_url: str = "https://exp.host"
    expo_access_token: str | None = None
    expo_rate: float = 600.0
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:admin@booper.invalid"
    webpush_allowed_origins: str | None = None
    webpush_concurrency: int = 64
    # Push services that show Declarative Web Push (Safari 18.4+): their subscriptions get the
    # declarative JSON payload, all others the classic one.
    webpush_declarative_hosts: str = "web.push.apple.com"
    # FCM HTTP v1 and APNs: base URLs (the sandbox in tests and benchmarks), requests in flight
    # per process, and a CA bundle to trust besides the system's (the sandbox's own certificate).
    fcm_url: str = "https://fcm.googleapis.com"
    fcm_token_url: str = "https://oauth2.googleapis.com/token"
    apns_url: str = "https://api.push.apple.com"
    apns_development_url: str = "https://api.sandbox.push.apple.com"
    fcm_concurrency: int = 256
    # Database connections per worker process, all opened at start: a fan-out's send batches run
    # side by side, each with a dozen statements, and wait for a free connection when short.
    worker_db_pool: int = 10
    apns_concurrency: int = 256
    provider_ca_file: str | None = None
    receipt_delay: float = 900.0
    receipt_expiry: float = 24 * 3600.0
    max_attempts: int = 5
    retry_base_delay: float = 2.0
    retry_max_delay: float = 600.0
    stall_after: float = 60.0
    delivery_lease: float = 120.0  # how long a sender holds a claimed batch (covers one send)
    periodic_interval: float = 5.0
    provider_timeout: float = 10.0
    webhook_max_attempts: int = 8
    # Webhook URLs on loopback/private addresses are refused (SSRF) unless this is set
    # (booper dev and tests set it to reach the sandbox's receiver).
    webhook_allow_private: bool = False
    # Engagement: pushes per person (or per device of no person) per hour of an app; more are
    # HELD (reason Capped) and go out as one digest when the hour frees up. None or 0: no cap.
    # An app's own cap (setPersonHourlyCap) wins.
    person_hourly_cap: int | None = None

    # Access, tokens, limits.
    jwt_ttl: int = 7 * 24 * 3600
    access_code_ttl: int = 300
    redeem_attempts: int = 5  # redeemAccessCode attempts per device per redeem_window
    redeem_address_attempts: int = 20  # ... per client address (IPv6: per /64)
    redeem_window: int = 600
    # The guessing bound (README "Access codes: the guessing bound"): a code of one app is guessed
    # with probability <= (app + unscoped failures) * live cap / 10^digits per guess window,
    # 2000 * 50 / 10^8 = 1e-3 per day with these defaults.
    access_code_digits: int = Field(default=8, ge=6, le=12)
    access_code_live_cap: int = 50  # live (unredeemed, unexpired) codes per app
    access_code_app_failures: int = 1000  # failed redeems with appId, per app per guess window
    access_code_unscoped_failures: int = 1000  # failed redeems without appId, all apps together
    access_code_guess_window: int = 24 * 3600
    access_code_create_rate: str = "30/minute"  # createAccessCode per app
    trusted_proxies: str = ""
    # The dashboard's server sends X-Booper-Proxy: <this> with the browser's X-Forwarded-For; only
    # then is that header believed from it (booper dev --dashboard generates one).
    proxy_secret: str | None = None
    max_page_size: int = 100
    # What one owner may hold (api/allowances.py): QUOTA_EXCEEDED past these.
    max_apps_per_user: int = Field(default=100, ge=1)
    max_channels_per_app: int = Field(default=10_000, ge=1)
    max_api_keys_per_app: int = Field(default=50, ge=1)  # live (unrevoked) keys
    max_subscriptions_per_device: int = Field(default=1000, ge=1)
    # A document's cost (field resolutions, lists counted at their page size) is checked before it
    # runs (api/graphql/cost.py); a request's execution is cancelled after request_timeout seconds.
    max_query_cost: int = 50_000
    request_timeout: float = 10.0
    ws_connections_per_client: int = 100
    # When set, /metrics answers only `Authorization: Bearer <this>` (401 otherwise).
    metrics_token: str | None = None
    # permessage-deflate for WebSocket clients that offer it. Off by default: live messages are a
    # few hundred bytes, and each compressing connection costs ~40 KiB of zlib state and ~35 µs
    # of CPU per message (measured by bench S4); turn it on for slow links with large payloads.
    ws_compression: bool = False

    # Rate limits (the `limits` notation: "10/second", "100 per minute").
    anonymous_ip_rate: str = "10/second"
    anonymous_channel_rate: str = "10/second"
    app_rate: str = "10/second"
    auth_rate: str = "10/minute"  # signUp and logIn per client IP (and logIn per account)
    device_rate: str = "60/minute"  # registerDevice per client IP
    # subscribe per device: each may make a public channel and tell an app's webhook of the device
    subscribe_rate: str = "300/minute"
    erase_rate: str = "60/minute"  # erasePerson and exportPerson per app (each reads or rewrites much)
    verification_rate: str = "3/hour"  # requestDeviceVerification per token (bounds code guessing)

    # A device not seen (registered, refreshed, or calling as itself) for this many days is
    # deactivated by the retention job: push services drop such tokens too (web push plan: 90).
    device_stale_days: int = 90
    # Retention and quotas (per plan).
    quota_free: int = 100
    quota_pro: int = 1000

    host: str = "127.0.0.1"
    port: int = 8000
    sandbox_port: int = 8001

    @field_validator("proxy_secret")
    @classmethod
    def _strong_proxy_secret(cls, value: str | None) -> str | None:
        # Whoever knows it may claim any client address (lock people out, dodge throttles).
        if value is not None and len(value) < 32:
            raise ValueError("BOOPER_PROXY_SECRET needs at least 32 random characters "
                             "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'booper.sqlite3'}"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith(("postgres://", "postgresql://"))

    @property
    def resolved_secret_key(self) -> str:
        return self.secret_key or _persisted_secret(self.data_dir / "secret_key")

    @property
    def webpush_origins(self) -> tuple[str, ...]:
        if self.webpush_allowed_origins:
            return tuple(
                o.strip().rstrip("/") for o in self.webpush_allowed_origins.split(",") if o.strip()
            )
        return DEFAULT_WEBPUSH_ORIGINS

    @property
    def trusted_proxy_list(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def introspection_enabled(self) -> bool:
        return (not self.production) if self.introspection is None else self.introspection


def _persisted_secret(path: Path) -> str:
    """Generate a secret once and keep it in the data directory (never a constant in code)."""
    from api.datadir import ensure_private_dir, write_private_once

    ensure_private_dir(path.parent)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        # 0600 from its first byte, in a 0700 directory; racing processes agree on one key.
        return write_private_once(path, secrets.token_urlsafe(48))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

