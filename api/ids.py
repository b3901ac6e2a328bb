"""GraphQL IDs are the rows' integer ids as strings; anything else is refused before any query."""

from api.errors import BadUserInput

MAX_ID = 2**63 - 1


def parse_id(value: str | int | None, what: str) -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise BadUserInput(f"invalid {what} id: {text[:32]!r}")
    return int(text)
