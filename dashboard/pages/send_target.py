"""The send page's target: a channel (its subscribers), people (identifiers: each one's active
devices) or devices (their ids), exactly one kind per send, as the API takes it."""

from __future__ import annotations

import reflex as rx

from dashboard.components import field_error
from dashboard.people_forms import MAX_TARGETS

TARGETS = ("channel", "people", "devices")
SUBTITLES = {
    "channel": "Goes to every device subscribed to the channel.",
    "people": "Goes to every active device of each person, whatever channels they follow.",
    "devices": "Goes to exactly these devices of the app.",
}
MAX_TEXT = 200_000  # 1,000 identifiers of 128 characters, with separators and room to spare


class SendTarget(rx.State, mixin=True):
    """A mixin for the send page's state (which has ``errors`` and ``_clear``)."""

    target: str = "channel"
    identifiers_text: str = ""
    device_ids_text: str = ""

    def _preset_target(self) -> None:
        """/send?to=<identifier> (the person page's Send button): that person, preset."""
        wanted = str(self.router.url.query_parameters.get("to") or "")  # type: ignore[attr-defined]
        if wanted:
            self.target = "people"
            self.identifiers_text = wanted[:MAX_TEXT]

    @rx.var
    def target_subtitle(self) -> str:
        return SUBTITLES.get(self.target, SUBTITLES["channel"])

    @rx.event
    def set_target(self, value: str | list[str]):
        self.target = value if value in TARGETS else "channel"  # type: ignore[operator]
        for key in ("channel", "identifiers", "device_ids"):
            self._clear(key)  # type: ignore[attr-defined]

    @rx.event
    def set_identifiers_text(self, value: str):
        self.identifiers_text = str(value or "")[:MAX_TEXT]
        self._clear("identifiers")  # type: ignore[attr-defined]

    @rx.event
    def set_device_ids_text(self, value: str):
        self.device_ids_text = str(value or "")[:MAX_TEXT]
        self._clear("device_ids")  # type: ignore[attr-defined]


def target_picker(state) -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item("Channel", value="channel", id="target-channel"),
        rx.segmented_control.item("People", value="people", id="target-people"),
        rx.segmented_control.item("Devices", value="devices", id="target-devices"),
        value=state.target,
        on_change=state.set_target,
        id="send-target",
        width="100%",
        max_width="420px",
    )


def _list_field(label: str, hint: str, value, on_change, error, field_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.text_area(
            value=value,
            on_change=on_change,
            rows="3",
            width="100%",
            id=field_id,
            placeholder="user-42, ada@example.com" if field_id == "send-identifiers" else "17, 18",
        ),
        rx.text(hint, size="1", color_scheme="gray"),
        field_error(error),
        spacing="1",
        width="100%",
        grid_column="1 / -1",
    )


def target_field(state, channel_field: rx.Component) -> rx.Component:
    """The channel select, or the identifiers / device ids box, for the chosen target."""
    return rx.match(
        state.target,
        (
            "people",
            _list_field(
                "People (identifiers)",
                f"Comma or newline separated, at most {MAX_TARGETS:,}.",
                state.identifiers_text,
                state.set_identifiers_text,
                state.errors.get("identifiers", ""),
                "send-identifiers",
            ),
        ),
        (
            "devices",
            _list_field(
                "Devices (ids)",
                f"Comma or newline separated, at most {MAX_TARGETS:,}; the Devices page lists them.",
                state.device_ids_text,
                state.set_device_ids_text,
                state.errors.get("device_ids", ""),
                "send-device-ids",
            ),
        ),
        channel_field,
    )
