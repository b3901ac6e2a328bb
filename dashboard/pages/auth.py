"""Sign up and log in."""

from __future__ import annotations

import reflex as rx

from dashboard import forms
from dashboard.client import ApiError, GraphQLClient
from dashboard.components import (
    error_callout,
    field_error,
    info_callout,
)
from dashboard.session import (
    Session,
    safe_next,
)


class AuthState(Session):
    email_error: str = ""
    password_error: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def reset_form(self):
        self.email_error = ""
        self.password_error = ""
        self.error = ""
        self.busy = False

    async def _submit(self, form: dict, new: bool):
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        self.error = ""
        self.email_error = forms.validate_email(email) or ""
        self.password_error = forms.validate_password(password, new=new) or ""
        if self.email_error or self.password_error:
            return
        self.busy = True
        yield
        client = GraphQLClient(client_ip=self._client_ip())
        try:
            result = await (
                client.sign_up(email, password) if new else client.log_in(email, password)
            )
        except ApiError as exc:
            self.busy = False
            if exc.code in ("UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND") and not new:
                self.error = "Wrong email or password."
            elif exc.code == "CONFLICT" and new:
                self.error = "An account with this email already exists. Log in instead."
            else:
                self.error = exc.message
            return
        self.busy = False
        await self._forget_user_data()  # a previous user's pages, even without a log-out
        self.token = result["token"]
        self.user_email = result["user"]["email"]
        self.flash = ""
        yield rx.redirect(safe_next(self.router.url.query_parameters.get("next")))

    @rx.event
    async def log_in(self, form: dict):
        async for event in self._submit(form, new=False):
            yield event

    @rx.event
    async def sign_up(self, form: dict):
        async for event in self._submit(form, new=True):
            yield event


def _auth_card(title: str, subtitle: str, button: str, on_submit, new: bool) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.icon("bell-ring", size=22, color="white"),
                    bg=rx.color("iris", 9),
                    border_radius="10px",
                    width="40px",
                    height="40px",
                ),
                rx.heading("Booper", size="7", weight="bold"),
                align="center",
                spacing="3",
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading(title, size="5", id="page-title"),
                        rx.text(subtitle, color_scheme="gray", size="2"),
                        rx.cond(
                            (Session.flash != "") & (not new),
                            info_callout(Session.flash, id="flash"),
                        )
                        if not new
                        else rx.fragment(),
                        rx.cond(
                            AuthState.error != "", error_callout(AuthState.error, id="auth-error")
                        ),
                        rx.vstack(
                            rx.text("Email", size="2", weight="medium"),
                            rx.input(
                                name="email",
                                type="email",
                                placeholder="you@example.com",
                                size="3",
                                width="100%",
                                id="email",
                                auto_complete="email",
                            ),
                            field_error(AuthState.email_error),
                            spacing="1",
                            width="100%",
                        ),
                        rx.vstack(
                            rx.text("Password", size="2", weight="medium"),
                            rx.input(
                                name="password",
                                type="password",
                                placeholder="At least 8 characters" if new else "Your password",
                                size="3",
                                width="100%",
                                id="password",
                                auto_complete="new-password" if new else "current-password",
                            ),
                            field_error(AuthState.password_error),
                            spacing="1",
                            width="100%",
                        ),
                        rx.button(
                            button,
                            type="submit",
                            size="3",
                            width="100%",
                            loading=AuthState.busy,
                            id="submit",
                        ),
                        rx.cond(
                            new,
                            rx.text(
                                "Already have an account? ",
                                rx.link("Log in", href="/login", id="to-login"),
                                size="2",
                            ),
                            rx.text(
                                "New to Booper? ",
                                rx.link("Create an account", href="/signup", id="to-signup"),
                                size="2",
                            ),
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=on_submit,
                    no_validate=True,
                ),
                size=rx.breakpoints(initial="3", sm="4"),
                width="100%",
                max_width="400px",
            ),
            align="center",
            spacing="5",
            width="100%",
        ),
        padding_x="12px",
        min_height="100vh",
        bg=rx.color("gray", 2),
    )


def login_page() -> rx.Component:
    return _auth_card(
        "Log in", "Welcome back. Log in to manage your apps.", "Log in", AuthState.log_in, new=False
    )


def signup_page() -> rx.Component:
    return _auth_card(
        "Create your account",
        "Send push notifications to Expo apps and browsers.",
        "Sign up",
        AuthState.sign_up,
        new=True,
    )


def register(app: rx.App) -> None:
    app.add_page(
        login_page,
        route="/login",
        title="Log in · Booper",
        on_load=[AuthState.reset_form, Session.redirect_if_logged_in],
    )
    app.add_page(
        signup_page,
        route="/signup",
        title="Sign up · Booper",
        on_load=[AuthState.reset_form, Session.redirect_if_logged_in],
    )
