"""Provider failure taxonomy: what went wrong, and whether to retry, fail or prune the device."""

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from exponent_server_sdk import PushReceipt, PushTicket


class ProviderFailure(Exception):
    """A provider refused or could not take a message.

    `code` names the cause in the provider's own words where it has one
    ("DeviceNotRegistered", "MessageTooBig") and otherwise "http_<status>",
    "timeout", "network" or "invalid_response". `retry_after` is in seconds.
    """

    def __init__(self, code: str, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, retry_after={self.retry_after!r})"


class TransientFailure(ProviderFailure):
    """Retry later with backoff: network errors, timeouts, 429, 5xx, MessageRateExceeded."""


class PermanentMessageFailure(ProviderFailure):
    """This message will never be accepted as it is: fail the delivery, keep the device.

    Besides MessageTooBig and HTTP 400/413 this covers credential and sender
    problems (InvalidCredentials, MismatchSenderId, HTTP 401/403): they belong
    to the app's configuration, not to the device, so deactivating devices for
    them would wipe every device of an app over one revoked key. Retrying does
    not help until an operator fixes the configuration.
    """


class PermanentDeviceFailure(ProviderFailure):
    """The device or subscription is gone: fail the delivery and deactivate the device."""


@dataclass(slots=True)
class Outcome:
    """The result of handing one message to a provider."""

    ok: bool
    ticket_id: str | None = None  # Expo: the ticket to look the receipt up with
    delivered: bool = False  # Web Push 200/201/202, or an Expo receipt with status ok
    failure: ProviderFailure | None = None


def parse_retry_after(header: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not header:
        return None
    header = header.strip()
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def failure_from_http_status(
    status: int, retry_after_header: str | None, *, device_scoped: bool = True, message: str = ""
) -> ProviderFailure:
    """Classify a non-success HTTP status.

    `device_scoped` says the URL identifies one device (a Web Push endpoint),
    so 404/410 mean the subscription is gone. For a batch endpoint such as
    Expo's send they mean a misconfigured URL, which is not the device's fault.
    """
    code = f"http_{status}"
    retry_after = parse_retry_after(retry_after_header)
    if status == 429 or status == 408 or status >= 500:
        return TransientFailure(code, message, retry_after)
    if status in (404, 410) and device_scoped:
        return PermanentDeviceFailure(code, message)
    return PermanentMessageFailure(code, message)


_DEVICE_ERRORS = {PushTicket.ERROR_DEVICE_NOT_REGISTERED}
_MESSAGE_ERRORS = {
    PushTicket.ERROR_MESSAGE_TOO_BIG,
    PushReceipt.INVALID_CREDENTIALS,
    "MismatchSenderId",
    "DeveloperError",
}
_TRANSIENT_ERRORS = {PushTicket.ERROR_MESSAGE_RATE_EXCEEDED, "ExpoError", "ProviderError"}


def failure_from_expo_error(code: str, message: str) -> ProviderFailure:
    """Classify an Expo ticket or receipt error (`details.error`).

    An error code Expo adds in future is treated as transient: retries are
    bounded, so the cost is a few wasted attempts rather than a lost delivery.
    """
    if code in _DEVICE_ERRORS:
        return PermanentDeviceFailure(code, message)
    if code in _MESSAGE_ERRORS:
        return PermanentMessageFailure(code, message)
    if code in _TRANSIENT_ERRORS:
        return TransientFailure(code, message)
    return TransientFailure(code or "unknown_error", message)


class CredentialsFailure(PermanentMessageFailure):
    """The app's provider credentials were refused (FCM SENDER_ID_MISMATCH or
    THIRD_PARTY_AUTH_ERROR, APNs 403): the app's configuration, never the device's fault."""


_FCM_DEVICE = {"UNREGISTERED", "INVALID_ARGUMENT"}
_FCM_TRANSIENT = {"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"}
_FCM_CREDENTIALS = {"SENDER_ID_MISMATCH", "THIRD_PARTY_AUTH_ERROR"}


def failure_from_fcm_error(
    status: int, error_code: str | None, message: str, retry_after: str | None
) -> ProviderFailure:
    """Classify an FCM HTTP v1 error (`error.details[].errorCode`, else the HTTP status).

    INVALID_ARGUMENT names a bad token here: the message itself is built by Booper and
    checked against the size budget before it is sent, so what is left to be invalid is the
    registration token (FCM documents both causes under this code)."""
    wait = parse_retry_after(retry_after)
    if error_code in _FCM_DEVICE:
        return PermanentDeviceFailure(error_code, message)
    if error_code in _FCM_TRANSIENT:
        return TransientFailure(error_code, message, wait)
    if error_code in _FCM_CREDENTIALS or status in (401, 403):
        return CredentialsFailure(error_code or f"http_{status}", message)
    return failure_from_http_status(status, retry_after, device_scoped=False, message=message)


_APNS_DEVICE = {"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"}


def failure_from_apns(status: int, reason: str | None, retry_after: str | None) -> ProviderFailure:
    """Classify an APNs answer: 410 Unregistered and 400 BadDeviceToken mean the token is dead;
    403 is the provider token or key (the app's credentials); 429 and 5xx are transient."""
    code = reason or f"http_{status}"
    if status == 410 or reason in _APNS_DEVICE:
        return PermanentDeviceFailure(code)
    if status == 403:
        return CredentialsFailure(code)
    if status == 429 or status >= 500:
        return TransientFailure(code, "", parse_retry_after(retry_after))
    return PermanentMessageFailure(code)
