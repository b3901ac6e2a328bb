"""The base of the API's row-backed objects: the row, and the access it was reached with."""

from __future__ import annotations

import strawberry

from api.access import Access


@strawberry.type
class RowNode:
    # Private: never in the schema. `access` travels to nested fields so each can ask the
    # permission layer's question (who reached this, and how) without re-deriving it.
    row: strawberry.Private[dict]
    access: strawberry.Private[Access]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row["id"]))
