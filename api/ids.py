"""GraphQL IDs are the rows' integer ids as strings; anything else is refused before any query."""

from api.errors import BadUserInput

# Primary keys are BigSerial columns (64-bit on PostgreSQL: a busy install writes billions of
# delivery rows). A larger id cannot exist, and sending one to PostgreSQL would fail the query
# (an internal error) instead of finding nothing.
MAX_ID = 2**63 - 1


def parse_id(value: str | int | None, what: str) -> int:
    text = str(value).strip() if value is not None else ""
    # ASCII digits only ("²" and "١" are str.isdigit() too) and short enough for int() to be cheap.
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not 0 < int(text) <= MAX_ID:
        raise BadUserInput(f"invalid {what} id: {text[:32]!r}")
    return int(text)
