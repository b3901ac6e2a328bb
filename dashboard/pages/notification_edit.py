"""The notification page's corrections: edit (title, body, data: updateNotification, the form
prefilled, errors under their fields) and retract (retractNotification, asked once more), and
its held and skipped deliveries counted by reason."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import confirm_dialog, error_callout, field_error
from dashboard.session import STILL_LOADING, still_loading

EDITABLE = ("title", "body", "data")


def _field_of(exc: ApiError) -> str:
    """Which field an API refusal is about ("title may have at most 1024 characters")."""
    if exc.code == "PAYLOAD_TOO_LARGE":
        return "body"
    words = (exc.server_message or "").lower().split()
    return words[0] if words and words[0] in EDITABLE else "form"


class EditRetract(rx.State, mixin=True):
    """A mixin of the notification page's state, which provides ``_client``, ``_handle``,
    ``_mine``, ``_route_sub_id``, ``_fetch(nid)`` and ``_original`` (the notification's id and
    its raw title, body and data text)."""

    edit_open: bool = False
    edit_title: str = ""
    edit_body: str = ""
    edit_data: str = ""
    edit_title_error: str = ""
    edit_body_error: str = ""
    edit_data_error: str = ""
    edit_form_error: str = ""
    edit_busy: bool = False
    retract_open: bool = False
    retract_error: str = ""
    retract_busy: bool = False
    _original: dict[str, str] = {}

    def _edit_errors(self, errors: dict[str, str]) -> None:
        self.edit_title_error = errors.get("title", "")
        self.edit_body_error = errors.get("body", "")
        self.edit_data_error = errors.get("data", "")
        self.edit_form_error = errors.get("form", "")

    def _shown(self) -> bool:
        """The notification shown is the one the URL names. After a move from one notification
        to another the page shows the last one until its load has run, and a click can come
        before the load (see AppContext._loaded): its text must not be saved to the other."""
        return self._mine() and self._original.get("id", "") == self._route_sub_id() != ""

    @rx.event
    def open_edit(self):
        if not self._shown():
            return still_loading()
        self.edit_title = self._original.get("title", "")
        self.edit_body = self._original.get("body", "")
        self.edit_data = self._original.get("data", "")
        self._edit_errors({})
        self.edit_open = True
        return None

    @rx.event
    def close_edit(self):
        self.edit_open = False

    @rx.event
    def edit_open_changed(self, opened: bool):
        if not opened:  # Escape, or a click outside the dialog
            self.edit_open = False

    @rx.event
    async def save_edit(self, form: dict):
        self.edit_title, self.edit_body, self.edit_data = (
            str(form.get(k) or "") for k in EDITABLE
        )
        if not self._shown():
            self._edit_errors({"form": STILL_LOADING})
            return
        check = forms.check_edit_form(self.edit_title, self.edit_body, self.edit_data)
        self._edit_errors(check.errors)
        if not check.ok:
            return
        nid = self._route_sub_id()
        self.edit_busy = True
        yield
        try:
            await self._client().update_notification(nid, check.payload)
        except ApiError as exc:
            self.edit_busy = False
            self._edit_errors({_field_of(exc): exc.message})
            yield self._handle(exc)
            return
        self.edit_busy = False
        self.edit_open = False
        await self._fetch(nid)
        yield rx.toast.success(
            "Updated: inboxes show the new version, devices that got it are sent a replacement.",
            duration=4000,
        )

    @rx.event
    def ask_retract(self):
        if not self._shown():
            return still_loading()
        self.retract_error = ""
        self.retract_open = True
        return None

    @rx.event
    def cancel_retract(self):
        self.retract_open = False

    @rx.event
    async def confirm_retract(self):
        if not self._shown():
            self.retract_error = STILL_LOADING
            return
        nid = self._route_sub_id()
        self.retract_busy = True
        yield
        try:
            await self._client().retract_notification(nid)
        except ApiError as exc:
            self.retract_busy = False
            self.retract_error = exc.message
            yield self._handle(exc)
            return
        self.retract_busy = False
        self.retract_open = False
        await self._fetch(nid)
        yield rx.toast.info("Retracted: gone from inboxes, and devices are told to remove it.")


def _labelled_input(label: str, control: rx.Component, error) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        field_error(error),
        spacing="1",
        width="100%",
    )


def edit_dialog(S) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit notification"),
            rx.dialog.description(
                "Inboxes show the new version; devices it reached get a replacement that takes "
                "its place. Empty a field to remove it.",
                size="2",
                margin_bottom="12px",
            ),
            rx.form(
                rx.vstack(
                    _labelled_input(
                        "Title",
                        rx.input(name="title", default_value=S.edit_title, id="edit-title",
                                 width="100%"),
                        S.edit_title_error,
                    ),
                    _labelled_input(
                        "Body",
                        rx.text_area(name="body", default_value=S.edit_body, id="edit-body",
                                     width="100%", rows="3"),
                        S.edit_body_error,
                    ),
                    _labelled_input(
                        "Data (JSON object)",
                        rx.text_area(name="data", default_value=S.edit_data, id="edit-data",
                                     width="100%", rows="4", font_family="monospace"),
                        S.edit_data_error,
                    ),
                    rx.cond(S.edit_form_error != "", error_callout(S.edit_form_error)),
                    rx.hstack(
                        rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                  on_click=S.close_edit),
                        rx.button("Save changes", type="submit", loading=S.edit_busy,
                                  id="save-edit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.save_edit,
            ),
        ),
        open=S.edit_open,
        on_open_change=S.edit_open_changed,
    )


def actions(S, visible) -> rx.Component:
    """Edit and Retract, while the notification can still change; their dialogs."""
    return rx.fragment(
        rx.cond(
            visible,
            rx.hstack(
                rx.button(rx.icon("pencil", size=16), "Edit", variant="soft",
                          on_click=S.open_edit, id="edit-notification"),
                rx.button(rx.icon("undo-2", size=16), "Retract", variant="soft",
                          color_scheme="red", on_click=S.ask_retract, id="retract-notification"),
                spacing="2",
            ),
        ),
        edit_dialog(S),
        confirm_dialog(
            "Retract this notification?",
            text="It disappears from every inbox, deliveries not yet sent are stopped, and "
            "devices that got it are told to remove it. It cannot be edited afterwards.",
            confirm="Retract",
            on_confirm=S.confirm_retract,
            on_cancel=S.cancel_retract,
            open=S.retract_open,
            confirm_id="confirm-retract",
            error=S.retract_error,
            busy=S.retract_busy,
        ),
    )


def _reason(r) -> rx.Component:
    return rx.hstack(
        rx.badge(r["count"], " ", r["status"].lower(), color_scheme=rx.cond(
            r["status"] == "HELD", "orange", "gray"), variant="soft"),
        rx.text(r["label"], size="2"),
        rx.code(r["reason"], size="1", variant="ghost", color_scheme="gray"),
        spacing="2",
        align="center",
        class_name="delivery-reason-count",
    )


def reasons_card(reasons) -> rx.Component:
    """Held and skipped deliveries counted by reason (Notification.deliveryReasons)."""
    return rx.cond(
        reasons.length() > 0,
        rx.card(
            rx.vstack(
                rx.text("Held and skipped, by reason", size="2", weight="medium"),
                rx.foreach(reasons, _reason),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="delivery-reasons",
        ),
    )
