"""Person.online: any of the person's devices holds a live connection (api/live/presence.py)."""

from __future__ import annotations

from collections.abc import Sequence

from api.live.presence import presence_of
from api.people.tables import PersonDevice


def online_loader(runtime):
    """A DataLoader batch: person ids -> online, with one query and one Redis round trip."""

    async def batch(person_ids: Sequence[int]) -> list[bool]:
        links = await PersonDevice.select(PersonDevice.person, PersonDevice.device).where(
            PersonDevice.person.is_in(list(person_ids))
        )
        online = await presence_of(runtime).online([r["device"] for r in links])
        people_online = {r["person"] for r in links if r["device"] in online}
        return [p in people_online for p in person_ids]

    return batch
