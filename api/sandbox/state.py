"""In-memory state of the sandbox providers: messages, receipts, subscriptions, faults, counters."""

import random
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from api.sandbox.native_keys import NativeKeys

EXPO_TICKET_FAULTS = frozenset(
    {"DeviceNotRegistered", "MessageTooBig", "MessageRateExceeded", "InvalidCredentials",
     "MismatchSenderId"}
)
RECEIPT_FAULTS = frozenset(f"receipt:{code}" for code in EXPO_TICKET_FAULTS)
# Per-message faults of the HTTP/2 providers: an FCM errorCode, an APNs reason.
FCM_MESSAGE_FAULTS = frozenset({"UNREGISTERED", "INVALID_ARGUMENT", "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL",
                                "SENDER_ID_MISMATCH", "THIRD_PARTY_AUTH_ERROR"})
APNS_MESSAGE_FAULTS = frozenset({"Unregistered", "BadDeviceToken", "TooManyRequests", "InternalServerError",
                                 "ServiceUnavailable", "InvalidProviderToken"})
MESSAGE_FAULTS = {"expo": EXPO_TICKET_FAULTS | RECEIPT_FAULTS, "fcm": FCM_MESSAGE_FAULTS, "apns": APNS_MESSAGE_FAULTS}
PROVIDERS = frozenset({"expo", "expo_receipts", "webpush", "webhook", "fcm", "fcm_token", "apns"})


def is_request_fault(fault: str) -> bool:
    """Faults that answer the whole HTTP request (a status, or no answer in time)."""
    return fault == "timeout" or (
        fault.startswith("http_") and fault[5:].isdigit() and 400 <= int(fault[5:]) <= 599
    )


@dataclass(slots=True)
class FaultRule:
    """Fail requests or messages whose key contains `match` ('*' matches everything)."""

    match: str
    provider: str
    fault: str
    times: int | None = None  # None: for ever
    retry_after: float = 1.0  # sent with http_429 / http_503
    seconds: float | None = None  # how long "timeout" stalls; default from the state
    # Each matching request (or message) fails with this probability: "10% of requests fail"
    # is how a provider misbehaves at scale, and what the chaos test runs against.
    probability: float = 1.0

    @classmethod
    def parse(cls, raw: Any) -> "FaultRule":
        if not isinstance(raw, dict):
            raise ValueError("a fault rule is a JSON object")
        rule = cls(
            match=str(raw.get("match", "*")),
            provider=str(raw.get("provider", "")),
            fault=str(raw.get("fault", "")),
            times=raw.get("times"),
            retry_after=float(raw.get("retry_after", 1.0)),
            seconds=raw.get("seconds"),
            probability=raw.get("probability", 1.0),
        )
        if rule.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {sorted(PROVIDERS)}")
        per_message = rule.fault in MESSAGE_FAULTS.get(rule.provider, ())
        if not is_request_fault(rule.fault) and not per_message:
            raise ValueError(f"fault {rule.fault!r} is not known for provider {rule.provider!r}")
        if rule.times is not None and (not isinstance(rule.times, int) or rule.times < 1):
            raise ValueError("times must be a positive integer or null")
        if rule.seconds is not None and not isinstance(rule.seconds, int | float):
            raise ValueError("seconds must be a number or null")
        if isinstance(rule.probability, bool) or not isinstance(rule.probability, int | float) or not (
            0 < rule.probability <= 1
        ):
            raise ValueError("probability must be a number in (0, 1]")
        return rule

    def as_json(self) -> dict[str, Any]:
        return {"match": self.match, "provider": self.provider, "fault": self.fault,
                "times": self.times, "retry_after": self.retry_after, "seconds": self.seconds,
                "probability": self.probability}

    def fires(self) -> bool:
        """A probabilistic rule that does not fire this time leaves the request alone (and its
        `times` untouched)."""
        return self.probability >= 1 or random.random() < self.probability


class FaultBook:
    """The active fault rules; a rule with `times` is used up after that many hits."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.applied = 0

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _take(self, rule: FaultRule) -> str:
        self.applied += 1
        if rule.times is not None:
            rule.times -= 1
            if rule.times <= 0:
                self.rules.remove(rule)
        return rule.fault

    def for_request(self, provider: str, keys: list[str]) -> FaultRule | None:
        """The first whole-request rule matching any of the request's keys, used once."""
        for rule in self.rules:
            if rule.provider == provider and is_request_fault(rule.fault) and (
                rule.match == "*" or any(rule.match in key for key in keys)
            ) and rule.fires():
                self._take(rule)
                return rule
        return None

    def for_message(self, key: str, provider: str = "expo") -> str | None:
        """A per-message fault for one token, if any (Expo: a ticket or receipt error)."""
        for rule in self.rules:
            if rule.provider == provider and not is_request_fault(rule.fault) and (
                rule.match == "*" or rule.match in key
            ) and rule.fires():
                return self._take(rule)
        return None


@dataclass(slots=True)
class Subscription:
    """A sandbox browser: the key pair and auth secret a real browser would keep."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: str | None  # VAPID key the subscription is bound to, if any


@dataclass
class SandboxState:
    """Everything the sandbox remembers; tests may also read it directly when in-process."""

    latency_ms: float = 0.0  # added to every provider request, for benchmarks
    timeout_fault_seconds: float = 30.0  # how long a "timeout" fault stalls by default
    receipt_delay_seconds: float = 0.0  # real Expo: about 15 minutes
    max_stored_messages: int = 100_000  # beyond this messages are counted, not kept
    max_receipts: int = 1_000_000
    messages: list[dict[str, Any]] = field(default_factory=list)
    receipts: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    faults: FaultBook = field(default_factory=FaultBook)
    counters: dict[str, int] = field(default_factory=dict)
    native: NativeKeys = field(default_factory=NativeKeys)  # FCM service accounts, APNs keys
    in_flight: int = 0
    peak_in_flight: int = 0
    native_in_flight: int = 0  # the HTTP/2 server's (FCM, APNs), counted apart
    native_peak_in_flight: int = 0

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def store(self, record: dict[str, Any]) -> None:
        if len(self.messages) < self.max_stored_messages:
            self.messages.append(record)
        else:
            self.count("dropped.messages")

    def add_receipt(self, ticket_id: str, receipt: dict[str, Any]) -> None:
        receipts = self.receipts
        receipts[ticket_id] = (time.monotonic(), receipt)
        if len(receipts) > self.max_receipts:  # forget the oldest, as Expo does after 24 h
            del receipts[next(iter(receipts))]

    def reset_messages(self) -> None:
        self.messages.clear()
        self.counters.clear()
        self.peak_in_flight = self.in_flight
        self.native_peak_in_flight = self.native_in_flight

    def stats(self) -> dict[str, Any]:
        """Counters grouped by kind: {"requests": {"expo": n, ...}, "messages": {...}, ...}."""
        grouped: dict[str, Any] = {"requests": {}, "messages": {}, "rejected": {}}
        for name, n in self.counters.items():
            group, _, key = name.partition(".")
            grouped.setdefault(group, {})[key] = n
        grouped.update(
            stored_messages=len(self.messages),
            subscriptions=len(self.subscriptions),
            receipts=len(self.receipts),
            faults_applied=self.faults.applied,
            in_flight=self.in_flight,
            peak_in_flight=self.peak_in_flight,
            native_in_flight=self.native_in_flight,
            native_peak_in_flight=self.native_peak_in_flight,
        )
        return grouped
