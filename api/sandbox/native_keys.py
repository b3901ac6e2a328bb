"""The sandbox's Google and Apple accounts: it issues FCM service accounts and APNs keys (as the
Firebase console and Apple's developer site do), keeps their public halves, and checks the JWTs
signed with them: the service-account assertion at the token endpoint, the APNs provider token."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ACCESS_TOKEN_LIFETIME = 3600
PROVIDER_TOKEN_MAX_AGE = 3600  # APNs: older provider tokens are ExpiredProviderToken
PROVIDER_TOKEN_MIN_INTERVAL = 20 * 60  # APNs: a new token sooner is TooManyProviderTokenUpdates


def _pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
# The scopes that let a token call FCM v1's messages:send (firebase-admin asks for cloud-platform).
FCM_SCOPES = {"https://www.googleapis.com/auth/firebase.messaging", "https://www.googleapis.com/auth/cloud-platform"}


class JwtRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class NativeKeys:
    fcm_accounts: dict[str, tuple[Any, str]] = field(default_factory=dict)  # client_email -> (public key, project)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (project, expires)
    apns_keys: dict[str, tuple[Any, str]] = field(default_factory=dict)  # key id -> (public key, team id)
    # (key id, connection) -> (the provider token in use on it, its iat, when it was first seen):
    # a connection may switch tokens once per 20 minutes; separate connections (processes) may
    # each bring their own token, as APNs allows.
    provider_tokens: dict[tuple[str, Any], tuple[str, int, float]] = field(default_factory=dict)
    token_exchanges: int = 0
    clock: Any = time.time  # tests move it
    # provider token -> (key id, the apns_keys entry it was verified with, its claims): a client
    # sends the same token for up to an hour, and checking ES256 on every request cost the
    # sandbox more than the rest of the request. A revoked or replaced key no longer matches.
    verified_tokens: dict[str, tuple[str, Any, dict]] = field(default_factory=dict)

    def issue_service_account(self, project_id: str, token_uri: str = "https://oauth2.googleapis.com/token") -> dict:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email = f"firebase-adminsdk-{secrets.token_hex(3)}@{project_id}.iam.gserviceaccount.com"
        self.fcm_accounts[email] = (key.public_key(), project_id)
        return {"type": "service_account", "project_id": project_id, "private_key_id": secrets.token_hex(20),
                "private_key": _pem(key), "client_email": email, "client_id": str(secrets.randbelow(10**20)),
                "token_uri": token_uri}

    def issue_apns_key(self, team_id: str) -> dict:
        key = ec.generate_private_key(ec.SECP256R1())
        key_id = secrets.token_hex(5).upper()
        self.apns_keys[key_id] = (key.public_key(), team_id)
        return {"key_id": key_id, "team_id": team_id, "private_key": _pem(key)}

    def revoke(self, name: str) -> None:
        """A deleted service account or revoked APNs key: its JWTs are refused from now on."""
        self.fcm_accounts.pop(name, None)
        self.apns_keys.pop(name, None)

    def exchange(self, assertion: str, audience: str) -> dict:
        """The JWT bearer grant: a signed assertion for an access token. Its audience is this
        endpoint's URL, or Google's token endpoint, which Google accepts and google-auth (under
        firebase-admin) always names, whatever token_uri says."""
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            public, project = self.fcm_accounts[claims["iss"]]
            # Times are checked against the sandbox's clock (tests move it), not PyJWT's.
            jwt.decode(assertion, public, algorithms=["RS256"], audience=[audience, GOOGLE_TOKEN_AUDIENCE],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        except (KeyError, jwt.PyJWTError) as exc:
            raise JwtRefused("invalid_grant") from exc
        now = self.clock()
        if not (int(claims.get("iat", 0)) - 60 <= now <= int(claims.get("exp", 0)) + 60):
            raise JwtRefused("invalid_grant")
        if not FCM_SCOPES & set(str(claims.get("scope", "")).split()):
            raise JwtRefused("invalid_scope")
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = (project, self.clock() + ACCESS_TOKEN_LIFETIME)
        self.token_exchanges += 1
        return {"access_token": token, "expires_in": ACCESS_TOKEN_LIFETIME, "token_type": "Bearer"}

    def project_of(self, access_token: str) -> str | None:
        entry = self.access_tokens.get(access_token)
        return entry[0] if entry and entry[1] > self.clock() else None

    def check_provider_token(self, token: str, connection: Any = None) -> str:
        """The team id of a valid APNs provider token; JwtRefused with APNs' reason otherwise."""
        kid, entry, claims = self.verified_tokens.get(token) or (None, None, {})
        if kid is None or self.apns_keys.get(kid) is not entry:
            try:
                kid = jwt.get_unverified_header(token)["kid"]
                entry = self.apns_keys[kid]
                claims = jwt.decode(token, entry[0], algorithms=["ES256"],
                                    options={"verify_aud": False, "verify_iat": False, "verify_exp": False})
            except (KeyError, TypeError, jwt.PyJWTError) as exc:
                raise JwtRefused("InvalidProviderToken") from exc
            if len(self.verified_tokens) >= 10_000:
                self.verified_tokens.clear()
            self.verified_tokens[token] = (kid, entry, claims)
        team = entry[1]
        if claims.get("iss") != team:
            raise JwtRefused("InvalidProviderToken")
        now = self.clock()
        if now - int(claims.get("iat", 0)) > PROVIDER_TOKEN_MAX_AGE:
            raise JwtRefused("ExpiredProviderToken")
        current = self.provider_tokens.get((kid, connection))
        if current is None or current[0] != token:
            if current is not None and now - current[2] < PROVIDER_TOKEN_MIN_INTERVAL:
                raise JwtRefused("TooManyProviderTokenUpdates")
            self.provider_tokens[kid, connection] = (token, int(claims["iat"]), now)
        return team
