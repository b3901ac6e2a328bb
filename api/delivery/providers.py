"""Provider clients built from settings, one set per process, created on first use."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import lru_cache

from api.providers.apns import ApnsClient
from api.providers.expo import ExpoClient
from api.providers.fcm import FcmClient
from api.providers.vapid import VapidSigner, generate_vapid_private_key
from api.providers.webpush import WebPushSender
from api.runtime import Runtime
from api.settings import Settings


@dataclass
class Providers:
    expo: ExpoClient
    webpush: WebPushSender
    fcm: FcmClient
    apns: ApnsClient

    async def close(self) -> None:
        for client in (self.expo, self.webpush, self.fcm, self.apns):
            await client.close()


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


def _verify(settings: Settings) -> ssl.SSLContext | bool:
    """The system's CAs, plus BOOPER_PROVIDER_CA_FILE when set (the sandbox's certificate)."""
    if not settings.provider_ca_file:
        return True
    return _context_with(str(settings.provider_ca_file))


@lru_cache(maxsize=4)
def _context_with(ca_file: str) -> ssl.SSLContext:
    """One context for FCM and APNs (loading the system's CAs costs about 100 ms each time)."""
    context = ssl.create_default_context()
    context.load_verify_locations(ca_file)
    return context


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
            fcm=FcmClient(s.fcm_url, s.fcm_token_url, timeout=s.provider_timeout, concurrency=s.fcm_concurrency,
                          verify=_verify(s)),
            apns=ApnsClient(s.apns_url, s.apns_development_url, timeout=s.provider_timeout,
                            concurrency=s.apns_concurrency, verify=_verify(s)),
        )
    return existing
