"""The app's identity secret: the app's server signs a person's identifier with it, and a device
that presents the signature proves the app put it in that person's hands (like Novu's subscriber
hash or Intercom's identity verification).

signature = hex(HMAC-SHA256(identitySecret, identifier)). The secret is sealed at rest
(api/secrets_at_rest.py), created on first use, and replaced by rotateIdentitySecret (every
signature made with the old one stops working).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from api import secrets_at_rest
from api.apps.tables import App

PURPOSE = "identity-secret"


def _context(app_id: int) -> str:
    return f"app:{app_id}"


def sign(secret: str, identifier: str) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


async def rotate(app_id: int, server_key: str) -> str:
    secret = "is_" + secrets.token_urlsafe(32)
    sealed = secrets_at_rest.seal(secret, server_key, purpose=PURPOSE, context=_context(app_id))
    await App.update({App.identity_secret: sealed}).where(App.id == app_id)
    return secret


async def secret_of(app_id: int, server_key: str) -> str:
    """The app's secret, created on first use (apps made before people existed have none yet).
    Two concurrent first uses: the conditional update keeps one, and both return it."""
    row = await App.select(App.identity_secret).where(App.id == app_id).first()
    if row is None:
        raise LookupError(app_id)
    if row["identity_secret"] is None:
        secret = "is_" + secrets.token_urlsafe(32)
        sealed = secrets_at_rest.seal(secret, server_key, purpose=PURPOSE, context=_context(app_id))
        await App.update({App.identity_secret: sealed}).where((App.id == app_id) & App.identity_secret.is_null())
        row = await App.select(App.identity_secret).where(App.id == app_id).first()
    return secrets_at_rest.unseal(row["identity_secret"], server_key, purpose=PURPOSE, context=_context(app_id))


async def verified(app_id: int, identifier: str, signature: str, server_key: str) -> bool:
    """Constant-time comparison; an app that does not exist verifies nothing."""
    try:
        secret = await secret_of(app_id, server_key)
    except LookupError:
        return False
    expected = sign(secret, identifier)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
