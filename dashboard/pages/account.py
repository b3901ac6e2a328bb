"""The signed-in user's account: change the password, log out everywhere, delete the account."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError
from dashboard.components import error_callout, field_error, page_header
from dashboard.layout import shell
from dashboard.session import Session


class AccountState(Session):
    password_error: str = ""
    changing: bool = False
    delete_error: str = ""
    deleting: bool = False
    everywhere_error: str = ""

    @rx.event
    def reset_form(self):
        self.password_error = ""
        self.delete_error = ""
        self.everywhere_error = ""

    @rx.event
    async def change_password(self, form: dict):
        current = str(form.get("current") or "")
        new = str(form.get("new") or "")
        self.password_error = (
            forms.validate_password(current) or forms.validate_password(new, new=True) or ""
        )
        if self.password_error:
            return
        self.changing = True
        yield
        try:
            result = await self._client().change_password(current, new)
        except ApiError as exc:
            self.changing = False
            self.password_error = (
                "That is not your current password." if exc.code == "FORBIDDEN" else exc.message
            )
            if exc.unauthenticated:
                yield self._end_session()
            return
        self.changing = False
        self.token = result["token"]  # every earlier token (other sessions) no longer works
        yield rx.set_value("current-password", "")
        yield rx.set_value("new-password", "")
        yield rx.toast.success(
            "Password changed. Your other sessions were logged out.", duration=4000
        )

    @rx.event
    async def log_out_everywhere(self):
        try:
            await self._client().log_out_everywhere()
        except ApiError as exc:
            self.everywhere_error = exc.message
            if exc.unauthenticated:
                yield self._end_session()
            return
        yield self._end_session("You have been logged out on every device.")

    @rx.event
    async def delete_account(self, form: dict):
        password = str(form.get("password") or "")
        self.delete_error = forms.validate_password(password) or ""
        if self.delete_error:
            return
        self.deleting = True
        yield
        try:
            await self._client().delete_account(password)
        except ApiError as exc:
            self.deleting = False
            self.delete_error = (
                "That is not your password." if exc.code == "FORBIDDEN" else exc.message
            )
            if exc.unauthenticated:
                yield self._end_session()
            return
        self.deleting = False
        yield self._end_session("Your account and its apps have been deleted.")


def _password(name: str, placeholder: str, id: str) -> rx.Component:
    return rx.input(
        name=name, type="password", placeholder=placeholder, width="100%", size="3", id=id
    )


def account_page() -> rx.Component:
    return shell(
        page_header("Account", Session.user_email),
        rx.vstack(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Change password", size="4"),
                        _password("current", "Current password", "current-password"),
                        _password("new", "New password (at least 8 characters)", "new-password"),
                        field_error(AccountState.password_error),
                        rx.button(
                            "Change password",
                            type="submit",
                            loading=AccountState.changing,
                            id="change-password",
                        ),
                        rx.text(
                            "Your other sessions are logged out; this one stays.",
                            size="1",
                            color_scheme="gray",
                        ),
                        spacing="3",
                        align="start",
                        width="100%",
                    ),
                    on_submit=AccountState.change_password,
                    reset_on_submit=False,
                ),
                width="100%",
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Log out everywhere", size="4"),
                    rx.text(
                        "Every session of this account ends, on every device, this one too.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.cond(
                        AccountState.everywhere_error != "",
                        error_callout(AccountState.everywhere_error),
                    ),
                    rx.button(
                        "Log out everywhere",
                        variant="soft",
                        on_click=AccountState.log_out_everywhere,
                        id="logout-everywhere",
                    ),
                    spacing="3",
                    align="start",
                ),
                width="100%",
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Delete account", size="4"),
                        rx.text(
                            "Deletes your account and every app in it, with their channels, keys, "
                            "devices' subscriptions and history. This cannot be undone.",
                            size="2",
                            color_scheme="gray",
                        ),
                        _password("password", "Your password, to confirm", "delete-password"),
                        field_error(AccountState.delete_error),
                        rx.button(
                            "Delete my account",
                            color_scheme="red",
                            type="submit",
                            loading=AccountState.deleting,
                            id="delete-account",
                        ),
                        spacing="3",
                        align="start",
                        width="100%",
                    ),
                    on_submit=AccountState.delete_account,
                ),
                width="100%",
            ),
            spacing="4",
            width="100%",
            max_width="640px",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        account_page,
        route="/account",
        title="Account · Booper",
        on_load=[Session.require_auth, Session.forget_secrets, AccountState.reset_form],
    )
