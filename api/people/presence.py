"""Person.online: any of the person's devices holds a live connection (api/live/presence.py)."""

from __future__ import annotations

from collections.abc import Sequence

from api.live.presence import presence_of
from api.people.service import latest_links

# The latest links per person Person.online looks at (Person.devices shows at most as many): a
# person with thousands of devices costs a bounded query and Redis round trip, not thousands.
ONLINE_DEVICES = 100


def online_loader(runtime):
    """A DataLoader batch: person ids -> online, with one query and one Redis round trip."""

    async def batch(person_ids: Sequence[int]) -> list[bool]:
        links = await latest_links(person_ids, ONLINE_DEVICES, columns="pd.device AS device")
        online = await presence_of(runtime).online([r["device"] for r in links])
        people_online = {r["person_id"] for r in links if r["device"] in online}
        return [p in people_online for p in person_ids]

    return batch
