"""Input checks shared by the domains; each raises BAD_USER_INPUT before anything is written."""

from __future__ import annotations

import re

from api.errors import BadUserInput

CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


def channel_name(name: str) -> str:
    if not isinstance(name, str) or not CHANNEL_NAME.match(name):
        raise BadUserInput(
            "channel names are 1-64 characters of letters, digits, '-', '_' and '.'"
        )
    return name


def display_name(value: str, what: str, max_length: int = 64) -> str:
    value = value.strip()
    if not value:
        raise BadUserInput(f"{what} must not be empty")
    if len(value) > max_length:
        raise BadUserInput(f"{what} must be at most {max_length} characters")
    if any(ord(ch) < 32 for ch in value):
        raise BadUserInput(f"{what} must not contain control characters")
    return value


def optional_text(value: str | None, what: str, max_length: int) -> str | None:
    if value is None:
        return None
    if len(value) > max_length:
        raise BadUserInput(f"{what} must be at most {max_length} characters")
    return value


def email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 320 or not EMAIL.match(value):
        raise BadUserInput("that does not look like an e-mail address")
    return value


def password(value: str) -> str:
    if len(value) < 8:
        raise BadUserInput("passwords need at least 8 characters")
    if len(value) > 1024:
        raise BadUserInput("passwords may have at most 1024 characters")
    return value
