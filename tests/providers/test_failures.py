"""The failure taxonomy: HTTP statuses, Retry-After and Expo error codes."""

from email.utils import formatdate

import pytest
import time_machine

from api.providers.failures import (
    PermanentDeviceFailure,
    PermanentMessageFailure,
    TransientFailure,
    failure_from_expo_error,
    failure_from_http_status,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, TransientFailure), (500, TransientFailure), (503, TransientFailure),
        (408, TransientFailure), (400, PermanentMessageFailure), (413, PermanentMessageFailure),
        (401, PermanentMessageFailure), (403, PermanentMessageFailure),
        (404, PermanentDeviceFailure), (410, PermanentDeviceFailure),
    ],
)
def test_http_status(status, kind):
    failure = failure_from_http_status(status, None)
    assert type(failure) is kind and failure.code == f"http_{status}"


def test_gone_on_a_batch_endpoint_is_not_the_device():
    failure = failure_from_http_status(404, None, device_scoped=False)
    assert type(failure) is PermanentMessageFailure


def test_retry_after_seconds_and_http_date():
    assert failure_from_http_status(429, "12").retry_after == 12.0
    assert failure_from_http_status(503, None).retry_after is None
    with time_machine.travel(1_800_000_000, tick=False):
        assert parse_retry_after(formatdate(1_800_000_090, usegmt=True)) == 90.0
        assert parse_retry_after(formatdate(1_700_000_000, usegmt=True)) == 0.0
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DeviceNotRegistered", PermanentDeviceFailure),
        ("MessageTooBig", PermanentMessageFailure),
        ("InvalidCredentials", PermanentMessageFailure),
        ("MismatchSenderId", PermanentMessageFailure),
        ("MessageRateExceeded", TransientFailure),
        ("ExpoError", TransientFailure),
        ("SomethingNew", TransientFailure),
    ],
)
def test_expo_errors(code, kind):
    failure = failure_from_expo_error(code, "why")
    assert type(failure) is kind and failure.code == code and failure.message == "why"
