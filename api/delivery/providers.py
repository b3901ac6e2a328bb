"""Provider clients built from settings, one set per process, created on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from api.providers.expo import ExpoClient
from api.providers.vapid import VapidSigner, generate_vapid_private_key
from api.providers.webpush import WebPushSender
from api.runtime import Runtime
from api.settings import Settings


@dataclass
class Providers:
    expo: ExpoClient
    webpush: WebPushSender

    async def close(self) -> None:
        await self.expo.close()
        await self.webpush.close()


def vapid_private_key(settings: Settings) -> str:
    """From settings, else generated once and kept in the data directory: browsers subscribed
    with the public key, so it must survive restarts."""
    if settings.vapid_private_key:
        return settings.vapid_private_key
    path = settings.data_dir / "vapid_private_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = generate_vapid_private_key()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(key)
        tmp.chmod(0o600)
        tmp.replace(path)
        return key


@lru_cache(maxsize=4)
def _signer(private_key: str, subject: str) -> VapidSigner:
    return VapidSigner(private_key, subject)


def vapid_public_key(settings: Settings) -> str:
    return _signer(vapid_private_key(settings), settings.vapid_subject).public_key_b64url


def providers(runtime: Runtime) -> Providers:
    existing = runtime.extras.get("providers")
    if existing is None:
        s = runtime.settings
        existing = runtime.extras["providers"] = Providers(
            expo=ExpoClient(
                base_url=s.expo_url, access_token=s.expo_access_token, rate=s.expo_rate,
                timeout=s.provider_timeout,
            ),
            webpush=WebPushSender(
                _signer(vapid_private_key(s), s.vapid_subject),
                timeout=s.provider_timeout,
                concurrency=s.webpush_concurrency,
            ),
        )
    return existing
