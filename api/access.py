"""Who is calling and how they reached an object: the viewer and its access.

Plain data, importable by domain services without Strawberry or Litestar. The decisions (who
may do what) are made in one place, api/graphql/permissions.py; credentials are resolved by
the request context (api/graphql/context.py), API keys by api/apps/service.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["owner", "key", "device", "public"]


@dataclass(frozen=True)
class Viewer:
    kind: Literal["anonymous", "user", "key"]
    user_id: int | None = None
    app_id: int | None = None
    key_id: int | None = None
    plan: str | None = None  # the key's app's plan (keys only; cached with the key)
    expires_at: float | None = None  # a JWT's exp (users only): past it, the viewer is gone

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


ANONYMOUS = Viewer("anonymous")


@dataclass(frozen=True)
class Access:
    """How the viewer reached an object; travels with it so nested fields know what to show."""

    role: Role
    app_id: int | None = None  # owner/key: the app administered
    device_id: int | None = None  # device: the device asking
    user_id: int | None = None

    def administers(self, app_id: int | None) -> bool:
        return self.role in ("owner", "key") and app_id is not None and app_id == self.app_id

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


PUBLIC = Access("public")
