"""Sandbox push providers (an Expo-compatible API, a Web Push service) for dev and tests."""

from api.sandbox.app import create_sandbox_app, serve_sandbox
from api.sandbox.state import SandboxState

__all__ = ["SandboxState", "create_sandbox_app", "serve_sandbox"]
